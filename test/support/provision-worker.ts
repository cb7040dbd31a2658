// A separate OS process standing in for one more server process, for test/integration/concurrency.test.ts.
//
//   node --import tsx test/support/provision-worker.ts '<json WorkerConfig>'
//
// It opens its own knex pool to the test database (createDatabase, like a server does), warms every
// connection of the pool and prints "ready". Then, line by line on stdin (so that the parent can start
// several workers at the same moment, and reuse them for several rounds):
//   batch <json WorkerOp[]>   takes the next batch and answers "armed";
//   go                        fires every operation of the batch at once (Promise.all) and answers
//                             "result <json WorkerResult>";
//   exit (or stdin closing)   closes the pool and exits with code 0.
// It also exits by itself, non-zero, when the parent stays silent too long or the whole run takes too long,
// so that a crashed test cannot leave it behind.
import { createInterface } from "node:readline";
import { createDatabase } from "../../src/db/database.js";
import { withTransaction } from "../../src/db/transaction.js";
import { DomainError } from "../../src/domain/errors.js";
import { updateMember } from "../../src/repositories/members-repository.js";
import { changeContext, loadOrg } from "../../src/services/context.js";
import { patchMember } from "../../src/services/members-service.js";
import { provisionMember } from "../../src/services/provisioning-service.js";
import { changeSeat } from "../../src/services/seat-allocator.js";
import { testDeps } from "./factories.js";

export type WorkerOp =
  /** SCIM-style creation of a new member: the allocator gives them a seat or leaves them waiting. */
  | { op: "provision"; userName: string; idpGroups?: string[] }
  /** Deactivation: the member's seat is given back (to the longest waiter, or to the pool). */
  | { op: "release"; memberId: string }
  /** An admin's reassignment: a seat type, "unassigned" or "auto". */
  | { op: "patch"; memberId: string; seatType: string };

export interface WorkerConfig {
  url: string;
  orgId: string;
  poolMax: number;
  /** Exit (code 2) when no line arrives on stdin within this time. */
  idleTimeoutMs?: number;
  /** Exit (code 3) when the whole run takes longer than this. */
  hardTimeoutMs?: number;
}

export interface OpOutcome {
  op: WorkerOp["op"];
  memberId: string | null;
  ok: boolean;
  /** DomainError code, or the driver's SQLSTATE, when the operation failed. */
  code?: string;
  message?: string;
  seatType?: string | null;
  waitingFor?: string | null;
  seatReason?: string;
}

export interface WorkerResult {
  pid: number;
  /** Operations re-sent because no pooled connection was free within knex's acquire timeout (see below). */
  acquireRetries: number;
  /** Wall-clock time (ms since epoch) when the batch was fired and when the last operation settled. */
  startedAt: number;
  finishedAt: number;
  outcomes: OpOutcome[];
}

function parseConfig(): WorkerConfig {
  const config = JSON.parse(process.argv[2] ?? "null") as WorkerConfig | null;
  if (!config) {
    process.stderr.write("usage: provision-worker.ts '<json config>'\n");
    process.exit(64);
  }
  return config;
}
const config = parseConfig();

const hardTimer = setTimeout(() => {
  process.stderr.write(`worker ${process.pid}: hard timeout\n`);
  process.exit(3);
}, config.hardTimeoutMs ?? 50_000);
hardTimer.unref();

const db = createDatabase({ url: config.url, dataDir: "", poolMax: config.poolMax });
const deps = testDeps(db);
const actor = { actor: `admin:worker-${process.pid}`, role: "owner" as const, requestId: null };

let acquireRetries = 0;

/**
 * A burst of 100 operations on a pool of 10 queues most of them in the pool; on a slow machine some can wait
 * longer than knex's acquire timeout (10 s). Nothing was sent to the database then, so the operation is
 * re-sent, as a SCIM client would retry a 503. Every other error is the operation's outcome.
 */
