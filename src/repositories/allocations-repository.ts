// SQL for the seat pool. The counter `used` only moves by conditional updates, and the CHECK constraint
// seat_allocations__capacity__check (used <= purchased) stops any write that would overfill it.
import type { Knex } from "knex";
import type { Db } from "../db/database.js";

export interface Allocation {
  seatType: string;
  purchased: number;
  used: number;
}

export async function insertAllocations(db: Db, orgId: string, seats: Record<string, number>): Promise<void> {
  const rows = Object.entries(seats).map(([seat_type, purchased]) => ({
    org_id: orgId,
    seat_type,
    purchased,
    used: 0,
  }));
  if (rows.length) await db("seat_allocations").insert(rows);
}

export async function listAllocations(db: Db, orgId: string): Promise<Allocation[]> {
  const rows: { seat_type: string; purchased: number; used: number }[] = await db("seat_allocations")
    .where({ org_id: orgId })
    .select("seat_type", "purchased", "used");
  return rows.map((r) => ({ seatType: r.seat_type, purchased: r.purchased, used: r.used }));
}

/** Takes one seat if one is free. Waits for a concurrent holder of the row, then re-checks; never overfills. */
export async function claimSeat(db: Db, orgId: string, seatType: string): Promise<boolean> {
  const updated = await db("seat_allocations")
    .where({ org_id: orgId, seat_type: seatType })
    .whereRaw("used < purchased")
    .update({ used: db.raw("used + 1") });
  return updated === 1;
}

/**
 * The fast path: one seat of the best type in `seatTypes` (in that order) that is free and whose row no
 * other transaction holds, in one statement that never waits. Waiting here would be harmful: a conditional
 * update that waits for a row and then finds it full still keeps that row locked, and the locks taken
 * after it would come in no fixed order (deadlocks). Null sends the caller to lockAndClaimSeat.
 */
export async function claimBestSeat(db: Db, orgId: string, seatTypes: string[]): Promise<string | null> {
  if (seatTypes.length === 0) return null;
  const { rows } = (await db.raw(
    `update seat_allocations set used = used + 1
      where (org_id, seat_type) = (
        select org_id, seat_type from seat_allocations
         where org_id = ? and seat_type = any(?::text[]) and used < purchased
         order by array_position(?::text[], seat_type) limit 1
         for update skip locked)
      returning seat_type`,
    [orgId, seatTypes, seatTypes],
  )) as { rows: { seat_type: string }[] };
  return rows[0]?.seat_type ?? null;
}

class SeatFreeUnderShareLock extends Error {}

/**
 * The slow path, taken when the fast one found nothing it could take: look again, waiting for the rows'
 * holders, and claim the best free seat; or, when none is free, keep a lock on every candidate row until
 * commit. That lock is what makes promotion exact: a transaction freeing one of these seats (an UPDATE)
 * waits for our commit and then sees us waiting, or committed before we looked and we see its seat.
 *
 * The look is under SHARE locks, inside a savepoint, so members queueing in a full org do so side by side.
 * If a seat is free, the savepoint is rolled back (no shared lock is ever upgraded, which would deadlock),
 * the non-waiting claim is retried briefly, and then all rows are locked exclusively, in that same order, to
 * decide under the lock. Nothing here waits for one row while holding another out of order: the cycles
 * PostgreSQL reported came from exactly that.
 */
export async function lockAndClaimSeat(db: Db, orgId: string, seatTypes: string[]): Promise<string | null> {
  if (seatTypes.length === 0) return null;
  // Every lock on the pool's rows is taken in the same order, the order of `seatTypes` (rank): the shared
  // look, the one-at-a-time claims and the final exclusive lock; mixing orders deadlocked.
  const candidates = (q: Db) =>
    q("seat_allocations")
      .where({ org_id: orgId })
      .whereIn("seat_type", seatTypes)
      .orderByRaw("array_position(?::text[], seat_type)", [seatTypes])
      .select("seat_type", "purchased", "used");
  try {
    await (db as Knex.Transaction).transaction(async (savepoint) => {
      const rows: { purchased: number; used: number }[] = await candidates(savepoint).forShare();
      if (rows.some((r) => r.used < r.purchased)) throw new SeatFreeUnderShareLock();
    });
    return null;
  } catch (error) {
    if (!(error instanceof SeatFreeUnderShareLock)) throw error;
  }
  // A seat is free but its row is busy: retry the non-waiting claim briefly before queueing for all rows.
  for (let attempt = 0; attempt < 3; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 1 + Math.random() * 4 * (attempt + 1)));
    const claimed = await claimBestSeat(db, orgId, seatTypes);
    if (claimed) return claimed;
  }
  const rows: { seat_type: string; purchased: number; used: number }[] = await candidates(db).forUpdate();
  const free = new Set(rows.filter((r) => r.used < r.purchased).map((r) => r.seat_type));
  const chosen = seatTypes.find((t) => free.has(t));
  if (!chosen) return null;
  return (await claimSeat(db, orgId, chosen)) ? chosen : null;
}

