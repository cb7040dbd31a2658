import type { Express } from "express";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Member } from "../../src/repositories/members-repository.js";
import type { ServiceDeps } from "../../src/services/context.js";
import { testApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { makeGroup, provision, seatLedger, setMappings, setPurchased, testDeps } from "../support/factories.js";
import {
  type AdminClient,
  adminClient,
  bearer,
  createOrgViaApi,
  deactivate,
  MISSING_ID,
  ownerIdOf,
  path,
} from "./helpers.js";

let tdb: TestDatabase;
let app: Express;
let deps: ServiceDeps;

beforeAll(async () => {
  tdb = await createTestDatabase();
  app = testApp(tdb.db);
  deps = testDeps(tdb.db);
});
afterAll(async () => tdb?.destroy());

interface Fixture {
  orgId: string;
  owner: AdminClient;
  ownerToken: string;
  ownerId: string;
}

async function newOrg(seats: Record<string, number> = { chat_code: 10, chat: 10 }): Promise<Fixture> {
  const created = await createOrgViaApi(app, { seats });
  const owner = adminClient(app, created.orgId, created.ownerToken);
  return { orgId: created.orgId, owner, ownerToken: created.ownerToken, ownerId: await ownerIdOf(owner) };
}

type SeatRow = { type: string; used: number; available: number; purchased: number; waiting: number; held: number };
async function seatsOf(f: Fixture): Promise<Record<string, SeatRow>> {
  const res = await f.owner.get("seats");
  expect(res.status).toBe(200);
  return Object.fromEntries(res.body.seatTypes.map((s: SeatRow) => [s.type, s]));
}

describe("GET seats", () => {
  it("has the contract's shape: plan, term, seatTypes with counts, unassigned", async () => {
    const f = await newOrg({ chat_code: 12, chat: 8 });
    await provision(deps, f.orgId);
    await provision(deps, f.orgId);
    const res = await f.owner.get("seats");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      plan: "enterprise_usage",
      term: { start: expect.any(String), end: expect.any(String) },
      seatTypes: [
        {
          type: "chat_code",
          label: "Chat + Claude Code",
          rank: 1,
          purchased: 12,
          used: 2,
          available: 10,
          waiting: 0,
          held: 0,
        },
        { type: "chat", label: "Chat", rank: 2, purchased: 8, used: 0, available: 8, waiting: 0, held: 0 },
      ],
      unassigned: 1, // the primary owner: buying seats gives the buyer none
    });
    for (const s of res.body.seatTypes)
      expect(Object.keys(s).sort()).toEqual([
        "available",
        "held",
        "label",
        "purchased",
        "rank",
        "type",
        "used",
        "waiting",
      ]);
    const start = Date.parse(res.body.term.start);
    const end = Date.parse(res.body.term.end);
    expect(Number.isNaN(start) || Number.isNaN(end)).toBe(false);
    expect(end).toBeGreaterThan(start);
  });

  it("counts members waiting for a type", async () => {
    const f = await newOrg();
    await setPurchased(tdb.db, f.orgId, "chat_code", 1);
    await setPurchased(tdb.db, f.orgId, "chat", 0);
    await provision(deps, f.orgId); // takes the one chat_code seat
    const waiter = await provision(deps, f.orgId); // waits for any type
    await makeGroup(tdb.db, f.orgId, "Engineering", [waiter.id]);
    expect(
      (await f.owner.put("group-mappings", [{ group: "Engineering", seatType: "chat_code", priority: 1 }])).status,
    ).toBe(200);
    const res = await f.owner.get("seats");
    expect(res.body.seatTypes.map((s: SeatRow) => [s.type, s.used, s.available, s.waiting])).toEqual([
      ["chat_code", 1, 0, 1],
      ["chat", 0, 0, 0],
    ]);
    expect(res.body.unassigned).toBe(2);
  });
});

