// pino with redaction as a second line of defence: tokens, cookies and SAML bodies are never logged on purpose.
import { pino } from "pino";
export function createLogger(level) {
    return pino({
        level,
        base: { service: "roster" },
        redact: {
            paths: [
                "req.headers.authorization",
                "req.headers.cookie",
                "token",
                "*.token",
                "scimToken",
                "ownerToken",
                "SAMLResponse",
                "*.SAMLResponse",
            ],
            censor: "[redacted]",
        },
    });
}
//# sourceMappingURL=logger.js.map