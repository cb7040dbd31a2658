// Buying seats over the admin and operator APIs (DOMAIN §4): terms and negotiated prices at creation, quotes
// that change nothing, purchases (roles, idempotency, concurrency, promotion of waiting members), the
// refusal of reductions during the term, reductions scheduled for renewal and applied never below what is
// in use, and the billing overview.
import type { Express } from "express";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServiceDeps } from "../../src/services/context.js";
import { OPERATOR_TOKEN, testApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { makeGroup, provision, seatLedger, setMappings, testDeps } from "../support/factories.js";
import { expectInvariants, reconcile, steppingClock } from "../support/seat-invariants.js";
import { type AdminClient, adminClient, adminTokenFor, createOrgViaApi, operatorPost, ownerIdOf } from "./helpers.js";

let tdb: TestDatabase;
let app: Express;
let deps: ServiceDeps;

beforeAll(async () => {
  tdb = await createTestDatabase();
  app = testApp(tdb.db);
  // A clock that moves a second per reading, so members start waiting in a known order.
  deps = testDeps(tdb.db, steppingClock(Date.now()));
});
afterAll(async () => tdb?.destroy());

/** Tiers A of DOMAIN §4: 1–10 at 1000, 11+ at 800. */
const tiersA = [
  { upTo: 10, unitAmount: 1000 },
  { upTo: null, unitAmount: 800 },
];
const YEAR_2026 = { start: "2026-01-01T00:00:00Z", end: "2027-01-01T00:00:00Z" };

interface Fixture {
  orgId: string;
  owner: AdminClient;
  ownerId: string;
}

async function newOrg(body: Record<string, unknown> = {}): Promise<Fixture> {
  const created = await createOrgViaApi(app, body);
  const owner = adminClient(app, created.orgId, created.ownerToken);
  return { orgId: created.orgId, owner, ownerId: await ownerIdOf(owner) };
}

async function clientWithRole(f: Fixture, role: "owner" | "admin" | "member"): Promise<AdminClient> {
  const m = await provision(deps, f.orgId);
  if (role !== "member") expect((await f.owner.patch(`members/${m.id}`, { role })).status).toBe(200);
  return adminClient(app, f.orgId, await adminTokenFor(f.owner, m.id));
}

function renew(orgId: string, body: unknown = {}) {
  return request(app)
    .post(`/api/v1/orgs/${orgId}/renew`)
    .set("Authorization", `Bearer ${OPERATOR_TOKEN}`)
    .send(body as object);
}

async function purchased(orgId: string): Promise<Record<string, number>> {
  const ledger = await seatLedger(tdb.db, orgId);
  return Object.fromEntries(Object.entries(ledger).map(([t, r]) => [t, r.purchased]));
}

async function countRows(table: string, orgId: string, where: Record<string, unknown> = {}): Promise<number> {
  const row = await tdb
    .db(table)
    .where({ org_id: orgId, ...where })
    .count<{ n: number }[]>({ n: "*" })
    .first();
  return Number(row?.n ?? 0);
}

describe("creating an org with a term and negotiated prices (operator)", () => {
  it("keeps the term and the override, shown in GET billing and GET seats", async () => {
    const f = await newOrg({
      term: YEAR_2026,
      pricing: { chat_code: { currency: "usd", model: "volume", tiers: tiersA } },
    });
    const billing = await f.owner.get("billing");
    expect(billing.status).toBe(200);
    expect(billing.body.term).toEqual({ start: "2026-01-01T00:00:00.000Z", end: "2027-01-01T00:00:00.000Z" });
    expect(billing.body.currency).toBe("usd");
    expect(billing.body.pricing.chat_code).toEqual({ currency: "usd", model: "volume", tiers: tiersA });
    // The type not overridden keeps the plan's price book.
    expect(billing.body.pricing.chat.model).toBe("graduated");
    expect(billing.body.charges).toEqual([]);
    expect(billing.body.scheduledReductions).toEqual([]);
    expect((await f.owner.get("seats")).body.term).toEqual(billing.body.term);
  });

  it("defaults the term to a year from now", async () => {
    const before = Date.now();
    const f = await newOrg();
    const term = (await f.owner.get("billing")).body.term;
    const start = Date.parse(term.start);
    expect(start).toBeGreaterThanOrEqual(before - 1000);
    const end = new Date(start);
    end.setUTCFullYear(end.getUTCFullYear() + 1);
    expect(term.end).toBe(end.toISOString());
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ["a term that ends before it starts", { term: { start: YEAR_2026.end, end: YEAR_2026.start } }, /term\.end/],
    ["a term that is not a time", { term: { start: "soon", end: YEAR_2026.end } }, /term\.start/],
    [
      "a price for a seat type the plan lacks",
      { pricing: { gold: { currency: "usd", model: "fixed", tiers: [{ upTo: null, unitAmount: 1 }] } } },
      /no seat type gold/,
    ],
    [
      "a second currency",
      { pricing: { chat: { currency: "eur", model: "fixed", tiers: [{ upTo: null, unitAmount: 1 }] } } },
      /one currency per price book/,
    ],
    [
      "tiers with a closed last tier",
      { pricing: { chat: { currency: "usd", model: "graduated", tiers: [{ upTo: 10, unitAmount: 1 }] } } },
      /the last tier must be open/,
    ],
    [
      "a negative price",
      { pricing: { chat: { currency: "usd", model: "fixed", tiers: [{ upTo: null, unitAmount: -5 }] } } },
      /unitAmount/,
    ],
  ])("refuses %s with 400", async (_name, extra, message) => {
    const res = await operatorPost(app, {
      name: "Acme",
      plan: "enterprise_usage",
      seats: { chat_code: 10, chat: 10 },
      ...extra,
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe("invalid_request");
    expect(res.body.message).toMatch(message);
  });
});

describe("POST seats/quote", () => {
  const graduatedA = {
    term: YEAR_2026,
    pricing: { chat_code: { currency: "usd", model: "graduated", tiers: tiersA } },
  };
  const volumeA = { term: YEAR_2026, pricing: { chat_code: { currency: "usd", model: "volume", tiers: tiersA } } };

  it("graduated 10 → 14 at half the term is 1600, with every part shown (DOMAIN §4)", async () => {
    const f = await newOrg(graduatedA);
    const res = await f.owner.post("seats/quote", { add: { chat_code: 4 }, at: "2026-07-02T12:00:00Z" });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      currency: "usd",
      at: "2026-07-02T12:00:00.000Z",
      term: { start: "2026-01-01T00:00:00.000Z", end: "2027-01-01T00:00:00.000Z" },
      rounding: "half_away_from_zero",
      lines: [
        {
          seatType: "chat_code",
          from: 10,
          to: 14,
          model: "graduated",
          termPriceBefore: 10000,
          termPriceAfter: 13200,
          prorationNumerator: 15_768_000,
          prorationDenominator: 31_536_000,
          amount: 1600,
        },
      ],
      total: 1600,
    });
  });

  it("graduated 10 → 14 on 2026-04-01 is 2411 (2410.9589 rounded half away from zero)", async () => {
    const f = await newOrg(graduatedA);
    const res = await f.owner.post("seats/quote", { add: { chat_code: 4 }, at: "2026-04-01T00:00:00Z" });
    expect(res.body.total).toBe(2411);
  });

  it("volume 10 → 11 on 2026-04-01 is a credit of 904", async () => {
    const f = await newOrg(volumeA);
    const res = await f.owner.post("seats/quote", { add: { chat_code: 1 }, at: "2026-04-01T00:00:00Z" });
    expect(res.status).toBe(200);
    expect(res.body.lines[0]).toMatchObject({ termPriceBefore: 10000, termPriceAfter: 8800, amount: -904 });
    expect(res.body.total).toBe(-904);
  });

  it("prices several types, best type first, and totals the lines", async () => {
    const f = await newOrg(graduatedA);
    const res = await f.owner.post("seats/quote", { add: { chat: 2, chat_code: 4 }, at: "2026-07-02T12:00:00Z" });
    expect(res.body.lines.map((l: { seatType: string }) => l.seatType)).toEqual(["chat_code", "chat"]);
    // chat keeps the price book: graduated, 36000 a seat up to 100.
    expect(res.body.lines[1]).toMatchObject({ from: 10, to: 12, termPriceBefore: 360000, termPriceAfter: 432000 });
    expect(res.body.lines[1].amount).toBe(36000);
    expect(res.body.total).toBe(1600 + 36000);
  });

  it("changes nothing: no seats, no charge, no audit event", async () => {
    const f = await newOrg(graduatedA);
    const seatsBefore = (await f.owner.get("seats")).body;
    const audits = await countRows("audit_events", f.orgId);
    const outbox = await countRows("outbox", f.orgId);
    expect((await f.owner.post("seats/quote", { add: { chat_code: 4 } })).status).toBe(200);
    expect((await f.owner.get("seats")).body).toEqual(seatsBefore);
    expect(await countRows("charges", f.orgId)).toBe(0);
    expect(await countRows("audit_events", f.orgId)).toBe(audits);
    expect(await countRows("outbox", f.orgId)).toBe(outbox);
  });

  it("defaults `at` to now", async () => {
    const f = await newOrg();
    const before = Date.now();
    const res = await f.owner.post("seats/quote", { add: { chat: 1 } });
    expect(res.status).toBe(200);
    expect(Date.parse(res.body.at)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(res.body.at)).toBeLessThanOrEqual(Date.now());
  });

  it.each<[string, unknown, number, Record<string, unknown>]>([
    ["before the term", { add: { chat: 1 }, at: "2025-12-31T23:59:59Z" }, 422, { error: "outside_term" }],
    ["at the term's end", { add: { chat: 1 }, at: "2027-01-01T00:00:00Z" }, 422, { error: "outside_term" }],
    [
      "a reduction",
      { add: { chat: -1 }, at: "2026-04-01T00:00:00Z" },
      409,
      { error: "reduction_during_term", renewsAt: "2027-01-01T00:00:00.000Z" },
    ],
    ["an unknown seat type", { add: { gold: 1 } }, 400, { error: "invalid_request" }],
    ["nothing", { add: {} }, 400, { error: "invalid_request" }],
    ["only zeros", { add: { chat: 0 } }, 400, { error: "invalid_request" }],
    ["a fraction", { add: { chat: 1.5 } }, 400, { error: "invalid_request" }],
    ["a bad time", { add: { chat: 1 }, at: "tomorrow" }, 400, { error: "invalid_request" }],
    ["above the plan's maximum", { add: { chat: 100_000 }, at: "2026-04-01T00:00:00Z" }, 422, { error: "seat_limit" }],
  ])("refuses %s", async (_name, body, status, error) => {
    const f = await newOrg(graduatedA);
    const res = await f.owner.post("seats/quote", body);
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject(error);
    expect(res.body.message).toEqual(expect.any(String));
  });
});

describe("who may quote, buy and see billing", () => {
  it("an admin may quote but not buy, schedule or see billing; a member may do none; 403 names the role", async () => {
    const f = await newOrg();
    const admin = await clientWithRole(f, "admin");
    const member = await clientWithRole(f, "member");
    expect((await admin.post("seats/quote", { add: { chat: 1 } })).status).toBe(200);
    for (const res of [
      await admin.post("seats/purchase", { add: { chat: 1 } }),
      await admin.post("seats/reductions", { seatType: "chat", to: 9 }),
      await admin.get("billing"),
    ]) {
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ error: "forbidden", requiredRole: "owner" });
      expect(res.body.message).toMatch(/needs the owner role/);
    }
    const quote = await member.post("seats/quote", { add: { chat: 1 } });
    expect(quote.status).toBe(403);
    expect(quote.body).toMatchObject({ error: "forbidden", requiredRole: "admin" });
    expect((await member.post("seats/purchase", { add: { chat: 1 } })).status).toBe(403);
    expect(await countRows("charges", f.orgId)).toBe(0);
    expect((await purchased(f.orgId)).chat).toBe(10);
  });

  it("an owner (not only the primary owner) may buy", async () => {
    const f = await newOrg();
    const owner = await clientWithRole(f, "owner");
    expect((await owner.post("seats/purchase", { add: { chat: 1 } })).status).toBe(200);
    expect((await purchased(f.orgId)).chat).toBe(11);
  });

  it("401 without credentials", async () => {
    const f = await newOrg();
    const res = await request(app)
      .post(`/api/v1/orgs/${f.orgId}/seats/quote`)
      .send({ add: { chat: 1 } });
    expect(res.status).toBe(401);
  });
});

