export class DomainError extends Error {
    code;
    /** Extra fields that belong in the response body (e.g. seatType, purchaseRequired). */
    details;
    constructor(code, message, details = {}) {
        super(message);
        this.name = "DomainError";
        this.code = code;
        this.details = details;
    }
}
//# sourceMappingURL=errors.js.map