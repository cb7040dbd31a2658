// The OpenAPI 3.1 description of the operator and admin APIs. Request schemas come from the same zod
// guards the routes validate with (z.toJSONSchema), so the document cannot drift from what is enforced.
import { z } from "zod";
import { purchaseInput, quoteInput, reductionInput, renewInput } from "../services/billing-service.js";
import { claimInput, invitationInput, listInvitationsQuery } from "../services/invitations-service.js";
import { createOrgInput } from "../services/orgs-service.js";
import { mappingsInput } from "../services/mappings-service.js";
import { memberPatchInput } from "../services/members-service.js";
import { ownershipTransferInput } from "../services/ownership-service.js";
import { settingsPatchInput } from "../services/settings-service.js";
import { deliveriesQuery, endpointInput, endpointPatch } from "../services/webhooks-service.js";
import { webhookComponents, webhookEventsSection } from "./webhook-events-doc.js";
import {
  adminTokenBody,
  auditQuery,
  jobsQuery,
  listMembersQuery,
  previewQuery,
  samlBody,
  scimTokenBody,
  swapBody,
} from "./admin-router.js";

type Method = "get" | "post" | "put" | "patch" | "delete";

interface Route {
  method: Method;
  path: string;
  summary: string;
  role?: string;
  body?: z.ZodType;
  query?: z.ZodObject;
  /** Optional request headers, e.g. Idempotency-Key. */
  headers?: { name: string; description: string }[];
  ok?: number;
  /** No credentials: the claim link itself is the credential. */
  public?: true;
  /** The success response's media type, when not JSON. */
  produces?: string;
}

const ORG = "/api/v1/orgs/{orgId}";

