function auditRow(orgId, event) {
    return {
        org_id: orgId,
        actor: event.actor,
        action: event.action,
        member_id: event.memberId ?? null,
        before: event.before === undefined ? null : JSON.stringify(event.before),
        after: event.after === undefined ? null : JSON.stringify(event.after),
        reason: event.reason ?? null,
        request_id: event.requestId ?? null,
    };
}
export async function appendAudit(db, orgId, event) {
    await db("audit_events").insert(auditRow(orgId, event));
}
/** Several events in one statement, recorded in the order given. */
export async function appendAudits(db, orgId, events) {
    if (events.length)
        await db("audit_events").insert(events.map((e) => auditRow(orgId, e)));
}
export async function listAudit(db, orgId, filter, before, limit) {
    // Newest first; the cursor is the last id seen.
    const query = db("audit_events").where({ org_id: orgId }).orderBy("id", "desc").limit(limit);
    if (before !== null)
        query.where("id", "<", before);
    if (filter.memberId)
        query.where({ member_id: filter.memberId });
    if (filter.action)
        query.where({ action: filter.action });
    const rows = await query;
    return rows.map((r) => ({
        id: String(r.id),
        at: r.at,
        actor: r.actor,
        action: r.action,
        memberId: r.member_id,
        before: r.before,
        after: r.after,
        reason: r.reason,
        requestId: r.request_id,
    }));
}
/** An audit event and its outbox event in one statement (one round trip while the seat row is held). */
export async function appendAuditWithEvent(db, orgId, event, outbox) {
    await db.raw(`with audit as (
       insert into audit_events (org_id, actor, action, member_id, before, after, reason, request_id)
       values (?, ?, ?, ?, ?::jsonb, ?::jsonb, ?, ?))
     insert into outbox (org_id, topic, payload) values (?, ?, ?::jsonb)`, [
        orgId,
        event.actor,
        event.action,
        event.memberId ?? null,
        event.before === undefined ? null : JSON.stringify(event.before),
        event.after === undefined ? null : JSON.stringify(event.after),
        event.reason ?? null,
        event.requestId ?? null,
        orgId,
        outbox.topic,
        JSON.stringify(outbox.payload),
    ]);
}
//# sourceMappingURL=audit-repository.js.map