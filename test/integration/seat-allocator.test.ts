// The one seat allocator (DOMAIN §1, §3) on a real database: highest available, waiting and FIFO promotion,
// manual reassignment and its refusals, the swap, a single-type catalog, and the invariants every change
// keeps (audit trail, counters, the capacity constraint).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findMember, type Member } from "../../src/repositories/members-repository.js";
import { changeContext, loadOrg, type ServiceDeps } from "../../src/services/context.js";
import { patchMember, swapMembers } from "../../src/services/members-service.js";
import { changeSeat } from "../../src/services/seat-allocator.js";
import { createTestDatabase, onPostgres, type TestDatabase } from "../support/database.js";
import { makeOrg, provision, reload, seatLedger, setMappings, setPurchased, testDeps } from "../support/factories.js";
import {
  auditCount,
  deactivate,
  domainError,
  expectInvariants,
  reconcile,
  runIntent,
  seatEvents,
  steppingClock,
} from "../support/seat-invariants.js";

let tdb: TestDatabase;
beforeAll(async () => {
  tdb = await createTestDatabase();
});
afterAll(async () => tdb?.destroy());

const ADMIN = { actor: "admin:test", role: "owner" as const };

/**
 * An org of `plan` whose pools are shrunk to `seats` (below the plan minimum, to keep scenarios small).
 * These scenarios are about the queue itself, so a seat freed by hand goes to it at once (holds off);
 * test/integration/seat-holds.test.ts covers the admin hold of DOMAIN §3.4.
 */
async function smallOrg(
  deps: ServiceDeps,
  seats: Record<string, number>,
  options: { plan?: string; mappedTypeExhausted?: "unassigned" | "next_available"; manualHoldMinutes?: number } = {},
): Promise<string> {
  const initial = options.plan === "enterprise" ? { enterprise: 20 } : undefined;
  const org = await makeOrg(deps, {
    plan: options.plan,
    seats: initial,
    mappedTypeExhausted: options.mappedTypeExhausted,
    manualHoldMinutes: options.manualHoldMinutes ?? 0,
  });
  for (const [type, n] of Object.entries(seats)) await setPurchased(deps.db, org.org.id, type, n);
  return org.org.id;
}

function seat(m: Member): [string | null, string, string, string | null] {
  return [m.seatType, m.seatStatus, m.seatReason, m.waitingFor];
}

