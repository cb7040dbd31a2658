import type { Express } from "express";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServiceDeps } from "../../src/services/context.js";
import { issueToken } from "../../src/services/tokens-service.js";
import { testApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { makeGroup, provision, testDeps } from "../support/factories.js";
import { adminClient, createOrgViaApi, ownerIdOf, path, sessionCookie } from "./helpers.js";

let tdb: TestDatabase;
let app: Express;
let deps: ServiceDeps;

beforeAll(async () => {
  tdb = await createTestDatabase();
  app = testApp(tdb.db);
  deps = testDeps(tdb.db);
});
afterAll(async () => tdb?.destroy());

function signInPath(url: string): string {
  const u = new URL(url);
  expect(u.origin).toBe("http://roster.test");
  return u.pathname;
}

/** Follows a sign-in link and returns the roster_session cookie ("roster_session=…"). */
async function signIn(target: Express, url: string): Promise<string> {
  const res = await request(target).get(signInPath(url));
  expect(res.status).toBe(303);
  return sessionCookie(res);
}

function withCookie(cookie: string, rest: string, orgId: string) {
  return request(app).get(path(orgId, rest)).set("Cookie", cookie);
}

describe("health, readiness, metrics and unknown paths", () => {
  it("GET /healthz answers 200", async () => {
    const res = await request(app).get("/healthz");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "ok" });
  });

  it("GET /readyz answers 200 while the database is reachable", async () => {
    const res = await request(app).get("/readyz");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "ready" });
  });

  it("GET /metrics is Prometheus text with request durations by route, never raw paths or tokens", async () => {
    const created = await createOrgViaApi(app);
    await request(app).get("/healthz");
    await request(app).get(signInPath(created.ownerSignInUrl));
    await adminClient(app, created.orgId, created.ownerToken).get("seats");
    const res = await request(app).get("/metrics");
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/plain/);
    expect(res.text).toContain("# TYPE roster_http_request_duration_seconds histogram");
    expect(res.text).toMatch(
      /roster_http_request_duration_seconds_count\{[^}]*route="\/healthz"[^}]*status="200"[^}]*\} \d+/,
    );
    expect(res.text).toContain("process_cpu_user_seconds_total");
    const token = new URL(created.ownerSignInUrl).pathname.split("/").pop() as string;
    expect(res.text).not.toContain(token);
    // Org ids appear only as the org_id label of the seat gauges, never in a route.
    const routes = [...res.text.matchAll(/route="([^"]*)"/g)].map((m) => m[1]);
    expect(routes.some((r) => r.includes(created.orgId))).toBe(false);
    for (const line of res.text.split("\n").filter((l) => l.includes(created.orgId)))
      expect(line).toMatch(/^roster_seats\{/);
    expect(res.text).toMatch(/route="\/api\/v1\/orgs\/:orgId\/seats",status="200"/);
  });

  it("answers unknown /api paths with a 404 JSON error", async () => {
    for (const [method, url] of [
      ["get", "/api/v1/nope"],
      ["post", "/api/v1/nope"],
      ["get", "/api"],
      ["get", "/api/v2/orgs"],
      ["get", "/api/v1/orgs"],
    ] as const) {
      const res = await request(app)[method](url);
      expect(res.status, `${method} ${url}`).toBe(404);
      expect(res.headers["content-type"]).toMatch(/application\/json/);
      expect(res.body).toEqual({ error: "not_found", message: expect.any(String) });
    }
    const other = await request(app).get("/no/such/page");
    expect(other.status).toBe(404);
    expect(other.body.error).toBe("not_found");
  });

  it("answers an unknown admin path with a 404 JSON error once authenticated", async () => {
    const created = await createOrgViaApi(app);
    const res = await adminClient(app, created.orgId, created.ownerToken).get("no-such-thing");
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: "not_found", message: expect.any(String) });
  });

  it("echoes a sane X-Request-Id and makes one up otherwise", async () => {
    expect((await request(app).get("/healthz").set("X-Request-Id", "abc-123")).headers["x-request-id"]).toBe("abc-123");
    const made = (await request(app).get("/healthz").set("X-Request-Id", "bad id\twith spaces")).headers[
      "x-request-id"
    ];
    expect(made).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("sign-in links and the session", () => {
  it("redirects 303 to the console with an HttpOnly roster_session cookie", async () => {
    const created = await createOrgViaApi(app);
    const res = await request(app).get(signInPath(created.ownerSignInUrl));
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe("/admin");
    const raw = (res.headers["set-cookie"] as unknown as string[]).find((c) =>
      c.startsWith("roster_session="),
    ) as string;
    expect(raw).toMatch(/;\s*HttpOnly/i);
    expect(raw).toMatch(/;\s*SameSite=Lax/i);
    expect(raw).toMatch(/;\s*Path=\//i);
    expect(raw).not.toMatch(/;\s*Secure/i); // PUBLIC_URL is http here
  });

  it("GET /api/v1/me tells who is signed in", async () => {
    const created = await createOrgViaApi(app, { name: "Initech" });
    const cookie = await signIn(app, created.ownerSignInUrl);
    const res = await request(app).get("/api/v1/me").set("Cookie", cookie);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      email: "owner@initech.example.com",
      orgId: created.orgId,
      role: "primary_owner",
      seatType: "unassigned",
      seatStatus: "unassigned",
      groups: [],
    });
    const page = await request(app).get("/me").set("Cookie", cookie);
    expect(page.status).toBe(200);
    expect(page.headers["content-type"]).toMatch(/text\/html/);
    expect(page.text).toContain("Initech");
    expect(page.text).toContain("owner@initech.example.com");
  });

  it("GET /api/v1/me shows a member's seat and groups (SCIM groups and SAML groups)", async () => {
    const created = await createOrgViaApi(app);
    const m = await provision(deps, created.orgId, { userName: "eve@acme.test", idpGroups: ["Design"] });
    await makeGroup(tdb.db, created.orgId, "Engineering", [m.id]);
    const link = await issueToken(deps, tdb.db, created.orgId, "sign_in", { memberId: m.id }, { actor: "test" });
    const cookie = await signIn(app, `http://roster.test/signin/${link.token}`);
    const res = await request(app).get("/api/v1/me").set("Cookie", cookie);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      email: "eve@acme.test",
      orgId: created.orgId,
      role: "member",
      seatType: "chat_code",
      seatStatus: "claimed",
      groups: ["Engineering", "Design"],
    });
    // A member's session does not open the admin API.
    const admin = await withCookie(cookie, "members", created.orgId);
    expect(admin.status).toBe(403);
    expect(admin.body.requiredRole).toBe("admin");
    const page = await request(app).get("/me").set("Cookie", cookie);
    expect(page.text).toContain("Chat + Claude Code");
  });

  it("works only once: the second use answers 401", async () => {
    const created = await createOrgViaApi(app);
    await signIn(app, created.ownerSignInUrl);
    const again = await request(app).get(signInPath(created.ownerSignInUrl));
    expect(again.status).toBe(401);
    expect(again.headers["set-cookie"]).toBeUndefined();
  });

  it("answers 401 for unknown and malformed sign-in links", async () => {
    for (const token of ["rst_signin_nope", "garbage", "rst_admin_x", "x".repeat(300)]) {
      const res = await request(app).get(`/signin/${token}`);
      expect(res.status, token).toBe(401);
      expect(res.headers["set-cookie"]).toBeUndefined();
    }
  });

  it("the session cookie authenticates the admin API, for its own org only", async () => {
    const created = await createOrgViaApi(app);
    const other = await createOrgViaApi(app);
    const cookie = await signIn(app, created.ownerSignInUrl);
    const seats = await withCookie(cookie, "seats", created.orgId);
    expect(seats.status).toBe(200);
    expect(seats.body.plan).toBe("enterprise_usage");
    const m = await provision(deps, created.orgId);
    const patch = await request(app)
      .patch(path(created.orgId, `members/${m.id}`))
      .set("Cookie", cookie)
      .send({ seatType: "chat" });
    expect(patch.status).toBe(200);
    const owner = adminClient(app, created.orgId, created.ownerToken);
    const audit = await owner.get(`audit-events?memberId=${m.id}&action=seat.changed`);
    expect(audit.body.items[0].actor).toBe(`admin:${await ownerIdOf(owner)}`);
    expect((await withCookie(cookie, "seats", other.orgId)).status).toBe(403);
  });

  it("refuses a tampered or malformed cookie", async () => {
    const created = await createOrgViaApi(app);
    const m = await provision(deps, created.orgId);
    const cookie = await signIn(app, created.ownerSignInUrl);
    const value = decodeURIComponent(cookie.slice("roster_session=".length));
    const [payload, signature] = value.split(".");
    const session = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    expect(session).toMatchObject({ orgId: created.orgId, expiresAt: expect.any(Number) });

    const forgedPayload = Buffer.from(
      JSON.stringify({ ...session, memberId: m.id, expiresAt: session.expiresAt + 1e9 }),
    ).toString("base64url");
    const flipped = signature.slice(0, -1) + (signature.endsWith("A") ? "B" : "A");
    const bad = [
      `roster_session=${forgedPayload}.${signature}`,
      `roster_session=${payload}.${flipped}`,
      `roster_session=${payload}`,
      `roster_session=${payload}.`,
      `roster_session=.${signature}`,
      "roster_session=",
      "roster_session=%E0%A4%A", // not valid percent-encoding
    ];
    for (const c of bad) {
      const me = await request(app).get("/api/v1/me").set("Cookie", c);
      expect(me.status, c).toBe(401);
      expect(me.body.error).toBe("unauthorized");
      const admin = await withCookie(c, "seats", created.orgId);
      expect(admin.status, c).toBe(401);
      const page = await request(app).get("/me").set("Cookie", c);
      expect(page.status, c).toBe(401);
    }
    // The genuine one still works, also among other cookies.
    expect((await request(app).get("/api/v1/me").set("Cookie", `a=b; ${cookie}; c=d`)).status).toBe(200);
  });

  it("GET /api/v1/me and /me answer 401 without a session", async () => {
    const res = await request(app).get("/api/v1/me");
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: "unauthorized", message: expect.any(String) });
    const page = await request(app).get("/me");
    expect(page.status).toBe(401);
    expect(page.headers["content-type"]).toMatch(/text\/html/);
  });

  it("POST /signout clears the cookie", async () => {
    const res = await request(app).post("/signout");
    expect(res.status).toBe(204);
    const raw = (res.headers["set-cookie"] as unknown as string[]).find((c) =>
      c.startsWith("roster_session="),
    ) as string;
    expect(raw).toMatch(/Expires=Thu, 01 Jan 1970/);
  });

  it("sessions expire after 8 hours and sign-in links after 24", async () => {
    const clock = { now: new Date("2030-01-01T09:00:00Z") };
    const timed = testApp(tdb.db, { now: () => clock.now });
    const created = await createOrgViaApi(timed);
    const cookie = await signIn(timed, created.ownerSignInUrl);
    clock.now = new Date("2030-01-01T16:59:00Z");
    expect((await request(timed).get("/api/v1/me").set("Cookie", cookie)).status).toBe(200);
    clock.now = new Date("2030-01-01T17:01:00Z");
    expect((await request(timed).get("/api/v1/me").set("Cookie", cookie)).status).toBe(401);
    expect((await request(timed).get(path(created.orgId, "seats")).set("Cookie", cookie)).status).toBe(401);

    clock.now = new Date("2030-02-01T09:00:00Z");
    const late = await createOrgViaApi(timed);
    clock.now = new Date("2030-02-02T09:01:00Z");
    expect((await request(timed).get(signInPath(late.ownerSignInUrl))).status).toBe(401);
  });
});
