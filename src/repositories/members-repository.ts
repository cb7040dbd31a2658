// SQL for members. Every function takes the org id first and filters by it.
import type { Db } from "../db/database.js";
import { hotQuery } from "../db/hot-query.js";
import type { Role } from "../domain/roles.js";
import { isTokenStillUsable, tokenStillUsable } from "./tokens-repository.js";

export type SeatStatus = "unassigned" | "pending" | "claimed" | "revoked";

export interface Member {
  orgId: string;
  id: string;
  userName: string;
  email: string | null;
  externalId: string | null;
  displayName: string | null;
  givenName: string | null;
  familyName: string | null;
  role: Role;
  roleSource: "manual" | "mapping";
  active: boolean;
  seatType: string | null;
  seatStatus: SeatStatus;
  seatReason: string;
  seatSource: "auto" | "manual";
  waitingFor: string | null;
  /** Every seat type that would end the wait (the plan's candidates); empty when not waiting. */
  waitingTypes: string[];
  waitingSince: Date | null;
  source: string;
  idpGroups: string[];
  /** All email addresses, lower-cased (SCIM filters on emails use the GIN index). */
  emails: string[];
  /** Visible to and managed by the org's SCIM client. */
  scimManaged: boolean;
  attributes: Record<string, unknown>;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

interface MemberRow {
  org_id: string;
  id: string;
  user_name: string;
  email: string | null;
  external_id: string | null;
  display_name: string | null;
  given_name: string | null;
  family_name: string | null;
  role: Role;
  role_source: "manual" | "mapping";
  active: boolean;
  seat_type: string | null;
  seat_status: SeatStatus;
  seat_reason: string;
  seat_source: "auto" | "manual";
  waiting_for: string | null;
  waiting_types: string[];
  waiting_since: Date | null;
  source: string;
  idp_groups: string[];
  emails: string[];
  scim_managed: boolean;
  attributes: Record<string, unknown>;
  version: number;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS: Record<keyof Member, keyof MemberRow> = {
  orgId: "org_id",
  id: "id",
  userName: "user_name",
  email: "email",
  externalId: "external_id",
  displayName: "display_name",
  givenName: "given_name",
  familyName: "family_name",
  role: "role",
  roleSource: "role_source",
  active: "active",
  seatType: "seat_type",
  seatStatus: "seat_status",
  seatReason: "seat_reason",
  seatSource: "seat_source",
  waitingFor: "waiting_for",
  waitingTypes: "waiting_types",
  waitingSince: "waiting_since",
  source: "source",
  idpGroups: "idp_groups",
  emails: "emails",
  scimManaged: "scim_managed",
  attributes: "attributes",
  version: "version",
  createdAt: "created_at",
  updatedAt: "updated_at",
};

const COLUMN_ENTRIES = Object.entries(COLUMNS) as [keyof Member, keyof MemberRow][];
/** Every member column by name: a prepared statement's result must not change when a migration adds one. */
const MEMBER_COLUMNS_SQL = COLUMN_ENTRIES.map(([, column]) => `"${column}"`).join(", ");

function fromRow(row: MemberRow): Member {
  const member = {} as Record<string, unknown>;
  for (const [key, column] of COLUMN_ENTRIES) member[key] = row[column];
  return member as unknown as Member;
}

/** What a SCIM User shows of a member: SCIM lists read only these columns (less to send and to parse). */
export type ScimMemberView = Pick<
  Member,
  | "id"
  | "userName"
  | "externalId"
  | "active"
  | "attributes"
  | "seatType"
  | "seatStatus"
  | "seatReason"
  | "createdAt"
  | "updatedAt"
  | "version"
>;
const SCIM_VIEW_ENTRIES = (
  [
    "id",
    "userName",
    "externalId",
    "active",
    "attributes",
    "seatType",
    "seatStatus",
    "seatReason",
    "createdAt",
    "updatedAt",
    "version",
  ] as const
).map((key) => [key, COLUMNS[key]] as const);
const SCIM_VIEW_SQL = SCIM_VIEW_ENTRIES.map(([, column]) => `m.${column}`).join(", ");

function scimViewFromRow(row: MemberRow): ScimMemberView {
  const view = {} as Record<string, unknown>;
  for (const [key, column] of SCIM_VIEW_ENTRIES) view[key] = row[column];
  return view as unknown as ScimMemberView;
}

function toRow(fields: Partial<Member>): Partial<MemberRow> {
  const row: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const column = COLUMNS[key as keyof Member];
    // jsonb: pg serializes objects itself, but arrays must be passed as JSON text.
    row[column] = column === "attributes" ? JSON.stringify(value) : value;
  }
  return row as Partial<MemberRow>;
}

export type NewMember = Pick<Member, "id" | "userName" | "seatReason" | "source"> &
  Partial<Omit<Member, "orgId" | "version" | "createdAt" | "updatedAt">>;

export async function insertMember(db: Db, orgId: string, fields: NewMember): Promise<Member> {
  const [row] = await db<MemberRow>("members")
    .insert({ ...toRow(fields), org_id: orgId })
    .returning("*");
  return fromRow(row as MemberRow);
}

/** Inserts unless the userName (or id) is taken; null then. One statement instead of a look and an insert. */
export async function insertMemberIfAbsent(db: Db, orgId: string, fields: NewMember): Promise<Member | null> {
  const rows = await db<MemberRow>("members")
    .insert({ ...toRow(fields), org_id: orgId })
    .onConflict()
    .ignore()
    .returning("*");
  return rows[0] ? fromRow(rows[0] as MemberRow) : null;
}

/** What a statement that also checked the caller's token found. */
export interface TokenChecked<T> {
  tokenUsable: boolean;
  result: T;
}

/** One create of a batch (see insertMembersWithSeats). */
export interface SeatedMemberItem {
  member: NewMember;
  tokenId?: string;
  audit: { actor: string; requestId: string | null; created: unknown; before: unknown };
}

// The member columns a one-statement create writes; every item gives all of them (null where unset).
const BATCH_COLUMNS = [
  "id",
  "user_name",
  "external_id",
  "display_name",
  "given_name",
  "family_name",
  "email",
  "emails",
  "attributes",
  "scim_managed",
  "active",
  "seat_reason",
  "source",
  "seat_status",
  "seat_source",
] as const;

const BATCH_SQL = `with items as (
       select x.n, x.token_id, x.actor, x.request_id, x.created, x.before, r.*
         from jsonb_to_recordset(?::jsonb) as x(n int, token_id uuid, actor text, request_id text, created jsonb, before jsonb, member jsonb)
         cross join lateral jsonb_populate_record(null::members, x.member) as r),
     usable as (
       select i.n from items i
        where i.token_id is null
           or exists (select 1 from api_tokens t where t.id = i.token_id and t.revoked_at is null and (t.expires_at is null or t.expires_at > now()))),
     free as (
       select seat_type, purchased - used as free, array_position(?::text[], seat_type) as rank
         from seat_allocations where org_id = ? and seat_type = any(?::text[]) and used < purchased),
     ranges as (
       select seat_type, sum(free) over (order by rank) - free as lo, sum(free) over (order by rank) as hi from free),
     numbered as (
       select i.*, row_number() over (order by i.n) as k from items i where i.n in (select n from usable)
          -- An invited person SCIM does not manage yet is adopted, on the transactional path (one member per person).
          and not exists (select 1 from members m where m.org_id = ? and m.source = 'invitation' and not m.scim_managed
                            and ((i.external_id is not null and m.external_id = i.external_id)
                                 or m.emails && i.emails or lower(m.user_name) = lower(i.user_name)))),
     placed as (
       select numbered.*, ranges.seat_type as chosen from numbered join ranges on numbered.k > ranges.lo and numbered.k <= ranges.hi),
     ins as (
       insert into members (org_id, seat_type, ${BATCH_COLUMNS.join(", ")})
       select ?, placed.chosen, ${BATCH_COLUMNS.map((c) => `placed.${c}`).join(", ")} from placed order by placed.n
       returning ${MEMBER_COLUMNS_SQL}),
     snapshot as (
       select ins.id, placed.n, placed.actor, placed.request_id, placed.created, placed.before,
              jsonb_build_object('seatType', ins.seat_type, 'seatStatus', ins.seat_status, 'seatReason', ins.seat_reason,
                                 'waitingFor', ins.waiting_for, 'role', ins.role) as after
         from ins join placed on placed.id = ins.id),
     created as (
       insert into audit_events (org_id, actor, action, member_id, after, request_id)
       select ?, actor, 'member.created', id, created, request_id from snapshot order by n),
     seated as (
       insert into audit_events (org_id, actor, action, member_id, before, after, reason, request_id)
       select ?, actor, 'seat.changed', id, before, after, ?, request_id from snapshot order by n),
     event as (
       insert into outbox (org_id, topic, payload)
       select ?, e.topic, e.payload from snapshot,
         lateral (values
           (1, 'member.created', jsonb_build_object('orgId', ?::text, 'memberId', snapshot.id, 'before', 'null'::jsonb,
                                                    'after', snapshot.created, 'reason', 'null'::jsonb)),
           (2, 'member.seat_changed', jsonb_build_object('orgId', ?::text, 'memberId', snapshot.id,
                                                         'before', snapshot.before, 'after', snapshot.after,
                                                         'reason', ?::text))) e(k, topic, payload)
        order by snapshot.n, e.k),
     seat as (
       update seat_allocations s set used = s.used + taken.count
         from (select seat_type, count(*) as count from ins group by seat_type) taken
        where s.org_id = ? and s.seat_type = taken.seat_type)
     select i.n, i.n in (select n from usable) as token_usable, ins.*
       from items i left join placed p on p.n = i.n left join ins on ins.id = p.id
      order by i.n`;

/**
 * Creates members who take free seats, with their audit events (created, seat changed) and outbox events,
 * in ONE autocommit statement, for one create or several of one org at once (services/create-batches.ts:
 * under load, creates queue for the org's pool rows anyway, so taking them together holds each row once for
 * the lot). Free seats go to the items in order, best type first, by a plain read; the pool rows are
 * updated last (PostgreSQL runs that update after the inserts it reads from) and held only until the
 * commit. An item left without a seat, or whose token was revoked, gets null and nothing written: the
 * caller takes the transactional path, which handles waiting. Any failure writes nothing for anyone: a
 * taken userName (23505), or a type another process filled meanwhile (the capacity check, 23514). An item
 * that is an invited person (same userName, externalId or email as a member an invitation made and SCIM
 * does not manage yet) also gets null: the transactional path adopts that member.
 */
export async function insertMembersWithSeats(
  db: Db,
  orgId: string,
  batch: { seatTypes: string[]; seatReason: string; items: SeatedMemberItem[] },
): Promise<TokenChecked<Member | null>[]> {
  const items = batch.items.map((item, n) => {
    const row = toRow({
      ...item.member,
      seatStatus: "claimed",
      seatReason: batch.seatReason,
      seatSource: "auto",
    }) as Record<string, unknown>;
    const member = Object.fromEntries(
      BATCH_COLUMNS.map((c) => [c, c === "attributes" ? JSON.parse(String(row[c] ?? "{}")) : (row[c] ?? null)]),
    );
    return {
      n,
      token_id: item.tokenId ?? null,
      actor: item.audit.actor,
      request_id: item.audit.requestId,
      created: item.audit.created,
      before: item.audit.before,
      member,
    };
  });
  const rows = await hotQuery<MemberRow & { n: number; token_usable: boolean }>(
    db,
    BATCH_SQL,
    [
      JSON.stringify(items),
      batch.seatTypes,
      orgId,
      batch.seatTypes,
      orgId,
      orgId,
      orgId,
      orgId,
      batch.seatReason,
      orgId,
      orgId,
      orgId,
      batch.seatReason,
      orgId,
    ],
    { prepare: true },
  );
  // One row per item, in item order (n); anything else is a bug, and no request may get another's answer.
  if (rows.length !== items.length || rows.some((r, i) => Number(r.n) !== i))
    throw new Error("batch create: result rows do not match the items");
  return rows.map((r) => ({ tokenUsable: r.token_usable === true, result: r.id ? fromRow(r) : null }));
}

export async function findMember(
  db: Db,
  orgId: string,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<Member | null> {
  if (!isUuid(id)) return null;
  const query = db<MemberRow>("members").where({ org_id: orgId, id }).first();
  if (options.forUpdate) query.forUpdate();
  const row = await query;
  return row ? fromRow(row as MemberRow) : null;
}

export async function findMemberByUserName(db: Db, orgId: string, userName: string): Promise<Member | null> {
  const row = await db<MemberRow>("members")
    .where({ org_id: orgId })
    .whereRaw("lower(user_name) = lower(?)", [userName])
    .first();
  return row ? fromRow(row as MemberRow) : null;
}

/** The one member with this email (any of their addresses), or null when none or several have it. */
export async function findMemberByEmail(db: Db, orgId: string, email: string): Promise<Member | null> {
  const rows = await db<MemberRow>("members")
    .where({ org_id: orgId })
    .where((w) =>
      w.whereRaw("lower(email) = lower(?)", [email]).orWhereRaw("emails @> array[lower(?)]::text[]", [email]),
    )
    .limit(2);
  return rows.length === 1 ? fromRow(rows[0] as MemberRow) : null;
}

export async function updateMember(db: Db, orgId: string, id: string, fields: Partial<Member>): Promise<Member> {
  const [row] = await db<MemberRow>("members")
    .where({ org_id: orgId, id })
    .update({ ...toRow(fields), version: db.raw("version + 1"), updated_at: db.fn.now() } as never)
    .returning("*");
  return fromRow(row as MemberRow);
}

export async function deleteMember(db: Db, orgId: string, id: string): Promise<void> {
  await db("members").where({ org_id: orgId, id }).delete();
}

export interface MemberFilter {
  seatType?: string; // a type or "unassigned"
  role?: Role;
  status?: "active" | "inactive" | "waiting";
  q?: string;
  /** Why the seat is held: "mapping" (any mapping), "waiting" (any type), or a reason as stored. */
  reason?: string;
  source?: string;
}

/** Keyset pagination by id: stable under inserts, and each page costs the same whatever its depth. */
export async function listMembers(
  db: Db,
  orgId: string,
  filter: MemberFilter,
  after: string | null,
  limit: number,
): Promise<Member[]> {
  const query = db<MemberRow>("members").where({ org_id: orgId }).orderBy("id").limit(limit);
  if (after) query.where("id", ">", after);
  if (filter.seatType === "unassigned") query.whereNull("seat_type");
  else if (filter.seatType) query.where({ seat_type: filter.seatType });
  if (filter.role) query.where({ role: filter.role });
  if (filter.status === "active") query.where({ active: true });
  if (filter.status === "inactive") query.where({ active: false });
  if (filter.status === "waiting") query.whereNotNull("waiting_for");
  if (filter.reason === "mapping") query.whereRaw("seat_reason like 'mapping:%'");
  else if (filter.reason === "waiting") query.whereNotNull("waiting_for");
  else if (filter.reason) query.where({ seat_reason: filter.reason });
  if (filter.source) query.where({ source: filter.source });
  if (filter.q && /^[^\s@%_\\]+@[^\s@%_\\]+\.[^\s@%_\\]+$/.test(filter.q)) {
    // A whole email address: the indexed exact lookups, not a scan of every member's name.
    const exact = filter.q.toLowerCase();
    query.where((w) =>
      w
        .whereRaw("lower(user_name) = ?", [exact])
        .orWhereRaw("lower(email) = ?", [exact])
        .orWhereRaw("emails @> array[?]::text[]", [exact]),
    );
  } else if (filter.q) {
    const like = `%${filter.q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    query.where((w) =>
      w
        .whereRaw("lower(user_name) like ?", [like])
        .orWhereRaw("lower(coalesce(email, '')) like ?", [like])
        .orWhereRaw("lower(coalesce(display_name, '')) like ?", [like]),
    );
  }
  return (await query).map((r) => fromRow(r as MemberRow));
}

export async function listMemberIds(db: Db, orgId: string, after: string | null, limit: number): Promise<string[]> {
  const query = db("members").where({ org_id: orgId }).orderBy("id").limit(limit).pluck("id");
  if (after) query.where("id", ">", after);
  return query;
}

/** Every value a group mapping can match for this member: SCIM group ids, externalIds, displayNames, SAML groups. */
export async function memberGroupKeys(
  db: Db,
  orgId: string,
  member: Pick<Member, "id" | "idpGroups">,
): Promise<string[]> {
  const rows: { id: string; external_id: string | null; display_name: string }[] = await db("group_members as gm")
    .join("groups as g", function () {
      this.on("g.org_id", "gm.org_id").andOn("g.id", "gm.group_id");
    })
    .where({ "gm.org_id": orgId, "gm.member_id": member.id })
    .select("g.id", "g.external_id", "g.display_name");
  const keys = rows.flatMap((r) => [r.id, r.display_name, ...(r.external_id ? [r.external_id] : [])]);
  return [...keys, ...member.idpGroups];
}

export async function memberGroupNames(
  db: Db,
  orgId: string,
  memberId: string,
): Promise<{ id: string; displayName: string }[]> {
  const rows: { id: string; display_name: string }[] = await db("group_members as gm")
    .join("groups as g", function () {
      this.on("g.org_id", "gm.org_id").andOn("g.id", "gm.group_id");
    })
    .where({ "gm.org_id": orgId, "gm.member_id": memberId })
    .orderBy("g.display_name")
    .select("g.id", "g.display_name");
  return rows.map((r) => ({ id: r.id, displayName: r.display_name }));
}

/**
 * The member who has waited longest among those who would take a seat of this type (waiting for it, for
 * any type, or for a type whose policy lets them fall back to it), locked for the caller.
 *
 * First with SKIP LOCKED, so a release does not queue behind a waiter another transaction is handling
 * while someone else waits too. When that finds nobody, once more without it: the only waiter may be
 * locked by a transaction that ends up leaving them waiting (a refused reassignment, their own SCIM
 * update), and skipping them would leave a free seat and a waiter side by side. A deadlock this may cause
 * with such a transaction is retried by withTransaction.
 */
export async function lockLongestWaiting(
  db: Db,
  orgId: string,
  seatType: string,
  excludeId: string | null,
): Promise<Member | null> {
  const query = (skipLocked: boolean) => {
    const q = db<MemberRow>("members")
      .where({ org_id: orgId, active: true })
      .whereNotNull("waiting_for")
      .whereRaw("? = any(waiting_types)", [seatType])
      .orderBy([{ column: "waiting_since" }, { column: "id" }])
      .first()
      .forUpdate();
    if (skipLocked) q.skipLocked();
    if (excludeId) q.whereNot({ id: excludeId });
    return q;
  };
  const row = (await query(true)) ?? (await query(false));
  return row ? fromRow(row as MemberRow) : null;
}

export async function countMembersBySeat(
  db: Db,
  orgId: string,
): Promise<{ seatType: string | null; waitingFor: string | null; count: number }[]> {
  const rows: { seat_type: string | null; waiting_for: string | null; count: number }[] = await db("members")
    .where({ org_id: orgId, active: true })
    .groupBy("seat_type", "waiting_for")
    .select("seat_type", "waiting_for", db.raw("count(*)::int as count"));
  return rows.map((r) => ({ seatType: r.seat_type, waitingFor: r.waiting_for, count: Number(r.count) }));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

export interface SqlFragment {
  sql: string;
  bindings: unknown[];
}

export interface ScimPageQuery {
  /** A filter compiled against the alias `m`. */
  where: SqlFragment | null;
  /** An ORDER BY expression over `m`, or null for creation order. */
  orderBy: { sql: string; descending: boolean } | null;
  offset: number;
  limit: number;
  /**
   * The filter can match only a few rows (an IdP's lookup by userName, externalId or id), so the total
   * can come with the page from one query. Never set for broad filters: a window count over many rows
   * would read them all.
   */
  fewMatches?: boolean;
  /** Cursor paging (RFC 9865): ids after `after` (null: from the start), in id order; offset is ignored. */
  keyset?: { after: string | null };
}

/** SCIM-visible members matching a compiled filter: a true total and one page. */
/**
 * A page of SCIM-managed members. With `tokenId`, the token's revocation is checked too: inside the lookup
 * statement when the filter names few rows (userName, externalId or id: what IdPs send), else first.
 */
export async function queryScimMembers(
  db: Db,
  orgId: string,
  query: ScimPageQuery,
  options: { tokenId?: string } = {},
): Promise<TokenChecked<{ total: number; members: ScimMemberView[] }>> {
  const base = () => {
    const q = db("members as m").where("m.org_id", orgId).where("m.scim_managed", true);
    if (query.where) q.whereRaw(query.where.sql, query.where.bindings as never[]);
    return q;
  };
  if (query.fewMatches && query.offset === 0 && query.limit > 0 && !query.keyset) {
    // What IdPs send before every create and update: one statement, with the total from the window count.
    const where = query.where ? ` and (${query.where.sql})` : "";
    const page = `select ${SCIM_VIEW_SQL}, count(*) over () as scim_total from members m where m.org_id = ? and m.scim_managed${where} order by m.created_at, m.id limit ?`;
    const pageBindings = [orgId, ...(query.where?.bindings ?? []), query.limit];
    let rows: (MemberRow & { scim_total: number })[];
    if (options.tokenId) {
      // The page only when the token is usable; one row of nulls with token_usable=false otherwise.
      const guard = tokenStillUsable(options.tokenId);
      const checked = await hotQuery<MemberRow & { scim_total: number; token_usable: boolean }>(
        db,
        `select tok.usable as token_usable, page.* from (select ${guard.sql} as usable) tok left join lateral (${page}) page on tok.usable`,
        [...guard.bindings, ...pageBindings],
        { prepare: true },
      );
      if (!checked[0]?.token_usable) return { tokenUsable: false, result: { total: 0, members: [] } };
      rows = checked.filter((r) => r.id !== null);
    } else {
      rows = await hotQuery<MemberRow & { scim_total: number }>(db, page, pageBindings, { prepare: true });
    }
    return {
      tokenUsable: true,
      result: { total: Number(rows[0]?.scim_total ?? 0), members: rows.map((r) => scimViewFromRow(r)) },
    };
  }
  if (options.tokenId && !(await isTokenStillUsable(db, options.tokenId)))
    return { tokenUsable: false, result: { total: 0, members: [] } };
  const countRow = await base().count<{ count: number }[]>({ count: "*" }).first();
  const total = Number(countRow?.count ?? 0);
  if (query.keyset) {
    const rows = base().select(db.raw(SCIM_VIEW_SQL)).orderBy("m.id").limit(query.limit);
    if (query.keyset.after) rows.where("m.id", ">", query.keyset.after);
    const members = query.limit === 0 ? [] : (await rows).map((r) => scimViewFromRow(r as MemberRow));
    return { tokenUsable: true, result: { total, members } };
  }
  if (query.limit === 0 || query.offset >= total) return { tokenUsable: true, result: { total, members: [] } };
  const rows = base().select(db.raw(SCIM_VIEW_SQL)).offset(query.offset).limit(query.limit);
  if (query.orderBy)
    rows.orderByRaw(`${query.orderBy.sql} ${query.orderBy.descending ? "desc" : "asc"} nulls last, m.id`);
  else rows.orderBy([{ column: "m.created_at" }, { column: "m.id" }]);
  return { tokenUsable: true, result: { total, members: (await rows).map((r) => scimViewFromRow(r as MemberRow)) } };
}

export async function findPrimaryOwner(db: Db, orgId: string): Promise<Member | null> {
  const row = await db<MemberRow>("members").where({ org_id: orgId, role: "primary_owner" }).first();
  return row ? fromRow(row as MemberRow) : null;
}

/** The one member with this externalId, or null when none or several have it. */
export async function findMemberByExternalId(db: Db, orgId: string, externalId: string): Promise<Member | null> {
  const rows = await db<MemberRow>("members").where({ org_id: orgId, external_id: externalId }).limit(2);
  return rows.length === 1 ? fromRow(rows[0] as MemberRow) : null;
}

/**
 * A member an invitation created whom SCIM does not manage yet and whom this SCIM user is (same externalId,
 * or one of the same email addresses): SCIM adopts them instead of creating a second member and seat.
 */
export async function findInvitedPerson(
  db: Db,
  orgId: string,
  person: { externalId: string | null; emails: string[] },
): Promise<Member | null> {
  const emails = person.emails.map((e) => e.toLowerCase());
  if (!person.externalId && emails.length === 0) return null;
  const row = await db<MemberRow>("members")
    .where({ org_id: orgId, source: "invitation", scim_managed: false })
    .where((w) => {
      if (person.externalId) w.orWhere({ external_id: person.externalId });
      if (emails.length) w.orWhereRaw("emails && ?::text[]", [emails]);
    })
    .orderBy("created_at")
    .first();
  return row ? fromRow(row as MemberRow) : null;
}

/** Where to tell an org's admins something (active admins and owners with an address), at most `limit`. */
export async function adminEmails(db: Db, orgId: string, limit = 20): Promise<string[]> {
  const rows = await db("members")
    .where({ org_id: orgId, active: true })
    .whereIn("role", ["primary_owner", "owner", "admin"])
    .whereNotNull("email")
    .orderBy("id")
    .limit(limit)
    .select("email");
  return rows.map((r: { email: string }) => r.email);
}
