// The one seat allocator (DOMAIN §3). Every path that can change a member's seat calls `changeSeat` inside
// its transaction: it decides with the pure rules of domain/seat-plan.ts, takes seats with conditional
// updates that the database keeps within capacity, promotes the longest-waiting member into any seat it
// frees, and writes the audit event and outbox event in the same transaction.
import { randomUUID } from "node:crypto";
import type { Knex } from "knex";
import type { Catalog } from "../domain/catalog.js";
import { DomainError } from "../domain/errors.js";
import type { Role } from "../domain/roles.js";
import {
  type GroupMappingRule,
  planSeat,
  purchaseRequired,
  reasonFor,
  roleFromPlan,
  type SeatPlan,
  seatMoves,
  waitingReason,
} from "../domain/seat-plan.js";
import {
  claimBestSeat,
  claimSeat,
  findAllocation,
  lockAllocation,
  deleteExpiredHold,
  insertHold,
  lockAndClaimSeat,
  releaseSeat,
  takeHold,
} from "../repositories/allocations-repository.js";
import { appendAudit, appendAuditWithEvent } from "../repositories/audit-repository.js";
import { endPendingOfMember } from "../repositories/invitations-repository.js";
import { listMappings } from "../repositories/mappings-repository.js";
import {
  findMember,
  lockLongestWaiting,
  type Member,
  memberGroupKeys,
  updateMember,
} from "../repositories/members-repository.js";
import type { Org } from "../repositories/orgs-repository.js";

/** Who and what is acting: recorded on every audit event. */
export interface ChangeContext {
  org: Org;
  catalog: Catalog;
  /** e.g. "admin:<memberId>", "scim:<tokenId>", "jit", "system", "operator". */
  actor: string;
  requestId?: string | null;
  /** Preloaded mappings (a sync evaluates thousands of members against one set). */
  mappings?: GroupMappingRule[];
  /** A member this transaction just inserted: already locked, and in no group yet. */
  newMemberId?: string;
  /** The service clock (tests pin it); defaults to the system clock. */
  now?: () => Date;
}

export type SeatIntent =
  /** Apply the rules: provisioning, sign-in, group change, sync, reactivation. A manual seat is kept. */
  | { kind: "reconcile" }
  /** An admin's choice; null is Unassigned. Sticks until reset to automatic. */
  | { kind: "manual"; seatType: string | null }
  /** An admin hands the member back to the rules. */
  | { kind: "auto" }
  /** Give the seat back (deactivation, deletion, an invitation revoked or expired); the member waits for nothing. */
  | { kind: "release"; reason: "deactivated" | "deleted" | "invitation_revoked" | "invitation_expired" }
  /** An invitation: a pending seat of this type (a held seat may be taken, DOMAIN §3.4), or 409. */
  | { kind: "invite"; seatType: string }
  /** The invited person accepted: the pending seat becomes claimed; the pool does not change. */
  | { kind: "claim" };

export interface SeatSnapshot {
  seatType: string | null;
  seatStatus: string;
  seatReason: string;
  waitingFor: string | null;
  role: Role;
}

export interface SeatChange {
  member: Member;
  before: SeatSnapshot;
  after: SeatSnapshot;
  changed: boolean;
}

export function snapshot(m: Member): SeatSnapshot {
  return {
    seatType: m.seatType,
    seatStatus: m.seatStatus,
    seatReason: m.seatReason,
    waitingFor: m.waitingFor,
    role: m.role,
  };
}

function sameSnapshot(a: SeatSnapshot, b: SeatSnapshot): boolean {
  return (
    a.seatType === b.seatType &&
    a.seatStatus === b.seatStatus &&
    a.seatReason === b.seatReason &&
    a.waitingFor === b.waitingFor &&
    a.role === b.role
  );
}

async function planFor(trx: Knex.Transaction, ctx: ChangeContext, member: Member): Promise<SeatPlan> {
  const mappings = ctx.mappings ?? (await listMappings(trx, ctx.org.id));
  // A member created in this transaction is in no SCIM group yet: only their SAML groups can match.
  const memberGroups =
    ctx.newMemberId === member.id ? member.idpGroups : await memberGroupKeys(trx, ctx.org.id, member);
  return planSeat({ catalog: ctx.catalog, mappings, memberGroups, policy: ctx.org.settings.mappedTypeExhausted });
}

