// SCIM Groups over HTTP on a real database: group mappings (set through the admin API) moving seats as
// members join, leave, and as groups are renamed or deleted (DOMAIN §3); and membership PATCHes the way
// IdPs send them — a thousand members in one request, idempotent adds, removals of people who are not
// there, members[value eq …] filters, parallel PATCHes of one group, and ids we do not know.
import { randomUUID } from "node:crypto";
import type { Express } from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServiceDeps } from "../../src/services/context.js";
import { testApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { makeOrg, seatLedger, setPurchased, testDeps, type TestOrg } from "../support/factories.js";
import { adminClient, type AdminClient, MISSING_ID } from "./helpers.js";
import {
  createGroup,
  createUser,
  expectScimError,
  GROUP_SCHEMA,
  patchBody,
  type ScimClient,
  scimClient,
  type ScimResource,
  SEAT,
} from "./scim-helpers.js";

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
  org: TestOrg;
  orgId: string;
  scim: ScimClient;
  admin: AdminClient;
}

async function fixture(
  options: {
    seats?: { chat_code: number; chat: number };
    mappings?: { group: string; seatType?: string; role?: string; priority: number }[];
  } = {},
): Promise<Fixture> {
  const org = await makeOrg(deps);
  if (options.seats) {
    await setPurchased(tdb.db, org.org.id, "chat_code", options.seats.chat_code);
    await setPurchased(tdb.db, org.org.id, "chat", options.seats.chat);
  }
  const admin = adminClient(app, org.org.id, org.ownerToken);
  if (options.mappings) {
    const res = await admin.put("group-mappings", options.mappings);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  }
  return { org, orgId: org.org.id, scim: scimClient(app, org.scimToken), admin };
}

let counter = 0;
function newUser(f: Fixture, label: string): Promise<ScimResource> {
  return createUser(f.scim, `${label}-${++counter}@example.com`, { active: true });
}

async function newUsers(f: Fixture, n: number, label: string): Promise<ScimResource[]> {
  const users: ScimResource[] = [];
  for (let i = 0; i < n; i++) users.push(await newUser(f, `${label}${i}`));
  return users;
}

