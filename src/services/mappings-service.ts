// Group mappings: read, replace (then re-run the rules for everyone), preview, sync.
import { z } from "zod";
import type { Knex } from "knex";
import { withTransaction } from "../db/transaction.js";
import { DomainError } from "../domain/errors.js";
import { mayGrant, type Role, ROLES } from "../domain/roles.js";
import { type GroupMappingRule, sortMappings } from "../domain/seat-plan.js";
import { appendAudit } from "../repositories/audit-repository.js";
import { queryGroups } from "../repositories/groups-repository.js";
import { listMappings, replaceMappings } from "../repositories/mappings-repository.js";
import { listMemberIds } from "../repositories/members-repository.js";
import type { Org } from "../repositories/orgs-repository.js";
import { type Actor, changeContext, loadOrg, type ServiceDeps } from "./context.js";
import { changeSeat, type SeatSnapshot } from "./seat-allocator.js";

export const mappingsInput = z
  .array(
    z
      .object({
        group: z.string().trim().min(1).max(256),
        seatType: z.string().min(1).max(40).nullable().optional(),
        role: z.enum(ROLES).exclude(["primary_owner"]).nullable().optional(),
        priority: z.number().int().min(0).max(1_000_000),
      })
      .strict()
      .refine((m) => m.seatType || m.role, "a mapping needs a seatType, a role, or both"),
  )
  .max(500);
export type MappingsInput = z.infer<typeof mappingsInput>;

/** Who saves mappings: an admin API caller carries a role; the operator (CLI, operator API) does not. */
export type MappingsActor = Actor & { role?: Role };

function ruleKey(m: GroupMappingRule): string {
  return JSON.stringify([m.group.toLowerCase(), m.seatType, m.role, m.priority]);
}

/**
 * Nobody grants more than they have (DOMAIN §2): a caller may not add, change or remove a mapping that gives
 * a role above their own, so an admin can neither make owners through a group nor take owners' roles away.
 * Mappings above the caller's role that stay exactly as they were are fine, so an admin can still save a
 * list they read back with GET.
 */
function checkGrants(actor: MappingsActor, before: GroupMappingRule[], next: GroupMappingRule[]): void {
  const grantor = actor.role;
  if (!grantor) return;
  const above = (rules: GroupMappingRule[]) =>
    new Set(rules.filter((m) => m.role && !mayGrant(grantor, m.role)).map(ruleKey));
  const was = above(before);
  const now = above(next);
  const changed = [...now].some((k) => !was.has(k)) || [...was].some((k) => !now.has(k));
  if (!changed) return;
  const roles = [...before, ...next].filter((m) => m.role && !mayGrant(grantor, m.role)).map((m) => m.role as Role);
  const needed: Role = roles.includes("owner") ? "owner" : "primary_owner";
  throw new DomainError(
    "forbidden",
    `a group mapping that gives the ${needed} role can be saved only by the ${needed} role or higher; you are ${grantor}`,
    { requiredRole: needed },
  );
}

function normalize(org: Org, deps: ServiceDeps, input: MappingsInput): GroupMappingRule[] {
  const catalog = deps.catalogs.get(org.plan);
  const seen = new Set<string>();
  for (const m of input) {
    if (m.seatType && !catalog.seatTypes.some((s) => s.type === m.seatType)) {
      throw new DomainError(
        "invalid_request",
        `mapping for "${m.group}": plan ${catalog.id} has no seat type "${m.seatType}"`,
      );
    }
    const key = m.group.toLowerCase();
    if (seen.has(key)) throw new DomainError("invalid_request", `group "${m.group}" is mapped twice`);
    seen.add(key);
  }
  return sortMappings(
    input.map((m) => ({ group: m.group, seatType: m.seatType ?? null, role: m.role ?? null, priority: m.priority })),
  );
}

export async function getMappings(deps: ServiceDeps, orgId: string): Promise<GroupMappingRule[]> {
  await loadOrg(deps, deps.db, orgId);
  return listMappings(deps.db, orgId);
}