function freshDeps(): ServiceDeps {
  return testDeps(tdb.db, steppingClock());
}

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
    expect(ledger.chat_code).toEqual({ purchased: 1, used: 1, holders: 1, held: 0 });
    expect(ledger.chat).toEqual({ purchased: 1, used: 1, holders: 1, held: 0 });
    await expectInvariants(tdb.db, org.org.id);
  });

  it("leaves a member whose mapped type is full Unassigned, waiting for that type, even with other seats free (policy unassigned)", async () => {
    const deps = freshDeps();
    const orgId = await smallOrg(deps, { chat_code: 1, chat: 5 });
    await setMappings(tdb.db, orgId, [{ group: "Engineering", seatType: "chat_code", priority: 1 }]);
    const first = await provision(deps, orgId, { idpGroups: ["Engineering"] });
    const second = await provision(deps, orgId, { idpGroups: ["Engineering"] });
    const unmapped = await provision(deps, orgId);
    expect(seat(first)).toEqual(["chat_code", "claimed", "mapping:Engineering", null]);
    expect(seat(second)).toEqual([null, "unassigned", "waiting:chat_code", "chat_code"]);
    expect(second.waitingSince).toBeInstanceOf(Date);
    expect(seat(unmapped)).toEqual(["chat", "claimed", "highest_available", null]);
    const ledger = await seatLedger(tdb.db, orgId);
    expect(ledger.chat).toEqual({ purchased: 5, used: 1, holders: 1, held: 0 });
    await expectInvariants(tdb.db, orgId);
  });

  it("gives the next lower type when the mapped type is full and the org chose next_available", async () => {
    const deps = freshDeps();
    const orgId = await smallOrg(deps, { chat_code: 1, chat: 1 }, { mappedTypeExhausted: "next_available" });
    await setMappings(tdb.db, orgId, [{ group: "Engineering", seatType: "chat_code", priority: 1 }]);
    const first = await provision(deps, orgId, { idpGroups: ["Engineering"] });
    const second = await provision(deps, orgId, { idpGroups: ["Engineering"] });
    const third = await provision(deps, orgId, { idpGroups: ["Engineering"] });
    const unmapped = await provision(deps, orgId);
    expect(seat(first)).toEqual(["chat_code", "claimed", "mapping:Engineering", null]);
    expect(seat(second)).toEqual(["chat", "claimed", "mapping:Engineering", null]);
    // Nothing lower is left either: the member waits for the mapped type.
    expect(seat(third)).toEqual([null, "unassigned", "waiting:chat_code", "chat_code"]);
    expect(seat(unmapped)).toEqual([null, "unassigned", "exhausted", "any"]);
    await expectInvariants(tdb.db, orgId);
  });

  it("never moves a member above the mapped type under next_available", async () => {
    const deps = freshDeps();
    const orgId = await smallOrg(deps, { chat_code: 3, chat: 1 }, { mappedTypeExhausted: "next_available" });
    await setMappings(tdb.db, orgId, [{ group: "Support", seatType: "chat", priority: 1 }]);
    const first = await provision(deps, orgId, { idpGroups: ["Support"] });
    const second = await provision(deps, orgId, { idpGroups: ["Support"] });
    expect(seat(first)).toEqual(["chat", "claimed", "mapping:Support", null]);
    expect(seat(second)).toEqual([null, "unassigned", "waiting:chat", "chat"]);
    expect((await seatLedger(tdb.db, orgId)).chat_code.used).toBe(0);
    await expectInvariants(tdb.db, orgId);
  });
});

