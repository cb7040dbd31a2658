// An org's SAML connection: read, replace (from explicit fields or IdP metadata XML), the URLs the IdP
// admin pastes on their side, the org's SP key pairs (decrypting assertions, signing AuthnRequests,
// rotated without downtime), and the stores every process shares during sign-in. Every change is audited.
import { randomUUID } from "node:crypto";
import { withTransaction } from "../db/transaction.js";
import { DomainError } from "../domain/errors.js";
import { appendAuditWithEvent } from "../repositories/audit-repository.js";
import { findOrg } from "../repositories/orgs-repository.js";
import {
  deleteSpKey,
  findRequestId,
  findSamlConnection,
  insertSpKey,
  listSpKeys,
  markAssertionUsed,
  pruneSamlStores,
  removeRequestId,
  saveRequestId,
  type SamlConnection,
  setSpKeyState,
  type SpKey,
  upsertSamlConnection,
} from "../repositories/saml-repository.js";
import { createSpKeyPair } from "../saml/sp-certificate.js";
import { type Actor, loadOrg, type ServiceDeps } from "./context.js";

/** The NameID formats a connection may ask for, by the short names admins use. */
export const NAME_ID_FORMATS = {
  emailAddress: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
  persistent: "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
  transient: "urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
  unspecified: "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
} as const;
export type NameIdFormatName = keyof typeof NAME_ID_FORMATS;

export function nameIdFormatName(urn: string): NameIdFormatName {
  const entry = Object.entries(NAME_ID_FORMATS).find(([, value]) => value === urn);
  return (entry?.[0] ?? "emailAddress") as NameIdFormatName;
}

/** What an org's connection is made of, however the admin supplied it (fields or metadata XML). */
export interface SamlConnectionFields {
  idpEntityId: string;
  ssoUrl: string;
  /** PEM certificates, already checked to parse. */
  certificates: string[];
  attributeProfile?: string;
  allowIdpInitiated?: boolean;
  nameIdFormat?: NameIdFormatName;
  signAuthnRequests?: boolean;
  requireEncryptedAssertions?: boolean;
}

export interface SamlEndpoints {
  spEntityId: string;
  acsUrl: string;
  metadataUrl: string;
  loginUrl: string;
}

export function samlEndpoints(publicUrl: string, orgId: string): SamlEndpoints {
  const base = `${publicUrl}/saml/${orgId}`;
  return {
    spEntityId: `${base}/metadata`,
    acsUrl: `${base}/acs`,
    metadataUrl: `${base}/metadata`,
    loginUrl: `${base}/login`,
  };
}

export async function getSamlConnection(deps: ServiceDeps, orgId: string): Promise<SamlConnection | null> {
  await loadOrg(deps, deps.db, orgId);
  return findSamlConnection(deps.db, orgId);
}

/** The connection a sign-in runs against, or null when the org has none. */
export function findConnectionForSignIn(deps: ServiceDeps, orgId: string): Promise<SamlConnection | null> {
  return findSamlConnection(deps.db, orgId);
}

function summary(c: SamlConnection | null) {
  return (
    c && {
      idpEntityId: c.idpEntityId,
      ssoUrl: c.ssoUrl,
      certificates: c.certificates.length,
      attributeProfile: c.attributeProfile,
      allowIdpInitiated: c.allowIdpInitiated,
      nameIdFormat: nameIdFormatName(c.nameIdFormat),
      signAuthnRequests: c.signAuthnRequests,
      requireEncryptedAssertions: c.requireEncryptedAssertions,
    }
  );
}

