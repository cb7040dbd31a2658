// Bearer secrets: 256 random bits, shown once, stored as a SHA-256 digest (a fast hash is enough for
// random tokens; there is nothing to brute-force).
import { createHash, randomBytes } from "node:crypto";
export function generateToken(prefix) {
    return `${prefix}_${randomBytes(32).toString("base64url")}`;
}
export function hashToken(token) {
    return createHash("sha256").update(token, "utf8").digest("hex");
}
export function tokenHint(token) {
    return `…${token.slice(-4)}`;
}
//# sourceMappingURL=secrets.js.map