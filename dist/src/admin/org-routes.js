import { getMember } from "../services/members-service.js";
import { ownershipTransferInput, transferOwnership } from "../services/ownership-service.js";
import { getSettings, patchSettings, settingsPatchInput } from "../services/settings-service.js";
import { requirePermission } from "./admin-auth.js";
import { presentMember } from "./presenters.js";
export function addOrgRoutes(router, deps) {
    router.get("/settings", requirePermission("manage_settings"), async (req, res) => {
        res.json(await getSettings(deps, req.principal.orgId));
    });
    router.patch("/settings", requirePermission("manage_settings"), async (req, res) => {
        const body = settingsPatchInput.parse(req.body);
        const principal = req.principal;
        res.json(await patchSettings(deps, principal.orgId, body, { actor: principal.actor, requestId: req.id }));
    });
    router.post("/ownership-transfer", requirePermission("transfer_ownership"), async (req, res) => {
        const body = ownershipTransferInput.parse(req.body);
        const principal = req.principal;
        const { from, to } = await transferOwnership(deps, principal.orgId, body, {
            actor: principal.actor,
            requestId: req.id,
            memberId: principal.memberId,
            role: principal.role,
        });
        res.json({
            primaryOwner: presentMember(await getMember(deps, principal.orgId, to.id)),
            previousOwner: presentMember(await getMember(deps, principal.orgId, from.id)),
        });
    });
}
//# sourceMappingURL=org-routes.js.map