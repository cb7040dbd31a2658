// SCIM Users: create (or adopt a member Roster already knows by userName), replace, patch, delete. Each
// runs in one transaction with the member row locked, so concurrent writes to one user apply one after
// the other; seat effects (deactivation, reactivation, deletion) go through the seat allocator.
import { randomUUID } from "node:crypto";
import type { Knex } from "knex";
import { withTransaction } from "../db/transaction.js";
import { DomainError } from "../domain/errors.js";
import { appendAudit } from "../repositories/audit-repository.js";
import {
  deleteMember,
  findMember,
  findInvitedPerson,
  findMemberByUserName,
  insertMemberIfAbsent,
  type Member,
  updateMember,
} from "../repositories/members-repository.js";
import { endMemberSessions } from "../repositories/sessions-repository.js";
import { type Actor, changeContext, loadOrg, orgPlan, type ServiceDeps } from "./context.js";
import { createWithSeatBatched } from "./create-batches.js";
import { changeSeat, type ChangeContext } from "./seat-allocator.js";
import { confirmToken, type TokenCheck, tokenRefused } from "./tokens-service.js";

/** The protocol-neutral content of a SCIM User, as the adapter parsed it. */
export interface UserFields {
  userName: string;
  externalId: string | null;
  displayName: string | null;
  givenName: string | null;
  familyName: string | null;
  email: string | null;
  emails: string[];
  /** null: not given (a new user is active; an existing one keeps their state rather than being reactivated). */
  active: boolean | null;
  attributes: Record<string, unknown>;
}

export interface Precondition {
  /** The ETag the client says it holds (If-Match); "*" or absent means any. */
  ifMatch?: string | null;
  currentEtag: (m: Member) => string;
}

function checkPrecondition(member: Member, pre?: Precondition): void {
  if (!pre?.ifMatch || pre.ifMatch.trim() === "*") return;
  const wanted = pre.ifMatch.split(",").map((t) => t.trim());
  if (!wanted.includes(pre.currentEtag(member))) {
    throw new DomainError(
      "precondition_failed",
      "the resource changed since you read it (If-Match does not match its current ETag)",
    );
  }
}

/** The member columns a SCIM User sets (active aside: it needs a decision, see writeUser). */
function storedFields(fields: UserFields) {
  const { userName, externalId, displayName, givenName, familyName, email, emails, attributes } = fields;
  return { userName, externalId, displayName, givenName, familyName, email, emails, attributes, scimManaged: true };
}

function changedFields(before: Member, fields: UserFields & { active: boolean }): string[] {
  const changed: string[] = [];
  if (before.userName !== fields.userName) changed.push("userName");
  if (before.externalId !== fields.externalId) changed.push("externalId");
  if (before.active !== fields.active) changed.push("active");
  if (JSON.stringify(before.attributes) !== JSON.stringify(fields.attributes)) changed.push("attributes");
  return changed;
}

async function lockMember(trx: Knex.Transaction, orgId: string, id: string): Promise<Member> {
  const member = await findMember(trx, orgId, id, { forUpdate: true });
  if (!member || !member.scimManaged) throw new DomainError("not_found", `User ${id} not found`);
  return member;
}

/** Writes the fields, then lets the allocator react to (de)activation. */
async function writeUser(
  trx: Knex.Transaction,
  ctx: ChangeContext,
  before: Member,
  given: UserFields,
  action: string,
): Promise<Member> {
  const fields = { ...given, active: given.active ?? before.active };
  if (before.role === "primary_owner" && !fields.active) {
    throw new DomainError(
      "primary_owner_protected",
      "the primary owner cannot be deactivated through SCIM; transfer ownership in Roster first",
    );
  }
  const changed = changedFields(before, fields);
  let member = await updateMember(trx, ctx.org.id, before.id, { ...storedFields(fields), active: fields.active });
  if (changed.length || action !== "member.updated") {
    await appendAudit(trx, ctx.org.id, {
      actor: ctx.actor,
      action,
      memberId: member.id,
      after: { changed },
      requestId: ctx.requestId,
    });
  }
  if (before.active && !fields.active) {
    member = (await changeSeat(trx, ctx, member.id, { kind: "release", reason: "deactivated" })).member;
    // Their browser sessions end with the deactivation: a later reactivation does not bring them back.
    await endMemberSessions(trx, ctx.org.id, member.id, ctx.now?.() ?? new Date());
  } else if (!before.active && fields.active) {
    // Reactivation re-runs the rules; it does not restore the old seat.
    member = (await changeSeat(trx, ctx, member.id, { kind: "auto" })).member;
  } else if (action === "member.adopted" && fields.active) {
    member = (await changeSeat(trx, ctx, member.id, { kind: "reconcile" })).member;
  }
  return member;
}

/**
 * The common create in one statement: a new SCIM user is in no group yet, so no mapping can match and the
 * rules say "highest available". When a seat can be taken without waiting, the member, their seat and the
 * audit and outbox events are written at once. Anything else (no free seat, a busy pool row, a taken
 * userName, an inactive user) goes the transactional way, which handles waiting, adoption and conflicts.
 */
