// Webhook endpoints per org (admin+, DOMAIN §9): register (the signing secret shown once, stored sealed),
// change, enable again, remove; the deliveries and attempts of each; a test event; redelivery on demand.
import { randomBytes, randomUUID } from "node:crypto";
import { z } from "zod";
import { withTransaction } from "../db/transaction.js";
import { DomainError } from "../domain/errors.js";
import { WEBHOOK_EVENT_TYPES, type WebhookEvent } from "../domain/webhook-events.js";
import { appendAudit } from "../repositories/audit-repository.js";
import {
  deleteEndpoint,
  findDelivery,
  findEndpoint,
  insertDeliveries,
  insertEndpoint,
  listDeliveries,
  listEndpoints,
  updateEndpoint,
  type WebhookEndpoint,
} from "../repositories/webhooks-repository.js";
import type { Actor, ServiceDeps } from "./context.js";
import { checkWebhookDestination, parseWebhookUrl } from "./webhook-address.js";

/** The job that sends webhooks (jobs/index.ts); woken after a test event or a redelivery. */
export const WEBHOOK_JOB = "webhook-delivery";

const eventTypes = z
  .array(z.enum(WEBHOOK_EVENT_TYPES.filter((t) => t !== "webhook.test") as [string, ...string[]]))
  .max(50)
  .transform((list) => [...new Set(list)]);

export const endpointInput = z.strictObject({
  url: z.string().min(1).max(2000),
  events: eventTypes.optional(),
  description: z.string().max(500).nullable().optional(),
});

export const endpointPatch = z.strictObject({
  url: z.string().min(1).max(2000).optional(),
  events: eventTypes.optional(),
  description: z.string().max(500).nullable().optional(),
  enabled: z.boolean().optional(),
});

export const deliveriesQuery = z.object({
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

/** A Standard Webhooks secret: `whsec_` and 32 random bytes in base64. */
function newSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}

async function checkedUrl(deps: ServiceDeps, raw: string): Promise<string> {
  const url = parseWebhookUrl(raw);
  await checkWebhookDestination(url, deps.webhooks?.allowPrivate ?? false);
  return url.toString();
}

/** What the audit log keeps of an endpoint: never the secret. */
function auditView(e: WebhookEndpoint) {
  return { id: e.id, url: e.url, events: e.events, enabled: e.enabled };
}

export async function createEndpoint(
  deps: ServiceDeps,
  orgId: string,
  input: z.infer<typeof endpointInput>,
  actor: Actor,
): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  const url = await checkedUrl(deps, input.url);
  const secret = newSecret();
  const endpoint = await withTransaction(deps.db, async (trx) => {
    const created = await insertEndpoint(trx, orgId, {
      id: randomUUID(),
      url,
      description: input.description ?? null,
      events: input.events ?? [],
      secretSealed: deps.secretBox.seal(secret),
      now: deps.now(),
    });
    await appendAudit(trx, orgId, {
      actor: actor.actor,
      action: "webhook.created",
      after: auditView(created),
      requestId: actor.requestId,
    });
    return created;
  });
  return { endpoint, secret };
}

export async function listOrgEndpoints(deps: ServiceDeps, orgId: string): Promise<WebhookEndpoint[]> {
  return listEndpoints(deps.db, orgId);
}

export async function getEndpoint(deps: ServiceDeps, orgId: string, id: string): Promise<WebhookEndpoint> {
  const endpoint = await findEndpoint(deps.db, orgId, id);
  if (!endpoint) throw new DomainError("not_found", "webhook endpoint not found");
  return endpoint;
}

