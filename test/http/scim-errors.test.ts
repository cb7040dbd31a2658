// SCIM errors over HTTP (RFC 7644 §3.12): whatever goes wrong under /scim/v2 answers a SCIM error body
// (schemas [Error], status as a string, scimType where the RFC defines one) with the right HTTP status and
// a SCIM content type, never HTML or the admin API's JSON.
import type { Express } from "express";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { makeOrg, testDeps, type TestOrg } from "../support/factories.js";
import { MISSING_ID } from "./helpers.js";
import {
  createGroup,
  createUser,
  expectScimError,
  GROUP_SCHEMA,
  listWithFilter,
  patchBody,
  SCIM,
  type ScimClient,
  scimClient,
  type ScimResource,
  SEAT,
  USER_SCHEMA,
  userBody,
} from "./scim-helpers.js";

let tdb: TestDatabase;
let app: Express;
let org: TestOrg;
let scim: ScimClient;
let user: ScimResource;
let group: ScimResource;

beforeAll(async () => {
  tdb = await createTestDatabase();
  app = testApp(tdb.db);
  org = await makeOrg(testDeps(tdb.db));
  scim = scimClient(app, org.scimToken);
  user = await createUser(scim, "errors@example.com");
  group = await createGroup(scim, "Errors", [user.id]);
});
afterAll(async () => tdb?.destroy());

function raw(method: "post" | "put" | "patch", path: string, body: string, contentType = "application/scim+json") {
  return request(app)
    [method](SCIM + path)
    .set("Authorization", `Bearer ${org.scimToken}`)
    .set("Content-Type", contentType)
    .send(body);
}

describe("malformed requests: 400 invalidSyntax", () => {
  it.each([
    ["POST /Users", "post", "/Users"],
    ["PUT /Users/{id}", "put", "/Users/:user"],
    ["PATCH /Users/{id}", "patch", "/Users/:user"],
    ["POST /Groups", "post", "/Groups"],
    ["PATCH /Groups/{id}", "patch", "/Groups/:group"],
    ["POST /Bulk", "post", "/Bulk"],
    ["POST /.search", "post", "/.search"],
  ] as const)("malformed JSON on %s", async (_label, method, template) => {
    const path = template.replace(":user", user.id).replace(":group", group.id);
    for (const contentType of ["application/scim+json", "application/json"]) {
      expectScimError(
        await raw(
          method,
          path,
          '{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": ',
          contentType,
        ),
        400,
        "invalidSyntax",
      );
    }
  });

  it("a body that is JSON but not an object", async () => {
    expectScimError(await scim.post("/Users", ["a", "list"]), 400, "invalidSyntax");
    expectScimError(await scim.post("/Groups", "a string"), 400, "invalidSyntax");
    expectScimError(await scim.patch(`/Users/${user.id}`, 42), 400, "invalidSyntax");
  });

  it("a PATCH without the PatchOp schema, without operations, or with an unknown op", async () => {
    expectScimError(
      await scim.patch(`/Users/${user.id}`, { Operations: [{ op: "replace", path: "displayName", value: "x" }] }),
      400,
      "invalidSyntax",
    );
    expectScimError(await scim.patch(`/Groups/${group.id}`, patchBody()), 400, "invalidSyntax");
    expectScimError(
      await scim.patch(`/Users/${user.id}`, patchBody({ op: "merge", path: "displayName", value: "x" })),
      400,
      "invalidSyntax",
    );
    expectScimError(
      await scim.patch(`/Groups/${group.id}`, patchBody({ op: "merge", path: "displayName", value: "x" })),
      400,
      "invalidSyntax",
    );
  });

  it("an empty body where one is needed", async () => {
    expectScimError(await scim.post("/Users"), 400, "invalidSyntax");
    expectScimError(await scim.post("/Bulk"), 400, "invalidSyntax");
  });
});

