// The signed-in browser session. The cookie holds org, member, a session id and expiry, signed with
// HMAC-SHA256 under a key every process reads from the database (server_settings); the session itself lives
// in the `sessions` table, so sign-out and deactivation end it on the server (an old cookie is refused).
import { createHmac, timingSafeEqual } from "node:crypto";
import type { Request, Response } from "express";
import type { SessionStore } from "../services/sessions-service.js";

export const SESSION_COOKIE = "roster_session";
const SESSION_TTL_MS = 8 * 60 * 60 * 1000;

export interface Session {
  orgId: string;
  memberId: string;
  /** The server-side session row. */
  sid: string;
  expiresAt: number;
}

/** Signs and reads the cookie; knows nothing of the database. */
export interface SessionCodec {
  sign(value: string): string;
  encode(res: Response, session: Session, secure: boolean): void;
  decode(req: Request, now: Date): Session | null;
  clear(res: Response): void;
}

/** What the adapters use: start a session, read the live one, end it. */
export interface SessionManager {
  start(res: Response, who: { orgId: string; memberId: string }, secure: boolean, now: Date): Promise<Session>;
  /** The session of this request when its cookie is genuine and the server still has it live. */
  current(req: Request, now: Date): Promise<Session | null>;
  end(req: Request, res: Response, now: Date): Promise<void>;
  /** A CSRF token bound to the session (HMAC of its id): valid exactly as long as the session. */
  csrfToken(session: Session): string;
  checkCsrf(session: Session, token: unknown): boolean;
}

function hmac(key: string, payload: string): string {
  return createHmac("sha256", key).update(payload).digest("base64url");
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function readCookie(req: Request, name: string): string | null {
  const header = req.headers.cookie;
  if (!header) return null;
  for (const part of header.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k !== name) continue;
    // A malformed %-escape must read as "no session" (401), not throw a URIError (500).
    try {
      return decodeURIComponent(v.join("="));
    } catch {
      return null;
    }
  }
  return null;
}

export function createSessionCodec(key: string): SessionCodec {
  return {
    sign: (value) => hmac(key, value),
    encode(res, session, secure) {
      const payload = Buffer.from(JSON.stringify(session)).toString("base64url");
      res.cookie(SESSION_COOKIE, `${payload}.${hmac(key, payload)}`, {
        httpOnly: true,
        sameSite: "lax",
        secure,
        path: "/",
        maxAge: SESSION_TTL_MS,
      });
    },
    decode(req, now) {
      const value = readCookie(req, SESSION_COOKIE);
      if (!value) return null;
      const [payload, signature] = value.split(".");
      if (!payload || !signature || !equal(hmac(key, payload), signature)) return null;
      try {
        const s = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Session;
        const wellFormed =
          typeof s.orgId === "string" &&
          typeof s.memberId === "string" &&
          typeof s.sid === "string" &&
          typeof s.expiresAt === "number";
        return wellFormed && s.expiresAt > now.getTime() ? s : null;
      } catch {
        return null;
      }
    },
    clear(res) {
      res.clearCookie(SESSION_COOKIE, { path: "/" });
    },
  };
}

export function createSessionManager(codec: SessionCodec, store: SessionStore): SessionManager {
  const csrfToken = (session: Session) => codec.sign(`csrf:${session.orgId}:${session.sid}`);
  return {
    async start(res, who, secure, now) {
      const expiresAt = now.getTime() + SESSION_TTL_MS;
      const sid = await store.create(who.orgId, who.memberId, new Date(expiresAt));
      const session = { ...who, sid, expiresAt };
      codec.encode(res, session, secure);
      return session;
    },
    async current(req, now) {
      const session = codec.decode(req, now);
      if (!session) return null;
      return (await store.isLive(session.orgId, session.sid, session.memberId)) ? session : null;
    },
    async end(req, res, now) {
      const session = codec.decode(req, now);
      if (session) await store.end(session.orgId, session.sid);
      codec.clear(res);
    },
    csrfToken,
    checkCsrf(session, token) {
      return typeof token === "string" && token.length > 0 && token.length < 200 && equal(csrfToken(session), token);
    },
  };
}
