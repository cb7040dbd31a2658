// `npm run bench:console`: the admin console's members page at scale, on PostgreSQL, over HTTP.
//
// Creates a fresh database, starts Roster, creates an org, fills it to BENCH_USERS members by bulk SQL (setup
// only), signs in with the owner's one-time link, then requests console pages one at a time (one connection,
// so each figure is one page's server time plus loopback) and prints p50/p99. Appends a section to
// BENCHMARKS.md (BENCH_OUT). Target (issue 10): the members page at 100,000 members in ≤ 200 ms.
//
// Knobs: BENCH_DATABASE_URL (postgres://postgres@127.0.0.1:5432/postgres), BENCH_USERS (100000),
// BENCH_REQUESTS per page (100), BENCH_OUT (BENCHMARKS.md, or - for none), BENCH_KEEP_DB (0).
/* global process, console, fetch, AbortSignal, setTimeout, URL, Buffer */
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
const ADMIN_URL = env.BENCH_DATABASE_URL?.trim() || "postgres://postgres@127.0.0.1:5432/postgres";
const USERS = Number(env.BENCH_USERS || 100_000);
const REQUESTS = Number(env.BENCH_REQUESTS || 100);
const OUT = env.BENCH_OUT?.trim() || "BENCHMARKS.md";
const KEEP_DB = env.BENCH_KEEP_DB === "1";
const TARGET_MS = 200;

