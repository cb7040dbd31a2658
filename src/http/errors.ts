// The admin/operator JSON error format {"error", "message", ...details} and the one table that maps
// domain error codes to HTTP statuses. Unknown errors become a generic 500, logged with their cause.
import type { NextFunction, Request, Response } from "express";
import { ZodError } from "zod";
import { toDomainError } from "../db/to-domain-error.js";
import { DomainError, type DomainErrorCode } from "../domain/errors.js";
import { type AuthFailureLimiter, tooManyFailuresMessage } from "./auth-failures.js";

export const HTTP_STATUS: Record<DomainErrorCode, number> = {
  not_found: 404,
  invalid_request: 400,
  conflict: 409,
  uniqueness: 409,
  no_seat_available: 409,
  seat_from_mapping: 409,
  forbidden: 403,
  unauthorized: 401,
  primary_owner_protected: 403,
  precondition_failed: 412,
  unavailable: 503,
  rate_limited: 429,
  reduction_during_term: 409,
  seat_limit: 422,
  outside_term: 422,
  idempotency_key_reused: 422,
  claim_link_invalid: 410,
};

export function zodMessage(error: ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message)).join("; ");
}

/** Turns anything thrown into a DomainError, or null for a genuine bug. */
export function classify(error: unknown): DomainError | null {
  if (error instanceof ZodError) return new DomainError("invalid_request", zodMessage(error));
  const e = error as { type?: string; status?: number; message?: string };
  if (e?.type === "entity.parse.failed")
    return new DomainError("invalid_request", "the request body is not valid JSON");
  if (e?.type === "entity.too.large") return new DomainError("invalid_request", "the request body is too large");
  const translated = toDomainError(error);
  return translated instanceof DomainError ? translated : null;
}

export function sendJsonError(res: Response, error: DomainError): void {
  if (error.code === "unavailable") res.setHeader("Retry-After", "5");
  if (error.code === "rate_limited") res.setHeader("Retry-After", String(error.details.retryAfterSeconds));
  res.status(HTTP_STATUS[error.code]).json({ error: error.code, message: error.message, ...error.details });
}

/** The JSON APIs' error handler; failed authentication counts against the caller's address. */
export function createJsonErrorHandler(limiter: AuthFailureLimiter) {
  return (error: unknown, req: Request, res: Response, next: NextFunction): void => {
    const known = classify(error);
    if (known?.code === "unauthorized") {
      const wait = limiter.fail(req.ip ?? "unknown");
      if (wait !== null) {
        req.log.warn({ ip: req.ip }, "failed authentication limit reached");
        sendJsonError(res, new DomainError("rate_limited", tooManyFailuresMessage(wait), { retryAfterSeconds: wait }));
        return;
      }
    }
    jsonErrorHandler(error, req, res, next);
  };
}

export function jsonErrorHandler(error: unknown, req: Request, res: Response, _next: NextFunction): void {
  const known = classify(error);
  if (known) {
    if (known.code === "unavailable") req.log.warn({ err: error }, "database unavailable");
    sendJsonError(res, known);
    return;
  }
  req.log.error({ err: error }, "unhandled error");
  res.status(500).json({ error: "internal_error", message: "something went wrong; the request id is in X-Request-Id" });
}

export function notFound(_req: Request, res: Response): void {
  res.status(404).json({ error: "not_found", message: "no such endpoint" });
}
