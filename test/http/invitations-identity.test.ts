// One member per person (DOMAIN §5): an invited person whom SCIM or SSO later brings becomes that same
// member, holding that same seat; never a second member or a second seat.
import type { Express } from "express";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServiceDeps } from "../../src/services/context.js";
import { signInWithAssertion } from "../../src/services/jit-service.js";
import { testApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { testDeps } from "../support/factories.js";
import { expectInvariants } from "../support/seat-invariants.js";
import { type AdminClient, adminClient, createOrgViaApi } from "./helpers.js";
import { scimClient, USER_SCHEMA } from "./scim-helpers.js";

let tdb: TestDatabase;
let app: Express;
let deps: ServiceDeps;

beforeAll(async () => {
  tdb = await createTestDatabase();
  app = testApp(tdb.db);
  deps = testDeps(tdb.db);
});
afterAll(async () => tdb?.destroy());

async function newOrg() {
  const created = await createOrgViaApi(app);
  return {
    orgId: created.orgId,
    owner: adminClient(app, created.orgId, created.ownerToken),
    scim: scimClient(app, created.scimToken),
  };
}

async function used(owner: AdminClient): Promise<number> {
  const res = await owner.get("seats");
  return res.body.seatTypes.reduce((n: number, s: { used: number }) => n + s.used, 0);
}

async function memberCount(orgId: string): Promise<number> {
  const row = await tdb.db("members").where({ org_id: orgId }).count<{ n: number }[]>({ n: "*" }).first();
  return Number(row?.n);
}

describe("an invited person arriving through SCIM", () => {
  it("same email as userName: SCIM adopts the invited member, the pending seat stays theirs", async () => {
    const o = await newOrg();
    const inv = (await o.owner.post("invitations", { email: "ada@example.com", seatType: "chat" })).body;
    const members = await memberCount(o.orgId);
    const seats = await used(o.owner);
    const res = await o.scim.post("/Users", { schemas: [USER_SCHEMA], userName: "ada@example.com" });
    expect(res.status).toBe(201);
    expect(res.body.id).toBe(inv.memberId);
    expect(await memberCount(o.orgId)).toBe(members);
    expect(await used(o.owner)).toBe(seats);
    const member = (await o.owner.get(`members/${inv.memberId}`)).body;
    expect(member).toMatchObject({ seatType: "chat", seatStatus: "pending" });
    // The link still works after the adoption.
    const claim = await import("supertest").then((s) =>
      s
        .default(app)
        .post("/api/v1/claim")
        .send({ token: inv.claimUrl.split("/claim/")[1] }),
    );
    expect(claim.status).toBe(200);
    await expectInvariants(tdb.db, o.orgId);
  });

  it("a different userName but the same email, or the same externalId: still one member and one seat", async () => {
    const o = await newOrg();
    const byEmail = (await o.owner.post("invitations", { email: "bo@example.com", seatType: "chat_code" })).body;
    const byExternalId = (await o.owner.post("invitations", { externalId: "emp-7", seatType: "chat" })).body;
    const members = await memberCount(o.orgId);
    const seats = await used(o.owner);

    const first = await o.scim.post("/Users", {
      schemas: [USER_SCHEMA],
      userName: "bo",
      emails: [{ value: "Bo@Example.com", primary: true }],
    });
    expect(first.status).toBe(201);
    expect(first.body.id).toBe(byEmail.memberId);
    const second = await o.scim.post("/Users", { schemas: [USER_SCHEMA], userName: "cy", externalId: "emp-7" });
    expect(second.status).toBe(201);
    expect(second.body.id).toBe(byExternalId.memberId);

    expect(await memberCount(o.orgId)).toBe(members);
    expect(await used(o.owner)).toBe(seats);
    // Someone else entirely is a new member.
    const other = await o.scim.post("/Users", { schemas: [USER_SCHEMA], userName: "dee@example.com" });
    expect(other.status).toBe(201);
    expect(await memberCount(o.orgId)).toBe(members + 1);
    await expectInvariants(tdb.db, o.orgId);
  });

  it("SCIM deactivating an invited member ends the invitation and frees the seat", async () => {
    const o = await newOrg();
    const inv = (await o.owner.post("invitations", { email: "eve@example.com", seatType: "chat" })).body;
    const seats = await used(o.owner);
    const adopted = await o.scim.post("/Users", { schemas: [USER_SCHEMA], userName: "eve@example.com" });
    const res = await o.scim.put(`/Users/${adopted.body.id}`, {
      schemas: [USER_SCHEMA],
      userName: "eve@example.com",
      active: false,
    });
    expect(res.status).toBe(200);
    expect(await used(o.owner)).toBe(seats - 1);
    expect((await o.owner.get(`invitations/${inv.id}`)).body.status).toBe("revoked");
    await expectInvariants(tdb.db, o.orgId);
  });
});

describe("an invited person signing in with SSO", () => {
  it("is the same member, and the sign-in claims the invitation", async () => {
    const o = await newOrg();
    const inv = (await o.owner.post("invitations", { email: "fay@example.com", seatType: "chat_code" })).body;
    const members = await memberCount(o.orgId);
    const seats = await used(o.owner);
    const member = await signInWithAssertion(deps, o.orgId, {
      email: "FAY@example.com",
      givenName: "Fay",
      familyName: null,
      displayName: null,
      groups: [],
    });
    expect(member.id).toBe(inv.memberId);
    expect(member).toMatchObject({ seatType: "chat_code", seatStatus: "claimed" });
    expect(await memberCount(o.orgId)).toBe(members);
    expect(await used(o.owner)).toBe(seats);
    expect((await o.owner.get(`invitations/${inv.id}`)).body.status).toBe("claimed");
    const token = inv.claimUrl.split("/claim/")[1];
    expect((await request(app).post("/api/v1/claim").send({ token })).status).toBe(410);
    await expectInvariants(tdb.db, o.orgId);
  });
});
