// DOMAIN §3 rule 7: the capacity rule (claimed + pending <= purchased per org and seat type) and the
// promotion rule hold when several server processes change seats at the same time.
//
// Each "server process" here is a real OS process (test/support/provision-worker.ts) with its own knex
// pool of 10 connections to the same PostgreSQL database; the test starts them together with a "go" line
// on their stdin and checks the database afterwards.
//
// PostgreSQL only (TEST_DATABASE_URL). On PGlite the database is one in-process connection that a child
// process cannot reach, and every transaction runs one after another anyway, so a cross-process
// concurrency test would prove nothing there: the whole file is skipped.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { Knex } from "knex";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DomainError } from "../../src/domain/errors.js";
import { changeContext, loadOrg } from "../../src/services/context.js";
import { createMember } from "../../src/services/provisioning-service.js";
import { changeSeat } from "../../src/services/seat-allocator.js";
import { createTestDatabase, onPostgres, type TestDatabase } from "../support/database.js";
import { makeOrg, provision, seatLedger, setMappings, setPurchased, testDeps } from "../support/factories.js";
import type { OpOutcome, WorkerConfig, WorkerOp, WorkerResult } from "../support/provision-worker.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const WORKER = path.join(ROOT, "test/support/provision-worker.ts");
const POOL_PER_WORKER = 10;

// ---------------------------------------------------------------------------------------------------------
// Worker processes

const live = new Set<ChildProcessWithoutNullStreams>();

/** One worker process, driven line by line (see provision-worker.ts). */
class WorkerProcess {
  readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: string[] = [];
  private waiter: (() => void) | null = null;
  private stderr = "";
  private exitCode: number | null | undefined = undefined;
  readonly exited: Promise<number | null>;

  constructor(config: WorkerConfig) {
    this.child = spawn(process.execPath, ["--import", "tsx", WORKER, JSON.stringify(config)], {
      cwd: ROOT,
      stdio: ["pipe", "pipe", "pipe"],
    });
    live.add(this.child);
    this.child.stderr.on("data", (chunk) => (this.stderr += String(chunk)));
    // A worker that died is reported by next() and close(); writing to it must not crash the test run.
    this.child.stdin.on("error", () => undefined);
    createInterface({ input: this.child.stdout }).on("line", (line) => {
      this.lines.push(line);
      this.waiter?.();
    });
    this.exited = new Promise((resolve) =>
      this.child.on("exit", (code) => {
        live.delete(this.child);
        this.exitCode = code;
        this.waiter?.();
        resolve(code);
      }),
    );
  }

  /** The next line the worker prints, which must start with `prefix`. */
  async next(prefix: string): Promise<string> {
    for (;;) {
      const line = this.lines.shift();
      if (line !== undefined) {
        if (!line.startsWith(prefix))
          throw new Error(`worker ${this.child.pid}: expected "${prefix}", got "${line.slice(0, 200)}"`);
        return line.slice(prefix.length);
      }
      if (this.exitCode !== undefined)
        throw new Error(
          `worker ${this.child.pid} exited (${this.exitCode}) while the test expected "${prefix}": ${this.stderr}`,
        );
      await new Promise<void>((resolve) => (this.waiter = resolve));
      this.waiter = null;
    }
  }

