// The outbox: rows written in the same transaction as the change they report, delivered after commit by a
// consumer per channel (jobs/outbox-consumer.ts). A consumer leases due rows with FOR UPDATE SKIP LOCKED
// (many processes never take the same row), then marks each delivered, or due again later.
import type { Db } from "../db/database.js";

export type OutboxChannel = "events" | "mail";

export interface OutboxRow {
  orgId: string;
  id: string;
  channel: string;
  topic: string;
  payload: Record<string, unknown>;
  attempts: number;
  createdAt: Date;
}

export async function insertOutbox(
  db: Db,
  orgId: string,
  row: { channel: OutboxChannel; topic: string; payload: unknown; now?: Date },
): Promise<void> {
  await db("outbox").insert({
    org_id: orgId,
    channel: row.channel,
    topic: row.topic,
    payload: JSON.stringify(row.payload),
    ...(row.now ? { created_at: row.now, next_attempt_at: row.now } : {}),
  });
}

/**
 * Leases up to `limit` due rows of a channel: each gets one more attempt and is not due again until
 * `leaseUntil`, so a process that dies while sending leaves the row to be retried (at least once), and no
 * other process takes it meanwhile.
 */
export async function leaseDue(
  db: Db,
  channel: OutboxChannel,
  now: Date,
  leaseUntil: Date,
  limit: number,
): Promise<OutboxRow[]> {
  const { rows } = (await db.raw(
    `update outbox o set attempts = o.attempts + 1, next_attempt_at = ?
      from (select org_id, id from outbox
             where channel = ? and delivered_at is null and next_attempt_at <= ?
             order by next_attempt_at, id limit ? for update skip locked) due
      where o.org_id = due.org_id and o.id = due.id
      returning o.org_id, o.id, o.channel, o.topic, o.payload, o.attempts, o.created_at`,
    [leaseUntil, channel, now, limit],
  )) as {
    rows: {
      org_id: string;
      id: string | number;
      channel: string;
      topic: string;
      payload: Record<string, unknown>;
      attempts: number;
      created_at: Date;
    }[];
  };
  return rows.map((r) => ({
    orgId: r.org_id,
    id: String(r.id),
    channel: r.channel,
    topic: r.topic,
    payload: r.payload,
    attempts: r.attempts,
    createdAt: new Date(r.created_at),
  }));
}

/** Delivered (or given up on purpose, with a note): never taken again. `payload` replaces what is stored. */
export async function markDelivered(
  db: Db,
  orgId: string,
  id: string,
  now: Date,
  options: { note?: string; payload?: unknown } = {},
): Promise<void> {
  await db("outbox")
    .where({ org_id: orgId, id })
    .update({
      delivered_at: now,
      last_error: options.note ?? null,
      ...(options.payload === undefined ? {} : { payload: JSON.stringify(options.payload) }),
    });
}

/** A failed attempt: due again at `retryAt`. */
export async function markFailed(db: Db, orgId: string, id: string, retryAt: Date, error: string): Promise<void> {
  await db("outbox")
    .where({ org_id: orgId, id })
    .update({ next_attempt_at: retryAt, last_error: error.slice(0, 500) });
}
