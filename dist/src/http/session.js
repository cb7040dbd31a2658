// The signed-in session: a cookie holding org, member and expiry, signed with HMAC-SHA256 under a key that
// every process reads from the database (server_settings), so any process can check any session.
import { createHmac, timingSafeEqual } from "node:crypto";
export const SESSION_COOKIE = "roster_session";
const SESSION_TTL_MS = 8 * 60 * 60 * 1000;
function sign(key, payload) {
    return createHmac("sha256", key).update(payload).digest("base64url");
}
function readCookie(req, name) {
    const header = req.headers.cookie;
    if (!header)
        return null;
    for (const part of header.split(";")) {
        const [k, ...v] = part.trim().split("=");
        if (k !== name)
            continue;
        // A malformed %-escape must read as "no session" (401), not throw a URIError (500).
        try {
            return decodeURIComponent(v.join("="));
        }
        catch {
            return null;
        }
    }
    return null;
}
export function createSessionCodec(key) {
    return {
        issue(res, session, secure, now) {
            const payload = Buffer.from(JSON.stringify({ ...session, expiresAt: now.getTime() + SESSION_TTL_MS })).toString("base64url");
            res.cookie(SESSION_COOKIE, `${payload}.${sign(key, payload)}`, {
                httpOnly: true,
                sameSite: "lax",
                secure,
                path: "/",
                maxAge: SESSION_TTL_MS,
            });
        },
        read(req, now) {
            const value = readCookie(req, SESSION_COOKIE);
            if (!value)
                return null;
            const [payload, signature] = value.split(".");
            if (!payload || !signature)
                return null;
            const expected = Buffer.from(sign(key, payload));
            const given = Buffer.from(signature);
            if (expected.length !== given.length || !timingSafeEqual(expected, given))
                return null;
            try {
                const session = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
                return typeof session.expiresAt === "number" && session.expiresAt > now.getTime() ? session : null;
            }
            catch {
                return null;
            }
        },
        clear(res) {
            res.clearCookie(SESSION_COOKIE, { path: "/" });
        },
    };
}
//# sourceMappingURL=session.js.map