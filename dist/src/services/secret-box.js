// Secrets Roster must read back (SP private keys, webhook signing secrets) are stored encrypted with
// AES-256-GCM. The key comes from ROSTER_SECRET_KEY, so a database dump or backup alone reveals nothing;
// without it, a key made on first start is kept in the database (every process agrees, but the dump
// then carries the key: docs/operations.md says to set ROSTER_SECRET_KEY in production).
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
export function createSecretBox(key) {
    if (key.length !== 32)
        throw new Error("the secret key must be 32 bytes");
    return {
        seal(plain) {
            const iv = randomBytes(12);
            const cipher = createCipheriv("aes-256-gcm", key, iv);
            const data = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
            return ["v1", iv, cipher.getAuthTag(), data]
                .map((p) => (typeof p === "string" ? p : p.toString("base64url")))
                .join(".");
        },
        open(sealed) {
            const [version, iv, tag, data] = sealed.split(".");
            if (version !== "v1" || !iv || !tag || data === undefined)
                throw new Error("not a sealed secret");
            const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
            decipher.setAuthTag(Buffer.from(tag, "base64url"));
            return Buffer.concat([decipher.update(Buffer.from(data, "base64url")), decipher.final()]).toString("utf8");
        },
    };
}
/** Reads ROSTER_SECRET_KEY's value: 32 bytes as base64 or base64url (e.g. `openssl rand -base64 32`). */
export function parseSecretKey(text) {
    const key = Buffer.from(text.trim(), "base64");
    if (key.length !== 32)
        throw new Error("ROSTER_SECRET_KEY must be 32 random bytes in base64 (openssl rand -base64 32)");
    return key;
}
//# sourceMappingURL=secret-box.js.map