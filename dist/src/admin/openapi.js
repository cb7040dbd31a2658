// The OpenAPI 3.1 description of the operator and admin APIs. Request schemas come from the same zod
// guards the routes validate with (z.toJSONSchema), so the document cannot drift from what is enforced.
import { z } from "zod";
import { createOrgInput } from "../services/orgs-service.js";
import { mappingsInput } from "../services/mappings-service.js";
import { memberPatchInput } from "../services/members-service.js";
import { ownershipTransferInput } from "../services/ownership-service.js";
import { settingsPatchInput } from "../services/settings-service.js";
import { adminTokenBody, auditQuery, listMembersQuery, samlBody, scimTokenBody, swapBody } from "./admin-router.js";
const ORG = "/api/v1/orgs/{orgId}";
const ROUTES = [
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
        summary: "Replace group mappings and re-run the seat rules",
        role: "admin",
        body: mappingsInput,
    },
    {
        method: "post",
        path: `${ORG}/group-mappings/preview`,
        summary: "What replacing the mappings would change; changes nothing",
        role: "admin",
        body: mappingsInput,
    },
    { method: "post", path: `${ORG}/sync`, summary: "Re-run the seat rules for every member", role: "admin" },
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
    {
        method: "post",
        path: `${ORG}/signin-link`,
        summary: "A fresh one-time sign-in link for the primary owner (operator token); earlier unused links die",
        ok: 201,
    },
];
const errorSchema = {
    type: "object",
    required: ["error", "message"],
    properties: { error: { type: "string" }, message: { type: "string" } },
    additionalProperties: true,
};
function parameters(route) {
    const params = [...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
        name,
        in: "path",
        required: true,
        schema: { type: "string" },
    }));
    if (route.query) {
        const schema = z.toJSONSchema(route.query, { io: "input", unrepresentable: "any" });
        for (const [name, s] of Object.entries(schema.properties ?? {}))
            params.push({ name, in: "query", required: false, schema: s });
    }
    return params;
}
export function openApiDocument(publicUrl) {
    const paths = {};
    for (const route of ROUTES) {
        const operation = {
            summary: route.summary,
            ...(route.role ? { description: `Needs the ${route.role} role or higher.` } : {}),
            parameters: parameters(route),
            responses: {
                [String(route.ok ?? 200)]: { description: "Success" },
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
            description: "SCIM 2.0 is served at /scim/v2 (see its /ServiceProviderConfig and /Schemas); SAML at /saml/{orgId}/metadata, /login and /acs.",
        },
        servers: [{ url: publicUrl }],
        components: {
            securitySchemes: {
                bearer: {
                    type: "http",
                    scheme: "bearer",
                    description: "An admin API token (or the operator token for POST /api/v1/orgs); the signed-in session cookie also works.",
                },
            },
        },
        security: [{ bearer: [] }],
        paths,
    };
}
//# sourceMappingURL=openapi.js.map