describe("the waiting queue: a freed seat goes to the longest-waiting member who can use it", () => {
  it("on deactivation, promotes the longest waiter for that type or any type, and skips members waiting for another type", async () => {
    const deps = freshDeps();
    const orgId = await smallOrg(deps, { chat_code: 1, chat: 1 });
    await setMappings(tdb.db, orgId, [{ group: "Engineering", seatType: "chat_code", priority: 1 }]);
    const a = await provision(deps, orgId);
    const b = await provision(deps, orgId);
    const waitsForCode = await provision(deps, orgId, { idpGroups: ["Engineering"] });
    const waitsForAny1 = await provision(deps, orgId);
    const waitsForAny2 = await provision(deps, orgId);
    expect([a.seatType, b.seatType]).toEqual(["chat_code", "chat"]);
    expect(seat(waitsForCode)).toEqual([null, "unassigned", "waiting:chat_code", "chat_code"]);
    expect(seat(waitsForAny1)).toEqual([null, "unassigned", "exhausted", "any"]);

    // A chat seat frees: the member waiting for chat_code has waited longest but cannot use it.
    const released = await deactivate(deps, orgId, b.id);
    expect(seat(released.member)).toEqual([null, "revoked", "deactivated", null]);
    expect(seat(await reload(tdb.db, orgId, waitsForAny1.id))).toEqual(["chat", "claimed", "promoted", null]);
    expect(seat(await reload(tdb.db, orgId, waitsForCode.id))).toEqual([
      null,
      "unassigned",
      "waiting:chat_code",
      "chat_code",
    ]);
    expect(seat(await reload(tdb.db, orgId, waitsForAny2.id))).toEqual([null, "unassigned", "exhausted", "any"]);

    // A chat_code seat frees: the chat_code waiter has waited longer than the remaining "any" waiter.
    await deactivate(deps, orgId, a.id);
    expect(seat(await reload(tdb.db, orgId, waitsForCode.id))).toEqual(["chat_code", "claimed", "promoted", null]);
    const still = await reload(tdb.db, orgId, waitsForAny2.id);
    expect(seat(still)).toEqual([null, "unassigned", "exhausted", "any"]);
    expect(still.waitingSince).toEqual(waitsForAny2.waitingSince);

    const promotions = (await seatEvents(tdb.db, orgId)).filter((e) => e.action === "seat.promoted");
    expect(promotions.map((e) => [e.memberId, e.after.seatType, e.reason, e.actor])).toEqual([
      [waitsForAny1.id, "chat", "promoted", "scim:test"],
      [waitsForCode.id, "chat_code", "promoted", "scim:test"],
    ]);
    await expectInvariants(tdb.db, orgId);
  });

  it("promotes in the same transaction that frees the seat: rolling it back undoes both", async () => {
    const deps = freshDeps();
    const orgId = await smallOrg(deps, { chat_code: 1, chat: 0 });
    const holder = await provision(deps, orgId);
    const waiter = await provision(deps, orgId);
    const auditBefore = await auditCount(tdb.db, orgId);
    const ledgerBefore = await seatLedger(tdb.db, orgId);

    const rollback = new Error("roll back");
    await expect(
      deps.db.transaction(async (trx) => {
        const org = await loadOrg(deps, trx, orgId);
        await changeSeat(
          trx,
          changeContext(deps, org, { actor: "scim:test" }),
          holder.id,
          { kind: "release", reason: "deleted" },
          deps.now(),
        );
        // Seen inside the transaction: the waiter already holds the seat.
        const promoted = await findMember(trx, orgId, waiter.id);
        expect(promoted?.seatType).toBe("chat_code");
        expect(promoted?.seatReason).toBe("promoted");
        throw rollback;
      }),
    ).rejects.toBe(rollback);

    expect(seat(await reload(tdb.db, orgId, holder.id))).toEqual(["chat_code", "claimed", "highest_available", null]);
    expect(seat(await reload(tdb.db, orgId, waiter.id))).toEqual([null, "unassigned", "exhausted", "any"]);
    expect(await seatLedger(tdb.db, orgId)).toEqual(ledgerBefore);
    expect(await auditCount(tdb.db, orgId)).toBe(auditBefore);
  });

  it("on a manual unassign, promotes the longest waiter; the unassigned member does not queue", async () => {
    const deps = freshDeps();
    const orgId = await smallOrg(deps, { chat_code: 1, chat: 0 });
    const holder = await provision(deps, orgId);
    const first = await provision(deps, orgId);
    const second = await provision(deps, orgId);

    const view = await patchMember(deps, orgId, holder.id, { seatType: "unassigned" }, ADMIN);
    expect(seat(view)).toEqual([null, "unassigned", "manual", null]);
    expect(view.seatSource).toBe("manual");
    expect(seat(await reload(tdb.db, orgId, first.id))).toEqual(["chat_code", "claimed", "promoted", null]);

    // The next freed seat goes to `second`, not to the member an admin chose to leave Unassigned.
    await patchMember(deps, orgId, first.id, { seatType: "unassigned" }, ADMIN);
    expect(seat(await reload(tdb.db, orgId, second.id))).toEqual(["chat_code", "claimed", "promoted", null]);
    expect(seat(await reload(tdb.db, orgId, holder.id))).toEqual([null, "unassigned", "manual", null]);
    await expectInvariants(tdb.db, orgId);
  });

  it("on a reassignment away, promotes a member waiting for the freed type", async () => {
    const deps = freshDeps();
    const orgId = await smallOrg(deps, { chat_code: 1, chat: 2 });
    await setMappings(tdb.db, orgId, [{ group: "Engineering", seatType: "chat_code", priority: 1 }]);
    const holder = await provision(deps, orgId);
    const waiter = await provision(deps, orgId, { idpGroups: ["Engineering"] });
    expect(seat(waiter)).toEqual([null, "unassigned", "waiting:chat_code", "chat_code"]);

    const moved = await patchMember(deps, orgId, holder.id, { seatType: "chat" }, ADMIN);
    expect(seat(moved)).toEqual(["chat", "claimed", "manual", null]);
    expect(seat(await reload(tdb.db, orgId, waiter.id))).toEqual(["chat_code", "claimed", "promoted", null]);
    const ledger = await seatLedger(tdb.db, orgId);
    expect([ledger.chat_code.used, ledger.chat.used]).toEqual([1, 1]);
    await expectInvariants(tdb.db, orgId);
  });

  it("does not give a freed chat seat to a member waiting for chat_code: the seat stays free", async () => {
    const deps = freshDeps();
    const orgId = await smallOrg(deps, { chat_code: 1, chat: 1 });
    await setMappings(tdb.db, orgId, [{ group: "Engineering", seatType: "chat_code", priority: 1 }]);
    await provision(deps, orgId);
    const chatHolder = await provision(deps, orgId);
    const waiter = await provision(deps, orgId, { idpGroups: ["Engineering"] });

    await deactivate(deps, orgId, chatHolder.id);
    const after = await reload(tdb.db, orgId, waiter.id);
    expect(seat(after)).toEqual([null, "unassigned", "waiting:chat_code", "chat_code"]);
    expect(after.waitingSince).toEqual(waiter.waitingSince);
    expect((await seatLedger(tdb.db, orgId)).chat).toEqual({ purchased: 1, used: 0, holders: 0, held: 0 });
    await expectInvariants(tdb.db, orgId);
  });

  it("orders the queue by waiting-since: a member handed back to the rules joins at the end", async () => {
    const deps = freshDeps();
    const orgId = await smallOrg(deps, { chat_code: 1, chat: 0 });
    const holder = await provision(deps, orgId);
    const early = await provision(deps, orgId);
    expect(early.waitingFor).toBe("any");
    await patchMember(deps, orgId, early.id, { seatType: "unassigned" }, ADMIN);
    const later = await provision(deps, orgId);
    const back = await patchMember(deps, orgId, early.id, { seatType: "auto" }, ADMIN);
    expect(seat(back)).toEqual([null, "unassigned", "exhausted", "any"]);
    expect(back.waitingSince!.getTime()).toBeGreaterThan(later.waitingSince!.getTime());

    await deactivate(deps, orgId, holder.id);
    expect((await reload(tdb.db, orgId, later.id)).seatType).toBe("chat_code");
    expect((await reload(tdb.db, orgId, early.id)).waitingFor).toBe("any");
    await expectInvariants(tdb.db, orgId);
  });

  // Two connections at once: PostgreSQL only (PGlite has one connection, so the interleaving cannot happen).
  it.skipIf(!onPostgres)(
    "gives a seat freed concurrently to the member another transaction is just leaving waiting",
    async () => {
      const deps = freshDeps();
      const orgId = await smallOrg(deps, { chat_code: 1, chat: 0 });
      const holder = await provision(deps, orgId);
      const member = await provision(deps, orgId);
      await patchMember(deps, orgId, member.id, { seatType: "unassigned" }, ADMIN);

      // T1 hands the member back to the rules: nothing is free, so it leaves them waiting, and holds on.
      let reached!: () => void;
      let finish!: () => void;
      const atWaiting = new Promise<void>((resolve) => (reached = resolve));
      const gate = new Promise<void>((resolve) => (finish = resolve));
      const t1 = deps.db.transaction(async (trx) => {
        const org = await loadOrg(deps, trx, orgId);
        const change = await changeSeat(
          trx,
          changeContext(deps, org, { actor: "admin:test" }),
          member.id,
          { kind: "auto" },
          deps.now(),
        );
        expect(change.member.waitingFor).toBe("any");
        reached();
        await gate;
      });
      await atWaiting;
      // T2 frees the only seat meanwhile; it must end up with the member T1 left waiting, not in the pool.
      const t2 = deactivate(deps, orgId, holder.id);
      await new Promise((resolve) => setTimeout(resolve, 300));
      finish();
      await Promise.all([t1, t2]);

      expect(seat(await reload(tdb.db, orgId, member.id))).toEqual(["chat_code", "claimed", "promoted", null]);
      expect((await seatLedger(tdb.db, orgId)).chat_code).toEqual({ purchased: 1, used: 1, holders: 1, held: 0 });
      await expectInvariants(tdb.db, orgId);
    },
  );

  // Under next_available a member mapped to chat_code would take a chat seat too, so a freed chat seat is theirs.
  it("under next_available, promotes a member waiting for chat_code into a freed chat seat", async () => {
    const deps = freshDeps();
    const orgId = await smallOrg(deps, { chat_code: 1, chat: 1 }, { mappedTypeExhausted: "next_available" });
    await setMappings(tdb.db, orgId, [{ group: "Engineering", seatType: "chat_code", priority: 1 }]);
    await provision(deps, orgId);
    const chatHolder = await provision(deps, orgId);
    const waiter = await provision(deps, orgId, { idpGroups: ["Engineering"] });
    expect(seat(waiter)).toEqual([null, "unassigned", "waiting:chat_code", "chat_code"]);
    expect(waiter.waitingTypes).toEqual(["chat_code", "chat"]);

    await deactivate(deps, orgId, chatHolder.id);
    expect(seat(await reload(tdb.db, orgId, waiter.id))).toEqual(["chat", "claimed", "promoted", null]);
    expect((await seatLedger(tdb.db, orgId)).chat).toEqual({ purchased: 1, used: 1, holders: 1, held: 0 });
    await expectInvariants(tdb.db, orgId);
  });

  it("reactivation re-runs the rules instead of restoring the old seat", async () => {
    const deps = freshDeps();
    const orgId = await smallOrg(deps, { chat_code: 1, chat: 0 });
    const a = await provision(deps, orgId);
    const b = await provision(deps, orgId);
    await deactivate(deps, orgId, a.id);
    expect((await reload(tdb.db, orgId, b.id)).seatType).toBe("chat_code");
    await tdb.db("members").where({ org_id: orgId, id: a.id }).update({ active: true });
    const reactivated = await reconcile(deps, orgId, a.id);
    expect(seat(reactivated.member)).toEqual([null, "unassigned", "exhausted", "any"]);
    await expectInvariants(tdb.db, orgId);
  });
});