describe("unknown endpoints: SCIM 404, not HTML", () => {
  it.each([
    ["GET", "/Devices"],
    ["GET", "/Users/{id}/extra"],
    ["GET", "/"],
    ["POST", "/Users/{id}"],
    ["DELETE", "/Users"],
    ["PUT", "/ServiceProviderConfig"],
    ["GET", "/v2/Users"],
  ])("%s %s", async (method, template) => {
    const path = template.replace("{id}", user.id);
    const call = request(app)
      [method.toLowerCase() as "get" | "post" | "delete" | "put"](SCIM + path)
      .set("Authorization", `Bearer ${org.scimToken}`);
    const res = await call;
    expectScimError(res, 404, null);
    expect(res.text).not.toMatch(/<html|<!DOCTYPE/i);
  });

  it("unknown resources by id", async () => {
    expectScimError(await scim.get(`/Users/${MISSING_ID}`), 404, null);
    expectScimError(await scim.get(`/Groups/${MISSING_ID}`), 404, null);
    expectScimError(await scim.get("/Groups/not-a-uuid"), 404, null);
    expectScimError(await scim.delete(`/Groups/${MISSING_ID}`), 404, null);
    expectScimError(
      await scim.patch(`/Groups/${MISSING_ID}`, patchBody({ op: "add", path: "members", value: [{ value: user.id }] })),
      404,
      null,
    );
  });
});

