import { ZodError } from "zod";
import { toDomainError } from "../db/to-domain-error.js";
import { DomainError } from "../domain/errors.js";
import { zodMessage } from "../http/errors.js";
import { ScimError, scimErrorBody } from "./scim-error.js";
export const SCIM_CONTENT_TYPE = "application/scim+json; charset=utf-8";
export function toScimError(error) {
    if (error instanceof ScimError)
        return error;
    if (error instanceof ZodError)
        return new ScimError(400, "invalidValue", zodMessage(error));
    const e = error;
    if (e?.type === "entity.parse.failed")
        return new ScimError(400, "invalidSyntax", "the request body is not valid JSON");
    if (e?.type === "entity.too.large")
        return new ScimError(413, null, "the request body is larger than the server accepts (see ServiceProviderConfig bulk.maxPayloadSize)");
    if (e?.type === "encoding.unsupported" || e?.type === "charset.unsupported")
        return new ScimError(415, null, e.message ?? "unsupported encoding");
    const translated = toDomainError(error);
    if (!(translated instanceof DomainError))
        return null;
    switch (translated.code) {
        case "not_found":
            return new ScimError(404, null, translated.message);
        case "uniqueness":
            return new ScimError(409, "uniqueness", translated.message);
        case "invalid_request":
            return new ScimError(400, "invalidValue", translated.message);
        case "precondition_failed":
            return new ScimError(412, null, translated.message);
        case "unauthorized":
            return new ScimError(401, null, translated.message);
        case "forbidden":
        case "primary_owner_protected":
            return new ScimError(403, null, translated.message);
        case "unavailable":
            return new ScimError(503, null, translated.message);
        default:
            return new ScimError(409, null, translated.message);
    }
}
export function sendScimError(res, error) {
    if (error.status === 503)
        res.setHeader("Retry-After", "5");
    if (error.status === 401)
        res.setHeader("WWW-Authenticate", 'Bearer realm="roster-scim"');
    res
        .status(error.status)
        .type(SCIM_CONTENT_TYPE)
        .send(JSON.stringify(scimErrorBody(error.status, error.scimType, error.message)));
}
export function scimErrorHandler(error, req, res, _next) {
    const scimError = toScimError(error);
    if (scimError) {
        if (scimError.status === 503)
            req.log.warn({ err: error }, "database unavailable");
        else if (scimError.status >= 400)
            req.log.info({ status: scimError.status, scimType: scimError.scimType }, "scim request refused");
        sendScimError(res, scimError);
        return;
    }
    req.log.error({ err: error }, "unhandled error in SCIM request");
    sendScimError(res, new ScimError(500, null, "internal error; the request id is in X-Request-Id"));
}
//# sourceMappingURL=scim-errors.js.map