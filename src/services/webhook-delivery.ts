// Webhook delivery after commit (DOMAIN §9), in two steps, each safe with many processes:
// 1. fan-out: one process at a time (a transaction-scoped advisory lock) turns the `events` outbox rows, in
//    id order, into one delivery per subscribed enabled endpoint and marks the rows done, in ONE transaction;
// 2. sending: a process leases an ENDPOINT (SKIP LOCKED, then `lease_until`), sends its oldest pending
//    delivery first and the next only after a 2xx. A failure makes the whole endpoint wait (backoff with
//    jitter), so order holds; after the last retry (~27 h) the endpoint is disabled, audited.
// A process that dies mid-send keeps the lease until it runs out; another then sends the same delivery
// again with the same webhook-id: at least once, at most a duplicate the receiver recognises.
import http from "node:http";
import https from "node:https";
import { Webhook } from "standardwebhooks";
import { withTransaction } from "../db/transaction.js";
import { endpointWants, RETRY_SCHEDULE_MS, retryDelayMs, toWebhookEvent } from "../domain/webhook-events.js";
import { appendAudit } from "../repositories/audit-repository.js";
import { adminEmails } from "../repositories/members-repository.js";
import { findOrg } from "../repositories/orgs-repository.js";
import { insertOutbox } from "../repositories/outbox-repository.js";
import {
  enabledEndpointsOf,
  insertDeliveries,
  leaseEndpoints,
  markEventsFannedOut,
  type NewDelivery,
  pendingDeliveries,
  pruneWebhookRecords,
  recordAttempts,
  renewLease,
  undeliveredEvents,
  updateEndpoint,
  type WebhookDelivery,
  type WebhookEndpoint,
} from "../repositories/webhooks-repository.js";
import type { ServiceDeps } from "./context.js";
import { MAIL_JOB } from "./mail-messages.js";
import { checkWebhookDestination, guardedLookup, type Resolver } from "./webhook-address.js";

export interface WebhookDeliveryOptions {
  /** Per request (default 10 s). */
  timeoutMs?: number;
  /** How long a leased endpoint stays with this process without renewal (default 60 s). */
  leaseMs?: number;
  /** Retry delays, the n-th after the n-th consecutive failure; after the last, disabled. */
  schedule?: readonly number[];
  random?: () => number;
  /** Endpoints sent to in parallel per pass (default 10). */
  endpointsPerPass?: number;
  /** Deliveries per endpoint per pass (default 200). */
  batchSize?: number;
  /** Consecutive failures that, spread over a day or more, disable an endpoint early (default 5). */
  failuresOverADay?: number;
  resolve?: Resolver;
}

const EXCERPT_BYTES = 1024;
const FANOUT_LOCK = "roster.webhooks.fanout";

/** One fan-out pass; `more` when the batch was full. Does nothing while another process fans out. */
export async function fanOutEvents(
  deps: ServiceDeps,
  limit = 1000,
): Promise<{ events: number; deliveries: number; more: boolean }> {
  return withTransaction(deps.db, async (trx) => {
    const { rows } = (await trx.raw(`select pg_try_advisory_xact_lock(hashtext(?)) as locked`, [FANOUT_LOCK])) as {
      rows: { locked: boolean }[];
    };
    if (!rows[0]?.locked) return { events: 0, deliveries: 0, more: false };
    const events = await undeliveredEvents(trx, limit);
    if (!events.length) return { events: 0, deliveries: 0, more: false };
    const endpoints = await enabledEndpointsOf(trx, [...new Set(events.map((e) => e.orgId))]);
    const byOrg = new Map<string, WebhookEndpoint[]>();
    for (const e of endpoints) byOrg.set(e.orgId, [...(byOrg.get(e.orgId) ?? []), e]);
    const deliveries: NewDelivery[] = [];
    for (const row of events) {
      const targets = byOrg.get(row.orgId);
      if (!targets) continue;
      const event = toWebhookEvent(row);
      if (!event) continue;
      for (const endpoint of targets)
        // An endpoint receives what happened since it was registered, not the org's history.
        if (endpoint.createdAt <= row.createdAt && endpointWants(endpoint.events, event.type))
          deliveries.push({
            orgId: row.orgId,
            endpointId: endpoint.id,
            eventId: event.id,
            eventType: event.type,
            payload: event,
          });
    }
    const now = deps.now();
    // In chunks: one insert's bind parameters are limited.
    for (let i = 0; i < deliveries.length; i += 1000) {
      await insertDeliveries(trx, deliveries.slice(i, i + 1000), now);
    }
    await markEventsFannedOut(trx, events, now);
    return { events: events.length, deliveries: deliveries.length, more: events.length === limit };
  });
}

interface SendResult {
  ok: boolean;
  statusCode: number | null;
  durationMs: number;
  responseExcerpt: string | null;
  error: string | null;
}

