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
    expect(page.text).toContain("Seats 1–100: $720.00 each");
    expect(page.text).toContain("Seat 501 and up: $288.00 each");
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
    const chargeRow = after.text.split(`data-charge="${billing.body.charges[0].id}"`)[1].split("</tr>")[0];
    expect(chargeRow).toMatch(/<td data-label="By">[^<\s]+@[^<\s]+<\/td>/); // the buyer's email, not admin:<uuid>
    expect(chargeRow).not.toContain("admin:");
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

function claimLinkOf(html: string): string {
  const url = /id="claim-link">([^<]+)</.exec(html)?.[1]?.trim();
  if (!url) throw new Error("no claim link on the page");
  return url;
}

describe("invitations page", () => {
  it("a member gets no console; an admin invites, sees the link once, resends (new link once) and revokes", async () => {
    const o = await orgWithPeople(0, { seats: { chat_code: 10, chat: 12 } });
    expect((await get(o.member, "/admin/invitations")).status).toBe(403);
    const page = await get(o.admin, "/admin/invitations");
    expect(page.status).toBe(200);
    // An admin may give member or admin, never owner.
    const roles = page.text.split('name="role"')[1].split("</select>")[0];
    expect(roles).toContain('value="admin"');
    expect(roles).not.toContain('value="owner"');
    expect((await get(o.owner, "/admin/invitations")).text.split('name="role"')[1]).toContain('value="owner"');

    const created = await post(
      o.admin,
      "/admin/invitations",
      { email: "new.hire@acme.test", externalId: "", seatType: "chat", role: "member" },
      "/admin/invitations",
    );
    expect(created.status).toBe(201);
    const link = claimLinkOf(created.text);
    expect(link).toMatch(/^http:\/\/roster\.test\/claim\/claim_/);
    expect(created.text).toContain('data-copy="claim-link"');
    expect(created.text).toContain('data-invitation="new.hire@acme.test" data-status="pending"');
    const list = await get(o.admin, "/admin/invitations");
    expect(list.text).toContain("new.hire@acme.test");
    expect(list.text).not.toContain(link);
    expect(list.text).not.toContain(link.split("/claim/")[1]);

    const id = /invitations\/([0-9a-f-]{36})\/resend/.exec(list.text)![1];
    const resent = await post(o.admin, `/admin/invitations/${id}/resend`, {}, "/admin/invitations");
    expect(resent.status).toBe(200);
    const second = claimLinkOf(resent.text);
    expect(second).not.toBe(link);
    expect(resent.text).toContain("The previous link no longer works.");
    expect((await request(app).get(new URL(link).pathname)).status).toBe(410);
    expect((await request(app).get(new URL(second).pathname)).status).toBe(200);
    expect((await get(o.admin, "/admin/invitations")).text).not.toContain(second);

    const revoked = await post(o.admin, `/admin/invitations/${id}/revoke`, {}, "/admin/invitations");
    expect(revoked.status).toBe(303);
    expect((await get(o.admin, revoked.headers.location)).text).toContain("Invitation revoked.");
    expect((await request(app).get(new URL(second).pathname)).status).toBe(410);
    expect((await get(o.admin, "/admin/invitations")).text).toContain("No pending invitations.");
    const tab = await get(o.admin, "/admin/invitations?status=revoked");
    expect(tab.text).toContain('data-invitation="new.hire@acme.test" data-status="revoked"');
    expect(tab.text).toMatch(/href="\/admin\/invitations\?status=revoked" aria-current="page"/);
    const again = await post(o.admin, `/admin/invitations/${id}/revoke`, {}, "/admin/invitations");
    expect(again.status).toBe(409);
    expect(again.text).toContain("this invitation is revoked");
  });

  it("an admin cannot invite an owner; a missing invitee or seat is said in words", async () => {
    const o = await orgWithPeople(0, { seats: { chat_code: 10, chat: 12 } });
    const owner = await post(
      o.admin,
      "/admin/invitations",
      { email: "boss@acme.test", seatType: "chat", role: "owner" },
      "/admin/invitations",
    );
    expect(owner.status).toBe(403);
    expect(owner.text).toContain("needs the owner role");
    expect(owner.text).toContain('value="boss@acme.test"'); // the form keeps what was typed
    const nobody = await post(
      o.admin,
      "/admin/invitations",
      { email: "", externalId: "", seatType: "chat" },
      "/admin/invitations",
    );
    expect(nobody.status).toBe(400);
    expect(nobody.text).toContain("Give an email or an external id.");
    expect((await o.api.get("invitations")).body.items).toEqual([]);
  });

  it("no seat available: owners get the purchase prompt, admins a clear message", async () => {
    const o = await orgWithPeople();
    const admin = await post(
      o.admin,
      "/admin/invitations",
      { email: "late@acme.test", seatType: "chat", role: "member" },
      "/admin/invitations",
    );
    expect(admin.status).toBe(409);
    expect(admin.text).toContain("No Chat seat is available");
    expect(admin.text).toContain("Ask an owner to buy 1 more");
    expect(admin.text).not.toContain("/admin/billing?");
    const owner = await post(
      o.owner,
      "/admin/invitations",
      { email: "late@acme.test", seatType: "chat", role: "member" },
      "/admin/invitations",
    );
    expect(owner.status).toBe(409);
    expect(owner.text).toContain('href="/admin/billing?seatType=chat&amp;quantity=1"');
    expect(owner.text).toContain("Buy 1 Chat seat");
  });

  it("shows an invitee's external id, metadata and the org name from outside as text, never markup", async () => {
    const evil = "<script>alert(1)</script>";
    const o = await orgWithPeople(0, { name: `Acme ${evil}`, seats: { chat_code: 10, chat: 12 } });
    const res = await o.api.post("invitations", { externalId: evil, seatType: "chat", metadata: { team: evil } });
    expect(res.status).toBe(201);
    const page = await get(o.admin, "/admin/invitations");
    expect(page.text).not.toContain("<script>alert");
    expect(page.text).toContain("&lt;script>alert(1)&lt;/script>");
    const claim = await request(app).get(new URL(res.body.claimUrl).pathname);
    expect(claim.status).toBe(200);
    expect(claim.text).not.toContain("<script>alert");
    expect(claim.text).toContain("Acme &lt;script>alert(1)&lt;/script>");
  });

  it("refuses invite, resend and revoke forms without the session's CSRF token or from another origin", async () => {
    const o = await orgWithPeople(0, { seats: { chat_code: 10, chat: 12 } });
    const inv = await o.api.post("invitations", { email: "x@acme.test", seatType: "chat" });
    const id = inv.body.id as string;
    const token = csrfOf((await get(o.admin, "/admin/invitations")).text);
    for (const [path, form, origin] of [
      ["/admin/invitations", { email: "y@acme.test", seatType: "chat" }, undefined],
      ["/admin/invitations", { email: "y@acme.test", seatType: "chat", _csrf: token }, "https://evil.example"],
      [`/admin/invitations/${id}/resend`, { _csrf: "forged" }, undefined],
      [`/admin/invitations/${id}/revoke`, {}, undefined],
      [`/admin/invitations/${id}/revoke`, { _csrf: token }, "https://evil.example"],
    ] as const) {
      const r = request(app).post(path).set("Cookie", o.admin).type("form");
      if (origin) r.set("Origin", origin);
      const res = await r.send(form);
      expect(res.status, path).toBe(403);
      expect(res.text).toContain("Nothing was changed");
    }
    const list = (await o.api.get("invitations")).body.items as { status: string; email: string }[];
    expect(list.map((i) => [i.email, i.status])).toEqual([["x@acme.test", "pending"]]);
    expect((await request(app).get(new URL(inv.body.claimUrl).pathname)).status).toBe(200); // not resent
  });
});

