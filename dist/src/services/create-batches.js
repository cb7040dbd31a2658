import { isDatabaseUnavailable } from "../db/to-domain-error.js";
import { insertMembersWithSeats, } from "../repositories/members-repository.js";
const MAX_BATCH = 64;
const queues = new WeakMap();
export function createWithSeatBatched(db, orgId, batch, item) {
    let byOrg = queues.get(db);
    if (!byOrg)
        queues.set(db, (byOrg = new Map()));
    let queue = byOrg.get(orgId);
    if (!queue)
        byOrg.set(orgId, (queue = { ...batch, waiting: [], sending: false }));
    const promise = new Promise((resolve, reject) => queue.waiting.push({ item, resolve, reject }));
    if (!queue.sending)
        void send(db, orgId, byOrg, queue);
    return promise;
}
async function send(db, orgId, byOrg, queue) {
    queue.sending = true;
    try {
        while (queue.waiting.length) {
            const batch = queue.waiting.splice(0, MAX_BATCH);
            // sendBatch settles every create itself; this only guards against a bug leaving one hanging.
            await sendBatch(db, orgId, queue, batch).catch((error) => batch.forEach((w) => w.reject(error)));
        }
    }
    finally {
        queue.sending = false;
        if (!queue.waiting.length)
            byOrg.delete(orgId);
    }
}
function one(db, orgId, queue, w) {
    return insertMembersWithSeats(db, orgId, {
        seatTypes: queue.seatTypes,
        seatReason: queue.seatReason,
        items: [w.item],
    }).then(([result]) => w.resolve(result), w.reject);
}
async function sendBatch(db, orgId, queue, batch) {
    if (batch.length === 1)
        return one(db, orgId, queue, batch[0]);
    let results;
    try {
        results = await insertMembersWithSeats(db, orgId, {
            seatTypes: queue.seatTypes,
            seatReason: queue.seatReason,
            items: batch.map((w) => w.item),
        });
    }
    catch (error) {
        // The database is down: every create gets that answer (503) at once. Anything else may be one item's
        // fault (a taken userName, text jsonb refuses): each create then goes on by itself.
        if (isDatabaseUnavailable(error)) {
            for (const w of batch)
                w.reject(error);
        }
        else {
            for (const w of batch)
                await one(db, orgId, queue, w);
        }
        return;
    }
    batch.forEach((w, i) => w.resolve(results[i]));
}
//# sourceMappingURL=create-batches.js.map