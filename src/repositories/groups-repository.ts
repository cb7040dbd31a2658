// SQL for groups and group membership (stored relationally: one row per member of a group).
import type { Db } from "../db/database.js";

export interface Group {
  orgId: string;
  id: string;
  displayName: string;
  externalId: string | null;
}

export async function insertGroup(db: Db, orgId: string, group: { id: string; displayName: string; externalId?: string | null }): Promise<Group> {
  await db("groups").insert({ org_id: orgId, id: group.id, display_name: group.displayName, external_id: group.externalId ?? null });
  return { orgId, id: group.id, displayName: group.displayName, externalId: group.externalId ?? null };
}

/** Idempotent: adding a member who is already in the group changes nothing. Returns the ids actually added. */
export async function addGroupMembers(db: Db, orgId: string, groupId: string, memberIds: string[]): Promise<string[]> {
  if (memberIds.length === 0) return [];
  const rows: { member_id: string }[] = await db("group_members")
    .insert(memberIds.map((member_id) => ({ org_id: orgId, group_id: groupId, member_id })))
    .onConflict(["org_id", "group_id", "member_id"])
    .ignore()
    .returning("member_id");
  return rows.map((r) => r.member_id);
}

/** Returns the ids actually removed. */
export async function removeGroupMembers(db: Db, orgId: string, groupId: string, memberIds: string[]): Promise<string[]> {
  if (memberIds.length === 0) return [];
  const rows: { member_id: string }[] = await db("group_members").where({ org_id: orgId, group_id: groupId }).whereIn("member_id", memberIds).delete().returning("member_id");
  return rows.map((r) => r.member_id);
}
