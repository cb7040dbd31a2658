// Group mappings (DOMAIN §3 rules 1 and 5) on a real database: priority and roles, leaving a group, manual
// choices that survive syncs, members a mapping holds, and a preview that is exactly what PUT then does.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addGroupMembers, removeGroupMembers } from "../../src/repositories/groups-repository.js";
import type { Member } from "../../src/repositories/members-repository.js";
import type { ServiceDeps } from "../../src/services/context.js";
import { previewMappings, putMappings, syncOrg } from "../../src/services/mappings-service.js";
import { patchMember } from "../../src/services/members-service.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import {
  makeGroup,
  makeOrg,
  provision,
  reload,
  seatLedger,
  setMappings,
  setPurchased,
  testDeps,
} from "../support/factories.js";
import {
  auditCount,
  deactivate,
  domainError,
  expectInvariants,
  reconcile,
  seatEvents,
  steppingClock,
} from "../support/seat-invariants.js";

let tdb: TestDatabase;
beforeAll(async () => {
  tdb = await createTestDatabase();
});
afterAll(async () => tdb?.destroy());

const ADMIN = { actor: "admin:test", role: "owner" as const };

async function smallOrg(
  deps: ServiceDeps,
  seats: Record<string, number>,
  options: { mappedTypeExhausted?: "unassigned" | "next_available" } = {},
): Promise<{ orgId: string; ownerId: string }> {
  // About mappings and the queue: a seat freed by hand goes to the queue at once here (holds off).
  const org = await makeOrg(deps, { ...options, manualHoldMinutes: 0 });
  for (const [type, n] of Object.entries(seats)) await setPurchased(deps.db, org.org.id, type, n);
  return { orgId: org.org.id, ownerId: org.ownerId };
}

function freshDeps(): ServiceDeps {
  return testDeps(tdb.db, steppingClock());
}

function seat(m: Member): [string | null, string, string, string | null] {
  return [m.seatType, m.seatStatus, m.seatReason, m.waitingFor];
}