describe("GET members", () => {
  let f: Fixture;
  let alice: Member, bob: Member, carol: Member, dave: Member;
  beforeAll(async () => {
    f = await newOrg();
    await setPurchased(tdb.db, f.orgId, "chat_code", 2);
    alice = await provision(deps, f.orgId, { userName: "alice@acme.test", displayName: "Alice Liddell" });
    bob = await provision(deps, f.orgId, { userName: "bob@acme.test", displayName: "Bob 100% Real" });
    carol = await provision(deps, f.orgId, { userName: "carol@acme.test", displayName: "Carol" });
    dave = await provision(deps, f.orgId, {
      userName: "dave@acme.test",
      email: "d.smith@mail.test",
      displayName: "Dave",
    });
    expect([alice.seatType, bob.seatType, carol.seatType, dave.seatType]).toEqual([
      "chat_code",
      "chat_code",
      "chat",
      "chat",
    ]);
    await makeGroup(tdb.db, f.orgId, "Engineering", [alice.id, carol.id]);
    await makeGroup(tdb.db, f.orgId, "Design", [alice.id]);
  });

  async function ids(query: string): Promise<string[]> {
    const res = await f.owner.get(`members${query}`);
    expect(res.status, query).toBe(200);
    expect(res.body.nextCursor).toBeNull();
    return res.body.items.map((m: { id: string }) => m.id).sort();
  }

  it("lists every member with the contract's fields", async () => {
    const res = await f.owner.get("members");
    expect(res.status).toBe(200);
    expect(res.body.items).toHaveLength(5);
    expect(res.body.nextCursor).toBeNull();
    const a = res.body.items.find((m: { id: string }) => m.id === alice.id);
    expect(a).toMatchObject({
      id: alice.id,
      userName: "alice@acme.test",
      email: "alice@acme.test",
      role: "member",
      active: true,
      seatType: "chat_code",
      seatStatus: "claimed",
      seatReason: "highest_available",
      waitingFor: null,
    });
    const o = res.body.items.find((m: { id: string }) => m.id === f.ownerId);
    expect(o).toMatchObject({ role: "primary_owner", seatType: "unassigned" });
  });

  it("filters by seatType, including unassigned", async () => {
    expect(await ids("?seatType=chat_code")).toEqual([alice.id, bob.id].sort());
    expect(await ids("?seatType=chat")).toEqual([carol.id, dave.id].sort());
    expect(await ids("?seatType=unassigned")).toEqual([f.ownerId]);
    expect(await ids("?seatType=premium")).toEqual([]);
  });

  it("filters by role", async () => {
    expect(await ids("?role=primary_owner")).toEqual([f.ownerId]);
    expect(await ids("?role=member")).toEqual([alice.id, bob.id, carol.id, dave.id].sort());
    expect(await ids("?role=admin")).toEqual([]);
  });

  it("filters by status", async () => {
    expect(await ids("?status=active")).toHaveLength(5);
    expect(await ids("?status=inactive")).toEqual([]);
    expect(await ids("?status=waiting")).toEqual([]);
  });

  it("searches userName, email and displayName, case-insensitively, with % taken literally", async () => {
    expect(await ids("?q=ALICE")).toEqual([alice.id]);
    expect(await ids("?q=smith")).toEqual([dave.id]);
    expect(await ids("?q=liddell")).toEqual([alice.id]);
    expect(await ids(`?q=${encodeURIComponent("100%")}`)).toEqual([bob.id]);
    expect(await ids(`?q=${encodeURIComponent("%")}`)).toEqual([bob.id]);
    expect(await ids(`?q=${encodeURIComponent("_")}`)).toEqual([]);
    expect(await ids("?q=acme.test&seatType=chat")).toEqual([carol.id, dave.id].sort());
  });

  it("pages with a cursor: limit=2 over 5 members gives each exactly once and ends with nextCursor null", async () => {
    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 10; i++) {
      const query: string = cursor ? `members?limit=2&cursor=${encodeURIComponent(cursor)}` : "members?limit=2";
      const res = await f.owner.get(query);
      expect(res.status).toBe(200);
      sizes.push(res.body.items.length);
      seen.push(...res.body.items.map((m: { id: string }) => m.id));
      cursor = res.body.nextCursor;
      if (cursor === null) break;
      expect(typeof cursor).toBe("string");
    }
    expect(cursor).toBeNull();
    expect(sizes).toEqual([2, 2, 1]);
    expect(new Set(seen).size).toBe(5);
    expect(seen.sort()).toEqual([f.ownerId, alice.id, bob.id, carol.id, dave.id].sort());
  });

  it("pages within a filter", async () => {
    const first = await f.owner.get("members?role=member&limit=3");
    expect(first.body.items).toHaveLength(3);
    const second = await f.owner.get(`members?role=member&limit=3&cursor=${first.body.nextCursor}`);
    expect(second.body.items).toHaveLength(1);
    expect(second.body.nextCursor).toBeNull();
    const all = [...first.body.items, ...second.body.items].map((m: { id: string }) => m.id).sort();
    expect(all).toEqual([alice.id, bob.id, carol.id, dave.id].sort());
  });

  it("answers 400 for bad query parameters", async () => {
    for (const query of [
      "?role=superuser",
      "?status=asleep",
      "?limit=0",
      "?limit=501",
      "?limit=abc",
      "?cursor=not-a-cursor",
      "?role=admin&role=member",
    ]) {
      const res = await f.owner.get(`members${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body).toEqual({ error: "invalid_request", message: expect.any(String) });
    }
  });

  it("GET members/{id} has the member with their groups", async () => {
    const res = await f.owner.get(`members/${alice.id}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: alice.id,
      userName: "alice@acme.test",
      email: "alice@acme.test",
      role: "member",
      active: true,
      seatType: "chat_code",
      seatStatus: "claimed",
      seatReason: "highest_available",
      waitingFor: null,
    });
    expect(res.body.groups.map((g: { displayName: string }) => g.displayName)).toEqual(["Design", "Engineering"]);
    const none = await f.owner.get(`members/${bob.id}`);
    expect(none.body.groups).toEqual([]);
  });

  it("GET members/{id} answers 404 for unknown and garbage ids and another org's member", async () => {
    const g = await newOrg();
    for (const id of [MISSING_ID, "not-a-uuid", "1", g.ownerId, "%20"]) {
      const res = await f.owner.get(`members/${id}`);
      expect(res.status, id).toBe(404);
      expect(res.body).toEqual({ error: "not_found", message: expect.any(String) });
    }
  });

  it("a waiting and a deactivated member show under their status filters", async () => {
    const g = await newOrg();
    await setPurchased(tdb.db, g.orgId, "chat_code", 0);
    await setPurchased(tdb.db, g.orgId, "chat", 0);
    const waiting = await provision(deps, g.orgId);
    const gone = await provision(deps, g.orgId);
    await deactivate(deps, g.orgId, gone.id);
    const w = await g.owner.get("members?status=waiting");
    expect(w.body.items.map((m: { id: string }) => m.id)).toEqual([waiting.id]);
    expect(w.body.items[0]).toMatchObject({ seatType: "unassigned", waitingFor: "any", seatReason: "exhausted" });
    const i = await g.owner.get("members?status=inactive");
    expect(i.body.items.map((m: { id: string }) => m.id)).toEqual([gone.id]);
    expect(i.body.items[0].active).toBe(false);
    expect((await g.owner.get("members?status=active")).body.items).toHaveLength(2);
  });
});