export interface MemberChange {
  memberId: string;
  before: SeatSnapshot;
  after: SeatSnapshot;
}

export interface SyncResult {
  evaluated: number;
  changed: number;
  /** The first changes (at most 1,000), for the admin to read. */
  changes: MemberChange[];
}

const BATCH = 500;
const LISTED_CHANGES = 1000;

/**
 * Re-runs the rules for every member, each in a short transaction of its own so a sync of a large org
 * never holds the seat pool for long. Idempotent: running it again changes nothing more.
 */
async function reconcileAll(deps: ServiceDeps, org: Org, actor: Actor, within?: Knex.Transaction): Promise<SyncResult> {
  const db = within ?? deps.db;
  const mappings = await listMappings(db, org.id);
  const ctx = { ...changeContext(deps, org, actor), mappings };
  const result: SyncResult = { evaluated: 0, changed: 0, changes: [] };
  let after: string | null = null;
  for (;;) {
    const ids = await listMemberIds(db, org.id, after, BATCH);
    if (ids.length === 0) break;
    for (const id of ids) {
      const run = (trx: Knex.Transaction) => changeSeat(trx, ctx, id, { kind: "reconcile" }, deps.now());
      const change = within ? await run(within) : await withTransaction(deps.db, run);
      result.evaluated++;
      if (change.changed) {
        result.changed++;
        if (result.changes.length < LISTED_CHANGES)
          result.changes.push({ memberId: id, before: change.before, after: change.after });
      }
    }
    after = ids[ids.length - 1];
  }
  return result;
}

export async function syncOrg(deps: ServiceDeps, orgId: string, actor: Actor): Promise<SyncResult> {
  const org = await loadOrg(deps, deps.db, orgId);
  const result = await reconcileAll(deps, org, actor);
  await appendAudit(deps.db, orgId, {
    actor: actor.actor,
    action: "mapping.sync",
    after: { evaluated: result.evaluated, changed: result.changed },
    requestId: actor.requestId,
  });
  return result;
}

export async function putMappings(
  deps: ServiceDeps,
  orgId: string,
  input: MappingsInput,
  actor: MappingsActor,
): Promise<{ mappings: GroupMappingRule[]; sync: SyncResult }> {
  const mappings = await withTransaction(deps.db, async (trx) => {
    const org = await loadOrg(deps, trx, orgId);
    const next = normalize(org, deps, input);
    const before = await listMappings(trx, orgId);
    checkGrants(actor, before, next);
    await replaceMappings(trx, orgId, next);
    await appendAudit(trx, orgId, {
      actor: actor.actor,
      action: "mapping.changed",
      before,
      after: next,
      requestId: actor.requestId,
    });
    return next;
  });
  return { mappings, sync: await syncOrg(deps, orgId, actor) };
}

class PreviewRollback extends Error {}

/** What PUT would change: the same code runs in one transaction that is then rolled back. */
export async function previewMappings(
  deps: ServiceDeps,
  orgId: string,
  input: MappingsInput,
  actor: MappingsActor,
): Promise<SyncResult> {
  let result: SyncResult | null = null;
  try {
    await deps.db.transaction(async (trx) => {
      const org = await loadOrg(deps, trx, orgId);
      const next = normalize(org, deps, input);
      checkGrants(actor, await listMappings(trx, orgId), next);
      await replaceMappings(trx, orgId, next);
      result = await reconcileAll(deps, org, actor, trx);
      throw new PreviewRollback();
    });
  } catch (error) {
    if (!(error instanceof PreviewRollback)) throw error;
  }
  return result as unknown as SyncResult;
}

/** SCIM groups an admin can pick for a mapping: display names, first 500 by name. */
export async function listGroupChoices(deps: ServiceDeps, orgId: string): Promise<string[]> {
  await loadOrg(deps, deps.db, orgId);
  const { groups } = await queryGroups(deps.db, orgId, {
    where: null,
    orderBy: { sql: "lower(g.display_name)", descending: false },
    offset: 0,
    limit: 500,
  });
  return groups.map((g) => g.displayName);
}
