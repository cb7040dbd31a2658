// The org's own settings (admin+, audited), ownership transfer (primary owner only) and the operator's
// fresh sign-in link for the primary owner.
import type { Express } from "express";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServiceDeps } from "../../src/services/context.js";
import { OPERATOR_TOKEN } from "../support/app.js";
import { testApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { provision, testDeps } from "../support/factories.js";
import {
  type AdminClient,
  adminClient,
  adminTokenFor,
  createOrgViaApi,
  deactivate,
  MISSING_ID,
  operatorPost,
  ownerIdOf,
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
  ownerId: string;
  ownerSignInUrl: string;
}

async function newOrg(body: Record<string, unknown> = {}): Promise<Fixture> {
  const created = await createOrgViaApi(app, body);
  const owner = adminClient(app, created.orgId, created.ownerToken);
  return { orgId: created.orgId, owner, ownerId: await ownerIdOf(owner), ownerSignInUrl: created.ownerSignInUrl };
}

/** A member of the org with `role`, and an admin API client acting as them. */
async function memberWithRole(f: Fixture, role: "owner" | "admin" | "member") {
  const m = await provision(deps, f.orgId);
  if (role !== "member") expect((await f.owner.patch(`members/${m.id}`, { role })).status).toBe(200);
  return { id: m.id, client: adminClient(app, f.orgId, await adminTokenFor(f.owner, m.id)) };
}

async function auditActions(orgId: string, action: string) {
  return tdb.db("audit_events").where({ org_id: orgId, action }).orderBy("id");
}

describe("GET|PATCH settings", () => {
  it("shows the defaults, lets an admin change them, and records before and after", async () => {
    const f = await newOrg();
    const admin = await memberWithRole(f, "admin");
    expect((await admin.client.get("settings")).body).toEqual({
      mappedTypeExhausted: "unassigned",
      manualHoldMinutes: 15,
    });
    const res = await admin.client.patch("settings", { manualHoldMinutes: 30, mappedTypeExhausted: "next_available" });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ mappedTypeExhausted: "next_available", manualHoldMinutes: 30 });
    expect((await f.owner.get("settings")).body).toEqual(res.body);
    const [event] = await auditActions(f.orgId, "settings.changed");
    expect(event).toMatchObject({
      actor: `admin:${admin.id}`,
      before: { manualHoldMinutes: 15, mappedTypeExhausted: "unassigned" },
      after: { manualHoldMinutes: 30, mappedTypeExhausted: "next_available" },
    });
    const outbox = await tdb.db("outbox").where({ org_id: f.orgId, topic: "settings.changed" });
    expect(outbox).toHaveLength(1);

    // Saving the same values again changes nothing and records nothing.
    expect((await admin.client.patch("settings", { manualHoldMinutes: 30 })).status).toBe(200);
    expect(await auditActions(f.orgId, "settings.changed")).toHaveLength(1);
  });

  it("refuses bad values with a clear 400 and changes nothing", async () => {
    const f = await newOrg();
    for (const body of [
      {},
      { manualHoldMinutes: -1 },
      { manualHoldMinutes: 1.5 },
      { manualHoldMinutes: 100_000 },
      { mappedTypeExhausted: "sometimes" },
      { manualHoldMinutes: 5, color: "blue" },
    ]) {
      const res = await f.owner.patch("settings", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body).toMatchObject({ error: "invalid_request", message: expect.any(String) });
    }
    expect((await f.owner.get("settings")).body.manualHoldMinutes).toBe(15);
    expect(await auditActions(f.orgId, "settings.changed")).toHaveLength(0);
  });

  it("is refused to a member, naming the role needed", async () => {
    const f = await newOrg();
    const member = await memberWithRole(f, "member");
    for (const res of [
      await member.client.get("settings"),
      await member.client.patch("settings", { manualHoldMinutes: 0 }),
    ]) {
      expect(res.status).toBe(403);
      expect(res.body.message).toContain("admin");
    }
  });

  it("the operator sets them when creating the org", async () => {
    const f = await newOrg({ settings: { manualHoldMinutes: 0, mappedTypeExhausted: "next_available" } });
    expect((await f.owner.get("settings")).body).toEqual({
      mappedTypeExhausted: "next_available",
      manualHoldMinutes: 0,
    });
    const bad = await operatorPost(app, {
      name: "Bad",
      plan: "enterprise_usage",
      seats: { chat: 20 },
      settings: { manualHoldMinutes: "soon" },
    });
    expect(bad.status).toBe(400);
  });
});

