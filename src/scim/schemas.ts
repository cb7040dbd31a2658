// SCIM schemas, resource types and the service provider config. scimmy supplies the RFC 7643 User, Group
// and enterprise extension definitions (declared once, globally, and never reconfigured per tenant, so
// tenants cannot race on it). The Roster seat extension is described by hand: scimmy only accepts
// urn:ietf:params:scim:schemas:* ids.
import SCIMMY from "scimmy";

export const USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User";
export const GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group";
export const ENTERPRISE_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
export const SEAT_SCHEMA = "urn:roster:params:scim:schemas:extension:seat:2.0:User";
export const LIST_RESPONSE_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
export const PATCH_OP_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
export const SEARCH_REQUEST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
export const BULK_REQUEST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
export const BULK_RESPONSE_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";

SCIMMY.Resources.declare(SCIMMY.Resources.User).extend(SCIMMY.Schemas.EnterpriseUser, false);
SCIMMY.Resources.declare(SCIMMY.Resources.Group);

// RFC 7643 makes canonical values advice ("service providers MAY allow other values"); scimmy refuses
// anything else, even "Work" for emails.type, and every roles.type (its list is empty), which breaks
// Entra's app roles ({"type":"WindowsAzureActiveDirectoryRole"}). Turn them into what they are: advice.
interface MutableAttribute {
  config?: { canonicalValues: unknown };
  subAttributes?: MutableAttribute[];
  /** An extension's schema definition, listed among the resource's attributes. */
  attributes?: MutableAttribute[];
}
function allowNonCanonical(attributes: MutableAttribute[]): void {
  for (const attribute of attributes) {
    if (attribute.config) attribute.config.canonicalValues = false;
    allowNonCanonical([...(attribute.subAttributes ?? []), ...(attribute.attributes ?? [])]);
  }
}
for (const schema of [SCIMMY.Schemas.User, SCIMMY.Schemas.EnterpriseUser, SCIMMY.Schemas.Group]) {
  allowNonCanonical((schema.definition as unknown as { attributes: MutableAttribute[] }).attributes);
}

/** scimmy's User resource schema (core + enterprise): validates and coerces inbound bodies. */
export const UserSchema = SCIMMY.Resources.User.schema;

export const LIMITS = {
  maxResults: 1000,
  defaultCount: 100,
  bulkMaxOperations: 1000,
  bulkMaxPayloadSize: 4 * 1024 * 1024,
  maxFilterLength: 1000,
} as const;

const seatSchemaDocument = {
  schemas: ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
  id: SEAT_SCHEMA,
  name: "Seat",
  description:
    "The member's seat in Roster: which seat type they hold and why (read-only; managed by Roster's seat rules)",
  attributes: [
    ["seatType", 'The seat type held, or "unassigned"'],
    ["seatStatus", "unassigned, pending, claimed or revoked"],
    ["seatReason", "Why: mapping:<group>, highest_available, manual, exhausted, waiting:<type>, promoted, deactivated"],
  ].map(([name, description]) => ({
    name,
    type: "string",
    multiValued: false,
    description,
    required: false,
    caseExact: true,
    mutability: "readOnly",
    returned: "default",
    uniqueness: "none",
  })),
};

export function schemaDocuments(baseUrl: string): Record<string, unknown>[] {
  // describe() writes meta.location as `${basepath}/${id}`: the base must be the /Schemas endpoint (given the
  // SCIM root, the locations were …/scim/v2/urn:…, which answer 404).
  const described = [SCIMMY.Schemas.User, SCIMMY.Schemas.Group, SCIMMY.Schemas.EnterpriseUser].map(
    (s) => s.definition.describe(`${baseUrl}/Schemas`) as Record<string, unknown>,
  );
  return [
    ...described,
    { ...seatSchemaDocument, meta: { resourceType: "Schema", location: `${baseUrl}/Schemas/${SEAT_SCHEMA}` } },
  ];
}

export function resourceTypeDocuments(baseUrl: string): Record<string, unknown>[] {
  const meta = (id: string) => ({ resourceType: "ResourceType", location: `${baseUrl}/ResourceTypes/${id}` });
  return [
    {
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
      id: "User",
      name: "User",
      endpoint: "/Users",
      description: "User Account",
      schema: USER_SCHEMA,
      schemaExtensions: [
        { schema: ENTERPRISE_SCHEMA, required: false },
        { schema: SEAT_SCHEMA, required: false },
      ],
      meta: meta("User"),
    },
    {
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
      id: "Group",
      name: "Group",
      endpoint: "/Groups",
      description: "Group",
      schema: GROUP_SCHEMA,
      schemaExtensions: [],
      meta: meta("Group"),
    },
  ];
}

export function serviceProviderConfig(baseUrl: string): Record<string, unknown> {
  return {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
    documentationUri: "https://github.com/roster-scim/roster#readme",
    patch: { supported: true },
    bulk: { supported: true, maxOperations: LIMITS.bulkMaxOperations, maxPayloadSize: LIMITS.bulkMaxPayloadSize },
    filter: { supported: true, maxResults: LIMITS.maxResults },
    changePassword: { supported: false },
    sort: { supported: true },
    // RFC 9865: cursor paging for /Users and /Groups (keyset by id), alongside startIndex.
    pagination: {
      cursor: true,
      index: true,
      defaultPaginationMethod: "index",
      defaultPageSize: LIMITS.defaultCount,
      maxPageSize: LIMITS.maxResults,
      cursorTimeout: 86400, // seconds; a cursor is the last id of its page and never runs out
    },
    etag: { supported: true },
    authenticationSchemes: [
      {
        type: "oauthbearertoken",
        name: "Bearer token",
        description: "A SCIM token issued by Roster for one organization (admin API: POST scim-tokens)",
        primary: true,
      },
    ],
    meta: { resourceType: "ServiceProviderConfig", location: `${baseUrl}/ServiceProviderConfig` },
  };
}
