// Invitations (DOMAIN §5) over HTTP on the real database: the admin API for each role and every refusal,
// the claim page that changes nothing, the one-shot claim (JSON and form) that signs the person in,
// resend killing the old link, revoke and expiry giving the seat to the longest waiter, and the page
// rendering hostile names as text.
import type { Express } from "express";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServiceDeps } from "../../src/services/context.js";
import { expireInvitations } from "../../src/services/invitations-service.js";
import { testApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { provision, reload, setPurchased, testDeps } from "../support/factories.js";
import { expectInvariants } from "../support/seat-invariants.js";
import {
  type AdminClient,
  adminClient,
  adminTokenFor,
  createOrgViaApi,
  MISSING_ID,
  ownerIdOf,
  sessionCookie,
} from "./helpers.js";

let tdb: TestDatabase;
let app: Express;
let deps: ServiceDeps;
// One clock for the app and the expiry job; tests move it forward by hand.
let clockMs = Date.parse("2026-06-01T09:00:00Z");
const now = () => new Date(clockMs);

beforeAll(async () => {
  tdb = await createTestDatabase();
  app = testApp(tdb.db, { now });
  deps = testDeps(tdb.db, now);
});
afterAll(async () => tdb?.destroy());

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

async function memberWithRole(f: Fixture, role: "owner" | "admin" | "member") {
  const m = await provision(deps, f.orgId);
  if (role !== "member") expect((await f.owner.patch(`members/${m.id}`, { role })).status).toBe(200);
  return { id: m.id, client: adminClient(app, f.orgId, await adminTokenFor(f.owner, m.id)) };
}

function tokenOf(claimUrl: string): string {
  return claimUrl.split("/claim/")[1];
}

const claim = (token: unknown) => request(app).post("/api/v1/claim").send({ token });

async function seatsOf(f: Fixture, type: string) {
  const res = await f.owner.get("seats");
  return res.body.seatTypes.find((s: { type: string }) => s.type === type);
}

async function actions(orgId: string, prefix: string): Promise<string[]> {
  const rows = await tdb
    .db("audit_events")
    .where({ org_id: orgId })
    .where("action", "like", `${prefix}%`)
    .orderBy("id");
  return rows.map((r) => r.action);
}

/** A full org: the last chat_code seat goes to an invitation, chat to A, and B waits for any type. */
async function fullOrgWithWaiter() {
  const f = await newOrg();
  await setPurchased(tdb.db, f.orgId, "chat_code", 2);
  await setPurchased(tdb.db, f.orgId, "chat", 1);
  // The owner took no seat; fill chat_code with one member so the invitation takes the last one.
  await provision(deps, f.orgId);
  const inv = await f.owner.post("invitations", { email: "pat@example.com", seatType: "chat_code" });
  expect(inv.status).toBe(201);
  const a = await provision(deps, f.orgId);
  clockMs += 1000;
  const b = await provision(deps, f.orgId);
  expect(a.seatType).toBe("chat");
  expect(b.waitingFor).toBe("any");
  return { f, inv: inv.body, b };
}

describe("POST invitations", () => {
  it("creates a pending seat that counts toward capacity and shows the link once", async () => {
    const f = await newOrg();
    const before = await seatsOf(f, "chat_code");
    const res = await f.owner.post("invitations", {
      email: "Ada@Example.com",
      seatType: "chat_code",
      metadata: { team: "research", level: 3 },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      id: expect.any(String),
      status: "pending",
      memberId: expect.any(String),
      seatType: "chat_code",
      expiresAt: new Date(clockMs + 24 * 3600_000).toISOString(),
      claimUrl: expect.stringMatching(/^http:\/\/roster\.test\/claim\/claim_[A-Za-z0-9_-]{43}$/),
      metadata: { team: "research", level: 3 },
    });
    expect((await seatsOf(f, "chat_code")).used).toBe(before.used + 1);
    const member = (await f.owner.get(`members/${res.body.memberId}`)).body;
    expect(member).toMatchObject({ seatType: "chat_code", seatStatus: "pending", source: "invitation" });
    expect(member.email).toBe("Ada@Example.com");

    // Only the digest is stored; the outbox keeps the link sealed, never in clear.
    const token = tokenOf(res.body.claimUrl);
    const row = await tdb.db("invitations").where({ org_id: f.orgId, id: res.body.id }).first();
    expect(JSON.stringify(row)).not.toContain(token);
    const outbox = await tdb.db("outbox").where({ org_id: f.orgId });
    expect(JSON.stringify(outbox)).not.toContain(token);
    expect(outbox.filter((o) => o.channel === "mail" && o.topic === "invitation")).toHaveLength(1);
    expect(outbox.filter((o) => o.topic === "invitation.created")).toHaveLength(1);
    expect(await actions(f.orgId, "invitation.")).toEqual(["invitation.created"]);
    // Listing never shows the link again.
    const list = await f.owner.get("invitations");
    expect(list.body.items).toHaveLength(1);
    expect(list.body.items[0].claimUrl).toBeUndefined();
    await expectInvariants(tdb.db, f.orgId);
  });

  it("invites by externalId alone (no mail is queued: the admin copies the link)", async () => {
    const f = await newOrg();
    const res = await f.owner.post("invitations", { externalId: "emp-42", seatType: "chat" });
    expect(res.status).toBe(201);
    expect((await f.owner.get(`members/${res.body.memberId}`)).body.externalId).toBe("emp-42");
    expect(await tdb.db("outbox").where({ org_id: f.orgId, channel: "mail" })).toHaveLength(0);
  });

  it("answers 409 no_seat_available with what to buy when the type is full", async () => {
    const f = await newOrg();
    await setPurchased(tdb.db, f.orgId, "chat_code", 1);
    expect((await f.owner.post("invitations", { email: "a@example.com", seatType: "chat_code" })).status).toBe(201);
    const res = await f.owner.post("invitations", { email: "b@example.com", seatType: "chat_code" });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ error: "no_seat_available", seatType: "chat_code", purchaseRequired: 1 });
    // Nothing was left behind: no second member, no invitation.
    expect((await f.owner.get("members?q=b@example.com")).body.items).toHaveLength(0);
    expect((await f.owner.get("invitations")).body.items).toHaveLength(1);
    await expectInvariants(tdb.db, f.orgId);
  });

  it("may take a seat held for admins while others wait (DOMAIN §3.4)", async () => {
    const f = await newOrg();
    await setPurchased(tdb.db, f.orgId, "chat_code", 1);
    await setPurchased(tdb.db, f.orgId, "chat", 0);
    const a = await provision(deps, f.orgId);
    const waiter = await provision(deps, f.orgId);
    expect(waiter.waitingFor).toBe("any");
    expect((await f.owner.patch(`members/${a.id}`, { seatType: "unassigned" })).status).toBe(200);
    expect((await seatsOf(f, "chat_code")).held).toBe(1);
    const res = await f.owner.post("invitations", { email: "held@example.com", seatType: "chat_code" });
    expect(res.status).toBe(201);
    expect((await seatsOf(f, "chat_code")).held).toBe(0);
    expect((await reload(tdb.db, f.orgId, waiter.id)).waitingFor).toBe("any");
    await expectInvariants(tdb.db, f.orgId);
  });

  it("lets nobody grant more than they have, and never primary_owner", async () => {
    const f = await newOrg();
    const admin = await memberWithRole(f, "admin");
    const owner = await memberWithRole(f, "owner");
    const member = await memberWithRole(f, "member");

    const byMember = await member.client.post("invitations", { email: "m@example.com", seatType: "chat" });
    expect(byMember.status).toBe(403);
    expect(byMember.body.message).toContain("admin");
    expect((await member.client.get("invitations")).status).toBe(403);

    const adminAsOwner = await admin.client.post("invitations", {
      email: "o@example.com",
      seatType: "chat",
      role: "owner",
    });
    expect(adminAsOwner.status).toBe(403);
    expect(adminAsOwner.body).toMatchObject({ error: "forbidden", requiredRole: "owner" });
    const adminAsAdmin = await admin.client.post("invitations", {
      email: "a@example.com",
      seatType: "chat",
      role: "admin",
    });
    expect(adminAsAdmin.status).toBe(201);
    expect((await f.owner.get(`members/${adminAsAdmin.body.memberId}`)).body.role).toBe("admin");

    expect(
      (await owner.client.post("invitations", { email: "o@example.com", seatType: "chat", role: "owner" })).status,
    ).toBe(201);
    for (const client of [f.owner, owner.client, admin.client]) {
      const res = await client.post("invitations", { email: "p@example.com", seatType: "chat", role: "primary_owner" });
      expect(res.status).toBe(400);
    }
    const anonymous = await request(app).post(`/api/v1/orgs/${f.orgId}/invitations`).send({});
    expect(anonymous.status).toBe(401);
  });

  it("refuses bad bodies and metadata over 10 keys or 1 KB with 400, changing nothing", async () => {
    const f = await newOrg();
    const ten = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, i]));
    expect(
      (await f.owner.post("invitations", { email: "ten@example.com", seatType: "chat", metadata: ten })).status,
    ).toBe(201);
    const used = (await seatsOf(f, "chat")).used;
    for (const body of [
      {},
      { seatType: "chat" },
      { email: "x@example.com" },
      { email: "not-an-email", seatType: "chat" },
      { email: "x@example.com", seatType: "premium" },
      { email: "x@example.com", seatType: "chat", color: "blue" },
      { email: "x@example.com", seatType: "chat", metadata: { ...ten, k10: 10 } },
      { email: "x@example.com", seatType: "chat", metadata: { big: "x".repeat(1020) } },
      { email: "x@example.com", seatType: "chat", metadata: { nested: { a: 1 } } },
      { email: "x@example.com", seatType: "chat", role: "emperor" },
    ]) {
      const res = await f.owner.post("invitations", body);
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(res.body).toMatchObject({ error: "invalid_request", message: expect.any(String) });
    }
    expect((await seatsOf(f, "chat")).used).toBe(used);
    expect((await f.owner.get("members?q=x@example.com")).body.items).toHaveLength(0);
  });

  it("one open invitation per person: inviting them again is 409; a member with a seat is 409", async () => {
    const f = await newOrg();
    expect((await f.owner.post("invitations", { email: "twice@example.com", seatType: "chat" })).status).toBe(201);
    const again = await f.owner.post("invitations", { email: "TWICE@example.com", seatType: "chat_code" });
    expect(again.status).toBe(409);
    expect(again.body.message).toContain("pending invitation");
    const seated = await provision(deps, f.orgId);
    const res = await f.owner.post("invitations", { email: seated.email, seatType: "chat" });
    expect(res.status).toBe(409);
    await expectInvariants(tdb.db, f.orgId);
  });
});

