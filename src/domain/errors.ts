// One error type for every rule the domain refuses; each protocol adapter maps `code` to its own status/body.
export type DomainErrorCode =
  | "not_found"
  | "invalid_request"
  | "conflict"
  | "uniqueness"
  | "no_seat_available"
  | "seat_from_mapping"
  | "forbidden"
  | "unauthorized"
  | "primary_owner_protected"
  | "precondition_failed"
  | "unavailable"
  | "rate_limited";

export class DomainError extends Error {
  readonly code: DomainErrorCode;
  /** Extra fields that belong in the response body (e.g. seatType, purchaseRequired). */
  readonly details: Record<string, unknown>;

  constructor(code: DomainErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = "DomainError";
    this.code = code;
    this.details = details;
  }
}
