// SQL for charges (the record of each purchase) and seat reductions scheduled for the end of the term.
import type { Db } from "../db/database.js";
import type { QuoteLine } from "../domain/pricing.js";

export interface Charge {
  id: string;
  at: Date;
  lines: QuoteLine[];
  total: number;
  currency: string;
  idempotencyKey: string | null;
  requestHash: string;
  createdBy: string;
  term: { start: Date; end: Date };
}

function chargeFromRow(r: Record<string, unknown>): Charge {
  return {
    id: r.id as string,
    at: r.at as Date,
    lines: (typeof r.lines === "string" ? JSON.parse(r.lines) : r.lines) as QuoteLine[],
    total: Number(r.total),
    currency: r.currency as string,
    idempotencyKey: (r.idempotency_key as string | null) ?? null,
    requestHash: r.request_hash as string,
    createdBy: r.created_by as string,
    term: { start: r.term_start as Date, end: r.term_end as Date },
  };
}

export async function insertCharge(db: Db, orgId: string, charge: Charge): Promise<void> {
  await db("charges").insert({
    org_id: orgId,
    id: charge.id,
    at: charge.at,
    lines: JSON.stringify(charge.lines),
    total: charge.total,
    currency: charge.currency,
    idempotency_key: charge.idempotencyKey,
    request_hash: charge.requestHash,
    created_by: charge.createdBy,
    term_start: charge.term.start,
    term_end: charge.term.end,
  });
}

export async function findChargeByIdempotencyKey(db: Db, orgId: string, key: string): Promise<Charge | null> {
  const row = await db("charges").where({ org_id: orgId, idempotency_key: key }).first();
  return row ? chargeFromRow(row) : null;
}

/** Newest first. */
export async function listCharges(db: Db, orgId: string, limit: number): Promise<Charge[]> {
  const rows = await db("charges")
    .where({ org_id: orgId })
    .orderBy([{ column: "at", order: "desc" }, { column: "id" }])
    .limit(limit);
  return rows.map(chargeFromRow);
}

export interface ScheduledReduction {
  seatType: string;
  to: number;
  effectiveAt: Date;
  createdBy: string;
  createdAt: Date;
}

function reductionFromRow(r: Record<string, unknown>): ScheduledReduction {
  return {
    seatType: r.seat_type as string,
    to: r.to_quantity as number,
    effectiveAt: r.effective_at as Date,
    createdBy: r.created_by as string,
    createdAt: r.created_at as Date,
  };
}

/** One per seat type: a new one replaces the last. */
export async function upsertReduction(
  db: Db,
  orgId: string,
  reduction: { seatType: string; to: number; effectiveAt: Date; createdBy: string },
): Promise<void> {
  await db("seat_reductions")
    .insert({
      org_id: orgId,
      seat_type: reduction.seatType,
      to_quantity: reduction.to,
      effective_at: reduction.effectiveAt,
      created_by: reduction.createdBy,
    })
    .onConflict(["org_id", "seat_type"])
    .merge(["to_quantity", "effective_at", "created_by", "created_at"]);
}

export async function deleteReduction(db: Db, orgId: string, seatType: string): Promise<boolean> {
  return (await db("seat_reductions").where({ org_id: orgId, seat_type: seatType }).delete()) > 0;
}

export async function listReductions(db: Db, orgId: string): Promise<ScheduledReduction[]> {
  const rows = await db("seat_reductions").where({ org_id: orgId }).orderBy("seat_type");
  return rows.map(reductionFromRow);
}

export async function deleteReductions(db: Db, orgId: string): Promise<void> {
  await db("seat_reductions").where({ org_id: orgId }).delete();
}
