// The admin console over HTTP: every page and action with each role, XSS, CSRF, headers, and sessions that end
// on the server (sign-out, deactivation). Real app, real database; pages are read as HTML.
import type { Express } from "express";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../src/app.js";
import { createSessionCodec } from "../../src/http/session.js";
import { createLogger } from "../../src/logger.js";
import type { ServiceDeps } from "../../src/services/context.js";
import { issueToken } from "../../src/services/tokens-service.js";
import { testApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { makeGroup, provision, reload, testDeps } from "../support/factories.js";
import { fixture as pemFixture, IDP_ENTITY_ID, IDP_SSO_URL } from "../support/test-idp.js";
import { adminClient, type CreatedOrgBody, createOrgViaApi, ownerIdOf, sessionCookie } from "./helpers.js";
import { USER_SCHEMA } from "./scim-helpers.js";

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

async function signInAs(orgId: string, memberId: string): Promise<string> {
  const link = await issueToken(deps, tdb.db, orgId, "sign_in", { memberId }, { actor: "test" });
  const res = await request(app).get(`/signin/${link.token}`);
  expect(res.status).toBe(303);
  return sessionCookie(res);
}

interface Org {
  created: CreatedOrgBody;
  ownerId: string;
  owner: string;
  admin: string;
  adminId: string;
  member: string;
  memberId: string;
}

/** An org with 2 + 2 seats, its primary owner, an admin and a member signed in. */
async function orgWithPeople(): Promise<Org> {
  const created = await createOrgViaApi(app, { seats: { chat_code: 10, chat: 10 } });
  const api = adminClient(app, created.orgId, created.ownerToken);
  const ownerId = await ownerIdOf(api);
  const adminMember = await provision(deps, created.orgId, {
    userName: `admin-${created.orgId.slice(0, 8)}@acme.test`,
  });
  expect((await api.patch(`members/${adminMember.id}`, { role: "admin" })).status).toBe(200);
  const plain = await provision(deps, created.orgId, { userName: `member-${created.orgId.slice(0, 8)}@acme.test` });
  return {
    created,
    ownerId,
    owner: await signInAs(created.orgId, ownerId),
    admin: await signInAs(created.orgId, adminMember.id),
    adminId: adminMember.id,
    member: await signInAs(created.orgId, plain.id),
    memberId: plain.id,
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

const PAGES = [
  "/admin",
  "/admin/members",
  "/admin/mappings",
  "/admin/invitations",
  "/admin/connections",
  "/admin/audit",
  "/admin/settings",
];

describe("signed out", () => {
  it("/admin shows the sign-in page (SSO by org id, the owner's link); other pages say to sign in", async () => {
    const res = await request(app).get("/admin");
    expect(res.status).toBe(200);
    expect(res.text).toContain("Sign in to the Roster console");
    expect(res.text).toContain('action="/admin/signin"');
    for (const page of PAGES.slice(1)) {
      const other = await request(app).get(page);
      expect(other.status).toBe(401);
      expect(other.text).toContain("Sign in to the Roster console");
    }
  });

  it("SSO sign-in goes to the org's SP-initiated login when SAML is set up, and says so when it is not", async () => {
    const { created, owner } = await orgWithPeople();
    const before = await request(app).get(`/admin/signin?org=${created.orgId}`);
    expect(before.status).toBe(404);
    expect(before.text).toContain("No organization with that id has SSO set up");
    const saved = await post(
      owner,
      "/admin/connections/saml",
      { idpEntityId: IDP_ENTITY_ID, ssoUrl: IDP_SSO_URL, certificate: pemFixture("idp-cert.pem") },
      "/admin/connections",
    );
    expect(saved.status).toBe(303);
    const after = await request(app).get(`/admin/signin?org=${created.orgId}`);
    expect(after.status).toBe(303);
    expect(after.headers.location).toBe(`/saml/${created.orgId}/login?returnTo=/admin`);
    const login = await request(app).get(after.headers.location);
    expect(login.status).toBe(302);
    expect(login.headers.location).toContain(IDP_SSO_URL);
  });
});

describe("security headers", () => {
  it("every page, /me and the assets carry a CSP without inline script or style, no framing, nosniff, a referrer policy", async () => {
    const { owner } = await orgWithPeople();
    for (const path of [...PAGES, "/me", "/admin/assets/console.css"]) {
      const res = await get(owner, path);
      expect(res.status, path).toBe(200);
      const csp = String(res.headers["content-security-policy"]);
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("style-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain("unsafe-inline");
      expect(res.headers["x-content-type-options"]).toBe("nosniff");
      expect(res.headers["x-frame-options"]).toBe("DENY");
      expect(res.headers["referrer-policy"]).toBe("same-origin");
    }
    const page = await get(owner, "/admin");
    expect(page.headers["cache-control"]).toBe("no-store");
    expect(page.text).not.toMatch(/<script(?![^>]*\bsrc=)/); // no inline script
    expect(page.text).not.toMatch(/<style|\sstyle="/);
    expect((await request(app).get("/me")).headers["content-security-policy"]).toContain("frame-ancestors 'none'");
  });

  it("the session cookie is Secure when PUBLIC_URL is https", async () => {
    const httpsApp = buildApp({
      ...testDeps(tdb.db),
      publicUrl: "https://roster.test",
      logger: createLogger("silent"),
      sessions: createSessionCodec("k"),
      operatorToken: null,
    });
    const created = await createOrgViaApi(app);
    const res = await request(httpsApp).get(new URL(created.ownerSignInUrl).pathname);
    const raw = String(res.headers["set-cookie"]);
    expect(raw).toMatch(/;\s*Secure/i);
    expect(raw).toMatch(/;\s*HttpOnly/i);
    expect(raw).toMatch(/;\s*SameSite=Lax/i);
  });
});

describe("roles", () => {
  it("a member gets no console: a 403 page that links to /me, for every page and every action", async () => {
    const o = await orgWithPeople();
    for (const page of PAGES) {
      const res = await get(o.member, page);
      expect(res.status, page).toBe(403);
      expect(res.text).toContain('href="/me"');
    }
    const me = await get(o.member, "/me");
    expect(me.status).toBe(200);
    const res = await request(app)
      .post(`/admin/members/${o.memberId}/seat`)
      .set("Cookie", o.member)
      .type("form")
      .send({ _csrf: csrfOf(me.text), seatType: "unassigned" });
    expect(res.status).toBe(403);
    expect((await reload(tdb.db, o.created.orgId, o.memberId)).seatType).toBe("chat_code");
  });

  it("an admin sees every page but no owner-only action; an owner also changes roles; only the primary owner transfers", async () => {
    const o = await orgWithPeople();
    for (const page of PAGES) expect((await get(o.admin, page)).status, page).toBe(200);
    const adminMembers = await get(o.admin, "/admin/members");
    expect(adminMembers.text).not.toContain("Change role");
    expect((await get(o.owner, "/admin/members")).text).toContain("Change role");
    expect((await get(o.admin, "/admin/settings")).text).not.toContain("Transfer ownership");
    expect((await get(o.owner, "/admin/settings")).text).toContain("Transfer ownership");

    const refused = await post(o.admin, `/admin/members/${o.memberId}/role`, { role: "admin" });
    expect(refused.status).toBe(403);
    expect(refused.text).toContain("needs the owner role");
    expect((await reload(tdb.db, o.created.orgId, o.memberId)).role).toBe("member");
    const transfer = await post(o.admin, "/admin/settings/ownership", { member: "x@y", confirm: "yes" });
    expect(transfer.status).toBe(403);

    const ok = await post(o.owner, `/admin/members/${o.memberId}/role`, { role: "admin" });
    expect(ok.status).toBe(303);
    expect((await reload(tdb.db, o.created.orgId, o.memberId)).role).toBe("admin");
  });
});

describe("overview", () => {
  it("shows used / held / free and waiting per type, Unassigned, and the owner's buy link or the admin's ask", async () => {
    const created = await createOrgViaApi(app, { seats: { chat_code: 10, chat: 10 } });
    const api = adminClient(app, created.orgId, created.ownerToken);
    const ownerId = await ownerIdOf(api);
    const owner = await signInAs(created.orgId, ownerId);
    const people = [];
    for (let i = 0; i < 22; i++) people.push(await provision(deps, created.orgId));
    const admin = people[0];
    await api.patch(`members/${admin.id}`, { role: "admin" });
    const page = await get(owner, "/admin");
    const section = (type: string) => page.text.split(`data-seat-type="${type}"`)[1].split("</section>")[0];
    expect(section("chat_code")).toMatch(/data-used="true">10</);
    expect(section("chat")).toMatch(/data-used="true">10</);
    expect(section("chat")).toMatch(/data-free="true">0</);
    expect(page.text).toMatch(/data-unassigned="true">3</); // 2 waiting + the owner
    expect(page.text).toContain("Buy 2 seats");
    expect(page.text).toContain('href="/admin/billing?quantity=2"');
    const adminPage = await get(await signInAs(created.orgId, admin.id), "/admin");
    expect(adminPage.text).not.toContain("Buy 2 seats");
    expect(adminPage.text).toContain("Ask an owner");
  });
});

describe("members", () => {
  it("searches and filters, says why each member holds their seat, and names the mapping", async () => {
    const o = await orgWithPeople();
    const eve = await provision(deps, o.created.orgId, { userName: "eve.searchable@acme.test" });
    const group = await makeGroup(tdb.db, o.created.orgId, "Design", [eve.id]);
    expect(group).toBeTruthy();
    const saved = await post(o.owner, "/admin/mappings", {
      rows: "1",
      group_0: "Design",
      seatType_0: "chat",
      role_0: "",
      priority_0: "10",
    });
    expect(saved.status).toBe(303);
    const found = await get(o.admin, "/admin/members?q=searchable");
    expect(found.status).toBe(200);
    expect(found.text).toContain("eve.searchable@acme.test");
    expect(found.text).not.toContain(`member-${o.created.orgId.slice(0, 8)}`);
    expect(found.text).toContain("From group mapping “Design”");
    const byReason = await get(o.admin, "/admin/members?reason=mapping");
    expect(byReason.text).toContain("eve.searchable@acme.test");
    const byRole = await get(o.admin, "/admin/members?role=admin");
    expect(byRole.text).toContain(`admin-${o.created.orgId.slice(0, 8)}`);
    expect(byRole.text).not.toContain("eve.searchable");
    const bySource = await get(o.admin, "/admin/members?source=operator");
    expect(bySource.text).not.toContain("eve.searchable");
    expect((await get(o.admin, "/admin/members?q=searchable&seatType=chat")).text).toContain("eve.searchable");
    expect((await get(o.admin, "/admin/members?q=searchable&seatType=chat_code")).text).toContain("No member matches");
  });

  it("pages with a keyset cursor", async () => {
    const created = await createOrgViaApi(app, { seats: { chat_code: 10, chat: 10 } });
    const owner = await signInAs(created.orgId, await ownerIdOf(adminClient(app, created.orgId, created.ownerToken)));
    for (let i = 0; i < 55; i++) await provision(deps, created.orgId, { userName: `p${i}@page.test` });
    const first = await get(owner, "/admin/members");
    const next = /href="(\/admin\/members\?cursor=[^"]+)"/.exec(first.text)?.[1];
    expect(next).toBeTruthy();
    const second = await get(owner, next!.replace(/&amp;/g, "&"));
    expect(second.status).toBe(200);
    const rows = (html: string) => [...html.matchAll(/data-member="([^"]+)"/g)].map((m) => m[1]);
    expect(rows(first.text)).toHaveLength(50);
    expect(rows(second.text)).toHaveLength(6); // 55 + the owner
    expect(new Set([...rows(first.text), ...rows(second.text)]).size).toBe(56);
  });

  it("unassigns, reassigns, sets back to automatic and swaps; no free seat is a clear message (admin) or a buy link (owner)", async () => {
    const created = await createOrgViaApi(app, { seats: { chat_code: 10, chat: 10 } });
    const api = adminClient(app, created.orgId, created.ownerToken);
    const owner = await signInAs(created.orgId, await ownerIdOf(api));
    const people = [];
    for (let i = 0; i < 20; i++) people.push(await provision(deps, created.orgId));
    const [a, b] = [people[0], people[15]]; // a: chat_code, b: chat
    await api.patch(`members/${a.id}`, { role: "admin" });
    const admin = await signInAs(created.orgId, a.id);

    const full = await post(admin, `/admin/members/${b.id}/seat`, { seatType: "chat_code" });
    expect(full.status).toBe(409);
    expect(full.text).toContain("No Chat + Claude Code seat is available");
    expect(full.text).toContain("Ask an owner");
    const ownerFull = await post(owner, `/admin/members/${b.id}/seat`, { seatType: "chat_code" });
    expect(ownerFull.status).toBe(409);
    expect(ownerFull.text).toContain('href="/admin/billing?seatType=chat_code&amp;quantity=1"');
    expect((await reload(tdb.db, created.orgId, b.id)).seatType).toBe("chat");

    const un = await post(admin, `/admin/members/${people[1].id}/seat`, { seatType: "unassigned" });
    expect(un.status).toBe(303);
    expect(un.headers.location).toContain("done=seat");
    expect((await reload(tdb.db, created.orgId, people[1].id)).seatType).toBeNull();
    const moved = await post(admin, `/admin/members/${b.id}/seat`, { seatType: "chat_code" });
    expect(moved.status).toBe(303);
    expect((await get(admin, moved.headers.location)).text).toContain("Seat changed.");
    expect((await reload(tdb.db, created.orgId, b.id)).seatType).toBe("chat_code");
    expect((await reload(tdb.db, created.orgId, b.id)).seatReason).toBe("manual");
    const auto = await post(admin, `/admin/members/${b.id}/seat`, { seatType: "auto" });
    expect(auto.status).toBe(303);
    expect((await reload(tdb.db, created.orgId, b.id)).seatSource).toBe("auto");

    const c = people[2];
    const d = people[16];
    const swapped = await post(admin, `/admin/members/${c.id}/swap`, { with: d.userName });
    expect(swapped.status).toBe(303);
    expect((await reload(tdb.db, created.orgId, c.id)).seatType).toBe("chat");
    expect((await reload(tdb.db, created.orgId, d.id)).seatType).toBe("chat_code");
    const nobody = await post(admin, `/admin/members/${c.id}/swap`, { with: "nobody@nowhere.test" });
    expect(nobody.status).toBe(404);
    expect(nobody.text).toContain("nobody@nowhere.test");
  });

  it("renders a displayName pushed by SCIM as text, never as markup", async () => {
    const o = await orgWithPeople();
    const evil = "<img src=x onerror=alert(1)>";
    const res = await request(app)
      .post("/scim/v2/Users")
      .set("Authorization", `Bearer ${o.created.scimToken}`)
      .send({ schemas: [USER_SCHEMA], userName: "xss@acme.test", displayName: evil, active: true });
    expect(res.status).toBe(201);
    const page = await get(o.admin, "/admin/members?q=xss");
    expect(page.text).toContain("<strong>&lt;img src=x onerror=alert(1)></strong>");
    expect(page.text).not.toContain("<img");
    const audit = await get(o.admin, "/admin/audit");
    expect(audit.text).not.toContain("<img");
  });
});

describe("CSRF", () => {
  it("refuses a POST without a token, with a wrong one, with another session's, or from another origin, and changes nothing", async () => {
    const o = await orgWithPeople();
    const other = await orgWithPeople();
    const page = await get(o.admin, "/admin/members");
    const token = csrfOf(page.text);
    const send = (body: Record<string, string>, origin?: string) => {
      const r = request(app).post(`/admin/members/${o.memberId}/seat`).set("Cookie", o.admin).type("form");
      if (origin) r.set("Origin", origin);
      return r.send(body);
    };
    const otherToken = csrfOf((await get(other.admin, "/admin")).text);
    for (const [body, origin] of [
      [{ seatType: "unassigned" }, undefined],
      [{ seatType: "unassigned", _csrf: "forged" }, undefined],
      [{ seatType: "unassigned", _csrf: otherToken }, undefined],
      [{ seatType: "unassigned", _csrf: token }, "https://evil.example"],
    ] as const) {
      const res = await send(body, origin);
      expect(res.status).toBe(403);
      expect(res.text).toContain("Nothing was changed");
    }
    expect((await reload(tdb.db, o.created.orgId, o.memberId)).seatType).toBe("chat_code");
    const ok = await send({ seatType: "unassigned", _csrf: token }, "http://roster.test");
    expect(ok.status).toBe(303);
    expect((await reload(tdb.db, o.created.orgId, o.memberId)).seatType).toBeNull();
  });
});

describe("group mappings", () => {
  it("previews who would change without changing anyone, then saves; an admin cannot give the owner role", async () => {
    const o = await orgWithPeople();
    const eng = await provision(deps, o.created.orgId, { userName: "dev@acme.test", displayName: "Dev One" });
    await makeGroup(tdb.db, o.created.orgId, "Engineering", [eng.id]);
    const page = await get(o.admin, "/admin/mappings");
    expect(page.text).toContain('<option value="Engineering">');
    expect(page.text).not.toContain("Save these rules");
    const form = { rows: "1", group_0: "Engineering", seatType_0: "chat", role_0: "admin", priority_0: "5" };
    const preview = await post(o.admin, "/admin/mappings/preview", form);
    expect(preview.status).toBe(200);
    expect(preview.text).toContain("Saving would change 1 of");
    expect(preview.text).toContain("Dev One");
    expect(preview.text).toContain("Save these rules");
    expect((await reload(tdb.db, o.created.orgId, eng.id)).seatType).toBe("chat_code");
    const saved = await post(o.admin, "/admin/mappings", form);
    expect(saved.status).toBe(303);
    const after = await reload(tdb.db, o.created.orgId, eng.id);
    expect(after.seatType).toBe("chat");
    expect(after.role).toBe("admin");
    expect((await get(o.admin, "/admin/mappings")).text).toContain('value="Engineering"');

    const owner = await post(o.admin, "/admin/mappings", { ...form, role_0: "owner" });
    expect(owner.status).toBe(403);
    expect((await reload(tdb.db, o.created.orgId, eng.id)).role).toBe("admin");
    const bad = await post(o.admin, "/admin/mappings/preview", { ...form, seatType_0: "nope" });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain("has no seat type");
  });
});

describe("connections", () => {
  it("creates a SCIM token shown once, lists it with last use, and revokes it", async () => {
    const o = await orgWithPeople();
    const created = await post(o.admin, "/admin/connections/scim-tokens", { name: "okta-2026" }, "/admin/connections");
    expect(created.status).toBe(201);
    const token = /id="new-token">([^<]+)</.exec(created.text)?.[1]?.trim();
    expect(token).toMatch(/^rst_scim_/);
    expect(created.text).toContain("http://roster.test/scim/v2");
    const used = await request(app).get("/scim/v2/Users").set("Authorization", `Bearer ${token}`);
    expect(used.status).toBe(200);
    const list = await get(o.admin, "/admin/connections");
    expect(list.text).not.toContain(token!);
    expect(list.text).toContain("okta-2026");
    const row = list.text.split('data-token="okta-2026"')[1].split("</tr>")[0];
    expect(row).not.toContain("never");
    const id = /scim-tokens\/([0-9a-f-]{36})\/revoke/.exec(row)?.[1];
    const revoked = await post(o.admin, `/admin/connections/scim-tokens/${id}/revoke`, {}, "/admin/connections");
    expect(revoked.status).toBe(303);
    expect((await request(app).get("/scim/v2/Users").set("Authorization", `Bearer ${token}`)).status).toBe(401);
  });

  it("sets up SAML from fields and shows the values to paste and a test sign-in link; bad input is a message", async () => {
    const o = await orgWithPeople();
    const page = await get(o.admin, "/admin/connections");
    expect(page.text).toContain(`http://roster.test/saml/${o.created.orgId}/acs`);
    expect(page.text).toContain("Not set up yet");
    const bad = await post(o.admin, "/admin/connections/saml", { metadataXml: "<nope" }, "/admin/connections");
    expect(bad.status).toBe(400);
    const ok = await post(
      o.admin,
      "/admin/connections/saml",
      {
        idpEntityId: IDP_ENTITY_ID,
        ssoUrl: IDP_SSO_URL,
        certificate: pemFixture("idp-cert.pem"),
        allowIdpInitiated: "yes",
      },
      "/admin/connections",
    );
    expect(ok.status).toBe(303);
    const after = await get(o.admin, "/admin/connections?done=saml");
    expect(after.text).toContain("SAML settings saved");
    expect(after.text).toContain(IDP_ENTITY_ID);
    expect(after.text).toContain(`href="/saml/${o.created.orgId}/login?returnTo=/admin/connections"`);
  });
});

describe("audit log", () => {
  it("filters by action, member, actor and date, and shows before and after", async () => {
    const o = await orgWithPeople();
    await post(o.admin, `/admin/members/${o.memberId}/seat`, { seatType: "chat" });
    const byAction = await get(o.admin, "/admin/audit?action=seat.changed");
    expect(byAction.text).toContain('data-action="seat.changed"');
    expect(byAction.text).not.toContain('data-action="member.created"');
    expect(byAction.text).toContain('<span class="muted">seatType</span> chat<');
    expect(byAction.text).toContain('<span class="muted">seatType</span> chat_code<');
    const byMember = await get(o.admin, `/admin/audit?member=member-${o.created.orgId.slice(0, 8)}@acme.test`);
    expect(byMember.text).toContain('data-action="seat.changed"');
    expect(byMember.text).not.toContain('data-action="org.created"');
    const byActor = await get(o.admin, `/admin/audit?actor=admin:${o.adminId}`);
    expect(byActor.text).toContain('data-action="seat.changed"');
    expect(byActor.text).not.toContain('data-action="member.created"');
    const future = await get(o.admin, "/admin/audit?from=2999-01-01");
    expect(future.text).toContain("No event matches");
    const today = new Date().toISOString().slice(0, 10);
    expect((await get(o.admin, `/admin/audit?from=${today}&to=${today}`)).text).toContain('data-action="seat.changed"');
    const unknown = await get(o.admin, "/admin/audit?member=ghost@nowhere.test");
    expect(unknown.text).toContain("No member has the email");
  });
});

describe("settings and ownership", () => {
  it("an admin changes the seat rules; the primary owner transfers ownership", async () => {
    const o = await orgWithPeople();
    const saved = await post(o.admin, "/admin/settings", {
      manualHoldMinutes: "30",
      mappedTypeExhausted: "next_available",
    });
    expect(saved.status).toBe(303);
    const page = await get(o.admin, "/admin/settings?done=settings");
    expect(page.text).toContain('value="30"');
    const bad = await post(o.admin, "/admin/settings", { manualHoldMinutes: "-1", mappedTypeExhausted: "unassigned" });
    expect(bad.status).toBe(400);
    const unconfirmed = await post(o.owner, "/admin/settings/ownership", {
      member: `admin-${o.created.orgId.slice(0, 8)}@acme.test`,
    });
    expect(unconfirmed.status).toBe(400);
    const moved = await post(o.owner, "/admin/settings/ownership", {
      member: `admin-${o.created.orgId.slice(0, 8)}@acme.test`,
      confirm: "yes",
    });
    expect(moved.status).toBe(303);
    expect((await reload(tdb.db, o.created.orgId, o.adminId)).role).toBe("primary_owner");
    expect((await reload(tdb.db, o.created.orgId, o.ownerId)).role).toBe("owner");
  });
});

describe("sessions end on the server", () => {
  it("sign-out ends the session: the old cookie is refused everywhere", async () => {
    const o = await orgWithPeople();
    const out = await post(o.admin, "/admin/signout", {});
    expect(out.status).toBe(303);
    expect(String(out.headers["set-cookie"])).toMatch(/roster_session=;/);
    expect((await get(o.admin, "/admin/members")).status).toBe(401);
    expect((await get(o.admin, "/api/v1/me")).status).toBe(401);
    expect((await get(o.admin, `/api/v1/orgs/${o.created.orgId}/members`)).status).toBe(401);
  });

  it("deactivation ends the member's sessions, and reactivation does not bring them back", async () => {
    const o = await orgWithPeople();
    const created = await request(app)
      .post("/scim/v2/Users")
      .set("Authorization", `Bearer ${o.created.scimToken}`)
      .send({ schemas: [USER_SCHEMA], userName: "leaver@acme.test", active: true });
    expect(created.status).toBe(201);
    const leaverId = created.body.id as string;
    await adminClient(app, o.created.orgId, o.created.ownerToken).patch(`members/${leaverId}`, { role: "admin" });
    const leaver = await signInAs(o.created.orgId, leaverId);
    expect((await get(leaver, "/admin")).status).toBe(200);
    const scim = (active: boolean) =>
      request(app)
        .patch(`/scim/v2/Users/${leaverId}`)
        .set("Authorization", `Bearer ${o.created.scimToken}`)
        .send({
          schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
          Operations: [{ op: "replace", value: { active } }],
        });
    expect([200, 204]).toContain((await scim(false)).status);
    expect((await get(leaver, "/admin")).text).toContain("Sign in to the Roster console");
    expect([200, 204]).toContain((await scim(true)).status);
    expect((await get(leaver, "/admin")).text).toContain("Sign in to the Roster console");
    expect((await get(leaver, "/api/v1/me")).status).toBe(401);
    expect((await get(o.admin, "/admin")).status).toBe(200); // others' sessions live on
  });
});
