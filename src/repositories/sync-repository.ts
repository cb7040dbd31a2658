// The members a mapping change or a sync must touch, found in one set-based statement: which mapping groups
// each member is in, what the rules of DOMAIN §3 give them, and whether that differs from what they have.
// The predicate is domain/sync-plan.ts `wouldChange(m, reconcileOutcome(...))` written in SQL; the preview
// and the job both use it, and test/integration/sync-jobs.test.ts checks the two against each other.
import type { Knex } from "knex";
import type { Db } from "../db/database.js";
import type { Catalog } from "../domain/catalog.js";
import { ROLES, type Role } from "../domain/roles.js";
import { type ExhaustedPolicy, type GroupMappingRule, sortMappings } from "../domain/seat-plan.js";
import type { RuleMember } from "../domain/sync-plan.js";

export interface CandidateQuery {
  catalog: Catalog;
  mappings: GroupMappingRule[];
  policy: ExhaustedPolicy;
  /** Keyset: only members with a greater id. */
  after?: string | null;
  limit?: number;
  /** Count every seat type as free: every member that could change under some free seats (for the preview). */
  assumeFree?: boolean;
  /** Everyone waiting too, changing or not (a preview needs them for promotions). */
  includeWaiting?: boolean;
  /** Only count them. */
  countOnly?: boolean;
  /** Only these members, whatever the rules would do to them (a job's batch, read again under its locks). */
  ids?: string[];
}

interface CandidateRow {
  id: string;
  active: boolean;
  role: Role;
  role_source: "manual" | "mapping";
  seat_type: string | null;
  seat_status: string;
  seat_reason: string;
  seat_source: "auto" | "manual";
  waiting_for: string | null;
  waiting_types: string[];
  waiting_since: Date | null;
  matched_groups: string[];
}

const ROLE_RANK = Object.fromEntries(ROLES.map((r, i) => [r, ROLES.length - i]));

function sqlInputs(q: CandidateQuery) {
  const byRank = q.catalog.seatTypes.map((s) => s.type);
  const types = byRank.map((seat_type, pos) => ({ seat_type, pos }));
  const maps = sortMappings(q.mappings).map((m, ord) => ({
    grp: m.group,
    seat_pos: m.seatType !== null && byRank.includes(m.seatType) ? byRank.indexOf(m.seatType) : null,
    role: m.role,
    role_rank: m.role ? ROLE_RANK[m.role] : null,
    ord,
  }));
  return { types: JSON.stringify(types), maps: JSON.stringify(maps) };
}

// in_c(pos): the seat type at catalog position pos is one of the plan's candidates.
const IN_C = (pos: string, row = "b") =>
  `(${pos} >= coalesce(${row}.target_pos, 0) and (${row}.target_pos is null or not ${row}.only_target or ${pos} = ${row}.target_pos))`;