describe("POST seats/purchase", () => {
  it("adds the seats, records the charge at the quoted price, and audits it with an outbox event", async () => {
    const f = await newOrg();
    const quote = await f.owner.post("seats/quote", { add: { chat_code: 5 } });
    const res = await f.owner.post("seats/purchase", { add: { chat_code: 5 } });
    expect(res.status).toBe(200);
    const chatCode = res.body.seatTypes.find((s: { type: string }) => s.type === "chat_code");
    expect(chatCode).toMatchObject({ purchased: 15, used: 0, available: 15 });
    const charge = res.body.charge;
    expect(charge).toMatchObject({ currency: "usd", total: expect.any(Number), lines: [expect.any(Object)] });
    expect(charge.lines[0]).toMatchObject({ seatType: "chat_code", from: 10, to: 15, model: "graduated" });
    // Seconds pass between the quote and the purchase: the amount may differ by the proration of that time.
    expect(Math.abs(charge.total - quote.body.total)).toBeLessThanOrEqual(10);
    expect(charge.total).toBe(charge.lines[0].amount);

    const billing = await f.owner.get("billing");
    expect(billing.body.charges).toEqual([charge]);
    const audit = await f.owner.get("audit-events?action=seats.purchased");
    expect(audit.body.items).toHaveLength(1);
    expect(audit.body.items[0]).toMatchObject({
      before: { purchased: { chat_code: 10 } },
      after: { purchased: { chat_code: 15 }, chargeId: charge.id, total: charge.total, currency: "usd" },
    });
    expect(await countRows("outbox", f.orgId, { topic: "seats.purchased" })).toBe(1);
    await expectInvariants(tdb.db, f.orgId);
  });

  it("buying gives the buyer no seat", async () => {
    const f = await newOrg();
    await f.owner.post("seats/purchase", { add: { chat: 1 } });
    expect((await f.owner.get(`members/${f.ownerId}`)).body.seatType).toBe("unassigned");
  });

  it("a negative number is a reduction during the term: 409 with the renewal date, nothing changes", async () => {
    const f = await newOrg({ term: { start: "2026-06-01T00:00:00Z", end: "2027-06-01T00:00:00Z" } });
    const res = await f.owner.post("seats/purchase", { add: { chat: -2, chat_code: 1 } });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ error: "reduction_during_term", renewsAt: "2027-06-01T00:00:00.000Z" });
    expect(res.body.message).toMatch(/seats\/reductions/);
    expect(await purchased(f.orgId)).toEqual({ chat_code: 10, chat: 10 });
    expect(await countRows("charges", f.orgId)).toBe(0);
  });

  it("above the plan's maximum is 422; below the minimum is 422", async () => {
    const f = await newOrg({ plan: "team", seats: { premium: 2, standard: 0 } });
    const above = await f.owner.post("seats/purchase", { add: { standard: 999 } });
    expect(above.status).toBe(422);
    expect(above.body).toMatchObject({ error: "seat_limit", maxSeats: 1000, total: 1001 });
    expect((await f.owner.post("seats/purchase", { add: { standard: 998 } })).status).toBe(200);
    // An enterprise org holding fewer than 20 (set by the operator's data) cannot stay below by buying 1.
    const g = await newOrg();
    await tdb.db("seat_allocations").where({ org_id: g.orgId }).update({ purchased: 5 });
    const below = await g.owner.post("seats/purchase", { add: { chat: 1 } });
    expect(below.status).toBe(422);
    expect(below.body).toMatchObject({ error: "seat_limit", minSeats: 20, total: 11 });
  });

  it("a purchase after the term ended is refused until the term is renewed", async () => {
    const f = await newOrg({ term: YEAR_2026 });
    await tdb
      .db("organizations")
      .where({ id: f.orgId })
      .update({ term_end: new Date(Date.now() - 60_000) });
    const res = await f.owner.post("seats/purchase", { add: { chat: 1 } });
    expect(res.status).toBe(422);
    expect(res.body.error).toBe("outside_term");
  });
});

