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
  | "rate_limited"
  | "reduction_during_term"
  | "seat_limit"
  | "outside_term"
  | "idempotency_key_reused"
  /** A claim link that is unknown, used, revoked, replaced or expired: one answer for all (DOMAIN §5). */
  | "claim_link_invalid";

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
