// On the first start with an empty embedded database: a demo organization, and its credentials printed once.
import type { Logger } from "./logger.js";
import { signInUrl } from "./operator/operator-router.js";
import { countOrgs } from "./repositories/orgs-repository.js";
import type { ServiceDeps } from "./services/context.js";
import { createOrg } from "./services/orgs-service.js";

export async function createDemoOrgIfEmpty(
  deps: ServiceDeps,
  logger: Logger,
  print: (text: string) => void,
): Promise<boolean> {
  if ((await countOrgs(deps.db)) > 0) return false;
  const created = await createOrg(
    deps,
    {
      name: "Demo Org",
      plan: "enterprise_usage",
      seats: { chat_code: 20, chat: 50 },
      ownerEmail: "owner@demo.example.com",
    },
    { actor: "system" },
  );
  logger.info({ orgId: created.org.id }, "created the demo organization");
  print(
    [
      "",
      "Roster demo organization created (shown once; keep these):",
      `  org id:          ${created.org.id}`,
      `  SCIM base URL:   ${deps.publicUrl}/scim/v2`,
      `  SCIM token:      ${created.scimToken}`,
      `  admin API token: ${created.ownerToken}`,
      `  owner sign-in:   ${signInUrl(deps.publicUrl, created.ownerSignInToken)}  (one use, 24 hours)`,
      `  try:             curl -H "Authorization: Bearer ${created.ownerToken}" ${deps.publicUrl}/api/v1/orgs/${created.org.id}/seats`,
      "",
    ].join("\n"),
  );
  return true;
}
