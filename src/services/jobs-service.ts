// Admin jobs (issue 11): a mapping change or a sync re-runs the rules for the members they change, found
// with set-based SQL (repositories/sync-repository.ts), in batches of SYNC_BATCH. A batch is applied in one
// short transaction with set-based statements (applyBatch), so provisioning never waits for more than one
// batch; should that fail, its members go through the allocator one at a time. The job row keeps a cursor and a lease: a job whose process died is taken over by another
// process (jobs/index.ts) and resumes from its last finished batch; SKIP LOCKED makes it run once.
import { randomUUID } from "node:crypto";
import { withTransaction } from "../db/transaction.js";
import { DomainError } from "../domain/errors.js";
import {
  applyBatchRules,
  type RuleMember,
  ruleSnapshot,
  SYNC_BATCH,
  SYNC_MAX_PASSES,
  wouldChange,
} from "../domain/sync-plan.js";
import { appendAudit } from "../repositories/audit-repository.js";
import {
  claimJob,
  findJob,
  insertJob,
  type Job,
  type JobChange,
  type JobKind,
  listJobs,
  saveProgress,
} from "../repositories/jobs-repository.js";
import { listMappings } from "../repositories/mappings-repository.js";
import {
  addUsed,
  appendSeatChanges,
  type CandidateQuery,
  countSyncCandidates,
  findSyncCandidates,
  lockMembers,
  lockPools,
  lockWaiters,
  type SeatChangeEvent,
  updateRuleFields,
} from "../repositories/sync-repository.js";
import { type Actor, changeContext, loadOrg, type ServiceDeps } from "./context.js";
import { type ChangeContext, changeSeat } from "./seat-allocator.js";

export type { SeatSnapshot } from "./seat-allocator.js";
export type JobView = Job;

/** A job no longer than this many members runs inside the request that started it (answered 200, not 202). */
export const INLINE_MEMBERS = 100;
/** How long a worker owns a job without renewing; a batch renews it. */
export const LEASE_MS = 30_000;
const LISTED_CHANGES = 1000;
const LISTED_ERRORS = 100;

export interface StartedJob {
  job: Job;
  /** True when the job already ran to the end in this request. */
  finished: boolean;
}

async function candidateQuery(deps: ServiceDeps, orgId: string) {
  const org = await loadOrg(deps, deps.db, orgId);
  return {
    org,
    query: {
      catalog: deps.catalogs.get(org.plan),
      mappings: await listMappings(deps.db, orgId),
      policy: org.settings.mappedTypeExhausted,
    },
  };
}

export async function enqueueSync(deps: ServiceDeps, orgId: string, kind: JobKind, actor: Actor): Promise<Job> {
  const { query } = await candidateQuery(deps, orgId);
  const total = await countSyncCandidates(deps.db, orgId, query);
  return insertJob(deps.db, orgId, {
    id: randomUUID(),
    kind,
    actor: actor.actor,
    requestId: actor.requestId ?? null,
    progressTotal: total,
  });
}

/** Queues a job; when it touches few members, runs it at once in this process. */
export async function startJob(deps: ServiceDeps, orgId: string, kind: JobKind, actor: Actor): Promise<StartedJob> {
  const job = await enqueueSync(deps, orgId, kind, actor);
  if (job.progressTotal > INLINE_MEMBERS) return { job, finished: false };
  const done = await runJobToEnd(deps, job);
  return { job: done, finished: done.state === "succeeded" || done.state === "failed" };
}

/** Claims this one job and runs it to the end here (unless a worker took it first: then as it stands). */
export async function runJobToEnd(deps: ServiceDeps, job: Job): Promise<Job> {
  const owner = `inline:${randomUUID()}`;
  const now = deps.now();
  const claimed = await claimJob(deps.db, owner, now, new Date(now.getTime() + LEASE_MS), {
    orgId: job.orgId,
    id: job.id,
  });
  if (claimed) await runClaimedJob(deps, claimed, owner);
  return (await findJob(deps.db, job.orgId, job.id)) as Job;
}

