// `npm run bench:admin`: issue 11's admin scenarios at scale, each with a provisioning probe (SCIM creates
// sent one after another on PROBE_CONNECTIONS connections) running during it: the preview, the mapping
// change (PUT, then the job to its end) and a sync with nothing to change. Members are seeded with
// set-based SQL (setup, never measured). Prints a markdown table; BENCH_OUT=file appends it there.
//
//   BENCH_DATABASE_URL  admin URL of the PostgreSQL server   postgres://postgres@127.0.0.1:5432/postgres
//   BENCH_MEMBERS       members in the org                    10000
//   BENCH_MOVING        share of them in the mapped group      0.2
//   PROBE_CONNECTIONS                                          2
/* global process, console, fetch, AbortSignal, URL, setTimeout, performance */
import pg from "pg";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const env = process.env;
const ADMIN_URL = env.BENCH_DATABASE_URL?.trim() || "postgres://postgres@127.0.0.1:5432/postgres";
const MEMBERS = Number(env.BENCH_MEMBERS ?? 10_000);
const MOVING = Number(env.BENCH_MOVING ?? 0.2);
const PROBES = Number(env.PROBE_CONNECTIONS ?? 2);
const log = (...a) => console.error(`[bench-admin ${new Date().toISOString().slice(11, 19)}]`, ...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const dbUrl = (name) => Object.assign(new URL(ADMIN_URL), { pathname: `/${name}` }).toString();
const pct = (s, q) => (s.length ? s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] : NaN);

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const cleanups = [];
async function cleanup() {
  while (cleanups.length)
    await cleanups
      .pop()()
      .catch((e) => log("cleanup:", e.message));
}

/** SCIM creates, back to back on `connections` loops, until stop() — latencies of every answer. */
function probe(scim, token, connections) {
  const latencies = [];
  const failures = [];
  let running = true;
  let n = 0;
  const loops = Array.from({ length: connections }, async () => {
    while (running) {
      const userName = `probe-${Date.now().toString(36)}-${n++}-${randomBytes(3).toString("hex")}@example.com`;
      const t = performance.now();
      const res = await fetch(`${scim}/Users`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/scim+json" },
        body: JSON.stringify({ schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName }),
        signal: AbortSignal.timeout(60_000),
      }).catch((e) => ({ status: String(e.name) }));
      const ms = performance.now() - t;
      if (res.status === 201) latencies.push(ms);
      else failures.push(res.status);
      await res.arrayBuffer?.();
    }
  });
  return async () => {
    running = false;
    await Promise.all(loops);
    const s = latencies.sort((a, b) => a - b);
    return { count: s.length, p50: pct(s, 0.5), p99: pct(s, 0.99), max: s[s.length - 1], failures: failures.length };
  };
}