const ROUTES: Route[] = [
  {
    method: "post",
    path: "/api/v1/orgs",
    summary: "Create an organization (operator token)",
    body: createOrgInput,
    ok: 201,
  },
  {
    method: "get",
    path: `${ORG}/seats`,
    summary: "Seat allocation: purchased, used, available and waiting per type",
    role: "admin",
  },
  {
    method: "get",
    path: `${ORG}/members`,
    summary: "List members, a page at a time",
    role: "admin",
    query: listMembersQuery,
  },
  {
    method: "get",
    path: `${ORG}/members/{memberId}`,
    summary: "One member, with seat type, status, reason and groups",
    role: "admin",
  },
  {
    method: "patch",
    path: `${ORG}/members/{memberId}`,
    summary: "Reassign seat type (or unassigned, auto) and/or role (owner+)",
    role: "admin",
    body: memberPatchInput,
  },
  {
    method: "post",
    path: `${ORG}/members/swap`,
    summary: "Two members exchange seat types in one transaction",
    role: "admin",
    body: swapBody,
  },
  { method: "get", path: `${ORG}/group-mappings`, summary: "Group mappings, by priority", role: "admin" },
  {
    method: "put",
    path: `${ORG}/group-mappings`,
    summary:
      "Replace group mappings; a job re-runs the seat rules for the members they change (200 when it finished at once, else 202 with a Location to the job)",
    role: "admin",
    body: mappingsInput,
  },
  {
    method: "post",
    path: `${ORG}/group-mappings/preview`,
    summary:
      "What replacing the mappings would change, from a read-only snapshot: a summary and a page of who changes; changes and locks nothing",
    role: "admin",
    body: mappingsInput,
    query: previewQuery,
  },
  {
    method: "post",
    path: `${ORG}/sync`,
    summary: "Start a job re-running the seat rules for every member they would change (200 finished, 202 queued)",
    role: "admin",
  },
  {
    method: "get",
    path: `${ORG}/jobs`,
    summary: "Mapping changes and syncs, newest first",
    role: "admin",
    query: jobsQuery,
  },
  {
    method: "get",
    path: `${ORG}/jobs/{jobId}`,
    summary: "One job: state, progress, counts, errors, the first changes",
    role: "admin",
  },
  {
    method: "get",
    path: `${ORG}/audit-events`,
    summary: "The audit log, newest first",
    role: "admin",
    query: auditQuery,
  },
  { method: "get", path: `${ORG}/scim-tokens`, summary: "SCIM tokens (never the secrets)", role: "admin" },
  {
    method: "post",
    path: `${ORG}/scim-tokens`,
    summary: "Issue a SCIM token (shown once)",
    role: "admin",
    body: scimTokenBody,
    ok: 201,
  },
  {
    method: "delete",
    path: `${ORG}/scim-tokens/{tokenId}`,
    summary: "Revoke a SCIM token, at once",
    role: "admin",
    ok: 204,
  },
  { method: "get", path: `${ORG}/admin-tokens`, summary: "Admin API tokens", role: "owner" },
  {
    method: "post",
    path: `${ORG}/admin-tokens`,
    summary: "Issue an admin API token for a member (shown once)",
    role: "owner",
    body: adminTokenBody,
    ok: 201,
  },
  {
    method: "delete",
    path: `${ORG}/admin-tokens/{tokenId}`,
    summary: "Revoke an admin API token",
    role: "owner",
    ok: 204,
  },
  { method: "get", path: `${ORG}/saml`, summary: "SAML connection and the URLs to give the IdP", role: "admin" },
  {
    method: "put",
    path: `${ORG}/saml`,
    summary: "Set the SAML connection from fields or IdP metadata XML",
    role: "admin",
    body: samlBody,
  },
  { method: "get", path: `${ORG}/saml/sp-keys`, summary: "The org's SP key pairs (certificates only)", role: "admin" },
  {
    method: "post",
    path: `${ORG}/saml/sp-keys`,
    summary: "Rotation step 1: a next SP key, published in the metadata beside the active one",
    role: "admin",
    ok: 201,
  },
  {
    method: "post",
    path: `${ORG}/saml/sp-keys/{keyId}/activate`,
    summary: "Rotation step 2: the next key becomes active; the old one stays for decryption as previous",
    role: "admin",
  },
  {
    method: "delete",
    path: `${ORG}/saml/sp-keys/{keyId}`,
    summary: "Delete a next or previous SP key (the active one cannot be deleted)",
    role: "admin",
    ok: 204,
  },
  { method: "get", path: "/api/v1/me", summary: "The signed-in person: email, org, role, seat" },
  // The org itself: settings, ownership, the owner's way back in.
  {
    method: "get",
    path: `${ORG}/settings`,
    summary: "The org's settings: mappedTypeExhausted and manualHoldMinutes",
    role: "admin",
  },
  {
    method: "patch",
    path: `${ORG}/settings`,
    summary: "Change the org's settings (audited)",
    role: "admin",
    body: settingsPatchInput,
  },
  {
    method: "post",
    path: `${ORG}/ownership-transfer`,
    summary: "Hand ownership to an active member: they become primary owner, you an owner",
    role: "primary_owner",
    body: ownershipTransferInput,
  },
  // Webhooks (DOMAIN §9): the events themselves are described under the document's top-level `webhooks`.
  {
    method: "get",
    path: `${ORG}/webhooks`,
    summary: "Webhook endpoints (never their secrets), with enabled, disabledReason and failures",
    role: "admin",
  },
  {
    method: "post",
    path: `${ORG}/webhooks`,
    summary:
      "Register an endpoint (https or http; private and loopback addresses → 422 webhook_url_refused unless WEBHOOK_ALLOW_PRIVATE=true): 201 with its signing secret (whsec_…), shown once. events: the types wanted (omitted or empty: all)",
    role: "admin",
    body: endpointInput,
    ok: 201,
  },
  { method: "get", path: `${ORG}/webhooks/{webhookId}`, summary: "One webhook endpoint", role: "admin" },
  {
    method: "patch",
    path: `${ORG}/webhooks/{webhookId}`,
    summary:
      "Change url, events, description or enabled; enabling a disabled endpoint resets its failures and resumes its queue",
    role: "admin",
    body: endpointPatch,
  },
  {
    method: "delete",
    path: `${ORG}/webhooks/{webhookId}`,
    summary: "Remove an endpoint and its queue",
    role: "admin",
    ok: 204,
  },
  {
    method: "get",
    path: `${ORG}/webhooks/{webhookId}/deliveries`,
    summary:
      "Deliveries, newest first, each with its attempts (at, statusCode, durationMs, responseExcerpt ≤ 1 KB, error); kept 30 days",
    role: "admin",
    query: deliveriesQuery,
  },
  {
    method: "post",
    path: `${ORG}/webhooks/{webhookId}/test`,
    summary: "Queue a webhook.test event for this endpoint: 202 {deliveryId, eventId}",
    role: "admin",
    ok: 202,
  },
  {
    method: "post",
    path: `${ORG}/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver`,
    summary: "Send a delivery's event again (same id, so receivers can drop a repeat), after what is waiting: 202",
    role: "admin",
    ok: 202,
  },
  // Invitations (DOMAIN §5) and the public claim.
  {
    method: "post",
    path: `${ORG}/invitations`,
    summary:
      "Invite by email or externalId to a seat type: a pending seat (409 no_seat_available when full) and a claimUrl, shown once, good for 24 hours; emailed when SMTP_URL is set",
    role: "admin",
    body: invitationInput,
    ok: 201,
  },
  {
    method: "get",
    path: `${ORG}/invitations`,
    summary: "Invitations, newest first, optionally by status (pending, claimed, revoked, expired)",
    role: "admin",
    query: listInvitationsQuery,
  },
  { method: "get", path: `${ORG}/invitations/{invitationId}`, summary: "One invitation", role: "admin" },
  {
    method: "post",
    path: `${ORG}/invitations/{invitationId}/resend`,
    summary: "A new claimUrl (shown once, 24 hours); the old link stops working at once",
    role: "admin",
  },
  {
    method: "delete",
    path: `${ORG}/invitations/{invitationId}`,
    summary:
      "Revoke a pending invitation: the link dies and the seat goes to the longest waiter (allocation unchanged)",
    role: "admin",
  },
  {
    method: "get",
    path: "/claim/{token}",
    summary:
      "The claim page (HTML): the org, the seat and a Claim seat button; changes nothing. 410 for any link that cannot be claimed",
    public: true,
    produces: "text/html",
  },
  {
    method: "post",
    path: "/api/v1/claim",
    summary:
      "Claim a seat with the link's token: 200 {memberId, orgId, seatType} and a session cookie; 410 claim_link_invalid for any bad, used, revoked or expired token",
    body: claimInput,
    public: true,
  },
  {
    method: "post",
    path: `${ORG}/signin-link`,
    summary: "A fresh one-time sign-in link for the primary owner (operator token); earlier unused links die",
    ok: 201,
  },
  {
    method: "post",
    path: `${ORG}/renew`,
    summary:
      "Start the next term (operator token), now or at `at`, as long as the last; scheduled reductions apply, " +
      "never below the seats in use",
    body: renewInput,
  },
  {
    method: "post",
    path: `${ORG}/seats/quote`,
    summary:
      "What adding seats would cost at `at` (default now, within the term): per type from/to, term prices, the " +
      "proration fraction in seconds and the amount rounded once half away from zero (negative: a credit). " +
      "Changes nothing. 409 reduction_during_term for a negative count; 422 outside_term or seat_limit",
    role: "admin",
    body: quoteInput,
  },
  {
    method: "post",
    path: `${ORG}/seats/purchase`,
    summary:
      "Buy seats now: the allocation grows, the prorated charge is recorded and waiting members are promoted, " +
      "in one transaction. 409 reduction_during_term for a negative count; 422 seat_limit, outside_term, " +
      "idempotency_key_reused",
    role: "owner",
    body: purchaseInput,
    headers: [
      {
        name: "Idempotency-Key",
        description:
          "Retries with the same key and body return the first charge (header Idempotent-Replayed: true) and charge nothing",
      },
    ],
  },
  {
    method: "post",
    path: `${ORG}/seats/reductions`,
    summary:
      "Schedule a type's seats to shrink to `to` at the renewal (never below what is in use then); `to` equal to " +
      "what is bought cancels it. 422 seat_limit below the plan's minimum",
    role: "owner",
    body: reductionInput,
  },
  {
    method: "get",
    path: `${ORG}/billing`,
    summary: "Term, currency, the org's prices, charges (newest first) and scheduled reductions",
    role: "owner",
  },
];