const log = (...a) => console.error(`[bench:console ${new Date().toISOString().slice(11, 19)}]`, ...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const thousands = (n) => Math.round(n).toLocaleString("en-US");
if (!["127.0.0.1", "localhost"].includes(new URL(ADMIN_URL).hostname))
  throw new Error("BENCH_DATABASE_URL must point at this machine");

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

function dbUrl(name) {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

async function main() {
  const started = new Date();
  const dbName = `roster_bench_console_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${dbName}`);
  const pgVersion = (await admin.query("show server_version")).rows[0].server_version;
  const db = new pg.Pool({ connectionString: dbUrl(dbName), max: 2 });
  let child = null;
  try {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const operatorToken = randomBytes(24).toString("base64url");
    execFileSync(process.execPath, ["scripts/build-if-stale.mjs"], { cwd: REPO, stdio: "inherit" });
    child = spawn(process.execPath, ["dist/src/main.js"], {
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
    for (let i = 0; ; i++) {
      const ok = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(2000) }).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (i > 300) throw new Error("Roster did not start");
      await sleep(200);
    }
    const orgRes = await fetch(`${base}/api/v1/orgs`, {
      method: "POST",
      headers: { authorization: `Bearer ${operatorToken}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "Bench", plan: "enterprise_usage", seats: { chat_code: 50_000, chat: 50_000 } }),
    });
    if (orgRes.status !== 201) throw new Error(`creating the org failed: ${orgRes.status}`);
    const org = await orgRes.json();

    // FILLER (setup only): members with seats split over the two types, as after a large IdP push.
    const t0 = Date.now();
    for (let done = 0; done < USERS - 1;) {
      const n = Math.min(USERS - 1 - done, 20_000);
      await db.query(
        `insert into members (org_id, id, user_name, email, display_name, seat_type, seat_status, seat_reason, source, emails, scim_managed)
         select $1, gen_random_uuid(), u, u, 'Person ' || g, case when g % 2 = 0 then 'chat_code' else 'chat' end,
                'claimed', 'highest_available', 'scim', array[u], true
         from (select g, 'person-' || g || '@example.com' as u from generate_series($2::int, $2::int + $3::int - 1) g) s`,
        [org.orgId, done + 1, n],
      );
      done += n;
    }
    await db.query(
      `update seat_allocations s set used = c.n from (select seat_type, count(*)::int as n from members
        where org_id = $1 and seat_type is not null group by seat_type) c where s.org_id = $1 and s.seat_type = c.seat_type`,
      [org.orgId],
    );
    await db.query("analyze members");
    const total = Number(
      (await db.query("select count(*)::int n from members where org_id=$1", [org.orgId])).rows[0].n,
    );
    log(`filled ${thousands(total)} members in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    const signIn = await fetch(new URL(new URL(org.ownerSignInUrl).pathname, base), { redirect: "manual" });
    const cookie = String(signIn.headers.get("set-cookie")).split(";")[0];
    if (!cookie.startsWith("roster_session=")) throw new Error("sign-in failed");

    const first = await (await fetch(`${base}/admin/members`, { headers: { cookie } })).text();
    const cursor = /href="\/admin\/members\?cursor=([^"&]+)"/.exec(first)?.[1];
    // A cursor deep in the list: the id of a member in the middle.
    const middle = (
      await db.query("select id from members where org_id = $1 order by id offset $2 limit 1", [
        org.orgId,
        Math.floor(total / 2),
      ])
    ).rows[0].id;
    const deep = Buffer.from(middle, "utf8").toString("base64url");
    const pages = [
      ["first page (50 rows)", "/admin/members"],
      ["next page (keyset cursor)", `/admin/members?cursor=${cursor}`],
      ["page in the middle (cursor at 50,000)", `/admin/members?cursor=${deep}`],
      ["filter seat type", "/admin/members?seatType=chat"],
      ["filter seat type, deep", `/admin/members?seatType=chat&cursor=${deep}`],
      ["search by email (one match)", "/admin/members?q=person-77777%40example.com"],
      ["overview", "/admin"],
    ];
    const results = [];
    for (const [label, url] of pages) {
      for (let i = 0; i < 5; i++) await fetch(`${base}${url}`, { headers: { cookie } }).then((r) => r.text());
      const times = [];
      for (let i = 0; i < REQUESTS; i++) {
        const s = process.hrtime.bigint();
        const r = await fetch(`${base}${url}`, { headers: { cookie } });
        await r.text();
        if (r.status !== 200) throw new Error(`${url}: ${r.status}`);
        times.push(Number(process.hrtime.bigint() - s) / 1e6);
      }
      times.sort((a, b) => a - b);
      const p = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
      results.push({ label, url, p50: p(0.5), p99: p(0.99), max: times[times.length - 1] });
      log(`${label}: p50 ${p(0.5).toFixed(1)} ms, p99 ${p(0.99).toFixed(1)} ms`);
    }

    let commit = "unknown";
    try {
      commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: REPO }).toString().trim();
    } catch {
      /* not a git checkout */
    }
    const L = [];
    L.push("");
    L.push(
      `## Console: members page — ${started.toISOString().slice(0, 16).replace("T", " ")} UTC, ${thousands(total)} members`,
    );
    L.push("");
    L.push(
      `- Machine: ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? "?"}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB; Node ${process.version}; PostgreSQL ${pgVersion} on 127.0.0.1; Roster ${commit}; load average at end ${os
        .loadavg()
        .map((x) => x.toFixed(2))
        .join(" ")} (machine shared with other work).`,
    );
    L.push(
      `- ${REQUESTS} sequential requests per page after 5 unrecorded ones, one connection, signed in as the owner: each time is one full server render (session check, queries, TSX to HTML) plus loopback. Target: ≤ ${TARGET_MS} ms.`,
    );
    L.push("");
    L.push("| page | p50 ms | p99 ms | max ms | ≤ 200 ms (p99) |");
    L.push("| --- | ---: | ---: | ---: | --- |");
    for (const r of results)
      L.push(
        `| ${r.label} (\`${r.url.slice(0, 60)}\`) | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.max.toFixed(1)} | ${r.p99 <= TARGET_MS ? "✓" : "✗"} |`,
      );
    const text = L.join("\n") + "\n";
    console.log(text);
    if (OUT !== "-") fs.appendFileSync(path.resolve(REPO, OUT), text);
    return results.every((r) => r.p99 <= TARGET_MS) ? 0 : 2;
  } finally {
    child?.kill("SIGTERM");
    await sleep(500);
    await db.end();
    if (!KEEP_DB) await admin.query(`drop database if exists ${dbName} with (force)`);
    await admin.end();
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
