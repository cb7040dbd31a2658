// Batched one-statement creates (repositories/members-repository.ts insertMembersWithSeats, and the
// per-org queue in services/create-batches.ts): seats handed out in order and never past capacity, audit
// and outbox rows for every member, per-item token checks, and whole-batch failures that write nothing
// and leave each create to go on by itself.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { insertMembersWithSeats, type SeatedMemberItem } from "../../src/repositories/members-repository.js";
import { createWithSeatBatched } from "../../src/services/create-batches.js";
import { issueToken } from "../../src/services/tokens-service.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { makeOrg, seatLedger, setPurchased, testDeps } from "../support/factories.js";
import { expectInvariants } from "../support/seat-invariants.js";

let tdb: TestDatabase;
beforeAll(async () => {
  tdb = await createTestDatabase();
});
afterAll(async () => tdb?.destroy());

const SEAT_TYPES = ["chat_code", "chat"];
const BEFORE = { seatType: null, seatStatus: "unassigned", seatReason: "new", waitingFor: null, role: "member" };

function item(userName: string, tokenId?: string): SeatedMemberItem {
  return {
    tokenId,
    member: {
      id: randomUUID(),
      userName,
      externalId: null,
      displayName: null,
      givenName: "G",
      familyName: "F",
      email: userName,
      emails: [userName],
      attributes: { name: { givenName: "G" } },
      scimManaged: true,
      active: true,
      seatReason: "new",
      source: "scim",
    },
    audit: {
      actor: "scim:test",
      requestId: `req-${userName}`,
      created: { source: "scim", active: true },
      before: BEFORE,
    },
  };
}

async function smallOrg(seats: { chat_code: number; chat: number }): Promise<string> {
  const deps = testDeps(tdb.db);
  const org = await makeOrg(deps);
  for (const [type, n] of Object.entries(seats)) await setPurchased(tdb.db, org.org.id, type, n);
  return org.org.id;
}

describe("a batch of creates in one statement", () => {
  it("fills the best type first, then the next, and leaves the rest for the transactional path", async () => {
    const orgId = await smallOrg({ chat_code: 2, chat: 3 });
    const items = Array.from({ length: 7 }, (_, i) => item(`batch-${i}@example.com`));
    const results = await insertMembersWithSeats(tdb.db, orgId, {
      seatTypes: SEAT_TYPES,
      seatReason: "highest_available",
      items,
    });

    expect(results.map((r) => r.tokenUsable)).toEqual(Array(7).fill(true));
    expect(results.map((r) => r.result?.seatType ?? null)).toEqual([
      "chat_code",
      "chat_code",
      "chat",
      "chat",
      "chat",
      null,
      null,
    ]);
    expect(results[0].result).toMatchObject({
      id: items[0].member.id,
      userName: "batch-0@example.com",
      seatStatus: "claimed",
      seatReason: "highest_available",
      emails: ["batch-0@example.com"],
      attributes: { name: { givenName: "G" } },
    });
    expect(await seatLedger(tdb.db, orgId)).toMatchObject({
      chat_code: { purchased: 2, used: 2, holders: 2, held: 0 },
      chat: { purchased: 3, used: 3, holders: 3, held: 0 },
    });
    // Every seated member has its created and seat events and its outbox event; the two left over have none.
    await expectInvariants(tdb.db, orgId);
    const outbox = await tdb
      .db("outbox")
      .where({ org_id: orgId, topic: "member.seat_changed" })
      .count({ n: "*" })
      .first();
    expect(Number(outbox?.n)).toBe(5);
    const created = await tdb
      .db("audit_events")
      .where({ org_id: orgId, action: "member.created" })
      .whereIn(
        "member_id",
        items.map((i) => i.member.id),
      );
    expect(created.map((e) => e.request_id).sort()).toEqual(
      items
        .slice(0, 5)
        .map((i) => i.audit.requestId)
        .sort(),
    );
  });

  it("checks each item's token: a revoked one is refused, the others are created", async () => {
    const deps = testDeps(tdb.db);
    const orgId = await smallOrg({ chat_code: 10, chat: 10 });
    const good = await issueToken(deps, tdb.db, orgId, "scim", { name: "good" }, { actor: "test" });
    const revoked = await issueToken(deps, tdb.db, orgId, "scim", { name: "revoked" }, { actor: "test" });
    await tdb.db("api_tokens").where({ id: revoked.record.id }).update({ revoked_at: new Date() });
    const items = [
      item("tok-a@example.com", good.record.id),
      item("tok-b@example.com", revoked.record.id),
      item("tok-c@example.com"),
    ];
    const results = await insertMembersWithSeats(tdb.db, orgId, {
      seatTypes: SEAT_TYPES,
      seatReason: "highest_available",
      items,
    });
    expect(results.map((r) => [r.tokenUsable, r.result?.userName ?? null])).toEqual([
      [true, "tok-a@example.com"],
      [false, null],
      [true, "tok-c@example.com"],
    ]);
    expect(await seatLedger(tdb.db, orgId)).toMatchObject({ chat_code: { used: 2, holders: 2, held: 0 } });
  });

  it("writes nothing when one item's userName is taken (the batch fails as a whole)", async () => {
    const orgId = await smallOrg({ chat_code: 10, chat: 10 });
    await insertMembersWithSeats(tdb.db, orgId, {
      seatTypes: SEAT_TYPES,
      seatReason: "highest_available",
      items: [item("taken@example.com")],
    });
    const items = [item("free-1@example.com"), item("TAKEN@example.com"), item("free-2@example.com")];
    await expect(
      insertMembersWithSeats(tdb.db, orgId, { seatTypes: SEAT_TYPES, seatReason: "highest_available", items }),
    ).rejects.toMatchObject({ code: "23505" });
    expect(
      await tdb
        .db("members")
        .where({ org_id: orgId })
        .whereIn("user_name", ["free-1@example.com", "free-2@example.com"]),
    ).toEqual([]);
    expect(await seatLedger(tdb.db, orgId)).toMatchObject({ chat_code: { used: 1, holders: 1, held: 0 } });
    await expectInvariants(tdb.db, orgId);
  });
});