async function retryingAcquire<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      const timedOut =
        (error as Error).name === "KnexTimeoutError" && /acquiring a connection/.test((error as Error).message);
      if (!timedOut || attempt >= 5) throw error;
      acquireRetries++;
    }
  }
}

async function run(op: WorkerOp): Promise<OpOutcome> {
  const memberId = op.op === "provision" ? null : op.memberId;
  try {
    return await retryingAcquire(() => attempt(op, memberId));
  } catch (error) {
    const code =
      error instanceof DomainError
        ? error.code
        : String((error as { code?: string }).code ?? (error as Error).name ?? "error");
    return { op: op.op, memberId, ok: false, code, message: (error as Error).message };
  }
}

async function attempt(op: WorkerOp, memberId: string | null): Promise<OpOutcome> {
  switch (op.op) {
    case "provision": {
      const m = await provisionMember(
        deps,
        config.orgId,
        { userName: op.userName, email: op.userName, idpGroups: op.idpGroups, source: "scim" },
        { actor: `scim:worker-${process.pid}` },
      );
      return {
        op: op.op,
        memberId: m.id,
        ok: true,
        seatType: m.seatType,
        waitingFor: m.waitingFor,
        seatReason: m.seatReason,
      };
    }
    case "release": {
      // What a deactivation does: give the seat back and mark the member inactive, in one transaction.
      const m = await withTransaction(db, async (trx) => {
        const org = await loadOrg(deps, trx, config.orgId);
        const change = await changeSeat(trx, changeContext(deps, org, actor), op.memberId, {
          kind: "release",
          reason: "deactivated",
        });
        return updateMember(trx, config.orgId, change.member.id, { active: false });
      });
      return {
        op: op.op,
        memberId,
        ok: true,
        seatType: m.seatType,
        waitingFor: m.waitingFor,
        seatReason: m.seatReason,
      };
    }
    case "patch": {
      const m = await patchMember(deps, config.orgId, op.memberId, { seatType: op.seatType }, actor);
      return {
        op: op.op,
        memberId,
        ok: true,
        seatType: m.seatType,
        waitingFor: m.waitingFor,
        seatReason: m.seatReason,
      };
    }
  }
}

function send(line: string): Promise<void> {
  return new Promise((resolve) => process.stdout.write(`${line}\n`, () => resolve()));
}

async function main(cfg: WorkerConfig): Promise<void> {
  // Open every connection of the pool before saying ready, so that "go" starts real parallel work.
  await Promise.all(Array.from({ length: cfg.poolMax }, () => db.raw("select pg_sleep(0.05)")));
  const lines = createInterface({ input: process.stdin });
  let idle: NodeJS.Timeout | undefined;
  const stayAwake = () => {
    clearTimeout(idle);
    idle = setTimeout(() => {
      process.stderr.write(`worker ${process.pid}: no word from the parent\n`);
      process.exit(2);
    }, cfg.idleTimeoutMs ?? 30_000);
  };
  stayAwake();
  await send("ready");
  let batch: WorkerOp[] | null = null;
  for await (const line of lines) {
    stayAwake();
    if (line.startsWith("batch ")) {
      batch = JSON.parse(line.slice("batch ".length)) as WorkerOp[];
      await send("armed");
    } else if (line === "go") {
      if (!batch) throw new Error("go without a batch");
      const ops = batch;
      batch = null;
      acquireRetries = 0;
      clearTimeout(idle);
      const startedAt = Date.now();
      const outcomes = await Promise.all(ops.map(run));
      const result: WorkerResult = { pid: process.pid, acquireRetries, startedAt, finishedAt: Date.now(), outcomes };
      await send(`result ${JSON.stringify(result)}`);
      stayAwake();
    } else if (line === "exit") {
      break;
    }
  }
  clearTimeout(idle);
}

main(config)
  .then(async () => {
    await db.destroy();
    process.exit(0);
  })
  .catch(async (error) => {
    process.stderr.write(`worker ${process.pid}: ${(error as Error).stack ?? String(error)}\n`);
    await db.destroy().catch(() => undefined);
    process.exit(1);
  });
