// The webhook event catalogue (DOMAIN §9): which outbox topics become which webhook events, and the stable
// payload each carries. Pure: the fan-out job calls `toWebhookEvent` on each `events` outbox row.
//
// Every event is `{ "id", "type", "timestamp", "orgId", "data" }`; `id` (also the `webhook-id` header) is
// the same on every retry and redelivery, so receivers drop repeats by it.

export const WEBHOOK_EVENT_TYPES = [
  "member.created",
  "member.updated",
  "member.deactivated",
  "member.deleted",
  "member.seat_changed",
  "member.role_changed",
  "invitation.created",
  "invitation.resent",
  "invitation.claimed",
  "invitation.revoked",
  "invitation.expired",
  "seats.purchased",
  "seats.renewed",
  "group_mappings.changed",
  "scim_token.created",
  "scim_token.revoked",
  "ownership.transferred",
  "webhook.test",
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

const TYPES = new Set<string>(WEBHOOK_EVENT_TYPES);
export function isWebhookEventType(type: string): type is WebhookEventType {
  return TYPES.has(type);
}

/**
 * Audit actions recorded with `appendAudit` (no hand-written outbox row) that are also events: the audit
 * repository writes their outbox row in the same statement, under the event type given here.
 */
export const AUDIT_ACTION_EVENTS: Readonly<Record<string, WebhookEventType>> = {
  "member.created": "member.created",
  "member.updated": "member.updated",
  "member.deleted": "member.deleted",
  "member.role_changed": "member.role_changed",
  "mapping.changed": "group_mappings.changed",
  "token.scim.created": "scim_token.created",
  "token.scim.revoked": "scim_token.revoked",
};

export interface WebhookEvent {
  id: string;
  type: WebhookEventType;
  timestamp: string;
  orgId: string;
  data: Record<string, unknown>;
}

type Payload = Record<string, unknown>;

const orNull = (v: unknown) => (v === undefined ? null : v);

function withoutOrg(payload: Payload): Payload {
  const { orgId: _orgId, actor: _actor, ...rest } = payload;
  return rest;
}

/** The `data` of an event from its outbox payload; null when the topic is not a webhook event. */
export function eventData(type: string, payload: Payload): Payload | null {
  if (!isWebhookEventType(type)) return null;
  switch (type) {
    case "member.created":
    case "member.updated":
    case "member.deactivated":
    case "member.deleted":
    case "member.seat_changed":
    case "member.role_changed":
      return {
        memberId: orNull(payload.memberId),
        before: orNull(payload.before),
        after: orNull(payload.after),
        reason: orNull(payload.reason),
      };
    case "invitation.created":
    case "invitation.resent":
    case "invitation.claimed":
    case "invitation.revoked":
    case "invitation.expired":
      return {
        invitationId: orNull(payload.invitationId),
        memberId: orNull(payload.memberId),
        status: orNull(payload.status ?? type.slice("invitation.".length)),
        seatType: orNull(payload.seatType),
      };
    case "group_mappings.changed":
      return { before: orNull(payload.before), after: orNull(payload.after) };
    case "scim_token.created":
    case "scim_token.revoked": {
      const details = (type === "scim_token.created" ? payload.after : payload.before) as Payload | null;
      return {
        tokenId: orNull(details?.id),
        name: orNull(details?.name),
        hint: orNull(details?.hint),
        memberId: orNull(payload.memberId),
      };
    }
    default:
      return withoutOrg(payload);
  }
}

export function toWebhookEvent(row: {
  id: string;
  orgId: string;
  topic: string;
  payload: Payload;
  createdAt: Date;
}): WebhookEvent | null {
  const data = eventData(row.topic, row.payload);
  if (!data) return null;
  return {
    id: `evt_${row.id}`,
    type: row.topic as WebhookEventType,
    timestamp: row.createdAt.toISOString(),
    orgId: row.orgId,
    data,
  };
}

/** Does an endpoint that asked for `wanted` (empty: everything) receive `type`? */
export function endpointWants(wanted: readonly string[], type: string): boolean {
  return type === "webhook.test" || wanted.length === 0 || wanted.includes(type);
}

/**
 * Delay before retry n (1-based) of an endpoint's head delivery: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h
 * (about 27.6 hours in all), each ±20 % jitter; null after the last: the endpoint is disabled.
 */
export const RETRY_SCHEDULE_MS = [
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  10 * 3_600_000,
];

export function retryDelayMs(failures: number, schedule: readonly number[], random: () => number): number | null {
  const base = schedule[failures - 1];
  if (base === undefined) return null;
  return Math.round(base * (0.8 + 0.4 * random()));
}