describe("reassigning by hand", () => {
  it("refuses a type with no free seat with no_seat_available and what to buy, and changes nothing", async () => {
    const deps = freshDeps();
    const orgId = await smallOrg(deps, { chat_code: 1, chat: 1 });
    await provision(deps, orgId);
    const b = await provision(deps, orgId);
    const ledgerBefore = await seatLedger(tdb.db, orgId);
    const auditBefore = await auditCount(tdb.db, orgId);
    const memberBefore = await reload(tdb.db, orgId, b.id);

    const error = await domainError(patchMember(deps, orgId, b.id, { seatType: "chat_code" }, ADMIN));
    expect(error.code).toBe("no_seat_available");
    expect(error.details).toEqual({ seatType: "chat_code", purchaseRequired: 1 });
    expect(error.message).toMatch(/chat_code/);

    expect(await seatLedger(tdb.db, orgId)).toEqual(ledgerBefore);
    expect(await auditCount(tdb.db, orgId)).toBe(auditBefore);
    expect(await reload(tdb.db, orgId, b.id)).toEqual(memberBefore);
  });

  it("refuses an unknown seat type and a deactivated member", async () => {
    const deps = freshDeps();
    const orgId = await smallOrg(deps, { chat_code: 1, chat: 1 });
    const a = await provision(deps, orgId);
    expect((await domainError(patchMember(deps, orgId, a.id, { seatType: "premium" }, ADMIN))).code).toBe(
      "invalid_request",
    );
    await deactivate(deps, orgId, a.id);
    expect((await domainError(patchMember(deps, orgId, a.id, { seatType: "chat" }, ADMIN))).code).toBe("conflict");
    await expectInvariants(tdb.db, orgId);
  });

  it("moves a member to a type with a free seat and frees the old one", async () => {
    const deps = freshDeps();
    const orgId = await smallOrg(deps, { chat_code: 2, chat: 2 });
    const a = await provision(deps, orgId);
    const view = await patchMember(deps, orgId, a.id, { seatType: "chat" }, ADMIN);
    expect(seat(view)).toEqual(["chat", "claimed", "manual", null]);
    const ledger = await seatLedger(tdb.db, orgId);
    expect([ledger.chat_code.used, ledger.chat.used]).toEqual([0, 1]);
    await expectInvariants(tdb.db, orgId);
  });
});

