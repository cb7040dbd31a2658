// GET /metrics (issue 8): request latency by route pattern and status, and, read at scrape time, seats per
// org and type (agreeing with the admin API's GET seats), the database pool and the outbox backlog.
import type { Express } from "express";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { makeOrg, setPurchased, testDeps } from "../support/factories.js";
import { adminClient } from "./helpers.js";
import { createUser, scimClient } from "./scim-helpers.js";

let tdb: TestDatabase;
let app: Express;

beforeAll(async () => {
  tdb = await createTestDatabase();
  app = testApp(tdb.db);
});
afterAll(async () => tdb?.destroy());

async function scrape(): Promise<string> {
  const res = await request(app).get("/metrics");
  expect(res.status).toBe(200);
  return res.text;
}

/** The value of one sample, or null when the series is absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | null {
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const got = Object.fromEntries([...(match[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(match[3]);
  }
  return null;
}

describe("GET /metrics", () => {
  it("reports seats per org and type as GET seats does: purchased, used, held and waiting", async () => {
    const deps = testDeps(tdb.db);
    const org = await makeOrg(deps, { seats: { chat_code: 10, chat: 10 }, manualHoldMinutes: 60 });
    await setPurchased(tdb.db, org.org.id, "chat_code", 2);
    await setPurchased(tdb.db, org.org.id, "chat", 1);
    const scim = scimClient(app, org.scimToken);
    const users = [];
    for (let i = 0; i < 6; i++) users.push(await createUser(scim, `metrics${i}@example.com`));
    const owner = adminClient(app, org.org.id, org.ownerToken);
    // Freed by hand: held for admins.
    const freed = await owner.patch(`members/${users[0].id}`, { seatType: "unassigned" });
    expect(freed.status, JSON.stringify(freed.body)).toBe(200);

    const overview = (await owner.get("seats")).body as {
      seatTypes: { type: string; purchased: number; used: number; held: number; waiting: number }[];
      waitingForAny: number;
    };
    const text = await scrape();
    let total = 0;
    for (const t of overview.seatTypes) {
      for (const state of ["purchased", "used", "held", "waiting"] as const) {
        const value = sample(text, "roster_seats", { org_id: org.org.id, seat_type: t.type, state });
        expect(value, `${t.type} ${state}`).toBe(t[state]);
        total += t[state];
      }
    }
    expect(overview.seatTypes.find((t) => t.type === "chat_code")?.held).toBe(1);
    expect(total).toBeGreaterThan(3);
    expect(sample(text, "roster_seats", { org_id: org.org.id, seat_type: "any", state: "waiting" }) ?? 0).toBe(
      overview.waitingForAny,
    );
    expect(overview.seatTypes.reduce((a, t) => a + t.waiting, 0) + overview.waitingForAny).toBeGreaterThan(0);
  });

  it("reports the outbox backlog, which falls as events are delivered", async () => {
    const org = await makeOrg(testDeps(tdb.db));
    await createUser(scimClient(app, org.scimToken), "outbox@example.com");
    const undelivered = async () =>
      Number((await tdb.db("outbox").whereNull("delivered_at").count<{ n: number }[]>({ n: "*" }))[0].n);
    const before = await undelivered();
    expect(before).toBeGreaterThan(0);
    expect(sample(await scrape(), "roster_outbox_undelivered")).toBe(before);
    await tdb.db("outbox").where({ org_id: org.org.id }).update({ delivered_at: tdb.db.fn.now() });
    const after = await undelivered();
    expect(after).toBeLessThan(before);
    expect(sample(await scrape(), "roster_outbox_undelivered")).toBe(after);
  });

  it("reports the database pool and request latency by route pattern, with no ids in labels", async () => {
    const org = await makeOrg(testDeps(tdb.db));
    const scim = scimClient(app, org.scimToken);
    const user = await createUser(scim, "latency@example.com");
    await scim.get(`/Users/${user.id}`);
    await scim.get(`/Users/${user.id}`);
    await scim.get("/Users/00000000-0000-4000-8000-000000000000");
    const text = await scrape();
    const routeCount = (route: string, status: string) =>
      sample(text, "roster_http_request_duration_seconds_count", { method: "GET", route, status });
    expect(routeCount("/scim/v2/Users/:id", "200")).toBeGreaterThanOrEqual(2);
    expect(routeCount("/scim/v2/Users/:id", "404")).toBeGreaterThanOrEqual(1);
    expect(
      sample(text, "roster_http_request_duration_seconds_bucket", {
        route: "/scim/v2/Users/:id",
        status: "200",
        le: "+Inf",
      }),
    ).toBeGreaterThanOrEqual(2);
    expect(text).not.toContain(user.id);
    expect(text).not.toContain(org.scimToken);
    for (const state of ["used", "free", "pending_acquires", "pending_creates"]) {
      const value = sample(text, "roster_db_pool_connections", { state });
      expect(value, state).not.toBeNull();
      expect(value).toBeGreaterThanOrEqual(0);
    }
  });
});
