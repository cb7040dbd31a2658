// SQL for bearer tokens and one-time sign-in links; only SHA-256 digests are stored.
import type { Db } from "../db/database.js";

export type TokenKind = "scim" | "admin" | "sign_in";

export interface ApiToken {
  orgId: string;
  id: string;
  kind: TokenKind;
  memberId: string | null;
  name: string | null;
  hint: string;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

function fromRow(r: Record<string, unknown>): ApiToken {
  return {
    orgId: r.org_id as string,
    id: r.id as string,
    kind: r.kind as TokenKind,
    memberId: (r.member_id as string | null) ?? null,
    name: (r.name as string | null) ?? null,
    hint: r.hint as string,
    createdAt: r.created_at as Date,
    expiresAt: (r.expires_at as Date | null) ?? null,
    lastUsedAt: (r.last_used_at as Date | null) ?? null,
    revokedAt: (r.revoked_at as Date | null) ?? null,
  };
}

export async function insertToken(
  db: Db,
  orgId: string,
  token: {
    id: string;
    kind: TokenKind;
    memberId: string | null;
    name: string | null;
    tokenHash: string;
    hint: string;
    expiresAt: Date | null;
  },
): Promise<ApiToken> {
  const [row] = await db("api_tokens")
    .insert({
      org_id: orgId,
      id: token.id,
      kind: token.kind,
      member_id: token.memberId,
      name: token.name,
      token_hash: token.tokenHash,
      hint: token.hint,
      expires_at: token.expiresAt,
    })
    .returning("*");
  return fromRow(row);
}

/** A usable token: not revoked, not expired. Looked up by digest on every request (unique index). */
export async function findUsableToken(db: Db, tokenHash: string, kind: TokenKind, now: Date): Promise<ApiToken | null> {
  const row = await db("api_tokens")
    .where({ token_hash: tokenHash, kind })
    .whereNull("revoked_at")
    .where((w) => w.whereNull("expires_at").orWhere("expires_at", ">", now))
    .first();
  return row ? fromRow(row) : null;
}

/** Records use at most once a minute per token, so a busy SCIM client does not write on every request. */
export async function touchToken(db: Db, orgId: string, id: string, now: Date): Promise<void> {
  await db("api_tokens")
    .where({ org_id: orgId, id })
    .whereNull("revoked_at")
    .where((w) => w.whereNull("last_used_at").orWhere("last_used_at", "<", new Date(now.getTime() - 60_000)))
    .update({ last_used_at: now });
}

/** Single use: only the first caller gets the row back. */
export async function consumeToken(db: Db, tokenHash: string, kind: TokenKind, now: Date): Promise<ApiToken | null> {
  const [row] = await db("api_tokens")
    .where({ token_hash: tokenHash, kind })
    .whereNull("revoked_at")
    .where((w) => w.whereNull("expires_at").orWhere("expires_at", ">", now))
    .update({ revoked_at: now, last_used_at: now })
    .returning("*");
  return row ? fromRow(row) : null;
}

export async function listTokens(db: Db, orgId: string, kind: TokenKind): Promise<ApiToken[]> {
  const rows = await db("api_tokens").where({ org_id: orgId, kind }).orderBy("created_at");
  return rows.map(fromRow);
}

export async function revokeToken(db: Db, orgId: string, id: string, now: Date): Promise<ApiToken | null> {
  const [row] = await db("api_tokens")
    .where({ org_id: orgId, id })
    .whereNull("revoked_at")
    .update({ revoked_at: now })
    .returning("*");
  return row ? fromRow(row) : null;
}

/**
 * The SQL condition "this token is still usable", for statements that check the caller's token in the same
 * round trip as their work (see services/tokens-service.ts, TokenCheck).
 */
export function tokenStillUsable(tokenId: string): { sql: string; bindings: string[] } {
  return {
    sql: "exists (select 1 from api_tokens where id = ? and revoked_at is null and (expires_at is null or expires_at > now()))",
    bindings: [tokenId],
  };
}

export async function isTokenStillUsable(db: Db, tokenId: string): Promise<boolean> {
  const guard = tokenStillUsable(tokenId);
  const { rows } = (await db.raw(`select ${guard.sql} as ok`, guard.bindings)) as { rows: { ok: boolean }[] };
  return rows[0]?.ok === true;
}

/** Revokes a member's unused tokens of one kind (e.g. earlier sign-in links when a fresh one is issued). */
export async function revokeMemberTokens(
  db: Db,
  orgId: string,
  memberId: string,
  kind: TokenKind,
  now: Date,
): Promise<number> {
  return db("api_tokens").where({ org_id: orgId, member_id: memberId, kind }).whereNull("revoked_at").update({
    revoked_at: now,
  });
}