export interface RunOptions {
  /** Stop after this many batches, leaving the job running (tests: a process that dies midway). */
  maxBatches?: number;
  signal?: AbortSignal;
  /** Members per batch (tests; the preview replays the same with PreviewPage.batchSize). */
  batchSize?: number;
  /** Every member through the allocator in a transaction of its own, the path a failed batch falls back to (tests). */
  oneByOne?: boolean;
  /** A batch's set-based transaction failed and its members went one at a time (the worker logs it). */
  onBatchFailed?: (error: unknown) => void;
}

/**
 * Runs a job this process claimed, batch by batch, saving the cursor and renewing the lease after each.
 * Returns when the job is finished, the lease was lost, the signal aborted, or maxBatches ran.
 */
export async function runClaimedJob(deps: ServiceDeps, claimed: Job, owner: string, options: RunOptions = {}) {
  const job = { ...claimed };
  const { org, query } = await candidateQuery(deps, job.orgId);
  const actor = { actor: job.actor, requestId: job.requestId };
  const ctx = { ...changeContext(deps, org, actor), mappings: query.mappings };
  const lease = () => new Date(deps.now().getTime() + LEASE_MS);
  let batches = 0;
  for (;;) {
    if (options.signal?.aborted) return;
    if (options.maxBatches !== undefined && batches >= options.maxBatches) return;
    const candidates =
      job.pass < SYNC_MAX_PASSES
        ? await findSyncCandidates(deps.db, job.orgId, {
            ...query,
            after: job.cursor,
            limit: options.batchSize ?? SYNC_BATCH,
          })
        : [];
    if (candidates.length === 0) {
      if (job.pass < SYNC_MAX_PASSES - 1 && job.passProcessed > 0) {
        // Another pass: a seat freed late may let a member earlier in id order move up.
        job.pass++;
        job.passProcessed = 0;
        job.cursor = null;
        if (!(await saveProgress(deps.db, job.orgId, job.id, owner, { ...job, leaseUntil: lease() }))) return;
        continue;
      }
      await finish(deps, job, owner);
      return;
    }
    const applied = options.oneByOne
      ? null
      : await applyBatch(deps, ctx, query, candidates).catch((error: unknown) => {
          options.onBatchFailed?.(error);
          return null;
        });
    if (applied) {
      job.counts = {
        ...job.counts,
        evaluated: job.counts.evaluated + applied.evaluated,
        changed: job.counts.changed + applied.changes.length,
      };
      const room = LISTED_CHANGES - job.changes.length;
      if (room > 0) job.changes = [...job.changes, ...applied.changes.slice(0, room)];
    } else {
      // The set-based batch failed (a deadlock with provisioning, a pool that filled meanwhile): the same
      // members one at a time through the allocator, each in a transaction of its own.
      await applyOneByOne(deps, ctx, job, candidates);
    }
    job.cursor = candidates[candidates.length - 1].id;
    job.progressDone += candidates.length;
    job.progressTotal = Math.max(job.progressTotal, job.progressDone);
    job.passProcessed += candidates.length;
    batches++;
    const saved = await saveProgress(deps.db, job.orgId, job.id, owner, {
      progressDone: job.progressDone,
      progressTotal: job.progressTotal,
      counts: job.counts,
      errors: job.errors,
      changes: job.changes,
      cursor: job.cursor,
      passProcessed: job.passProcessed,
      leaseUntil: lease(),
    });
    if (!saved) return; // another process took the job over
  }
}

async function applyOneByOne(deps: ServiceDeps, ctx: ChangeContext, job: Job, candidates: RuleMember[]) {
  for (const m of candidates) {
    try {
      const change = await withTransaction(deps.db, (trx) =>
        changeSeat(trx, ctx, m.id, { kind: "reconcile" }, deps.now()),
      );
      job.counts = { ...job.counts, evaluated: job.counts.evaluated + 1 };
      if (change.changed) {
        job.counts = { ...job.counts, changed: job.counts.changed + 1 };
        if (job.changes.length < LISTED_CHANGES)
          job.changes = [...job.changes, { memberId: m.id, before: change.before, after: change.after } as JobChange];
      }
    } catch (error) {
      // A member that vanished meanwhile is not a failure: there is nothing left to change.
      if (error instanceof DomainError && error.code === "not_found") continue;
      job.counts = { ...job.counts, failed: job.counts.failed + 1 };
      if (job.errors.length < LISTED_ERRORS)
        job.errors = [...job.errors, { memberId: m.id, message: (error as Error).message }];
    }
  }
}

