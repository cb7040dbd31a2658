// Read-only figures for /metrics, read at scrape time. The one place that reads across organizations: a
// scrape reports every org at once, in one statement per figure, each served by an index.
import type { Knex } from "knex";

export interface SeatGaugeRow {
  orgId: string;
  seatType: string;
  purchased: number;
  /** Seats members hold (the pool's counter minus held seats). */
  used: number;
  held: number;
  waiting: number;
}

/** Seats per org and type in one statement (waiting members are read through their partial index). */
export async function readSeatGauges(db: Knex): Promise<SeatGaugeRow[]> {
  const result = await db.raw<{ rows: Record<string, unknown>[] }>(
    `with holds as (select org_id, seat_type, count(*)::int as n from seat_holds group by org_id, seat_type),
          waiting as (select org_id, waiting_for as seat_type, count(*)::int as n
                        from members where waiting_for is not null group by org_id, waiting_for)
     select a.org_id, a.seat_type, a.purchased, a.used - coalesce(h.n, 0) as used,
            coalesce(h.n, 0) as held, coalesce(w.n, 0) as waiting
       from seat_allocations a
       left join holds h on h.org_id = a.org_id and h.seat_type = a.seat_type
       left join waiting w on w.org_id = a.org_id and w.seat_type = a.seat_type
     union all
     select org_id, 'any', 0, 0, 0, n from waiting where seat_type = 'any'`,
  );
  return result.rows.map((r) => ({
    orgId: String(r.org_id),
    seatType: String(r.seat_type),
    purchased: Number(r.purchased),
    used: Number(r.used),
    held: Number(r.held),
    waiting: Number(r.waiting),
  }));
}

/** Outbox events not delivered yet (read through the partial index on undelivered rows). */
export async function countUndeliveredOutbox(db: Knex): Promise<number> {
  const result = await db.raw<{ rows: { n: number | string }[] }>(
    `select count(*)::int as n from outbox where delivered_at is null`,
  );
  return Number(result.rows[0]?.n ?? 0);
}