const CANDIDATES_SQL = `
with types as (select * from jsonb_to_recordset(:types::jsonb) as t(seat_type text, pos int)),
     maps as (select * from jsonb_to_recordset(:maps::jsonb) as x(grp text, seat_pos int, role text, role_rank int, ord int)),
     free as (
       select t.pos from types t join seat_allocations a on a.org_id = :orgId and a.seat_type = t.seat_type
        where a.used < a.purchased or :assumeFree::boolean),
     mgroups as (
       select g.id, mp.* from groups g
         join maps mp on lower(mp.grp) in (lower(g.id::text), lower(g.display_name), lower(g.external_id))
        where g.org_id = :orgId),
     matched as (
       select gm.member_id, mg.grp, mg.seat_pos, mg.role, mg.role_rank, mg.ord
         from group_members gm join mgroups mg on mg.id = gm.group_id
        where gm.org_id = :orgId %IDS_GM%
       union all
       select m.id, mp.grp, mp.seat_pos, mp.role, mp.role_rank, mp.ord
         from members m join maps mp on exists (select 1 from unnest(m.idp_groups) k where lower(k) = lower(mp.grp))
        where m.org_id = :orgId and m.idp_groups <> '{}' %IDS_M%),
     plans as (
       select member_id,
              (array_agg(seat_pos order by ord) filter (where seat_pos is not null))[1] as target_pos,
              (array_agg(grp order by ord) filter (where seat_pos is not null))[1] as target_group,
              (array_agg(role order by role_rank desc) filter (where role is not null))[1] as plan_role,
              array_agg(distinct grp) as matched_groups
         from matched group by member_id),
     b as (
       select m.id, m.active, m.role, m.role_source, m.seat_type, m.seat_status, m.seat_reason, m.seat_source,
              m.waiting_for, m.waiting_types, m.waiting_since,
              coalesce(p.matched_groups, '{}') as matched_groups,
              p.target_pos, p.target_group, p.plan_role,
              (:policy::text = 'unassigned') as only_target,
              (select t.pos from types t where t.seat_type = m.seat_type) as cur_pos
         from members m left join plans p on p.member_id = m.id
        where m.org_id = :orgId and m.active and m.id > :after::uuid %IDS_M%),
     r as (
       select b.*,
              case when b.role = 'primary_owner' or (b.role_source = 'manual' and b.role <> 'member') then b.role
                   when b.plan_role is not null then b.plan_role
                   when b.role_source = 'mapping' then 'member'
                   else b.role end as new_role,
              case when b.role = 'primary_owner' or (b.role_source = 'manual' and b.role <> 'member') then b.role_source
                   when b.plan_role is not null then 'mapping'
                   when b.role_source = 'mapping' then 'manual'
                   else b.role_source end as new_role_source,
              (b.cur_pos is not null and ${IN_C("b.cur_pos")}) as in_cur,
              coalesce((select t.seat_type from types t where t.pos = b.target_pos), 'any') as wait_for,
              case when b.target_group is null then 'highest_available' else 'mapping:' || b.target_group end as exp_reason,
              array(select t.seat_type from types t where ${IN_C("t.pos")} order by t.pos) as cands
         from b),
     c as (
       select r.*,
              exists (select 1 from free f where ${IN_C("f.pos", "r")} and (not r.in_cur or f.pos < r.cur_pos)) as can_claim
         from r)
select %SELECT% from c
 where (%ALL% (case
   when c.seat_source = 'manual' then c.new_role <> c.role
   when c.can_claim then true
   when c.in_cur then not ((case when c.seat_reason = 'promoted' then 'promoted' else c.exp_reason end) = c.seat_reason
                           and c.new_role = c.role and c.waiting_for is null)
   else (c.seat_type is not null or c.seat_status <> 'unassigned'
         or c.seat_reason <> (case when c.wait_for = 'any' then 'exhausted' else 'waiting:' || c.wait_for end)
         or c.waiting_for is distinct from c.wait_for or c.waiting_types <> c.cands or c.waiting_since is null
         or c.new_role <> c.role or c.new_role_source <> c.role_source)
   end)) %WAITING%
 %ORDER%`;

const NIL_UUID = "00000000-0000-0000-0000-000000000000";

function fromRow(r: CandidateRow): RuleMember {
  return {
    id: r.id,
    active: r.active,
    role: r.role,
    roleSource: r.role_source,
    seatType: r.seat_type,
    seatStatus: r.seat_status,
    seatReason: r.seat_reason,
    seatSource: r.seat_source,
    waitingFor: r.waiting_for,
    waitingTypes: r.waiting_types,
    waitingSince: r.waiting_since,
    matchedGroups: r.matched_groups,
  };
}