describe("swapping two members' seats when every seat is taken", () => {
  async function fullOrg(deps: ServiceDeps) {
    const orgId = await smallOrg(deps, { chat_code: 1, chat: 1 });
    const a = await provision(deps, orgId);
    const b = await provision(deps, orgId);
    expect([a.seatType, b.seatType]).toEqual(["chat_code", "chat"]);
    return { orgId, a, b };
  }

  it("works step by step: A to Unassigned, B to the freed type, A to the other type", async () => {
    const deps = freshDeps();
    const { orgId, a, b } = await fullOrg(deps);
    expect(seat(await patchMember(deps, orgId, a.id, { seatType: "unassigned" }, ADMIN))).toEqual([
      null,
      "unassigned",
      "manual",
      null,
    ]);
    expect(seat(await patchMember(deps, orgId, b.id, { seatType: "chat_code" }, ADMIN))).toEqual([
      "chat_code",
      "claimed",
      "manual",
      null,
    ]);
    expect(seat(await patchMember(deps, orgId, a.id, { seatType: "chat" }, ADMIN))).toEqual([
      "chat",
      "claimed",
      "manual",
      null,
    ]);
    const ledger = await seatLedger(tdb.db, orgId);
    expect(ledger).toEqual({
      chat_code: { purchased: 1, used: 1, holders: 1, held: 0 },
      chat: { purchased: 1, used: 1, holders: 1, held: 0 },
    });
    const events = await seatEvents(tdb.db, orgId);
    expect(
      events.filter((e) => e.actor === "admin:test").map((e) => [e.memberId, e.before.seatType, e.after.seatType]),
    ).toEqual([
      [a.id, "chat_code", null],
      [b.id, "chat", "chat_code"],
      [a.id, null, "chat"],
    ]);
    await expectInvariants(tdb.db, orgId);
  });

  it("swaps atomically in one call; both become manual choices and the pool is untouched", async () => {
    const deps = freshDeps();
    const { orgId, a, b } = await fullOrg(deps);
    const ledgerBefore = await seatLedger(tdb.db, orgId);
    const [newA, newB] = await swapMembers(deps, orgId, a.id, b.id, { actor: "admin:test" });
    expect(seat(newA)).toEqual(["chat", "claimed", "manual", null]);
    expect(seat(newB)).toEqual(["chat_code", "claimed", "manual", null]);
    expect([newA.seatSource, newB.seatSource]).toEqual(["manual", "manual"]);
    expect(await seatLedger(tdb.db, orgId)).toEqual(ledgerBefore);
    const swaps = (await seatEvents(tdb.db, orgId)).filter((e) => e.action === "seat.swapped");
    expect(swaps.map((e) => [e.memberId, e.before.seatType, e.after.seatType])).toEqual([
      [a.id, "chat_code", "chat"],
      [b.id, "chat", "chat_code"],
    ]);
    await expectInvariants(tdb.db, orgId);
  });

  it("swaps a seat holder with an Unassigned member", async () => {
    const deps = freshDeps();
    const { orgId, a } = await fullOrg(deps);
    const waiter = await provision(deps, orgId);
    const [newA, newWaiter] = await swapMembers(deps, orgId, a.id, waiter.id, { actor: "admin:test" });
    expect(seat(newA)).toEqual([null, "unassigned", "manual", null]);
    expect(seat(newWaiter)).toEqual(["chat_code", "claimed", "manual", null]);
    await expectInvariants(tdb.db, orgId);
  });

  it("refuses the swap when either member's seat comes from a mapping, naming the mapping, and changes nothing", async () => {
    const deps = freshDeps();
    const orgId = await smallOrg(deps, { chat_code: 1, chat: 1 });
    await setMappings(tdb.db, orgId, [{ group: "Engineering", seatType: "chat_code", priority: 1 }]);
    const mapped = await provision(deps, orgId, { idpGroups: ["Engineering"] });
    const other = await provision(deps, orgId);
    expect([mapped.seatReason, other.seatType]).toEqual(["mapping:Engineering", "chat"]);
    const auditBefore = await auditCount(tdb.db, orgId);
    for (const [x, y] of [
      [mapped.id, other.id],
      [other.id, mapped.id],
    ]) {
      const error = await domainError(swapMembers(deps, orgId, x, y, { actor: "admin:test" }));
      expect(error.code).toBe("seat_from_mapping");
      expect(error.details.mapping).toBe("Engineering");
      expect(error.message).toContain("Engineering");
    }
    expect(await reload(tdb.db, orgId, mapped.id)).toEqual(mapped);
    expect(await reload(tdb.db, orgId, other.id)).toEqual(other);
    expect(await auditCount(tdb.db, orgId)).toBe(auditBefore);
    await expectInvariants(tdb.db, orgId);
  });
});