describe("group mappings by priority", () => {
  it("gives the type of the lowest priority number and the highest role of every matching mapping", async () => {
    const deps = freshDeps();
    const { orgId } = await smallOrg(deps, { chat_code: 5, chat: 5 });
    const m = await provision(deps, orgId);
    expect(seat(m)).toEqual(["chat_code", "claimed", "highest_available", null]);
    // Matched by displayName (Support) and by externalId (eng-ext).
    const support = await makeGroup(tdb.db, orgId, "Support", [m.id]);
    const eng = await makeGroup(tdb.db, orgId, "Engineering", [m.id], "eng-ext");
    await setMappings(tdb.db, orgId, [
      { group: "eng-ext", seatType: "chat_code", role: "owner", priority: 2 },
      { group: "Support", seatType: "chat", role: "admin", priority: 1 },
    ]);

    const first = await reconcile(deps, orgId, m.id);
    expect(seat(first.member)).toEqual(["chat", "claimed", "mapping:Support", null]);
    expect([first.member.role, first.member.roleSource]).toEqual(["owner", "mapping"]);

    // Leaving Support: the next mapping in priority order gives the type; its role is now the only one.
    await removeGroupMembers(tdb.db, orgId, support, [m.id]);
    const second = await reconcile(deps, orgId, m.id);
    expect(seat(second.member)).toEqual(["chat_code", "claimed", "mapping:eng-ext", null]);
    expect(second.member.role).toBe("owner");

    // Leaving every mapped group: the rules keep the seat (it is still the highest available) and the
    // role the mappings gave goes back to member.
    await removeGroupMembers(tdb.db, orgId, eng, [m.id]);
    const third = await reconcile(deps, orgId, m.id);
    expect(seat(third.member)).toEqual(["chat_code", "claimed", "highest_available", null]);
    expect(third.member.role).toBe("member");
    const ledger = await seatLedger(tdb.db, orgId);
    expect([ledger.chat_code.used, ledger.chat.used]).toEqual([1, 0]);
    await expectInvariants(tdb.db, orgId);
  });

  it("matches groups by SCIM group id and by SAML group value, case-insensitively", async () => {
    const deps = freshDeps();
    const { orgId } = await smallOrg(deps, { chat_code: 5, chat: 5 });
    const byId = await provision(deps, orgId);
    const groupId = await makeGroup(tdb.db, orgId, "Contractors", [byId.id]);
    await setMappings(tdb.db, orgId, [
      { group: groupId, seatType: "chat", priority: 1 },
      { group: "SALES", seatType: "chat", priority: 2 },
    ]);
    expect(seat((await reconcile(deps, orgId, byId.id)).member)).toEqual([
      "chat",
      "claimed",
      `mapping:${groupId}`,
      null,
    ]);
    const bySaml = await provision(deps, orgId, { source: "jit", idpGroups: ["sales"] });
    expect(seat(bySaml)).toEqual(["chat", "claimed", "mapping:SALES", null]);
    await expectInvariants(tdb.db, orgId);
  });

  it("moving a member to a mapped lower type frees their seat for the longest waiter", async () => {
    const deps = freshDeps();
    const { orgId } = await smallOrg(deps, { chat_code: 1, chat: 1 });
    const m = await provision(deps, orgId);
    await provision(deps, orgId);
    const waiter = await provision(deps, orgId);
    expect(waiter.waitingFor).toBe("any");
    // The chat seat is taken: the mapping leaves m waiting for chat, and the chat_code seat goes to the waiter.
    await makeGroup(tdb.db, orgId, "Support", [m.id]);
    await setMappings(tdb.db, orgId, [{ group: "Support", seatType: "chat", priority: 1 }]);
    const moved = await reconcile(deps, orgId, m.id);
    expect(seat(moved.member)).toEqual([null, "unassigned", "waiting:chat", "chat"]);
    expect(seat(await reload(tdb.db, orgId, waiter.id))).toEqual(["chat_code", "claimed", "promoted", null]);
    await expectInvariants(tdb.db, orgId);
  });

  it("leaving a mapped group moves the member up when a higher seat is free, and frees the old one", async () => {
    const deps = freshDeps();
    const { orgId } = await smallOrg(deps, { chat_code: 2, chat: 2 });
    await setMappings(tdb.db, orgId, [{ group: "Support", seatType: "chat", priority: 1 }]);
    const m = await provision(deps, orgId);
    const group = await makeGroup(tdb.db, orgId, "Support", [m.id]);
    expect(seat((await reconcile(deps, orgId, m.id)).member)).toEqual(["chat", "claimed", "mapping:Support", null]);
    await removeGroupMembers(tdb.db, orgId, group, [m.id]);
    expect(seat((await reconcile(deps, orgId, m.id)).member)).toEqual([
      "chat_code",
      "claimed",
      "highest_available",
      null,
    ]);
    const ledger = await seatLedger(tdb.db, orgId);
    expect([ledger.chat_code.used, ledger.chat.used]).toEqual([1, 0]);
    await expectInvariants(tdb.db, orgId);
  });

  it("a member waiting for a mapped type who leaves the group takes any free seat, or keeps their place in the queue", async () => {
    const deps = freshDeps();
    const { orgId } = await smallOrg(deps, { chat_code: 1, chat: 1 });
    await setMappings(tdb.db, orgId, [{ group: "Engineering", seatType: "chat_code", priority: 1 }]);
    await provision(deps, orgId);
    const mapped = await provision(deps, orgId);
    const group = await makeGroup(tdb.db, orgId, "Engineering", [mapped.id]);
    const waiting = (await reconcile(deps, orgId, mapped.id)).member;
    expect(seat(waiting)).toEqual([null, "unassigned", "waiting:chat_code", "chat_code"]);
    const other = await provision(deps, orgId, { idpGroups: ["Engineering"] });
    // Another chat seat-holder fills chat; then `mapped` leaves the group: nothing is free, so they wait
    // for any type, still ahead of `other` in the queue.
    await provision(deps, orgId);
    await removeGroupMembers(tdb.db, orgId, group, [mapped.id]);
    const left = (await reconcile(deps, orgId, mapped.id)).member;
    expect(seat(left)).toEqual([null, "unassigned", "exhausted", "any"]);
    expect(left.waitingSince).toEqual(waiting.waitingSince);
    expect(left.waitingSince!.getTime()).toBeLessThan(other.waitingSince!.getTime());
    await expectInvariants(tdb.db, orgId);
  });

  it("takes back a role-only mapping's role when the mapping is removed, through putMappings", async () => {
    const deps = freshDeps();
    const { orgId } = await smallOrg(deps, { chat_code: 5, chat: 5 });
    const m = await provision(deps, orgId);
    await makeGroup(tdb.db, orgId, "Admins", [m.id]);
    const put = await putMappings(deps, orgId, [{ group: "Admins", role: "admin", priority: 1 }], {
      actor: "admin:test",
    });
    expect(put.sync.changes.map((c) => [c.memberId, c.before.role, c.after.role])).toEqual([[m.id, "member", "admin"]]);
    // A role-only mapping gives no seat: the seat still comes from the rules and can be changed by hand.
    const withRole = await reload(tdb.db, orgId, m.id);
    expect([withRole.role, withRole.roleSource, withRole.seatReason]).toEqual([
      "admin",
      "mapping",
      "highest_available",
    ]);

    await putMappings(deps, orgId, [], { actor: "admin:test" });
    const after = await reload(tdb.db, orgId, m.id);
    expect(after.role).toBe("member");
    await expectInvariants(tdb.db, orgId);
  });

  it("never changes the primary owner's role, nor their manual seat, through mappings", async () => {
    const deps = freshDeps();
    const { orgId, ownerId } = await smallOrg(deps, { chat_code: 5, chat: 5 });
    const ownerBefore = await reload(tdb.db, orgId, ownerId);
    await makeGroup(tdb.db, orgId, "Admins", [ownerId]);
    const result = await putMappings(deps, orgId, [{ group: "Admins", seatType: "chat", role: "admin", priority: 1 }], {
      actor: "admin:test",
    });
    expect(result.sync.changes.filter((c) => c.memberId === ownerId)).toEqual([]);
    await syncOrg(deps, orgId, { actor: "system" });
    const owner = await reload(tdb.db, orgId, ownerId);
    expect(owner.role).toBe("primary_owner");
    expect(seat(owner)).toEqual(seat(ownerBefore));
    await expectInvariants(tdb.db, orgId);
  });
});

