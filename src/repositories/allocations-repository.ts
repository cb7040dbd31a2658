// SQL for the seat pool. The counter `used` only moves by conditional updates, and the CHECK constraint
// seat_allocations__capacity__check (used <= purchased) stops any write that would overfill it.
import type { Db } from "../db/database.js";

export interface Allocation {
  seatType: string;
  purchased: number;
  used: number;
}

export async function insertAllocations(db: Db, orgId: string, seats: Record<string, number>): Promise<void> {
  const rows = Object.entries(seats).map(([seat_type, purchased]) => ({ org_id: orgId, seat_type, purchased, used: 0 }));
  if (rows.length) await db("seat_allocations").insert(rows);
}

export async function listAllocations(db: Db, orgId: string): Promise<Allocation[]> {
  const rows: { seat_type: string; purchased: number; used: number }[] = await db("seat_allocations").where({ org_id: orgId }).select("seat_type", "purchased", "used");
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
 * The slow path before leaving a member waiting: lock the candidate rows (in a fixed order, against
 * deadlocks) and take the first free one. Holding the lock until commit means a transaction that frees one
 * of these seats runs after us and sees us waiting, or ran before us and we see its free seat.
 */
export async function lockAndClaimSeat(db: Db, orgId: string, seatTypes: string[]): Promise<string | null> {
  if (seatTypes.length === 0) return null;
  const rows: { seat_type: string; purchased: number; used: number }[] = await db("seat_allocations")
    .where({ org_id: orgId })
    .whereIn("seat_type", seatTypes)
    .orderBy("seat_type")
    .forUpdate()
    .select("seat_type", "purchased", "used");
  const free = new Set(rows.filter((r) => r.used < r.purchased).map((r) => r.seat_type));
  const chosen = seatTypes.find((t) => free.has(t));
  if (!chosen) return null;
  return (await claimSeat(db, orgId, chosen)) ? chosen : null;
}

export async function releaseSeat(db: Db, orgId: string, seatType: string): Promise<void> {
  await db("seat_allocations").where({ org_id: orgId, seat_type: seatType }).update({ used: db.raw("used - 1") });
}

export async function findAllocation(db: Db, orgId: string, seatType: string): Promise<Allocation | null> {
  const row = await db("seat_allocations").where({ org_id: orgId, seat_type: seatType }).first();
  return row ? { seatType: row.seat_type, purchased: row.purchased, used: row.used } : null;
}
