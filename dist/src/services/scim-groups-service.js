// SCIM Groups. Membership changes are applied as deltas (insert ... on conflict do nothing, delete ...
// where member_id in ...), never by rewriting the member list, so a PATCH of one member costs the same
// for a group of 50 or 50,000, and two PATCHes of one group both take effect: each applies its own delta,
// and they queue only for the version bump (changes that arrive together share one transaction; see
// changeScimGroup). When the group is mapped to a seat type or role, every member whose membership
// changed goes through the seat allocator in the same transaction.
import { randomUUID } from "node:crypto";
import { isDatabaseUnavailable } from "../db/to-domain-error.js";
import { withTransaction } from "../db/transaction.js";
import { DomainError } from "../domain/errors.js";
import { appendAudit, appendAudits } from "../repositories/audit-repository.js";
import { addGroupMembers, addKnownGroupMembers, bumpGroupVersion, deleteGroup, findGroup, insertGroup, knownMemberIds, listGroupMemberIds, removeAllGroupMembers, removeGroupMembers, updateGroup, } from "../repositories/groups-repository.js";
import { listMappings } from "../repositories/mappings-repository.js";
import { changeContext, loadOrg } from "./context.js";
import { changeSeat } from "./seat-allocator.js";
function isMapped(mappings, group) {
    const keys = new Set([group.id, group.displayName, group.externalId].filter((k) => !!k).map((k) => k.toLowerCase()));
    return mappings.some((m) => keys.has(m.group.toLowerCase()));
}
function matches(group, pre) {
    if (!pre.ifMatch || pre.ifMatch.trim() === "*")
        return true;
    return pre.ifMatch
        .split(",")
        .map((t) => t.trim())
        .includes(pre.etag(group));
}
function preconditionFailed() {
    return new DomainError("precondition_failed", "the group changed since you read it (If-Match does not match its current ETag)");
}
function checkIfMatch(group, ifMatch, etag) {
    if (!matches(group, { ifMatch, etag }))
        throw preconditionFailed();
}
/** Only SCIM-visible members can be put in a group; other values (unknown ids) are ignored. */
async function onlyKnown(trx, orgId, members) {
    const known = await knownMemberIds(trx, orgId, members.map((m) => m.value));
    const seen = new Set();
    return members.filter((m) => known.has(m.value) && !seen.has(m.value) && seen.add(m.value));
}
/** Applies the membership deltas; the group row itself is written by saveGroup. */
async function applySteps(trx, orgId, group, steps) {
    const touched = new Set();
    let added = 0;
    let removed = 0;
    let fields = {};
    for (const step of steps) {
        if (step.kind === "set") {
            fields = { ...fields, ...step };
            delete fields.kind;
        }
        else if (step.kind === "add") {
            const ids = await addKnownGroupMembers(trx, orgId, group.id, step.members);
            ids.forEach((id) => touched.add(id));
            added += ids.length;
        }
        else if (step.kind === "remove") {
            const ids = await removeGroupMembers(trx, orgId, group.id, step.memberIds);
            ids.forEach((id) => touched.add(id));
            removed += ids.length;
        }
        else if (step.kind === "removeAll") {
            const ids = await removeAllGroupMembers(trx, orgId, group.id);
            ids.forEach((id) => touched.add(id));
            removed += ids.length;
        }
        else {
            const wanted = await onlyKnown(trx, orgId, step.members);
            const wantedIds = new Set(wanted.map((m) => m.value));
            const current = await listGroupMemberIds(trx, orgId, group.id);
            const gone = await removeGroupMembers(trx, orgId, group.id, current.filter((id) => !wantedIds.has(id)));
            const currentIds = new Set(current);
            const fresh = await addGroupMembers(trx, orgId, group.id, wanted.filter((m) => !currentIds.has(m.value)));
            [...gone, ...fresh].forEach((id) => touched.add(id));
            added += fresh.length;
            removed += gone.length;
        }
    }
    return { touched, added, removed, fields };
}
/** Writes the group's fields and bumps its version (locking its row until the commit). */
async function saveGroup(trx, orgId, group, result) {
    // A PATCH that changes nothing (re-adding a member, removing one who is not in the group) keeps the
    // version: bumping it anyway moved the ETag, so an IdP's next If-Match failed with 412 for no change.
    if (result.touched.size === 0 && Object.keys(result.fields).length === 0)
        return group;
    const updated = await updateGroup(trx, orgId, group.id, result.fields);
    if (!updated)
        throw new DomainError("not_found", `Group ${group.id} not found`);
    return updated;
}
/** Re-runs the seat rules for members whose groups changed, if the change can matter to a mapping. */
async function reconcileAffected(trx, deps, orgId, actor, before, after, touched, knownMappings) {
    const mappings = knownMappings ?? (await listMappings(trx, orgId));
    const mappedBefore = before !== null && isMapped(mappings, before);
    const mappedAfter = after !== null && isMapped(mappings, after);
    if (!mappedBefore && !mappedAfter)
        return;
    const members = new Set(touched);
    // A rename or new externalId can make every member match (or stop matching) a mapping.
    const identityChanged = before && after && (before.displayName !== after.displayName || before.externalId !== after.externalId);
    if (identityChanged && after)
        (await listGroupMemberIds(trx, orgId, after.id)).forEach((id) => members.add(id));
    if (members.size === 0)
        return;
    const org = await loadOrg(deps, trx, orgId);
    const ctx = { ...changeContext(deps, org, actor), mappings };
    // In id order, so two transactions reconciling overlapping members lock them in the same order.
    for (const id of [...members].sort())
        await changeSeat(trx, ctx, id, { kind: "reconcile" }, deps.now());
}
export async function createScimGroup(deps, orgId, fields, actor) {
    return withTransaction(deps.db, async (trx) => {
        await loadOrg(deps, trx, orgId);
        const group = await insertGroup(trx, orgId, {
            id: randomUUID(),
            displayName: fields.displayName,
            externalId: fields.externalId,
            attributes: fields.attributes,
        });
        const result = await applySteps(trx, orgId, group, [{ kind: "add", members: fields.members }]);
        const saved = await saveGroup(trx, orgId, group, result);
        await appendAudit(trx, orgId, {
            actor: actor.actor,
            action: "group.created",
            after: { id: group.id, displayName: group.displayName, added: result.added },
            requestId: actor.requestId,
        });
        await reconcileAffected(trx, deps, orgId, actor, null, saved, result.touched);
        return saved;
    });
}
const MAX_CHANGES_PER_TRANSACTION = 32;
const groupQueues = new WeakMap();
/**
 * A PATCH (or PUT) of a group. Changes of one group queue on its row anyway (each ends with the version
 * bump, held until the commit), so a process sends one transaction per group at a time: changes that
 * arrive meanwhile are applied together in the next one, in arrival order, each with its own audit event,
 * version and seat effects, and one commit for all. A lone change goes at once. If the shared transaction
 * fails for anything but a change's own If-Match, each change is retried by itself.
 */
