// SQL for invitations. Every state change is one conditional update (the row's status and expiry are
// in its WHERE), so a claim, a resend, a revoke and the expiry job racing on one invitation leave
// exactly one winner. The token digest is unique across orgs: a claim link is presented without its org.
import type { Db } from "../db/database.js";
import { isUuid } from "./members-repository.js";

export const INVITATION_STATUSES = ["pending", "claimed", "revoked", "expired"] as const;
export type InvitationStatus = (typeof INVITATION_STATUSES)[number];

export interface Invitation {
  orgId: string;
  id: string;
  memberId: string;
  email: string | null;
  externalId: string | null;
  seatType: string;
  role: string | null;
  metadata: Record<string, unknown>;
  status: InvitationStatus;
  expiresAt: Date;
  invitedBy: string;
  invitedByMemberId: string | null;
  sends: number;
  createdAt: Date;
  updatedAt: Date;
  claimedAt: Date | null;
  endedAt: Date | null;
}

interface InvitationRow {
  org_id: string;
  id: string;
  member_id: string;
  email: string | null;
  external_id: string | null;
  seat_type: string;
  role: string | null;
  metadata: Record<string, unknown>;
  status: InvitationStatus;
  expires_at: Date;
  invited_by: string;
  invited_by_member_id: string | null;
  sends: number;
  created_at: Date;
  updated_at: Date;
  claimed_at: Date | null;
  ended_at: Date | null;
}

function fromRow(r: InvitationRow): Invitation {
  return {
    orgId: r.org_id,
    id: r.id,
    memberId: r.member_id,
    email: r.email,
    externalId: r.external_id,
    seatType: r.seat_type,
    role: r.role,
    metadata: r.metadata ?? {},
    status: r.status,
    expiresAt: new Date(r.expires_at),
    invitedBy: r.invited_by,
    invitedByMemberId: r.invited_by_member_id,
    sends: r.sends,
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
    claimedAt: r.claimed_at ? new Date(r.claimed_at) : null,
    endedAt: r.ended_at ? new Date(r.ended_at) : null,
  };
}

export interface NewInvitation {
  id: string;
  memberId: string;
  email: string | null;
  externalId: string | null;
  seatType: string;
  role: string | null;
  metadata: Record<string, unknown>;
  tokenHash: string;
  expiresAt: Date;
  invitedBy: string;
  invitedByMemberId: string | null;
  now: Date;
}

export async function insertInvitation(db: Db, orgId: string, inv: NewInvitation): Promise<Invitation> {
  const [row] = await db("invitations")
    .insert({
      org_id: orgId,
      id: inv.id,
      member_id: inv.memberId,
      email: inv.email,
      external_id: inv.externalId,
      seat_type: inv.seatType,
      role: inv.role,
      metadata: JSON.stringify(inv.metadata),
      token_hash: inv.tokenHash,
      expires_at: inv.expiresAt,
      invited_by: inv.invitedBy,
      invited_by_member_id: inv.invitedByMemberId,
      status: "pending",
      created_at: inv.now,
      updated_at: inv.now,
    })
    .returning("*");
  return fromRow(row as InvitationRow);
}

