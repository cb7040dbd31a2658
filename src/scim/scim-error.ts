// RFC 7644 §3.12 error bodies. One class carries status and scimType; one function builds the body.
export type ScimType =
  | "invalidFilter"
  | "tooMany"
  | "uniqueness"
  | "mutability"
  | "invalidSyntax"
  | "invalidPath"
  | "noTarget"
  | "invalidValue"
  | "invalidVers"
  | "sensitive"
  /** RFC 9865 §2.3: a cursor this server did not issue, or cannot read. */
  | "invalidCursor";

export const SCIM_ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error";

export class ScimError extends Error {
  readonly status: number;
  readonly scimType: ScimType | null;

  constructor(status: number, scimType: ScimType | null, detail: string) {
    super(detail);
    this.name = "ScimError";
    this.status = status;
    this.scimType = scimType;
  }
}

export function scimErrorBody(status: number, scimType: ScimType | null, detail: string) {
  return { schemas: [SCIM_ERROR_SCHEMA], status: String(status), ...(scimType ? { scimType } : {}), detail };
}

/** A SCIM message body (PatchOp, SearchRequest, BulkRequest): an object that lists its message schema. */
export function readMessage(body: unknown, schema: string, name: string): Record<string, unknown> {
  if (!body || typeof body !== "object" || Array.isArray(body))
    throw new ScimError(400, "invalidSyntax", `the request body must be a ${name} message`);
  const b = body as Record<string, unknown>;
  const schemas = Array.isArray(b.schemas) ? b.schemas : [];
  if (!schemas.some((s) => typeof s === "string" && s.toLowerCase() === schema.toLowerCase())) {
    throw new ScimError(400, "invalidSyntax", `a ${name} body must list the schema ${schema}`);
  }
  return b;
}

const CORE_RESOURCE_SCHEMAS = [
  "urn:ietf:params:scim:schemas:core:2.0:User",
  "urn:ietf:params:scim:schemas:core:2.0:Group",
];

/**
 * A User or Group in a request must list its core schema in `schemas` (RFC 7643 §3: REQUIRED; RFC 7644
 * §3.3). Missing or without the resource's URN is `invalidValue`; not an array of strings is
 * `invalidSyntax`. Extension URNs we do not know are let through (Entra lists Microsoft's own on Groups),
 * but not the other resource type's core schema. A body that is not an object is left to the reader.
 */
export function checkResourceSchemas(body: unknown, core: string, name: string): void {
  if (!body || typeof body !== "object" || Array.isArray(body)) return;
  const key = Object.keys(body).find((k) => k.toLowerCase() === "schemas");
  const schemas = key === undefined ? undefined : (body as Record<string, unknown>)[key];
  if (schemas === undefined || schemas === null)
    throw new ScimError(400, "invalidValue", `a ${name} must list the schema ${core} in "schemas"`);
  if (!Array.isArray(schemas) || schemas.some((s) => typeof s !== "string"))
    throw new ScimError(400, "invalidSyntax", `"schemas" must be an array of schema URNs`);
  const lower = (schemas as string[]).map((s) => s.trim().toLowerCase());
  if (!lower.includes(core.toLowerCase()))
    throw new ScimError(400, "invalidValue", `a ${name} must list the schema ${core} in "schemas"`);
  const foreign = CORE_RESOURCE_SCHEMAS.find((s) => s !== core && lower.includes(s.toLowerCase()));
  if (foreign) throw new ScimError(400, "invalidValue", `a ${name} cannot list the schema ${foreign}`);
}
