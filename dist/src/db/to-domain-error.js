// PostgreSQL errors translated once, by SQLSTATE and constraint name, into domain errors.
import { DomainError } from "../domain/errors.js";
const CONSTRAINT_MESSAGES = {
    members__org_id_user_name__unique: "a member with this userName already exists",
    group_mappings__org_id_group_name__unique: "each group may be mapped only once",
    members__org_id_primary_owner__unique: "an organization has exactly one primary owner",
};
const CONNECTION_CODES = new Set([
    "ECONNREFUSED",
    "ECONNRESET",
    "ETIMEDOUT",
    "EPIPE",
    "ENOTFOUND",
    "57P01",
    "57P02",
    "57P03",
    "53300",
    "08000",
    "08001",
    "08003",
    "08006",
]);
export function isDatabaseUnavailable(error) {
    const e = error;
    if (e?.code && CONNECTION_CODES.has(e.code))
        return true;
    if (e?.name === "KnexTimeoutError")
        return true;
    return /Connection terminated|connect ECONNREFUSED|Client has encountered a connection error|timeout exceeded when trying to connect/i.test(e?.message ?? "");
}
export function toDomainError(error) {
    if (error instanceof DomainError)
        return error;
    const e = error;
    if (isDatabaseUnavailable(error))
        return new DomainError("unavailable", "the database is unavailable; try again shortly");
    if (e?.code === "23505") {
        return new DomainError("uniqueness", CONSTRAINT_MESSAGES[e.constraint ?? ""] ?? "that value is already taken", {
            constraint: e.constraint,
        });
    }
    if (e?.code === "23503" && e.constraint === "group_members__group__fk") {
        // A member added to a group that a concurrent request deleted.
        return new DomainError("not_found", "the group no longer exists");
    }
    if (e?.code === "23514" && e.constraint === "seat_allocations__capacity__check") {
        return new DomainError("no_seat_available", "no seat of that type is available");
    }
    return error;
}
//# sourceMappingURL=to-domain-error.js.map