describe("PATCH members/{id}", () => {
  it("reassigns a seat type by hand and moves the counters", async () => {
    const f = await newOrg();
    const m = await provision(deps, f.orgId);
    expect(m.seatType).toBe("chat_code");
    const res = await f.owner.patch(`members/${m.id}`, { seatType: "chat" });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: m.id,
      seatType: "chat",
      seatStatus: "claimed",
      seatReason: "manual",
      seatSource: "manual",
      waitingFor: null,
    });
    const seats = await seatsOf(f);
    expect([seats.chat_code.used, seats.chat.used]).toEqual([0, 1]);
    expect([seats.chat_code.held, seats.chat_code.available]).toEqual([1, 9]);
    expect(await seatLedger(tdb.db, f.orgId)).toEqual({
      // The chat_code seat freed by hand is held for admins (DOMAIN §3.4): still counted, held by nobody.
      chat_code: { purchased: 10, used: 1, holders: 0, held: 1 },
      chat: { purchased: 10, used: 1, holders: 1, held: 0 },
    });
  });

  it('unassigns with "unassigned" and hands back to the rules with "auto"', async () => {
    const f = await newOrg();
    const m = await provision(deps, f.orgId);
    const un = await f.owner.patch(`members/${m.id}`, { seatType: "unassigned" });
    expect(un.status).toBe(200);
    expect(un.body).toMatchObject({
      seatType: "unassigned",
      seatStatus: "unassigned",
      seatReason: "manual",
      seatSource: "manual",
      waitingFor: null,
    });
    expect((await seatsOf(f)).chat_code.used).toBe(0);
    // A manual Unassigned sticks through a sync.
    expect((await f.owner.post("sync")).status).toBe(200);
    expect((await f.owner.get(`members/${m.id}`)).body.seatType).toBe("unassigned");

    const auto = await f.owner.patch(`members/${m.id}`, { seatType: "auto" });
    expect(auto.status).toBe(200);
    expect(auto.body).toMatchObject({
      seatType: "chat_code",
      seatStatus: "claimed",
      seatReason: "highest_available",
      seatSource: "auto",
    });
    expect((await seatsOf(f)).chat_code.used).toBe(1);
  });

  it("answers 409 no_seat_available with exactly the contract's body for a full type, changing nothing", async () => {
    const f = await newOrg();
    await setPurchased(tdb.db, f.orgId, "chat_code", 1);
    const holder = await provision(deps, f.orgId);
    const m = await provision(deps, f.orgId);
    expect([holder.seatType, m.seatType]).toEqual(["chat_code", "chat"]);
    const res = await f.owner.patch(`members/${m.id}`, { seatType: "chat_code" });
    expect(res.status).toBe(409);
    expect(res.body).toEqual({
      error: "no_seat_available",
      seatType: "chat_code",
      purchaseRequired: 1,
      message: expect.any(String),
    });
    expect(res.body.message).toContain("chat_code");
    const after = await f.owner.get(`members/${m.id}`);
    expect(after.body).toMatchObject({ seatType: "chat", seatSource: "auto" });
    expect(await seatLedger(tdb.db, f.orgId)).toEqual({
      chat_code: { purchased: 1, used: 1, holders: 1, held: 0 },
      chat: { purchased: 10, used: 1, holders: 1, held: 0 },
    });
  });

  it("changes a role when the owner asks, and records it", async () => {
    const f = await newOrg();
    const m = await provision(deps, f.orgId);
    const res = await f.owner.patch(`members/${m.id}`, { role: "admin" });
    expect(res.status).toBe(200);
    expect(res.body.role).toBe("admin");
    expect(res.body.seatType).toBe("chat_code");
    const audit = await f.owner.get(`audit-events?memberId=${m.id}&action=member.role_changed`);
    expect(audit.body.items).toHaveLength(1);
    expect(audit.body.items[0]).toMatchObject({
      actor: `admin:${f.ownerId}`,
      before: { role: "member" },
      after: { role: "admin" },
    });
    // Role and seat in one request.
    const both = await f.owner.patch(`members/${m.id}`, { role: "owner", seatType: "chat" });
    expect(both.status).toBe(200);
    expect(both.body).toMatchObject({ role: "owner", seatType: "chat" });
  });

  it("never demotes the primary owner (403), nor makes a second primary owner (400)", async () => {
    const f = await newOrg();
    const demote = await f.owner.patch(`members/${f.ownerId}`, { role: "admin" });
    expect(demote.status).toBe(403);
    expect(demote.body).toEqual({ error: "primary_owner_protected", message: expect.any(String) });
    // Not by another owner either.
    const m = await provision(deps, f.orgId);
    await f.owner.patch(`members/${m.id}`, { role: "owner" });
    const token = (await f.owner.post("admin-tokens", { memberId: m.id })).body.token;
    const byOwner = await adminClient(app, f.orgId, token).patch(`members/${f.ownerId}`, { role: "member" });
    expect(byOwner.status).toBe(403);
    expect((await f.owner.get(`members/${f.ownerId}`)).body.role).toBe("primary_owner");
    const second = await f.owner.patch(`members/${m.id}`, { role: "primary_owner" });
    expect(second.status).toBe(400);
    expect((await f.owner.get("members?role=primary_owner")).body.items).toHaveLength(1);
    // The primary owner can still be given a seat.
    const seat = await f.owner.patch(`members/${f.ownerId}`, { seatType: "chat" });
    expect(seat.status).toBe(200);
    expect(seat.body).toMatchObject({ role: "primary_owner", seatType: "chat" });
  });

  it("answers 400 for a bad body", async () => {
    const f = await newOrg();
    const m = await provision(deps, f.orgId);
    const bodies: unknown[] = [
      {},
      { seatType: 5 },
      { seatType: "" },
      { role: "superuser" },
      { seatType: "chat", extra: 1 },
      { seatType: "premium" },
      [],
      { seatType: null },
    ];
    for (const body of bodies) {
      const res = await f.owner.patch(`members/${m.id}`, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body).toEqual({ error: "invalid_request", message: expect.any(String) });
    }
    const broken = await request(app)
      .patch(path(f.orgId, `members/${m.id}`))
      .set(...bearer(f.ownerToken))
      .set("Content-Type", "application/json")
      .send("{");
    expect(broken.status).toBe(400);
    expect(broken.body.error).toBe("invalid_request");
    expect((await f.owner.get(`members/${m.id}`)).body).toMatchObject({
      seatType: "chat_code",
      seatSource: "auto",
      role: "member",
    });
  });

  it("answers 404 for an unknown member and 409 for a deactivated one", async () => {
    const f = await newOrg();
    for (const id of [MISSING_ID, "garbage"]) {
      const res = await f.owner.patch(`members/${id}`, { seatType: "chat" });
      expect(res.status, id).toBe(404);
      expect(res.body.error).toBe("not_found");
      expect((await f.owner.patch(`members/${id}`, { role: "admin" })).status).toBe(404);
    }
    const m = await provision(deps, f.orgId);
    await deactivate(deps, f.orgId, m.id);
    const res = await f.owner.patch(`members/${m.id}`, { seatType: "chat" });
    expect(res.status).toBe(409);
    expect(res.body.error).toBe("conflict");
  });

  it("answers 409 naming the mapping for a member whose seat comes from a group mapping", async () => {
    const f = await newOrg();
    const m = await provision(deps, f.orgId);
    await makeGroup(tdb.db, f.orgId, "Engineering", [m.id]);
    expect(
      (await f.owner.put("group-mappings", [{ group: "Engineering", seatType: "chat_code", priority: 1 }])).status,
    ).toBe(200);
    expect((await f.owner.get(`members/${m.id}`)).body.seatReason).toBe("mapping:Engineering");
    for (const seatType of ["chat", "unassigned"]) {
      const res = await f.owner.patch(`members/${m.id}`, { seatType });
      expect(res.status, seatType).toBe(409);
      expect(res.body).toMatchObject({ error: "seat_from_mapping", mapping: "Engineering" });
      expect(res.body.message).toContain("Engineering");
    }
    expect((await f.owner.get(`members/${m.id}`)).body.seatType).toBe("chat_code");
  });
});

