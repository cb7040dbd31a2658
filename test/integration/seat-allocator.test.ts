import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { makeOrg, provision, seatLedger, setPurchased, testDeps } from "../support/factories.js";

let tdb: TestDatabase;
beforeAll(async () => {
  tdb = await createTestDatabase();
});
afterAll(async () => tdb?.destroy());

describe("provisioning into the highest available seat", () => {
  it("fills chat_code, then chat, then leaves members Unassigned waiting for any type", async () => {
    const deps = testDeps(tdb.db);
    const org = await makeOrg(deps, { seats: { chat_code: 10, chat: 10 } });
    await setPurchased(tdb.db, org.org.id, "chat_code", 1);
    await setPurchased(tdb.db, org.org.id, "chat", 1);
    const a = await provision(deps, org.org.id);
    const b = await provision(deps, org.org.id);
    const c = await provision(deps, org.org.id);
    expect([a.seatType, a.seatReason]).toEqual(["chat_code", "highest_available"]);
    expect([b.seatType, b.seatReason]).toEqual(["chat", "highest_available"]);
    expect([c.seatType, c.seatReason, c.waitingFor]).toEqual([null, "exhausted", "any"]);
    const ledger = await seatLedger(tdb.db, org.org.id);
    expect(ledger.chat_code).toEqual({ purchased: 1, used: 1, holders: 1 });
    expect(ledger.chat).toEqual({ purchased: 1, used: 1, holders: 1 });
  });
});
