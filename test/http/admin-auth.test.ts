import type { Express } from "express";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServiceDeps } from "../../src/services/context.js";
import { testApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { provision, testDeps } from "../support/factories.js";
import {
  type AdminClient,
  adminClient,
  adminTokenFor,
  type CreatedOrgBody,
  createOrgViaApi,
  deactivate,
  ownerIdOf,
  path,
} from "./helpers.js";

let tdb: TestDatabase;
let app: Express;
let deps: ServiceDeps;
let org: CreatedOrgBody;
let other: CreatedOrgBody;
let owner: AdminClient;
let ownerId: string;

beforeAll(async () => {
  tdb = await createTestDatabase();
  app = testApp(tdb.db);
  deps = testDeps(tdb.db);
  org = await createOrgViaApi(app, { name: "Acme" });
  other = await createOrgViaApi(app, { name: "Globex" });
  owner = adminClient(app, org.orgId, org.ownerToken);
  ownerId = await ownerIdOf(owner);
});
afterAll(async () => tdb?.destroy());

/** A new member of the org with the given role (set by the owner) and an admin API token of their own. */
async function memberWithToken(
  role: "member" | "admin" | "owner",
): Promise<{ id: string; client: AdminClient; token: string }> {
  const m = await provision(deps, org.orgId);
  if (role !== "member") expect((await owner.patch(`members/${m.id}`, { role })).status).toBe(200);
  const token = await adminTokenFor(owner, m.id);
  return { id: m.id, token, client: adminClient(app, org.orgId, token) };
}

describe("admin API authentication", () => {
  it("answers 401 with a JSON error without credentials", async () => {
    for (const rest of [
      "seats",
      "members",
      "group-mappings",
      "audit-events",
      "scim-tokens",
      "admin-tokens",
      "no-such-thing",
    ]) {
      const res = await request(app).get(path(org.orgId, rest));
      expect(res.status, rest).toBe(401);
      expect(res.headers["content-type"]).toMatch(/application\/json/);
      expect(res.body).toEqual({ error: "unauthorized", message: expect.any(String) });
    }
    const patch = await request(app)
      .patch(path(org.orgId, `members/${ownerId}`))
      .send({ seatType: "chat" });
    expect(patch.status).toBe(401);
  });

  it("answers 401 for an unknown token, a malformed header, and a SCIM token", async () => {
    for (const header of [
      "Bearer rst_admin_doesnotexist",
      "Bearer ",
      "Token abc",
      `Bearer ${org.scimToken}`,
      `Bearer ${org.ownerToken} extra`,
    ]) {
      const res = await request(app).get(path(org.orgId, "seats")).set("Authorization", header);
      expect(res.status, header).toBe(401);
      expect(res.body.error).toBe("unauthorized");
    }
  });

  it("answers 403 for another org's token, and does not leak that org's data", async () => {
    const res = await adminClient(app, org.orgId, other.ownerToken).get("members");
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: "forbidden", message: expect.any(String) });
    expect(JSON.stringify(res.body)).not.toContain(ownerId);
    // And the other way round, on a write.
    const write = await adminClient(app, other.orgId, org.ownerToken).patch(`members/${ownerId}`, { seatType: "chat" });
    expect(write.status).toBe(403);
  });

  it("answers 403 naming the admin role for a member-role token", async () => {
    const { client } = await memberWithToken("member");
    for (const rest of ["seats", "members", "audit-events", "group-mappings", "scim-tokens"]) {
      const res = await client.get(rest);
      expect(res.status, rest).toBe(403);
      expect(res.body.error).toBe("forbidden");
      expect(res.body.message).toMatch(/\badmin\b/);
      expect(res.body.requiredRole).toBe("admin");
    }
    const patch = await client.patch(`members/${ownerId}`, { seatType: "chat" });
    expect(patch.status).toBe(403);
    expect(patch.body.requiredRole).toBe("admin");
  });

  it("lets an admin manage seats but answers 403 naming the owner role for a role change or admin tokens", async () => {
    const admin = await memberWithToken("admin");
    const target = await provision(deps, org.orgId);
    expect((await admin.client.get("members")).status).toBe(200);
    expect((await admin.client.patch(`members/${target.id}`, { seatType: "chat" })).status).toBe(200);

    const role = await admin.client.patch(`members/${target.id}`, { role: "admin" });
    expect(role.status).toBe(403);
    expect(role.body).toMatchObject({ error: "forbidden", requiredRole: "owner" });
    expect(role.body.message).toMatch(/\bowner\b/);
    // Nothing changed, not even the seat part of a mixed request.
    const after = await owner.get(`members/${target.id}`);
    expect(after.body.role).toBe("member");
    const mixed = await admin.client.patch(`members/${target.id}`, { seatType: "unassigned", role: "admin" });
    expect(mixed.status).toBe(403);
    expect((await owner.get(`members/${target.id}`)).body.seatType).toBe("chat");

    for (const res of [
      await admin.client.get("admin-tokens"),
      await admin.client.post("admin-tokens", { memberId: target.id }),
    ]) {
      expect(res.status).toBe(403);
      expect(res.body.requiredRole).toBe("owner");
      expect(res.body.message).toMatch(/\bowner\b/);
    }
  });

  it("lets an owner (not primary) change roles", async () => {
    const secondOwner = await memberWithToken("owner");
    const target = await provision(deps, org.orgId);
    const res = await secondOwner.client.patch(`members/${target.id}`, { role: "admin" });
    expect(res.status).toBe(200);
    expect(res.body.role).toBe("admin");
  });

  it("acts with the member's current role: a demotion takes effect on the next request", async () => {
    const admin = await memberWithToken("admin");
    expect((await admin.client.get("seats")).status).toBe(200);
    expect((await owner.patch(`members/${admin.id}`, { role: "member" })).status).toBe(200);
    const res = await admin.client.get("seats");
    expect(res.status).toBe(403);
    expect(res.body.requiredRole).toBe("admin");
  });

  it("refuses a revoked admin token at once", async () => {
    const admin = await memberWithToken("admin");
    expect((await admin.client.get("seats")).status).toBe(200);
    const listed = await owner.get("admin-tokens");
    const record = listed.body.find((t: { memberId?: string }) => t.memberId === admin.id);
    expect((await admin.client.delete(`admin-tokens/${record.id}`)).status).toBe(403); // revoking needs owner
    expect((await owner.delete(`admin-tokens/${record.id}`)).status).toBe(204);
    const res = await admin.client.get("seats");
    expect(res.status).toBe(401);
    expect(res.body.error).toBe("unauthorized");
    const relisted = await owner.get("admin-tokens");
    expect(relisted.body.find((t: { id: string }) => t.id === record.id).revokedAt).not.toBeNull();
  });

  it("refuses the token of a deactivated member at once", async () => {
    const admin = await memberWithToken("admin");
    expect((await admin.client.get("seats")).status).toBe(200);
    await deactivate(deps, org.orgId, admin.id);
    const res = await admin.client.get("seats");
    expect(res.status).toBe(401);
  });
});
