// Webhook endpoints, their delivery queue and the record of every attempt (migrations/20261207050000).
import type { Knex } from "knex";
import type { Db } from "../db/database.js";

export interface WebhookEndpoint {
  orgId: string;
  id: string;
  url: string;
  description: string | null;
  events: string[];
  secretSealed: string;
  enabled: boolean;
  disabledReason: string | null;
  failures: number;
  failingSince: Date | null;
  nextAttemptAt: Date;
  leaseUntil: Date;
  createdAt: Date;
  updatedAt: Date;
}

interface EndpointRow {
  org_id: string;
  id: string;
  url: string;
  description: string | null;
  events: string[];
  secret_sealed: string;
  enabled: boolean;
  disabled_reason: string | null;
  failures: number;
  failing_since: Date | null;
  next_attempt_at: Date;
  lease_until: Date;
  created_at: Date;
  updated_at: Date;
}

function fromEndpointRow(r: EndpointRow): WebhookEndpoint {
  return {
    orgId: r.org_id,
    id: r.id,
    url: r.url,
    description: r.description,
    events: r.events,
    secretSealed: r.secret_sealed,
    enabled: r.enabled,
    disabledReason: r.disabled_reason,
    failures: r.failures,
    failingSince: r.failing_since ? new Date(r.failing_since) : null,
    nextAttemptAt: new Date(r.next_attempt_at),
    leaseUntil: new Date(r.lease_until),
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
  };
}

export async function insertEndpoint(
  db: Db,
  orgId: string,
  e: { id: string; url: string; description: string | null; events: string[]; secretSealed: string; now: Date },
): Promise<WebhookEndpoint> {
  const [row] = await db("webhook_endpoints")
    .insert({
      org_id: orgId,
      id: e.id,
      url: e.url,
      description: e.description,
      events: JSON.stringify(e.events),
      secret_sealed: e.secretSealed,
      next_attempt_at: e.now,
      lease_until: e.now,
      created_at: e.now,
      updated_at: e.now,
    })
    .returning("*");
  return fromEndpointRow(row);
}

export async function listEndpoints(db: Db, orgId: string): Promise<WebhookEndpoint[]> {
  const rows = await db("webhook_endpoints")
    .where({ org_id: orgId })
    .orderBy([{ column: "created_at" }, "id"]);
  return rows.map(fromEndpointRow);
}