export function changeScimGroup(deps, orgId, id, steps, actor, pre) {
    let byGroup = groupQueues.get(deps.db);
    if (!byGroup)
        groupQueues.set(deps.db, (byGroup = new Map()));
    const key = `${orgId}/${id}`;
    let queue = byGroup.get(key);
    if (!queue)
        byGroup.set(key, (queue = { waiting: [], sending: false }));
    const done = new Promise((resolve, reject) => queue.waiting.push({ steps, actor, pre, resolve, reject }));
    if (!queue.sending)
        void sendGroupChanges(deps, orgId, id, byGroup, key, queue);
    return done;
}
async function sendGroupChanges(deps, orgId, id, byGroup, key, queue) {
    queue.sending = true;
    try {
        while (queue.waiting.length) {
            const batch = queue.waiting.splice(0, MAX_CHANGES_PER_TRANSACTION);
            const sent = batch.length === 1
                ? changeOne(deps, orgId, id, batch[0]).then(batch[0].resolve)
                : changeTogether(deps, orgId, id, batch);
            // Every change is settled above; this only guards against a bug leaving one hanging.
            await sent.catch((error) => batch.forEach((c) => c.reject(error)));
        }
    }
    finally {
        queue.sending = false;
        if (!queue.waiting.length)
            byGroup.delete(key);
    }
}
async function changeTogether(deps, orgId, id, batch) {
    let outcomes;
    try {
        outcomes = await withTransaction(deps.db, async (trx) => {
            let current = await findGroup(trx, orgId, id, { forUpdate: true });
            if (!current)
                throw new DomainError("not_found", `Group ${id} not found`);
            const base = current;
            const mappings = await listMappings(trx, orgId);
            // Member deltas leave the group's own fields alone, so a batch of only those writes its audit events
            // and the version (moved on once per change) at the end, in two statements instead of two per change.
            const deltasOnly = batch.every((c) => c.steps.every((s) => s.kind === "add" || s.kind === "remove"));
            const audits = [];
            const results = [];
            for (const change of batch) {
                // Each If-Match is checked against the group as the changes before it left it.
                if (change.pre?.ifMatch && !matches(current, change.pre)) {
                    results.push({ refused: preconditionFailed() });
                    continue;
                }
                if (!deltasOnly) {
                    current = await applyChange(trx, deps, orgId, current, change.steps, change.actor, mappings);
                }
                else {
                    const before = current;
                    const result = await applySteps(trx, orgId, before, change.steps);
                    audits.push({
                        actor: change.actor.actor,
                        action: "group.updated",
                        after: { id, displayName: before.displayName, added: result.added, removed: result.removed },
                        requestId: change.actor.requestId,
                    });
                    current = result.touched.size ? { ...before, version: before.version + 1 } : before;
                    await reconcileAffected(trx, deps, orgId, change.actor, before, current, result.touched, mappings);
                }
                results.push({ group: current });
            }
            if (deltasOnly) {
                await appendAudits(trx, orgId, audits);
                if (current.version > base.version) {
                    const saved = await bumpGroupVersion(trx, orgId, id, current.version - base.version);
                    if (!saved)
                        throw new DomainError("not_found", `Group ${id} not found`);
                    for (const r of results)
                        if ("group" in r && r.group.version > base.version)
                            r.group = { ...r.group, updatedAt: saved.updatedAt };
                }
            }
            return results;
        });
    }
    catch (error) {
        // The database is down: every change gets that answer (503) at once. Otherwise one change may be at
        // fault (or the group is gone): each goes on by itself.
        if (isDatabaseUnavailable(error)) {
            for (const change of batch)
                change.reject(error);
        }
        else {
            for (const change of batch)
                await changeOne(deps, orgId, id, change).then(change.resolve, change.reject);
        }
        return;
    }
    batch.forEach((change, i) => {
        const outcome = outcomes[i];
        if ("group" in outcome)
            change.resolve(outcome.group);
        else
            change.reject(outcome.refused);
    });
}
async function applyChange(trx, deps, orgId, before, steps, actor, mappings) {
    const result = await applySteps(trx, orgId, before, steps);
    const displayName = result.fields.displayName ?? before.displayName;
    await appendAudit(trx, orgId, {
        actor: actor.actor,
        action: "group.updated",
        after: { id: before.id, displayName, added: result.added, removed: result.removed },
        requestId: actor.requestId,
    });
    const after = await saveGroup(trx, orgId, before, result);
    await reconcileAffected(trx, deps, orgId, actor, before, after, result.touched, mappings);
    return after;
}
async function changeOne(deps, orgId, id, change) {
    const { steps, pre } = change;
    // Adding and removing members are deltas that commute: parallel PATCHes of one group need not wait for
    // each other to apply them, only for the version bump at the end (which locks the group row until the
    // commit). That is what IdPs send all day, so the row is held for two statements instead of all of them.
    // A rename, a replace or an If-Match precondition locks the row first: they read the group to decide.
    const deltasOnly = !pre?.ifMatch && steps.every((s) => s.kind === "add" || s.kind === "remove");
    return withTransaction(deps.db, async (trx) => {
        const before = await findGroup(trx, orgId, id, { forUpdate: !deltasOnly });
        if (!before)
            throw new DomainError("not_found", `Group ${id} not found`);
        if (pre)
            checkIfMatch(before, pre.ifMatch, pre.etag);
        const mappings = await listMappings(trx, orgId);
        return applyChange(trx, deps, orgId, before, steps, change.actor, mappings);
    });
}
export function replaceScimGroup(deps, orgId, id, fields, actor, pre) {
    return changeScimGroup(deps, orgId, id, [
        { kind: "set", displayName: fields.displayName, externalId: fields.externalId, attributes: fields.attributes },
        { kind: "replace", members: fields.members },
    ], actor, pre);
}
export async function deleteScimGroup(deps, orgId, id, actor, pre) {
    await withTransaction(deps.db, async (trx) => {
        await loadOrg(deps, trx, orgId);
        const before = await findGroup(trx, orgId, id, { forUpdate: true });
        if (!before)
            throw new DomainError("not_found", `Group ${id} not found`);
        if (pre)
            checkIfMatch(before, pre.ifMatch, pre.etag);
        const formerMembers = new Set(await removeAllGroupMembers(trx, orgId, id));
        await deleteGroup(trx, orgId, id);
        await appendAudit(trx, orgId, {
            actor: actor.actor,
            action: "group.deleted",
            before: { id, displayName: before.displayName, members: formerMembers.size },
            requestId: actor.requestId,
        });
        await reconcileAffected(trx, deps, orgId, actor, before, null, formerMembers);
    });
}
export async function getScimGroup(deps, orgId, id) {
    const group = await findGroup(deps.db, orgId, id);
    if (!group)
        throw new DomainError("not_found", `Group ${id} not found`);
    return group;
}
//# sourceMappingURL=scim-groups-service.js.map