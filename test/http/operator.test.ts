import type { Express } from "express";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../src/app.js";
import { createSessionCodec } from "../../src/http/session.js";
import { createLogger } from "../../src/logger.js";
import { OPERATOR_TOKEN, testApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { testDeps } from "../support/factories.js";
import { adminClient, operatorPost, UUID_RE } from "./helpers.js";

let tdb: TestDatabase;
let app: Express;
beforeAll(async () => {
  tdb = await createTestDatabase();
  app = testApp(tdb.db);
});
afterAll(async () => tdb?.destroy());

const valid = { name: "Acme", plan: "enterprise_usage", seats: { chat: 50, chat_code: 20 } };

describe("POST /api/v1/orgs", () => {
  it("creates a tenant: 201 with orgId, scimBaseUrl, scimToken, ownerToken and ownerSignInUrl", async () => {
    const res = await operatorPost(app, valid);
    expect(res.status).toBe(201);
    expect(res.headers["content-type"]).toMatch(/application\/json/);
    expect(Object.keys(res.body).sort()).toEqual(["orgId", "ownerSignInUrl", "ownerToken", "scimBaseUrl", "scimToken"]);
    expect(res.body.orgId).toMatch(UUID_RE);
    expect(res.body.scimBaseUrl).toBe("http://roster.test/scim/v2");
    expect(res.body.scimToken).toMatch(/^rst_scim_[A-Za-z0-9_-]{40,}$/);
    expect(res.body.ownerToken).toMatch(/^rst_admin_[A-Za-z0-9_-]{40,}$/);
    expect(res.body.ownerSignInUrl).toMatch(/^http:\/\/roster\.test\/signin\/rst_signin_[A-Za-z0-9_-]{40,}$/);
  });

  it("gives an owner token that works on the admin API at once, as the primary owner", async () => {
    const created = (await operatorPost(app, valid)).body;
    const owner = adminClient(app, created.orgId, created.ownerToken);
    const seats = await owner.get("seats");
    expect(seats.status).toBe(200);
    expect(seats.body.plan).toBe("enterprise_usage");
    expect(seats.body.seatTypes.map((s: { type: string; purchased: number }) => [s.type, s.purchased])).toEqual([
      ["chat_code", 20],
      ["chat", 50],
    ]);
    const members = await owner.get("members");
    expect(members.status).toBe(200);
    expect(members.body.items).toHaveLength(1);
    expect(members.body.items[0]).toMatchObject({
      role: "primary_owner",
      email: "owner@acme.example.com",
      seatType: "unassigned",
      active: true,
    });
    // It can do owner-only things too.
    expect((await owner.get("admin-tokens")).status).toBe(200);
  });

  it("takes an ownerEmail for the primary owner", async () => {
    const created = (await operatorPost(app, { ...valid, ownerEmail: "boss@acme.test" })).body;
    const members = await adminClient(app, created.orgId, created.ownerToken).get("members");
    expect(members.body.items[0].email).toBe("boss@acme.test");
  });

  it("answers 401 with a JSON error without the operator token", async () => {
    const res = await request(app).post("/api/v1/orgs").send(valid);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: "unauthorized", message: expect.any(String) });
  });

  it("answers 401 with a wrong operator token, or the right one in the wrong scheme", async () => {
    for (const header of [`Bearer ${OPERATOR_TOKEN}x`, "Bearer nope", `Basic ${OPERATOR_TOKEN}`, OPERATOR_TOKEN]) {
      const res = await request(app).post("/api/v1/orgs").set("Authorization", header).send(valid);
      expect(res.status, header).toBe(401);
      expect(res.body.error).toBe("unauthorized");
    }
  });

  it("does not accept an admin or SCIM token as the operator token", async () => {
    const created = (await operatorPost(app, valid)).body;
    for (const token of [created.ownerToken, created.scimToken]) {
      const res = await request(app).post("/api/v1/orgs").set("Authorization", `Bearer ${token}`).send(valid);
      expect(res.status).toBe(401);
    }
  });

  it("does not let the operator token into an org's admin API", async () => {
    const created = (await operatorPost(app, valid)).body;
    const res = await adminClient(app, created.orgId, OPERATOR_TOKEN).get("seats");
    expect(res.status).toBe(401);
    expect(res.body.error).toBe("unauthorized");
  });

  it("answers 400 naming the known plans for an unknown plan", async () => {
    const res = await operatorPost(app, { ...valid, plan: "platinum" });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: "invalid_request", message: expect.stringContaining("platinum") });
    expect(res.body.message).toContain("enterprise_usage");
  });

  it("answers 400 for a seat type the plan does not have", async () => {
    const res = await operatorPost(app, { ...valid, seats: { chat: 30, premium: 5 } });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: "invalid_request", message: expect.stringContaining("premium") });
  });

  it("answers 400 below the enterprise minimum of 20 seats, and accepts exactly 20", async () => {
    const res = await operatorPost(app, { ...valid, seats: { chat: 10, chat_code: 9 } });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: "invalid_request", message: expect.stringContaining("20") });
    expect((await operatorPost(app, { ...valid, seats: { chat: 10, chat_code: 10 } })).status).toBe(201);
  });

  it("answers 400 for malformed bodies", async () => {
    const bodies: unknown[] = [
      {},
      { ...valid, name: "" },
      { ...valid, seats: { chat: -1, chat_code: 30 } },
      { ...valid, seats: { chat: 20.5 } },
      { ...valid, extra: true },
      { ...valid, ownerEmail: "not an email" },
    ];
    for (const body of bodies) {
      const res = await operatorPost(app, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body).toEqual({ error: "invalid_request", message: expect.any(String) });
    }
    const broken = await request(app)
      .post("/api/v1/orgs")
      .set("Authorization", `Bearer ${OPERATOR_TOKEN}`)
      .set("Content-Type", "application/json")
      .send("{not json");
    expect(broken.status).toBe(400);
    expect(broken.body.error).toBe("invalid_request");
  });

  it("is off (404) when no operator token is configured", async () => {
    const off = buildApp({
      ...testDeps(tdb.db),
      logger: createLogger("silent"),
      sessions: createSessionCodec("k"),
      operatorToken: null,
    });
    const res = await request(off).post("/api/v1/orgs").set("Authorization", `Bearer ${OPERATOR_TOKEN}`).send(valid);
    expect(res.status).toBe(404);
    expect(res.body.error).toBe("not_found");
  });
});
