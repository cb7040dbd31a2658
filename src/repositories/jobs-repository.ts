// SQL for admin jobs (mapping changes, syncs). Every function but the cross-org claim takes the org id first.
import type { Db } from "../db/database.js";

export type JobState = "queued" | "running" | "succeeded" | "failed";
export type JobKind = "mapping_change" | "sync";

export interface JobChange {
  memberId: string;
  before: unknown;
  after: unknown;
}

export interface Job {
  orgId: string;
  id: string;
  kind: JobKind;
  state: JobState;
  actor: string;
  requestId: string | null;
  progressDone: number;
  progressTotal: number;
  counts: { evaluated: number; changed: number; failed: number };
  errors: { memberId?: string; message: string }[];
  changes: JobChange[];
  pass: number;
  passProcessed: number;
  cursor: string | null;
  leaseOwner: string | null;
  leaseUntil: Date | null;
  attempts: number;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

interface JobRow {
  org_id: string;
  id: string;
  kind: JobKind;
  state: JobState;
  actor: string;
  request_id: string | null;
  progress_done: number;
  progress_total: number;
  counts: Job["counts"] | string;
  errors: Job["errors"] | string;
  changes: JobChange[] | string;
  pass: number;
  pass_processed: number;
  cursor: string | null;
  lease_owner: string | null;
  lease_until: Date | null;
  attempts: number;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

const json = <T>(v: T | string): T => (typeof v === "string" ? (JSON.parse(v) as T) : v);

function fromRow(r: JobRow): Job {
  return {
    orgId: r.org_id,
    id: r.id,
    kind: r.kind,
    state: r.state,
    actor: r.actor,
    requestId: r.request_id,
    progressDone: r.progress_done,
    progressTotal: r.progress_total,
    counts: { ...{ evaluated: 0, changed: 0, failed: 0 }, ...json(r.counts) },
    errors: json(r.errors),
    changes: json(r.changes),
    pass: r.pass,
    passProcessed: r.pass_processed,
    cursor: r.cursor,
    leaseOwner: r.lease_owner,
    leaseUntil: r.lease_until,
    attempts: r.attempts,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}

export async function insertJob(
  db: Db,
  orgId: string,
  job: { id: string; kind: JobKind; actor: string; requestId: string | null; progressTotal: number },
): Promise<Job> {
  const [row] = await db("jobs")
    .insert({
      org_id: orgId,
      id: job.id,
      kind: job.kind,
      actor: job.actor,
      request_id: job.requestId,
      progress_total: job.progressTotal,
    })
    .returning("*");
  return fromRow(row as JobRow);
}

export async function findJob(db: Db, orgId: string, id: string): Promise<Job | null> {
  const row = await db("jobs").where({ org_id: orgId, id }).first();
  return row ? fromRow(row as JobRow) : null;
}

export async function listJobs(
  db: Db,
  orgId: string,
  options: { limit: number; before?: { createdAt: Date; id: string } | null },
): Promise<Job[]> {
  const q = db("jobs")
    .where({ org_id: orgId })
    .orderBy([
      { column: "created_at", order: "desc" },
      { column: "id", order: "desc" },
    ]);
  if (options.before) q.whereRaw("(created_at, id) < (?, ?)", [options.before.createdAt, options.before.id]);
  const rows = await q.limit(options.limit);
  return rows.map((r) => fromRow(r as JobRow));
}

/**
 * Takes the oldest job that is queued, or running under a lease that ran out (its process died), for
 * `owner` until `leaseUntil`. SKIP LOCKED: two workers never take the same job. `only` restricts the claim
 * to one job (a request that runs a small job itself).
 */
export async function claimJob(
  db: Db,
  owner: string,
  now: Date,
  leaseUntil: Date,
  only?: { orgId: string; id: string },
): Promise<Job | null> {
  const scope = only ? "and org_id = ? and id = ?" : "";
  const { rows } = (await db.raw(
    `update jobs set state = 'running', lease_owner = ?, lease_until = ?, attempts = attempts + 1,
            started_at = coalesce(started_at, ?)
      where (org_id, id) = (
        select org_id, id from jobs
         where (state = 'queued' or (state = 'running' and lease_until < ?)) ${scope}
         order by created_at limit 1
         for update skip locked)
      returning *`,
    [owner, leaseUntil, now, now, ...(only ? [only.orgId, only.id] : [])],
  )) as { rows: JobRow[] };
  return rows[0] ? fromRow(rows[0]) : null;
}

/** Saves progress and renews the lease; false when the lease is no longer ours (another process took over). */
export async function saveProgress(
  db: Db,
  orgId: string,
  id: string,
  owner: string,
  fields: Partial<
    Pick<
      Job,
      | "progressDone"
      | "progressTotal"
      | "counts"
      | "errors"
      | "changes"
      | "pass"
      | "passProcessed"
      | "cursor"
      | "leaseUntil"
    >
  > & { state?: JobState; finishedAt?: Date | null },
): Promise<boolean> {
  const row: Record<string, unknown> = {};
  if (fields.progressDone !== undefined) row.progress_done = fields.progressDone;
  // The total grows when a pass finds more members than first counted; a stored total below done read "20 of 2".
  if (fields.progressTotal !== undefined) row.progress_total = fields.progressTotal;
  if (fields.counts !== undefined) row.counts = JSON.stringify(fields.counts);
  if (fields.errors !== undefined) row.errors = JSON.stringify(fields.errors);
  if (fields.changes !== undefined) row.changes = JSON.stringify(fields.changes);
  if (fields.pass !== undefined) row.pass = fields.pass;
  if (fields.passProcessed !== undefined) row.pass_processed = fields.passProcessed;
  if (fields.cursor !== undefined) row.cursor = fields.cursor;
  if (fields.leaseUntil !== undefined) row.lease_until = fields.leaseUntil;
  if (fields.state !== undefined) row.state = fields.state;
  if (fields.finishedAt !== undefined) row.finished_at = fields.finishedAt;
  const n = await db("jobs").where({ org_id: orgId, id, lease_owner: owner, state: "running" }).update(row);
  return n === 1;
}

/** Test helper and operator tool: lets the lease of a running job run out now. */
export async function expireLease(db: Db, orgId: string, id: string): Promise<void> {
  await db("jobs")
    .where({ org_id: orgId, id })
    .update({ lease_until: new Date(0) });
}