export async function changeEndpoint(
  deps: ServiceDeps,
  orgId: string,
  id: string,
  patch: z.infer<typeof endpointPatch>,
  actor: Actor,
): Promise<WebhookEndpoint> {
  const url = patch.url === undefined ? undefined : await checkedUrl(deps, patch.url);
  return withTransaction(deps.db, async (trx) => {
    const before = await findEndpoint(trx, orgId, id, { forUpdate: true });
    if (!before) throw new DomainError("not_found", "webhook endpoint not found");
    const now = deps.now();
    // Enabling again starts over: no failures counted, and the oldest waiting delivery is due now.
    const reenabled = patch.enabled === true && !before.enabled;
    const after = await updateEndpoint(
      trx,
      orgId,
      id,
      {
        url,
        events: patch.events,
        description: patch.description,
        enabled: patch.enabled,
        ...(reenabled ? { disabledReason: null, failures: 0, failingSince: null, nextAttemptAt: now } : {}),
        ...(patch.enabled === false && before.enabled ? { disabledReason: "disabled by an admin" } : {}),
      },
      now,
    );
    await appendAudit(trx, orgId, {
      actor: actor.actor,
      action: "webhook.updated",
      before: auditView(before),
      after: auditView(after!),
      requestId: actor.requestId,
    });
    return after!;
  });
}

export async function removeEndpoint(deps: ServiceDeps, orgId: string, id: string, actor: Actor): Promise<void> {
  await withTransaction(deps.db, async (trx) => {
    const before = await findEndpoint(trx, orgId, id, { forUpdate: true });
    if (!before) throw new DomainError("not_found", "webhook endpoint not found");
    await deleteEndpoint(trx, orgId, id);
    await appendAudit(trx, orgId, {
      actor: actor.actor,
      action: "webhook.deleted",
      before: auditView(before),
      requestId: actor.requestId,
    });
  });
}

export async function endpointDeliveries(
  deps: ServiceDeps,
  orgId: string,
  id: string,
  beforeId: string | null,
  limit: number,
) {
  await getEndpoint(deps, orgId, id);
  const items = await listDeliveries(deps.db, orgId, id, beforeId, limit + 1);
  return { items: items.slice(0, limit), more: items.length > limit };
}

/** Queues a `webhook.test` event for this endpoint only (after what is already waiting). */
export async function sendTestEvent(
  deps: ServiceDeps,
  orgId: string,
  id: string,
): Promise<{ deliveryId: string; eventId: string }> {
  const endpoint = await getEndpoint(deps, orgId, id);
  const now = deps.now();
  const event: WebhookEvent = {
    id: `evt_test_${randomUUID()}`,
    type: "webhook.test",
    timestamp: now.toISOString(),
    orgId,
    data: { endpointId: endpoint.id, message: "A test event from Roster" },
  };
  const [delivery] = await insertDeliveries(
    deps.db,
    [{ orgId, endpointId: id, eventId: event.id, eventType: event.type, payload: event }],
    now,
  );
  deps.wakeJob?.(WEBHOOK_JOB);
  return { deliveryId: delivery!.id, eventId: event.id };
}

/** Sends an event again, same id (receivers drop it if they had it), after what is already waiting. */
export async function redeliver(
  deps: ServiceDeps,
  orgId: string,
  id: string,
  deliveryId: string,
  actor: Actor,
): Promise<{ deliveryId: string; eventId: string }> {
  await getEndpoint(deps, orgId, id);
  if (!/^\d{1,18}$/.test(deliveryId)) throw new DomainError("not_found", "delivery not found");
  const original = await findDelivery(deps.db, orgId, id, deliveryId);
  if (!original) throw new DomainError("not_found", "delivery not found");
  const delivery = await withTransaction(deps.db, async (trx) => {
    const [copy] = await insertDeliveries(
      trx,
      [{ orgId, endpointId: id, eventId: original.eventId, eventType: original.eventType, payload: original.payload }],
      deps.now(),
    );
    await appendAudit(trx, orgId, {
      actor: actor.actor,
      action: "webhook.redelivered",
      after: { endpointId: id, eventId: original.eventId, deliveryId: copy!.id },
      requestId: actor.requestId,
    });
    return copy!;
  });
  deps.wakeJob?.(WEBHOOK_JOB);
  return { deliveryId: delivery.id, eventId: delivery.eventId };
}