// Connections are kept alive between deliveries to the same receiver, as fetch would.
const agents = {
  "http:": new http.Agent({ keepAlive: true, maxSockets: 8 }),
  "https:": new https.Agent({ keepAlive: true, maxSockets: 8 }),
};

/** Where a delivery may connect: the same rule as at registration, applied to the address connected to. */
export interface DestinationGuard {
  allowPrivate: boolean;
  resolve?: Resolver;
}

/**
 * One signed POST (Standard Webhooks). Never follows redirects: a 3xx is a failure. Sent with node:http
 * rather than fetch so the address check happens in the connection's own DNS lookup (guardedLookup).
 */
export async function sendWebhook(
  url: string,
  signer: Webhook,
  delivery: Pick<WebhookDelivery, "eventId" | "payload">,
  timeoutMs: number,
  signal: AbortSignal,
  guard: DestinationGuard = { allowPrivate: false },
): Promise<SendResult> {
  const body = JSON.stringify(delivery.payload);
  const at = new Date();
  const target = new URL(url);
  const headers = {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(body)),
    "user-agent": "Roster-Webhooks/1",
    "webhook-id": delivery.eventId,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": signer.sign(delivery.eventId, at, body),
  };
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const client = target.protocol === "https:" ? https : http;
  return new Promise<SendResult>((resolve) => {
    const request = client.request(
      target,
      {
        method: "POST",
        headers,
        agent: agents[target.protocol as "http:" | "https:"],
        lookup: guardedLookup(guard.allowPrivate, guard.resolve) as never,
        signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on("data", (chunk: Buffer) => {
          if (size < EXCERPT_BYTES) chunks.push(chunk);
          size += chunk.length;
          // A receiver that answers with megabytes gets cut off; the status is what counts.
          if (size > 64 * 1024) response.destroy();
        });
        response.on("close", () => {
          const status = response.statusCode ?? 0;
          const ok = status >= 200 && status < 300;
          const text = Buffer.concat(chunks)
            .subarray(0, EXCERPT_BYTES)
            .toString("utf8")
            .replace(/\uFFFD+$/, "");
          resolve({
            ok,
            statusCode: status,
            durationMs: elapsed(),
            responseExcerpt: text || null,
            error: ok ? null : `HTTP ${status}`,
          });
        });
      },
    );
    request.on("error", (error: NodeJS.ErrnoException) => {
      const timedOut = error.name === "AbortError" || error.name === "TimeoutError";
      const reason =
        error.code === "ERR_WEBHOOK_PRIVATE_ADDRESS"
          ? "refused: the url resolves to a private, loopback or link-local address"
          : timedOut
            ? `timed out after ${timeoutMs} ms`
            : (error.code ?? error.name ?? "network error");
      resolve({ ok: false, statusCode: null, durationMs: elapsed(), responseExcerpt: null, error: reason });
    });
    request.end(body);
  });
}

async function disableEndpoint(
  deps: ServiceDeps,
  endpoint: WebhookEndpoint,
  failures: number,
  reason: string,
): Promise<void> {
  await withTransaction(deps.db, async (trx) => {
    const now = deps.now();
    await updateEndpoint(trx, endpoint.orgId, endpoint.id, { enabled: false, disabledReason: reason, failures }, now);
    await appendAudit(trx, endpoint.orgId, {
      actor: "system",
      action: "webhook.disabled",
      before: { id: endpoint.id, url: endpoint.url, enabled: true },
      after: { id: endpoint.id, url: endpoint.url, enabled: false, failures },
      reason,
    });
    // Admins are told by email (sent when SMTP_URL is set; the row waits in the outbox otherwise).
    const org = await findOrg(trx, endpoint.orgId);
    for (const to of await adminEmails(trx, endpoint.orgId))
      await insertOutbox(trx, endpoint.orgId, {
        channel: "mail",
        topic: "webhook_disabled",
        payload: { to, orgName: org?.name ?? endpoint.orgId, url: endpoint.url, reason },
        now,
      });
  });
  deps.wakeJob?.(MAIL_JOB);
}

