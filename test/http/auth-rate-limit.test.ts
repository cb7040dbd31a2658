// Failed authentication is limited per client address (issue 8): after the threshold, bad or missing
// credentials get 429 with Retry-After in the protocol's own format; a valid token is never limited, even
// from an address that is being refused. The client address comes from X-Forwarded-For only because the
// test's requests arrive from loopback, the default trusted proxy.
import type { Express } from "express";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OPERATOR_TOKEN, testApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { makeOrg, testDeps, type TestOrg } from "../support/factories.js";
import { expectScimError, SCIM } from "./scim-helpers.js";

const LIMIT = { max: 3, windowMs: 60_000 };

let tdb: TestDatabase;
let app: Express;
let org: TestOrg;

beforeAll(async () => {
  tdb = await createTestDatabase();
  app = testApp(tdb.db, { authFailureLimit: LIMIT });
  org = await makeOrg(testDeps(tdb.db));
});
afterAll(async () => tdb?.destroy());

const from = (ip: string, r: request.Test) => r.set("X-Forwarded-For", ip);

describe("SCIM", () => {
  const users = (ip: string, token?: string) => {
    const r = from(ip, request(app).get(`${SCIM}/Users`));
    return token ? r.set("Authorization", `Bearer ${token}`) : r;
  };

  it("answers 401 up to the threshold, then 429 with Retry-After as a SCIM error; valid tokens still pass", async () => {
    const ip = "203.0.113.10";
    for (let i = 0; i < LIMIT.max; i++) expectScimError(await users(ip, `wrong-${i}`), 401, null);
    for (const res of [await users(ip, "wrong-again"), await users(ip)]) {
      expectScimError(res, 429, null);
      const wait = Number(res.headers["retry-after"]);
      expect(wait).toBeGreaterThan(0);
      expect(wait).toBeLessThanOrEqual(60);
      expect(res.body.detail).toMatch(/too many failed authentication attempts/);
    }
    for (let i = 0; i < 5; i++) expect((await users(ip, org.scimToken)).status).toBe(200);
    // Another address is not affected.
    expectScimError(await users("203.0.113.11", "wrong"), 401, null);
  });
});

describe("admin and operator APIs", () => {
  it("limit bad admin tokens and sessions per address with a JSON 429; the owner's token still works", async () => {
    const ip = "198.51.100.20";
    const seats = (token?: string) => {
      const r = from(ip, request(app).get(`/api/v1/orgs/${org.org.id}/seats`));
      return token ? r.set("Authorization", `Bearer ${token}`) : r;
    };
    for (let i = 0; i < LIMIT.max; i++) expect((await seats(`bad-${i}`)).status).toBe(401);
    for (const res of [await seats("bad"), await seats()]) {
      expect(res.status).toBe(429);
      expect(res.headers["retry-after"]).toMatch(/^\d+$/);
      expect(res.body).toMatchObject({ error: "rate_limited", message: expect.stringMatching(/too many/) });
    }
    expect((await seats(org.ownerToken)).status).toBe(200);
  });

  it("counts bad operator tokens too", async () => {
    const ip = "198.51.100.30";
    const create = (token: string) =>
      from(ip, request(app).post("/api/v1/orgs"))
        .set("Authorization", `Bearer ${token}`)
        .send({ name: "X", plan: "enterprise_usage", seats: { chat_code: 10, chat: 10 } });
    for (let i = 0; i < LIMIT.max; i++) expect((await create("not-the-operator-token-000")).status).toBe(401);
    expect((await create("not-the-operator-token-000")).status).toBe(429);
    expect((await create(OPERATOR_TOKEN)).status).toBe(201);
  });

  it("counts failures across protocols against the same address", async () => {
    const ip = "198.51.100.40";
    expect(
      (await from(ip, request(app).get(`/api/v1/orgs/${org.org.id}/seats`)).set("Authorization", "Bearer x")).status,
    ).toBe(401);
    expect((await from(ip, request(app).get(`${SCIM}/Users`)).set("Authorization", "Bearer x")).status).toBe(401);
    expect((await from(ip, request(app).post("/api/v1/orgs")).set("Authorization", "Bearer x")).status).toBe(401);
    expect((await from(ip, request(app).get(`${SCIM}/Groups`))).status).toBe(429);
  });
});

describe("trust proxy", () => {
  it("ignores X-Forwarded-For when no proxy is trusted: every request is the same client", async () => {
    const direct = testApp(tdb.db, { authFailureLimit: LIMIT, trustProxy: false });
    for (let i = 0; i < LIMIT.max; i++)
      expect((await request(direct).get(`${SCIM}/Users`).set("X-Forwarded-For", `192.0.2.${i}`)).status).toBe(401);
    expect((await request(direct).get(`${SCIM}/Users`).set("X-Forwarded-For", "192.0.2.99")).status).toBe(429);
  });
});