describe("claiming", () => {
  it("the page changes nothing (opened twice), then one claim signs the person in; reuse is 410", async () => {
    const f = await newOrg({ name: "Globex" });
    const inv = (await f.owner.post("invitations", { email: "sam@example.com", seatType: "chat_code" })).body;
    const token = tokenOf(inv.claimUrl);
    const auditBefore = await tdb.db("audit_events").where({ org_id: f.orgId }).count<{ n: number }[]>({ n: "*" });
    for (let i = 0; i < 2; i++) {
      const page = await request(app).get(`/claim/${token}`);
      expect(page.status).toBe(200);
      expect(page.type).toBe("text/html");
      expect(page.text).toContain("Globex");
      expect(page.text).toContain("Chat + Claude Code");
      expect(page.text).toContain("Claim seat");
      expect(page.text).toContain('method="post" action="/claim"');
      expect(page.headers["cache-control"]).toBe("no-store");
      expect(page.headers["referrer-policy"]).toBe("strict-origin");
      expect(page.headers["content-security-policy"]).toContain("default-src 'none'");
      expect(page.headers["x-frame-options"]).toBeDefined();
    }
    const auditAfter = await tdb.db("audit_events").where({ org_id: f.orgId }).count<{ n: number }[]>({ n: "*" });
    expect(auditAfter).toEqual(auditBefore);
    expect((await f.owner.get(`invitations/${inv.id}`)).body.status).toBe("pending");

    const res = await claim(token);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ memberId: inv.memberId, orgId: f.orgId, seatType: "chat_code" });
    const me = await request(app).get("/api/v1/me").set("Cookie", sessionCookie(res));
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ email: "sam@example.com", seatType: "chat_code", seatStatus: "claimed" });

    const reused = await claim(token);
    expect(reused.status).toBe(410);
    expect(reused.body).toEqual({ error: "claim_link_invalid", message: expect.any(String) });
    const page = await request(app).get(`/claim/${token}`);
    expect(page.status).toBe(410);
    expect(page.text).toContain("invalid, expired or already used");
    expect((await f.owner.get(`invitations/${inv.id}`)).body).toMatchObject({ status: "claimed" });
    expect(await actions(f.orgId, "invitation.")).toEqual(["invitation.created", "invitation.claimed"]);
    expect((await f.owner.get("invitations?status=claimed")).body.items.map((i: { id: string }) => i.id)).toEqual([
      inv.id,
    ]);
    await expectInvariants(tdb.db, f.orgId);
  });

  it("the form's POST claims and redirects to /me, signed in", async () => {
    const f = await newOrg();
    const inv = (await f.owner.post("invitations", { email: "form@example.com", seatType: "chat" })).body;
    const res = await request(app)
      .post("/claim")
      .type("form")
      .send({ token: tokenOf(inv.claimUrl) });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe("/me");
    const me = await request(app).get("/me").set("Cookie", sessionCookie(res));
    expect(me.status).toBe(200);
    expect(me.text).toContain("form@example.com");
    const again = await request(app)
      .post("/claim")
      .type("form")
      .send({ token: tokenOf(inv.claimUrl) });
    expect(again.status).toBe(410);
    expect(again.text).toContain("invalid, expired or already used");
    expect(again.headers["set-cookie"]).toBeUndefined();
  });

  it("the form refuses a POST from another site (login CSRF) and claims nothing", async () => {
    const f = await newOrg();
    const inv = (await f.owner.post("invitations", { email: "csrf@example.com", seatType: "chat" })).body;
    const token = tokenOf(inv.claimUrl);
    const forged = await request(app).post("/claim").set("Origin", "https://evil.example").type("form").send({ token });
    expect(forged.status).toBe(403);
    expect(forged.headers["set-cookie"]).toBeUndefined();
    expect((await f.owner.get(`invitations/${inv.id}`)).body.status).toBe("pending");
    const same = await request(app).post("/claim").set("Origin", "http://roster.test").type("form").send({ token });
    expect(same.status).toBe(303);
  });

  it("any bad token is the same 410, with no session", async () => {
    for (const token of ["", "nope", "claim_" + "A".repeat(43), "x".repeat(500)]) {
      const res = await claim(token);
      expect([400, 410], token.slice(0, 10)).toContain(res.status);
      if (token.length >= 1 && token.length <= 200) {
        expect(res.status).toBe(410);
        expect(res.body.error).toBe("claim_link_invalid");
      }
      expect(res.headers["set-cookie"]).toBeUndefined();
    }
    const page = await request(app).get(`/claim/claim_${"B".repeat(43)}`);
    expect(page.status).toBe(410);
    expect(page.text).toContain("invalid, expired or already used");
  });

  it("two claims of one link at once: exactly one wins", async () => {
    const f = await newOrg();
    const inv = (await f.owner.post("invitations", { email: "race@example.com", seatType: "chat" })).body;
    const token = tokenOf(inv.claimUrl);
    const results = await Promise.all(Array.from({ length: 6 }, () => claim(token)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 410, 410, 410, 410, 410]);
    expect(await actions(f.orgId, "invitation.claimed")).toHaveLength(1);
    await expectInvariants(tdb.db, f.orgId);
  });

  it("renders a hostile org name and invitee as text on the page", async () => {
    const f = await newOrg({ name: `<script>alert("org")</script>` });
    const inv = (await f.owner.post("invitations", { externalId: `<script>alert('who')</script>`, seatType: "chat" }))
      .body;
    const page = await request(app).get(`/claim/${tokenOf(inv.claimUrl)}`);
    expect(page.status).toBe(200);
    expect(page.text).not.toContain("<script>");
    expect(page.text).not.toMatch(/<script(?![^>]*\bsrc=)/); // the console's own script file only
    // Rendered by preact, which escapes <, & and " in text.
    expect(page.text).toContain(`&lt;script>alert(&quot;org&quot;)&lt;/script>`);
    expect(page.text).toContain(`&lt;script>alert('who')&lt;/script>`);
  });
});

