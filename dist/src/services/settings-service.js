// An org's settings (DOMAIN §3): what happens when a mapped type is exhausted, and how long a seat an admin
// frees by hand is held for admins. Admins read and change them; every change is audited.
import { z } from "zod";
import { withTransaction } from "../db/transaction.js";
import { appendAuditWithEvent } from "../repositories/audit-repository.js";
import { findOrg, updateOrgSettings } from "../repositories/orgs-repository.js";
import { DomainError } from "../domain/errors.js";
import { loadOrg } from "./context.js";
/** A week at most: a hold is meant to bridge the steps of a swap, not to reserve seats indefinitely. */
export const MAX_HOLD_MINUTES = 7 * 24 * 60;
export const orgSettingsFields = z
    .object({
    mappedTypeExhausted: z.enum(["unassigned", "next_available"]).optional(),
    manualHoldMinutes: z.number().int().min(0).max(MAX_HOLD_MINUTES).optional(),
})
    .strict();
export const settingsPatchInput = orgSettingsFields.refine((b) => b.mappedTypeExhausted !== undefined || b.manualHoldMinutes !== undefined, "give mappedTypeExhausted and/or manualHoldMinutes");
export async function getSettings(deps, orgId) {
    return (await loadOrg(deps, deps.db, orgId)).settings;
}
export async function patchSettings(deps, orgId, patch, actor) {
    return withTransaction(deps.db, async (trx) => {
        const org = await findOrg(trx, orgId, { forUpdate: true });
        if (!org)
            throw new DomainError("not_found", "organization not found");
        const after = { ...org.settings, ...patch };
        const changed = Object.keys(after).filter((k) => after[k] !== org.settings[k]);
        if (changed.length === 0)
            return org.settings;
        await updateOrgSettings(trx, orgId, after);
        const before = Object.fromEntries(changed.map((k) => [k, org.settings[k]]));
        const now = Object.fromEntries(changed.map((k) => [k, after[k]]));
        await appendAuditWithEvent(trx, orgId, { actor: actor.actor, action: "settings.changed", before, after: now, requestId: actor.requestId }, { topic: "settings.changed", payload: { orgId, before, after: now } });
        return after;
    });
}
//# sourceMappingURL=settings-service.js.map