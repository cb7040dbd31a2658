// An org's SAML connection: read, replace (from explicit fields or IdP metadata XML), and the URLs the IdP
// admin pastes on their side. Every change is audited.
import { withTransaction } from "../db/transaction.js";
import { DomainError } from "../domain/errors.js";
import { appendAudit } from "../repositories/audit-repository.js";
import { findSamlConnection, type SamlConnection, upsertSamlConnection } from "../repositories/saml-repository.js";
import { type Actor, loadOrg, type ServiceDeps } from "./context.js";

/** What an org's connection is made of, however the admin supplied it (fields or metadata XML). */
export interface SamlConnectionFields {
  idpEntityId: string;
  ssoUrl: string;
  /** PEM certificates, already checked to parse. */
  certificates: string[];
  attributeProfile?: string;
  allowIdpInitiated?: boolean;
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
  return withTransaction(deps.db, async (trx) => {
    await loadOrg(deps, trx, orgId);
    const before = await findSamlConnection(trx, orgId);
    // Options left out keep their values: re-importing IdP metadata to rotate a key must not reset them.
    const attributeProfile = input.attributeProfile ?? before?.attributeProfile ?? "generic";
    const allowIdpInitiated = input.allowIdpInitiated ?? before?.allowIdpInitiated ?? false;
    const saved = await upsertSamlConnection(trx, orgId, { ...fields, attributeProfile, allowIdpInitiated });
    const summary = (c: SamlConnection | null) =>
      c && {
        idpEntityId: c.idpEntityId,
        ssoUrl: c.ssoUrl,
        certificates: c.certificates.length,
        attributeProfile: c.attributeProfile,
        allowIdpInitiated: c.allowIdpInitiated,
      };
    await appendAudit(trx, orgId, {
      actor: actor.actor,
      action: "saml.updated",
      before: summary(before),
      after: summary(saved),
      requestId: actor.requestId,
    });
    return saved;
  });
}
