// DOMAIN §4: "two concurrent purchases both apply", end to end: two real Roster server processes on one
// PostgreSQL database, 20 simultaneous POST seats/purchase (10 to each) while 5 members wait. Every purchase
// applies once, each charge starts where the one before it ended, and the waiting members get the new
// seats. PostgreSQL only: PGlite is one in-process database.
import type { ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, onPostgres, type TestDatabase } from "../support/database.js";
import { makeOrg, provision, seatLedger, testDeps, type TestOrg } from "../support/factories.js";
import { expectInvariants } from "../support/seat-invariants.js";
import { startServer } from "../support/server-process.js";

describe.skipIf(!onPostgres)("two server processes buying seats at once (PostgreSQL)", () => {
  let tdb: TestDatabase;
  let org: TestOrg;
  const servers: ChildProcess[] = [];
  const urls: string[] = [];

  beforeAll(async () => {
    tdb = await createTestDatabase();
    const deps = testDeps(tdb.db);
    org = await makeOrg(deps, { seats: { chat_code: 10, chat: 10 } });
    for (let i = 0; i < 25; i++) await provision(deps, org.org.id); // 20 seated, 5 waiting for any type
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

  it("20 simultaneous purchases add up exactly and promote the 5 waiting members", async () => {
    const buy = (url: string, i: number) =>
      fetch(`${url}/api/v1/orgs/${org.org.id}/seats/purchase`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${org.ownerToken}`,
          "content-type": "application/json",
          "idempotency-key": `race-${i}`,
        },
        body: JSON.stringify({ add: i % 2 ? { chat: 1 } : { chat_code: 1 } }),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));
    const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => buy(urls[i % 2], i)));
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));

    const ledger = await seatLedger(tdb.db, org.org.id);
    expect(ledger.chat_code.purchased).toBe(20);
    expect(ledger.chat.purchased).toBe(20);
    expect(ledger.chat_code.used + ledger.chat.used).toBe(25);
    const charges = await tdb.db("charges").where({ org_id: org.org.id });
    expect(charges).toHaveLength(20);
    for (const type of ["chat_code", "chat"]) {
      const froms = charges
        .flatMap((c) => c.lines as { seatType: string; from: number; to: number }[])
        .filter((l) => l.seatType === type)
        .map((l) => l.from)
        .sort((a, b) => a - b);
      expect(froms, `${type}: each charge starts where the last ended`).toEqual(
        Array.from({ length: 10 }, (_, i) => 10 + i),
      );
    }
    const waiting = await tdb.db("members").where({ org_id: org.org.id }).whereNotNull("waiting_for");
    expect(waiting).toHaveLength(0);
    const promoted = await tdb.db("members").where({ org_id: org.org.id, seat_reason: "promoted" });
    expect(promoted).toHaveLength(5);
    await expectInvariants(tdb.db, org.org.id);
  }, 120_000);
});
