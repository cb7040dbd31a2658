// Seats driven by SCIM, over HTTP on a real database (DOMAIN §3, §6): a new user gets the highest available
// seat or is Unassigned ("exhausted"); deactivation (Entra's "False", Okta's active:false, a PUT) and DELETE
// free the seat and hand it to the longest waiter; reactivation runs the rules again instead of restoring
// the old seat; the primary owner is adopted, never duplicated, and cannot be deactivated or deleted.
import type { Express } from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServiceDeps } from "../../src/services/context.js";
import { testApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { makeOrg, seatLedger, setPurchased, testDeps, type TestOrg } from "../support/factories.js";
import { adminClient, type AdminClient } from "./helpers.js";
import {
  createUser,
  expectScimError,
  patchBody,
  type ScimClient,
  scimClient,
  type ScimResource,
  SEAT,
  USER_SCHEMA,
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

/** A fresh org whose pools are shrunk to the given sizes (below the plan minimum, for small tests). */
async function fixture(seats: { chat_code: number; chat: number }): Promise<Fixture> {
  const org = await makeOrg(deps);
  await setPurchased(tdb.db, org.org.id, "chat_code", seats.chat_code);
  await setPurchased(tdb.db, org.org.id, "chat", seats.chat);
  return {
    org,
    orgId: org.org.id,
    scim: scimClient(app, org.scimToken),
    admin: adminClient(app, org.org.id, org.ownerToken),
  };
}

let counter = 0;
function newUser(f: Fixture, label: string, extra: Record<string, unknown> = {}): Promise<ScimResource> {
  return createUser(f.scim, `${label}-${++counter}@example.com`, {
    active: "True",
    name: { givenName: label, familyName: "Test" },
    ...extra,
  });
}

async function seatOf(
  f: Fixture,
  id: string,
): Promise<{ seatType: string; seatStatus: string; seatReason: string; active: boolean }> {
  const res = await f.scim.get(`/Users/${id}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return {
    ...(res.body[SEAT] as { seatType: string; seatStatus: string; seatReason: string }),
    active: res.body.active as boolean,
  };
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

const entraDeactivate = patchBody({ op: "Replace", path: "active", value: "False" });
const entraReactivate = patchBody({ op: "Replace", path: "active", value: "True" });
const oktaDeactivate = patchBody({ op: "replace", value: { active: false } });
const oktaReactivate = patchBody({ op: "replace", value: { active: true } });

const CLAIMED = (seatType: string, seatReason: string) => ({ seatType, seatStatus: "claimed", seatReason });
const EXHAUSTED = { seatType: "unassigned", seatStatus: "unassigned", seatReason: "exhausted" };
const DEACTIVATED = { seatType: "unassigned", seatStatus: "revoked", seatReason: "deactivated", active: false };

describe("POST /Users", () => {
  it("gives the highest available seat, then the next type, then Unassigned with reason exhausted", async () => {
    const f = await fixture({ chat_code: 1, chat: 1 });
    const first = await newUser(f, "first");
    expect(first[SEAT]).toEqual(CLAIMED("chat_code", "highest_available"));
    const second = await newUser(f, "second");
    expect(second[SEAT]).toEqual(CLAIMED("chat", "highest_available"));
    const third = await newUser(f, "third");
    expect(third[SEAT]).toEqual(EXHAUSTED);

    // The response said what the stored member holds, and the admin API agrees (and says what they wait for).
    expect(await seatOf(f, first.id)).toMatchObject(CLAIMED("chat_code", "highest_available"));
    expect(await seatOf(f, third.id)).toMatchObject(EXHAUSTED);
    const view = await f.admin.get(`members/${third.id}`);
    expect(view.body).toMatchObject({
      id: third.id,
      seatType: "unassigned",
      seatReason: "exhausted",
      waitingFor: "any",
    });
    expect(await expectCountersAgree(f)).toMatchObject({
      chat_code: { purchased: 1, used: 1 },
      chat: { purchased: 1, used: 1 },
    });
  });

  it('gives a user created inactive ("active": "False") no seat', async () => {
    const f = await fixture({ chat_code: 1, chat: 1 });
    const inactive = await newUser(f, "inactive", { active: "False" });
    expect(inactive.active).toBe(false);
    expect((inactive[SEAT] as { seatType: string }).seatType).toBe("unassigned");
    expect(await expectCountersAgree(f)).toMatchObject({ chat_code: { used: 0 }, chat: { used: 0 } });
    // The seat it did not take is still there for the next user.
    expect((await newUser(f, "next"))[SEAT]).toEqual(CLAIMED("chat_code", "highest_available"));
  });
});

describe("deactivation", () => {
  it('PATCH active "False" (Entra) frees the seat and the longest waiter gets it, in FIFO order', async () => {
    const f = await fixture({ chat_code: 1, chat: 0 });
    const holder = await newUser(f, "holder");
    expect(holder[SEAT]).toEqual(CLAIMED("chat_code", "highest_available"));
    const waiters: ScimResource[] = [];
    for (let i = 0; i < 4; i++) waiters.push(await newUser(f, `waiter${i}`));
    for (const w of waiters) expect(w[SEAT]).toEqual(EXHAUSTED);

    const res = await f.scim.patch(`/Users/${holder.id}`, entraDeactivate);
    expect(res.status, JSON.stringify(res.body)).toBe(204);
    expect(await seatOf(f, holder.id)).toEqual(DEACTIVATED);
    expect(await seatOf(f, waiters[0].id)).toEqual({ ...CLAIMED("chat_code", "promoted"), active: true });
    for (const w of waiters.slice(1)) expect(await seatOf(f, w.id)).toMatchObject(EXHAUSTED);

    // Each further deactivation promotes the next in the order they started waiting (not by id). Okta's
    // path-less {"active": false} and Entra's string do the same thing.
    for (let i = 0; i < waiters.length - 1; i++) {
      const deactivate = await f.scim.patch(`/Users/${waiters[i].id}`, i % 2 === 0 ? oktaDeactivate : entraDeactivate);
      expect(deactivate.status).toBe(i % 2 === 0 ? 200 : 204);
      expect(await seatOf(f, waiters[i].id)).toEqual(DEACTIVATED);
      expect(await seatOf(f, waiters[i + 1].id)).toEqual({ ...CLAIMED("chat_code", "promoted"), active: true });
      for (const w of waiters.slice(i + 2)) expect(await seatOf(f, w.id)).toMatchObject(EXHAUSTED);
    }
    expect(await expectCountersAgree(f)).toMatchObject({ chat_code: { used: 1 } });
    // Deactivated members stay in the org (and in SCIM), unlike deleted ones.
    const list = await f.scim.get(`/Users?filter=${encodeURIComponent("active eq false")}`);
    expect(list.body.totalResults).toBe(4);
  });

  it("a PUT with active false (Okta's full update) deactivates the same way", async () => {
    const f = await fixture({ chat_code: 1, chat: 0 });
    const holder = await newUser(f, "holder");
    const waiter = await newUser(f, "waiter");
    const put = await f.scim.put(`/Users/${holder.id}`, {
      schemas: [USER_SCHEMA],
      id: holder.id,
      userName: holder.userName,
      name: { givenName: "holder", familyName: "Test" },
      active: false,
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body[SEAT]).toEqual({ seatType: "unassigned", seatStatus: "revoked", seatReason: "deactivated" });
    expect(await seatOf(f, waiter.id)).toMatchObject(CLAIMED("chat_code", "promoted"));
    await expectCountersAgree(f);
  });

  it("deactivating through a path qualified with the User schema URN frees the seat too", async () => {
    const f = await fixture({ chat_code: 1, chat: 0 });
    const holder = await newUser(f, "holder");
    const waiter = await newUser(f, "waiter");
    const res = await f.scim.patch(
      `/Users/${holder.id}`,
      patchBody({ op: "replace", path: `${USER_SCHEMA}:active`, value: "False" }),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(await seatOf(f, holder.id)).toEqual(DEACTIVATED);
    expect(await seatOf(f, waiter.id)).toMatchObject(CLAIMED("chat_code", "promoted"));
    // And path-less, with the qualified name as the key.
    expect(
      (
        await f.scim.patch(
          `/Users/${holder.id}`,
          patchBody({ op: "replace", value: { [`${USER_SCHEMA}:active`]: true } }),
        )
      ).status,
    ).toBe(200);
    expect(await seatOf(f, holder.id)).toEqual({ ...EXHAUSTED, active: true });
    await expectCountersAgree(f);
  });

  it("deactivating twice changes nothing the second time", async () => {
    const f = await fixture({ chat_code: 1, chat: 1 });
    const user = await newUser(f, "twice");
    expect((await f.scim.patch(`/Users/${user.id}`, entraDeactivate)).status).toBe(204);
    const ledger = await expectCountersAgree(f);
    expect((await f.scim.patch(`/Users/${user.id}`, oktaDeactivate)).status).toBe(200);
    expect(await seatOf(f, user.id)).toEqual(DEACTIVATED);
    expect(await expectCountersAgree(f)).toEqual(ledger);
  });
});

describe("DELETE /Users/{id}", () => {
  it("frees the seat, promotes the longest waiter and removes the member", async () => {
    const f = await fixture({ chat_code: 1, chat: 0 });
    const holder = await newUser(f, "holder");
    const first = await newUser(f, "first-waiter");
    const second = await newUser(f, "second-waiter");

    const res = await f.scim.delete(`/Users/${holder.id}`);
    expect(res.status).toBe(204);
    expect((await f.scim.get(`/Users/${holder.id}`)).status).toBe(404);
    expect((await f.admin.get(`members/${holder.id}`)).status).toBe(404);
    expect(await seatOf(f, first.id)).toEqual({ ...CLAIMED("chat_code", "promoted"), active: true });
    expect(await seatOf(f, second.id)).toMatchObject(EXHAUSTED);
    expect(await expectCountersAgree(f)).toMatchObject({ chat_code: { used: 1, holders: 1, held: 0 } });

    // Deleting a member who only waits frees nothing and leaves the rest of the queue in order.
    expect((await f.scim.delete(`/Users/${second.id}`)).status).toBe(204);
    expect(await seatOf(f, first.id)).toMatchObject(CLAIMED("chat_code", "promoted"));
    expect(await expectCountersAgree(f)).toMatchObject({ chat_code: { used: 1 } });
  });

  it("a deleted user's seat goes to the next user if nobody waits, and a second DELETE is a 404", async () => {
    const f = await fixture({ chat_code: 1, chat: 1 });
    const holder = await newUser(f, "holder");
    expect((await f.scim.delete(`/Users/${holder.id}`)).status).toBe(204);
    expect(await expectCountersAgree(f)).toMatchObject({ chat_code: { used: 0 }, chat: { used: 0 } });
    expectScimError(await f.scim.delete(`/Users/${holder.id}`), 404, null);
    expect((await newUser(f, "next"))[SEAT]).toEqual(CLAIMED("chat_code", "highest_available"));
  });
});

describe("reactivation", () => {
  it("runs the rules again: the old seat, taken meanwhile, is not given back", async () => {
    const f = await fixture({ chat_code: 1, chat: 1 });
    const returning = await newUser(f, "returning");
    const other = await newUser(f, "other");
    expect(returning[SEAT]).toEqual(CLAIMED("chat_code", "highest_available"));
    expect(other[SEAT]).toEqual(CLAIMED("chat", "highest_available"));

    expect((await f.scim.patch(`/Users/${returning.id}`, entraDeactivate)).status).toBe(204);
    const newcomer = await newUser(f, "newcomer");
    expect(newcomer[SEAT]).toEqual(CLAIMED("chat_code", "highest_available"));

    expect((await f.scim.patch(`/Users/${returning.id}`, entraReactivate)).status).toBe(204);
    expect(await seatOf(f, returning.id)).toEqual({ ...EXHAUSTED, active: true });
    expect(await seatOf(f, newcomer.id)).toMatchObject(CLAIMED("chat_code", "highest_available"));
    expect((await f.admin.get(`members/${returning.id}`)).body).toMatchObject({ waitingFor: "any", active: true });

    // Back in the queue: the next seat to free up is theirs.
    expect((await f.scim.patch(`/Users/${other.id}`, oktaDeactivate)).status).toBe(200);
    expect(await seatOf(f, returning.id)).toEqual({ ...CLAIMED("chat", "promoted"), active: true });
    await expectCountersAgree(f);
  });

  it("gives what the rules give now, which can be another seat type than before", async () => {
    const f = await fixture({ chat_code: 1, chat: 1 });
    const returning = await newUser(f, "returning");
    const other = await newUser(f, "other");
    expect((await f.scim.patch(`/Users/${returning.id}`, oktaDeactivate)).status).toBe(200);
    expect((await f.scim.patch(`/Users/${other.id}`, oktaDeactivate)).status).toBe(200);
    const newcomer = await newUser(f, "newcomer");
    expect(newcomer[SEAT]).toEqual(CLAIMED("chat_code", "highest_available"));

    expect((await f.scim.patch(`/Users/${returning.id}`, oktaReactivate)).status).toBe(200);
    expect(await seatOf(f, returning.id)).toEqual({ ...CLAIMED("chat", "highest_available"), active: true });
    expect(await expectCountersAgree(f)).toMatchObject({ chat_code: { used: 1 }, chat: { used: 1 } });
  });
});

describe("the primary owner", () => {
  async function owner(f: Fixture): Promise<{ id: string; userName: string }> {
    const res = await f.admin.get("members?role=primary_owner");
    expect(res.status).toBe(200);
    expect(res.body.items).toHaveLength(1);
    return res.body.items[0] as { id: string; userName: string };
  }

  async function adoptOwner(f: Fixture): Promise<ScimResource> {
    const { userName } = await owner(f);
    const res = await f.scim.post("/Users", {
      schemas: [USER_SCHEMA],
      userName,
      externalId: "owner-in-entra",
      active: "True",
      name: { givenName: "Olive", familyName: "Owner" },
      emails: [{ primary: true, type: "work", value: userName }],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as ScimResource;
  }

  it("POSTing a user with the owner's userName adopts the owner: same id, no second member, no second seat", async () => {
    const f = await fixture({ chat_code: 1, chat: 1 });
    const before = await owner(f);
    const ledgerBefore = await expectCountersAgree(f);

    const adopted = await adoptOwner(f);
    expect(adopted.id).toBe(before.id);
    expect(adopted.userName).toBe(before.userName);
    expect(adopted.externalId).toBe("owner-in-entra");
    // The owner's seat is the admin's business: Unassigned by choice stays Unassigned, and takes nothing.
    expect(adopted[SEAT]).toEqual({ seatType: "unassigned", seatStatus: "unassigned", seatReason: "manual" });

    const members = await f.admin.get("members");
    expect(members.body.items.map((m: { id: string }) => m.id)).toEqual([before.id]);
    expect(members.body.items[0]).toMatchObject({
      role: "primary_owner",
      active: true,
      name: { givenName: "Olive", familyName: "Owner" },
    });
    expect(await expectCountersAgree(f)).toEqual(ledgerBefore);

    const found = await f.scim.get(`/Users?filter=${encodeURIComponent(`userName eq "${before.userName}"`)}`);
    expect(found.body.totalResults).toBe(1);
    expect(found.body.Resources[0].id).toBe(before.id);
    // Once SCIM manages the owner, the same userName again is a uniqueness conflict, not a second member.
    expectScimError(
      await f.scim.post("/Users", { schemas: [USER_SCHEMA], userName: before.userName.toUpperCase() }),
      409,
      "uniqueness",
    );
    expect((await f.admin.get("members")).body.items).toHaveLength(1);
  });

  it("adopting an owner who holds a seat keeps that one seat", async () => {
    const f = await fixture({ chat_code: 1, chat: 1 });
    const { id } = await owner(f);
    const assign = await f.admin.patch(`members/${id}`, { seatType: "chat" });
    expect(assign.status, JSON.stringify(assign.body)).toBe(200);
    const adopted = await adoptOwner(f);
    expect(adopted[SEAT]).toEqual({ seatType: "chat", seatStatus: "claimed", seatReason: "manual" });
    expect(await expectCountersAgree(f)).toMatchObject({
      chat_code: { used: 0 },
      chat: { used: 1, holders: 1, held: 0 },
    });
  });

  it("cannot be deactivated or deleted through SCIM (403), and nothing changes", async () => {
    const f = await fixture({ chat_code: 1, chat: 1 });
    const { id } = await owner(f);
    expect((await f.admin.patch(`members/${id}`, { seatType: "chat_code" })).status).toBe(200);
    const chatHolder = await newUser(f, "chat-holder");
    await newUser(f, "waiter");
    await adoptOwner(f);
    const ledger = await expectCountersAgree(f);
    const version = (await f.scim.get(`/Users/${id}`)).body.meta.version;

    const attempts = [
      () => f.scim.patch(`/Users/${id}`, entraDeactivate),
      () => f.scim.patch(`/Users/${id}`, oktaDeactivate),
      () =>
        f.scim.patch(
          `/Users/${id}`,
          patchBody({ op: "Replace", value: { "name.givenName": "Changed", active: "False" } }),
        ),
      () => f.scim.put(`/Users/${id}`, { schemas: [USER_SCHEMA], userName: "ignored@example.com", active: false }),
      () => f.scim.delete(`/Users/${id}`),
    ];
    for (const attempt of attempts) {
      const res = await attempt();
      expectScimError(res, 403, null);
      expect(res.body.detail).toMatch(/primary owner/i);
    }

    const after = await f.scim.get(`/Users/${id}`);
    expect(after.body).toMatchObject({ id, active: true, name: { givenName: "Olive" }, meta: { version } });
    expect(after.body[SEAT]).toEqual({ seatType: "chat_code", seatStatus: "claimed", seatReason: "manual" });
    expect((await f.admin.get(`members/${id}`)).body).toMatchObject({
      role: "primary_owner",
      active: true,
      seatType: "chat_code",
    });
    expect(await expectCountersAgree(f)).toEqual(ledger);
    expect((await seatOf(f, chatHolder.id)).seatType).toBe("chat");
  });

  it("an IdP that sends the owner as inactive on create is refused too", async () => {
    const f = await fixture({ chat_code: 1, chat: 1 });
    const { id, userName } = await owner(f);
    expectScimError(await f.scim.post("/Users", { schemas: [USER_SCHEMA], userName, active: "False" }), 403, null);
    expect((await f.admin.get(`members/${id}`)).body).toMatchObject({ active: true, role: "primary_owner" });
    // Not adopted either: the refused request left the owner outside SCIM.
    expect((await f.scim.get(`/Users/${id}`)).status).toBe(404);
  });
});