describe("the per-org queue", () => {
  it("sends parallel creates together and, when the batch fails, settles each one by itself", async () => {
    const orgId = await smallOrg({ chat_code: 3, chat: 100 });
    await insertMembersWithSeats(tdb.db, orgId, {
      seatTypes: SEAT_TYPES,
      seatReason: "highest_available",
      items: [item("queued-taken@example.com")],
    });
    const batch = { seatTypes: SEAT_TYPES, seatReason: "highest_available" };
    const names = Array.from({ length: 40 }, (_, i) =>
      i === 17 ? "queued-taken@example.com" : `queued-${i}@example.com`,
    );
    const settled = await Promise.allSettled(names.map((n) => createWithSeatBatched(tdb.db, orgId, batch, item(n))));

    // The taken userName fails alone (23505, for the caller to adopt or answer 409); every other create got a
    // seat (retried one at a time, none of them lost the race for a seat to another).
    const rejected = settled.flatMap((s, i) =>
      s.status === "rejected" ? [[names[i], (s.reason as { code?: string }).code]] : [],
    );
    expect(rejected).toEqual([["queued-taken@example.com", "23505"]]);
    const seats = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value.result?.seatType] : []));
    expect(seats).toHaveLength(39);
    expect(seats.filter((t) => t === "chat_code")).toHaveLength(2);
    expect(seats.filter((t) => t === "chat")).toHaveLength(37);
    expect(await seatLedger(tdb.db, orgId)).toMatchObject({
      chat_code: { purchased: 3, used: 3, holders: 3, held: 0 },
      chat: { used: 37, holders: 37, held: 0 },
    });
    await expectInvariants(tdb.db, orgId);
  });

  it("a create the statement refuses (text jsonb cannot hold) fails alone, not its batch", async () => {
    // The SCIM router makes such text storable first; this is the queue's own guarantee.
    const orgId = await smallOrg({ chat_code: 50, chat: 50 });
    const batch = { seatTypes: SEAT_TYPES, seatReason: "highest_available" };
    const names = Array.from({ length: 12 }, (_, i) => (i === 6 ? "odd\ud800@example.com" : `plain-${i}@example.com`));
    const settled = await Promise.allSettled(names.map((n) => createWithSeatBatched(tdb.db, orgId, batch, item(n))));
    expect(settled.map((s) => s.status)).toEqual(names.map((n) => (n.startsWith("odd") ? "rejected" : "fulfilled")));
    expect(await seatLedger(tdb.db, orgId)).toMatchObject({ chat_code: { used: 11, holders: 11, held: 0 } });
    await expectInvariants(tdb.db, orgId);
  });

  it("never hands out more seats than exist, with 60 creates for 25 seats", async () => {
    const orgId = await smallOrg({ chat_code: 10, chat: 15 });
    const batch = { seatTypes: SEAT_TYPES, seatReason: "highest_available" };
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) => createWithSeatBatched(tdb.db, orgId, batch, item(`crowd-${i}@example.com`))),
    );
    const seated = results.filter((r) => r.result !== null);
    expect(seated).toHaveLength(25);
    expect(await seatLedger(tdb.db, orgId)).toMatchObject({
      chat_code: { purchased: 10, used: 10, holders: 10, held: 0 },
      chat: { purchased: 15, used: 15, holders: 15, held: 0 },
    });
    await expectInvariants(tdb.db, orgId);
  });
});
