// A generic outbox consumer: one pass leases the due rows of one channel (FOR UPDATE SKIP LOCKED, so many
// processes share the work and never take the same row), hands each to the channel's `deliver`, then
// marks it delivered or due again after a backoff. A process that dies mid-send leaves its rows leased:
// they come due again when the lease ends, so delivery is at least once (a crash can send twice, never
// zero times). Mail uses it now; webhooks (issue 12) plug in another channel and `deliver`.
import {
  leaseDue,
  markDelivered,
  markFailed,
  type OutboxChannel,
  type OutboxRow,
} from "../repositories/outbox-repository.js";
import type { ServiceDeps } from "./context.js";

/** What a delivery decided, besides success (a throw means: try again later). */
export type DeliveryOutcome =
  { kind: "delivered"; payload?: unknown } | { kind: "dropped"; note: string; payload?: unknown };

export interface OutboxConsumer {
  channel: OutboxChannel;
  deliver(row: OutboxRow, signal: AbortSignal): Promise<DeliveryOutcome>;
  /** How long a leased row stays invisible to other processes: longer than one delivery can take. */
  leaseMs?: number;
  batchSize?: number;
  /** Delay before attempt n+1 after n failed attempts. */
  backoffMs?: (attempts: number) => number;
}

/** 30 s, 1 min, 2 min … capped at 1 hour: retried for as long as it takes, never dropped for failing. */
export function defaultBackoffMs(attempts: number): number {
  return Math.min(60 * 60_000, 30_000 * 2 ** Math.max(0, attempts - 1));
}

/** One pass. `more` when the batch was full (the runner then starts the next pass at once). */
export async function deliverDue(
  deps: ServiceDeps,
  consumer: OutboxConsumer,
  signal: AbortSignal = new AbortController().signal,
): Promise<{ delivered: number; failed: number; more: boolean }> {
  const batchSize = consumer.batchSize ?? 20;
  const now = deps.now();
  const rows = await leaseDue(
    deps.db,
    consumer.channel,
    now,
    new Date(now.getTime() + (consumer.leaseMs ?? 5 * 60_000)),
    batchSize,
  );
  let delivered = 0;
  let failed = 0;
  for (const row of rows) {
    // Stopping: the rest stay leased and come due again when the lease ends.
    if (signal.aborted) break;
    try {
      const outcome = await consumer.deliver(row, signal);
      await markDelivered(deps.db, row.orgId, row.id, deps.now(), {
        note: outcome.kind === "dropped" ? outcome.note : undefined,
        payload: outcome.payload,
      });
      delivered += 1;
    } catch (error) {
      failed += 1;
      const retryAt = new Date(deps.now().getTime() + (consumer.backoffMs ?? defaultBackoffMs)(row.attempts));
      // Only the error's class and code: messages from mail servers can quote the recipient.
      const e = error as { name?: string; code?: string; responseCode?: number };
      await markFailed(
        deps.db,
        row.orgId,
        row.id,
        retryAt,
        [e?.name ?? "Error", e?.code, e?.responseCode].filter(Boolean).join(" "),
      );
    }
  }
  return { delivered, failed, more: rows.length === batchSize };
}
