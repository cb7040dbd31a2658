import { signInUrl } from "./operator/operator-router.js";
import { countOrgs } from "./repositories/orgs-repository.js";
import { createOrg } from "./services/orgs-service.js";
export async function createDemoOrgIfEmpty(deps, logger, print) {
    if ((await countOrgs(deps.db)) > 0)
        return false;
    const created = await createOrg(deps, {
        name: "Demo Org",
        plan: "enterprise_usage",
        seats: { chat_code: 20, chat: 50 },
        ownerEmail: "owner@demo.example.com",
    }, { actor: "system" });
    logger.info({ orgId: created.org.id }, "created the demo organization");
    print([
        "",
        "Roster demo organization created (shown once; keep these):",
        `  org id:          ${created.org.id}`,
        `  SCIM base URL:   ${deps.publicUrl}/scim/v2`,
        `  SCIM token:      ${created.scimToken}`,
        `  admin API token: ${created.ownerToken}`,
        `  owner sign-in:   ${signInUrl(deps.publicUrl, created.ownerSignInToken)}  (one use, 24 hours)`,
        `  try:             curl -H "Authorization: Bearer ${created.ownerToken}" ${deps.publicUrl}/api/v1/orgs/${created.org.id}/seats`,
        "",
    ].join("\n"));
    return true;
}
//# sourceMappingURL=demo.js.map