describe("POST ownership-transfer", () => {
  it("makes the member primary owner and the old primary owner an owner, in one step, audited", async () => {
    const f = await newOrg();
    const target = await memberWithRole(f, "admin");
    const res = await f.owner.post("ownership-transfer", { memberId: target.id });
    expect(res.status).toBe(200);
    expect(res.body.primaryOwner).toMatchObject({ id: target.id, role: "primary_owner" });
    expect(res.body.previousOwner).toMatchObject({ id: f.ownerId, role: "owner" });
    const owners = await f.owner.get("members?role=primary_owner");
    expect(owners.body.items.map((m: { id: string }) => m.id)).toEqual([target.id]);
    expect(await auditActions(f.orgId, "ownership.transferred")).toHaveLength(1);
    const roleChanges = await auditActions(f.orgId, "member.role_changed");
    expect(roleChanges.slice(-2).map((e) => [e.member_id, e.before.role, e.after.role])).toEqual([
      [f.ownerId, "primary_owner", "owner"],
      [target.id, "admin", "primary_owner"],
    ]);
    const topics = (await tdb.db("outbox").where({ org_id: f.orgId }).select("topic")).map((r) => r.topic);
    expect(topics).toContain("ownership.transferred");

    // The old primary owner is an owner now: they cannot transfer again, and the new one can hand it back.
    const again = await f.owner.post("ownership-transfer", { memberId: target.id });
    expect(again.status).toBe(403);
    expect(again.body).toMatchObject({ error: "forbidden", requiredRole: "primary_owner" });
    expect((await target.client.post("ownership-transfer", { memberId: f.ownerId })).status).toBe(200);
  });

  it("is refused to an owner and an admin, naming the primary owner, and changes nothing", async () => {
    const f = await newOrg();
    const owner = await memberWithRole(f, "owner");
    const admin = await memberWithRole(f, "admin");
    for (const caller of [owner, admin]) {
      const res = await caller.client.post("ownership-transfer", { memberId: caller.id });
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ error: "forbidden", requiredRole: "primary_owner" });
    }
    expect((await f.owner.get(`members/${f.ownerId}`)).body.role).toBe("primary_owner");
  });

  it("refuses a deactivated member, an unknown member, oneself and a malformed body", async () => {
    const f = await newOrg();
    const gone = await memberWithRole(f, "member");
    await deactivate(deps, f.orgId, gone.id);
    expect((await f.owner.post("ownership-transfer", { memberId: gone.id })).status).toBe(409);
    expect((await f.owner.post("ownership-transfer", { memberId: MISSING_ID })).status).toBe(404);
    expect((await f.owner.post("ownership-transfer", { memberId: f.ownerId })).status).toBe(400);
    expect((await f.owner.post("ownership-transfer", { memberId: "nope" })).status).toBe(400);
    expect((await f.owner.post("ownership-transfer", {})).status).toBe(400);
    expect((await f.owner.get(`members/${f.ownerId}`)).body.role).toBe("primary_owner");
    expect(await auditActions(f.orgId, "ownership.transferred")).toHaveLength(0);
  });

  it("two transfers at once leave exactly one primary owner", async () => {
    const f = await newOrg();
    const x = await memberWithRole(f, "member");
    const y = await memberWithRole(f, "member");
    const results = await Promise.all([
      f.owner.post("ownership-transfer", { memberId: x.id }),
      f.owner.post("ownership-transfer", { memberId: y.id }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 403]);
    const owners = await f.owner.get("members?role=primary_owner");
    expect(owners.body.items).toHaveLength(1);
  });
});

describe("POST /api/v1/orgs/{orgId}/signin-link (operator)", () => {
  const issue = (orgId: string, token = OPERATOR_TOKEN) =>
    request(app).post(`/api/v1/orgs/${orgId}/signin-link`).set("Authorization", `Bearer ${token}`);

  it("gives a fresh one-time link for the primary owner; the earlier unused link stops working", async () => {
    const f = await newOrg();
    const res = await issue(f.orgId);
    expect(res.status).toBe(201);
    expect(res.body.ownerSignInUrl).toMatch(/^http:\/\/roster\.test\/signin\/rst_signin_[A-Za-z0-9_-]{40,}$/);
    expect(Date.parse(res.body.expiresAt)).toBeGreaterThan(Date.now());

    const old = new URL(f.ownerSignInUrl).pathname;
    expect((await request(app).get(old)).status).toBe(401);
    const fresh = new URL(res.body.ownerSignInUrl).pathname;
    const signIn = await request(app).get(fresh);
    expect(signIn.status).toBe(303);
    expect(signIn.headers.location).toBe("/admin");
    // Single use.
    expect((await request(app).get(fresh)).status).toBe(401);
    expect(await auditActions(f.orgId, "signin_link.issued")).toHaveLength(1);
    // The link itself never reaches the audit log.
    expect(JSON.stringify(await auditActions(f.orgId, "signin_link.issued"))).not.toContain("rst_signin_");
  });

  it("goes to whoever is primary owner now", async () => {
    const f = await newOrg();
    const next = await memberWithRole(f, "member");
    expect((await f.owner.post("ownership-transfer", { memberId: next.id })).status).toBe(200);
    const res = await issue(f.orgId);
    const signIn = await request(app).get(new URL(res.body.ownerSignInUrl).pathname);
    const me = await request(app).get("/api/v1/me").set("Cookie", String(signIn.headers["set-cookie"]).split(";")[0]);
    expect(me.body).toMatchObject({ role: "primary_owner" });
  });

  it("needs the operator token, and answers 404 for an unknown org", async () => {
    const f = await newOrg();
    expect((await issue(f.orgId, "not-the-operator-token-at-all")).status).toBe(401);
    expect((await request(app).post(`/api/v1/orgs/${f.orgId}/signin-link`)).status).toBe(401);
    expect((await issue("no-such-org")).status).toBe(404);
  });
});
