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
