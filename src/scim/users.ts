// SCIM User <-> Roster member. Inbound bodies are normalized (Entra's quirks), then validated and coerced
// against scimmy's RFC 7643 User schema (unknown attributes are dropped, wrong types refused) by
// user-coercion.ts, which gives scimmy's results at a fraction of the cost. Outbound, the
// stored resource is merged with the columns Roster owns (id, userName, active, meta, the seat extension).
import type { ScimMemberView } from "../repositories/members-repository.js";
import type { UserFields } from "../services/scim-users-service.js";
import { normalizeBooleans } from "./normalize.js";
import { checkResourceSchemas, ScimError } from "./scim-error.js";
import { coerceUser, NEEDS_SCIMMY } from "./user-coercion.js";
import { ENTERPRISE_SCHEMA, SEAT_SCHEMA, USER_SCHEMA, UserSchema } from "./schemas.js";

const OWNED_BY_ROSTER = new Set(["id", "meta", "schemas", SEAT_SCHEMA]);

/** Maps a scimmy error (TypeError/SCIMError) to a SCIM 400 with the right scimType. */
export function toScimValidationError(error: unknown): ScimError {
  if (error instanceof ScimError) return error;
  const e = error as { status?: number; scimType?: string; message?: string };
  if (e?.status && e.scimType) return new ScimError(e.status, e.scimType as never, e.message ?? "invalid request");
  return new ScimError(400, "invalidValue", e?.message ?? "invalid request");
}

/** scimmy's own coercion, for the shapes user-coercion.ts leaves to it. */
function coerceWithScimmy(input: Record<string, unknown>): Record<string, unknown> {
  const schemas = [
    USER_SCHEMA,
    ...(Object.keys(input).some((k) => k.toLowerCase() === ENTERPRISE_SCHEMA.toLowerCase()) ? [ENTERPRISE_SCHEMA] : []),
  ];
  return JSON.parse(JSON.stringify(new UserSchema({ ...input, schemas }, "in"))) as Record<string, unknown>;
}

/** The service's UserFields: indexed columns plus the whole coerced resource. */
export function fromScimUser(body: unknown): UserFields {
  if (!body || typeof body !== "object" || Array.isArray(body))
    throw new ScimError(400, "invalidSyntax", "the request body must be a SCIM User object");
  const normalized = normalizeBooleans(body) as Record<string, unknown>;
  // Read-only and Roster-owned attributes in a request are ignored, as RFC 7644 §3.5.1 allows.
  const input = Object.fromEntries(Object.entries(normalized).filter(([k]) => !OWNED_BY_ROSTER.has(k)));
  let resource: Record<string, unknown>;
  try {
    const coerced = coerceUser(input);
    resource = coerced === NEEDS_SCIMMY ? coerceWithScimmy(input) : coerced;
  } catch (error) {
    throw toScimValidationError(error);
  }
  const userName = typeof resource.userName === "string" ? resource.userName.trim() : "";
  if (!userName) throw new ScimError(400, "invalidValue", "userName is required");
  if (userName.length > 256) throw new ScimError(400, "invalidValue", "userName is longer than 256 characters");
  const emailsRaw = Array.isArray(resource.emails) ? (resource.emails as { value?: unknown; primary?: unknown }[]) : [];
  const emails = emailsRaw.flatMap((e) => (typeof e.value === "string" && e.value ? [e.value] : []));
  const primary = emailsRaw.find((e) => e.primary === true && typeof e.value === "string")?.value as string | undefined;
  const name = (resource.name ?? {}) as { givenName?: string; familyName?: string };
  // Passwords are never stored: Roster signs people in through their IdP.
  const attributes = Object.fromEntries(
    Object.entries(resource).filter(
      ([k]) => !["id", "meta", "schemas", "userName", "active", "externalId", "password"].includes(k),
    ),
  );
  return {
    userName,
    externalId: typeof input.externalId === "string" && input.externalId ? input.externalId : null,
    displayName: typeof resource.displayName === "string" ? resource.displayName : null,
    givenName: name.givenName ?? null,
    familyName: name.familyName ?? null,
    email: primary ?? emails[0] ?? null,
    emails: [...new Set(emails.map((e) => e.toLowerCase()))],
    active: resource.active === undefined || resource.active === null ? null : resource.active === true,
    attributes,
  };
}

/** A User from a request (POST, PUT, Bulk): its `schemas` checked, then read like any other. */
export function readScimUser(body: unknown): UserFields {
  checkResourceSchemas(body, USER_SCHEMA, "User");
  return fromScimUser(body);
}

export function etagOf(version: number): string {
  return `W/"${version}"`;
}

export function toScimUser(member: ScimMemberView, baseUrl: string): Record<string, unknown> {
  const attributes = member.attributes ?? {};
  const hasEnterprise = Object.keys(attributes).includes(ENTERPRISE_SCHEMA);
  return {
    schemas: [USER_SCHEMA, ...(hasEnterprise ? [ENTERPRISE_SCHEMA] : []), SEAT_SCHEMA],
    id: member.id,
    ...(member.externalId ? { externalId: member.externalId } : {}),
    userName: member.userName,
    ...attributes,
    active: member.active,
    [SEAT_SCHEMA]: {
      seatType: member.seatType ?? "unassigned",
      seatStatus: member.seatStatus,
      seatReason: member.seatReason,
    },
    meta: {
      resourceType: "User",
      created: member.createdAt.toISOString(),
      lastModified: member.updatedAt.toISOString(),
      location: `${baseUrl}/Users/${member.id}`,
      version: etagOf(member.version),
    },
  };
}
