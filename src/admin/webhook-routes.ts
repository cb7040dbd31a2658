// Admin API for webhooks (admin+): endpoints, their deliveries and attempts, a test event, redelivery.
import type { Router } from "express";
import { DomainError } from "../domain/errors.js";
import { isUuid } from "../repositories/members-repository.js";
import type { AttemptRecord, WebhookDelivery, WebhookEndpoint } from "../repositories/webhooks-repository.js";
import {
  changeEndpoint,
  createEndpoint,
  deliveriesQuery,
  endpointDeliveries,
  endpointInput,
  endpointPatch,
  getEndpoint,
  listOrgEndpoints,
  redeliver,
  removeEndpoint,
  sendTestEvent,
} from "../services/webhooks-service.js";
import type { ServiceDeps } from "../services/context.js";
import { requirePermission } from "./admin-auth.js";
import { decodeCursor, encodeCursor } from "./presenters.js";

/** Never the secret: it is shown once, in the answer to the POST that created it. */
export function presentEndpoint(e: WebhookEndpoint, secret?: string) {
  return {
    id: e.id,
    url: e.url,
    description: e.description,
    events: e.events,
    enabled: e.enabled,
    disabledReason: e.disabledReason,
    failures: e.failures,
    nextAttemptAt: e.failures > 0 && e.enabled ? e.nextAttemptAt : null,
    createdAt: e.createdAt,
    updatedAt: e.updatedAt,
    ...(secret ? { secret } : {}),
  };
}

function presentDelivery(d: WebhookDelivery & { attemptRecords: AttemptRecord[] }) {
  return {
    id: d.id,
    eventId: d.eventId,
    eventType: d.eventType,
    status: d.status,
    createdAt: d.createdAt,
    deliveredAt: d.deliveredAt,
    attempts: d.attemptRecords.map((a) => ({
      at: a.at,
      statusCode: a.statusCode,
      durationMs: a.durationMs,
      responseExcerpt: a.responseExcerpt,
      error: a.error,
    })),
  };
}

function endpointId(raw: unknown): string {
  const id = String(raw);
  if (!isUuid(id)) throw new DomainError("not_found", "webhook endpoint not found");
  return id;
}

export function addWebhookRoutes(router: Router, deps: ServiceDeps): void {
  const guard = requirePermission("manage_webhooks");
  const actorOf = (req: { principal?: { actor: string }; id?: unknown }) => ({
    actor: req.principal!.actor,
    requestId: typeof req.id === "string" ? req.id : null,
  });

  router.get("/webhooks", guard, async (req, res) => {
    res.json({ items: (await listOrgEndpoints(deps, req.principal!.orgId)).map((e) => presentEndpoint(e)) });
  });

  router.post("/webhooks", guard, async (req, res) => {
    const body = endpointInput.parse(req.body);
    const created = await createEndpoint(deps, req.principal!.orgId, body, actorOf(req));
    res.status(201).json(presentEndpoint(created.endpoint, created.secret));
  });

  router.get("/webhooks/:webhookId", guard, async (req, res) => {
    res.json(presentEndpoint(await getEndpoint(deps, req.principal!.orgId, endpointId(req.params.webhookId))));
  });

  router.patch("/webhooks/:webhookId", guard, async (req, res) => {
    const body = endpointPatch.parse(req.body);
    const id = endpointId(req.params.webhookId);
    res.json(presentEndpoint(await changeEndpoint(deps, req.principal!.orgId, id, body, actorOf(req))));
  });

  router.delete("/webhooks/:webhookId", guard, async (req, res) => {
    await removeEndpoint(deps, req.principal!.orgId, endpointId(req.params.webhookId), actorOf(req));
    res.status(204).end();
  });

  router.get("/webhooks/:webhookId/deliveries", guard, async (req, res) => {
    const q = deliveriesQuery.parse(req.query);
    let before: string | null = null;
    if (q.cursor) {
      before = decodeCursor(q.cursor);
      if (!before || !/^\d{1,18}$/.test(before)) throw new DomainError("invalid_request", "cursor is not valid");
    }
    const page = await endpointDeliveries(
      deps,
      req.principal!.orgId,
      endpointId(req.params.webhookId),
      before,
      q.limit,
    );
    const last = page.items.at(-1);
    res.json({
      items: page.items.map(presentDelivery),
      nextCursor: page.more && last ? encodeCursor(last.id) : null,
    });
  });

  router.post("/webhooks/:webhookId/test", guard, async (req, res) => {
    res.status(202).json(await sendTestEvent(deps, req.principal!.orgId, endpointId(req.params.webhookId)));
  });

  router.post("/webhooks/:webhookId/deliveries/:deliveryId/redeliver", guard, async (req, res) => {
    const id = endpointId(req.params.webhookId);
    res.status(202).json(await redeliver(deps, req.principal!.orgId, id, String(req.params.deliveryId), actorOf(req)));
  });
}