  send(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  /** Asks the worker to exit and checks that it did, cleanly. */
  async close(): Promise<void> {
    if (this.exitCode === undefined) {
      this.send("exit");
      this.child.stdin.end();
    }
    const code = await within(this.exited, 15_000, `worker ${this.child.pid} exit`);
    if (code !== 0) throw new Error(`worker ${this.child.pid} exited with ${code}: ${this.stderr}`);
  }
}

/** Starts `count` worker processes against the org and waits until each has its pool of connections open. */
async function startWorkers(url: string, orgId: string, count: number): Promise<WorkerProcess[]> {
  const workers = Array.from(
    { length: count },
    () => new WorkerProcess({ url, orgId, poolMax: POOL_PER_WORKER, idleTimeoutMs: 30_000, hardTimeoutMs: 55_000 }),
  );
  await within(Promise.all(workers.map((w) => w.next("ready"))), 30_000, "workers ready");
  return workers;
}

/** Gives each worker its batch, then releases them together, and collects what each did. */
async function runBatches(workers: WorkerProcess[], batches: WorkerOp[][]): Promise<WorkerResult[]> {
  workers.forEach((w, i) => w.send(`batch ${JSON.stringify(batches[i])}`));
  await within(Promise.all(workers.map((w) => w.next("armed"))), 10_000, "workers armed");
  for (const w of workers) w.send("go");
  const results = (await within(Promise.all(workers.map((w) => w.next("result "))), 40_000, "worker results")).map(
    (line) => JSON.parse(line) as WorkerResult,
  );
  // The batches really ran at the same time, in different processes.
  expect(new Set(results.map((r) => r.pid)).size).toBe(results.length);
  expect(results.every((r) => r.pid !== process.pid)).toBe(true);
  const lastStart = Math.max(...results.map((r) => r.startedAt));
  const firstEnd = Math.min(...results.map((r) => r.finishedAt));
  expect(lastStart, "the workers' batches overlap in time").toBeLessThan(firstEnd);
  // A slow machine shows here first: operations that waited longer than knex's acquire timeout for a pooled
  // connection were re-sent by the worker (see provision-worker.ts).
  if (process.env.CONCURRENCY_VERBOSE || results.some((r) => r.acquireRetries > 0)) {
    console.info(
      `batches: ${results.map((r) => `pid ${r.pid}: ${r.outcomes.length} ops in ${r.finishedAt - r.startedAt} ms, ${r.acquireRetries} re-sent`).join("; ")}; overlap ${firstEnd - lastStart} ms`,
    );
  }
  return results;
}

/** Failed operations, grouped: "<count> x <op> <code>: <message>". */
function failures(outcomes: OpOutcome[], acceptable: (o: OpOutcome) => boolean = (o) => o.ok): string[] {
  const counts = new Map<string, number>();
  for (const o of outcomes.filter((x) => !acceptable(x))) {
    const key = `${o.op} ${o.code}: ${(o.message ?? "").slice(0, 160)}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([key, n]) => `${n} x ${key}`);
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)),
  );
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------------------------------------------------
// What must hold afterwards

interface MemberRow {
  id: string;
  user_name: string;
  role: string;
  active: boolean;
  seat_type: string | null;
  seat_status: string;
  seat_reason: string;
  seat_source: string;
  waiting_for: string | null;
  waiting_since: Date | null;
  idp_groups: string[];
}

async function membersOf(db: Knex, orgId: string): Promise<MemberRow[]> {
  return db("members")
    .where({ org_id: orgId })
    .orderBy("created_at")
    .select(
      "id",
      "user_name",
      "role",
      "active",
      "seat_type",
      "seat_status",
      "seat_reason",
      "seat_source",
      "waiting_for",
      "waiting_since",
      "idp_groups",
    );
}

/**
 * Capacity (used <= purchased), counters that agree with the holders, and exact promotion: no active member
 * waits while a seat they can use is free. Returns the violations, described.
 */
async function seatViolations(db: Knex, orgId: string): Promise<string[]> {
  const ledger = await seatLedger(db, orgId);
  const violations: string[] = [];
  const free = new Set<string>();
  for (const [type, l] of Object.entries(ledger)) {
    if (l.used > l.purchased) violations.push(`${type}: used ${l.used} > purchased ${l.purchased}`);
    if (l.used !== l.holders + l.held)
      violations.push(`${type}: used ${l.used} but ${l.holders} members hold one and ${l.held} are held`);
    if (l.used < l.purchased) free.add(type);
  }
  const waiting: { waiting_for: string; n: number }[] = await db("members")
    .where({ org_id: orgId, active: true })
    .whereNotNull("waiting_for")
    .groupBy("waiting_for")
    .select("waiting_for", db.raw("count(*)::int as n"));
  for (const w of waiting) {
    if (w.waiting_for === "any" && free.size > 0)
      violations.push(
        `${w.n} member(s) wait for any type while ${[...free].map((t) => `${t} ${ledger[t].used}/${ledger[t].purchased}`).join(", ")} has a free seat`,
      );
    if (w.waiting_for !== "any" && free.has(w.waiting_for))
      violations.push(
        `${w.n} member(s) wait for ${w.waiting_for} while it has a free seat (${ledger[w.waiting_for].used}/${ledger[w.waiting_for].purchased})`,
      );
  }
  const badRows: { n: number }[] = await db("members")
    .where({ org_id: orgId })
    .where((q) =>
      q
        .where((a) => a.where({ active: false }).whereNotNull("seat_type"))
        .orWhere((b) => b.whereNotNull("seat_type").whereNotNull("waiting_for")),
    )
    .select(db.raw("count(*)::int as n"));
  if (badRows[0].n > 0) violations.push(`${badRows[0].n} member(s) hold a seat while inactive or while waiting`);
  return violations;
}

/** The audit log tells the same story as the members table (and the outbox the same as the audit log). */
async function auditViolations(db: Knex, orgId: string): Promise<string[]> {
  const violations: string[] = [];
  const members = await membersOf(db, orgId);
  const [{ n: created }] = await db("audit_events")
    .where({ org_id: orgId, action: "member.created" })
    .select(db.raw("count(*)::int as n"));
  if (created !== members.length) violations.push(`${members.length} members but ${created} member.created events`);
  const events: { member_id: string; action: string; after: { seatType: string | null; waitingFor: string | null } }[] =
    await db("audit_events")
      .where({ org_id: orgId })
      .whereLike("action", "seat.%")
      .orderBy("id")
      .select("member_id", "action", "after");
  // A member's seat events are written under that member's row lock, so their id order is their commit order.
  const last = new Map(events.map((e) => [e.member_id, e.after]));
  for (const m of members) {
    const after = last.get(m.id);
    if ((after?.seatType ?? null) !== m.seat_type || (after?.waitingFor ?? null) !== m.waiting_for) {
      violations.push(
        `${m.user_name}: last seat event says ${JSON.stringify(after ?? null)}, member has seat ${m.seat_type}, waiting for ${m.waiting_for}`,
      );
    }
  }
  const [{ n: outbox }] = await db("outbox")
    .where({ org_id: orgId, topic: "member.seat_changed" })
    .select(db.raw("count(*)::int as n"));
  if (outbox !== events.length)
    violations.push(`${events.length} seat events but ${outbox} member.seat_changed outbox events`);
  return violations;
}

// ---------------------------------------------------------------------------------------------------------
// A small seeded PRNG so that a failing stress round can be described (the interleaving itself is not
// reproducible, the chosen operations are).

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(items: T[], random: () => number): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

// ---------------------------------------------------------------------------------------------------------

describe.skipIf(!onPostgres)("seat allocation across server processes (PostgreSQL)", () => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase();
  });
  afterEach(() => {
    // A failed or timed-out test must not leave workers behind.
    for (const child of live) child.kill("SIGKILL");
    live.clear();
  });
  afterAll(async () => {
    for (const child of live) child.kill("SIGKILL");
    await tdb?.destroy();
  });

  it("two processes provisioning 100 members each into 10 chat_code + 10 chat seats give exactly 20 seats", async () => {
    const deps = testDeps(tdb.db);
    const { org } = await makeOrg(deps, { plan: "enterprise_usage", seats: { chat_code: 10, chat: 10 } });
    const ops = (worker: string): WorkerOp[] =>
      Array.from({ length: 100 }, (_, i) => ({ op: "provision", userName: `${worker}-user${i}@example.com` }));

    const workers = await startWorkers(tdb.url as string, org.id, 2);
    const results = await runBatches(workers, [ops("a"), ops("b")]);
    await Promise.all(workers.map((w) => w.close()));

    const outcomes = results.flatMap((r) => r.outcomes);
    expect(failures(outcomes)).toEqual([]);
    expect(outcomes).toHaveLength(200);
    expect(outcomes.filter((o) => o.seatType !== null)).toHaveLength(20);

    const members = (await membersOf(tdb.db, org.id)).filter((m) => m.role !== "primary_owner");
    expect(members).toHaveLength(200);
    expect(new Set(members.map((m) => m.user_name.toLowerCase())).size).toBe(200);
    const count = (pred: (m: MemberRow) => boolean) => members.filter(pred).length;
    expect(
      count((m) => m.seat_type === "chat_code" && m.seat_status === "claimed" && m.seat_reason === "highest_available"),
    ).toBe(10);
    expect(
      count((m) => m.seat_type === "chat" && m.seat_status === "claimed" && m.seat_reason === "highest_available"),
    ).toBe(10);
    expect(
      count(
        (m) =>
          m.seat_type === null &&
          m.seat_status === "unassigned" &&
          m.waiting_for === "any" &&
          m.seat_reason === "exhausted" &&
          m.waiting_since !== null,
      ),
    ).toBe(180);

    expect(await seatLedger(tdb.db, org.id)).toEqual({
      chat_code: { purchased: 10, used: 10, holders: 10, held: 0 },
      chat: { purchased: 10, used: 10, holders: 10, held: 0 },
    });
    expect(await seatViolations(tdb.db, org.id)).toEqual([]);
    expect(await auditViolations(tdb.db, org.id)).toEqual([]);
  }, 60_000);

  it("a move to a lower seat type and a provision waiting on the pool rows do not deadlock", async () => {
    // The cycle seen in the stress test: the mover claimed the free chat seat, then waited to give back its
    // chat_code seat, while a provision held chat_code FOR SHARE and waited for chat. Run here without the
    // retry of withTransaction, so a deadlock (40P01) shows.
    const deps = testDeps(tdb.db);
    const { org } = await makeOrg(deps, { plan: "enterprise_usage", seats: { chat_code: 10, chat: 10 } });
    await setPurchased(tdb.db, org.id, "chat_code", 1);
    await setPurchased(tdb.db, org.id, "chat", 2);
    const mover = await provision(deps, org.id);
    await provision(deps, org.id);
    expect(await seatLedger(tdb.db, org.id)).toEqual({
      chat_code: { purchased: 1, used: 1, holders: 1, held: 0 },
      chat: { purchased: 2, used: 1, holders: 1, held: 0 },
    });
    const ctx = changeContext(deps, await loadOrg(deps, tdb.db, org.id), { actor: "admin:test" });
    const lockWaiters = async () =>
      Number(
        (
          await tdb.db.raw(
            "select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'",
          )
        ).rows[0].n,
      );
    const until = async (done: () => Promise<boolean>, what: string) => {
      for (const start = Date.now(); !(await done());) {
        if (Date.now() - start > 5_000) throw new Error(`timed out waiting: ${what}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };

    // A reader holding chat_code FOR SHARE (as a provision that found no free seat does) holds the mover up.
    const reader = await tdb.db.transaction();
    await reader("seat_allocations").where({ org_id: org.id, seat_type: "chat_code" }).forShare();
    const settle = <T>(p: Promise<T>) =>
      p.then(
        (value) => ({ ok: true as const, value }),
        (error: unknown) => ({ ok: false as const, error }),
      );
    const move = settle(
      tdb.db.transaction((trx) => changeSeat(trx, ctx, mover.id, { kind: "manual", seatType: "chat" })),
    );
    await until(async () => (await lockWaiters()) >= 1, "the mover waits for the reader");
    let newcomerSettled = false;
    const newcomer = settle(
      tdb.db.transaction((trx) =>
        createMember(trx, ctx, { userName: "newcomer@example.com", source: "scim" }, new Date()),
      ),
    ).finally(() => (newcomerSettled = true));
    await until(async () => newcomerSettled || (await lockWaiters()) >= 2, "the newcomer is done or waits");
    await reader.commit();
    const outcomes = await Promise.all([move, newcomer]);

    const codes = outcomes.map((o) =>
      o.ok ? "ok" : o.error instanceof DomainError ? o.error.code : String((o.error as { code?: string }).code),
    );
    expect(codes.filter((c) => c !== "ok" && c !== "no_seat_available")).toEqual([]);
    expect(await seatViolations(tdb.db, org.id)).toEqual([]);
    expect(await auditViolations(tdb.db, org.id)).toEqual([]);
  }, 30_000);

  it("releases, reassignments and new members from two processes keep capacity and promote exactly", async () => {
    const seed = Number(process.env.CONCURRENCY_SEED ?? Date.now() % 1_000_000);
    const random = prng(seed);
    const deps = testDeps(tdb.db);
    const { org } = await makeOrg(deps, { plan: "enterprise_usage", seats: { chat_code: 10, chat: 10 } });
    // Members of the IdP group "coders" are mapped to chat_code, so some wait for chat_code rather than any.
    await setMappings(tdb.db, org.id, [{ group: "coders", seatType: "chat_code", priority: 1 }]);
    let n = 0;
    const userName = (prefix: string) => `${prefix}-${++n}@example.com`;
    // All 20 seats taken, then 7 members waiting for any type and 3 (coders) waiting for chat_code.
    for (let i = 0; i < 20; i++) await provision(deps, org.id, { userName: userName("seed") });
    for (let i = 0; i < 10; i++)
      await provision(deps, org.id, { userName: userName("seed"), idpGroups: i % 3 === 2 ? ["coders"] : [] });
    expect(await seatViolations(tdb.db, org.id)).toEqual([]);

    const workers = await startWorkers(tdb.url as string, org.id, 2);
    const stats = { promoted: 0, noSeat: 0, released: 0, provisioned: 0 };
    // Round kinds:
    //   crowded  all seats taken and many waiting: releases are promotions, new members queue up.
    //   drain    more seats come back than there are waiters and new members together, so releases race
    //            with members who are just being left waiting.
    //   contend  a few members wait for any type while admins keep trying (and failing: it is full) to give
    //            them chat_code, and chat seats come back. New members are "coders" (mapped to chat_code,
    //            so they cannot take a chat seat): every freed chat seat must reach one of the waiters.
    const rounds = ["crowded", "drain", "contend", "crowded", "drain", "contend"] as const;
    for (const [index, kind] of rounds.entries()) {
      const round = index + 1;
      const context = `seed ${seed}, round ${round} (${kind})`;
      if (kind === "contend") {
        // Fill every free seat and leave exactly four members waiting for any type.
        for (
          let i = 0;
          i < 40 &&
          (
            await tdb
              .db("members")
              .where({ org_id: org.id, active: true, waiting_for: "any" })
              .count<{ n: number }[]>({ n: "*" })
          )[0].n < 4;
          i++
        ) {
          await provision(deps, org.id, { userName: userName(`r${round}-fill`) });
        }
      }
      const members = (await membersOf(tdb.db, org.id)).filter((m) => m.active && m.role !== "primary_owner");
      const holders = shuffle(
        members.filter((m) => m.seat_type !== null),
        random,
      );
      const waiters = shuffle(
        members.filter((m) => m.waiting_for !== null),
        random,
      );
      const taken = new Set<string>();
      const take = (pool: MemberRow[], k: number) => {
        const chosen = pool.filter((m) => !taken.has(m.id)).slice(0, k);
        for (const m of chosen) taken.add(m.id);
        return chosen;
      };
      // Members whose seat comes from a mapping cannot be reassigned by hand; they are only released.
      const manual = (m: MemberRow) => !m.idp_groups.includes("coders");
      const perWorker: WorkerOp[][] = [[], []];
      for (const ops of perWorker) {
        if (kind === "contend") {
          for (const m of take(
            holders.filter((h) => h.seat_type === "chat"),
            3,
          ))
            ops.push({ op: "release", memberId: m.id });
          for (const m of waiters.filter((w) => w.waiting_for === "any"))
            for (let i = 0; i < 3; i++) ops.push({ op: "patch", memberId: m.id, seatType: "chat_code" });
          for (let i = 0; i < 2; i++)
            ops.push({ op: "provision", userName: userName(`r${round}`), idpGroups: ["coders"] });
          continue;
        }
        const provisions = kind === "crowded" ? 12 : 6;
        const [holderReleases, waiterReleases, patches] =
          kind === "crowded"
            ? [4, 1, 8]
            : [
                Math.ceil(Math.min(holders.length, 3 + 2 * provisions + 4) / 2),
                Math.ceil(Math.max(0, waiters.length - 3) / 2),
                5,
              ];
        for (const m of [...take(holders, holderReleases), ...take(waiters, waiterReleases)])
          ops.push({ op: "release", memberId: m.id });
        // Waiters come first: reassigning one to a full type fails while holding their row for a moment.
        for (const m of take([...waiters.filter(manual), ...shuffle(members.filter(manual), random)], patches)) {
          const choices =
            m.seat_type !== null
              ? ["chat_code", "chat", "unassigned"].filter((t) => t !== m.seat_type)
              : m.waiting_for !== null
                ? ["chat_code", "chat", "unassigned"]
                : ["auto", "chat_code", "chat"];
          ops.push({ op: "patch", memberId: m.id, seatType: choices[Math.floor(random() * choices.length)] });
        }
        for (let i = 0; i < provisions; i++)
          ops.push({ op: "provision", userName: userName(`r${round}`), idpGroups: i % 3 === 0 ? ["coders"] : [] });
      }

      const results = await runBatches(
        workers,
        perWorker.map((ops) => shuffle(ops, random)),
      );

      const outcomes: OpOutcome[] = results.flatMap((r) => r.outcomes);
      const acceptable = (o: OpOutcome) => o.ok || (o.op === "patch" && o.code === "no_seat_available");
      expect(failures(outcomes, acceptable), context).toEqual([]);
      stats.noSeat += outcomes.filter((o) => !o.ok).length;
      stats.released += outcomes.filter((o) => o.op === "release").length;
      stats.provisioned += outcomes.filter((o) => o.op === "provision").length;

      expect(await seatViolations(tdb.db, org.id), context).toEqual([]);
      expect(await auditViolations(tdb.db, org.id), context).toEqual([]);
    }
    await Promise.all(workers.map((w) => w.close()));
    const [{ n: promoted }] = await tdb
      .db("audit_events")
      .where({ org_id: org.id, action: "seat.promoted" })
      .select(tdb.db.raw("count(*)::int as n"));
    stats.promoted = promoted;
    // The run exercised what it is about: seats changed hands by promotion, across processes.
    expect(stats.promoted, `seed ${seed}`).toBeGreaterThan(0);
    console.info(`concurrency stress (seed ${seed}): ${JSON.stringify(stats)}`);
  }, 60_000);
});
