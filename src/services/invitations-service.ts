// Invitations (DOMAIN §5): a seat for someone outside SCIM and SSO. Creating one makes (or reuses) the
// person's member with a pending seat taken through the seat allocator, and a claim link: 256 random bits
// shown once, stored as a digest, good for 24 hours and one claim. Resend replaces the link; revoke and
// expiry give the seat back through the allocator (the longest waiter gets it). Each change writes its
// audit event, its outbox event and, when there is an address, the email, in the same transaction.
import { randomUUID } from "node:crypto";
import type { Knex } from "knex";
import { z } from "zod";
import { withTransaction } from "../db/transaction.js";
import { DomainError } from "../domain/errors.js";
import { ROLES, type Role, roleAtLeast } from "../domain/roles.js";
import { appendAudit, appendAuditWithEvent } from "../repositories/audit-repository.js";
import {
  claimByTokenHash,
  claimPendingOfMember,
  endInvitation,
  findClaimable,
  findInvitation,
  findPendingInvitationOfMember,
  INVITATION_STATUSES,
  insertInvitation,
  type Invitation,
  listInvitations,
  lockNextExpired,
  replaceToken,
} from "../repositories/invitations-repository.js";
import {
  findMember,
  findMemberByEmail,
  findMemberByExternalId,
  findMemberByUserName,
  insertMember,
  type Member,
  updateMember,
} from "../repositories/members-repository.js";
import type { Org } from "../repositories/orgs-repository.js";
import { insertOutbox } from "../repositories/outbox-repository.js";
import { type Actor, changeContext, loadOrg, type ServiceDeps } from "./context.js";
import { MAIL_JOB } from "./mail-messages.js";
import { type ChangeContext, changeSeat } from "./seat-allocator.js";
import { generateToken, hashToken } from "./secrets.js";

export const INVITATION_TTL_MS = 24 * 60 * 60 * 1000;
const METADATA_MAX_KEYS = 10;
const METADATA_MAX_BYTES = 1024;

const metadataValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);
export const invitationInput = z
  .object({
    email: z.email().max(320).optional(),
    externalId: z.string().trim().min(1).max(256).optional(),
    seatType: z.string().min(1).max(40),
    role: z.enum(ROLES).optional(),
    metadata: z
      .record(z.string().min(1).max(100), metadataValue)
      .refine((m) => Object.keys(m).length <= METADATA_MAX_KEYS, `metadata: at most ${METADATA_MAX_KEYS} keys`)
      .refine(
        (m) => Buffer.byteLength(JSON.stringify(m), "utf8") <= METADATA_MAX_BYTES,
        `metadata: at most ${METADATA_MAX_BYTES} bytes in total (as JSON)`,
      )
      .optional(),
  })
  .strict()
  .refine((b) => b.email !== undefined || b.externalId !== undefined, "give email or externalId");
export type InvitationInput = z.infer<typeof invitationInput>;