describe("resend, revoke, expiry", () => {
  it("resend issues a new link good for 24 hours and kills the old one", async () => {
    const f = await newOrg();
    const inv = (await f.owner.post("invitations", { email: "re@example.com", seatType: "chat" })).body;
    clockMs += 3600_000;
    const res = await f.owner.post(`invitations/${inv.id}/resend`);
    expect(res.status).toBe(200);
    expect(res.body.claimUrl).not.toBe(inv.claimUrl);
    expect(res.body.expiresAt).toBe(new Date(clockMs + 24 * 3600_000).toISOString());
    expect((await claim(tokenOf(inv.claimUrl))).status).toBe(410);
    expect((await request(app).get(`/claim/${tokenOf(inv.claimUrl)}`)).status).toBe(410);
    expect((await claim(tokenOf(res.body.claimUrl))).status).toBe(200);
    // A claimed invitation cannot be resent or revoked.
    expect((await f.owner.post(`invitations/${inv.id}/resend`)).status).toBe(409);
    expect((await f.owner.delete(`invitations/${inv.id}`)).status).toBe(409);
    expect((await f.owner.post(`invitations/${MISSING_ID}/resend`)).status).toBe(404);
    expect((await f.owner.delete(`invitations/not-a-uuid`)).status).toBe(404);
    expect(await actions(f.orgId, "invitation.")).toEqual([
      "invitation.created",
      "invitation.resent",
      "invitation.claimed",
    ]);
    expect(await tdb.db("outbox").where({ org_id: f.orgId, channel: "mail" })).toHaveLength(2);
  });

  it("revoke frees the seat to the longest waiter; the allocation does not change; the link is dead", async () => {
    const { f, inv, b } = await fullOrgWithWaiter();
    const purchased = (await seatsOf(f, "chat_code")).purchased;
    const res = await f.owner.delete(`invitations/${inv.id}`);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("revoked");
    expect(await reload(tdb.db, f.orgId, b.id)).toMatchObject({ seatType: "chat_code", seatReason: "promoted" });
    expect(await reload(tdb.db, f.orgId, inv.memberId)).toMatchObject({ seatType: null, seatStatus: "revoked" });
    expect((await seatsOf(f, "chat_code")).purchased).toBe(purchased);
    expect((await claim(tokenOf(inv.claimUrl))).status).toBe(410);
    expect((await f.owner.get("invitations?status=revoked")).body.items).toHaveLength(1);
    expect((await f.owner.get("invitations?status=pending")).body.items).toHaveLength(0);
    expect((await f.owner.get("invitations?status=bogus")).status).toBe(400);
    expect(await actions(f.orgId, "invitation.")).toEqual(["invitation.created", "invitation.revoked"]);
    const admin = await memberWithRole(f, "member");
    expect((await admin.client.delete(`invitations/${inv.id}`)).status).toBe(403);
    await expectInvariants(tdb.db, f.orgId);
  });

  it("expiry: after 24 hours the link is dead and the job frees the seat to the longest waiter", async () => {
    const { f, inv, b } = await fullOrgWithWaiter();
    const token = tokenOf(inv.claimUrl);
    clockMs = Date.parse(inv.expiresAt) - 1000;
    expect((await request(app).get(`/claim/${token}`)).status).toBe(200);
    // Other tests' invitations (same database, same clock) may run out here; this one has a second left.
    await expireInvitations(deps);
    expect((await f.owner.get(`invitations/${inv.id}`)).body.status).toBe("pending");
    clockMs += 1000;
    // Dead at once, before the job runs.
    expect((await request(app).get(`/claim/${token}`)).status).toBe(410);
    expect((await claim(token)).status).toBe(410);
    expect((await reload(tdb.db, f.orgId, b.id)).waitingFor).toBe("any");
    // Another org's overdue invitations may be expired by the same pass; this one is among them.
    expect((await expireInvitations(deps)).expired).toBeGreaterThanOrEqual(1);
    expect((await f.owner.get(`invitations/${inv.id}`)).body.status).toBe("expired");
    expect(await reload(tdb.db, f.orgId, b.id)).toMatchObject({ seatType: "chat_code", seatReason: "promoted" });
    expect(await reload(tdb.db, f.orgId, inv.memberId)).toMatchObject({ seatType: null, seatStatus: "revoked" });
    expect((await f.owner.post(`invitations/${inv.id}/resend`)).status).toBe(409);
    expect(await actions(f.orgId, "invitation.")).toEqual(["invitation.created", "invitation.expired"]);
    const [event] = await tdb.db("audit_events").where({ org_id: f.orgId, action: "invitation.expired" });
    expect(event.actor).toBe("system");
    expect((await expireInvitations(deps)).expired).toBe(0);
    await expectInvariants(tdb.db, f.orgId);
  });

  it("a pending seat cannot be moved by hand: revoke first", async () => {
    const f = await newOrg();
    const inv = (await f.owner.post("invitations", { email: "stay@example.com", seatType: "chat" })).body;
    for (const seatType of ["chat_code", "unassigned", "auto"]) {
      const res = await f.owner.patch(`members/${inv.memberId}`, { seatType });
      expect(res.status).toBe(409);
      expect(res.body.message).toContain("invitation");
    }
    await expectInvariants(tdb.db, f.orgId);
  });
});

