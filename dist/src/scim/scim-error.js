export const SCIM_ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error";
export class ScimError extends Error {
    status;
    scimType;
    constructor(status, scimType, detail) {
        super(detail);
        this.name = "ScimError";
        this.status = status;
        this.scimType = scimType;
    }
}
export function scimErrorBody(status, scimType, detail) {
    return { schemas: [SCIM_ERROR_SCHEMA], status: String(status), ...(scimType ? { scimType } : {}), detail };
}
/** A SCIM message body (PatchOp, SearchRequest, BulkRequest): an object that lists its message schema. */
export function readMessage(body, schema, name) {
    if (!body || typeof body !== "object" || Array.isArray(body))
        throw new ScimError(400, "invalidSyntax", `the request body must be a ${name} message`);
    const b = body;
    const schemas = Array.isArray(b.schemas) ? b.schemas : [];
    if (!schemas.some((s) => typeof s === "string" && s.toLowerCase() === schema.toLowerCase())) {
        throw new ScimError(400, "invalidSyntax", `a ${name} body must list the schema ${schema}`);
    }
    return b;
}
//# sourceMappingURL=scim-error.js.map