describe("a single-type catalog (plan enterprise)", () => {
  it("provisions, waits, maps, promotes and reassigns with no code of its own", async () => {
    const deps = freshDeps();
    const orgId = await smallOrg(deps, { enterprise: 2 }, { plan: "enterprise" });
    await setMappings(tdb.db, orgId, [{ group: "Everyone", seatType: "enterprise", role: "admin", priority: 1 }]);
    const a = await provision(deps, orgId);
    const b = await provision(deps, orgId, { idpGroups: ["Everyone"] });
    const c = await provision(deps, orgId);
    const d = await provision(deps, orgId, { idpGroups: ["Everyone"] });
    expect(seat(a)).toEqual(["enterprise", "claimed", "highest_available", null]);
    expect(seat(b)).toEqual(["enterprise", "claimed", "mapping:Everyone", null]);
    expect(b.role).toBe("admin");
    expect(seat(c)).toEqual([null, "unassigned", "exhausted", "any"]);
    expect(seat(d)).toEqual([null, "unassigned", "waiting:enterprise", "enterprise"]);

    await deactivate(deps, orgId, a.id);
    expect(seat(await reload(tdb.db, orgId, c.id))).toEqual(["enterprise", "claimed", "promoted", null]);
    await patchMember(deps, orgId, c.id, { seatType: "unassigned" }, ADMIN);
    expect(seat(await reload(tdb.db, orgId, d.id))).toEqual(["enterprise", "claimed", "promoted", null]);

    const full = await domainError(patchMember(deps, orgId, c.id, { seatType: "enterprise" }, ADMIN));
    expect([full.code, full.details]).toEqual(["no_seat_available", { seatType: "enterprise", purchaseRequired: 1 }]);
    expect((await domainError(patchMember(deps, orgId, c.id, { seatType: "chat" }, ADMIN))).code).toBe(
      "invalid_request",
    );
    expect((await seatLedger(tdb.db, orgId)).enterprise).toEqual({ purchased: 2, used: 2, holders: 2, held: 0 });
    await expectInvariants(tdb.db, orgId);
  });
});