function roleFrom(plan: SeatPlan, member: Member): Pick<Member, "role" | "roleSource"> {
  return roleFromPlan(plan, member);
}

/** Not in the queue. */
const NOT_WAITING = { waitingFor: null, waitingTypes: [], waitingSince: null } satisfies Pick<
  Member,
  "waitingFor" | "waitingTypes" | "waitingSince"
>;

/** In the queue for any of the plan's candidate types; someone already waiting keeps their place. */
function waitingFields(
  plan: SeatPlan,
  member: Member,
  now: Date,
): Pick<Member, "waitingFor" | "waitingTypes" | "waitingSince"> {
  return { waitingFor: plan.waitingFor, waitingTypes: plan.candidates, waitingSince: member.waitingSince ?? now };
}

async function record(
  trx: Knex.Transaction,
  ctx: ChangeContext,
  before: Member,
  after: Member,
  action: string,
): Promise<SeatChange> {
  const change = { member: after, before: snapshot(before), after: snapshot(after), changed: false };
  change.changed = !sameSnapshot(change.before, change.after);
  if (change.changed) {
    await appendAuditWithEvent(
      trx,
      ctx.org.id,
      {
        actor: ctx.actor,
        action,
        memberId: after.id,
        before: change.before,
        after: change.after,
        reason: after.seatReason,
        requestId: ctx.requestId,
      },
      {
        topic: "member.seat_changed",
        payload: {
          orgId: ctx.org.id,
          memberId: after.id,
          before: change.before,
          after: change.after,
          reason: after.seatReason,
        },
      },
    );
  }
  return change;
}

/**
 * Gives back a seat of `seatType`: the longest-waiting member who can use it takes it over in this
 * transaction; only when nobody waits does the pool's counter go down. A seat an admin frees by hand is
 * held instead (DOMAIN §3.4): it stays counted, only a manual assignment or an invitation can take it, and
 * when the hold runs out releaseExpiredHold hands it to the queue.
 */
async function freeSeat(
  trx: Knex.Transaction,
  ctx: ChangeContext,
  seatType: string,
  fromMemberId: string | null,
  byHand = false,
): Promise<void> {
  const holdMinutes = ctx.org.settings.manualHoldMinutes;
  if (byHand && fromMemberId && holdMinutes > 0) {
    const heldAt = ctx.now?.() ?? new Date();
    const expiresAt = new Date(heldAt.getTime() + holdMinutes * 60_000);
    await insertHold(trx, ctx.org.id, { id: randomUUID(), seatType, freedByMemberId: fromMemberId, heldAt, expiresAt });
    await appendAudit(trx, ctx.org.id, {
      actor: ctx.actor,
      action: "seat_hold.started",
      memberId: fromMemberId,
      after: { seatType, expiresAt: expiresAt.toISOString() },
      reason: "freed by hand; held for admins",
      requestId: ctx.requestId,
    });
    return;
  }
  // Give the seat back first, then look for a waiter. The release waits for any transaction holding the
  // pool row (one that found no free seat holds it until it commits its member as waiting), so the search
  // that follows sees that member. Searching first missed them and left a free seat with someone waiting.
  await releaseSeat(trx, ctx.org.id, seatType);
  // We hold the row since the release, so the seat we just freed is still there to take.
  await promoteLongestWaiter(trx, ctx, seatType, fromMemberId);
}

/**
 * The longest-waiting member who can use a free seat of `seatType` takes it (FIFO by waiting-since), in this
 * transaction. False when nobody waits for it or no seat of the type is free.
 */
async function promoteLongestWaiter(
  trx: Knex.Transaction,
  ctx: ChangeContext,
  seatType: string,
  excludeId: string | null,
): Promise<boolean> {
  const waiter = await lockLongestWaiting(trx, ctx.org.id, seatType, excludeId);
  if (!waiter || !(await claimSeat(trx, ctx.org.id, seatType))) return false;
  const promoted = await updateMember(trx, ctx.org.id, waiter.id, {
    seatType,
    seatStatus: "claimed",
    seatReason: "promoted",
    ...NOT_WAITING,
  });
  await record(trx, ctx, waiter, promoted, "seat.promoted");
  return true;
}

/**
 * Seats just bought (DOMAIN §4: new seats promote waiting members at once): up to `count` of the longest
 * waiters who can use `seatType` take them, the same promotion a freed seat triggers. The caller added the
 * seats to the pool in this transaction and holds its row. Returns how many were promoted.
 */
