// SQL for group mappings (IdP group -> seat type and/or role).
import { randomUUID } from "node:crypto";
import type { Db } from "../db/database.js";
import type { Role } from "../domain/roles.js";
import type { GroupMappingRule } from "../domain/seat-plan.js";

export async function listMappings(db: Db, orgId: string): Promise<GroupMappingRule[]> {
  const rows = await db("group_mappings")
    .where({ org_id: orgId })
    .orderBy([{ column: "priority" }, { column: "group_name" }]);
  return rows.map((r) => ({
    group: r.group_name as string,
    seatType: r.seat_type as string | null,
    role: r.role as Role | null,
    priority: r.priority as number,
  }));
}

export async function replaceMappings(db: Db, orgId: string, mappings: GroupMappingRule[]): Promise<void> {
  await db("group_mappings").where({ org_id: orgId }).delete();
  if (mappings.length === 0) return;
  await db("group_mappings").insert(
    mappings.map((m) => ({
      org_id: orgId,
      id: randomUUID(),
      group_name: m.group,
      seat_type: m.seatType,
      role: m.role,
      priority: m.priority,
    })),
  );
}
