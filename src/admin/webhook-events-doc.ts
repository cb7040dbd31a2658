// The webhook event catalogue in OpenAPI 3.1 (top-level `webhooks` and `components.schemas`): the stable
// payload of each event type that domain/webhook-events.ts produces.
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from "../domain/webhook-events.js";

type Schema = Record<string, unknown>;

const nullable = (type: string): Schema => ({ type: [type, "null"] });
const obj = (properties: Record<string, Schema>, required = Object.keys(properties)): Schema => ({
  type: "object",
  properties,
  required,
});

const memberData = (before: string, after: string) =>
  obj({
    memberId: { type: "string" },
    before: { ...nullable("object"), description: before },
    after: { ...nullable("object"), description: after },
    reason: { ...nullable("string"), description: "why, when Roster knows (e.g. manual, mapping, deactivated)" },
  });

const invitationData = obj({
  invitationId: { type: "string" },
  memberId: { type: "string" },
  status: { type: "string", enum: ["pending", "claimed", "revoked", "expired"] },
  seatType: nullable("string"),
});

const DATA: Record<WebhookEventType, { summary: string; data: Schema }> = {
  "member.created": {
    summary: "A member was created (SCIM, JIT, an invitation, the operator)",
    data: memberData("null", "{source, role?, groups?, active?}"),
  },
  "member.updated": {
    summary: "A member's attributes changed (SCIM)",
    data: memberData("null", "{changed: [attribute names]}"),
  },
  "member.deactivated": {
    summary: "A member was deactivated; their seat is released (a member.seat_changed follows)",
    data: memberData("{active: true}", "{active: false}"),
  },
  "member.deleted": { summary: "A member was deleted", data: memberData("{userName, seatType}", "null") },
  "member.seat_changed": {
    summary: "A member's seat changed: type, status or waiting; the reason says why",
    data: memberData(
      "{seatType, seatStatus, seatReason, waitingFor, role}",
      "{seatType, seatStatus, seatReason, waitingFor, role}",
    ),
  },
  "member.role_changed": { summary: "A member's role changed", data: memberData("{role}", "{role}") },
  "invitation.created": { summary: "An invitation was issued (a pending seat)", data: invitationData },
  "invitation.resent": { summary: "An invitation got a new link", data: invitationData },
  "invitation.claimed": { summary: "An invitation was claimed", data: invitationData },
  "invitation.revoked": { summary: "An invitation was revoked; its seat was freed", data: invitationData },
  "invitation.expired": { summary: "An invitation expired unclaimed; its seat was freed", data: invitationData },
  "seats.purchased": {
    summary: "Seats were bought (owner+)",
    data: obj(
      {
        chargeId: { type: "string" },
        lines: { type: "array", items: { type: "object" } },
        total: { type: "integer" },
        currency: { type: "string" },
      },
      ["chargeId", "total"],
    ),
  },
  "seats.renewed": {
    summary: "The term renewed; scheduled reductions applied",
    data: obj({ previousTerm: { type: "object" } }, ["previousTerm"]),
  },
  "group_mappings.changed": {
    summary: "The group → seat type/role mappings were replaced",
    data: obj({ before: { type: "array" }, after: { type: "array" } }),
  },
  "scim_token.created": {
    summary: "A SCIM token was issued (never the token itself)",
    data: obj({
      tokenId: { type: "string" },
      name: nullable("string"),
      hint: nullable("string"),
      memberId: nullable("string"),
    }),
  },
  "scim_token.revoked": {
    summary: "A SCIM token was revoked",
    data: obj({
      tokenId: { type: "string" },
      name: nullable("string"),
      hint: nullable("string"),
      memberId: nullable("string"),
    }),
  },
  "ownership.transferred": {
    summary: "The primary owner changed",
    data: obj({ from: { type: "string" }, to: { type: "string" } }),
  },
  "webhook.test": {
    summary: "Sent by POST webhooks/{id}/test",
    data: obj({ endpointId: { type: "string" }, message: { type: "string" } }),
  },
};

const schemaName = (type: string) =>
  `WebhookEvent_${type.replace(/[._](\w)/g, (_m, c: string) => c.toUpperCase()).replace(/^\w/, (c) => c.toUpperCase())}`;

export function webhookComponents(): Record<string, Schema> {
  const schemas: Record<string, Schema> = {};
  for (const type of WEBHOOK_EVENT_TYPES)
    schemas[schemaName(type)] = {
      description: DATA[type].summary,
      ...obj({
        id: {
          type: "string",
          description: "evt_…; also the webhook-id header; the same on every retry and redelivery: drop repeats by it",
        },
        type: { const: type },
        timestamp: { type: "string", format: "date-time", description: "when the change was committed" },
        orgId: { type: "string" },
        data: DATA[type].data,
      }),
    };
  return schemas;
}

/** OpenAPI 3.1 `webhooks`: one POST per event type, signed per Standard Webhooks. */
export function webhookEventsSection(): Record<string, unknown> {
  const section: Record<string, unknown> = {};
  for (const type of WEBHOOK_EVENT_TYPES)
    section[type] = {
      post: {
        summary: DATA[type].summary,
        description:
          "Signed per Standard Webhooks: headers webhook-id, webhook-timestamp, webhook-signature (v1, HMAC-SHA256 with the endpoint's whsec_ secret). Any 2xx within 10 s is success; otherwise retried with backoff for about a day, in order per endpoint.",
        requestBody: {
          required: true,
          content: { "application/json": { schema: { $ref: `#/components/schemas/${schemaName(type)}` } } },
        },
        responses: { "200": { description: "Any 2xx: received" } },
      },
    };
  return section;
}