export async function fillNewSeats(
  trx: Knex.Transaction,
  ctx: ChangeContext,
  seatType: string,
  count: number,
): Promise<number> {
  let promoted = 0;
  while (promoted < count && (await promoteLongestWaiter(trx, ctx, seatType, null))) promoted++;
  return promoted;
}

/**
 * Takes the best free seat among `types`: one conditional update first (no lock is held when nothing is
 * free), then, before giving up, the locked re-check that makes promotion exact (lockAndClaimSeat).
 */
async function claimFirstFree(trx: Knex.Transaction, orgId: string, types: string[]): Promise<string | null> {
  return (await claimBestSeat(trx, orgId, types)) ?? (await lockAndClaimSeat(trx, orgId, types));
}

/**
 * Pool rows are locked best type first (catalog rank): lockAndClaimSeat's looks and every upgrade (claim the
 * better type, then free the held one) do so. A move down would claim the lower row and then wait for the
 * held, higher one, while a provision holding that higher row (FOR SHARE) waits for the lower: deadlock
 * 40P01. So before claiming below the held type, lock the held row first. (A plan's candidates never
 * straddle the held type: they all rank above it or all below.)
 */
async function lockHeldRowFirst(
  trx: Knex.Transaction,
  ctx: ChangeContext,
  held: string | null,
  tryTypes: string[],
): Promise<void> {
  if (!held) return;
  const rank = (type: string) => ctx.catalog.seatTypes.find((s) => s.type === type)?.rank ?? 0;
  if (tryTypes.some((t) => rank(t) > rank(held))) await lockAllocation(trx, ctx.org.id, held);
}

async function reconcile(trx: Knex.Transaction, ctx: ChangeContext, member: Member, now: Date): Promise<Member> {
  if (!member.active) return member;
  const plan = await planFor(trx, ctx, member);
  const role = roleFrom(plan, member);
  if (member.seatSource === "manual") {
    return role.role === member.role ? member : updateMember(trx, ctx.org.id, member.id, role);
  }
  const moves = seatMoves(plan, member.seatType);
  await lockHeldRowFirst(trx, ctx, member.seatType, moves.tryTypes);
  const claimed = await claimFirstFree(trx, ctx.org.id, moves.tryTypes);
  if (claimed) {
    if (member.seatType) await freeSeat(trx, ctx, member.seatType, member.id);
    return updateMember(trx, ctx.org.id, member.id, {
      ...role,
      seatType: claimed,
      seatStatus: "claimed",
      seatReason: reasonFor(plan),
      ...NOT_WAITING,
    });
  }
  if (moves.keepCurrent) {
    const seatReason = member.seatReason === "promoted" ? "promoted" : reasonFor(plan);
    if (seatReason === member.seatReason && role.role === member.role && member.waitingFor === null) return member;
    return updateMember(trx, ctx.org.id, member.id, { ...role, seatReason, ...NOT_WAITING });
  }
  if (member.seatType) await freeSeat(trx, ctx, member.seatType, member.id);
  return updateMember(trx, ctx.org.id, member.id, {
    ...role,
    seatType: null,
    seatStatus: "unassigned",
    seatReason: waitingReason(plan.waitingFor),
    ...waitingFields(plan, member, now),
  });
}

async function noSeatAvailable(trx: Knex.Transaction, ctx: ChangeContext, seatType: string): Promise<DomainError> {
  const allocation = await findAllocation(trx, ctx.org.id, seatType);
  const required = purchaseRequired(allocation?.purchased ?? 0, allocation?.used ?? 0);
  return new DomainError(
    "no_seat_available",
    `no ${seatType} seat is available; buy ${required} more or unassign someone first`,
    { seatType, purchaseRequired: required },
  );
}

/**
 * An invitation's seat: pending, counted in the pool like a claimed one (the capacity check covers it). A
 * seat held for admins may be taken (an invitation is an admin's act), else a free one; none → 409.
 */