export const listInvitationsQuery = z.object({
  status: z.enum(INVITATION_STATUSES).optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const claimInput = z.object({ token: z.string().min(1).max(200) }).strict();

/** The admin acting: their role bounds the role they may give. */
export interface InvitingActor extends Actor {
  role: Role;
  memberId?: string | null;
}

export interface IssuedInvitation {
  invitation: Invitation;
  /** Shown once; only its digest is stored. */
  claimUrl: string;
}

export function claimUrlFor(publicUrl: string, token: string): string {
  return `${publicUrl}/claim/${token}`;
}

function invalidLink(): DomainError {
  return new DomainError("claim_link_invalid", "this claim link is invalid, expired or already used");
}

function checkRole(role: Role | undefined, actor: InvitingActor): void {
  if (role === undefined) return;
  if (role === "primary_owner")
    throw new DomainError(
      "invalid_request",
      "nobody is invited as primary owner; the primary owner hands ownership over by a transfer",
    );
  if (!roleAtLeast(actor.role, role))
    throw new DomainError("forbidden", `inviting someone as ${role} needs the ${role} role or higher`, {
      requiredRole: role,
    });
}

/** The person the invitation is for, if Roster knows them already (one member per person). */
async function findPerson(trx: Knex.Transaction, orgId: string, input: InvitationInput): Promise<Member | null> {
  if (input.email) {
    const found =
      (await findMemberByUserName(trx, orgId, input.email)) ?? (await findMemberByEmail(trx, orgId, input.email));
    if (found) return found;
  }
  if (input.externalId) return findMemberByExternalId(trx, orgId, input.externalId);
  return null;
}

function seatLabel(deps: ServiceDeps, org: Org, seatType: string): string {
  return deps.catalogs.get(org.plan).seatTypes.find((s) => s.type === seatType)?.label ?? seatType;
}

/** The invitation email, written to the outbox with the link sealed (the database never holds it in clear). */
async function queueMail(
  trx: Knex.Transaction,
  deps: ServiceDeps,
  org: Org,
  invitation: Invitation,
  claimUrl: string,
): Promise<boolean> {
  if (!invitation.email) return false;
  await insertOutbox(trx, org.id, {
    channel: "mail",
    topic: "invitation",
    payload: {
      invitationId: invitation.id,
      to: invitation.email,
      orgName: org.name,
      seatLabel: seatLabel(deps, org, invitation.seatType),
      expiresAt: invitation.expiresAt.toISOString(),
      sealedLink: deps.secretBox.seal(claimUrl),
    },
    now: deps.now(),
  });
  return true;
}

async function auditInvitation(
  trx: Knex.Transaction,
  ctx: Pick<ChangeContext, "org" | "actor" | "requestId">,
  action: "created" | "resent" | "revoked" | "claimed" | "expired",
  invitation: Invitation,
  before: unknown,
  reason: string | null = null,
): Promise<void> {
  const summary = { invitationId: invitation.id, status: invitation.status, seatType: invitation.seatType };
  await appendAuditWithEvent(
    trx,
    ctx.org.id,
    {
      actor: ctx.actor,
      action: `invitation.${action}`,
      memberId: invitation.memberId,
      before,
      after: { ...summary, expiresAt: invitation.expiresAt.toISOString() },
      reason,
      requestId: ctx.requestId,
    },
    { topic: `invitation.${action}`, payload: { orgId: ctx.org.id, memberId: invitation.memberId, ...summary } },
  );
}

export async function createInvitation(
  deps: ServiceDeps,
  orgId: string,
  input: InvitationInput,
  actor: InvitingActor,
): Promise<IssuedInvitation> {
  checkRole(input.role, actor);
  const token = generateToken("claim");
  const issued = await withTransaction(deps.db, async (trx) => {
    const org = await loadOrg(deps, trx, orgId);
    const ctx = changeContext(deps, org, actor);
    const now = deps.now();
    let member: Member;
    const known = await findPerson(trx, orgId, input);
    if (known) {
      member = (await findMember(trx, orgId, known.id, { forUpdate: true })) as Member;
      if (await findPendingInvitationOfMember(trx, orgId, member.id))
        throw new DomainError("conflict", "this person has a pending invitation already; resend or revoke it");
      if (!member.active) throw new DomainError("conflict", "this person is a deactivated member");
      if (member.seatType !== null) throw new DomainError("conflict", "this person is a member with a seat already");
      if (input.role && input.role !== member.role && member.role !== "primary_owner") {
        checkRole(member.role, actor); // nobody lowers someone above them either
        member = await updateMember(trx, orgId, member.id, { role: input.role, roleSource: "manual" });
      }
    } else {
      const email = input.email ?? null;
      member = await insertMember(trx, orgId, {
        id: randomUUID(),
        userName: email ?? (input.externalId as string),
        email,
        emails: email ? [email.toLowerCase()] : [],
        externalId: input.externalId ?? null,
        role: input.role ?? "member",
        seatReason: "new",
        source: "invitation",
      });
      await appendAudit(trx, orgId, {
        actor: ctx.actor,
        action: "member.created",
        memberId: member.id,
        after: { source: "invitation", role: member.role },
        requestId: ctx.requestId,
      });
    }
    await changeSeat(
      trx,
      known ? ctx : { ...ctx, newMemberId: member.id },
      member.id,
      { kind: "invite", seatType: input.seatType },
      now,
      member,
    );
    const invitation = await insertInvitation(trx, orgId, {
      id: randomUUID(),
      memberId: member.id,
      email: input.email ?? null,
      externalId: input.externalId ?? null,
      seatType: input.seatType,
      role: input.role ?? null,
      metadata: input.metadata ?? {},
      tokenHash: hashToken(token),
      expiresAt: new Date(now.getTime() + INVITATION_TTL_MS),
      invitedBy: actor.actor,
      invitedByMemberId: actor.memberId ?? null,
      now,
    });
    await auditInvitation(trx, ctx, "created", invitation, null);
    const mailed = await queueMail(trx, deps, org, invitation, claimUrlFor(deps.publicUrl, token));
    return { invitation, mailed };
  });
  if (issued.mailed) deps.wakeJob?.(MAIL_JOB);
  return { invitation: issued.invitation, claimUrl: claimUrlFor(deps.publicUrl, token) };
}

export async function listOrgInvitations(
  deps: ServiceDeps,
  orgId: string,
  filter: { status?: Invitation["status"] },
  after: { createdAt: Date; id: string } | null,
  limit: number,
): Promise<{ items: Invitation[]; next: Invitation | null }> {
  await loadOrg(deps, deps.db, orgId);
  const rows = await listInvitations(deps.db, orgId, filter, after, limit + 1);
  const items = rows.slice(0, limit);
  return { items, next: rows.length > limit ? items[items.length - 1] : null };
}

export async function getInvitation(deps: ServiceDeps, orgId: string, id: string): Promise<Invitation> {
  const invitation = await findInvitation(deps.db, orgId, id);
  if (!invitation) throw new DomainError("not_found", "invitation not found");
  return invitation;
}

async function notPending(trx: Knex.Transaction, orgId: string, id: string): Promise<DomainError> {
  const found = await findInvitation(trx, orgId, id);
  if (!found) return new DomainError("not_found", "invitation not found");
  return new DomainError("conflict", `this invitation is ${found.status}; invite the person again instead`, {
    status: found.status,
  });
}

/** A fresh link, good for another 24 hours; the old one stops working at once. */
export async function resendInvitation(
  deps: ServiceDeps,
  orgId: string,
  id: string,
  actor: Actor,
): Promise<IssuedInvitation> {
  const token = generateToken("claim");
  const issued = await withTransaction(deps.db, async (trx) => {
    const org = await loadOrg(deps, trx, orgId);
    const now = deps.now();
    const before = await findInvitation(trx, orgId, id);
    const invitation = await replaceToken(
      trx,
      orgId,
      id,
      hashToken(token),
      new Date(now.getTime() + INVITATION_TTL_MS),
      now,
    );
    if (!invitation || !before) throw await notPending(trx, orgId, id);
    const ctx = changeContext(deps, org, actor);
    await auditInvitation(trx, ctx, "resent", invitation, { expiresAt: before.expiresAt.toISOString() });
    const mailed = await queueMail(trx, deps, org, invitation, claimUrlFor(deps.publicUrl, token));
    return { invitation, mailed };
  });
  if (issued.mailed) deps.wakeJob?.(MAIL_JOB);
  return { invitation: issued.invitation, claimUrl: claimUrlFor(deps.publicUrl, token) };
}

/** Revoked: the link dies and the seat goes back through the allocator (to the longest waiter, if any). */
export async function revokeInvitation(
  deps: ServiceDeps,
  orgId: string,
  id: string,
  actor: Actor,
): Promise<Invitation> {
  return withTransaction(deps.db, async (trx) => {
    const org = await loadOrg(deps, trx, orgId);
    const now = deps.now();
    const invitation = await endInvitation(trx, orgId, id, "revoked", now);
    if (!invitation) throw await notPending(trx, orgId, id);
    const ctx = changeContext(deps, org, actor);
    await changeSeat(trx, ctx, invitation.memberId, { kind: "release", reason: "invitation_revoked" }, now);
    await auditInvitation(trx, ctx, "revoked", invitation, { status: "pending" });
    return invitation;
  });
}

/** What the claim page shows; changes nothing. Null for any link that cannot be claimed. */
export async function previewClaim(
  deps: ServiceDeps,
  token: string,
): Promise<{ orgName: string; seatLabel: string; invitee: string } | null> {
  if (token.length > 200) return null;
  const invitation = await findClaimable(deps.db, hashToken(token), deps.now());
  if (!invitation) return null;
  const org = await loadOrg(deps, deps.db, invitation.orgId);
  return {
    orgName: org.name,
    seatLabel: seatLabel(deps, org, invitation.seatType),
    invitee: invitation.email ?? invitation.externalId ?? "",
  };
}

/**
 * The claim: one conditional update of the invitation (pending, not expired, this digest), then the seat
 * goes from pending to claimed in the same transaction. Every failure is the same 410.
 */
export async function claimInvitation(
  deps: ServiceDeps,
  token: string,
  requestId: string | null = null,
): Promise<{ memberId: string; orgId: string; seatType: string }> {
  if (token.length > 200) throw invalidLink();
  return withTransaction(deps.db, async (trx) => {
    const now = deps.now();
    const invitation = await claimByTokenHash(trx, hashToken(token), now);
    if (!invitation) throw invalidLink();
    const org = await loadOrg(deps, trx, invitation.orgId);
    const ctx = changeContext(deps, org, { actor: `invitee:${invitation.memberId}`, requestId });
    try {
      await changeSeat(trx, ctx, invitation.memberId, { kind: "claim" }, now);
    } catch (error) {
      if (error instanceof DomainError && error.code === "conflict") throw invalidLink();
      throw error;
    }
    await auditInvitation(trx, ctx, "claimed", invitation, { status: "pending" });
    return { memberId: invitation.memberId, orgId: invitation.orgId, seatType: invitation.seatType };
  });
}

/**
 * SSO brought an invited person (same email): they proved who they are, so their pending invitation is
 * claimed with the sign-in, in the caller's transaction. The member row must be locked by the caller.
 */
export async function claimOnSignIn(trx: Knex.Transaction, ctx: ChangeContext, member: Member): Promise<Member> {
  if (member.seatStatus !== "pending") return member;
  const now = ctx.now?.() ?? new Date();
  const invitation = await claimPendingOfMember(trx, ctx.org.id, member.id, now);
  if (!invitation) return member;
  const change = await changeSeat(trx, ctx, member.id, { kind: "claim" }, now, member);
  await auditInvitation(trx, ctx, "claimed", invitation, { status: "pending" }, "signed in with SSO");
  return change.member;
}

/**
 * One pass of the expiry job: each pending invitation past its expiry becomes expired and its seat goes
 * back through the allocator, one short transaction each. Safe in every process at once (SKIP LOCKED).
 */
export async function expireInvitations(deps: ServiceDeps, limit = 100): Promise<{ expired: number; more: boolean }> {
  let expired = 0;
  for (; expired < limit; expired++) {
    const done = await withTransaction(deps.db, async (trx) => {
      const now = deps.now();
      const due = await lockNextExpired(trx, now);
      if (!due) return false;
      const invitation = (await endInvitation(trx, due.orgId, due.id, "expired", now)) as Invitation;
      const org = await loadOrg(deps, trx, due.orgId);
      const ctx = changeContext(deps, org, { actor: "system" });
      await changeSeat(trx, ctx, invitation.memberId, { kind: "release", reason: "invitation_expired" }, now);
      await auditInvitation(trx, ctx, "expired", invitation, { status: "pending" }, "not claimed within 24 hours");
      return true;
    });
    if (!done) return { expired, more: false };
  }
  return { expired, more: true };
}
