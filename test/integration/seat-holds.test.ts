// DOMAIN §3.4: a seat an admin frees by hand is held for admins for manualHoldMinutes, so the documented
// step-by-step swap works even while people wait; when the hold ends unused the seat reaches the queue.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Member } from "../../src/repositories/members-repository.js";
import type { ServiceDeps } from "../../src/services/context.js";
import { patchMember } from "../../src/services/members-service.js";
import { seatOverview } from "../../src/services/orgs-service.js";
import { releaseExpiredHolds } from "../../src/services/seat-holds-service.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { makeOrg, provision, reload, seatLedger, setPurchased, testDeps } from "../support/factories.js";
import { expectAuditConsistent, expectLedgerConsistent } from "../support/seat-invariants.js";

let tdb: TestDatabase;
beforeAll(async () => {
  tdb = await createTestDatabase();
});
afterAll(async () => tdb?.destroy());

const ADMIN = { actor: "admin:test", role: "owner" as const };

/** A clock the test moves by hand. */
function manualClock(start = Date.parse("2026-03-01T09:00:00Z")) {
  let t = start;
  return { now: () => new Date(t), advanceMinutes: (m: number) => (t += m * 60_000), tick: () => (t += 1000) };
}
type Clock = ReturnType<typeof manualClock>;

function seat(m: Member): [string | null, string, string, string | null] {
  return [m.seatType, m.seatStatus, m.seatReason, m.waitingFor];
}

/** A full org: one chat_code and one chat seat taken, then `waiting` members waiting for any type. */
async function fullOrg(deps: ServiceDeps, clock: Clock, waiting: number, manualHoldMinutes?: number) {
  const org = await makeOrg(deps, { manualHoldMinutes });
  const orgId = org.org.id;
  await setPurchased(deps.db, orgId, "chat_code", 1);
  await setPurchased(deps.db, orgId, "chat", 1);
  const a = await provision(deps, orgId);
  const b = await provision(deps, orgId);
  const waiters: Member[] = [];
  for (let i = 0; i < waiting; i++) {
    clock.tick(); // each waits from a later second: the queue's order is theirs
    waiters.push(await provision(deps, orgId));
  }
  expect([a.seatType, b.seatType]).toEqual(["chat_code", "chat"]);
  for (const w of waiters) expect(w.waitingFor).toBe("any");
  return { orgId, a, b, waiters };
}

async function holdsOf(orgId: string): Promise<number> {
  return Number((await tdb.db("seat_holds").where({ org_id: orgId }).count<{ n: number }[]>({ n: "*" }))[0].n);
}

async function expectInvariants(orgId: string) {
  await expectLedgerConsistent(tdb.db, orgId);
  await expectAuditConsistent(tdb.db, orgId);
}

