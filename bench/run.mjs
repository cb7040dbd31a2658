// `npm run bench`: Roster's speed at scale, measured over HTTP against a fresh PostgreSQL database, next to
// the bare floor (shared/bench/floor.mjs) run against the same PostgreSQL server, so results read as ratios.
//
// What it does, in order (every loop bounded in count and time; traffic only to 127.0.0.1):
//   1. creates a fresh database (and one for the floor) on BENCH_DATABASE_URL's server;
//   2. starts Roster (compiled: node dist/src/main.js, WORKERS=BENCH_WORKERS) and the floor (MODE=slots) on free ports;
//   3. creates an org through the operator API;
//   4. POST /Users with autocannon, alternating Roster and floor (A B A B), while it fills the org;
//   5. tops up to BENCH_USERS users with a bulk SQL insert (FILLER: setup only, never measured);
//   6. builds groups of 1,000 and 50,000 members (group created over HTTP, memberships by bulk SQL);
//   7. measures `userName eq` filters (Roster and floor, alternating), a list page, and adding one member
//      (a different one each request) to each group by PATCH, alternating the groups;
//   8. prints a markdown table, writes BENCHMARKS.md, and cleans up (servers killed, databases dropped)
//      on success, failure, Ctrl-C or the overall deadline.
//
// Knobs (environment):
//   BENCH_DATABASE_URL     admin URL of the PostgreSQL server   postgres://postgres@127.0.0.1:5432/postgres
//   BENCH_USERS            users in the org                     100000
//   BENCH_GROUPS           group sizes                          1000,50000   (capped at half the users)
//   BENCH_SEATS            seats of the org (enterprise_usage)  chat_code=50000,chat=50000
//   BENCH_POST_SECONDS     per POST round                       12
//   BENCH_POST_CONNECTIONS                                      32
//   BENCH_READ_SECONDS     per filter / list round              10
//   BENCH_READ_CONNECTIONS                                      8
//   BENCH_PATCH_SECONDS    per add-member round                 8
//   BENCH_PATCH_CONNECTIONS list; each is its own measurement  1,8
//   BENCH_ROUNDS           A B A B rounds per comparison        2
//   BENCH_WARMUP_SECONDS   unrecorded warm-up per scenario      2
//   BENCH_POOL             Roster DB_POOL_MAX and floor POOL    16
//   BENCH_WORKERS          Roster server processes (WORKERS)    1
//   BENCH_FLOOR            path to floor.mjs, or 0 to skip      ../shared/bench/floor.mjs (or /work/shared/bench)
//   BENCH_EXPLAIN          0 to skip the EXPLAIN ANALYZE appendix 1
//   BENCH_OUT              file to write, or - for none          BENCHMARKS.md
//   BENCH_APPEND           1: keep earlier runs in BENCH_OUT      0
//   BENCH_MAX_MINUTES      hard deadline for the whole run      45
//   BENCH_KEEP_DB          1: do not drop the databases (debugging) 0
/* global process, console, fetch, AbortSignal, URL, setTimeout, setImmediate */
import autocannon from "autocannon";
import pg from "pg";
import { spawn, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const env = process.env;
const int = (name, fallback) => {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${raw}`);
  return n;
};
const list = (name, fallback) =>
  (env[name]?.trim() ? env[name] : fallback)
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

const ADMIN_URL = env.BENCH_DATABASE_URL?.trim() || "postgres://postgres@127.0.0.1:5432/postgres";
const USERS = int("BENCH_USERS", 100_000);
const POST_SECONDS = int("BENCH_POST_SECONDS", 12);
const POST_CONNECTIONS = int("BENCH_POST_CONNECTIONS", 32);
const READ_SECONDS = int("BENCH_READ_SECONDS", 10);
const READ_CONNECTIONS = int("BENCH_READ_CONNECTIONS", 8);
const PATCH_SECONDS = int("BENCH_PATCH_SECONDS", 8);
const PATCH_CONNECTIONS = list("BENCH_PATCH_CONNECTIONS", "1,8").map(Number);
const ROUNDS = Math.max(1, int("BENCH_ROUNDS", 2));
const WARMUP_SECONDS = int("BENCH_WARMUP_SECONDS", 2);
const POOL = Math.max(1, int("BENCH_POOL", 16));
const WORKERS = Math.max(1, int("BENCH_WORKERS", 1));
const EXPLAIN = env.BENCH_EXPLAIN !== "0";
const OUT = env.BENCH_OUT?.trim() || "BENCHMARKS.md";
const APPEND = env.BENCH_APPEND === "1";
const KEEP_DB = env.BENCH_KEEP_DB === "1";
const MAX_MINUTES = Math.max(1, int("BENCH_MAX_MINUTES", 45));
const SEATS = Object.fromEntries(
  list("BENCH_SEATS", "chat_code=50000,chat=50000").map((kv) => {
    const [k, v] = kv.split("=");
    if (!k || !Number.isInteger(Number(v))) throw new Error(`BENCH_SEATS: bad entry "${kv}" (want type=count)`);
    return [k.trim(), Number(v)];
  }),
);
const ISSUE_GROUPS = [1000, 50000];
const requestedGroups = list("BENCH_GROUPS", ISSUE_GROUPS.join(",")).map(Number);
const GROUPS = requestedGroups.map((n) => Math.min(n, Math.floor(USERS / 2)));
const MAX_USERS = 1_000_000;

function floorPath() {
  if (env.BENCH_FLOOR === "0") return null;
  if (env.BENCH_FLOOR?.trim()) return path.resolve(env.BENCH_FLOOR);
  for (const p of [path.resolve(REPO, "../shared/bench/floor.mjs"), "/work/shared/bench/floor.mjs"])
    if (fs.existsSync(p)) return p;
  return null;
}

// --- guards ---------------------------------------------------------------------------------------------
if (USERS < 1000 || USERS > MAX_USERS) throw new Error(`BENCH_USERS must be between 1000 and ${MAX_USERS}`);
if (GROUPS.some((n) => !Number.isInteger(n) || n < 1)) throw new Error("BENCH_GROUPS must list positive integers");
if (PATCH_CONNECTIONS.some((n) => !Number.isInteger(n) || n < 1 || n > 256))
  throw new Error("BENCH_PATCH_CONNECTIONS must list integers 1..256");
const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);
const adminUrl = new URL(ADMIN_URL);
if (!/^postgres(ql)?:$/.test(adminUrl.protocol)) throw new Error("BENCH_DATABASE_URL must be a postgres:// URL");
if (!LOOPBACK.has(adminUrl.hostname))
  throw new Error(`BENCH_DATABASE_URL must point at this machine (127.0.0.1), not ${adminUrl.hostname}`);

// --- small helpers ----------------------------------------------------------------------------------------
const log = (...args) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...args);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const fmt = (n, digits = 1) => (n === null || n === undefined || Number.isNaN(n) ? "–" : Number(n).toFixed(digits));
const thousands = (n) => Math.round(n).toLocaleString("en-US");

function percentile(sorted, q) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function dbUrl(name) {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

// --- cleanup: servers, pools, databases, temp files; idempotent, runs on every way out ---------------------
const cleanupTasks = [];
let cleaning = null;
function onCleanup(label, fn) {
  cleanupTasks.push({ label, fn });
}
function cleanup() {
  if (cleaning) return cleaning;
  cleaning = (async () => {
    for (const { label, fn } of cleanupTasks.reverse()) {
      try {
        await Promise.race([
          fn(),
          sleep(20_000).then(() => {
            throw new Error("timed out");
          }),
        ]);
      } catch (e) {
        log(`cleanup: ${label} failed: ${e.message}`);
      }
    }
  })();
  return cleaning;
}
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(sig, () => {
    log(`${sig}: cleaning up`);
    cleanup().finally(() => process.exit(130));
  });
}
const deadline = setTimeout(() => {
  log(`deadline of ${MAX_MINUTES} min reached: cleaning up`);
  cleanup().finally(() => process.exit(1));
}, MAX_MINUTES * 60_000);
deadline.unref();

// --- child processes --------------------------------------------------------------------------------------
function startProcess(label, args, { cwd, extraEnv, readyLine, readyUrl, timeoutMs }) {
  const child = spawn(process.execPath, args, { cwd, env: { ...env, ...extraEnv }, stdio: ["ignore", "pipe", "pipe"] });
  const tail = [];
  const keep = (chunk) => {
    for (const line of String(chunk).split("\n")) if (line.trim()) tail.push(line);
    while (tail.length > 40) tail.shift();
  };
  let sawReadyLine = false;
  child.stdout.on("data", (c) => {
    keep(c);
    if (readyLine && String(c).includes(readyLine)) sawReadyLine = true;
  });
  child.stderr.on("data", keep);
  let exited = null;
  child.on("exit", (code, signal) => (exited = { code, signal }));
  onCleanup(`stop ${label}`, async () => {
    if (exited) return;
    child.kill("SIGTERM");
    for (let i = 0; i < 50 && !exited; i++) await sleep(100);
    if (!exited) {
      child.kill("SIGKILL");
      for (let i = 0; i < 20 && !exited; i++) await sleep(100);
    }
  });
  const ready = (async () => {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (exited)
        throw new Error(`${label} exited (${exited.code ?? exited.signal}) before it was ready:\n${tail.join("\n")}`);
      if (readyLine && sawReadyLine) return;
      if (readyUrl) {
        const ok = await fetch(readyUrl, { signal: AbortSignal.timeout(2000) }).then(
          (r) => r.ok,
          () => false,
        );
        if (ok) return;
      }
      await sleep(200);
    }
    throw new Error(`${label} was not ready within ${timeoutMs / 1000} s:\n${tail.join("\n")}`);
  })();
  return { child, ready, tail, isAlive: () => !exited };
}

// --- load -------------------------------------------------------------------------------------------------
/**
 * One autocannon run. Latencies are collected from autocannon's per-response events (fractional ms: its own
 * histogram rounds to whole ms), 2xx only; req/s is 2xx responses over the run's actual duration.
 * `next()` builds each request; it returns null when it has nothing more to send, which stops the run.
 */
async function load({ url, connections, seconds, headers, method, next }) {
  const lat = [];
  let ok = 0;
  let exhausted = false;
  let lastRequest = null;
  let instance = null;
  const started = process.hrtime.bigint();
  instance = autocannon({
    url,
    connections,
    duration: seconds,
    headers,
    timeout: 10,
    requests: [
      {
        method,
        setupRequest: (req) => {
          const r = exhausted ? null : next();
          if (r === null) {
            // Nothing new to send: repeat the last request (autocannon needs one) and stop the run.
            exhausted = true;
            setImmediate(() => instance?.stop());
            return { ...req, ...(lastRequest ?? {}) };
          }
          lastRequest = r;
          return { ...req, ...r };
        },
      },
    ],
  });
  instance.on("response", (_client, status, _bytes, ms) => {
    if (status >= 200 && status < 300) {
      ok++;
      if (lat.length < 2_000_000) lat.push(ms);
    }
  });
  const r = await instance;
  const seconds_ = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    ok,
    lat,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    seconds: Math.min(seconds_, r.duration || seconds_),
    exhausted,
    statusCodes: r.statusCodeStats,
  };
}

function summarize(label, connections, runs) {
  const lat = runs.flatMap((r) => r.lat).sort((a, b) => a - b);
  const ok = runs.reduce((a, r) => a + r.ok, 0);
  const secs = runs.reduce((a, r) => a + r.seconds, 0);
  const bad = runs.reduce((a, r) => a + r.non2xx + r.errors + r.timeouts, 0);
  const codes = {};
  for (const r of runs) for (const [c, v] of Object.entries(r.statusCodes ?? {})) codes[c] = (codes[c] ?? 0) + v.count;
  return {
    label,
    connections,
    rounds: runs.length,
    ok,
    seconds: secs,
    rps: secs > 0 ? ok / secs : 0,
    p50: percentile(lat, 0.5),
    p99: percentile(lat, 0.99),
    bad,
    codes,
    waits: mergeWaits(runs),
    cpuPerRequest:
      runs.every((r) => typeof r.cpuMs === "number") && ok > 0
        ? runs.reduce((a, r) => a + r.cpuMs, 0) / runs.reduce((a, r) => a + r.ok + r.non2xx, 0)
        : null,
    perRound: runs.map((r) => {
      const s = [...r.lat].sort((a, b) => a - b);
      return {
        rps: r.seconds > 0 ? r.ok / r.seconds : 0,
        p50: percentile(s, 0.5),
        p99: percentile(s, 0.99),
        bad: r.non2xx + r.errors + r.timeouts,
      };
    }),
  };
}

/**
 * What the server's PostgreSQL backends are doing while a run is under way: every 100 ms, the backends of
 * `datname` that are not idle, by state and wait event. Shows whether requests queue on a lock.
 */
function sampleBackends(client, datname) {
  const counts = new Map();
  const locks_ = new Map();
  let samples = 0;
  let stopped = false;
  const loop = (async () => {
    const until = Date.now() + 10 * 60_000;
    while (!stopped && Date.now() < until) {
      try {
        const { rows } = await client.query(
          `select state, coalesce(wait_event_type || ':' || wait_event, 'running') as wait, count(*)::int as n
             from pg_stat_activity where datname = $1 and state <> 'idle' and application_name not like 'roster-bench%' group by 1, 2`,
          [datname],
        );
        // Which table the row-lock waits are on (tuple locks name their relation; transactionid waits do not).
        const locks = await client.query(
          `select l.relation::regclass::text as rel, count(*)::int as n from pg_locks l join pg_stat_activity a on a.pid = l.pid
            where not l.granted and l.relation is not null and a.datname = $1 group by 1`,
          [datname],
        );
        samples++;
        for (const r of rows) {
          const key = r.state === "active" ? r.wait : r.state;
          counts.set(key, (counts.get(key) ?? 0) + r.n);
        }
        for (const r of locks.rows) locks_.set(r.rel, (locks_.get(r.rel) ?? 0) + r.n);
      } catch {
        break;
      }
      await sleep(100);
    }
  })();
  return async () => {
    stopped = true;
    await loop;
    return { samples, counts, locks: locks_ };
  };
}

function mergeWaits(runs) {
  const counts = new Map();
  const locks = new Map();
  let samples = 0;
  for (const r of runs) {
    if (!r.waits) continue;
    samples += r.waits.samples;
    for (const [k, v] of r.waits.counts) counts.set(k, (counts.get(k) ?? 0) + v);
    for (const [k, v] of r.waits.locks) locks.set(k, (locks.get(k) ?? 0) + v);
  }
  if (!samples) return null;
  const avg = (m) => [...m].map(([k, v]) => [k, v / samples]).sort((a, b) => b[1] - a[1]);
  const all = avg(counts);
  return { samples, total: all.reduce((a, [, v]) => a + v, 0), top: all.slice(0, 5), locks: avg(locks).slice(0, 3) };
}

/** CPU time (user + system, ms) a process has used so far; null where /proc is not there. */
const CLK_TCK = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();
function cpuMs(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
  } catch {
    return null;
  }
}

const userBody = (n, i) =>
  JSON.stringify({
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
    userName: n,
    externalId: n,
    name: { givenName: "Load", familyName: String(i) },
    emails: [{ value: n, type: "work", primary: true }],
    active: true,
  });

// --- machine ----------------------------------------------------------------------------------------------
function machine() {
  let cpuModel = os.cpus()[0]?.model ?? "unknown";
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync("/proc/cpuinfo", "utf8"));
    if (m) cpuModel = m[1].trim();
  } catch {
    // not Linux: keep os.cpus()
  }
  let nproc = os.availableParallelism?.() ?? os.cpus().length;
  try {
    nproc = Number(execFileSync("nproc", { encoding: "utf8" }).trim()) || nproc;
  } catch {
    // keep Node's count
  }
  let commit = "unknown";
  try {
    commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: REPO, encoding: "utf8" }).trim();
    const dirty = execFileSync(
      "git",
      ["status", "--porcelain", "--untracked-files=no", "--", "src", "migrations", "mappings"],
      { cwd: REPO, encoding: "utf8" },
    ).trim();
    if (dirty) commit += " + uncommitted changes in src/";
  } catch {
    // not a git checkout
  }
  return {
    nproc,
    cpuModel,
    memGiB: os.totalmem() / 2 ** 30,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    commit,
  };
}

// --- main -------------------------------------------------------------------------------------------------
async function main() {
  const started = new Date();
  const mach = machine();
  const loadStart = os.loadavg();
  const runId = `${process.pid}_${Date.now().toString(36)}`;
  const dbName = `roster_bench_${runId}`;
  const floorDbName = `roster_bench_floor_${runId}`;
  const notes = [];
  if (GROUPS.some((n, i) => n !== requestedGroups[i]))
    notes.push(`group sizes capped at half the users: ${requestedGroups.join(", ")} → ${GROUPS.join(", ")}`);

  // Admin connection: creates and drops the databases.
  const admin = new pg.Client({ connectionString: ADMIN_URL, application_name: "roster-bench" });
  await admin.connect();
  onCleanup("close admin connection", () => admin.end());
  const pgVersion = (await admin.query("show server_version")).rows[0].server_version;
  const pgSettings = Object.fromEntries(
    (
      await admin.query(
        "select name, setting, unit from pg_settings where name in ('shared_buffers','synchronous_commit','fsync','max_connections','work_mem')",
      )
    ).rows.map((r) => [
      r.name,
      r.unit === "8kB"
        ? `${(Number(r.setting) * 8) / 1024} MB`
        : r.unit === "kB"
          ? `${Number(r.setting) / 1024} MB`
          : r.setting,
    ]),
  );
  log(
    `machine: ${mach.nproc} CPUs (${mach.cpuModel}), ${fmt(mach.memGiB)} GiB, Node ${mach.node}, PostgreSQL ${pgVersion}`,
  );

  const floorFile = floorPath();
  const useFloor = floorFile !== null && fs.existsSync(floorFile);
  if (!useFloor)
    notes.push(
      `floor skipped (${env.BENCH_FLOOR === "0" ? "BENCH_FLOOR=0" : "floor.mjs not found; set BENCH_FLOOR"}): no ratios`,
    );

  for (const name of useFloor ? [dbName, floorDbName] : [dbName]) {
    await admin.query(`create database ${name}`);
    onCleanup(`drop database ${name}`, async () => {
      if (KEEP_DB) return log(`BENCH_KEEP_DB=1: kept database ${name}`);
      await admin.query(`drop database if exists ${name} with (force)`);
      log(`dropped database ${name}`);
    });
  }
  log(`created database ${dbName}${useFloor ? ` and ${floorDbName}` : ""}`);

  const db = new pg.Pool({ connectionString: dbUrl(dbName), max: 4, application_name: "roster-bench-setup" });
  // Dropping the database at the end ends these idle connections: not an error of the run.
  db.on("error", () => {});
  onCleanup("close setup pool", () => db.end());

  // Roster.
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const operatorToken = randomBytes(24).toString("base64url");
  execFileSync(process.execPath, ["scripts/build-if-stale.mjs"], { cwd: REPO, stdio: "inherit" });
  const roster = startProcess("roster", ["dist/src/main.js"], {
    cwd: REPO,
    extraEnv: {
      DATABASE_URL: dbUrl(dbName),
      PORT: String(port),
      HOST: "127.0.0.1",
      PUBLIC_URL: base,
      ROSTER_OPERATOR_TOKEN: operatorToken,
      LOG_LEVEL: "warn",
      DB_POOL_MAX: String(POOL),
      WORKERS: String(WORKERS),
      DEMO: "false",
    },
    readyUrl: `${base}/readyz`,
    timeoutMs: 90_000,
  });
  await roster.ready;
  log(`roster listening on ${base}`);

  // The floor: a copy of floor.mjs where this repo's express and pg resolve (same versions as its package.json).
  let floor = null;
  let floorDb = null;
  if (useFloor) {
    const cacheDir = path.join(REPO, "node_modules", ".cache");
    fs.mkdirSync(cacheDir, { recursive: true });
    const dir = fs.mkdtempSync(path.join(cacheDir, "roster-bench-floor-"));
    onCleanup("remove floor copy", async () => fs.rmSync(dir, { recursive: true, force: true }));
    fs.copyFileSync(floorFile, path.join(dir, "floor.mjs"));
    const floorPort = await freePort();
    const proc = startProcess("floor", [path.join(dir, "floor.mjs")], {
      cwd: dir,
      extraEnv: { DATABASE_URL: dbUrl(floorDbName), PORT: String(floorPort), POOL: String(POOL), MODE: "slots" },
      readyLine: "floor listening",
      timeoutMs: 180_000,
    });
    await proc.ready;
    floor = { ...proc, base: `http://127.0.0.1:${floorPort}/scim/v2` };
    floorDb = new pg.Pool({ connectionString: dbUrl(floorDbName), max: 2, application_name: "roster-bench-setup" });
    onCleanup("close floor pool", () => floorDb.end());
    log(`floor (MODE=slots, POOL=${POOL}) listening on ${floor.base}`);
  }

  // The org.
  const orgRes = await fetch(`${base}/api/v1/orgs`, {
    method: "POST",
    headers: { authorization: `Bearer ${operatorToken}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "Bench", plan: "enterprise_usage", seats: SEATS }),
    signal: AbortSignal.timeout(15_000),
  });
  if (orgRes.status !== 201) throw new Error(`creating the org failed: ${orgRes.status} ${await orgRes.text()}`);
  const org = await orgRes.json();
  const scim = org.scimBaseUrl.replace(/\/+$/, "");
  if (new URL(scim).hostname !== "127.0.0.1") throw new Error(`scimBaseUrl ${scim} is not on 127.0.0.1`);
  const scimPath = new URL(scim).pathname;
  const headers = {
    authorization: `Bearer ${org.scimToken}`,
    "content-type": "application/scim+json",
    accept: "application/scim+json",
  };
  log(`org ${org.orgId} with seats ${JSON.stringify(SEATS)}`);

  const count = async () =>
    Number((await db.query("select count(*)::int as n from members where org_id = $1", [org.orgId])).rows[0].n);
  const results = {};

  // Around each measured run: what PostgreSQL's backends wait on, and the server process's CPU per request.
  const sampled = async (datname, run) => {
    const isFloor = datname === floorDbName;
    const pid = (isFloor ? floor : roster).child.pid;
    const stop = sampleBackends(isFloor ? floorDb : db, datname);
    const cpu0 = cpuMs(pid);
    const r = await run();
    const cpu1 = cpuMs(pid);
    r.waits = await stop();
    r.cpuMs = cpu0 !== null && cpu1 !== null ? cpu1 - cpu0 : null;
    return r;
  };

  // --- 1. POST /Users, Roster and floor alternating -----------------------------------------------------
  const postRuns = { roster: [], floor: [] };
  let seq = 0;
  const postRun = async (target, seconds, connections, limit) => {
    const isRoster = target === "roster";
    const url = isRoster ? scim : floor.base;
    const pathname = isRoster ? scimPath : new URL(floor.base).pathname;
    let sent = 0;
    const prefix = `bench-${isRoster ? "r" : "f"}-${runId}`;
    return load({
      url,
      connections,
      seconds,
      headers,
      method: "POST",
      next: () => {
        if (sent >= limit) return null;
        const i = seq++;
        sent++;
        return { path: `${pathname}/Users`, body: userBody(`${prefix}-${i}@example.com`, i) };
      },
    });
  };
  // Keep the POSTs within the org's size: each Roster round may create at most its share of what is left.
  const postBudget = () => Math.max(0, USERS - 1 - postRuns.roster.reduce((a, r) => a + r.ok, 0) - 1000);
  if (WARMUP_SECONDS) {
    log(`warm-up: POST /Users ${WARMUP_SECONDS} s`);
    await postRun("roster", WARMUP_SECONDS, 8, Math.min(5000, postBudget()));
    if (floor) await postRun("floor", WARMUP_SECONDS, 8, 5000);
  }
  for (let round = 0; round < ROUNDS; round++) {
    const budget = Math.floor(postBudget() / (ROUNDS - round));
    log(
      `POST /Users round ${round + 1}/${ROUNDS}: roster ${POST_SECONDS} s × ${POST_CONNECTIONS} connections (at most ${budget} users)`,
    );
    postRuns.roster.push(await sampled(dbName, () => postRun("roster", POST_SECONDS, POST_CONNECTIONS, budget)));
    if (floor) {
      log(`POST /Users round ${round + 1}/${ROUNDS}: floor`);
      postRuns.floor.push(await sampled(floorDbName, () => postRun("floor", POST_SECONDS, POST_CONNECTIONS, 200_000)));
    }
  }
  results.post = summarize("POST /Users", POST_CONNECTIONS, postRuns.roster);
  if (floor) results.postFloor = summarize("floor slots POST", POST_CONNECTIONS, postRuns.floor);
  if (postRuns.roster.some((r) => r.exhausted))
    notes.push(
      "a POST round stopped early at its share of BENCH_USERS (raise BENCH_USERS or lower BENCH_POST_SECONDS)",
    );
  log(
    `POST /Users: ${fmt(results.post.rps, 0)}/s p50 ${fmt(results.post.p50)} p99 ${fmt(results.post.p99)}${floor ? `; floor ${fmt(results.postFloor.rps, 0)}/s` : ""}`,
  );
  const postedViaHttp = await count();

  // --- 2. FILLER: bulk SQL straight into members (setup only; nothing measured goes through here) ---------
  const fillStarted = Date.now();
  let filled = 0;
  for (let guard = 0; guard < 200; guard++) {
    const missing = USERS - (await count());
    if (missing <= 0) break;
    const n = Math.min(missing, 20_000);
    await db.query(
      `insert into members (org_id, id, user_name, email, external_id, given_name, family_name, seat_reason, source, emails, scim_managed, attributes, created_at, updated_at)
       select $1, gen_random_uuid(), u, u, u, 'Filler', g::text, 'bench_filler', 'scim', array[u], true,
              jsonb_build_object('name', jsonb_build_object('givenName', 'Filler', 'familyName', g::text),
                                 'emails', jsonb_build_array(jsonb_build_object('value', u, 'type', 'work', 'primary', true))),
              now() + g * interval '1 microsecond', now() + g * interval '1 microsecond'
       from (select g, $2::text || '-' || g || '@example.com' as u from generate_series($3::int, $3::int + $4::int - 1) g) s`,
      [org.orgId, `filler-${runId}`, filled + 1, n],
    );
    filled += n;
  }
  await db.query("analyze members");
  log(
    `filler: ${thousands(filled)} users by bulk SQL in ${fmt((Date.now() - fillStarted) / 1000)} s; org has ${thousands(await count())} members`,
  );

  if (floor) {
    const have = Number((await floorDb.query("select count(*)::int as n from floor_members")).rows[0].n);
    if (have < USERS) {
      await floorDb.query(
        `insert into floor_members (user_name, external_id, data)
         select u, u, jsonb_build_object('userName', u, 'name', jsonb_build_object('givenName', 'Filler', 'familyName', g::text),
                                         'emails', jsonb_build_array(jsonb_build_object('value', u, 'type', 'work', 'primary', true)))
         from (select g, 'floorfill-' || g || '@example.com' as u from generate_series(1, $1::int) g) s`,
        [USERS - have],
      );
    }
    await floorDb.query("analyze floor_members");
  }

  // --- 3. groups: created over HTTP, filled by bulk SQL -------------------------------------------------
  const groups = [];
  for (const size of GROUPS) {
    const res = await fetch(`${scim}/Groups`, {
      method: "POST",
      headers,
      body: JSON.stringify({ schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: `bench-${size}` }),
      signal: AbortSignal.timeout(15_000),
    });
    if (res.status !== 201) throw new Error(`creating group bench-${size} failed: ${res.status} ${await res.text()}`);
    const { id } = await res.json();
    await db.query(
      `insert into group_members (org_id, group_id, member_id)
       select org_id, $2::uuid, id from members where org_id = $1 and scim_managed order by random() limit $3`,
      [org.orgId, id, size],
    );
    // Members not yet in the group, shuffled: each add-member request takes the next one.
    const candidates = (
      await db.query(
        `select id from members m where org_id = $1 and scim_managed
           and not exists (select 1 from group_members gm where gm.org_id = m.org_id and gm.group_id = $2 and gm.member_id = m.id)
         order by random() limit 200000`,
        [org.orgId, id],
      )
    ).rows.map((r) => r.id);
    groups.push({ size, id, candidates, next: 0 });
  }
  await db.query("analyze group_members");
  const groupCount = async (g) =>
    Number(
      (
        await db.query("select count(*)::int as n from group_members where org_id = $1 and group_id = $2", [
          org.orgId,
          g.id,
        ])
      ).rows[0].n,
    );
  log(`groups: ${groups.map((g) => `bench-${g.size} (${g.candidates.length} candidates to add)`).join(", ")}`);

  // Random existing userNames (HTTP-created and filler alike) for the filter.
  const names = (
    await db.query("select user_name from members where org_id = $1 and scim_managed order by random() limit 20000", [
      org.orgId,
    ])
  ).rows.map((r) => r.user_name);
  const floorNames = floor
    ? (await floorDb.query("select user_name from floor_members order by random() limit 20000")).rows.map(
        (r) => r.user_name,
      )
    : [];
  const pick = (arr) => arr[Math.floor(Math.random() * arr.length)];

  // --- 4. userName filter, Roster and floor alternating ----------------------------------------------------
  const filterRun = (target, seconds) => {
    const isRoster = target === "roster";
    const pathname = isRoster ? scimPath : new URL(floor.base).pathname;
    const pool = isRoster ? names : floorNames;
    return load({
      url: isRoster ? scim : floor.base,
      connections: READ_CONNECTIONS,
      seconds,
      headers,
      method: "GET",
      next: () => ({ path: `${pathname}/Users?filter=${encodeURIComponent(`userName eq "${pick(pool)}"`)}` }),
    });
  };
  const filterRuns = { roster: [], floor: [] };
  if (WARMUP_SECONDS) {
    await filterRun("roster", WARMUP_SECONDS);
    if (floor) await filterRun("floor", WARMUP_SECONDS);
  }
  for (let round = 0; round < ROUNDS; round++) {
    log(
      `userName filter round ${round + 1}/${ROUNDS}: roster${floor ? ", floor" : ""}, ${READ_SECONDS} s × ${READ_CONNECTIONS} connections`,
    );
    filterRuns.roster.push(await sampled(dbName, () => filterRun("roster", READ_SECONDS)));
    if (floor) filterRuns.floor.push(await sampled(floorDbName, () => filterRun("floor", READ_SECONDS)));
  }
  results.filter = summarize('GET /Users?filter=userName eq "…"', READ_CONNECTIONS, filterRuns.roster);
  if (floor) results.filterFloor = summarize("floor userName lookup", READ_CONNECTIONS, filterRuns.floor);
  log(
    `filter: ${fmt(results.filter.rps, 0)}/s p50 ${fmt(results.filter.p50)} p99 ${fmt(results.filter.p99)}${floor ? `; floor ${fmt(results.filterFloor.rps, 0)}/s` : ""}`,
  );

  // --- 5. a list page ---------------------------------------------------------------------------------------
  const total = await count();
  const scimUsers = Number(
    (await db.query("select count(*)::int as n from members where org_id = $1 and scim_managed", [org.orgId])).rows[0]
      .n,
  );
  const listRun = (seconds) =>
    load({
      url: scim,
      connections: READ_CONNECTIONS,
      seconds,
      headers,
      method: "GET",
      next: () => ({
        path: `${scimPath}/Users?startIndex=${1 + Math.floor(Math.random() * Math.max(1, scimUsers - 100))}&count=100`,
      }),
    });
  if (WARMUP_SECONDS) await listRun(WARMUP_SECONDS);
  const listRuns = [];
  for (let round = 0; round < ROUNDS; round++) {
    log(`list page round ${round + 1}/${ROUNDS}: ${READ_SECONDS} s × ${READ_CONNECTIONS} connections`);
    listRuns.push(await sampled(dbName, () => listRun(READ_SECONDS)));
  }
  results.list = summarize("GET /Users?startIndex=<random>&count=100", READ_CONNECTIONS, listRuns);
  log(`list page: ${fmt(results.list.rps, 0)}/s p50 ${fmt(results.list.p50)} p99 ${fmt(results.list.p99)}`);

  // --- 6. add one member to a group, alternating the groups ------------------------------------------------
  const patchRun = (g, connections, seconds) =>
    load({
      url: scim,
      connections,
      seconds,
      headers,
      method: "PATCH",
      next: () => {
        if (g.next >= g.candidates.length) return null;
        const member = g.candidates[g.next++];
        return {
          path: `${scimPath}/Groups/${g.id}`,
          body: JSON.stringify({
            schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            Operations: [{ op: "add", path: "members", value: [{ value: member }] }],
          }),
        };
      },
    });
  if (WARMUP_SECONDS) for (const g of groups) await patchRun(g, 1, WARMUP_SECONDS);
  for (const g of groups) g.before = await groupCount(g);
  results.patch = [];
  for (const connections of PATCH_CONNECTIONS) {
    const runs = new Map(groups.map((g) => [g.id, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const g of round % 2 === 0 ? groups : [...groups].reverse()) {
        log(
          `add member round ${round + 1}/${ROUNDS}: group of ${thousands(g.size)}, ${PATCH_SECONDS} s × ${connections} connection(s)`,
        );
        runs.get(g.id).push(await sampled(dbName, () => patchRun(g, connections, PATCH_SECONDS)));
      }
    }
    for (const g of groups) {
      const s = summarize(
        `PATCH /Groups/{id} add 1 member (group of ${thousands(g.size)})`,
        connections,
        runs.get(g.id),
      );
      s.size = g.size;
      s.groupId = g.id;
      if (runs.get(g.id).some((r) => r.exhausted))
        notes.push(`group of ${g.size}: ran out of members to add at ${connections} connection(s)`);
      results.patch.push(s);
      log(
        `add member, group of ${thousands(g.size)}, ${connections} conn: ${fmt(s.rps, 0)}/s p50 ${fmt(s.p50, 2)} p99 ${fmt(s.p99, 2)} errors ${s.bad}`,
      );
    }
  }
  // Each 2xx must have added a new member: the groups grew by exactly that much.
  const growth = [];
  for (const g of groups) {
    const now = await groupCount(g);
    const oks = results.patch.filter((s) => s.groupId === g.id).reduce((a, s) => a + s.ok, 0);
    // A run's last in-flight requests (at most one per connection) still complete on the server uncounted.
    const inFlight = results.patch.filter((s) => s.groupId === g.id).reduce((a, s) => a + s.connections * s.rounds, 0);
    growth.push({
      size: g.size,
      now,
      grew: now - g.before,
      ok2xx: oks,
      ok: now - g.before >= oks && now - g.before - oks <= inFlight,
    });
  }

  // --- 7. EXPLAIN of the measured reads and the add-member insert ----------------------------------------
  const plans = [];
  if (EXPLAIN) {
    const explain = async (title, sql, params, { rollback = false } = {}) => {
      const c = await db.connect();
      try {
        if (rollback) await c.query("begin");
        const rows = (await c.query(`explain (analyze, buffers) ${sql}`, params)).rows.map((r) => r["QUERY PLAN"]);
        plans.push({ title, sql: sql.replace(/\s+/g, " ").trim(), plan: rows.join("\n") });
      } finally {
        if (rollback) await c.query("rollback").catch(() => {});
        c.release();
      }
    };
    // The SQL that Roster sends for these requests (as knex prints it with DEBUG=knex:query; values inlined).
    const someName = pick(names);
    const base = `from "members" as "m" where "m"."org_id" = $1 and "m"."scim_managed" = true`;
    await explain(
      "filter: count",
      `select count(*) as "count" ${base} and (lower((m.user_name)) = lower($2::text)) limit 1`,
      [org.orgId, someName],
    );
    await explain(
      "filter: page",
      `select "m".* ${base} and (lower((m.user_name)) = lower($2::text)) order by "m"."created_at" asc, "m"."id" asc limit 100`,
      [org.orgId, someName],
    );
    const offset = Math.floor(scimUsers / 2);
    await explain("list page: count", `select count(*) as "count" ${base} limit 1`, [org.orgId]);
    await explain(
      `list page: page at offset ${offset}`,
      `select "m".* ${base} order by "m"."created_at" asc, "m"."id" asc limit 100 offset ${offset}`,
      [org.orgId],
    );
    for (const g of groups) {
      const member = g.candidates[g.next] ?? g.candidates[0];
      await explain(
        `add member to the group of ${g.size} (rolled back)`,
        `insert into "group_members" ("display", "group_id", "member_id", "org_id") values (null, $2, $3, $1) on conflict ("org_id", "group_id", "member_id") do nothing returning "member_id"`,
        [org.orgId, g.id, member],
        { rollback: true },
      );
    }
  }

  const seatState = (
    await db.query(
      "select coalesce(seat_type, 'Unassigned') as seat, seat_reason, count(*)::int as n from members where org_id = $1 group by 1, 2 order by 3 desc",
      [org.orgId],
    )
  ).rows;
  const finished = new Date();
  const loadEnd = os.loadavg();

  // --- report -------------------------------------------------------------------------------------------------
  const report = render({
    started,
    finished,
    mach,
    pgVersion,
    pgSettings,
    loadStart,
    loadEnd,
    results,
    total,
    postedViaHttp,
    filled,
    groups,
    growth,
    seatState,
    notes,
    plans,
    useFloor,
  });
  process.stdout.write(`\n${report}\n`);
  if (OUT !== "-") {
    const file = path.resolve(REPO, OUT);
    const header =
      "# Benchmarks\n\nWritten by `npm run bench` (bench/run.mjs); newest run first. How to read it: bench/README.md.\n\n";
    let previous = "";
    if (APPEND && fs.existsSync(file))
      previous = fs.readFileSync(file, "utf8").replace(/^# Benchmarks\n[\s\S]*?(?=^## )/m, "");
    fs.writeFileSync(file, `${header}${report}\n${previous ? `\n${previous}` : ""}`);
    log(`wrote ${path.relative(process.cwd(), file) || file}`);
  }
  const anyErrors =
    [results.post, results.filter, results.list, ...results.patch].some((s) => s.bad > 0) || growth.some((g) => !g.ok);
  return anyErrors ? 2 : 0;
}

function render({
  started,
  finished,
  mach,
  pgVersion,
  pgSettings,
  loadStart,
  loadEnd,
  results,
  total,
  postedViaHttp,
  filled,
  groups,
  growth,
  seatState,
  notes,
  plans,
  useFloor,
}) {
  const L = [];
  const scale = total === 100_000 && groups.map((g) => g.size).join(",") === ISSUE_GROUPS.join(",");
  L.push(
    `## ${started.toISOString().slice(0, 16).replace("T", " ")} UTC — ${thousands(total)} users, groups of ${groups.map((g) => thousands(g.size)).join(" and ")}${scale ? "" : " (NOT the issue's scale)"}`,
  );
  L.push("");
  L.push(
    `- Machine: ${mach.nproc} CPUs (${mach.cpuModel}), ${fmt(mach.memGiB)} GiB RAM, ${mach.kernel}; load average ${loadStart.map((x) => x.toFixed(2)).join(" ")} at start, ${loadEnd.map((x) => x.toFixed(2)).join(" ")} at end (load generator on the same cores).`,
  );
  L.push(
    `- Software: Node ${mach.node}; PostgreSQL ${pgVersion} on 127.0.0.1 (${Object.entries(pgSettings)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}); Roster ${mach.commit}, WORKERS=${WORKERS}, DB_POOL_MAX=${POOL} per process, LOG_LEVEL=warn.`,
  );
  L.push(
    `- Run: ${fmt((finished - started) / 60000)} min; ${ROUNDS} round(s) per measurement, alternating Roster and the floor (and the two groups); ${WARMUP_SECONDS} s unrecorded warm-up per scenario. p50/p99 are over every 2xx response of all rounds (fractional ms), req/s is 2xx per second.`,
  );
  L.push(
    `- Data: ${thousands(postedViaHttp)} users created over HTTP by the POST measurement, ${thousands(filled)} more by a bulk SQL FILLER (setup only, never measured); groups created over HTTP, their memberships by bulk SQL. Every measured request goes through HTTP.`,
  );
  L.push(
    `- Seats: org on enterprise_usage with ${Object.entries(SEATS)
      .map(([k, v]) => `${k}=${thousands(v)}`)
      .join(
        ", ",
      )}; seats do not change the cost measured. At the end: ${seatState.map((s) => `${s.seat} (${s.seat_reason}) ${thousands(s.n)}`).join(", ")} — filler users are Unassigned.`,
  );
  L.push("");
  const floorCol = (s, f, what) => (f ? `${what} ${fmt(f.rps, 0)}/s → **${fmt(s.rps / f.rps, 2)}×**` : "–");
  L.push(
    "| measurement | conns | req/s | p50 ms | p99 ms | errors | target (quiet 2-core machine) | vs floor, same run |",
  );
  L.push("| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |");
  const row = (s, target, vs) =>
    L.push(
      `| ${s.label} | ${s.connections} | ${thousands(s.rps)} | ${fmt(s.p50, 2)} | ${fmt(s.p99, 2)} | ${s.bad} | ${target} | ${vs} |`,
    );
  row(
    results.post,
    `≥ 1,000/s ${results.post.rps >= 1000 ? "✓" : "✗"}; ≥ 0.7× floor slots`,
    floorCol(results.post, results.postFloor, "slots"),
  );
  row(
    results.filter,
    `p99 ≤ 10 ms ${results.filter.p99 !== null && results.filter.p99 <= 10 ? "✓" : "✗"}; ≥ 0.5× floor`,
    floorCol(results.filter, results.filterFloor, "floor"),
  );
  row(results.list, "–", "–");
  for (const s of results.patch) row(s, `p99 ≤ 20 ms ${s.p99 !== null && s.p99 <= 20 ? "✓" : "✗"}`, "–");
  if (useFloor && results.postFloor) {
    row(results.postFloor, "(reference)", "–");
    row(results.filterFloor, "(reference)", "–");
  }
  L.push("");
  const small = Math.min(...groups.map((g) => g.size));
  const big = Math.max(...groups.map((g) => g.size));
  if (small !== big) {
    L.push(`Add-member cost, group of ${thousands(big)} ÷ group of ${thousands(small)} (target ≤ 1.5×):`);
    L.push("");
    for (const c of PATCH_CONNECTIONS) {
      const a = results.patch.find((s) => s.size === small && s.connections === c);
      const b = results.patch.find((s) => s.size === big && s.connections === c);
      if (!a || !b) continue;
      const r50 = b.p50 / a.p50;
      const r99 = b.p99 / a.p99;
      L.push(
        `- ${c} connection(s): p50 ${fmt(r50, 2)}×, p99 ${fmt(r99, 2)}× ${Math.max(r50, r99) <= 1.5 ? "✓" : "✗"}; req/s ${fmt(a.rps / b.rps, 2)}× slower`,
      );
    }
    L.push("");
  }
  L.push(
    `Check: each add-member 2xx added a different member (${growth.map((g) => `group of ${thousands(g.size)} grew by ${thousands(g.grew)} for ${thousands(g.ok2xx)} 2xx counted`).join("; ")}; the difference is requests in flight when a run stopped)${growth.every((g) => g.ok) ? "." : " — MISMATCH."}`,
  );
  L.push("");
  L.push("Per round (req/s, p50, p99 ms):");
  L.push("");
  const rounds = (s) =>
    s.perRound
      .map((r) => `${thousands(r.rps)}/s ${fmt(r.p50, 2)} ${fmt(r.p99, 2)}${r.bad ? ` (${r.bad} errors)` : ""}`)
      .join(" · ");
  for (const s of [
    results.post,
    results.postFloor,
    results.filter,
    results.filterFloor,
    results.list,
    ...results.patch,
  ].filter(Boolean)) {
    L.push(
      `- ${s.label}, ${s.connections} conns: ${rounds(s)}${s.bad ? `; status codes ${JSON.stringify(s.codes)}` : ""}`,
    );
  }
  L.push("");
  L.push(
    "Where the time goes (PostgreSQL backends not idle, from pg_stat_activity every 100 ms, as the average count per sample: `running`, `Lock:…` = waiting for a lock, `idle in transaction` = waiting for the Node process; then the tables of the row locks waited on, and the server process's CPU time per request):",
  );
  L.push("");
  for (const s of [
    results.post,
    results.postFloor,
    results.filter,
    results.filterFloor,
    results.list,
    ...results.patch,
  ].filter(Boolean)) {
    if (!s.waits) continue;
    const locks = s.waits.locks.length
      ? `; row locks waited on: ${s.waits.locks.map(([k, v]) => `${k} ${fmt(v)}`).join(", ")}`
      : "";
    const cpu = s.cpuPerRequest !== null ? `; server process CPU ${fmt(s.cpuPerRequest, 2)} ms per request` : "";
    L.push(
      `- ${s.label}, ${s.connections} conns: ${fmt(s.waits.total)} busy — ${s.waits.top.map(([k, v]) => `${k} ${fmt(v)}`).join(", ")}${locks}${cpu}`,
    );
  }
  if (notes.length) {
    L.push("");
    for (const n of notes) L.push(`- Note: ${n}`);
  }
  if (plans.length) {
    L.push("");
    L.push(
      "<details><summary>EXPLAIN (ANALYZE, BUFFERS) of the SQL behind the measured requests, on the bench database</summary>",
    );
    L.push("");
    for (const p of plans) {
      L.push(`${p.title}: \`${p.sql}\``);
      L.push("");
      L.push("```");
      L.push(p.plan);
      L.push("```");
      L.push("");
    }
    L.push("</details>");
  }
  return L.join("\n");
}

let code = 1;
try {
  code = await main();
} catch (error) {
  log(`FAILED: ${error.stack ?? error.message}`);
  code = 1;
} finally {
  await cleanup();
}
process.exit(code);