/** Locks one pool row until commit, waiting for its holders (see lockHeldRowFirst in seat-allocator.ts). */
export async function lockAllocation(db: Db, orgId: string, seatType: string): Promise<void> {
  await db("seat_allocations").where({ org_id: orgId, seat_type: seatType }).select("seat_type").forUpdate();
}

export async function releaseSeat(db: Db, orgId: string, seatType: string): Promise<void> {
  await db("seat_allocations")
    .where({ org_id: orgId, seat_type: seatType })
    .update({ used: db.raw("used - 1") });
}

export async function findAllocation(db: Db, orgId: string, seatType: string): Promise<Allocation | null> {
  const row = await db("seat_allocations").where({ org_id: orgId, seat_type: seatType }).first();
  return row ? { seatType: row.seat_type, purchased: row.purchased, used: row.used } : null;
}

/** A seat freed by hand stays counted in `used` and is held until `expiresAt` (DOMAIN §3.4). */
export async function insertHold(
  db: Db,
  orgId: string,
  hold: { id: string; seatType: string; freedByMemberId: string; heldAt: Date; expiresAt: Date },
): Promise<void> {
  await db("seat_holds").insert({
    org_id: orgId,
    id: hold.id,
    seat_type: hold.seatType,
    freed_by_member_id: hold.freedByMemberId,
    held_at: hold.heldAt,
    expires_at: hold.expiresAt,
  });
}

/**
 * Takes over one held seat of the type (the one that expires first) for a manual assignment: the hold row
 * goes and the seat changes hands, so the counter does not move. Skips holds another transaction is taking.
 */
export async function takeHold(db: Db, orgId: string, seatType: string): Promise<boolean> {
  const { rows } = (await db.raw(
    `delete from seat_holds
      where (org_id, id) = (
        select org_id, id from seat_holds where org_id = ? and seat_type = ?
         order by expires_at, id limit 1 for update skip locked)
      returning id`,
    [orgId, seatType],
  )) as { rows: { id: string }[] };
  return rows.length === 1;
}

export async function countHolds(db: Db, orgId: string): Promise<Record<string, number>> {
  const rows: { seat_type: string; n: number }[] = await db("seat_holds")
    .where({ org_id: orgId })
    .groupBy("seat_type")
    .select("seat_type", db.raw("count(*)::int as n"));
  return Object.fromEntries(rows.map((r) => [r.seat_type, Number(r.n)]));
}

export interface ExpiredHold {
  orgId: string;
  id: string;
  seatType: string;
}

/** Holds that have run out, any org, oldest first. */
export async function listExpiredHolds(db: Db, now: Date, limit: number): Promise<ExpiredHold[]> {
  const rows: { org_id: string; id: string; seat_type: string }[] = await db("seat_holds")
    .where("expires_at", "<=", now)
    .orderBy("expires_at")
    .limit(limit)
    .select("org_id", "id", "seat_type");
  return rows.map((r) => ({ orgId: r.org_id, id: r.id, seatType: r.seat_type }));
}

/** Ends one expired hold, if no other transaction is ending it; true when this one did. */
export async function deleteExpiredHold(db: Db, orgId: string, id: string, now: Date): Promise<boolean> {
  const { rows } = (await db.raw(
    `delete from seat_holds
      where (org_id, id) = (
        select org_id, id from seat_holds where org_id = ? and id = ? and expires_at <= ? for update skip locked)
      returning id`,
    [orgId, id, now],
  )) as { rows: { id: string }[] };
  return rows.length === 1;
}

/** Adds bought seats to a type's pool. The caller holds the org row, so purchases apply one after another. */
export async function addPurchased(db: Db, orgId: string, seatType: string, seats: number): Promise<void> {
  await db("seat_allocations")
    .where({ org_id: orgId, seat_type: seatType })
    .update({ purchased: db.raw("purchased + ?", [seats]) });
}

/**
 * Lowers a type's pool at renewal to `to`, never below the seats in use then (claimed, pending and held all
 * count in `used`), under the row's lock. Returns the pool before and after.
 */
export async function reducePurchased(
  db: Db,
  orgId: string,
  seatType: string,
  to: number,
): Promise<{ before: number; after: number; used: number } | null> {
  const row = await db("seat_allocations")
    .where({ org_id: orgId, seat_type: seatType })
    .forUpdate()
    .first("purchased", "used");
  if (!row) return null;
  const after = Math.min(row.purchased, Math.max(to, row.used));
  if (after !== row.purchased)
    await db("seat_allocations").where({ org_id: orgId, seat_type: seatType }).update({ purchased: after });
  return { before: row.purchased, after, used: row.used };
}
