// The console's billing and invitations pages over HTTP, per role: quotes, a purchase charged once however
// often its confirmation is sent, reductions, refusals in words; invitations listed by status, the claim link
// shown once, resend and revoke; the claim page in the console's look; XSS and CSRF on the new forms.
import type { Express } from "express";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServiceDeps } from "../../src/services/context.js";
import { issueToken } from "../../src/services/tokens-service.js";
import { testApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { provision, reload, testDeps } from "../support/factories.js";
import { adminClient, type CreatedOrgBody, createOrgViaApi, ownerIdOf, sessionCookie } from "./helpers.js";

let tdb: TestDatabase;
let app: Express;
let deps: ServiceDeps;

beforeAll(async () => {
  tdb = await createTestDatabase();
  app = testApp(tdb.db);
  deps = testDeps(tdb.db);
});
afterAll(async () => tdb?.destroy());

function csrfOf(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error("no CSRF token on the page");
  return m[1];
}

function unescape(s: string): string {
  return s.replace(/&amp;/g, "&");
}

async function signInAs(orgId: string, memberId: string): Promise<string> {
  const link = await issueToken(deps, tdb.db, orgId, "sign_in", { memberId }, { actor: "test" });
  const res = await request(app).get(`/signin/${link.token}`);
  expect(res.status).toBe(303);
  return sessionCookie(res);
}

interface Org {
  created: CreatedOrgBody;
  api: ReturnType<typeof adminClient>;
  ownerId: string;
  owner: string;
  admin: string;
  adminId: string;
  member: string;
}

/** An org with 10 + 10 seats all taken, `waiting` more people waiting, and an owner, admin and member signed in. */
async function orgWithPeople(waiting = 0, body: Record<string, unknown> = {}): Promise<Org> {
  const created = await createOrgViaApi(app, { seats: { chat_code: 10, chat: 10 }, ...body });
  const api = adminClient(app, created.orgId, created.ownerToken);
  const ownerId = await ownerIdOf(api);
  const people = [];
  for (let i = 0; i < 20 + waiting; i++) people.push(await provision(deps, created.orgId));
  expect((await api.patch(`members/${people[0].id}`, { role: "admin" })).status).toBe(200);
  return {
    created,
    api,
    ownerId,
    owner: await signInAs(created.orgId, ownerId),
    admin: await signInAs(created.orgId, people[0].id),
    adminId: people[0].id,
    member: await signInAs(created.orgId, people[1].id),
  };
}

function get(cookie: string, path: string) {
  return request(app).get(path).set("Cookie", cookie);
}

async function post(cookie: string, path: string, form: Record<string, string>, csrfFrom = "/admin") {
  const page = await get(cookie, csrfFrom);
  return request(app)
    .post(path)
    .set("Cookie", cookie)
    .type("form")
    .send({ _csrf: csrfOf(page.text), ...form });
}

async function purchased(api: Org["api"]): Promise<Record<string, number>> {
  const res = await api.get("seats");
  expect(res.status).toBe(200);
  return Object.fromEntries(
    (res.body.seatTypes as { type: string; purchased: number }[]).map((s) => [s.type, s.purchased]),
  );
}

describe("billing page: who sees it", () => {
  it("a member gets no console, an admin gets a 403 page and no Billing entry, an owner the page", async () => {
    const o = await orgWithPeople();
    expect((await get(o.member, "/admin/billing")).status).toBe(403);
    const admin = await get(o.admin, "/admin/billing");
    expect(admin.status).toBe(403);
    expect(admin.text).toContain("needs the owner role");
    expect((await get(o.admin, "/admin")).text).not.toContain('href="/admin/billing"');
    expect((await get(o.admin, "/admin/billing/confirm?add_chat=1")).status).toBe(403);
    const bought = await post(o.admin, "/admin/billing/purchase", { add_chat: "1", idempotencyKey: "k-admin" });
    expect(bought.status).toBe(403);
    const reduced = await post(o.admin, "/admin/billing/reductions", { seatType: "chat", to: "5" });
    expect(reduced.status).toBe(403);
    expect(await purchased(o.api)).toEqual({ chat_code: 10, chat: 10 });

    expect((await get(o.owner, "/admin")).text).toContain('href="/admin/billing"');
    const page = await get(o.owner, "/admin/billing");
    expect(page.status).toBe(200);
    expect(page.text).toContain("Graduated: each seat costs the price of the tier it falls in");
    expect(page.text).toContain("seats 1–100: $720.00 each");
    expect(page.text).toContain("seat 501 and up: $288.00 each");
    expect(page.text).toContain("No purchases yet.");
  });
});

describe("billing page: quote and purchase", () => {
  it("prefills the quote from a Buy N seats link and shows lines, proration, rounding and total", async () => {
    const o = await orgWithPeople(3);
    const overview = await get(o.owner, "/admin");
    const link = /href="(\/admin\/billing\?[^"]+)"[^>]*>Buy 3 seats/.exec(overview.text)?.[1];
    expect(link).toBeTruthy();
    const page = await get(o.owner, unescape(link!));
    expect(page.status).toBe(200);
    expect(page.text).toContain('name="add_chat" min="0" max="1000000" step="1" value="3"');
    expect(page.text).toContain("people wait for a seat of any type");
    const line = page.text.split('data-line="chat"')[1].split("</tr>")[0];
    expect(line).toContain("10 → 13");
    expect(line).toContain("$3,600.00"); // term price before: 10 × $360
    expect(line).toContain("$4,680.00"); // after: 13 × $360
    expect(page.text).toContain("rounded once to the smallest unit of the currency, halves away from zero");
    expect(page.text).toMatch(/data-proration[^>]*>Priced at/);
    expect(page.text).toMatch(/seconds are left \([\d.]+ of [\d.]+ days\), a fraction of [01]\.\d{4}/);
    expect(page.text).toContain("Total due now");

    const typed = await get(o.owner, "/admin/billing?seatType=chat_code&quantity=2");
    expect(typed.text).toContain('name="add_chat_code" min="0" max="1000000" step="1" value="2"');
    expect(typed.text).toContain('data-line="chat_code"');
    expect(await purchased(o.api)).toEqual({ chat_code: 10, chat: 10 }); // quoting changes nothing
  });

  it("confirms, then buys once even when the confirmation is sent twice; waiting members get the seats", async () => {
    const o = await orgWithPeople(3);
    const confirm = await get(o.owner, "/admin/billing/confirm?add_chat=4");
    expect(confirm.status).toBe(200);
    expect(confirm.text).toContain("You will be charged");
    const key = /name="idempotencyKey" value="([^"]+)"/.exec(confirm.text)?.[1];
    expect(key).toMatch(/^console-[0-9a-f-]{36}$/);
    const form = { _csrf: csrfOf(confirm.text), idempotencyKey: key!, add_chat: "4" };
    const send = () => request(app).post("/admin/billing/purchase").set("Cookie", o.owner).type("form").send(form);
    const [first, second] = [await send(), await send()];
    expect(first.status).toBe(303);
    expect(first.headers.location).toContain("done=purchased");
    expect(second.status).toBe(303);
    expect(second.headers.location).toContain("done=replayed");
    expect(await purchased(o.api)).toEqual({ chat_code: 10, chat: 14 });
    const billing = await o.api.get("billing");
    expect(billing.body.charges).toHaveLength(1);

    const after = await get(o.owner, first.headers.location);
    expect(after.text).toContain("Seats bought:");
    expect(after.text).toContain("3 waiting members got seats.");
    expect(after.text).toContain(`data-charge="${billing.body.charges[0].id}"`);
    expect(after.text).toContain("Chat: 10 → 14");
    expect((await get(o.owner, second.headers.location)).text).toContain("it was charged once");
    const overview = await get(o.owner, "/admin");
    const chat = overview.text.split('data-seat-type="chat"')[1].split("</section>")[0];
    expect(chat).toMatch(/data-used="true">13</);
    expect(chat).toMatch(/data-free="true">1</);

    // A fresh confirmation page is a new purchase.
    const again = await get(o.owner, "/admin/billing/confirm?add_chat=1");
    const key2 = /name="idempotencyKey" value="([^"]+)"/.exec(again.text)?.[1];
    expect(key2).not.toBe(key);
  });

  it("says in words why a quote or purchase is refused: removing seats (409), plan limits (422), bad numbers", async () => {
    const p = await orgWithPeople();
    const lower = await get(p.owner, "/admin/billing?add_chat=-2");
    expect(lower.status).toBe(409);
    expect(lower.text).toContain("Seats cannot be removed during the term");
    expect(lower.text).toContain("Fewer seats from the renewal");
    const huge = await get(p.owner, "/admin/billing?add_chat=999999");
    expect(huge.status).toBe(422);
    expect(huge.text).toMatch(/allows at most \d+ seats in total/);
    const typo = await get(p.owner, "/admin/billing?add_chat=lots");
    expect(typo.status).toBe(400);
    expect(typo.text).toContain("is not a whole number of seats");
    const confirm = await get(p.owner, "/admin/billing/confirm?add_chat=999999");
    expect(confirm.status).toBe(422);
    expect(confirm.text).not.toContain("idempotencyKey");
    const buy = await post(p.owner, "/admin/billing/purchase", { add_chat: "999999", idempotencyKey: "console-x" });
    expect(buy.status).toBe(422);
    expect(buy.text).toMatch(/allows at most \d+ seats in total/);
    expect(await purchased(p.api)).toEqual({ chat_code: 10, chat: 10 });
  });

  it("schedules and cancels a reduction for the renewal; a plan limit (422) or more than was bought is a message", async () => {
    const o = await orgWithPeople(0, { seats: { chat_code: 10, chat: 14 } });
    const scheduled = await post(o.owner, "/admin/billing/reductions", { seatType: "chat", to: "11" });
    expect(scheduled.status).toBe(303);
    const page = await get(o.owner, scheduled.headers.location);
    expect(page.text).toContain("Reduction scheduled for the renewal.");
    const row = page.text.split('data-reduction="chat"')[1].split("</tr>")[0];
    expect(row).toMatch(/>14<.*>11</s);
    const belowMin = await post(o.owner, "/admin/billing/reductions", { seatType: "chat", to: "6" });
    expect(belowMin.status).toBe(422);
    expect(belowMin.text).toContain("needs at least 20 seats in total; after the renewal there would be 16");
    const tooMany = await post(o.owner, "/admin/billing/reductions", { seatType: "chat", to: "15" });
    expect(tooMany.status).toBe(400);
    expect(tooMany.text).toContain("is more than the 14 chat seats bought; buy seats under “Buy seats”");
    const cancelled = await post(o.owner, "/admin/billing/reductions", { seatType: "chat", to: "14" });
    expect(cancelled.status).toBe(303);
    const after = await get(o.owner, cancelled.headers.location);
    expect(after.text).toContain("no reduction is scheduled for it");
    expect(after.text).not.toContain('data-reduction="chat"');
    expect(await purchased(o.api)).toEqual({ chat_code: 10, chat: 14 });
  });

  it("refuses a purchase or reduction form without the session's CSRF token or from another origin", async () => {
    const o = await orgWithPeople();
    const confirm = await get(o.owner, "/admin/billing/confirm?add_chat=1");
    const key = /name="idempotencyKey" value="([^"]+)"/.exec(confirm.text)![1];
    const token = csrfOf(confirm.text);
    for (const [path, form, origin] of [
      ["/admin/billing/purchase", { add_chat: "1", idempotencyKey: key }, undefined],
      ["/admin/billing/purchase", { add_chat: "1", idempotencyKey: key, _csrf: "forged" }, undefined],
      ["/admin/billing/purchase", { add_chat: "1", idempotencyKey: key, _csrf: token }, "https://evil.example"],
      ["/admin/billing/reductions", { seatType: "chat", to: "5" }, undefined],
      ["/admin/billing/reductions", { seatType: "chat", to: "5", _csrf: token }, "https://evil.example"],
    ] as const) {
      const r = request(app).post(path).set("Cookie", o.owner).type("form");
      if (origin) r.set("Origin", origin);
      const res = await r.send(form);
      expect(res.status, path).toBe(403);
      expect(res.text).toContain("Nothing was changed");
    }
    expect(await purchased(o.api)).toEqual({ chat_code: 10, chat: 10 });
    expect((await o.api.get("billing")).body.scheduledReductions).toEqual([]);
  });
});