describe("Idempotency-Key", () => {
  it("a retry with the same key and body returns the first charge and charges once", async () => {
    const f = await newOrg();
    const first = await f.owner.post("seats/purchase", { add: { chat: 3 } }).set("Idempotency-Key", "order-1");
    expect(first.status).toBe(200);
    expect(first.headers["idempotent-replayed"]).toBeUndefined();
    const retry = await f.owner.post("seats/purchase", { add: { chat: 3 } }).set("Idempotency-Key", "order-1");
    expect(retry.status).toBe(200);
    expect(retry.headers["idempotent-replayed"]).toBe("true");
    expect(retry.body.charge).toEqual(first.body.charge);
    expect((await purchased(f.orgId)).chat).toBe(13);
    expect(await countRows("charges", f.orgId)).toBe(1);
    expect(await countRows("audit_events", f.orgId, { action: "seats.purchased" })).toBe(1);
  });

  it("the same key with a different body is 422 and changes nothing; another key buys again", async () => {
    const f = await newOrg();
    await f.owner.post("seats/purchase", { add: { chat: 3 } }).set("Idempotency-Key", "order-2");
    const reused = await f.owner.post("seats/purchase", { add: { chat: 4 } }).set("Idempotency-Key", "order-2");
    expect(reused.status).toBe(422);
    expect(reused.body.error).toBe("idempotency_key_reused");
    expect((await purchased(f.orgId)).chat).toBe(13);
    const other = await f.owner.post("seats/purchase", { add: { chat: 3 } }).set("Idempotency-Key", "order-3");
    expect(other.status).toBe(200);
    expect((await purchased(f.orgId)).chat).toBe(16);
    expect(await countRows("charges", f.orgId)).toBe(2);
  });

  it("keys belong to one org", async () => {
    const [f, g] = [await newOrg(), await newOrg()];
    await f.owner.post("seats/purchase", { add: { chat: 1 } }).set("Idempotency-Key", "shared");
    const res = await g.owner.post("seats/purchase", { add: { chat: 2 } }).set("Idempotency-Key", "shared");
    expect(res.status).toBe(200);
    expect((await purchased(g.orgId)).chat).toBe(12);
  });

  it("retries sent at the same time still charge once", async () => {
    const f = await newOrg();
    const responses = await Promise.all(
      Array.from({ length: 8 }, () =>
        f.owner.post("seats/purchase", { add: { chat_code: 2 } }).set("Idempotency-Key", "burst"),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(new Set(responses.map((r) => r.body.charge.id)).size).toBe(1);
    expect((await purchased(f.orgId)).chat_code).toBe(12);
    expect(await countRows("charges", f.orgId)).toBe(1);
  });

  it("an unprintable key is 400", async () => {
    const f = await newOrg();
    const res = await f.owner.post("seats/purchase", { add: { chat: 1 } }).set("Idempotency-Key", "a b");
    expect(res.status).toBe(400);
  });
});

describe("concurrent purchases", () => {
  it("12 purchases at once, amid 30 new members, all apply: the seats and the charges add up exactly", async () => {
    const f = await newOrg();
    const [responses] = await Promise.all([
      Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          f.owner.post("seats/purchase", { add: i % 2 ? { chat: 1 } : { chat_code: 2 } }),
        ),
      ),
      Promise.all(Array.from({ length: 30 }, () => provision(deps, f.orgId))),
    ]);
    expect(responses.map((r) => r.status)).toEqual(Array(12).fill(200));
    expect(await purchased(f.orgId)).toEqual({ chat_code: 10 + 6 * 2, chat: 10 + 6 });
    const charges = await tdb.db("charges").where({ org_id: f.orgId });
    expect(charges).toHaveLength(12);
    // Each charge starts where the one before it (in commit order) ended.
    const chatFroms = charges
      .flatMap((c) => (typeof c.lines === "string" ? JSON.parse(c.lines) : c.lines))
      .filter((l: { seatType: string }) => l.seatType === "chat")
      .map((l: { from: number }) => l.from)
      .sort((a: number, b: number) => a - b);
    expect(chatFroms).toEqual([10, 11, 12, 13, 14, 15]);
    // 38 seats for 30 members: nobody waits while a seat is free.
    const ledger = await seatLedger(tdb.db, f.orgId);
    expect(ledger.chat_code.used + ledger.chat.used).toBe(30);
    expect(await countRows("members", f.orgId, { seat_type: null, active: true })).toBe(1); // the owner
    await expectInvariants(tdb.db, f.orgId);
  });
});

