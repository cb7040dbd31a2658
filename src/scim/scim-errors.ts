// Everything that goes wrong under /scim/v2 leaves as an RFC 7644 error body with the right status and
// scimType: a database outage is 503 with Retry-After (never 404), an unexpected exception is 500.
import type { NextFunction, Request, Response } from "express";
import { ZodError } from "zod";
import { toDomainError } from "../db/to-domain-error.js";
import { DomainError } from "../domain/errors.js";
import { zodMessage } from "../http/errors.js";
import { ScimError, scimErrorBody } from "./scim-error.js";

export const SCIM_CONTENT_TYPE = "application/scim+json; charset=utf-8";

export function toScimError(error: unknown): ScimError | null {
  if (error instanceof ScimError) return error;
  if (error instanceof ZodError) return new ScimError(400, "invalidValue", zodMessage(error));
  const e = error as { type?: string; status?: number; statusCode?: number; message?: string };
  if (e?.type === "entity.parse.failed")
    return new ScimError(400, "invalidSyntax", "the request body is not valid JSON");
  if (e?.type === "entity.too.large")
    return new ScimError(
      413,
      null,
      "the request body is larger than the server accepts (see ServiceProviderConfig bulk.maxPayloadSize)",
    );
  if (e?.type === "encoding.unsupported" || e?.type === "charset.unsupported")
    return new ScimError(415, null, e.message ?? "unsupported encoding");
  const translated = toDomainError(error);
  if (!(translated instanceof DomainError)) return null;
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
    case "rate_limited":
      return new ScimError(429, null, translated.message);
    default:
      return new ScimError(409, null, translated.message);
  }
}

export function sendScimError(res: Response, error: ScimError): void {
  if (error.status === 503) res.setHeader("Retry-After", "5");
  if (error.status === 401) res.setHeader("WWW-Authenticate", 'Bearer realm="roster-scim"');
  res
    .status(error.status)
    .type(SCIM_CONTENT_TYPE)
    .send(JSON.stringify(scimErrorBody(error.status, error.scimType, error.message)));
}

export function scimErrorHandler(error: unknown, req: Request, res: Response, _next: NextFunction): void {
  const scimError = toScimError(error);
  if (scimError) {
    if (scimError.status === 503) req.log.warn({ err: error }, "database unavailable");
    else if (scimError.status >= 400)
      req.log.info({ status: scimError.status, scimType: scimError.scimType }, "scim request refused");
    sendScimError(res, scimError);
    return;
  }
  req.log.error({ err: error }, "unhandled error in SCIM request");
  sendScimError(res, new ScimError(500, null, "internal error; the request id is in X-Request-Id"));
}
