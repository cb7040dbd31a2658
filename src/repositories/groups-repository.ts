// SQL for groups and group membership (stored relationally: one row per member of a group, so adding or
// removing one member costs the same whatever the size of the group).
import type { Db } from "../db/database.js";
import { isUuid } from "./members-repository.js";

export interface Group {
  orgId: string;
  id: string;
  displayName: string;
  externalId: string | null;
  attributes: Record<string, unknown>;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface GroupMemberRef {
  value: string;
  display: string | null;
}

function fromRow(r: Record<string, unknown>): Group {
  return {
    orgId: r.org_id as string,
    id: r.id as string,
    displayName: r.display_name as string,
    externalId: (r.external_id as string | null) ?? null,
    attributes: (r.attributes as Record<string, unknown>) ?? {},
    version: r.version as number,
    createdAt: r.created_at as Date,
    updatedAt: r.updated_at as Date,
  };
}

export async function insertGroup(
  db: Db,
  orgId: string,
  group: { id: string; displayName: string; externalId?: string | null; attributes?: Record<string, unknown> },
): Promise<Group> {
  const [row] = await db("groups")
    .insert({
      org_id: orgId,
      id: group.id,
      display_name: group.displayName,
      external_id: group.externalId ?? null,
      attributes: JSON.stringify(group.attributes ?? {}),
    })
    .returning("*");
  return fromRow(row);
}

export async function findGroup(
  db: Db,
  orgId: string,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<Group | null> {
  if (!isUuid(id)) return null;
  const query = db("groups").where({ org_id: orgId, id }).first();
  if (options.forUpdate) query.forUpdate();
  const row = await query;
  return row ? fromRow(row) : null;
}

/** Null when the group is gone (deleted by a concurrent request). */
export async function updateGroup(
  db: Db,
  orgId: string,
  id: string,
  fields: { displayName?: string; externalId?: string | null; attributes?: Record<string, unknown> },
): Promise<Group | null> {
  const patch: Record<string, unknown> = { version: db.raw("version + 1"), updated_at: db.fn.now() };
  if (fields.displayName !== undefined) patch.display_name = fields.displayName;
  if (fields.externalId !== undefined) patch.external_id = fields.externalId;
  if (fields.attributes !== undefined) patch.attributes = JSON.stringify(fields.attributes);
  const [row] = await db("groups").where({ org_id: orgId, id }).update(patch).returning("*");
  return row ? fromRow(row) : null;
}

/** Moves the version on by `steps` (one per change made in this transaction); null when the group is gone. */
export async function bumpGroupVersion(
  db: Db,
  orgId: string,
  id: string,
  steps: number,
): Promise<{ version: number; updatedAt: Date } | null> {
  const [row] = await db("groups")
    .where({ org_id: orgId, id })
    .update({ version: db.raw("version + ?", [steps]), updated_at: db.fn.now() })
    .returning(["version", "updated_at"]);
  return row ? { version: row.version as number, updatedAt: row.updated_at as Date } : null;
}

export async function deleteGroup(db: Db, orgId: string, id: string): Promise<void> {
  await db("groups").where({ org_id: orgId, id }).delete();
}

/** Of the given ids, those that are SCIM-visible members of the org (unknown ids are dropped). */
export async function knownMemberIds(db: Db, orgId: string, ids: string[]): Promise<Set<string>> {
  const candidates = [...new Set(ids.filter(isUuid))];
  if (candidates.length === 0) return new Set();
  const rows: string[] = await db("members")
    .where({ org_id: orgId, scim_managed: true })
    .whereIn("id", candidates)
    .pluck("id");
  return new Set(rows);
}

/** Idempotent: adding a member who is already in the group changes nothing. Returns the ids actually added. */
export async function addGroupMembers(
  db: Db,
  orgId: string,
  groupId: string,
  members: (GroupMemberRef | string)[],
): Promise<string[]> {
  const refs = members.map((m) => (typeof m === "string" ? { value: m, display: null } : m));
  if (refs.length === 0) return [];
  const rows: { member_id: string }[] = await db("group_members")
    .insert(refs.map((m) => ({ org_id: orgId, group_id: groupId, member_id: m.value, display: m.display })))
    .onConflict(["org_id", "group_id", "member_id"])
    .ignore()
    .returning("member_id");
  return rows.map((r) => r.member_id);
}

/**
 * Adds the given ids that are SCIM-visible members of the org (others are ignored), in one statement.
 * Idempotent: a member already in the group is not added again. Returns the ids actually added.
 */
export async function addKnownGroupMembers(
  db: Db,
  orgId: string,
  groupId: string,
  members: GroupMemberRef[],
): Promise<string[]> {
  const seen = new Set<string>();
  const refs = members.filter(
    (m) => isUuid(m.value) && !seen.has(m.value.toLowerCase()) && seen.add(m.value.toLowerCase()),
  );
  if (refs.length === 0) return [];
  const { rows } = (await db.raw(
    `insert into group_members (org_id, group_id, member_id, display)
     select ?, ?, m.id, given.display
       from unnest(?::uuid[], ?::text[]) as given(id, display)
       join members m on m.org_id = ? and m.id = given.id and m.scim_managed
     on conflict (org_id, group_id, member_id) do nothing
     returning member_id`,
    [orgId, groupId, refs.map((m) => m.value), refs.map((m) => m.display ?? null), orgId] as never[],
  )) as { rows: { member_id: string }[] };
  return rows.map((r) => r.member_id);
}

/** Returns the ids actually removed. */
export async function removeGroupMembers(
  db: Db,
  orgId: string,
  groupId: string,
  memberIds: string[],
): Promise<string[]> {
  const ids = memberIds.filter(isUuid);
  if (ids.length === 0) return [];
  const rows: { member_id: string }[] = await db("group_members")
    .where({ org_id: orgId, group_id: groupId })
    .whereIn("member_id", ids)
    .delete()
    .returning("member_id");
  return rows.map((r) => r.member_id);
}

export async function removeAllGroupMembers(db: Db, orgId: string, groupId: string): Promise<string[]> {
  const rows: { member_id: string }[] = await db("group_members")
    .where({ org_id: orgId, group_id: groupId })
    .delete()
    .returning("member_id");
  return rows.map((r) => r.member_id);
}

export async function listGroupMemberIds(db: Db, orgId: string, groupId: string): Promise<string[]> {
  return db("group_members").where({ org_id: orgId, group_id: groupId }).pluck("member_id");
}

/** Members of the given groups, with the display the IdP sent or else the member's own name. */
export async function listMembersOfGroups(
  db: Db,
  orgId: string,
  groupIds: string[],
): Promise<Map<string, GroupMemberRef[]>> {
  const result = new Map<string, GroupMemberRef[]>(groupIds.map((id) => [id, []]));
  if (groupIds.length === 0) return result;
  const rows: { group_id: string; member_id: string; display: string | null }[] = await db("group_members as gm")
    .join("members as m", function () {
      this.on("m.org_id", "gm.org_id").andOn("m.id", "gm.member_id");
    })
    .where("gm.org_id", orgId)
    .whereIn("gm.group_id", groupIds)
    .orderBy(["gm.group_id", "gm.member_id"])
    .select("gm.group_id", "gm.member_id", db.raw("coalesce(gm.display, m.display_name, m.user_name) as display"));
  for (const r of rows) result.get(r.group_id)?.push({ value: r.member_id, display: r.display });
  return result;
}

/** Groups matching a compiled filter (alias `g`): a true total and one page. */
export async function queryGroups(
  db: Db,
  orgId: string,
  query: {
    where: { sql: string; bindings: unknown[] } | null;
    orderBy: { sql: string; descending: boolean } | null;
    offset: number;
    limit: number;
    /** Cursor paging: ids after `after`, in id order. */
    keyset?: { after: string | null };
  },
): Promise<{ total: number; groups: Group[] }> {
  const base = () => {
    const q = db("groups as g").where("g.org_id", orgId);
    if (query.where) q.whereRaw(query.where.sql, query.where.bindings as never[]);
    return q;
  };
  const countRow = await base().count<{ count: number }[]>({ count: "*" }).first();
  const total = Number(countRow?.count ?? 0);
  if (query.keyset) {
    if (query.limit === 0) return { total, groups: [] };
    const rows = base().select("g.*").orderBy("g.id").limit(query.limit);
    if (query.keyset.after) rows.where("g.id", ">", query.keyset.after);
    return { total, groups: (await rows).map(fromRow) };
  }
  if (query.limit === 0 || query.offset >= total) return { total, groups: [] };
  const rows = base().select("g.*").offset(query.offset).limit(query.limit);
  if (query.orderBy)
    rows.orderByRaw(`${query.orderBy.sql} ${query.orderBy.descending ? "desc" : "asc"} nulls last, g.id`);
  else rows.orderBy([{ column: "g.created_at" }, { column: "g.id" }]);
  return { total, groups: (await rows).map(fromRow) };
}
