// Issuing, checking and revoking bearer tokens and one-time sign-in links.
import { randomUUID } from "node:crypto";
import type { Knex } from "knex";
import { DomainError } from "../domain/errors.js";
import { appendAudit } from "../repositories/audit-repository.js";
import { type ApiToken, consumeToken, findUsableToken, insertToken, listTokens, revokeToken, type TokenKind, touchToken } from "../repositories/tokens-repository.js";
import type { Actor, ServiceDeps } from "./context.js";
import { generateToken, hashToken, tokenHint } from "./secrets.js";

const PREFIX: Record<TokenKind, string> = { scim: "rst_scim", admin: "rst_admin", sign_in: "rst_signin" };
const SIGN_IN_LINK_TTL_MS = 24 * 60 * 60 * 1000;

export interface IssuedToken {
  token: string;
  record: ApiToken;
}

export async function issueToken(
  deps: ServiceDeps,
  trx: Knex | Knex.Transaction,
  orgId: string,
  kind: TokenKind,
  options: { memberId?: string | null; name?: string | null },
  actor: Actor,
): Promise<IssuedToken> {
  const token = generateToken(PREFIX[kind]);
  const expiresAt = kind === "sign_in" ? new Date(deps.now().getTime() + SIGN_IN_LINK_TTL_MS) : null;
  const record = await insertToken(trx, orgId, { id: randomUUID(), kind, memberId: options.memberId ?? null, name: options.name ?? null, tokenHash: hashToken(token), hint: tokenHint(token), expiresAt });
  if (kind !== "sign_in") {
    await appendAudit(trx, orgId, { actor: actor.actor, action: `token.${kind}.created`, memberId: record.memberId, after: { id: record.id, name: record.name, hint: record.hint }, requestId: actor.requestId });
  }
  return { token, record };
}

// When this process last recorded each token's use: last_used_at is kept to the minute, so a busy SCIM
// client costs one write a minute per process instead of one per request.
const lastTouched = new Map<string, number>();
const TOUCH_EVERY_MS = 60_000;

/** Checks a presented token. Every process reads the same table, so a revocation holds everywhere at once. */
export async function authenticateToken(deps: ServiceDeps, kind: "scim" | "admin", token: string): Promise<ApiToken | null> {
  if (!token.startsWith(`${PREFIX[kind]}_`) || token.length > 200) return null;
  const now = deps.now();
  const record = await findUsableToken(deps.db, hashToken(token), kind, now);
  if (record && now.getTime() - (lastTouched.get(record.id) ?? 0) >= TOUCH_EVERY_MS) {
    if (lastTouched.size > 10_000) lastTouched.clear();
    lastTouched.set(record.id, now.getTime());
    await touchToken(deps.db, record.orgId, record.id, now);
  }
  return record;
}

export async function redeemSignInLink(deps: ServiceDeps, token: string): Promise<ApiToken | null> {
  if (!token.startsWith(`${PREFIX.sign_in}_`) || token.length > 200) return null;
  return consumeToken(deps.db, hashToken(token), "sign_in", deps.now());
}

export function listOrgTokens(deps: ServiceDeps, orgId: string, kind: TokenKind): Promise<ApiToken[]> {
  return listTokens(deps.db, orgId, kind);
}

export async function revokeOrgToken(deps: ServiceDeps, orgId: string, kind: TokenKind, id: string, actor: Actor): Promise<ApiToken> {
  return deps.db.transaction(async (trx) => {
    const existing = (await listTokens(trx, orgId, kind)).find((t) => t.id === id);
    if (!existing) throw new DomainError("not_found", "token not found");
    const revoked = await revokeToken(trx, orgId, id, deps.now());
    if (!revoked) return existing; // already revoked: revoking again changes nothing
    await appendAudit(trx, orgId, { actor: actor.actor, action: `token.${kind}.revoked`, memberId: revoked.memberId, before: { id, hint: revoked.hint }, requestId: actor.requestId });
    return revoked;
  });
}
