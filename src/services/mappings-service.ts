// Group mappings: read, replace (then a job re-runs the rules for the members they change), preview, sync.
import { z } from "zod";
import { withTransaction } from "../db/transaction.js";
import { DomainError } from "../domain/errors.js";
import { mayGrant, type Role, ROLES } from "../domain/roles.js";
import { type GroupMappingRule, sortMappings } from "../domain/seat-plan.js";
import { type PlannedChange, simulateSyncInSteps } from "../domain/sync-plan.js";
import { appendAudit } from "../repositories/audit-repository.js";
import { queryGroups } from "../repositories/groups-repository.js";
import { listMappings, replaceMappings } from "../repositories/mappings-repository.js";
import type { Org } from "../repositories/orgs-repository.js";
import { countActiveMembers, findSyncCandidates, freeSeatsByType } from "../repositories/sync-repository.js";
import { type Actor, loadOrg, type ServiceDeps } from "./context.js";
import {
  enqueueSync,
  type JobView,
  runJobToEnd,
  type SeatSnapshot,
  type StartedJob,
  startJob,
} from "./jobs-service.js";

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

function resultOf(job: JobView): SyncResult {
  return { evaluated: job.counts.evaluated, changed: job.counts.changed, changes: job.changes as MemberChange[] };
}

/** Starts a sync job; a small one is run before this returns (`finished`). */
export async function startSyncJob(deps: ServiceDeps, orgId: string, actor: Actor): Promise<StartedJob> {
  await loadOrg(deps, deps.db, orgId);
  return startJob(deps, orgId, "sync", actor);
}

/** Re-runs the rules for every member whose seat or role they change, to the end. */
export async function syncOrg(deps: ServiceDeps, orgId: string, actor: Actor): Promise<SyncResult> {
  await loadOrg(deps, deps.db, orgId);
  const job = await enqueueSync(deps, orgId, "sync", actor);
  return resultOf(await runJobToEnd(deps, job));
}

async function saveMappings(
  deps: ServiceDeps,
  orgId: string,
  input: MappingsInput,
  actor: MappingsActor,
): Promise<GroupMappingRule[]> {
  return withTransaction(deps.db, async (trx) => {
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
}

/** Saves the mappings and starts the job that applies them (run before this returns when small). */
export async function changeMappings(
  deps: ServiceDeps,
  orgId: string,
  input: MappingsInput,
  actor: MappingsActor,
): Promise<{ mappings: GroupMappingRule[]; job: StartedJob }> {
  const mappings = await saveMappings(deps, orgId, input, actor);
  return { mappings, job: await startJob(deps, orgId, "mapping_change", actor) };
}

/** Saves the mappings and applies them to the end (the CLI and tests; HTTP uses changeMappings). */
export async function putMappings(
  deps: ServiceDeps,
  orgId: string,
  input: MappingsInput,
  actor: MappingsActor,
): Promise<{ mappings: GroupMappingRule[]; sync: SyncResult }> {
  const mappings = await saveMappings(deps, orgId, input, actor);
  const job = await enqueueSync(deps, orgId, "mapping_change", actor);
  return { mappings, sync: resultOf(await runJobToEnd(deps, job)) };
}

export interface PreviewPage {
  limit?: number;
  /** The last member id of the previous page. */
  cursor?: string | null;
  /** The job's batch size to replay (tests use small batches). */
  batchSize?: number;
}

export interface PreviewResult extends SyncResult {
  /** Active members in the org. */
  members: number;
  /** How many members move from one seat type (or Unassigned) to another, and from one role to another. */
  summary: {
    seats: { from: string; to: string; count: number }[];
    roles: { from: string; to: string; count: number }[];
  };
  /** The next page of `changes`, or null. */
  nextCursor: string | null;
}

function tally(changes: PlannedChange[], key: (c: PlannedChange) => [string, string] | null) {
  const counts = new Map<string, { from: string; to: string; count: number }>();
  for (const c of changes) {
    const k = key(c);
    if (!k) continue;
    const id = k.join("\u0000");
    const entry = counts.get(id) ?? { from: k[0], to: k[1], count: 0 };
    entry.count++;
    counts.set(id, entry);
  }
  return [...counts.values()].sort(
    (a, b) => b.count - a.count || a.from.localeCompare(b.from) || a.to.localeCompare(b.to),
  );
}

/**
 * What PUT would change, without changing or locking anything: one read-only, repeatable-read snapshot;
 * the members the rules could change found with set-based SQL (sync-repository.ts); the job's batches
 * replayed with the allocator's pure rules (domain/sync-plan.ts). A summary and one page of who changes.
 */
export async function previewMappings(
  deps: ServiceDeps,
  orgId: string,
  input: MappingsInput,
  actor: MappingsActor,
  page: PreviewPage = {},
): Promise<PreviewResult> {
  const limit = Math.min(Math.max(page.limit ?? 1000, 1), 1000);
  return deps.db.transaction(async (trx) => {
    await trx.raw("set transaction isolation level repeatable read, read only");
    const org = await loadOrg(deps, trx, orgId);
    const mappings = normalize(org, deps, input);
    checkGrants(actor, await listMappings(trx, orgId), mappings);
    const query = { catalog: deps.catalogs.get(org.plan), mappings, policy: org.settings.mappedTypeExhausted };
    const [members, free, candidates] = [
      await countActiveMembers(trx, orgId),
      await freeSeatsByType(trx, orgId),
      await findSyncCandidates(trx, orgId, { ...query, assumeFree: true, includeWaiting: true }),
    ];
    // Planned a batch at a time, letting provisioning requests run between batches: at 20,000 changes the
    // whole plan is a few hundred milliseconds of CPU that a SCIM create should not wait behind.
    const steps = simulateSyncInSteps(query, candidates, free, deps.now(), page.batchSize);
    let step = steps.next();
    while (!step.done) {
      await new Promise((resolve) => setImmediate(resolve));
      step = steps.next();
    }
    const sim = step.value;
    const after = page.cursor ?? "";
    const rest = sim.changes.filter((c) => c.memberId > after);
    const shown = rest.slice(0, limit);
    return {
      members,
      evaluated: sim.evaluated,
      changed: sim.changes.length,
      summary: {
        seats: tally(sim.changes, (c) =>
          c.before.seatType === c.after.seatType
            ? null
            : [c.before.seatType ?? "unassigned", c.after.seatType ?? "unassigned"],
        ),
        roles: tally(sim.changes, (c) => (c.before.role === c.after.role ? null : [c.before.role, c.after.role])),
      },
      changes: shown,
      nextCursor: rest.length > limit ? shown[shown.length - 1].memberId : null,
    };
  });
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
