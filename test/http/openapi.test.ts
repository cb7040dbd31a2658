// The OpenAPI document describes the routes that exist: every documented operation answers 401 without
// credentials (not 404), and the request schemas are the ones the routes enforce.
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Express } from "express";
import { testApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

let tdb: TestDatabase;
let app: Express;
beforeAll(async () => {
  tdb = await createTestDatabase();
  app = testApp(tdb.db);
});
afterAll(async () => tdb?.destroy());

describe("GET /api/v1/openapi.json", () => {
  it("is an OpenAPI 3.1 document covering the contract's admin and operator endpoints", async () => {
    const res = await request(app).get("/api/v1/openapi.json");
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe("3.1.0");
    const paths = Object.keys(res.body.paths);
    for (const p of [
      "/api/v1/orgs",
      "/api/v1/orgs/{orgId}/seats",
      "/api/v1/orgs/{orgId}/members",
      "/api/v1/orgs/{orgId}/members/swap",
      "/api/v1/orgs/{orgId}/group-mappings/preview",
      "/api/v1/orgs/{orgId}/audit-events",
      "/api/v1/orgs/{orgId}/saml",
      "/api/v1/orgs/{orgId}/invitations",
      "/api/v1/orgs/{orgId}/invitations/{invitationId}/resend",
      "/claim/{token}",
      "/api/v1/claim",
    ]) {
      expect(paths).toContain(p);
    }
    const patch = res.body.paths["/api/v1/orgs/{orgId}/members/{memberId}"].patch;
    expect(patch.requestBody.content["application/json"].schema.properties.seatType.type).toBe("string");
  });

  it("documents only routes that exist: each answers 401 without credentials, never 404", async () => {
    const doc = (await request(app).get("/api/v1/openapi.json")).body as {
      paths: Record<string, Record<string, unknown>>;
    };
    const id = "00000000-0000-4000-8000-000000000000";
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const url = path.replace(/\{\w+\}/g, id);
        const res = await (request(app) as unknown as Record<string, (u: string) => request.Test>)
          [method](url)
          .send({});
        // Public operations (the claim) need no credentials: they exist, and refuse a made-up body or link.
        const isPublic = Array.isArray((operation as { security?: unknown[] }).security);
        const expected = isPublic ? [400, 410] : [401];
        expect(expected, `${method.toUpperCase()} ${path} answered ${res.status}`).toContain(res.status);
      }
    }
  });
});
