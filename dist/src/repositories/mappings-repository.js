// SQL for group mappings (IdP group -> seat type and/or role).
import { randomUUID } from "node:crypto";
export async function listMappings(db, orgId) {
    const rows = await db("group_mappings")
        .where({ org_id: orgId })
        .orderBy([{ column: "priority" }, { column: "group_name" }]);
    return rows.map((r) => ({
        group: r.group_name,
        seatType: r.seat_type,
        role: r.role,
        priority: r.priority,
    }));
}
export async function replaceMappings(db, orgId, mappings) {
    await db("group_mappings").where({ org_id: orgId }).delete();
    if (mappings.length === 0)
        return;
    await db("group_mappings").insert(mappings.map((m) => ({
        org_id: orgId,
        id: randomUUID(),
        group_name: m.group,
        seat_type: m.seatType,
        role: m.role,
        priority: m.priority,
    })));
}
//# sourceMappingURL=mappings-repository.js.map