describe("POST members/swap", () => {
  it("exchanges two members' seat types atomically, keeping the counters", async () => {
    const f = await newOrg();
    await setPurchased(tdb.db, f.orgId, "chat_code", 1);
    const a = await provision(deps, f.orgId);
    const b = await provision(deps, f.orgId);
    expect([a.seatType, b.seatType]).toEqual(["chat_code", "chat"]);
    const before = await seatsOf(f);
    const res = await f.owner.post("members/swap", { a: a.id, b: b.id });
    expect(res.status).toBe(200);
    expect(res.body.a).toMatchObject({ id: a.id, seatType: "chat", seatSource: "manual", seatReason: "manual" });
    expect(res.body.b).toMatchObject({ id: b.id, seatType: "chat_code", seatSource: "manual", seatReason: "manual" });
    const after = await seatsOf(f);
    expect([after.chat_code.used, after.chat.used]).toEqual([before.chat_code.used, before.chat.used]);
    expect(await seatLedger(tdb.db, f.orgId)).toEqual({
      chat_code: { purchased: 1, used: 1, holders: 1, held: 0 },
      chat: { purchased: 10, used: 1, holders: 1, held: 0 },
    });
    const audit = await f.owner.get("audit-events?action=seat.swapped");
    expect(audit.body.items.map((e: { memberId: string }) => e.memberId).sort()).toEqual([a.id, b.id].sort());
  });

  it("swaps a seat with an Unassigned member", async () => {
    const f = await newOrg();
    const a = await provision(deps, f.orgId);
    const res = await f.owner.post("members/swap", { a: a.id, b: f.ownerId });
    expect(res.status).toBe(200);
    expect(res.body.a.seatType).toBe("unassigned");
    expect(res.body.b.seatType).toBe("chat_code");
    expect((await seatsOf(f)).chat_code.used).toBe(1);
  });

  it("refuses bad swaps", async () => {
    const f = await newOrg();
    const a = await provision(deps, f.orgId);
    const self = await f.owner.post("members/swap", { a: a.id, b: a.id });
    expect(self.status).toBe(400);
    const bad = await f.owner.post("members/swap", { a: a.id, b: "nope" });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe("invalid_request");
    const missing = await f.owner.post("members/swap", { a: a.id, b: MISSING_ID });
    expect(missing.status).toBe(404);
    const b = await provision(deps, f.orgId);
    await makeGroup(tdb.db, f.orgId, "Sales", [b.id]);
    await setMappings(tdb.db, f.orgId, [{ group: "Sales", seatType: "chat_code", priority: 1 }]);
    const mapped = await f.owner.post("members/swap", { a: a.id, b: b.id });
    expect(mapped.status).toBe(409);
    expect(mapped.body).toMatchObject({ error: "seat_from_mapping", mapping: "Sales" });
    // Nothing moved.
    expect((await f.owner.get(`members/${a.id}`)).body).toMatchObject({ seatType: "chat_code", seatSource: "auto" });
  });
});
