// The acceptance scenario of DOMAIN §3 rule 7 end to end: two real Roster server processes on one
// PostgreSQL database, 200 simultaneous POST /scim/v2/Users (100 to each) for an org with 10 chat_code and
// 10 chat seats. Exactly 10 + 10 seats are given, 180 members wait, nobody is created twice, and the audit
// log agrees with the final state. PostgreSQL only: PGlite is one in-process database.
import type { ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, onPostgres, type TestDatabase } from "../support/database.js";
import { makeOrg, seatLedger, setPurchased, testDeps, type TestOrg } from "../support/factories.js";
import { expectInvariants } from "../support/seat-invariants.js";
import { startServer } from "../support/server-process.js";

describe.skipIf(!onPostgres)("two server processes provisioning over SCIM at once (PostgreSQL)", () => {
  let tdb: TestDatabase;
  let org: TestOrg;
  const servers: ChildProcess[] = [];
  const urls: string[] = [];

  beforeAll(async () => {
    tdb = await createTestDatabase();
    org = await makeOrg(testDeps(tdb.db));
    await setPurchased(tdb.db, org.org.id, "chat_code", 10);
    await setPurchased(tdb.db, org.org.id, "chat", 10);
    for (const server of await Promise.all([startServer(tdb.url as string), startServer(tdb.url as string)])) {
      servers.push(server.process);
      urls.push(server.url);
    }
  }, 90_000);

  afterAll(async () => {
    for (const s of servers) s.kill("SIGTERM");
    await Promise.all(servers.map((s) => new Promise((r) => (s.exitCode !== null ? r(null) : s.once("exit", r)))));
    await tdb?.destroy();
  });

  it("200 simultaneous POST /Users give exactly 10 + 10 seats and 180 waiting, with no duplicates", async () => {
    const post = (url: string, i: number) =>
      fetch(`${url}/scim/v2/Users`, {
        method: "POST",
        headers: { authorization: `Bearer ${org.scimToken}`, "content-type": "application/scim+json" },
        body: JSON.stringify({
          schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
          userName: `race${i}@example.com`,
          active: true,
        }),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));
    const responses = await Promise.all(Array.from({ length: 200 }, (_, i) => post(urls[i % 2], i)));
    expect(responses.map((r) => r.status).filter((s) => s !== 201)).toEqual([]);

    const seat = (r: { body: Record<string, unknown> }) =>
      (r.body["urn:roster:params:scim:schemas:extension:seat:2.0:User"] as { seatType: string }).seatType;
    const byType = (t: string) => responses.filter((r) => seat(r) === t).length;
    expect([byType("chat_code"), byType("chat"), byType("unassigned")]).toEqual([10, 10, 180]);

    const members = await tdb
      .db("members")
      .where({ org_id: org.org.id, scim_managed: true })
      .select("user_name", "seat_type", "waiting_for", "seat_reason");
    expect(members).toHaveLength(200);
    expect(new Set(members.map((m) => m.user_name)).size).toBe(200);
    const waiting = members.filter((m) => m.seat_type === null);
    expect(waiting.every((m) => m.waiting_for === "any" && m.seat_reason === "exhausted")).toBe(true);
    const ledger = await seatLedger(tdb.db, org.org.id);
    expect(ledger.chat_code).toEqual({ purchased: 10, used: 10, holders: 10, held: 0 });
    expect(ledger.chat).toEqual({ purchased: 10, used: 10, holders: 10, held: 0 });
    await expectInvariants(tdb.db, org.org.id);
  }, 120_000);
});