describe("every seat change is audited and counted", () => {
  it("writes one event per change with before/after, and none for a change that changes nothing", async () => {
    const deps = freshDeps();
    const orgId = await smallOrg(deps, { chat_code: 1, chat: 1 });
    const a = await provision(deps, orgId);
    const b = await provision(deps, orgId);
    const w = await provision(deps, orgId);
    let events = await seatEvents(tdb.db, orgId);
    expect(events.map((e) => [e.action, e.memberId, e.before.seatReason, e.after.seatReason])).toEqual([
      ["seat.changed", a.id, "new", "highest_available"],
      ["seat.changed", b.id, "new", "highest_available"],
      ["seat.changed", w.id, "new", "exhausted"],
    ]);

    // Running the rules again changes nothing and writes nothing.
    const again = await reconcile(deps, orgId, w.id);
    expect(again.changed).toBe(false);
    expect(await seatEvents(tdb.db, orgId)).toHaveLength(3);

    await patchMember(deps, orgId, a.id, { seatType: "unassigned" }, ADMIN);
    await swapMembers(deps, orgId, w.id, b.id, { actor: "admin:test" });
    await runIntent(deps, orgId, a.id, { kind: "auto" }, "admin:test");
    events = await seatEvents(tdb.db, orgId);
    expect(events.slice(3).map((e) => [e.action, e.memberId, e.after.seatType, e.after.seatReason])).toEqual([
      ["seat.promoted", w.id, "chat_code", "promoted"],
      ["seat.changed", a.id, null, "manual"],
      ["seat.swapped", w.id, "chat", "manual"],
      ["seat.swapped", b.id, "chat_code", "manual"],
      ["seat.changed", a.id, null, "exhausted"],
    ]);
    // Each audited change also leaves an event for delivery after commit.
    const outbox = await tdb
      .db("outbox")
      .where({ org_id: orgId, topic: "member.seat_changed" })
      .count<{ n: number }[]>({ n: "*" })
      .first();
    expect(Number(outbox?.n)).toBe(events.length);
    await expectInvariants(tdb.db, orgId);
  });
});