async function seatOf(f: Fixture, id: string): Promise<{ seatType: string; seatStatus: string; seatReason: string }> {
  const res = await f.scim.get(`/Users/${id}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body[SEAT] as { seatType: string; seatStatus: string; seatReason: string };
}

async function membersOf(f: Fixture, groupId: string): Promise<string[]> {
  const res = await f.scim.get(`/Groups/${groupId}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return ((res.body.members ?? []) as { value: string }[]).map((m) => m.value).sort();
}

async function versionOf(f: Fixture, groupId: string): Promise<string> {
  return (await f.scim.get(`/Groups/${groupId}`)).body.meta.version as string;
}

async function expectCountersAgree(
  f: Fixture,
): Promise<Record<string, { purchased: number; used: number; holders: number }>> {
  const ledger = await seatLedger(tdb.db, f.orgId);
  for (const [type, row] of Object.entries(ledger)) {
    expect(row.used, `${type} used vs holders`).toBe(row.holders);
    expect(row.used, `${type} used vs purchased`).toBeLessThanOrEqual(row.purchased);
  }
  return ledger;
}

const sorted = (ids: string[]) => [...ids].sort();
const ids = (users: ScimResource[]) => users.map((u) => u.id);
const add = (memberIds: string[]) =>
  patchBody({ op: "add", path: "members", value: memberIds.map((value) => ({ value })) });
const entraAdd = (memberIds: string[]) =>
  patchBody({ op: "Add", path: "members", value: memberIds.map((value) => ({ $ref: null, value })) });
const removeList = (memberIds: string[]) =>
  patchBody({ op: "remove", path: "members", value: memberIds.map((value) => ({ value })) });
const removeFilter = (filter: string) => patchBody({ op: "remove", path: `members[${filter}]` });

const SALES = { group: "Sales", seatType: "chat", priority: 1 };
const CLAIMED = (seatType: string, seatReason: string) => ({ seatType, seatStatus: "claimed", seatReason });

describe("group mappings drive seats", () => {
  it("joining a mapped group over SCIM moves the member to the mapped seat type", async () => {
    const f = await fixture({ mappings: [SALES] });
    const seller = await newUser(f, "seller");
    const bystander = await newUser(f, "bystander");
    expect(seller[SEAT]).toEqual(CLAIMED("chat_code", "highest_available"));
    const group = await createGroup(f.scim, "Sales");

    const res = await f.scim.patch(`/Groups/${group.id}`, entraAdd([seller.id]));
    expect(res.status, JSON.stringify(res.body)).toBe(204);
    expect(await seatOf(f, seller.id)).toEqual(CLAIMED("chat", "mapping:Sales"));
    expect(await seatOf(f, bystander.id)).toEqual(CLAIMED("chat_code", "highest_available"));
    expect((await f.admin.get(`members/${seller.id}`)).body).toMatchObject({
      seatType: "chat",
      seatReason: "mapping:Sales",
      groups: [{ id: group.id, displayName: "Sales" }],
    });
    expect(await expectCountersAgree(f)).toMatchObject({ chat_code: { used: 1 }, chat: { used: 1 } });
  });

  it("creating a mapped group with members moves them at once; mapping by externalId works too", async () => {
    const f = await fixture({ mappings: [SALES, { group: "okta-00g-eng", seatType: "chat_code", priority: 2 }] });
    const [a, b, c] = await newUsers(f, 3, "member");
    await createGroup(f.scim, "Sales", [a.id, b.id]);
    expect(await seatOf(f, a.id)).toEqual(CLAIMED("chat", "mapping:Sales"));
    expect(await seatOf(f, b.id)).toEqual(CLAIMED("chat", "mapping:Sales"));
    expect(await seatOf(f, c.id)).toEqual(CLAIMED("chat_code", "highest_available"));
    // Sales has priority 1, so being in both groups still means chat; c is only in the externalId-mapped one.
    await createGroup(f.scim, "Engineering", [b.id, c.id], { externalId: "okta-00g-eng" });
    expect(await seatOf(f, b.id)).toEqual(CLAIMED("chat", "mapping:Sales"));
    expect(await seatOf(f, c.id)).toEqual(CLAIMED("chat_code", "mapping:okta-00g-eng"));
    await expectCountersAgree(f);
  });

  it("joining when the mapped type is full leaves the member Unassigned waiting:chat, and their old seat goes to the longest waiter", async () => {
    const f = await fixture({ seats: { chat_code: 1, chat: 1 }, mappings: [SALES] });
    const joiner = await newUser(f, "joiner");
    const chatHolder = await newUser(f, "chat-holder");
    const waiter = await newUser(f, "waiter");
    expect([joiner[SEAT], chatHolder[SEAT], waiter[SEAT]].map((s) => (s as { seatType: string }).seatType)).toEqual([
      "chat_code",
      "chat",
      "unassigned",
    ]);
    const group = await createGroup(f.scim, "Sales");

    expect((await f.scim.patch(`/Groups/${group.id}`, add([joiner.id]))).status).toBe(204);
    expect(await seatOf(f, joiner.id)).toEqual({
      seatType: "unassigned",
      seatStatus: "unassigned",
      seatReason: "waiting:chat",
    });
    expect((await f.admin.get(`members/${joiner.id}`)).body).toMatchObject({ waitingFor: "chat" });
    expect(await seatOf(f, waiter.id)).toEqual(CLAIMED("chat_code", "promoted"));
    expect(await seatOf(f, chatHolder.id)).toEqual(CLAIMED("chat", "highest_available"));
    await expectCountersAgree(f);

    // When a chat seat frees up, the member waiting for chat gets it.
    expect(
      (await f.scim.patch(`/Users/${chatHolder.id}`, patchBody({ op: "replace", value: { active: false } }))).status,
    ).toBe(200);
    expect((await seatOf(f, joiner.id)).seatType).toBe("chat");
    expect(await expectCountersAgree(f)).toMatchObject({ chat_code: { used: 1 }, chat: { used: 1 } });
  });

  it("leaving the mapped group hands the member back to the rules", async () => {
    const f = await fixture({ seats: { chat_code: 1, chat: 2 }, mappings: [SALES] });
    const [first, second] = await newUsers(f, 2, "seller");
    const group = await createGroup(f.scim, "Sales", [first.id, second.id]);
    expect(await seatOf(f, first.id)).toEqual(CLAIMED("chat", "mapping:Sales"));
    expect(await seatOf(f, second.id)).toEqual(CLAIMED("chat", "mapping:Sales"));

    // The first to leave finds chat_code free: the highest available type.
    expect((await f.scim.patch(`/Groups/${group.id}`, removeFilter(`value eq "${first.id}"`))).status).toBe(204);
    expect(await seatOf(f, first.id)).toEqual(CLAIMED("chat_code", "highest_available"));
    // The second finds chat_code taken and keeps the chat seat, now for the general rule.
    expect((await f.scim.patch(`/Groups/${group.id}`, removeList([second.id]))).status).toBe(204);
    expect(await seatOf(f, second.id)).toEqual(CLAIMED("chat", "highest_available"));
    expect(await expectCountersAgree(f)).toMatchObject({ chat_code: { used: 1 }, chat: { used: 1 } });
  });

  it("a member waiting for the mapped type who leaves the group gets any free seat", async () => {
    const f = await fixture({ seats: { chat_code: 1, chat: 0 }, mappings: [SALES] });
    const group = await createGroup(f.scim, "Sales");
    const user = await newUser(f, "seller");
    expect((await f.scim.patch(`/Groups/${group.id}`, add([user.id]))).status).toBe(204);
    expect(await seatOf(f, user.id)).toEqual({
      seatType: "unassigned",
      seatStatus: "unassigned",
      seatReason: "waiting:chat",
    });
    expect((await f.scim.patch(`/Groups/${group.id}`, removeList([user.id]))).status).toBe(204);
    expect(await seatOf(f, user.id)).toEqual(CLAIMED("chat_code", "highest_available"));
    await expectCountersAgree(f);
  });

  it("renaming a group to a mapped displayName changes its members' seats, and renaming it away changes them back", async () => {
    const f = await fixture({ mappings: [SALES] });
    const members = await newUsers(f, 3, "renamed");
    const outsider = await newUser(f, "outsider");
    const group = await createGroup(f.scim, "Sales (draft)", ids(members));
    for (const m of members) expect(await seatOf(f, m.id)).toEqual(CLAIMED("chat_code", "highest_available"));

    // Entra renames with a Replace on displayName.
    const rename = await f.scim.patch(
      `/Groups/${group.id}`,
      patchBody({ op: "Replace", path: "displayName", value: "sales" }),
    );
    expect(rename.status, JSON.stringify(rename.body)).toBe(204);
    for (const m of members) expect(await seatOf(f, m.id)).toEqual(CLAIMED("chat", "mapping:Sales"));
    expect(await seatOf(f, outsider.id)).toEqual(CLAIMED("chat_code", "highest_available"));

    // Okta renames with a path-less replace that repeats the group's id.
    const away = await f.scim.patch(
      `/Groups/${group.id}`,
      patchBody({ op: "replace", value: { id: group.id, displayName: "Former Sales" } }),
    );
    expect(away.status, JSON.stringify(away.body)).toBe(204);
    expect((await f.scim.get(`/Groups/${group.id}`)).body.displayName).toBe("Former Sales");
    for (const m of members) expect(await seatOf(f, m.id)).toEqual(CLAIMED("chat_code", "highest_available"));

    // A PUT that renames does the same.
    const put = await f.scim.put(`/Groups/${group.id}`, {
      schemas: [GROUP_SCHEMA],
      id: group.id,
      displayName: "Sales",
      members: ids(members).map((value) => ({ value })),
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    for (const m of members) expect(await seatOf(f, m.id)).toEqual(CLAIMED("chat", "mapping:Sales"));
    expect(await expectCountersAgree(f)).toMatchObject({ chat_code: { used: 1 }, chat: { used: 3 } });
  });

  it("deleting a mapped group hands its members back to the rules", async () => {
    const f = await fixture({ seats: { chat_code: 1, chat: 5 }, mappings: [SALES] });
    const members = await newUsers(f, 2, "deleted");
    const group = await createGroup(f.scim, "Sales", ids(members));
    for (const m of members) expect(await seatOf(f, m.id)).toEqual(CLAIMED("chat", "mapping:Sales"));

    expect((await f.scim.delete(`/Groups/${group.id}`)).status).toBe(204);
    expect((await f.scim.get(`/Groups/${group.id}`)).status).toBe(404);
    const after = await Promise.all(members.map((m) => seatOf(f, m.id)));
    // One chat_code seat: one of them moves up, the other keeps chat; both now by the general rule.
    expect(after.map((s) => s.seatType).sort()).toEqual(["chat", "chat_code"]);
    for (const s of after) expect(s.seatReason).toBe("highest_available");
    expect(await expectCountersAgree(f)).toMatchObject({ chat_code: { used: 1 }, chat: { used: 1 } });
    // The members themselves are untouched by the group's deletion.
    expect((await f.admin.get(`members/${members[0].id}`)).body).toMatchObject({ active: true, groups: [] });
  });

  it("a deactivated member who joins a mapped group takes no seat; reactivated, they get the mapped type", async () => {
    const f = await fixture({ mappings: [SALES] });
    const user = await newUser(f, "dormant");
    expect(
      (await f.scim.patch(`/Users/${user.id}`, patchBody({ op: "Replace", path: "active", value: "False" }))).status,
    ).toBe(204);
    const group = await createGroup(f.scim, "Sales", [user.id]);
    expect(await membersOf(f, group.id)).toEqual([user.id]);
    expect(await seatOf(f, user.id)).toEqual({
      seatType: "unassigned",
      seatStatus: "revoked",
      seatReason: "deactivated",
    });
    expect(await expectCountersAgree(f)).toMatchObject({ chat_code: { used: 0 }, chat: { used: 0 } });

    expect(
      (await f.scim.patch(`/Users/${user.id}`, patchBody({ op: "Replace", path: "active", value: "True" }))).status,
    ).toBe(204);
    expect(await seatOf(f, user.id)).toEqual(CLAIMED("chat", "mapping:Sales"));
    await expectCountersAgree(f);
  });

  it("joining or leaving an unmapped group changes no seat", async () => {
    const f = await fixture({ mappings: [SALES] });
    const user = await newUser(f, "plain");
    const group = await createGroup(f.scim, "Book Club", [user.id]);
    expect(await seatOf(f, user.id)).toEqual(CLAIMED("chat_code", "highest_available"));
    expect((await f.scim.patch(`/Groups/${group.id}`, removeList([user.id]))).status).toBe(204);
    expect(await seatOf(f, user.id)).toEqual(CLAIMED("chat_code", "highest_available"));
  });
});

describe("membership PATCH", () => {
  /** Setup only: a thousand SCIM users written in one statement (creating them over HTTP takes minutes). */
  async function insertScimUsers(f: Fixture, n: number): Promise<string[]> {
    const rows = Array.from({ length: n }, (_, i) => ({
      org_id: f.orgId,
      id: randomUUID(),
      user_name: `bulk${i}-${randomUUID().slice(0, 8)}@example.com`,
      seat_reason: "exhausted",
      waiting_for: "any",
      waiting_since: new Date(Date.now() - (n - i) * 1000),
      source: "scim",
      scim_managed: true,
    }));
    await tdb.db.batchInsert("members", rows, 500);
    return rows.map((r) => r.id);
  }

  it("adds 1,000 members in one request, and removes them with a value list", async () => {
    const f = await fixture();
    const memberIds = await insertScimUsers(f, 1000);
    const group = await createGroup(f.scim, "Everyone");
    const body = patchBody({
      op: "add",
      path: "members",
      value: memberIds.map((value, i) => ({ value, display: `bulk${i}@example.com` })),
    });
    expect(JSON.stringify(body).length).toBeGreaterThan(50_000);

    const res = await f.scim.patch(`/Groups/${group.id}`, body);
    expect(res.status, JSON.stringify(res.body)).toBe(204);
    expect(await membersOf(f, group.id)).toEqual(sorted(memberIds));
    const byMember = await f.scim.get(`/Users?filter=${encodeURIComponent(`groups.value eq "${group.id}"`)}&count=1`);
    expect(byMember.body.totalResults).toBe(1000);

    // Remove half with one value list, then the rest with another.
    expect((await f.scim.patch(`/Groups/${group.id}`, removeList(memberIds.slice(0, 500)))).status).toBe(204);
    expect(await membersOf(f, group.id)).toEqual(sorted(memberIds.slice(500)));
    expect((await f.scim.patch(`/Groups/${group.id}`, removeList(memberIds.slice(500)))).status).toBe(204);
    expect(await membersOf(f, group.id)).toEqual([]);
  });

  it("a thousand members joining a mapped group in one request get exactly the seats there are", async () => {
    const f = await fixture({ seats: { chat_code: 10, chat: 25 }, mappings: [SALES] });
    const memberIds = await insertScimUsers(f, 1000);
    const group = await createGroup(f.scim, "Sales");
    const res = await f.scim.patch(`/Groups/${group.id}`, add(memberIds));
    expect(res.status, JSON.stringify(res.body)).toBe(204);
    const ledger = await expectCountersAgree(f);
    expect(ledger).toMatchObject({ chat: { purchased: 25, used: 25 }, chat_code: { used: 0 } });
    const waiting = await f.scim.get(
      `/Users?filter=${encodeURIComponent(`${SEAT}:seatReason eq "waiting:chat"`)}&count=1`,
    );
    expect(waiting.body.totalResults).toBe(975);
  });

  it("add is idempotent: members already there, or sent twice, are added once and the version stays", async () => {
    const f = await fixture();
    const [a, b] = await newUsers(f, 2, "idem");
    const group = await createGroup(f.scim, "Idempotent", [a.id]);
    const version = await versionOf(f, group.id);

    expect((await f.scim.patch(`/Groups/${group.id}`, add([a.id, a.id]))).status).toBe(204);
    expect(await membersOf(f, group.id)).toEqual([a.id]);
    expect(await versionOf(f, group.id)).toBe(version);

    expect((await f.scim.patch(`/Groups/${group.id}`, add([a.id, b.id, b.id]))).status).toBe(204);
    expect((await f.scim.patch(`/Groups/${group.id}`, entraAdd([b.id]))).status).toBe(204);
    expect(await membersOf(f, group.id)).toEqual(sorted([a.id, b.id]));
  });

  it("removing a member who is not in the group answers 204 and changes nothing", async () => {
    const f = await fixture({ mappings: [SALES] });
    const [inside, outside] = await newUsers(f, 2, "rm");
    const group = await createGroup(f.scim, "Sales", [inside.id]);
    const version = await versionOf(f, group.id);
    const ledger = await expectCountersAgree(f);

    for (const body of [
      removeList([outside.id]),
      removeList([MISSING_ID, "not-a-uuid"]),
      removeFilter(`value eq "${outside.id}"`),
      removeFilter('value eq "string id 1"'),
    ]) {
      const res = await f.scim.patch(`/Groups/${group.id}`, body);
      expect(res.status, JSON.stringify(res.body)).toBe(204);
    }
    expect(await membersOf(f, group.id)).toEqual([inside.id]);
    expect(await versionOf(f, group.id)).toBe(version);
    expect(await seatOf(f, inside.id)).toEqual(CLAIMED("chat", "mapping:Sales"));
    expect(await seatOf(f, outside.id)).toEqual(CLAIMED("chat_code", "highest_available"));
    expect(await expectCountersAgree(f)).toEqual(ledger);
  });

  it('removes through members[value eq "x"] and members[value eq "a" or value eq "b"]', async () => {
    const f = await fixture();
    const [a, b, c, d] = await newUsers(f, 4, "filter");
    const group = await createGroup(f.scim, "Filtered", ids([a, b, c, d]));

    expect((await f.scim.patch(`/Groups/${group.id}`, removeFilter(`value eq "${a.id}"`))).status).toBe(204);
    expect(await membersOf(f, group.id)).toEqual(sorted([b.id, c.id, d.id]));
    expect(
      (await f.scim.patch(`/Groups/${group.id}`, removeFilter(`value eq "${b.id}" or value eq "${c.id}"`))).status,
    ).toBe(204);
    expect(await membersOf(f, group.id)).toEqual([d.id]);
    // Entra's capitalised op with the same path.
    expect(
      (await f.scim.patch(`/Groups/${group.id}`, patchBody({ op: "Remove", path: `members[value eq "${d.id}"]` })))
        .status,
    ).toBe(204);
    expect(await membersOf(f, group.id)).toEqual([]);
    // The users themselves are still there.
    for (const u of [a, b, c, d]) expect((await f.scim.get(`/Users/${u.id}`)).status).toBe(200);
  });

  it("accepts members paths qualified with the Group schema URN (RFC 7644 §3.10)", async () => {
    const f = await fixture();
    const [a, b] = await newUsers(f, 2, "urn");
    const group = await createGroup(f.scim, "Qualified");
    const qualified = `${GROUP_SCHEMA}:members`;
    expect(
      (
        await f.scim.patch(
          `/Groups/${group.id}`,
          patchBody({ op: "add", path: qualified, value: [{ value: a.id }, { value: b.id }] }),
        )
      ).status,
    ).toBe(204);
    expect(await membersOf(f, group.id)).toEqual(sorted([a.id, b.id]));
    expect(
      (await f.scim.patch(`/Groups/${group.id}`, patchBody({ op: "remove", path: `${qualified}[value eq "${a.id}"]` })))
        .status,
    ).toBe(204);
    expect(await membersOf(f, group.id)).toEqual([b.id]);
  });

  it("a filter that selects anything but member values is refused and changes nothing", async () => {
    const f = await fixture();
    const [a] = await newUsers(f, 1, "refused");
    const group = await createGroup(f.scim, "Strict", [a.id]);
    expectScimError(await f.scim.patch(`/Groups/${group.id}`, removeFilter('display eq "x"')), 400, "invalidFilter");
    expect(await membersOf(f, group.id)).toEqual([a.id]);
  });

  it("remove with path members and no value removes every member", async () => {
    const f = await fixture({ mappings: [SALES] });
    const members = await newUsers(f, 3, "all");
    const group = await createGroup(f.scim, "Sales", ids(members));
    for (const m of members) expect((await seatOf(f, m.id)).seatType).toBe("chat");

    expect((await f.scim.patch(`/Groups/${group.id}`, patchBody({ op: "remove", path: "members" }))).status).toBe(204);
    expect(await membersOf(f, group.id)).toEqual([]);
    // Leaving the mapped group all at once sends everyone back to the rules.
    for (const m of members) expect(await seatOf(f, m.id)).toEqual(CLAIMED("chat_code", "highest_available"));
    await expectCountersAgree(f);
  });

  it("two PATCHes of one group sent in parallel both take effect", async () => {
    const f = await fixture();
    const [a, b, c, d, e] = await newUsers(f, 5, "parallel");
    const group = await createGroup(f.scim, "Parallel", [a.id]);
    const [first, second] = await Promise.all([
      f.scim.patch(`/Groups/${group.id}`, add([b.id, c.id])),
      f.scim.patch(
        `/Groups/${group.id}`,
        patchBody(
          { op: "add", path: "members", value: [{ value: d.id }, { value: e.id }] },
          { op: "remove", path: `members[value eq "${a.id}"]` },
        ),
      ),
    ]);
    expect([first.status, second.status]).toEqual([204, 204]);
    expect(await membersOf(f, group.id)).toEqual(sorted([b.id, c.id, d.id, e.id]));
  });

  it("twenty parallel single-member adds all take effect", async () => {
    const f = await fixture();
    const users = await newUsers(f, 20, "twenty");
    const group = await createGroup(f.scim, "Twenty");
    const results = await Promise.all(users.map((u) => f.scim.patch(`/Groups/${group.id}`, add([u.id]))));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(204));
    expect(await membersOf(f, group.id)).toEqual(sorted(ids(users)));
  });

  it("twenty parallel adds each move the version by one, so every answer's ETag is a distinct version", async () => {
    const f = await fixture();
    const users = await newUsers(f, 20, "versions");
    const group = await createGroup(f.scim, "Versions");
    const number = (etag: string) => Number(/^W\/"(\d+)"$/.exec(etag)?.[1]);
    const start = number(await versionOf(f, group.id));
    const results = await Promise.all(users.map((u) => f.scim.patch(`/Groups/${group.id}`, add([u.id]))));
    const versions = results.map((r) => number(String(r.headers.etag))).sort((x, y) => x - y);
    expect(versions).toEqual(Array.from({ length: 20 }, (_, i) => start + 1 + i));
    expect(number(await versionOf(f, group.id))).toBe(start + 20);
    // One audit event per PATCH, each naming the one member it added.
    const events = await tdb
      .db("audit_events")
      .where({ org_id: f.orgId, action: "group.updated" })
      .whereRaw("after->>'id' = ?", [group.id]);
    expect(events.map((e) => [e.after.added, e.after.removed])).toEqual(Array(20).fill([1, 0]));
    expect(new Set(events.map((e) => e.actor)).size).toBe(1);
  });

  it("ten parallel PATCHes holding the same ETag: exactly one applies, the other nine get 412 and change nothing", async () => {
    const f = await fixture();
    const users = await newUsers(f, 10, "ifmatch");
    const group = await createGroup(f.scim, "If-Match race");
    const etag = await versionOf(f, group.id);
    const results = await Promise.all(
      users.map((u) => f.scim.patch(`/Groups/${group.id}`, add([u.id]), { "If-Match": etag })),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([204, ...Array(9).fill(412)]);
    const winner = users[results.findIndex((r) => r.status === 204)];
    expect(await membersOf(f, group.id)).toEqual([winner.id]);
  });

  it("adds racing a DELETE of the group answer 204 or 404, never an error, and leave no members behind", async () => {
    const f = await fixture();
    const users = await newUsers(f, 12, "racing");
    const group = await createGroup(f.scim, "Racing", [users[0].id]);
    const requests = users.slice(1).map((u) => f.scim.patch(`/Groups/${group.id}`, add([u.id])));
    requests.splice(5, 0, f.scim.delete(`/Groups/${group.id}`));
    const statuses = (await Promise.all(requests)).map((r) => r.status);
    expect(
      statuses.every((s) => s === 204 || s === 404),
      JSON.stringify(statuses),
    ).toBe(true);
    expect((await f.scim.get(`/Groups/${group.id}`)).status).toBe(404);
    expect(await tdb.db("group_members").where({ group_id: group.id }).count({ n: "*" }).first()).toEqual({ n: 0 });
  });

  it("twenty parallel adds to a mapped group keep every seat counted once", async () => {
    const f = await fixture({ seats: { chat_code: 20, chat: 10 }, mappings: [SALES] });
    const users = await newUsers(f, 20, "mapped");
    for (const u of users) expect((u[SEAT] as { seatType: string }).seatType).toBe("chat_code");
    const group = await createGroup(f.scim, "Sales");
    const results = await Promise.all(users.map((u) => f.scim.patch(`/Groups/${group.id}`, entraAdd([u.id]))));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(204));
    expect(await membersOf(f, group.id)).toEqual(sorted(ids(users)));

    const seats = await Promise.all(users.map((u) => seatOf(f, u.id)));
    expect(seats.filter((s) => s.seatType === "chat" && s.seatReason === "mapping:Sales")).toHaveLength(10);
    expect(seats.filter((s) => s.seatType === "unassigned" && s.seatReason === "waiting:chat")).toHaveLength(10);
    // The chat_code seats they had were given back, not leaked.
    expect(await expectCountersAgree(f)).toMatchObject({ chat_code: { used: 0 }, chat: { used: 10 } });
  });

  it('ignores member ids it does not know (Microsoft\'s "string id 1") and adds nothing else', async () => {
    const f = await fixture();
    const other = await fixture();
    const [a, b] = await newUsers(f, 2, "known");
    const stranger = await newUser(other, "stranger");
    const ownerId = f.org.ownerId; // a member, but not one SCIM manages
    const group = await createGroup(f.scim, "Known only", [a.id]);
    const version = await versionOf(f, group.id);

    // Microsoft's validator sends this exact shape and expects success.
    const unknownOnly = await f.scim.patch(
      `/Groups/${group.id}`,
      patchBody({ op: "Add", path: "members", value: [{ value: "string id 1" }] }),
    );
    expect(unknownOnly.status, JSON.stringify(unknownOnly.body)).toBe(204);
    expect(await membersOf(f, group.id)).toEqual([a.id]);
    expect(await versionOf(f, group.id)).toBe(version);

    // Unknown, missing, another org's user, a member outside SCIM, bare strings: only b gets in.
    const mixed = await f.scim.patch(
      `/Groups/${group.id}`,
      patchBody({
        op: "add",
        path: "members",
        value: [
          { value: "string id 1" },
          { value: MISSING_ID },
          { value: stranger.id },
          { value: ownerId },
          { value: b.id },
          "string id 2",
          { value: "" },
          { display: "no value" },
        ],
      }),
    );
    expect(mixed.status, JSON.stringify(mixed.body)).toBe(204);
    expect(await membersOf(f, group.id)).toEqual(sorted([a.id, b.id]));

    // The same on create, and nothing leaked into the other org.
    const created = await f.scim.post("/Groups", {
      schemas: [GROUP_SCHEMA],
      displayName: "Created with strangers",
      members: [{ value: "string id 1" }, { value: stranger.id }],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.members).toEqual([]);
    const otherGroups = await other.scim.get("/Groups");
    expect(otherGroups.body.totalResults).toBe(0);
    expect((await f.admin.get(`members/${ownerId}`)).body.groups).toEqual([]);
  });

  it("a PATCH of a group that does not exist is a 404", async () => {
    const f = await fixture();
    expectScimError(await f.scim.patch(`/Groups/${MISSING_ID}`, add([])), 404, null);
    expectScimError(await f.scim.patch("/Groups/not-a-uuid", add([])), 404, null);
  });
});