describe("promotion of waiting members", () => {
  it("new seats go at once to the longest waiters who can use them, FIFO; the rest keep waiting", async () => {
    const f = await newOrg({ seats: { chat_code: 10, chat: 10 } });
    for (let i = 0; i < 20; i++) await provision(deps, f.orgId);
    const waiters = [];
    for (let i = 0; i < 4; i++) waiters.push(await provision(deps, f.orgId));
    expect(waiters.every((w) => w.seatType === null && w.waitingFor === "any")).toBe(true);

    const res = await f.owner.post("seats/purchase", { add: { chat_code: 2, chat: 1 } });
    expect(res.status).toBe(200);
    expect(res.body.promoted).toBe(3);
    const seats = Object.fromEntries(
      res.body.seatTypes.map((s: { type: string; used: number; available: number; waiting: number }) => [s.type, s]),
    );
    expect(seats.chat_code).toMatchObject({ purchased: 12, used: 12, available: 0 });
    expect(seats.chat).toMatchObject({ purchased: 11, used: 11, available: 0 });
    const after = await Promise.all(waiters.map((w) => f.owner.get(`members/${w.id}`)));
    expect(after.map((r) => [r.body.seatType, r.body.seatReason, r.body.waitingFor])).toEqual([
      ["chat_code", "promoted", null],
      ["chat_code", "promoted", null],
      ["chat", "promoted", null],
      ["unassigned", "exhausted", "any"],
    ]);
    const promotions = await f.owner.get("audit-events?action=seat.promoted");
    expect(promotions.body.items).toHaveLength(3);
    await expectInvariants(tdb.db, f.orgId);
  });

  it("a member waiting for a mapped type is not given another type", async () => {
    const f = await newOrg({ seats: { chat_code: 10, chat: 10 } });
    for (let i = 0; i < 10; i++) await provision(deps, f.orgId); // every chat_code seat
    await setMappings(tdb.db, f.orgId, [{ group: "Engineering", seatType: "chat_code", priority: 1 }]);
    const waiter = await provision(deps, f.orgId);
    await makeGroup(tdb.db, f.orgId, "Engineering", [waiter.id]);
    await reconcile(deps, f.orgId, waiter.id);
    expect((await f.owner.get(`members/${waiter.id}`)).body).toMatchObject({
      seatType: "unassigned",
      waitingFor: "chat_code",
    });
    expect((await f.owner.post("seats/purchase", { add: { chat: 1 } })).body.promoted).toBe(0);
    expect((await f.owner.get(`members/${waiter.id}`)).body.waitingFor).toBe("chat_code");
    expect((await f.owner.post("seats/purchase", { add: { chat_code: 1 } })).body.promoted).toBe(1);
    expect((await f.owner.get(`members/${waiter.id}`)).body).toMatchObject({
      seatType: "chat_code",
      seatReason: "promoted",
      waitingFor: null,
    });
    await expectInvariants(tdb.db, f.orgId);
  });
});