export async function putSamlConnection(
  deps: ServiceDeps,
  orgId: string,
  input: SamlConnectionFields,
  actor: Actor,
): Promise<SamlConnection> {
  const fields = { idpEntityId: input.idpEntityId, ssoUrl: input.ssoUrl, certificates: input.certificates };
  if (!/^https?:\/\//.test(fields.ssoUrl))
    throw new DomainError("invalid_request", "the SSO URL must be an http(s) URL");
  if (input.attributeProfile !== undefined) deps.attributeProfiles.get(input.attributeProfile); // refuses an unknown profile
  // Made before the transaction: generating an RSA key takes a moment of CPU and needs no lock.
  const keyPair = (await listSpKeys(deps.db, orgId)).length === 0 ? await newSpKey(deps, orgId, "active") : null;
  return withTransaction(deps.db, async (trx) => {
    await loadOrg(deps, trx, orgId);
    const before = await findSamlConnection(trx, orgId);
    // Options left out keep their values: re-importing IdP metadata to rotate a key must not reset them.
    const saved = await upsertSamlConnection(trx, orgId, {
      ...fields,
      attributeProfile: input.attributeProfile ?? before?.attributeProfile ?? "generic",
      allowIdpInitiated: input.allowIdpInitiated ?? before?.allowIdpInitiated ?? false,
      nameIdFormat: input.nameIdFormat
        ? NAME_ID_FORMATS[input.nameIdFormat]
        : (before?.nameIdFormat ?? NAME_ID_FORMATS.emailAddress),
      signAuthnRequests: input.signAuthnRequests ?? before?.signAuthnRequests ?? false,
      requireEncryptedAssertions: input.requireEncryptedAssertions ?? before?.requireEncryptedAssertions ?? false,
    });
    // Every connection has an SP key pair from the start, so the metadata an IdP admin downloads already
    // carries the certificate to encrypt with; a concurrent PUT may have made one meanwhile.
    if (keyPair && (await listSpKeys(trx, orgId)).length === 0) await insertSpKey(trx, keyPair);
    await appendAuditWithEvent(
      trx,
      orgId,
      {
        actor: actor.actor,
        action: "saml.updated",
        before: summary(before),
        after: summary(saved),
        requestId: actor.requestId,
      },
      { topic: "saml.updated", payload: { orgId, connection: summary(saved) } },
    );
    return saved;
  });
}

// --- SP key pairs -------------------------------------------------------------------------------------

/** An SP key as admins see it: never the private key. */
export interface SpKeyView {
  id: string;
  state: SpKey["state"];
  certificate: string;
  notAfter: Date;
  createdAt: Date;
}

function view(key: SpKey): SpKeyView {
  return {
    id: key.id,
    state: key.state,
    certificate: key.certificate,
    notAfter: key.notAfter,
    createdAt: key.createdAt,
  };
}

async function newSpKey(deps: ServiceDeps, orgId: string, state: SpKey["state"]): Promise<Omit<SpKey, "createdAt">> {
  const host = new URL(deps.publicUrl).hostname;
  const pair = await createSpKeyPair(`${host} SAML SP ${orgId}`, deps.now());
  return {
    orgId,
    id: randomUUID(),
    state,
    certificate: pair.certificate,
    privateKeySealed: deps.secretBox.seal(pair.privateKey),
    notAfter: pair.notAfter,
  };
}

export async function listOrgSpKeys(deps: ServiceDeps, orgId: string): Promise<SpKeyView[]> {
  await loadOrg(deps, deps.db, orgId);
  return (await listSpKeys(deps.db, orgId)).map(view);
}

function keyAudit(key: SpKey | Omit<SpKey, "createdAt">) {
  return { id: key.id, state: key.state, notAfter: key.notAfter.toISOString() };
}

/**
 * Step 1 of a rotation: a new key pair in state `next`. The SP metadata publishes it beside the active
 * one, and assertions encrypted to either are accepted, so the IdP can switch whenever its admin likes.
 */
export async function createNextSpKey(deps: ServiceDeps, orgId: string, actor: Actor): Promise<SpKeyView> {
  const candidate = await newSpKey(deps, orgId, "next");
  return withTransaction(deps.db, async (trx) => {
    if (!(await findOrg(trx, orgId, { forUpdate: true }))) throw new DomainError("not_found", "organization not found");
    const keys = await listSpKeys(trx, orgId);
    if (keys.some((k) => k.state === "next"))
      throw new DomainError("conflict", "a next SP key already exists: activate or delete it first");
    // An org that never saved a connection has no active key yet: the first key is the active one.
    const key = await insertSpKey(
      trx,
      keys.some((k) => k.state === "active") ? candidate : { ...candidate, state: "active" },
    );
    await appendAuditWithEvent(
      trx,
      orgId,
      {
        actor: actor.actor,
        action: "saml.sp_key.created",
        before: null,
        after: keyAudit(key),
        requestId: actor.requestId,
      },
      { topic: "saml.sp_key.created", payload: { orgId, key: keyAudit(key) } },
    );
    return view(key);
  });
}

/**
 * Step 2: the next key becomes active (it signs AuthnRequests and leads the metadata); the old active key
 * stays as `previous`, still accepted for decryption, until an admin deletes it.
 */
export async function activateSpKey(deps: ServiceDeps, orgId: string, keyId: string, actor: Actor): Promise<SpKeyView> {
  return withTransaction(deps.db, async (trx) => {
    if (!(await findOrg(trx, orgId, { forUpdate: true }))) throw new DomainError("not_found", "organization not found");
    const keys = await listSpKeys(trx, orgId);
    const key = keys.find((k) => k.id === keyId);
    if (!key) throw new DomainError("not_found", "SP key not found");
    if (key.state === "active") return view(key);
    if (key.state !== "next") throw new DomainError("conflict", "only the next key can be activated");
    const previous = keys.find((k) => k.state === "previous");
    if (previous) await deleteSpKey(trx, orgId, previous.id); // two rotations old: no IdP should use it now
    const active = keys.find((k) => k.state === "active");
    if (active) await setSpKeyState(trx, orgId, active.id, "previous");
    await setSpKeyState(trx, orgId, key.id, "active");
    const after = { ...key, state: "active" as const };
    await appendAuditWithEvent(
      trx,
      orgId,
      {
        actor: actor.actor,
        action: "saml.sp_key.activated",
        before: active ? keyAudit(active) : null,
        after: keyAudit(after),
        requestId: actor.requestId,
      },
      { topic: "saml.sp_key.activated", payload: { orgId, key: keyAudit(after) } },
    );
    return view(after);
  });
}

/** Retires a next or previous key. The active key cannot be deleted: it is what IdPs encrypt to. */
export async function removeSpKey(deps: ServiceDeps, orgId: string, keyId: string, actor: Actor): Promise<void> {
  await withTransaction(deps.db, async (trx) => {
    if (!(await findOrg(trx, orgId, { forUpdate: true }))) throw new DomainError("not_found", "organization not found");
    const key = (await listSpKeys(trx, orgId)).find((k) => k.id === keyId);
    if (!key) throw new DomainError("not_found", "SP key not found");
    if (key.state === "active")
      throw new DomainError("conflict", "the active SP key cannot be deleted: create and activate a next key first");
    await deleteSpKey(trx, orgId, keyId);
    await appendAuditWithEvent(
      trx,
      orgId,
      {
        actor: actor.actor,
        action: "saml.sp_key.deleted",
        before: keyAudit(key),
        after: null,
        requestId: actor.requestId,
      },
      { topic: "saml.sp_key.deleted", payload: { orgId, key: keyAudit(key) } },
    );
  });
}

/** What the SAML adapter needs from the org's keys: certificates to publish and private keys to use. */
export interface SpKeyMaterial {
  /** Certificates for the SP metadata, active first. */
  certificates: string[];
  /** The active key's private key (PEM): signs AuthnRequests. */
  signingKey: string | null;
  /** Every private key an IdP may have encrypted to, active first. */
  decryptionKeys: string[];
}

export async function spKeyMaterial(deps: ServiceDeps, orgId: string): Promise<SpKeyMaterial> {
  const keys = await listSpKeys(deps.db, orgId);
  const privateKeys = keys.map((k) => deps.secretBox.open(k.privateKeySealed));
  return {
    certificates: keys.map((k) => k.certificate),
    signingKey: keys[0]?.state === "active" ? privateKeys[0] : null,
    decryptionKeys: privateKeys,
  };
}

// --- Stores shared by every process during sign-in -----------------------------------------------------

export const rememberAuthnRequest = (deps: ServiceDeps, orgId: string, requestId: string) =>
  saveRequestId(deps.db, orgId, requestId);

export const findAuthnRequest = (deps: ServiceDeps, orgId: string, requestId: string, maxAgeMs: number) =>
  findRequestId(deps.db, orgId, requestId, maxAgeMs, deps.now());

export const forgetAuthnRequest = (deps: ServiceDeps, orgId: string, requestId: string) =>
  removeRequestId(deps.db, orgId, requestId);

/** True the first time an assertion id is seen for the org, in any process; false for a replay. */
export const useAssertionOnce = (deps: ServiceDeps, orgId: string, assertionId: string, expiresAt: Date) =>
  markAssertionUsed(deps.db, orgId, assertionId, expiresAt);

export const pruneSignInStores = (deps: ServiceDeps, requestMaxAgeMs: number) =>
  pruneSamlStores(deps.db, deps.now(), requestMaxAgeMs);
