// pino with redaction as a second line of defence: tokens, cookies and SAML bodies are never logged on purpose.
import { pino, type Logger } from "pino";

export type { Logger };

export function createLogger(level: string): Logger {
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
