// `npm run bench:webhooks` (also the last step of `npm run bench`): webhook events per second delivered, in
// order, to ONE local endpoint that verifies every signature (standardwebhooks), by one delivery process.
// Setup (not measured): a fresh database on BENCH_DATABASE_URL's server, an org, an endpoint, and
// BENCH_WEBHOOK_EVENTS `member.seat_changed` outbox rows inserted by bulk SQL (as a bulk provisioning run
// leaves them). Measured: from the first delivery pass until the receiver has them all (fan-out included).
// Knobs: BENCH_DATABASE_URL (postgres://postgres@127.0.0.1:5432/postgres), BENCH_WEBHOOK_EVENTS (3000),
// BENCH_MAX_SECONDS (60). Run with tsx (it imports the TypeScript sources).
/* global process, console, URL, Buffer, performance */
import { createServer } from "node:http";
import os from "node:os";
import pg from "pg";
import { Webhook } from "standardwebhooks";
import { startRuntime } from "../src/bootstrap.ts";
import { loadConfig } from "../src/config.ts";
import { createOrg } from "../src/services/orgs-service.ts";
import { deliverWebhooks } from "../src/services/webhook-delivery.ts";
import { createEndpoint } from "../src/services/webhooks-service.ts";

const admin = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const events = Number(process.env.BENCH_WEBHOOK_EVENTS ?? 3000);
const maxMs = Number(process.env.BENCH_MAX_SECONDS ?? 60) * 1000;
const dbName = `roster_bench_webhooks_${process.pid}`;

const adminClient = new pg.Client({ connectionString: admin });
await adminClient.connect();
await adminClient.query(`create database ${dbName}`);
const url = new URL(admin);
url.pathname = `/${dbName}`;
let runtime;
let server;
try {
  const config = loadConfig({
    DATABASE_URL: url.toString(),
    DEMO: "false",
    WEBHOOK_ALLOW_PRIVATE: "true",
    DB_POOL_MAX: "4",
  });
  runtime = await startRuntime(config, { migrate: true });

  // The receiver: verifies each signature and checks that ids only go up (in order), counts duplicates.
  let secret = "";
  let received = 0;
  let lastId = 0;
  let outOfOrder = 0;
  let done;
  const all = new Promise((resolve) => (done = resolve));
  server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const event = new Webhook(secret).verify(Buffer.concat(chunks).toString("utf8"), req.headers);
      const id = Number(String(event.id).slice(4));
      if (id <= lastId) outOfOrder += 1;
      lastId = id;
      received += 1;
      res.writeHead(204).end();
      if (received === events) done();
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const receiverUrl = `http://127.0.0.1:${server.address().port}/hook`;

  const org = await createOrg(
    runtime,
    { name: "Bench", plan: "enterprise_usage", seats: { chat_code: 10, chat: 10 } },
    { actor: "operator" },
  );
  const endpoint = await createEndpoint(runtime, org.org.id, { url: receiverUrl }, { actor: "bench" });
  secret = endpoint.secret;
  // Setup, not measured: the events a bulk run would have committed.
  await runtime.db.raw(
    `insert into outbox (org_id, topic, payload, created_at)
     select ?, 'member.seat_changed',
            jsonb_build_object('orgId', ?::text, 'memberId', gen_random_uuid(), 'before', jsonb_build_object('seatType', 'chat'),
                               'after', jsonb_build_object('seatType', 'chat_code'), 'reason', 'mapping'),
            now() + interval '1 second'
       from generate_series(1, ?)`,
    [org.org.id, org.org.id, events],
  );

  const started = performance.now();
  const deadline = Date.now() + maxMs;
  let passes = 0;
  let finished = false;
  all.then(() => (finished = true));
  // Endpoints are registered before the events' created_at (+1 s): give the clock that second.
  const deps = { ...runtime, now: () => new Date(Date.now() + 2000) };
  while (!finished && Date.now() < deadline) {
    passes += 1;
    await deliverWebhooks(deps, { batchSize: 500 });
  }
  const seconds = (performance.now() - started) / 1000;
  const rate = received / seconds;
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  const line =
    `| ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC | ${cpu}, ${os.cpus().length} cores | ` +
    `${received}/${events} events | ${seconds.toFixed(2)} s | **${Math.round(rate)} events/s** | ` +
    `out of order: ${outOfOrder} | passes: ${passes} |`;
  console.log("\n| when | machine | delivered | time | rate | order | |\n|---|---|---|---|---|---|---|");
  console.log(line);
  if (received !== events || outOfOrder) process.exitCode = 1;
} finally {
  server?.closeAllConnections();
  server?.close();
  await runtime?.db.destroy();
  await adminClient.query(`drop database if exists ${dbName}`);
  await adminClient.end();
}