export async function findEndpoint(
  db: Db,
  orgId: string,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<WebhookEndpoint | null> {
  const query = db("webhook_endpoints").where({ org_id: orgId, id }).first();
  if (options.forUpdate) query.forUpdate();
  const row = await query;
  return row ? fromEndpointRow(row) : null;
}

export async function updateEndpoint(
  db: Db,
  orgId: string,
  id: string,
  changes: Partial<{
    url: string;
    description: string | null;
    events: string[];
    enabled: boolean;
    disabledReason: string | null;
    failures: number;
    failingSince: Date | null;
    nextAttemptAt: Date;
  }>,
  now: Date,
): Promise<WebhookEndpoint | null> {
  const row: Record<string, unknown> = { updated_at: now };
  if (changes.url !== undefined) row.url = changes.url;
  if (changes.description !== undefined) row.description = changes.description;
  if (changes.events !== undefined) row.events = JSON.stringify(changes.events);
  if (changes.enabled !== undefined) row.enabled = changes.enabled;
  if (changes.disabledReason !== undefined) row.disabled_reason = changes.disabledReason;
  if (changes.failures !== undefined) row.failures = changes.failures;
  if (changes.failingSince !== undefined) row.failing_since = changes.failingSince;
  if (changes.nextAttemptAt !== undefined) row.next_attempt_at = changes.nextAttemptAt;
  const [updated] = await db("webhook_endpoints").where({ org_id: orgId, id }).update(row).returning("*");
  return updated ? fromEndpointRow(updated) : null;
}

export async function deleteEndpoint(db: Db, orgId: string, id: string): Promise<boolean> {
  return (await db("webhook_endpoints").where({ org_id: orgId, id }).delete()) > 0;
}

// ---- the queue ----

export interface WebhookDelivery {
  orgId: string;
  id: string;
  endpointId: string;
  eventId: string;
  eventType: string;
  payload: Record<string, unknown>;
  status: "pending" | "delivered";
  attempts: number;
  createdAt: Date;
  deliveredAt: Date | null;
}

interface DeliveryRow {
  org_id: string;
  id: string | number;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  payload: Record<string, unknown>;
  status: "pending" | "delivered";
  attempts: number;
  created_at: Date;
  delivered_at: Date | null;
}

function fromDeliveryRow(r: DeliveryRow): WebhookDelivery {
  return {
    orgId: r.org_id,
    id: String(r.id),
    endpointId: r.endpoint_id,
    eventId: r.event_id,
    eventType: r.event_type,
    payload: r.payload,
    status: r.status,
    attempts: r.attempts,
    createdAt: new Date(r.created_at),
    deliveredAt: r.delivered_at ? new Date(r.delivered_at) : null,
  };
}

export interface NewDelivery {
  orgId: string;
  endpointId: string;
  eventId: string;
  eventType: string;
  payload: unknown;
}

/** Appends deliveries in the order given: within an endpoint, `id` order is the order of sending. */
export async function insertDeliveries(db: Db, deliveries: NewDelivery[], now: Date): Promise<WebhookDelivery[]> {
  if (!deliveries.length) return [];
  const rows = await db("webhook_deliveries")
    .insert(
      deliveries.map((d) => ({
        org_id: d.orgId,
        endpoint_id: d.endpointId,
        event_id: d.eventId,
        event_type: d.eventType,
        payload: JSON.stringify(d.payload),
        created_at: now,
      })),
    )
    .returning("*");
  return (rows as DeliveryRow[]).map(fromDeliveryRow);
}

export async function findDelivery(
  db: Db,
  orgId: string,
  endpointId: string,
  id: string,
): Promise<WebhookDelivery | null> {
  const row = await db("webhook_deliveries").where({ org_id: orgId, endpoint_id: endpointId, id }).first();
  return row ? fromDeliveryRow(row) : null;
}

/** The `events` outbox rows not yet fanned out, oldest first. The caller holds the fan-out lock. */
export async function undeliveredEvents(
  trx: Knex.Transaction,
  limit: number,
): Promise<{ orgId: string; id: string; topic: string; payload: Record<string, unknown>; createdAt: Date }[]> {
  const rows = await trx("outbox")
    .select("org_id", "id", "topic", "payload", "created_at")
    .where({ channel: "events" })
    .whereNull("delivered_at")
    .orderBy("id")
    .limit(limit);
  return rows.map((r) => ({
    orgId: r.org_id,
    id: String(r.id),
    topic: r.topic,
    payload: r.payload,
    createdAt: new Date(r.created_at),
  }));
}

/** The enabled endpoints of these orgs (fan-out targets). */
export async function enabledEndpointsOf(db: Db, orgIds: string[]): Promise<WebhookEndpoint[]> {
  if (!orgIds.length) return [];
  const rows = await db("webhook_endpoints").whereIn("org_id", orgIds).where({ enabled: true }).orderBy("id");
  return rows.map(fromEndpointRow);
}

export async function markEventsFannedOut(db: Db, ids: { orgId: string; id: string }[], now: Date): Promise<void> {
  if (!ids.length) return;
  await db.raw(
    `update outbox o set delivered_at = ?, attempts = o.attempts + 1
       from unnest(?::text[], ?::bigint[]) as done(org_id, id)
      where o.org_id = done.org_id and o.id = done.id`,
    [now, ids.map((i) => i.orgId), ids.map((i) => i.id)],
  );
}

/**
 * Leases up to `limit` enabled endpoints that have a pending delivery and are due: no other process takes
 * them until `leaseUntil` (SKIP LOCKED while choosing; the lease column afterwards).
 */
export async function leaseEndpoints(db: Db, now: Date, leaseUntil: Date, limit: number): Promise<WebhookEndpoint[]> {
  const { rows } = (await db.raw(
    `update webhook_endpoints e set lease_until = ?
       from (select w.org_id, w.id from webhook_endpoints w
              where w.enabled and w.next_attempt_at <= ? and w.lease_until <= ?
                and exists (select 1 from webhook_deliveries d
                             where d.org_id = w.org_id and d.endpoint_id = w.id and d.status = 'pending')
              order by w.next_attempt_at limit ? for update skip locked) due
      where e.org_id = due.org_id and e.id = due.id
      returning e.*`,
    [leaseUntil, now, now, limit],
  )) as { rows: EndpointRow[] };
  return rows.map(fromEndpointRow);
}

/** Extends a lease still held (its `lease_until` is the one we set); false when another process took it. */
export async function renewLease(db: Db, orgId: string, id: string, held: Date, until: Date): Promise<boolean> {
  return (
    (await db("webhook_endpoints").where({ org_id: orgId, id, lease_until: held }).update({ lease_until: until })) > 0
  );
}

export async function pendingDeliveries(
  db: Db,
  orgId: string,
  endpointId: string,
  limit: number,
): Promise<WebhookDelivery[]> {
  const rows = await db("webhook_deliveries")
    .where({ org_id: orgId, endpoint_id: endpointId, status: "pending" })
    .orderBy("id")
    .limit(limit);
  return rows.map(fromDeliveryRow);
}

export interface AttemptInput {
  statusCode: number | null;
  durationMs: number;
  responseExcerpt: string | null;
  error: string | null;
  at: Date;
}

/**
 * Attempts recorded in one statement (a sender flushes them every few dozen sends: one commit per batch,
 * not per event); a successful one also marks its delivery delivered.
 */
export async function recordAttempts(
  db: Db,
  attempts: (AttemptInput & { delivery: Pick<WebhookDelivery, "orgId" | "id" | "endpointId">; delivered: boolean })[],
): Promise<void> {
  if (!attempts.length) return;
  const input = attempts.map((a) => ({
    org_id: a.delivery.orgId,
    id: a.delivery.id,
    endpoint_id: a.delivery.endpointId,
    status_code: a.statusCode,
    duration_ms: a.durationMs,
    response_excerpt: a.responseExcerpt,
    error: a.error,
    at: a.at.toISOString(),
    delivered: a.delivered,
  }));
  await db.raw(
    `with input as (
       select * from jsonb_to_recordset(?::jsonb) as x(org_id text, id bigint, endpoint_id uuid, status_code int,
                                                      duration_ms int, response_excerpt text, error text,
                                                      at timestamptz, delivered boolean)),
     d as (
       update webhook_deliveries w set attempts = w.attempts + 1,
              status = case when input.delivered then 'delivered' else w.status end,
              delivered_at = case when input.delivered then input.at else w.delivered_at end
         from input where w.org_id = input.org_id and w.id = input.id)
     insert into webhook_attempts (org_id, endpoint_id, delivery_id, status_code, duration_ms, response_excerpt, error, at)
     select org_id, endpoint_id, id, status_code, duration_ms, response_excerpt, error, at from input order by id`,
    [JSON.stringify(input)],
  );
}

export interface AttemptRecord {
  deliveryId: string;
  statusCode: number | null;
  durationMs: number;
  responseExcerpt: string | null;
  error: string | null;
  at: Date;
}

/** Deliveries of an endpoint, newest first, each with its attempts (newest first). */
export async function listDeliveries(
  db: Db,
  orgId: string,
  endpointId: string,
  beforeId: string | null,
  limit: number,
): Promise<(WebhookDelivery & { attemptRecords: AttemptRecord[] })[]> {
  const query = db("webhook_deliveries")
    .where({ org_id: orgId, endpoint_id: endpointId })
    .orderBy("id", "desc")
    .limit(limit);
  if (beforeId !== null) query.where("id", "<", beforeId);
  const deliveries = ((await query) as DeliveryRow[]).map(fromDeliveryRow);
  if (!deliveries.length) return [];
  const attempts = await db("webhook_attempts")
    .where({ org_id: orgId })
    .whereIn(
      "delivery_id",
      deliveries.map((d) => d.id),
    )
    .orderBy("id", "desc");
  const byDelivery = new Map<string, AttemptRecord[]>();
  for (const a of attempts) {
    const list = byDelivery.get(String(a.delivery_id)) ?? [];
    list.push({
      deliveryId: String(a.delivery_id),
      statusCode: a.status_code,
      durationMs: a.duration_ms,
      responseExcerpt: a.response_excerpt,
      error: a.error,
      at: new Date(a.at),
    });
    byDelivery.set(String(a.delivery_id), list);
  }
  return deliveries.map((d) => ({ ...d, attemptRecords: byDelivery.get(d.id) ?? [] }));
}

/** Waiting deliveries across every endpoint (the backlog gauge). */
export async function countPendingDeliveries(db: Db): Promise<number> {
  const row = await db("webhook_deliveries")
    .where({ status: "pending" })
    .count<{ count: string }[]>("* as count")
    .first();
  return Number(row?.count ?? 0);
}

/** Attempts and delivered deliveries older than `before` (a scheduled prune, across orgs). */
export async function pruneWebhookRecords(db: Db, before: Date, limit: number): Promise<number> {
  const attempts = await db.raw(
    `delete from webhook_attempts a using (select org_id, id from webhook_attempts where at < ? limit ?) old
      where a.org_id = old.org_id and a.id = old.id`,
    [before, limit],
  );
  const deliveries = await db.raw(
    `delete from webhook_deliveries d using (select org_id, id from webhook_deliveries
                                              where status = 'delivered' and created_at < ? limit ?) old
      where d.org_id = old.org_id and d.id = old.id`,
    [before, limit],
  );
  return ((attempts as { rowCount?: number }).rowCount ?? 0) + ((deliveries as { rowCount?: number }).rowCount ?? 0);
}