async function invite(trx: Knex.Transaction, ctx: ChangeContext, member: Member, seatType: string): Promise<Member> {
  if (!member.active) throw new DomainError("conflict", "a deactivated member cannot be invited");
  if (member.seatType !== null) throw new DomainError("conflict", "this member already has a seat");
  if (!ctx.catalog.seatTypes.some((s) => s.type === seatType)) {
    throw new DomainError("invalid_request", `unknown seat type "${seatType}" for plan ${ctx.catalog.id}`);
  }
  const taken = (await takeHold(trx, ctx.org.id, seatType)) || (await claimFirstFree(trx, ctx.org.id, [seatType]));
  if (!taken) throw await noSeatAvailable(trx, ctx, seatType);
  return updateMember(trx, ctx.org.id, member.id, {
    seatType,
    seatStatus: "pending",
    seatSource: "manual",
    seatReason: "invitation",
    ...NOT_WAITING,
  });
}

/** Pending → claimed. Anything else means the invitation no longer matches the member: refused. */
async function claim(trx: Knex.Transaction, ctx: ChangeContext, member: Member): Promise<Member> {
  if (member.seatStatus !== "pending" || !member.seatType || !member.active)
    throw new DomainError("conflict", "this member has no pending seat to claim");
  return updateMember(trx, ctx.org.id, member.id, { seatStatus: "claimed" });
}

async function assignManually(
  trx: Knex.Transaction,
  ctx: ChangeContext,
  member: Member,
  seatType: string | null,
): Promise<Member> {
  if (!member.active)
    throw new DomainError("conflict", "a deactivated member cannot hold a seat; reactivate them first");
  if (seatType !== null && !ctx.catalog.seatTypes.some((s) => s.type === seatType)) {
    throw new DomainError("invalid_request", `unknown seat type "${seatType}" for plan ${ctx.catalog.id}`);
  }
  const plan = await planFor(trx, ctx, member);
  if (member.seatSource === "auto" && plan.mapping) {
    throw new DomainError(
      "seat_from_mapping",
      `this member's seat comes from the group mapping "${plan.mapping}"; change the mapping or remove them from the group`,
      { mapping: plan.mapping },
    );
  }
  const manual = { seatSource: "manual" as const, seatReason: "manual", ...NOT_WAITING };
  if (seatType === member.seatType) return updateMember(trx, ctx.org.id, member.id, manual);
  if (seatType !== null) await lockHeldRowFirst(trx, ctx, member.seatType, [seatType]);
  // A held seat first: the admin who freed it is most likely the one assigning it now (the swap).
  const taken =
    seatType === null ||
    (await takeHold(trx, ctx.org.id, seatType)) ||
    (await claimFirstFree(trx, ctx.org.id, [seatType]));
  if (!taken) throw await noSeatAvailable(trx, ctx, seatType);
  if (member.seatType) await freeSeat(trx, ctx, member.seatType, member.id, true);
  return updateMember(trx, ctx.org.id, member.id, {
    ...manual,
    seatType,
    seatStatus: seatType === null ? "unassigned" : "claimed",
  });
}

async function release(trx: Knex.Transaction, ctx: ChangeContext, member: Member, reason: string): Promise<Member> {
  if (member.seatType) await freeSeat(trx, ctx, member.seatType, member.id);
  return updateMember(trx, ctx.org.id, member.id, {
    seatType: null,
    seatStatus: member.seatType ? "revoked" : "unassigned",
    seatReason: reason,
    seatSource: "auto",
    ...NOT_WAITING,
  });
}

/**
 * The one entry point. Must run inside the caller's transaction. `locked` is the member when the caller
 * already holds their row (it inserted or locked it), saving a read.
 */
export async function changeSeat(
  trx: Knex.Transaction,
  ctx: ChangeContext,
  memberId: string,
  intent: SeatIntent,
  now = new Date(),
  locked?: Member,
): Promise<SeatChange> {
  const before = locked?.id === memberId ? locked : await findMember(trx, ctx.org.id, memberId, { forUpdate: true });
  if (!before) throw new DomainError("not_found", "member not found");
  // A pending seat belongs to its invitation: revoke (or let it be claimed) before moving it by hand.
  if (before.seatStatus === "pending" && (intent.kind === "manual" || intent.kind === "auto")) {
    throw new DomainError(
      "conflict",
      "this member's seat is held by a pending invitation; revoke the invitation first, or wait for the claim",
    );
  }
  let after: Member;
  switch (intent.kind) {
    case "reconcile":
      after = await reconcile(trx, ctx, before, now);
      break;
    case "auto":
      after =
        before.seatSource === "auto" ? before : await updateMember(trx, ctx.org.id, before.id, { seatSource: "auto" });
      after = await reconcile(trx, ctx, after, now);
      break;
    case "manual":
      after = await assignManually(trx, ctx, before, intent.seatType);
      break;
    case "release":
      if (before.seatStatus === "pending" && !intent.reason.startsWith("invitation_"))
        await endInvitationWithSeat(trx, ctx, before.id, intent.reason, now);
      after = await release(trx, ctx, before, intent.reason);
      break;
    case "invite":
      after = await invite(trx, ctx, before, intent.seatType);
      break;
    case "claim":
      after = await claim(trx, ctx, before);
      break;
  }
  return record(trx, ctx, before, after, "seat.changed");
}