async function main() {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  cleanups.push(() => admin.end());
  const dbName = `roster_bench_admin_${process.pid}`;
  await admin.query(`create database ${dbName}`);
  cleanups.push(() => admin.query(`drop database if exists ${dbName} with (force)`));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const operatorToken = randomBytes(24).toString("base64url");
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: REPO,
    env: {
      ...env,
      DATABASE_URL: dbUrl(dbName),
      PORT: String(port),
      HOST: "127.0.0.1",
      PUBLIC_URL: base,
      ROSTER_OPERATOR_TOKEN: operatorToken,
      LOG_LEVEL: "warn",
      DEMO: "false",
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  cleanups.push(async () => {
    child.kill("SIGTERM");
    await sleep(500);
  });
  for (let i = 0; ; i++) {
    if (
      await fetch(`${base}/readyz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (i > 300) throw new Error("server not ready");
    await sleep(200);
  }
  // The plans cap an org at 100,000 seats: create it small, then give it the seats the scenario needs in SQL.
  const seats = MEMBERS + 20_000;
  const orgRes = await fetch(`${base}/api/v1/orgs`, {
    method: "POST",
    headers: { authorization: `Bearer ${operatorToken}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "Bench", plan: "enterprise_usage", seats: { chat_code: 1000, chat: 1000 } }),
  });
  const org = await orgRes.json();
  if (!orgRes.ok) throw new Error(`creating the org: ${orgRes.status} ${JSON.stringify(org)}`);
  const scim = org.scimBaseUrl.replace(/\/+$/, "");
  const adminApi = `${base}/api/v1/orgs/${org.orgId}`;
  const call = (method, p, body) =>
    fetch(`${adminApi}/${p}`, {
      method,
      headers: { authorization: `Bearer ${org.ownerToken}`, "content-type": "application/json" },
      body: body ? JSON.stringify(body) : undefined,
    });

  // Seed: MEMBERS members holding chat_code, MOVING of them in the group "Mapped" (set-based SQL).
  const db = new pg.Client({ connectionString: dbUrl(dbName) });
  await db.connect();
  cleanups.push(() => db.end());
  const t0 = performance.now();
  await db.query(
    `update seat_allocations set purchased = $2 where org_id = $1 and seat_type in ('chat_code', 'chat')`,
    [org.orgId, seats],
  );
  await db.query(
    `insert into members (org_id, id, user_name, seat_type, seat_status, seat_reason, source, scim_managed)
     select $1, gen_random_uuid(), 'seed' || i || '@example.com', 'chat_code', 'claimed', 'highest_available', 'scim', true
       from generate_series(1, $2::int) i`,
    [org.orgId, MEMBERS],
  );
  await db.query(`update seat_allocations set used = used + $2 where org_id = $1 and seat_type = 'chat_code'`, [
    org.orgId,
    MEMBERS,
  ]);
  const groupId = (await db.query(`select gen_random_uuid() as id`)).rows[0].id;
  await db.query(`insert into groups (org_id, id, display_name) values ($1, $2, 'Mapped')`, [org.orgId, groupId]);
  await db.query(
    `insert into group_members (org_id, group_id, member_id)
     select $1, $2, id from members where org_id = $1 and user_name like 'seed%' order by id limit $3`,
    [org.orgId, groupId, Math.round(MEMBERS * MOVING)],
  );
  await db.query("analyze");
  log(
    `seeded ${MEMBERS} members (${Math.round(MEMBERS * MOVING)} in the group) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );

  const rules = [{ group: "Mapped", seatType: "chat", priority: 1 }];
  const rows = [];
  const measure = async (label, work) => {
    const stop = probe(scim, org.scimToken, PROBES);
    await sleep(300);
    const t = performance.now();
    const detail = await work();
    const seconds = (performance.now() - t) / 1000;
    await sleep(300);
    const p = await stop();
    rows.push({ label, seconds, detail, ...p });
    log(
      `${label}: ${seconds.toFixed(2)} s (${detail}); probe p99 ${p.p99?.toFixed(1)} ms, max ${p.max?.toFixed(1)} ms`,
    );
  };
  const waitJob = async (res) => {
    const body = await res.json();
    const job = body.job ?? body;
    for (;;) {
      const j = await (await call("GET", `jobs/${job.id}`)).json();
      if (j.state === "succeeded" || j.state === "failed") return j;
      await sleep(100);
    }
  };

  await measure("preview", async () => {
    const body = await (await call("POST", "group-mappings/preview?limit=100", rules)).json();
    return `${body.changed} change`;
  });
  await measure("mapping change (PUT + job)", async () => {
    const j = await waitJob(await call("PUT", "group-mappings", rules));
    return `${j.counts.changed} changed, ${j.state}`;
  });
  await measure("sync, nothing to change", async () => {
    const j = await waitJob(await call("POST", "sync"));
    return `${j.counts.changed} changed, ${j.state}`;
  });

  // Cursor paging: the first page vs pages deep in the org (each request timed alone, sequentially).
  const scimHeaders = { authorization: `Bearer ${org.scimToken}` };
  const timePage = async (q) => {
    const t = performance.now();
    const body = await (await fetch(`${scim}/Users?${q}`, { headers: scimHeaders })).json();
    return { ms: performance.now() - t, body };
  };
  const firstPages = [];
  for (let i = 0; i < 30; i++) firstPages.push((await timePage("count=100&cursor=")).ms);
  const deepPages = [];
  let cursor = "";
  let pages = 0;
  for (;;) {
    const { ms, body } = await timePage(`count=100&cursor=${encodeURIComponent(cursor)}`);
    pages++;
    if (pages > Math.floor(MEMBERS / 100) - 30) deepPages.push(ms);
    if (!body.nextCursor) break;
    cursor = body.nextCursor;
  }
  const deepIndex = [];
  for (let i = 0; i < 30; i++) deepIndex.push((await timePage(`count=100&startIndex=${MEMBERS - 100}`)).ms);
  const p99 = (a) =>
    pct(
      [...a].sort((x, y) => x - y),
      0.99,
    );
  const paging = { first: p99(firstPages), deep: p99(deepPages), deepIndex: p99(deepIndex), pages };
  log(`cursor paging: first page p99 ${paging.first.toFixed(1)} ms, last 30 pages p99 ${paging.deep.toFixed(1)} ms`);

  // Bulk: 1,000 user creates in one request vs the same through 16 parallel POST loops.
  const userOp = (n) => ({
    method: "POST",
    path: "/Users",
    bulkId: n,
    data: { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: `${n}@example.com` },
  });
  const tb = performance.now();
  const bulkRes = await fetch(`${scim}/Bulk`, {
    method: "POST",
    headers: { ...scimHeaders, "content-type": "application/scim+json" },
    body: JSON.stringify({
      schemas: ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
      Operations: Array.from({ length: 1000 }, (_, i) => userOp(`bulk${i}`)),
    }),
  });
  const bulkOps = (await bulkRes.json()).Operations ?? [];
  const bulkRate = bulkOps.filter((o) => o.status === "201").length / ((performance.now() - tb) / 1000);
  const tp = performance.now();
  let next = 0;
  let created = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < 1000) {
        const n = next++;
        const r = await fetch(`${scim}/Users`, {
          method: "POST",
          headers: { ...scimHeaders, "content-type": "application/scim+json" },
          body: JSON.stringify(userOp(`par${n}`).data),
        });
        if (r.status === 201) created++;
        await r.arrayBuffer();
      }
    }),
  );
  const parallelRate = created / ((performance.now() - tp) / 1000);
  log(`bulk ${bulkRate.toFixed(0)}/s vs parallel POST ${parallelRate.toFixed(0)}/s`);

  const table = [
    `### Admin jobs at ${MEMBERS.toLocaleString("en-US")} members, ${Math.round(MEMBERS * MOVING).toLocaleString("en-US")} moving (${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} CPUs ${os.cpus()[0]?.model ?? ""})`,
    "",
    `Probe: SCIM POST /Users on ${PROBES} connections, back to back, during each scenario.`,
    "",
    "| scenario | took | result | probe creates | probe p50 | probe p99 | probe max | probe failures |",
    "|---|---:|---|---:|---:|---:|---:|---:|",
    ...rows.map(
      (r) =>
        `| ${r.label} | ${r.seconds.toFixed(2)} s | ${r.detail} | ${r.count} | ${r.p50.toFixed(1)} ms | ${r.p99.toFixed(1)} ms | ${r.max.toFixed(1)} ms | ${r.failures} |`,
    ),
    "",
    `Cursor paging (count=100, ${paging.pages} pages): first page p99 ${paging.first.toFixed(1)} ms; the last 30 pages p99 ${paging.deep.toFixed(1)} ms (${(paging.deep / paging.first).toFixed(2)}×); startIndex=${MEMBERS - 100} p99 ${paging.deepIndex.toFixed(1)} ms.`,
    "",
    `Bulk: 1,000 creates in one request ${bulkRate.toFixed(0)}/s; the same through 16 parallel POST loops ${parallelRate.toFixed(0)}/s (${(bulkRate / parallelRate).toFixed(2)}×).`,
    "",
  ].join("\n");
  console.log(table);
  if (env.BENCH_OUT) fs.appendFileSync(env.BENCH_OUT, `\n${table}`);
}

main()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(cleanup);