describe("an admin's manual choice sticks", () => {
  it("survives syncs, reconciles and new mappings until the admin resets the member to automatic", async () => {
    const deps = freshDeps();
    const { orgId } = await smallOrg(deps, { chat_code: 5, chat: 5 });
    const m = await provision(deps, orgId);
    expect(m.seatType).toBe("chat_code");
    const manual = await patchMember(deps, orgId, m.id, { seatType: "chat" }, ADMIN);
    expect(seat(manual)).toEqual(["chat", "claimed", "manual", null]);

    expect((await syncOrg(deps, orgId, { actor: "system" })).changed).toBe(0);
    expect((await reconcile(deps, orgId, m.id)).changed).toBe(false);
    await makeGroup(tdb.db, orgId, "Engineering", [m.id]);
    const put = await putMappings(deps, orgId, [{ group: "Engineering", seatType: "chat_code", priority: 1 }], {
      actor: "admin:test",
    });
    expect(put.sync.changed).toBe(0);
    expect(seat(await reload(tdb.db, orgId, m.id))).toEqual(["chat", "claimed", "manual", null]);

    // Back to the rules: now the mapping decides.
    const auto = await patchMember(deps, orgId, m.id, { seatType: "auto" }, ADMIN);
    expect(seat(auto)).toEqual(["chat_code", "claimed", "mapping:Engineering", null]);
    expect(auto.seatSource).toBe("auto");
    const ledger = await seatLedger(tdb.db, orgId);
    expect([ledger.chat_code.used, ledger.chat.used]).toEqual([1, 0]);
    await expectInvariants(tdb.db, orgId);
  });

  it("keeps a member an admin unassigned out of the queue through syncs and freed seats", async () => {
    const deps = freshDeps();
    const { orgId } = await smallOrg(deps, { chat_code: 1, chat: 0 });
    const holder = await provision(deps, orgId);
    const m = await provision(deps, orgId);
    await patchMember(deps, orgId, m.id, { seatType: "unassigned" }, ADMIN);
    await deactivate(deps, orgId, holder.id);
    await syncOrg(deps, orgId, { actor: "system" });
    expect(seat(await reload(tdb.db, orgId, m.id))).toEqual([null, "unassigned", "manual", null]);
    expect((await seatLedger(tdb.db, orgId)).chat_code.used).toBe(0);
    // "auto" hands them back: the free seat is theirs.
    expect(seat(await patchMember(deps, orgId, m.id, { seatType: "auto" }, ADMIN))).toEqual([
      "chat_code",
      "claimed",
      "highest_available",
      null,
    ]);
    await expectInvariants(tdb.db, orgId);
  });
});

describe("members whose seat comes from a mapping cannot be changed by hand", () => {
  it("refuses a reassignment or an unassign with seat_from_mapping naming the mapping, and changes nothing", async () => {
    const deps = freshDeps();
    const { orgId } = await smallOrg(deps, { chat_code: 5, chat: 5 });
    const m = await provision(deps, orgId);
    await makeGroup(tdb.db, orgId, "Engineering", [m.id]);
    await putMappings(deps, orgId, [{ group: "Engineering", seatType: "chat_code", priority: 1 }], {
      actor: "admin:test",
    });
    const before = await reload(tdb.db, orgId, m.id);
    expect(before.seatReason).toBe("mapping:Engineering");
    const auditBefore = await auditCount(tdb.db, orgId);

    for (const seatType of ["chat", "unassigned", "chat_code"]) {
      const error = await domainError(patchMember(deps, orgId, m.id, { seatType }, ADMIN));
      expect(error.code).toBe("seat_from_mapping");
      expect(error.details).toEqual({ mapping: "Engineering" });
      expect(error.message).toContain('"Engineering"');
    }
    expect(await reload(tdb.db, orgId, m.id)).toEqual(before);
    expect(await auditCount(tdb.db, orgId)).toBe(auditBefore);
  });

  it("also holds a member the mapping leaves waiting; removing them from the group frees them", async () => {
    const deps = freshDeps();
    const { orgId } = await smallOrg(deps, { chat_code: 0, chat: 5 });
    const m = await provision(deps, orgId);
    const group = await makeGroup(tdb.db, orgId, "Engineering", [m.id]);
    await putMappings(deps, orgId, [{ group: "Engineering", seatType: "chat_code", priority: 1 }], {
      actor: "admin:test",
    });
    expect(seat(await reload(tdb.db, orgId, m.id))).toEqual([null, "unassigned", "waiting:chat_code", "chat_code"]);
    expect((await domainError(patchMember(deps, orgId, m.id, { seatType: "chat" }, ADMIN))).code).toBe(
      "seat_from_mapping",
    );

    await removeGroupMembers(tdb.db, orgId, group, [m.id]);
    expect(seat(await patchMember(deps, orgId, m.id, { seatType: "chat" }, ADMIN))).toEqual([
      "chat",
      "claimed",
      "manual",
      null,
    ]);
    await expectInvariants(tdb.db, orgId);
  });
});

