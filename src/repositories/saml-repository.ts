// SQL for SAML connections and the stores shared by every process: pending AuthnRequest ids and used
// assertion ids.
import type { Db } from "../db/database.js";

export interface SamlConnection {
  orgId: string;
  idpEntityId: string;
  ssoUrl: string;
  certificates: string[];
  attributeProfile: string;
  allowIdpInitiated: boolean;
  /** The NameID format asked for in AuthnRequests and announced in SP metadata (a URN). */
  nameIdFormat: string;
  /** Sign AuthnRequests with the org's active SP key (IdPs that set WantAuthnRequestsSigned). */
  signAuthnRequests: boolean;
  /** Refuse assertions that arrive unencrypted. */
  requireEncryptedAssertions: boolean;
  updatedAt: Date;
}

export type SpKeyState = "active" | "next" | "previous";

export interface SpKey {
  orgId: string;
  id: string;
  state: SpKeyState;
  certificate: string;
  /** Sealed by the secret box; only the SAML service opens it. */
  privateKeySealed: string;
  notAfter: Date;
  createdAt: Date;
}

function fromRow(r: Record<string, unknown>): SamlConnection {
  return {
    orgId: r.org_id as string,
    idpEntityId: r.idp_entity_id as string,
    ssoUrl: r.sso_url as string,
    certificates: r.certificates as string[],
    attributeProfile: r.attribute_profile as string,
    allowIdpInitiated: r.allow_idp_initiated as boolean,
    nameIdFormat: r.name_id_format as string,
    signAuthnRequests: r.sign_authn_requests as boolean,
    requireEncryptedAssertions: r.require_encrypted_assertions as boolean,
    updatedAt: r.updated_at as Date,
  };
}

export async function findSamlConnection(db: Db, orgId: string): Promise<SamlConnection | null> {
  const row = await db("saml_connections").where({ org_id: orgId }).first();
  return row ? fromRow(row) : null;
}

export async function upsertSamlConnection(
  db: Db,
  orgId: string,
  c: Omit<SamlConnection, "orgId" | "updatedAt">,
): Promise<SamlConnection> {
  const values = {
    org_id: orgId,
    idp_entity_id: c.idpEntityId,
    sso_url: c.ssoUrl,
    certificates: c.certificates,
    attribute_profile: c.attributeProfile,
    allow_idp_initiated: c.allowIdpInitiated,
    name_id_format: c.nameIdFormat,
    sign_authn_requests: c.signAuthnRequests,
    require_encrypted_assertions: c.requireEncryptedAssertions,
    updated_at: db.fn.now(),
  };
  const [row] = await db("saml_connections").insert(values).onConflict("org_id").merge().returning("*");
  return fromRow(row);
}

export async function saveRequestId(db: Db, orgId: string, requestId: string): Promise<void> {
  await db("saml_requests")
    .insert({ org_id: orgId, request_id: requestId })
    .onConflict(["org_id", "request_id"])
    .ignore();
}

/** The request's creation time if it is still pending and younger than maxAgeMs. */
export async function findRequestId(
  db: Db,
  orgId: string,
  requestId: string,
  maxAgeMs: number,
  now: Date,
): Promise<Date | null> {
  const row = await db("saml_requests")
    .where({ org_id: orgId, request_id: requestId })
    .where("created_at", ">", new Date(now.getTime() - maxAgeMs))
    .first();
  return row ? (row.created_at as Date) : null;
}

export async function removeRequestId(db: Db, orgId: string, requestId: string): Promise<boolean> {
  return (await db("saml_requests").where({ org_id: orgId, request_id: requestId }).delete()) > 0;
}

/**
 * Records an assertion as used. False when it was used before: the primary key makes the check and the
 * record one atomic step, so two processes receiving the same assertion cannot both accept it.
 */
export async function markAssertionUsed(db: Db, orgId: string, assertionId: string, expiresAt: Date): Promise<boolean> {
  const rows = await db("saml_used_assertions")
    .insert({ org_id: orgId, assertion_id: assertionId, expires_at: expiresAt })
    .onConflict(["org_id", "assertion_id"])
    .ignore()
    .returning("assertion_id");
  return rows.length === 1;
}

/** Housekeeping: forget used assertions past their validity and requests never answered. */
export async function pruneSamlStores(db: Db, now: Date, requestMaxAgeMs: number): Promise<void> {
  await db("saml_used_assertions").where("expires_at", "<", now).delete();
  await db("saml_requests")
    .where("created_at", "<", new Date(now.getTime() - requestMaxAgeMs))
    .delete();
}

function spKeyFromRow(r: Record<string, unknown>): SpKey {
  return {
    orgId: r.org_id as string,
    id: r.id as string,
    state: r.state as SpKeyState,
    certificate: r.certificate as string,
    privateKeySealed: r.private_key_sealed as string,
    notAfter: r.not_after as Date,
    createdAt: r.created_at as Date,
  };
}

const STATE_ORDER = `case state when 'active' then 0 when 'next' then 1 else 2 end`;

/** The org's SP keys: active first, then next, then previous. */
export async function listSpKeys(db: Db, orgId: string): Promise<SpKey[]> {
  const rows = await db("saml_sp_keys").where({ org_id: orgId }).orderByRaw(STATE_ORDER);
  return rows.map(spKeyFromRow);
}

export async function insertSpKey(db: Db, key: Omit<SpKey, "createdAt">): Promise<SpKey> {
  const [row] = await db("saml_sp_keys")
    .insert({
      org_id: key.orgId,
      id: key.id,
      state: key.state,
      certificate: key.certificate,
      private_key_sealed: key.privateKeySealed,
      not_after: key.notAfter,
    })
    .returning("*");
  return spKeyFromRow(row);
}

export async function setSpKeyState(db: Db, orgId: string, id: string, state: SpKeyState): Promise<void> {
  await db("saml_sp_keys").where({ org_id: orgId, id }).update({ state });
}

export async function deleteSpKey(db: Db, orgId: string, id: string): Promise<boolean> {
  return (await db("saml_sp_keys").where({ org_id: orgId, id }).delete()) > 0;
}