function build(orgId: string, q: CandidateQuery) {
  const { types, maps } = sqlInputs(q);
  const sql = CANDIDATES_SQL.replace(
    "%SELECT%",
    q.countOnly
      ? "count(*)::int as n"
      : "c.id, c.active, c.role, c.role_source, c.seat_type, c.seat_status, c.seat_reason, c.seat_source, c.waiting_for, c.waiting_types, c.waiting_since, c.matched_groups",
  )
    .replace("%IDS_GM%", q.ids ? "and gm.member_id = any(:ids::uuid[])" : "")
    .replaceAll("%IDS_M%", q.ids ? "and m.id = any(:ids::uuid[])" : "")
    .replace("%ALL%", q.ids ? "true or" : "")
    .replace("%WAITING%", q.includeWaiting ? "or c.waiting_for is not null" : "")
    .replace("%ORDER%", q.countOnly ? "" : `order by c.id${q.limit ? ` limit ${Math.trunc(q.limit)}` : ""}`);
  const named: Record<string, Knex.Value> = {
    types,
    maps,
    orgId,
    policy: q.policy,
    assumeFree: q.assumeFree ?? false,
    after: q.after ?? NIL_UUID,
    ids: q.ids ?? [],
  };
  // Positional bindings: knex's named ones would read the casts (":types::jsonb") as identifiers.
  const bindings: Knex.Value[] = [];
  const positional = sql.replace(/:(types|maps|orgId|policy|assumeFree|after|ids)\b/g, (_, name: string) => {
    bindings.push(named[name]);
    return "?";
  });
  return { sql: positional, bindings };
}

/** Members whose seat or role the rules would change now, in id order. */
export async function findSyncCandidates(db: Db, orgId: string, q: CandidateQuery): Promise<RuleMember[]> {
  const { sql, bindings } = build(orgId, q);
  const { rows } = (await db.raw(sql, bindings)) as { rows: CandidateRow[] };
  return rows.map(fromRow);
}

export async function countSyncCandidates(db: Db, orgId: string, q: CandidateQuery): Promise<number> {
  const { sql, bindings } = build(orgId, { ...q, countOnly: true });
  const { rows } = (await db.raw(sql, bindings)) as { rows: { n: number }[] };
  return Number(rows[0]?.n ?? 0);
}

/** Free seats per type now (a held seat is not free: it stays counted in used). */
export async function freeSeatsByType(db: Db, orgId: string): Promise<Record<string, number>> {
  const rows: { seat_type: string; purchased: number; used: number }[] = await db("seat_allocations")
    .where({ org_id: orgId })
    .select("seat_type", "purchased", "used");
  return Object.fromEntries(rows.map((r) => [r.seat_type, Math.max(0, Number(r.purchased) - Number(r.used))]));
}

export async function countActiveMembers(db: Db, orgId: string): Promise<number> {
  const [row] = await db("members").where({ org_id: orgId, active: true }).count<{ n: string }[]>({ n: "*" });
  return Number(row?.n ?? 0);
}

// A job's batch, applied with set-based statements (services/jobs-service.ts applyBatch): lock the batch's
// members, the waiters a freed seat may promote and the pools, then write every change in one statement each.

/** Locks these members (id order, so two batches cannot deadlock each other). */
export async function lockMembers(db: Db, orgId: string, ids: string[]): Promise<void> {
  await db.raw(`select id from members where org_id = ? and id = any(?::uuid[]) order by id for update`, [orgId, ids]);
}

/**
 * The `limit` longest waiters for each of `seatTypes`, outside `exclude`, locked (rows another transaction
 * holds are skipped, as lockLongestWaiting's first look does). A batch frees at most `limit` seats of a type,
 * so nobody further down any queue can be promoted by it.
 */
export async function lockWaiters(
  db: Db,
  orgId: string,
  seatTypes: string[],
  exclude: string[],
  limit: number,
): Promise<RuleMember[]> {
  if (seatTypes.length === 0) return [];
  const { rows } = (await db.raw(
    `select w.* from unnest(?::text[]) as t(seat_type) cross join lateral (
       select m.id, m.active, m.role, m.role_source, m.seat_type, m.seat_status, m.seat_reason, m.seat_source,
              m.waiting_for, m.waiting_types, m.waiting_since, '{}'::text[] as matched_groups
         from members m
        where m.org_id = ? and m.active and m.waiting_for is not null and t.seat_type = any(m.waiting_types)
          and m.id <> all(?::uuid[])
        order by m.waiting_since, m.id limit ? for update skip locked) w`,
    [seatTypes, orgId, exclude, Math.trunc(limit)],
  )) as { rows: CandidateRow[] };
  const seen = new Map<string, RuleMember>();
  for (const r of rows) if (!seen.has(r.id)) seen.set(r.id, fromRow(r));
  return [...seen.values()];
}

