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
      "/api/v1/orgs/{orgId}/jobs",
      "/api/v1/orgs/{orgId}/jobs/{jobId}",
      "/api/v1/orgs/{orgId}/audit-events",
      "/api/v1/orgs/{orgId}/saml",
      "/api/v1/orgs/{orgId}/invitations",
      "/api/v1/orgs/{orgId}/invitations/{invitationId}/resend",
      "/claim/{token}",
      "/api/v1/claim",
      "/api/v1/orgs/{orgId}/seats/quote",
      "/api/v1/orgs/{orgId}/seats/purchase",
      "/api/v1/orgs/{orgId}/seats/reductions",
      "/api/v1/orgs/{orgId}/billing",
      "/api/v1/orgs/{orgId}/renew",
    ]) {
      expect(paths).toContain(p);
    }
    const patch = res.body.paths["/api/v1/orgs/{orgId}/members/{memberId}"].patch;
    expect(patch.requestBody.content["application/json"].schema.properties.seatType.type).toBe("string");
    const purchase = res.body.paths["/api/v1/orgs/{orgId}/seats/purchase"].post;
    expect(purchase.parameters).toContainEqual(expect.objectContaining({ name: "Idempotency-Key", in: "header" }));
    expect(Object.keys(purchase.requestBody.content["application/json"].schema.properties)).toEqual(["add"]);
    const create = res.body.paths["/api/v1/orgs"].post.requestBody.content["application/json"].schema;
    expect(Object.keys(create.properties)).toEqual(expect.arrayContaining(["term", "pricing"]));
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

describe("OpenAPI covers every route", () => {
  it("each admin and operator route the routers define is documented", async () => {
    const { createAdminRouter } = await import("../../src/admin/admin-router.js");
    const { createOperatorRouter } = await import("../../src/operator/operator-router.js");
    const { testDeps } = await import("../support/factories.js");
    const { createSessionCodec, createSessionManager } = await import("../../src/http/session.js");
    const { createSessionStore } = await import("../../src/services/sessions-service.js");
    const deps = testDeps(tdb.db);
    type Layer = { route?: { path: string; methods: Record<string, boolean> } };
    const routesOf = (router: { stack: Layer[] }, prefix: string) =>
      router.stack.flatMap((layer) =>
        layer.route
          ? Object.keys(layer.route.methods)
              .filter((m) => m !== "_all")
              .map((m) => `${m} ${prefix}${layer.route!.path}`.replace(/:(\w+)/g, "{$1}").replace(/\/$/, ""))
          : [],
      );
    const defined = [
      ...routesOf(
        createAdminRouter(deps, createSessionManager(createSessionCodec("k"), createSessionStore(deps))) as never,
        "/api/v1/orgs/{orgId}",
      ),
      ...routesOf(createOperatorRouter(deps, "token") as never, "/api/v1"),
    ];
    expect(defined.length).toBeGreaterThan(20);
    const doc = (await request(app).get("/api/v1/openapi.json")).body as { paths: Record<string, object> };
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`));
    // Path parameter names may differ between the router and the document; compare their shapes.
    const shape = (r: string) => r.replace(/\{\w+\}/g, "{}");
    const missing = defined.filter((r) => !documented.map(shape).includes(shape(r)));
    expect(missing).toEqual([]);
  });
});