describe("reductions and renewal", () => {
  it("schedules a reduction for the renewal, shown in GET billing, audited", async () => {
    const f = await newOrg({
      seats: { chat_code: 20, chat: 10 },
      term: { start: "2026-06-01T00:00:00Z", end: "2027-06-01T00:00:00Z" },
    });
    const res = await f.owner.post("seats/reductions", { seatType: "chat", to: 4 });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      seatType: "chat",
      from: 10,
      to: 4,
      effectiveAt: "2027-06-01T00:00:00.000Z",
      scheduled: true,
    });
    // Nothing changes before the renewal.
    expect((await purchased(f.orgId)).chat).toBe(10);
    const billing = await f.owner.get("billing");
    expect(billing.body.scheduledReductions).toEqual([
      expect.objectContaining({ seatType: "chat", to: 4, effectiveAt: "2027-06-01T00:00:00.000Z" }),
    ]);
    // A second one replaces the first; `to` equal to what is bought cancels it.
    await f.owner.post("seats/reductions", { seatType: "chat", to: 6 });
    expect((await f.owner.get("billing")).body.scheduledReductions.map((r: { to: number }) => r.to)).toEqual([6]);
    const cancel = await f.owner.post("seats/reductions", { seatType: "chat", to: 10 });
    expect(cancel.body.scheduled).toBe(false);
    expect((await f.owner.get("billing")).body.scheduledReductions).toEqual([]);
    expect(await countRows("audit_events", f.orgId, { action: "seats.reduction_scheduled" })).toBe(2);
    expect(await countRows("outbox", f.orgId, { topic: "seats.reduction_scheduled" })).toBe(2);
  });

  it.each<[string, unknown, number, string]>([
    ["more than bought", { seatType: "chat", to: 16 }, 400, "invalid_request"],
    ["an unknown type", { seatType: "gold", to: 1 }, 400, "invalid_request"],
    ["a negative number", { seatType: "chat", to: -1 }, 400, "invalid_request"],
  ])("%s", async (_name, body, status, error) => {
    const f = await newOrg({ seats: { chat_code: 15, chat: 15 } });
    const res = await f.owner.post("seats/reductions", body);
    expect(res.status).toBe(status);
    expect(res.body.error).toBe(error);
  });

  it("refuses reductions that would leave the plan below its minimum at renewal (422)", async () => {
    const f = await newOrg({ seats: { chat_code: 15, chat: 15 } });
    expect((await f.owner.post("seats/reductions", { seatType: "chat", to: 5 })).status).toBe(200);
    const res = await f.owner.post("seats/reductions", { seatType: "chat_code", to: 14 });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ error: "seat_limit", minSeats: 20, total: 19 });
    expect((await f.owner.get("billing")).body.scheduledReductions).toHaveLength(1);
  });

  it("renewal starts the next term and applies the reductions, never below what is in use", async () => {
    const f = await newOrg({
      seats: { chat_code: 20, chat: 20 },
      term: { start: "2025-01-01T00:00:00Z", end: "2026-01-01T00:00:00Z" },
    });
    for (let i = 0; i < 27; i++) await provision(deps, f.orgId); // 20 chat_code, 7 chat
    await f.owner.post("seats/reductions", { seatType: "chat", to: 3 });
    await f.owner.post("seats/reductions", { seatType: "chat_code", to: 18 });
    const res = await renew(f.orgId, { at: "2026-01-01T00:00:00Z" });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      previousTerm: { start: "2025-01-01T00:00:00.000Z", end: "2026-01-01T00:00:00.000Z" },
      term: { start: "2026-01-01T00:00:00.000Z", end: "2027-01-01T00:00:00.000Z" },
      reductions: [
        { seatType: "chat_code", from: 20, requested: 18, to: 20, inUse: 20 },
        { seatType: "chat", from: 20, requested: 3, to: 7, inUse: 7 },
      ],
    });
    expect(await purchased(f.orgId)).toEqual({ chat_code: 20, chat: 7 });
    const billing = await f.owner.get("billing");
    expect(billing.body.term).toEqual(res.body.term);
    expect(billing.body.scheduledReductions).toEqual([]);
    expect(await countRows("audit_events", f.orgId, { action: "seats.renewed" })).toBe(1);
    expect(await countRows("outbox", f.orgId, { topic: "seats.renewed" })).toBe(1);
    // Nobody lost a seat.
    const seats = (await f.owner.get("seats")).body.seatTypes;
    expect(seats.map((s: { used: number }) => s.used)).toEqual([20, 7]);
    await expectInvariants(tdb.db, f.orgId);
  });

  it("a reduction down to what is free applies fully; nothing else changes at renewal", async () => {
    const f = await newOrg({ seats: { chat_code: 15, chat: 15 }, term: YEAR_2026 });
    await f.owner.post("seats/reductions", { seatType: "chat", to: 5 });
    const pricingBefore = (await f.owner.get("billing")).body.pricing;
    const settingsBefore = (await f.owner.get("settings")).body;
    const membersBefore = (await f.owner.get("members")).body;
    expect((await renew(f.orgId)).status).toBe(200);
    expect((await f.owner.get("members")).body).toEqual(membersBefore);
    expect(await purchased(f.orgId)).toEqual({ chat_code: 15, chat: 5 });
    expect((await f.owner.get("billing")).body.pricing).toEqual(pricingBefore);
    expect((await f.owner.get("settings")).body).toEqual(settingsBefore);
  });

  it("renewal without `at` starts now; it needs the operator token; `at` lies after the term's start and not ahead", async () => {
    const f = await newOrg({ term: YEAR_2026 });
    const before = Date.now();
    const res = await renew(f.orgId);
    expect(res.status).toBe(200);
    expect(Date.parse(res.body.term.start)).toBeGreaterThanOrEqual(before - 1000);
    const unauthorized = await request(app).post(`/api/v1/orgs/${f.orgId}/renew`).send({});
    expect(unauthorized.status).toBe(401);
    const early = await renew(f.orgId, { at: res.body.term.start });
    expect(early.status).toBe(422);
    expect(early.body.error).toBe("outside_term");
    const ahead = await renew(f.orgId, { at: new Date(Date.now() + 86_400_000).toISOString() });
    expect(ahead.status).toBe(422);
    expect(ahead.body.message).toMatch(/cannot start in the future/);
    expect((await renew("no-such-org")).status).toBe(404);
  });

  it("purchases in the new term are prorated over the new term", async () => {
    const f = await newOrg({
      term: { start: "2025-01-01T00:00:00Z", end: "2026-01-01T00:00:00Z" },
      pricing: { chat_code: { currency: "usd", model: "graduated", tiers: tiersA } },
    });
    await renew(f.orgId, { at: "2026-01-01T00:00:00Z" });
    const quote = await f.owner.post("seats/quote", { add: { chat_code: 4 }, at: "2026-07-02T12:00:00Z" });
    expect(quote.body.total).toBe(1600);
  });
});