/** Locks the org's pools, best type first (the allocator's lock order), and returns the free seats of each. */
export async function lockPools(db: Db, orgId: string, byRank: string[]): Promise<Record<string, number>> {
  const { rows } = (await db.raw(
    `select seat_type, purchased, used from seat_allocations where org_id = ?
      order by array_position(?::text[], seat_type), seat_type for update`,
    [orgId, byRank],
  )) as { rows: { seat_type: string; purchased: number; used: number }[] };
  return Object.fromEntries(rows.map((r) => [r.seat_type, Math.max(0, Number(r.purchased) - Number(r.used))]));
}

/**
 * Adds `delta` to a pool's used seats; the database refuses to go past capacity (or below zero): false then,
 * and the caller's transaction must roll back.
 */
export async function addUsed(db: Db, orgId: string, seatType: string, delta: number): Promise<boolean> {
  const updated = await db("seat_allocations")
    .where({ org_id: orgId, seat_type: seatType })
    .whereRaw("used + ? <= purchased and used + ? >= 0", [delta, delta])
    .update({ used: db.raw("used + ?", [delta]) });
  return updated === 1;
}

/** Writes the rule fields of many members in one statement (each member's version goes up, as updateMember's). */
export async function updateRuleFields(db: Db, orgId: string, members: RuleMember[]): Promise<void> {
  if (members.length === 0) return;
  const values = members.map((m) => ({
    id: m.id,
    role: m.role,
    role_source: m.roleSource,
    seat_type: m.seatType,
    seat_status: m.seatStatus,
    seat_reason: m.seatReason,
    waiting_for: m.waitingFor,
    waiting_types: m.waitingTypes,
    waiting_since: m.waitingSince?.toISOString() ?? null,
  }));
  await db.raw(
    `update members as m
        set role = v.role, role_source = v.role_source, seat_type = v.seat_type, seat_status = v.seat_status,
            seat_reason = v.seat_reason, waiting_for = v.waiting_for, waiting_types = v.waiting_types,
            waiting_since = v.waiting_since, version = m.version + 1, updated_at = now()
       from jsonb_to_recordset(?::jsonb) as v(id uuid, role text, role_source text, seat_type text,
            seat_status text, seat_reason text, waiting_for text, waiting_types text[], waiting_since timestamptz)
      where m.org_id = ? and m.id = v.id`,
    [JSON.stringify(values), orgId],
  );
}

export interface SeatChangeEvent {
  memberId: string;
  action: string;
  before: unknown;
  after: unknown;
  reason: string;
}

/**
 * Audit events and their `member.seat_changed` outbox rows for many seat changes, in two multi-row inserts of
 * one statement, in the order given (the allocator's record() writes the same rows one at a time).
 */
export async function appendSeatChanges(
  db: Db,
  orgId: string,
  actor: string,
  requestId: string | null,
  events: SeatChangeEvent[],
): Promise<void> {
  if (events.length === 0) return;
  const rows = events.map((e, ord) => ({ ord, ...e, member_id: e.memberId }));
  await db.raw(
    `with ev as (
       select * from jsonb_to_recordset(?::jsonb)
         as e(ord int, member_id uuid, action text, before jsonb, after jsonb, reason text)),
     a as (
       insert into audit_events (org_id, actor, action, member_id, before, after, reason, request_id)
       select ?, ?, action, member_id, before, after, reason, ? from ev order by ord)
     insert into outbox (org_id, topic, payload)
     select ?, 'member.seat_changed',
            jsonb_build_object('orgId', ?::text, 'memberId', member_id, 'before', before, 'after', after, 'reason', reason)
       from ev order by ord`,
    [JSON.stringify(rows), orgId, actor, requestId, orgId, orgId],
  );
}