describe("the database keeps the pool within capacity", () => {
  it("refuses a direct write that overfills an allocation (seat_allocations__capacity__check)", async () => {
    const deps = freshDeps();
    const orgId = await smallOrg(deps, { chat_code: 2, chat: 2 });
    const error = await tdb.db.raw("update seat_allocations set used = purchased + 1 where org_id = ?", [orgId]).then(
      () => null,
      (e: unknown) => e as { code?: string; constraint?: string; message: string },
    );
    expect(error).not.toBeNull();
    expect(error!.code).toBe("23514");
    expect(`${error!.constraint ?? ""} ${error!.message}`).toContain("seat_allocations__capacity__check");
    expect(await seatLedger(tdb.db, orgId)).toEqual({
      chat_code: { purchased: 2, used: 0, holders: 0, held: 0 },
      chat: { purchased: 2, used: 0, holders: 0, held: 0 },
    });
  });

  it("gives exactly K seats to N > K parallel provisioning requests, without deadlocking on the pool", async () => {
    const deps = freshDeps();
    const orgId = await smallOrg(deps, { chat_code: 3, chat: 3 });
    let deadlocks = 0;
    const onError = (error: { code?: string }) => {
      if (error.code === "40P01") deadlocks++;
    };
    tdb.db.on("query-error", onError);
    try {
      const members = await Promise.all(Array.from({ length: 20 }, () => provision(deps, orgId)));
      const byType = (t: string | null) => members.filter((m) => m.seatType === t).length;
      expect([byType("chat_code"), byType("chat"), byType(null)]).toEqual([3, 3, 14]);
      expect(members.filter((m) => m.seatType === null).every((m) => m.waitingFor === "any")).toBe(true);
      // Retries would hide them, but every deadlock costs a second (deadlock_timeout) and a retry.
      expect(deadlocks).toBe(0);
    } finally {
      tdb.db.off("query-error", onError);
    }
    await expectInvariants(tdb.db, orgId);
  });
});
