import { DomainError } from "../domain/errors.js";
import { findOrg } from "../repositories/orgs-repository.js";
export async function loadOrg(deps, db, orgId) {
    const org = await findOrg(db, orgId);
    if (!org)
        throw new DomainError("not_found", "organization not found");
    return org;
}
// An org's plan is set when the org is created and never changed (nothing updates organizations.plan), so
// each process may keep it: the common SCIM create needs only the plan and saves a round trip.
const plans = new Map();
export async function orgPlan(deps, orgId) {
    const known = plans.get(orgId);
    if (known)
        return known;
    const { plan } = await loadOrg(deps, deps.db, orgId);
    if (plans.size >= 10_000)
        plans.clear();
    plans.set(orgId, plan);
    return plan;
}
export function changeContext(deps, org, actor) {
    return {
        org,
        catalog: deps.catalogs.get(org.plan),
        actor: actor.actor,
        requestId: actor.requestId ?? null,
        now: deps.now,
    };
}
//# sourceMappingURL=context.js.map