class PoolFull extends Error {}

/**
 * One batch in one short transaction, set-based: lock the batch's members (id order), read them again with
 * their groups under those locks, lock the waiters a freed seat may promote and then the pools (best type
 * first, as the allocator does), replay the allocator's rules in memory (domain/sync-plan.ts
 * applyBatchRules, the preview's own code), and write: one UPDATE for the members, one per pool whose count
 * moves (refused by the database past capacity), one INSERT of audit and outbox rows.
 */
async function applyBatch(
  deps: ServiceDeps,
  ctx: ChangeContext,
  query: CandidateQuery,
  candidates: RuleMember[],
): Promise<{ evaluated: number; changes: JobChange[] }> {
  const orgId = ctx.org.id;
  const ids = candidates.map((m) => m.id);
  const byRank = ctx.catalog.seatTypes.map((s) => s.type);
  return withTransaction(deps.db, async (trx) => {
    await lockMembers(trx, orgId, ids);
    const members = await findSyncCandidates(trx, orgId, { ...query, ids, after: null, limit: undefined });
    const batchIds = members.map((m) => m.id);
    const waiters = members.some((m) => m.seatType !== null)
      ? await lockWaiters(trx, orgId, byRank, batchIds, batchIds.length)
      : [];
    const free = await lockPools(trx, orgId, byRank);
    const state = new Map<string, RuleMember>([...waiters, ...members].map((m) => [m.id, m]));
    const now = deps.now();
    const result = applyBatchRules(query, state, batchIds, free, () => now);

    for (const [type, delta] of Object.entries(result.used)) {
      if (delta !== 0 && !(await addUsed(trx, orgId, type, delta))) throw new PoolFull(type);
    }
    const written = new Map<string, RuleMember>();
    const events: SeatChangeEvent[] = [];
    const changes: JobChange[] = [];
    for (const step of result.steps) {
      if (wouldChange(step.before, step.after)) written.set(step.id, state.get(step.id) as RuleMember);
      const before = ruleSnapshot(step.before);
      const after = ruleSnapshot(step.after);
      if (JSON.stringify(before) === JSON.stringify(after)) continue;
      events.push({
        memberId: step.id,
        action: step.kind === "promoted" ? "seat.promoted" : "seat.changed",
        before,
        after,
        reason: step.after.seatReason,
      });
      if (step.kind === "reconcile") changes.push({ memberId: step.id, before, after } as JobChange);
    }
    await updateRuleFields(trx, orgId, [...written.values()]);
    await appendSeatChanges(trx, orgId, ctx.actor, ctx.requestId ?? null, events);
    return { evaluated: batchIds.length, changes };
  });
}

async function finish(deps: ServiceDeps, job: Job, owner: string): Promise<void> {
  const state = job.counts.failed > 0 ? "failed" : "succeeded";
  await withTransaction(deps.db, async (trx) => {
    if (!(await saveProgress(trx, job.orgId, job.id, owner, { ...job, state, finishedAt: deps.now() }))) return;
    await appendAudit(trx, job.orgId, {
      actor: job.actor,
      action: "mapping.sync",
      after: { jobId: job.id, kind: job.kind, evaluated: job.counts.evaluated, changed: job.counts.changed },
      requestId: job.requestId,
    });
  });
}

/**
 * One pass of the background worker: claims the oldest queued job, or a running one whose lease ran out,
 * and runs it. True when it ran one (there may be more).
 */
export async function runNextJob(deps: ServiceDeps, options: RunOptions & { owner?: string } = {}): Promise<boolean> {
  const owner = options.owner ?? `worker:${randomUUID()}`;
  const now = deps.now();
  const job = await claimJob(deps.db, owner, now, new Date(now.getTime() + LEASE_MS));
  if (!job) return false;
  await runClaimedJob(deps, job, owner, options);
  return true;
}

export async function getJob(deps: ServiceDeps, orgId: string, jobId: string): Promise<Job> {
  const job = await findJob(deps.db, orgId, jobId);
  if (!job) throw new DomainError("not_found", "job not found");
  return job;
}

export async function listOrgJobs(
  deps: ServiceDeps,
  orgId: string,
  options: { limit: number; before?: { createdAt: Date; id: string } | null },
): Promise<Job[]> {
  return listJobs(deps.db, orgId, options);
}
