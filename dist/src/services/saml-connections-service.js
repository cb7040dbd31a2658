// An org's SAML connection: read, replace (from explicit fields or IdP metadata XML), and the URLs the IdP
// admin pastes on their side. Every change is audited.
import { withTransaction } from "../db/transaction.js";
import { DomainError } from "../domain/errors.js";
import { appendAudit } from "../repositories/audit-repository.js";
import { findSamlConnection, upsertSamlConnection } from "../repositories/saml-repository.js";
import { loadOrg } from "./context.js";
export function samlEndpoints(publicUrl, orgId) {
    const base = `${publicUrl}/saml/${orgId}`;
    return {
        spEntityId: `${base}/metadata`,
        acsUrl: `${base}/acs`,
        metadataUrl: `${base}/metadata`,
        loginUrl: `${base}/login`,
    };
}
export async function getSamlConnection(deps, orgId) {
    await loadOrg(deps, deps.db, orgId);
    return findSamlConnection(deps.db, orgId);
}
export async function putSamlConnection(deps, orgId, input, actor) {
    const fields = { idpEntityId: input.idpEntityId, ssoUrl: input.ssoUrl, certificates: input.certificates };
    if (!/^https?:\/\//.test(fields.ssoUrl))
        throw new DomainError("invalid_request", "the SSO URL must be an http(s) URL");
    if (input.attributeProfile !== undefined)
        deps.attributeProfiles.get(input.attributeProfile); // refuses an unknown profile
    return withTransaction(deps.db, async (trx) => {
        await loadOrg(deps, trx, orgId);
        const before = await findSamlConnection(trx, orgId);
        // Options left out keep their values: re-importing IdP metadata to rotate a key must not reset them.
        const attributeProfile = input.attributeProfile ?? before?.attributeProfile ?? "generic";
        const allowIdpInitiated = input.allowIdpInitiated ?? before?.allowIdpInitiated ?? false;
        const saved = await upsertSamlConnection(trx, orgId, { ...fields, attributeProfile, allowIdpInitiated });
        const summary = (c) => c && {
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
//# sourceMappingURL=saml-connections-service.js.map