describe("claim page in the console's look", () => {
  it("GET changes nothing; the claim signs in and lands on /me with the seat; strict headers; one 410 for any bad link", async () => {
    const o = await orgWithPeople(0, { seats: { chat_code: 10, chat: 12 } });
    const inv = await o.api.post("invitations", { email: "claimer@acme.test", seatType: "chat" });
    const path = new URL(inv.body.claimUrl).pathname;
    for (let i = 0; i < 2; i++) {
      const page = await request(app).get(path);
      expect(page.status).toBe(200);
      expect(page.text).toContain('<link rel="stylesheet" href="/admin/assets/console.css"/>');
      expect(page.text).toContain("Claim seat");
      expect(page.text).not.toMatch(/<style|\sstyle="/);
      const csp = String(page.headers["content-security-policy"]);
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain("unsafe-inline");
      expect(page.headers["referrer-policy"]).toBe("strict-origin");
      expect(page.headers["cache-control"]).toBe("no-store");
      expect(page.headers["x-frame-options"]).toBe("DENY");
      expect(page.headers["set-cookie"]).toBeUndefined();
    }
    const memberId = inv.body.memberId as string;
    expect((await reload(tdb.db, o.created.orgId, memberId)).seatStatus).toBe("pending");
    const token = path.split("/claim/")[1];
    const forged = await request(app).post("/claim").set("Origin", "https://evil.example").type("form").send({ token });
    expect(forged.status).toBe(403);
    expect(forged.text).toContain("Open your claim link");
    expect(forged.text).toContain("/admin/assets/console.css");
    const claimed = await request(app).post("/claim").type("form").send({ token });
    expect(claimed.status).toBe(303);
    expect(claimed.headers.location).toBe("/me");
    const me = await request(app).get("/me").set("Cookie", sessionCookie(claimed));
    expect(me.text).toContain("Your seat: <strong>Chat</strong>");
    expect((await reload(tdb.db, o.created.orgId, memberId)).seatStatus).toBe("claimed");
    const used = await request(app).get(path);
    const bogus = await request(app).get(`/claim/claim_${"A".repeat(43)}`);
    for (const res of [used, bogus]) {
      expect(res.status).toBe(410);
      expect(res.text).toContain("This claim link is invalid, expired or already used.");
      expect(res.text).toContain("/admin/assets/console.css");
    }
  });
});