const errorSchema = {
  type: "object",
  required: ["error", "message"],
  properties: { error: { type: "string" }, message: { type: "string" } },
  additionalProperties: true,
};

function parameters(route: Route) {
  const params = [...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
    name,
    in: "path",
    required: true,
    schema: { type: "string" },
  }));
  for (const header of route.headers ?? [])
    params.push({
      name: header.name,
      in: "header",
      required: false,
      schema: { type: "string", description: header.description } as { type: string },
    });
  if (route.query) {
    const schema = z.toJSONSchema(route.query, { io: "input", unrepresentable: "any" }) as {
      properties?: Record<string, unknown>;
    };
    for (const [name, s] of Object.entries(schema.properties ?? {}))
      params.push({ name, in: "query", required: false, schema: s as { type: string } });
  }
  return params;
}

export function openApiDocument(publicUrl: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTES) {
    const operation: Record<string, unknown> = {
      summary: route.summary,
      ...(route.role ? { description: `Needs the ${route.role} role or higher.` } : {}),
      parameters: parameters(route),
      ...(route.public ? { security: [] } : {}),
      responses: {
        [String(route.ok ?? 200)]: route.produces
          ? { description: "Success", content: { [route.produces]: { schema: { type: "string" } } } }
          : { description: "Success" },
        ...(route.public
          ? {
              "410": {
                description: "claim_link_invalid: the link is invalid, expired or already used",
                content: { "application/json": { schema: errorSchema } },
              },
            }
          : {}),
        "400": { description: "Invalid request", content: { "application/json": { schema: errorSchema } } },
        "401": {
          description: "Missing or invalid credentials",
          content: { "application/json": { schema: errorSchema } },
        },
        "403": {
          description: "Role too low; the body names the role needed",
          content: { "application/json": { schema: errorSchema } },
        },
        "409": {
          description: "Conflict, e.g. no_seat_available with seatType and purchaseRequired",
          content: { "application/json": { schema: errorSchema } },
        },
        "422": {
          description:
            "Understood but refused, e.g. seat_limit (the plan's minimum or maximum), outside_term, idempotency_key_reused",
          content: { "application/json": { schema: errorSchema } },
        },
        "503": {
          description: "Database unavailable; retry after Retry-After seconds",
          content: { "application/json": { schema: errorSchema } },
        },
      },
    };
    if (route.body)
      operation.requestBody = {
        required: true,
        content: {
          "application/json": { schema: z.toJSONSchema(route.body, { io: "input", unrepresentable: "any" }) },
        },
      };
    paths[route.path] = { ...(paths[route.path] ?? {}), [route.method]: operation };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Roster operator and admin API",
      version: "1",
      description:
        "SCIM 2.0 is served at /scim/v2 (see its /ServiceProviderConfig and /Schemas); SAML at /saml/{orgId}/metadata, /login and /acs.",
    },
    servers: [{ url: publicUrl }],
    webhooks: webhookEventsSection(),
    components: {
      schemas: webhookComponents(),
      securitySchemes: {
        bearer: {
          type: "http",
          scheme: "bearer",
          description:
            "An admin API token (or the operator token for POST /api/v1/orgs); the signed-in session cookie also works.",
        },
      },
    },
    security: [{ bearer: [] }],
    paths,
  };
}