describe("each error with its status and scimType", () => {
  it("409 uniqueness for a taken userName", async () => {
    expectScimError(await scim.post("/Users", userBody("ERRORS@example.com")), 409, "uniqueness");
  });

  it("400 invalidFilter for a bad filter", async () => {
    expectScimError(await listWithFilter(scim, "userName eq"), 400, "invalidFilter");
    expectScimError(await listWithFilter(scim, 'nope eq "x"', "/Groups"), 400, "invalidFilter");
  });

  it("400 invalidValue for missing or wrongly typed values", async () => {
    expectScimError(await scim.post("/Users", { schemas: [USER_SCHEMA] }), 400, "invalidValue");
    expectScimError(
      await scim.post("/Users", userBody("typed@example.com", { active: "perhaps" })),
      400,
      "invalidValue",
    );
    expectScimError(await scim.post("/Users", userBody("long@example.com".padStart(300, "x"))), 400, "invalidValue");
    expectScimError(await scim.post("/Groups", { schemas: [GROUP_SCHEMA] }), 400, "invalidValue");
    expectScimError(
      await scim.post("/Groups", { schemas: [GROUP_SCHEMA], displayName: "Bad members", members: "everyone" }),
      400,
      "invalidValue",
    );
    expectScimError(await scim.get("/Users?count=lots"), 400, "invalidValue");
  });

  it("400 invalidValue for text with a NUL character (PostgreSQL cannot store it), and nothing is created", async () => {
    expectScimError(await scim.post("/Users", userBody("nul\u0000@example.com")), 400, "invalidValue");
    expectScimError(
      await scim.post("/Users", userBody("nul-name@example.com", { name: { givenName: "A\u0000" } })),
      400,
      "invalidValue",
    );
    expectScimError(
      await scim.post("/Groups", { schemas: [GROUP_SCHEMA], displayName: "Nul\u0000" }),
      400,
      "invalidValue",
    );
    const found = await scim.get(`/Users?filter=${encodeURIComponent('userName eq "nul-name@example.com"')}`);
    expect(found.body.totalResults).toBe(0);
  });

  it("stores a lone UTF-16 surrogate as U+FFFD, in the indexed userName and in the stored resource alike", async () => {
    const created = await scim.post("/Users", userBody("odd\ud800@example.com", { name: { givenName: "Odd\udc00" } }));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ userName: "odd\ufffd@example.com", name: { givenName: "Odd\ufffd" } });
    const found = await scim.get(`/Users?filter=${encodeURIComponent('userName eq "odd\ufffd@example.com"')}`);
    expect(found.body.totalResults).toBe(1);
  });

  it("400 mutability for the read-only seat extension and group ids", async () => {
    expectScimError(
      await scim.patch(`/Users/${user.id}`, patchBody({ op: "replace", path: `${SEAT}:seatType`, value: "chat" })),
      400,
      "mutability",
    );
    expectScimError(
      await scim.patch(`/Groups/${group.id}`, patchBody({ op: "replace", path: "id", value: MISSING_ID })),
      400,
      "mutability",
    );
  });

  it("400 noTarget / invalidPath for PATCH paths that select nothing usable", async () => {
    expectScimError(await scim.patch(`/Groups/${group.id}`, patchBody({ op: "remove" })), 400, "noTarget");
    expectScimError(
      await scim.patch(`/Groups/${group.id}`, patchBody({ op: "replace", path: "shoeSize", value: "44" })),
      400,
      "invalidPath",
    );
    expectScimError(
      await scim.patch(
        `/Groups/${group.id}`,
        patchBody({ op: "add", path: `members[value eq "${user.id}"]`, value: [] }),
      ),
      400,
      "invalidPath",
    );
  });

  it("412 without a scimType for a stale If-Match", async () => {
    expectScimError(
      await scim.patch(`/Users/${user.id}`, patchBody({ op: "replace", path: "displayName", value: "x" }), {
        "If-Match": 'W/"0"',
      }),
      412,
      null,
    );
  });

  it("413 without a scimType for too many Bulk operations", async () => {
    const operations = Array.from({ length: 1001 }, (_, i) => ({
      method: "DELETE",
      path: `/Users/${MISSING_ID}`,
      bulkId: `d${i}`,
    }));
    expectScimError(
      await scim.post("/Bulk", {
        schemas: ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        Operations: operations,
      }),
      413,
      null,
    );
  });

  it("413 for a single-resource body over the size limit", async () => {
    expectScimError(
      await scim.post("/Users", userBody("huge@example.com", { nickName: "x".repeat(4 * 1024 * 1024 + 1) })),
      413,
      null,
    );
  });

  it("401 without a scimType, for every path", async () => {
    for (const path of ["/Users", "/Groups", "/Bulk", "/Nope"]) {
      const res = await request(app)
        .get(SCIM + path)
        .set("Authorization", "Bearer rst_scim_wrong");
      expectScimError(res, 401, null);
    }
  });

  it("the primary owner is protected: a SCIM user with the owner's userName is adopted, and cannot be deactivated (403)", async () => {
    const owner = await request(app)
      .get(`/api/v1/orgs/${org.org.id}/members?role=primary_owner`)
      .set("Authorization", `Bearer ${org.ownerToken}`);
    const adopted = await scim.post("/Users", userBody(owner.body.items[0].userName));
    expect(adopted.status).toBe(201);
    expect(adopted.body.id).toBe(owner.body.items[0].id);
    expectScimError(
      await scim.patch(`/Users/${adopted.body.id}`, patchBody({ op: "replace", path: "active", value: false })),
      403,
      null,
    );
    expectScimError(await scim.delete(`/Users/${adopted.body.id}`), 403, null);
    expect((await scim.get(`/Users/${adopted.body.id}`)).body.active).toBe(true);
  });
});

describe("responses are SCIM JSON", () => {
  it("successful responses have the SCIM content type too", async () => {
    for (const path of [
      "/Users",
      `/Users/${user.id}`,
      "/Groups",
      `/Groups/${group.id}`,
      "/ServiceProviderConfig",
      "/ResourceTypes",
      "/Schemas",
    ]) {
      const res = await scim.get(path);
      expect(res.status, path).toBe(200);
      expect(res.headers["content-type"], path).toMatch(/^application\/scim\+json/);
    }
  });

  it("a request id is echoed for support", async () => {
    const res = await scim.get(`/Users/${MISSING_ID}`);
    expect(res.headers["x-request-id"]).toBeTruthy();
  });
});
