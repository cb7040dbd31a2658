// Issuing, checking and revoking bearer tokens and one-time sign-in links.
import { randomUUID } from "node:crypto";
import type { Knex } from "knex";
import { DomainError } from "../domain/errors.js";
import { appendAudit } from "../repositories/audit-repository.js";
import {
  type ApiToken,
  consumeToken,
  findUsableToken,
  insertToken,
  isTokenStillUsable,
  listTokens,
  revokeMemberTokens,
  revokeToken,
  type TokenKind,
  touchToken,
} from "../repositories/tokens-repository.js";
import { withTransaction } from "../db/transaction.js";
import { findPrimaryOwner } from "../repositories/members-repository.js";
import { type Actor, loadOrg, type ServiceDeps } from "./context.js";
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
  const record = await insertToken(trx, orgId, {
    id: randomUUID(),
    kind,
    memberId: options.memberId ?? null,
    name: options.name ?? null,
    tokenHash: hashToken(token),
    hint: tokenHint(token),
    expiresAt,
  });
  if (kind !== "sign_in") {
    await appendAudit(trx, orgId, {
      actor: actor.actor,
      action: `token.${kind}.created`,
      memberId: record.memberId,
      after: { id: record.id, name: record.name, hint: record.hint },
      requestId: actor.requestId,
    });
  }
  return { token, record };
}

// When this process last recorded each token's use: last_used_at is kept to the minute, so a busy SCIM
// client costs one write a minute per process instead of one per request.
const lastTouched = new Map<string, number>();
const TOUCH_EVERY_MS = 60_000;

async function recordUse(deps: ServiceDeps, orgId: string, tokenId: string, now: Date): Promise<void> {
  if (now.getTime() - (lastTouched.get(tokenId) ?? 0) < TOUCH_EVERY_MS) return;
  if (lastTouched.size > 10_000) lastTouched.clear();
  lastTouched.set(tokenId, now.getTime());
  await touchToken(deps.db, orgId, tokenId, now);
}

/** Checks a presented token. Every process reads the same table, so a revocation holds everywhere at once. */
export async function authenticateToken(
  deps: ServiceDeps,
  kind: "scim" | "admin",
  token: string,
): Promise<ApiToken | null> {
  if (!token.startsWith(`${PREFIX[kind]}_`) || token.length > 200) return null;
  const now = deps.now();
  const record = await findUsableToken(deps.db, hashToken(token), kind, now);
  if (record) await recordUse(deps, record.orgId, record.id, now);
  return record;
}

/**
 * A SCIM token known to exist, whose revocation this request has or has not checked yet. Which org and id a
 * token digest belongs to never changes, so a process remembers it (SCIM clients send the same token all day);
 * whether the token is still usable is asked of the database on every request, by the request's own
 * statement on the two hot paths (one round trip instead of two), else by confirmToken before any work.
 */
export interface TokenCheck {
  tokenId: string;
  orgId: string;
  digest: string;
  /** The database said "usable" during this request. */
  confirmed: boolean;
}

/** Token digest -> its id and org, per router (so two apps in one test process keep separate memories). */
export class KnownTokens {
  private readonly byDigest = new Map<string, { tokenId: string; orgId: string }>();
  get(digest: string) {
    return this.byDigest.get(digest);
  }
  remember(digest: string, tokenId: string, orgId: string): void {
    if (this.byDigest.size >= 10_000) this.byDigest.clear();
    this.byDigest.set(digest, { tokenId, orgId });
  }
  forget(digest: string): void {
    this.byDigest.delete(digest);
  }
}

/** Who a SCIM token says the caller is; null for a token that is unknown, revoked or not a SCIM token. */
export async function identifyScimToken(
  deps: ServiceDeps,
  known: KnownTokens,
  token: string,
): Promise<TokenCheck | null> {
  if (!token.startsWith(`${PREFIX.scim}_`) || token.length > 200) return null;
  const digest = hashToken(token);
  const now = deps.now();
  const remembered = known.get(digest);
  if (remembered) {
    await recordUse(deps, remembered.orgId, remembered.tokenId, now);
    return { ...remembered, digest, confirmed: false };
  }
  const record = await findUsableToken(deps.db, digest, "scim", now);
  if (!record) return null;
  known.remember(digest, record.id, record.orgId);
  await recordUse(deps, record.orgId, record.id, now);
  return { tokenId: record.id, orgId: record.orgId, digest, confirmed: true };
}

/** Refuses (401) a token revoked since it was remembered; a no-op once this request has confirmed it. */
export async function confirmToken(deps: ServiceDeps, check: TokenCheck | undefined): Promise<void> {
  if (!check || check.confirmed) return;
  if (!(await isTokenStillUsable(deps.db, check.tokenId))) throw tokenRefused();
  check.confirmed = true;
}

/** The error for a token found revoked; the router forgets the digest when it answers it. */
export function tokenRefused(): DomainError {
  return new DomainError("unauthorized", "a valid SCIM bearer token is required");
}

export async function redeemSignInLink(deps: ServiceDeps, token: string): Promise<ApiToken | null> {
  if (!token.startsWith(`${PREFIX.sign_in}_`) || token.length > 200) return null;
  return consumeToken(deps.db, hashToken(token), "sign_in", deps.now());
}

export function listOrgTokens(deps: ServiceDeps, orgId: string, kind: TokenKind): Promise<ApiToken[]> {
  return listTokens(deps.db, orgId, kind);
}

export async function revokeOrgToken(
  deps: ServiceDeps,
  orgId: string,
  kind: TokenKind,
  id: string,
  actor: Actor,
): Promise<ApiToken> {
  return deps.db.transaction(async (trx) => {
    const existing = (await listTokens(trx, orgId, kind)).find((t) => t.id === id);
    if (!existing) throw new DomainError("not_found", "token not found");
    const revoked = await revokeToken(trx, orgId, id, deps.now());
    if (!revoked) return existing; // already revoked: revoking again changes nothing
    await appendAudit(trx, orgId, {
      actor: actor.actor,
      action: `token.${kind}.revoked`,
      memberId: revoked.memberId,
      before: { id, hint: revoked.hint },
      requestId: actor.requestId,
    });
    return revoked;
  });
}

/**
 * A fresh one-time sign-in link for the org's primary owner (the operator's way back in when the first link
 * was used or lost). Earlier unused links of theirs stop working, so only the newest link is live.
 */
export async function reissueOwnerSignInLink(deps: ServiceDeps, orgId: string, actor: Actor): Promise<IssuedToken> {
  return withTransaction(deps.db, async (trx) => {
    await loadOrg(deps, trx, orgId);
    const owner = await findPrimaryOwner(trx, orgId);
    if (!owner) throw new DomainError("not_found", "this organization has no primary owner");
    if (!owner.active) throw new DomainError("conflict", "the primary owner is deactivated");
    const revoked = await revokeMemberTokens(trx, orgId, owner.id, "sign_in", deps.now());
    const issued = await issueToken(deps, trx, orgId, "sign_in", { memberId: owner.id }, actor);
    await appendAudit(trx, orgId, {
      actor: actor.actor,
      action: "signin_link.issued",
      memberId: owner.id,
      after: { expiresAt: issued.record.expiresAt, earlierLinksRevoked: revoked },
      requestId: actor.requestId,
    });
    return issued;
  });
}