export async function findInvitation(
  db: Db,
  orgId: string,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<Invitation | null> {
  if (!isUuid(id)) return null;
  const query = db<InvitationRow>("invitations").where({ org_id: orgId, id }).first();
  if (options.forUpdate) query.forUpdate();
  const row = await query;
  return row ? fromRow(row as InvitationRow) : null;
}

/** The open (pending) invitation of a member, if any; at most one exists (a unique index). */
export async function findPendingInvitationOfMember(
  db: Db,
  orgId: string,
  memberId: string,
): Promise<Invitation | null> {
  const row = await db<InvitationRow>("invitations")
    .where({ org_id: orgId, member_id: memberId, status: "pending" })
    .first();
  return row ? fromRow(row as InvitationRow) : null;
}

/** Newest first; keyset by (created_at, id). */
export async function listInvitations(
  db: Db,
  orgId: string,
  filter: { status?: InvitationStatus },
  after: { createdAt: Date; id: string } | null,
  limit: number,
): Promise<Invitation[]> {
  const query = db<InvitationRow>("invitations")
    .where({ org_id: orgId })
    .orderBy([
      { column: "created_at", order: "desc" },
      { column: "id", order: "desc" },
    ])
    .limit(limit);
  if (filter.status) query.where({ status: filter.status });
  if (after) query.whereRaw("(created_at, id) < (?, ?)", [after.createdAt, after.id]);
  return (await query).map((r) => fromRow(r as InvitationRow));
}

/** A pending invitation whose link is still good, by the link's digest: what the claim page shows. */
export async function findClaimable(db: Db, tokenHash: string, now: Date): Promise<Invitation | null> {
  const row = await db<InvitationRow>("invitations")
    .where({ token_hash: tokenHash, status: "pending" } as never)
    .where("expires_at", ">", now)
    .first();
  return row ? fromRow(row as InvitationRow) : null;
}

/** The claim: ONE conditional update. Null when the link is unknown, used, revoked, resent or expired. */
export async function claimByTokenHash(db: Db, tokenHash: string, now: Date): Promise<Invitation | null> {
  const rows = await db<InvitationRow>("invitations")
    .where({ token_hash: tokenHash, status: "pending" } as never)
    .where("expires_at", ">", now)
    .update({ status: "claimed", claimed_at: now, updated_at: now } as never)
    .returning("*");
  return rows[0] ? fromRow(rows[0] as InvitationRow) : null;
}

/** Marks a member's pending invitation claimed (SSO brought the person); null when none was pending. */
export async function claimPendingOfMember(
  db: Db,
  orgId: string,
  memberId: string,
  now: Date,
): Promise<Invitation | null> {
  const rows = await db<InvitationRow>("invitations")
    .where({ org_id: orgId, member_id: memberId, status: "pending" })
    .update({ status: "claimed", claimed_at: now, updated_at: now } as never)
    .returning("*");
  return rows[0] ? fromRow(rows[0] as InvitationRow) : null;
}

/** Resend: a new digest and expiry for a pending invitation; the old link stops matching at once. */
export async function replaceToken(
  db: Db,
  orgId: string,
  id: string,
  tokenHash: string,
  expiresAt: Date,
  now: Date,
): Promise<Invitation | null> {
  if (!isUuid(id)) return null;
  const rows = await db<InvitationRow>("invitations")
    .where({ org_id: orgId, id, status: "pending" })
    .update({
      token_hash: tokenHash,
      expires_at: expiresAt,
      updated_at: now,
      sends: db.raw("sends + 1"),
    } as never)
    .returning("*");
  return rows[0] ? fromRow(rows[0] as InvitationRow) : null;
}

/** Ends a pending invitation (revoked by an admin, or the member's seat went another way). */
export async function endInvitation(
  db: Db,
  orgId: string,
  id: string,
  status: "revoked" | "expired",
  now: Date,
): Promise<Invitation | null> {
  if (!isUuid(id)) return null;
  const query = db<InvitationRow>("invitations").where({ org_id: orgId, id, status: "pending" });
  // Only the expiry job expires, and only what has run out.
  if (status === "expired") query.where("expires_at", "<=", now);
  const rows = await query.update({ status, ended_at: now, updated_at: now } as never).returning("*");
  return rows[0] ? fromRow(rows[0] as InvitationRow) : null;
}

/**
 * Takes one pending invitation that has run out, skipping any another transaction holds (a claim, a
 * revoke or another process's expiry job): each is expired by exactly one transaction.
 */
export async function lockNextExpired(db: Db, now: Date): Promise<Invitation | null> {
  const row = await db<InvitationRow>("invitations")
    .where({ status: "pending" })
    .where("expires_at", "<=", now)
    .orderBy("expires_at")
    .first()
    .forUpdate()
    .skipLocked();
  return row ? fromRow(row as InvitationRow) : null;
}

/** Ends a member's pending invitation, if any (their seat left by another path: deactivation, deletion). */
export async function endPendingOfMember(
  db: Db,
  orgId: string,
  memberId: string,
  now: Date,
): Promise<Invitation | null> {
  const rows = await db<InvitationRow>("invitations")
    .where({ org_id: orgId, member_id: memberId, status: "pending" })
    .update({ status: "revoked", ended_at: now, updated_at: now } as never)
    .returning("*");
  return rows[0] ? fromRow(rows[0] as InvitationRow) : null;
}