/** A member's pending seat leaves by another path (deactivation, deletion): their invitation ends with it. */
async function endInvitationWithSeat(
  trx: Knex.Transaction,
  ctx: ChangeContext,
  memberId: string,
  reason: string,
  now: Date,
): Promise<void> {
  const ended = await endPendingOfMember(trx, ctx.org.id, memberId, now);
  if (!ended) return;
  await appendAuditWithEvent(
    trx,
    ctx.org.id,
    {
      actor: ctx.actor,
      action: "invitation.revoked",
      memberId,
      before: { status: "pending" },
      after: { status: "revoked", invitationId: ended.id },
      reason: `member ${reason}`,
      requestId: ctx.requestId,
    },
    { topic: "invitation.revoked", payload: { orgId: ctx.org.id, invitationId: ended.id, memberId } },
  );
}

/** The documented swap in one transaction: A and B exchange seat types; both become manual choices. */
export async function swapSeats(
  trx: Knex.Transaction,
  ctx: ChangeContext,
  aId: string,
  bId: string,
): Promise<[SeatChange, SeatChange]> {
  if (aId === bId) throw new DomainError("invalid_request", "a member cannot swap with themselves");
  // Lock in id order so two opposite swaps cannot deadlock.
  const [first, second] = [aId, bId].sort();
  const locked = new Map<string, Member>();
  for (const id of [first, second]) {
    const m = await findMember(trx, ctx.org.id, id, { forUpdate: true });
    if (!m) throw new DomainError("not_found", `member ${id} not found`);
    if (!m.active) throw new DomainError("conflict", `member ${id} is deactivated`);
    if (m.seatStatus === "pending")
      throw new DomainError("conflict", `member ${id} has a pending invitation; revoke it first`);
    locked.set(id, m);
  }
  const a = locked.get(aId) as Member;
  const b = locked.get(bId) as Member;
  for (const m of [a, b]) {
    const plan = await planFor(trx, ctx, m);
    if (m.seatSource === "auto" && plan.mapping) {
      throw new DomainError(
        "seat_from_mapping",
        `the seat of ${m.userName} comes from the group mapping "${plan.mapping}"`,
        { mapping: plan.mapping, memberId: m.id },
      );
    }
  }
  // The pool's counts do not change: the two seats only change hands.
  const manual = (seatType: string | null) => ({
    seatType,
    seatStatus: seatType === null ? ("unassigned" as const) : ("claimed" as const),
    seatSource: "manual" as const,
    seatReason: "manual",
    ...NOT_WAITING,
  });
  const newA = await updateMember(trx, ctx.org.id, a.id, manual(b.seatType));
  const newB = await updateMember(trx, ctx.org.id, b.id, manual(a.seatType));
  return [await record(trx, ctx, a, newA, "seat.swapped"), await record(trx, ctx, b, newB, "seat.swapped")];
}

/**
 * Ends a hold that has run out (DOMAIN §3.4): the seat goes to the longest waiter who can use it, or back to
 * the pool, in this transaction. False when the hold is gone already (taken by an admin, or ended by
 * another process).
 */
export async function releaseExpiredHold(
  trx: Knex.Transaction,
  ctx: ChangeContext,
  hold: { id: string; seatType: string },
  now: Date,
): Promise<boolean> {
  if (!(await deleteExpiredHold(trx, ctx.org.id, hold.id, now))) return false;
  await appendAudit(trx, ctx.org.id, {
    actor: ctx.actor,
    action: "seat_hold.expired",
    after: { seatType: hold.seatType },
    reason: "hold ended unused; the seat goes to the queue",
    requestId: ctx.requestId,
  });
  await freeSeat(trx, ctx, hold.seatType, null);
  return true;
}