describe("GET invitations", () => {
  it("pages newest first with nextCursor and filters by status", async () => {
    const f = await newOrg();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      clockMs += 1000;
      ids.push((await f.owner.post("invitations", { email: `p${i}@example.com`, seatType: "chat" })).body.id);
    }
    const first = await f.owner.get("invitations?limit=2");
    expect(first.status).toBe(200);
    expect(first.body.items.map((i: { id: string }) => i.id)).toEqual([ids[2], ids[1]]);
    const second = await f.owner.get(`invitations?limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body.items.map((i: { id: string }) => i.id)).toEqual([ids[0]]);
    expect(second.body.nextCursor).toBeNull();
    expect((await f.owner.get("invitations?cursor=bogus")).status).toBe(400);
    expect((await f.owner.delete(`invitations/${ids[1]}`)).status).toBe(200);
    expect((await f.owner.get("invitations?status=pending")).body.items).toHaveLength(2);
    expect((await f.owner.get(`invitations/${MISSING_ID}`)).status).toBe(404);
  });
});

describe("under concurrency", () => {
  it("8 invitations at once for 3 free seats: exactly 3 pending seats, 5 answers 409", async () => {
    const f = await newOrg();
    await setPurchased(tdb.db, f.orgId, "chat", 3);
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        f.owner.post("invitations", { email: `c${i}@example.com`, seatType: "chat" }),
      ),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(3);
    const refused = results.filter((r) => r.status === 409);
    expect(refused).toHaveLength(5);
    for (const r of refused) expect(r.body.error).toBe("no_seat_available");
    expect((await seatsOf(f, "chat")).used).toBe(3);
    expect((await f.owner.get("invitations?status=pending")).body.items).toHaveLength(3);
    await expectInvariants(tdb.db, f.orgId);
  });

  it("expiry passes in parallel (several processes) expire each invitation once", async () => {
    const f = await newOrg();
    const ids: string[] = [];
    for (let i = 0; i < 6; i++)
      ids.push((await f.owner.post("invitations", { email: `x${i}@example.com`, seatType: "chat" })).body.id);
    clockMs += 24 * 3600_000;
    await Promise.all([expireInvitations(deps), expireInvitations(deps), expireInvitations(deps)]);
    for (const id of ids) expect((await f.owner.get(`invitations/${id}`)).body.status).toBe("expired");
    expect(await actions(f.orgId, "invitation.expired")).toHaveLength(6);
    expect((await seatsOf(f, "chat")).used).toBe(0);
    await expectInvariants(tdb.db, f.orgId);
  });
});
