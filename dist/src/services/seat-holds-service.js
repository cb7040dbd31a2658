// Ends holds on seats an admin freed by hand once they run out (DOMAIN §3.4), so the seat reaches the queue
// without anyone having to act. Safe in every process at once: each hold is ended by exactly one transaction.
import { withTransaction } from "../db/transaction.js";
import { listExpiredHolds } from "../repositories/allocations-repository.js";
import { changeContext, loadOrg } from "./context.js";
import { releaseExpiredHold } from "./seat-allocator.js";
/** One pass: ends up to `limit` expired holds, one short transaction each. Returns how many it ended. */
export async function releaseExpiredHolds(deps, limit = 100) {
    const now = deps.now();
    const expired = await listExpiredHolds(deps.db, now, limit);
    let ended = 0;
    for (const hold of expired) {
        const done = await withTransaction(deps.db, async (trx) => {
            const org = await loadOrg(deps, trx, hold.orgId);
            return releaseExpiredHold(trx, changeContext(deps, org, { actor: "system" }), hold, now);
        });
        if (done)
            ended += 1;
    }
    return { ended, more: expired.length === limit };
}
//# sourceMappingURL=seat-holds-service.js.map