describe("a seat freed by hand is held for admins", () => {
  it("the documented three-step swap works while people wait, and nobody waiting is skipped for good", async () => {
    const clock = manualClock();
    const deps = testDeps(tdb.db, clock.now);
    const { orgId, a, b, waiters } = await fullOrg(deps, clock, 2);

    // 1. A → Unassigned: the chat_code seat is held, not handed to the first waiter.
    expect(seat(await patchMember(deps, orgId, a.id, { seatType: "unassigned" }, ADMIN))).toEqual([
      null,
      "unassigned",
      "manual",
      null,
    ]);
    let overview = await seatOverview(deps, orgId);
    expect(overview.seatTypes.map((s) => [s.type, s.used, s.held, s.available])).toEqual([
      ["chat_code", 0, 1, 0],
      ["chat", 1, 0, 0],
    ]);
    for (const w of waiters) expect((await reload(tdb.db, orgId, w.id)).waitingFor).toBe("any");

    // 2. B → chat_code takes the held seat; B's chat seat is held in turn.
    expect(seat(await patchMember(deps, orgId, b.id, { seatType: "chat_code" }, ADMIN))).toEqual([
      "chat_code",
      "claimed",
      "manual",
      null,
    ]);
    // 3. A → chat takes that one.
    expect(seat(await patchMember(deps, orgId, a.id, { seatType: "chat" }, ADMIN))).toEqual([
      "chat",
      "claimed",
      "manual",
      null,
    ]);
    overview = await seatOverview(deps, orgId);
    expect(overview.seatTypes.map((s) => [s.type, s.used, s.held])).toEqual([
      ["chat_code", 1, 0],
      ["chat", 1, 0],
    ]);
    for (const w of waiters) expect((await reload(tdb.db, orgId, w.id)).waitingFor).toBe("any");
    await expectInvariants(orgId);
  });

  it("no automatic claim can take a held seat: a new member queues behind it", async () => {
    const clock = manualClock();
    const deps = testDeps(tdb.db, clock.now);
    const { orgId, a } = await fullOrg(deps, clock, 0);
    await patchMember(deps, orgId, a.id, { seatType: "unassigned" }, ADMIN);
    const newcomer = await provision(deps, orgId);
    expect(seat(newcomer)).toEqual([null, "unassigned", "exhausted", "any"]);
    expect(await seatLedger(tdb.db, orgId)).toMatchObject({ chat_code: { used: 1, holders: 0, held: 1 } });
    await expectInvariants(orgId);
  });

  it("when the hold runs out unused, the longest waiter gets the seat, by itself", async () => {
    const clock = manualClock();
    const deps = testDeps(tdb.db, clock.now);
    const { orgId, a, waiters } = await fullOrg(deps, clock, 2);
    await patchMember(deps, orgId, a.id, { seatType: "unassigned" }, ADMIN);

    clock.advanceMinutes(14);
    await releaseExpiredHolds(deps);
    expect(await holdsOf(orgId)).toBe(1);
    expect((await reload(tdb.db, orgId, waiters[0].id)).waitingFor).toBe("any");

    clock.advanceMinutes(2);
    await releaseExpiredHolds(deps);
    expect(await holdsOf(orgId)).toBe(0);
    expect(seat(await reload(tdb.db, orgId, waiters[0].id))).toEqual(["chat_code", "claimed", "promoted", null]);
    expect((await reload(tdb.db, orgId, waiters[1].id)).waitingFor).toBe("any");
    expect(seat(await reload(tdb.db, orgId, a.id))).toEqual([null, "unassigned", "manual", null]);
    const expired = await tdb.db("audit_events").where({ org_id: orgId, action: "seat_hold.expired" });
    expect(expired).toHaveLength(1);
    expect((await seatOverview(deps, orgId)).seatTypes[0]).toMatchObject({ used: 1, held: 0, available: 0 });
    await expectInvariants(orgId);
  });

  it("with nobody waiting, an expired hold gives the seat back to the pool", async () => {
    const clock = manualClock();
    const deps = testDeps(tdb.db, clock.now);
    const { orgId, a } = await fullOrg(deps, clock, 0);
    await patchMember(deps, orgId, a.id, { seatType: "unassigned" }, ADMIN);
    clock.advanceMinutes(15);
    await releaseExpiredHolds(deps);
    expect(await holdsOf(orgId)).toBe(0);
    expect((await seatOverview(deps, orgId)).seatTypes[0]).toMatchObject({ used: 0, held: 0, available: 1 });
    expect(seat(await provision(deps, orgId))).toEqual(["chat_code", "claimed", "highest_available", null]);
    await expectInvariants(orgId);
  });

  it("processes ending holds at the same time end each exactly once", async () => {
    const clock = manualClock();
    const deps = testDeps(tdb.db, clock.now);
    const { orgId, a, b, waiters } = await fullOrg(deps, clock, 3);
    await patchMember(deps, orgId, a.id, { seatType: "unassigned" }, ADMIN);
    await patchMember(deps, orgId, b.id, { seatType: "unassigned" }, ADMIN);
    clock.advanceMinutes(16);
    const passes = await Promise.all([releaseExpiredHolds(deps), releaseExpiredHolds(deps), releaseExpiredHolds(deps)]);
    expect(passes.every((p) => p.more === false)).toBe(true);
    expect(await holdsOf(orgId)).toBe(0);
    const expired = await tdb.db("audit_events").where({ org_id: orgId, action: "seat_hold.expired" });
    expect(expired).toHaveLength(2);
    const states = await Promise.all(waiters.map(async (w) => (await reload(tdb.db, orgId, w.id)).seatType));
    expect(states.filter((s) => s !== null)).toHaveLength(2);
    expect(states[2]).toBeNull(); // the newest waiter still waits: FIFO
    await expectInvariants(orgId);
  });

  it("manualHoldMinutes 0 turns holds off: the freed seat goes to the longest waiter at once", async () => {
    const clock = manualClock();
    const deps = testDeps(tdb.db, clock.now);
    const { orgId, a, waiters } = await fullOrg(deps, clock, 1, 0);
    await patchMember(deps, orgId, a.id, { seatType: "unassigned" }, ADMIN);
    expect(seat(await reload(tdb.db, orgId, waiters[0].id))).toEqual(["chat_code", "claimed", "promoted", null]);
    expect((await seatLedger(tdb.db, orgId)).chat_code.held).toBe(0);
    await expectInvariants(orgId);
  });
});