/** Sends one leased endpoint's pending deliveries in order until one fails; returns what happened. */
async function deliverEndpoint(
  deps: ServiceDeps,
  endpoint: WebhookEndpoint,
  leaseUntil: Date,
  options: Required<Omit<WebhookDeliveryOptions, "resolve">> & { resolve?: Resolver },
  signal: AbortSignal,
): Promise<{ delivered: number; failed: number; more: boolean }> {
  let held = leaseUntil;
  let delivered = 0;
  let failures = endpoint.failures;
  const pending = await pendingDeliveries(deps.db, endpoint.orgId, endpoint.id, options.batchSize);
  let refused: string | null = null;
  try {
    // Again at delivery: a host name may have been pointed at an internal address since it was registered.
    await checkWebhookDestination(new URL(endpoint.url), deps.webhooks?.allowPrivate ?? false, options.resolve);
  } catch (error) {
    refused = (error as Error).message;
  }
  const signer = new Webhook(deps.secretBox.open(endpoint.secretSealed));
  // Successful attempts are written in batches (one commit per batch): a crash before a flush only means
  // those events are sent again, with the same webhook-id, which at-least-once allows.
  const buffer: Parameters<typeof recordAttempts>[1] = [];
  let bufferSince = 0;
  const flush = async () => {
    await recordAttempts(deps.db, buffer.splice(0));
  };
  let stopped = false;
  for (const delivery of pending) {
    if (signal.aborted) {
      stopped = true;
      break;
    }
    if (held.getTime() - deps.now().getTime() < options.leaseMs / 3) {
      await flush();
      const next = new Date(deps.now().getTime() + options.leaseMs);
      if (!(await renewLease(deps.db, endpoint.orgId, endpoint.id, held, next)))
        return { delivered, failed: 0, more: false };
      held = next;
    }
    const result: SendResult = refused
      ? { ok: false, statusCode: null, durationMs: 0, responseExcerpt: null, error: `refused: ${refused}` }
      : await sendWebhook(endpoint.url, signer, delivery, options.timeoutMs, signal, {
          allowPrivate: deps.webhooks?.allowPrivate ?? false,
          resolve: options.resolve,
        });
    const now = deps.now();
    if (!buffer.length) bufferSince = Date.now();
    buffer.push({ ...result, at: now, delivery, delivered: result.ok });
    if (result.ok) {
      delivered += 1;
      if (buffer.length >= 100 || Date.now() - bufferSince >= 250) await flush();
      if (failures > 0) {
        failures = 0;
        await updateEndpoint(deps.db, endpoint.orgId, endpoint.id, { failures: 0, failingSince: null }, now);
      }
      continue;
    }
    await flush();
    if (signal.aborted) {
      stopped = true;
      break; // stopping mid-send is not the receiver's failure
    }
    failures += 1;
    const failingSince = endpoint.failures > 0 && endpoint.failingSince ? endpoint.failingSince : now;
    const delay = retryDelayMs(failures, options.schedule, options.random);
    const aDay = now.getTime() - failingSince.getTime() >= 24 * 3_600_000 && failures >= options.failuresOverADay;
    if (delay === null || aDay) {
      await disableEndpoint(
        deps,
        endpoint,
        failures,
        `disabled after ${failures} failed attempts in a row (last: ${result.error ?? "error"})`,
      );
    } else {
      await updateEndpoint(
        deps.db,
        endpoint.orgId,
        endpoint.id,
        { failures, failingSince, nextAttemptAt: new Date(now.getTime() + delay) },
        now,
      );
    }
    await renewLease(deps.db, endpoint.orgId, endpoint.id, held, deps.now());
    return { delivered, failed: 1, more: false };
  }
  await flush();
  // Give the endpoint back at once (only if the lease is still ours).
  await renewLease(deps.db, endpoint.orgId, endpoint.id, held, deps.now());
  return { delivered, failed: 0, more: !stopped && pending.length === options.batchSize };
}

/** One pass: fan out new events, then send to up to `endpointsPerPass` endpoints in parallel. */
export async function deliverWebhooks(
  deps: ServiceDeps,
  options: WebhookDeliveryOptions = {},
  signal: AbortSignal = new AbortController().signal,
): Promise<{ delivered: number; failed: number; more: boolean }> {
  const o = {
    timeoutMs: options.timeoutMs ?? 10_000,
    leaseMs: options.leaseMs ?? 60_000,
    schedule: options.schedule ?? RETRY_SCHEDULE_MS,
    random: options.random ?? Math.random,
    endpointsPerPass: options.endpointsPerPass ?? 10,
    batchSize: options.batchSize ?? 200,
    failuresOverADay: options.failuresOverADay ?? 5,
    resolve: options.resolve,
  };
  const fanned = await fanOutEvents(deps);
  const now = deps.now();
  const endpoints = await leaseEndpoints(deps.db, now, new Date(now.getTime() + o.leaseMs), o.endpointsPerPass);
  const results = await Promise.all(
    endpoints.map((e) => deliverEndpoint(deps, e, new Date(now.getTime() + o.leaseMs), o, signal)),
  );
  return {
    delivered: results.reduce((n, r) => n + r.delivered, 0),
    failed: results.reduce((n, r) => n + r.failed, 0),
    more: fanned.more || endpoints.length === o.endpointsPerPass || results.some((r) => r.more),
  };
}

/** Attempts and delivered deliveries older than 30 days go (one batch per pass). */
export async function pruneWebhookHistory(deps: ServiceDeps, limit = 5000): Promise<{ more: boolean }> {
  const removed = await pruneWebhookRecords(deps.db, new Date(deps.now().getTime() - 30 * 24 * 3_600_000), limit);
  return { more: removed >= limit };
}