async function createWithFreeSeat(
  deps: ServiceDeps,
  orgId: string,
  fields: UserFields,
  actor: Actor,
  token?: TokenCheck,
): Promise<Member | null> {
  if (fields.active === false) return null;
  const catalog = deps.catalogs.get(await orgPlan(deps, orgId));
  const id = randomUUID();
  const newMember = { id, ...storedFields(fields), active: true, seatReason: "new", source: "scim" };
  const before = { seatType: null, seatStatus: "unassigned", seatReason: "new", waitingFor: null, role: "member" };
  try {
    const checked = await createWithSeatBatched(
      deps.db,
      orgId,
      { seatTypes: catalog.seatTypes.map((s) => s.type), seatReason: "highest_available" },
      {
        tokenId: token?.confirmed ? undefined : token?.tokenId,
        member: newMember,
        audit: {
          actor: actor.actor,
          requestId: actor.requestId ?? null,
          created: { source: "scim", active: true },
          before,
        },
      },
    );
    if (!checked.tokenUsable) throw tokenRefused();
    if (token) token.confirmed = true;
    return checked.result;
  } catch (error) {
    // A taken userName (adoption or 409), the chosen type filling up meanwhile, or a deadlock/serialization
    // failure the statement lost: nothing was written, and the transactional path below handles them all.
    if (["23505", "23514", "40P01", "40001"].includes((error as { code?: string }).code ?? "")) return null;
    throw error;
  }
}

/**
 * Creates the user, or adopts a member Roster already has with that userName (an invited or JIT member, or
 * the owner) so that one person never becomes two members with two seats. A userName already managed by
 * SCIM is a uniqueness conflict. `token`: the caller's token when its revocation is still to be checked
 * (see scim-router's checkedByStatement).
 */
export async function createScimUser(
  deps: ServiceDeps,
  orgId: string,
  fields: UserFields,
  actor: Actor,
  token?: TokenCheck,
): Promise<Member> {
  const fast = await createWithFreeSeat(deps, orgId, fields, actor, token);
  if (fast) return fast;
  await confirmToken(deps, token);
  return withTransaction(deps.db, async (trx) => {
    const org = await loadOrg(deps, trx, orgId);
    const ctx = changeContext(deps, org, actor);
    const active = fields.active ?? true;
    // An invited person (same externalId or email) becomes that member: never a second member or seat.
    const invited = await findInvitedPerson(trx, orgId, {
      externalId: fields.externalId,
      emails: [...fields.emails, ...(fields.email ? [fields.email] : [])],
    });
    if (invited) {
      const locked = (await findMember(trx, orgId, invited.id, { forUpdate: true })) as Member;
      if (!locked.scimManaged) return writeUser(trx, ctx, locked, fields, "member.adopted");
    }
    // Insert first; only a taken userName sends us to look at who has it (the usual case costs nothing).
    const created = await insertMemberIfAbsent(trx, orgId, {
      id: randomUUID(),
      ...storedFields(fields),
      active,
      seatReason: active ? "new" : "deactivated",
      source: "scim",
    });
    if (!created) {
      const existing = await findMemberByUserName(trx, orgId, fields.userName);
      if (!existing || existing.scimManaged)
        throw new DomainError("uniqueness", `a User with userName "${fields.userName}" already exists`);
      const locked = (await findMember(trx, orgId, existing.id, { forUpdate: true })) as Member;
      return writeUser(trx, ctx, locked, fields, "member.adopted");
    }
    await appendAudit(trx, orgId, {
      actor: actor.actor,
      action: "member.created",
      memberId: created.id,
      after: { source: "scim", active: created.active },
      requestId: actor.requestId,
    });
    if (!created.active) return created;
    return (
      await changeSeat(trx, { ...ctx, newMemberId: created.id }, created.id, { kind: "reconcile" }, deps.now(), created)
    ).member;
  });
}

export async function replaceScimUser(
  deps: ServiceDeps,
  orgId: string,
  id: string,
  fields: UserFields,
  actor: Actor,
  pre?: Precondition,
): Promise<Member> {
  return withTransaction(deps.db, async (trx) => {
    const org = await loadOrg(deps, trx, orgId);
    const before = await lockMember(trx, orgId, id);
    checkPrecondition(before, pre);
    return writeUser(trx, changeContext(deps, org, actor), before, fields, "member.updated");
  });
}

/**
 * PATCH as read-modify-write, made safe by the row lock: `apply` turns the current member into the new
 * fields (or null when the operations change nothing) while no one else can write this user.
 */
export async function patchScimUser(
  deps: ServiceDeps,
  orgId: string,
  id: string,
  apply: (current: Member) => Promise<UserFields | null>,
  actor: Actor,
  pre?: Precondition,
): Promise<Member> {
  return withTransaction(deps.db, async (trx) => {
    const org = await loadOrg(deps, trx, orgId);
    const before = await lockMember(trx, orgId, id);
    checkPrecondition(before, pre);
    const fields = await apply(before);
    if (!fields) return before;
    return writeUser(trx, changeContext(deps, org, actor), before, fields, "member.updated");
  });
}

export async function deleteScimUser(
  deps: ServiceDeps,
  orgId: string,
  id: string,
  actor: Actor,
  pre?: Precondition,
): Promise<void> {
  await withTransaction(deps.db, async (trx) => {
    const org = await loadOrg(deps, trx, orgId);
    const before = await lockMember(trx, orgId, id);
    checkPrecondition(before, pre);
    if (before.role === "primary_owner") {
      throw new DomainError(
        "primary_owner_protected",
        "the primary owner cannot be deleted through SCIM; transfer ownership in Roster first",
      );
    }
    // Free the seat first so the longest waiter is promoted in this same transaction.
    await changeSeat(trx, changeContext(deps, org, actor), id, { kind: "release", reason: "deleted" });
    await appendAudit(trx, orgId, {
      actor: actor.actor,
      action: "member.deleted",
      memberId: id,
      before: { userName: before.userName, seatType: before.seatType },
      requestId: actor.requestId,
    });
    await deleteMember(trx, orgId, id);
  });
}

export async function getScimUser(deps: ServiceDeps, orgId: string, id: string): Promise<Member> {
  const member = await findMember(deps.db, orgId, id);
  if (!member || !member.scimManaged) throw new DomainError("not_found", `User ${id} not found`);
  return member;
}