describe("previewing mappings", () => {
  async function state(orgId: string) {
    return {
      members: await tdb.db("members").where({ org_id: orgId }).orderBy("id"),
      allocations: await tdb.db("seat_allocations").where({ org_id: orgId }).orderBy("seat_type"),
      mappings: await tdb.db("group_mappings").where({ org_id: orgId }).orderBy("group_name"),
      audit: await auditCount(tdb.db, orgId),
      outbox: (await tdb.db("outbox").where({ org_id: orgId })).length,
    };
  }

  it("changes nothing, and reports exactly what putMappings then does", async () => {
    const deps = freshDeps();
    const { orgId } = await smallOrg(deps, { chat_code: 2, chat: 2 });
    const [a, b, c, d] = [
      await provision(deps, orgId),
      await provision(deps, orgId),
      await provision(deps, orgId),
      await provision(deps, orgId),
    ];
    const e = await provision(deps, orgId);
    expect([a, b, c, d, e].map((m) => m.seatType)).toEqual(["chat_code", "chat_code", "chat", "chat", null]);
    await makeGroup(tdb.db, orgId, "Support", [a.id, c.id]);
    const eng = await makeGroup(tdb.db, orgId, "Engineering", [d.id]);
    await addGroupMembers(tdb.db, orgId, eng, [e.id]);
    await setMappings(tdb.db, orgId, [{ group: "Sales", seatType: "chat", priority: 5 }]);
    const input = [
      { group: "Support", seatType: "chat", priority: 1 },
      { group: "Engineering", seatType: "chat_code", role: "admin" as const, priority: 2 },
    ];

    const before = await state(orgId);
    const preview = await previewMappings(deps, orgId, input, { actor: "admin:test" });
    expect(await state(orgId)).toEqual(before);
    expect(preview.changed).toBeGreaterThan(0);

    const put = await putMappings(deps, orgId, input, { actor: "admin:test" });
    expect(put.sync.evaluated).toBe(preview.evaluated);
    // Every member ends exactly where the preview said (promotions included); nobody else changed.
    const planned = new Map(preview.changes.map((c) => [c.memberId, c]));
    for (const m0 of before.members) {
      const m = await reload(tdb.db, orgId, m0.id);
      const now = {
        seatType: m.seatType,
        seatStatus: m.seatStatus,
        seatReason: m.seatReason,
        waitingFor: m.waitingFor,
        role: m.role,
      };
      const was = {
        seatType: m0.seat_type,
        seatStatus: m0.seat_status,
        seatReason: m0.seat_reason,
        waitingFor: m0.waiting_for,
        role: m0.role,
      };
      expect(now).toEqual(planned.get(m.id)?.after ?? was);
      if (planned.has(m.id)) expect(planned.get(m.id)?.before).toEqual(was);
    }
    // Who ends up where depends on the order members are evaluated in; these do not.
    const now = Object.fromEntries(
      await Promise.all([a, b, c, d, e].map(async (m) => [m.id, await reload(tdb.db, orgId, m.id)])),
    );
    expect(now[d.id].role).toBe("admin");
    expect(now[e.id].role).toBe("admin");
    expect(now[c.id].seatReason).toBe("mapping:Support");
    await expectInvariants(tdb.db, orgId);
    // Syncing again changes nothing more.
    expect((await syncOrg(deps, orgId, { actor: "system" })).changed).toBe(0);
    const mappingEvents = await tdb.db("audit_events").where({ org_id: orgId, action: "mapping.changed" });
    expect(mappingEvents).toHaveLength(1);
    expect((await seatEvents(tdb.db, orgId)).length).toBeGreaterThan(5);
  });
});
