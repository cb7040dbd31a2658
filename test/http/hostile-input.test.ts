// Input an attacker or a broken client sends (issue 8): bodies nested 10,000 deep, SCIM messages without
// or with the wrong `schemas`, malformed PATCH paths. Each is a 400 in the protocol's own format and
// changes nothing; none is ever a 500.
import type { Express } from "express";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { makeOrg, testDeps, type TestOrg } from "../support/factories.js";
import { OPERATOR_TOKEN, testApp } from "../support/app.js";
import { adminClient, createOrgViaApi } from "./helpers.js";
import {
  BULK_REQUEST,
  createUser,
  expectScimError,
  GROUP_SCHEMA,
  patchBody,
  SCIM,
  type ScimClient,
  scimClient,
  type ScimResource,
  SEARCH_REQUEST,
  USER_SCHEMA,
} from "./scim-helpers.js";

let tdb: TestDatabase;
let app: Express;
let org: TestOrg;
let scim: ScimClient;
let user: ScimResource;

beforeAll(async () => {
  tdb = await createTestDatabase();
  app = testApp(tdb.db);
  org = await makeOrg(testDeps(tdb.db));
  scim = scimClient(app, org.scimToken);
  user = await createUser(scim, "hostile@example.com", { name: { givenName: "Ada", familyName: "Lovelace" } });
});
afterAll(async () => tdb?.destroy());

/** A body nested 10,000 deep, as text (JSON.stringify would itself overflow on the way out). */
const DEEP_TEXT =
  '{"schemas":["' +
  USER_SCHEMA +
  '"],"userName":"deep@example.com","x":' +
  "[".repeat(10_000) +
  "]".repeat(10_000) +
  "}";

describe("a body nested 10,000 deep", () => {
  it("is a SCIM 400 invalidSyntax on every SCIM endpoint that takes a body", async () => {
    for (const [method, path] of [
      ["post", "/Users"],
      ["put", `/Users/${user.id}`],
      ["patch", `/Users/${user.id}`],
      ["post", "/Groups"],
      ["post", "/Users/.search"],
      ["post", "/Bulk"],
    ] as const) {
      const res = await request(app)
        [method](SCIM + path)
        .set("Authorization", `Bearer ${org.scimToken}`)
        .set("Content-Type", "application/scim+json")
        .send(DEEP_TEXT);
      expectScimError(res, 400, "invalidSyntax");
      expect(res.body.detail, `${method} ${path}`).toMatch(/levels deep/);
    }
    expect(
      (await scim.get(`/Users?filter=${encodeURIComponent('userName eq "deep@example.com"')}`)).body.totalResults,
    ).toBe(0);
  });

  it("is a JSON 400 on the admin and operator APIs", async () => {
    const created = await createOrgViaApi(app);
    const owner = adminClient(app, created.orgId, created.ownerToken);
    const deepArray = "[".repeat(10_000) + "]".repeat(10_000);
    for (const res of [
      await request(app)
        .put(`/api/v1/orgs/${created.orgId}/group-mappings`)
        .set("Authorization", `Bearer ${created.ownerToken}`)
        .set("Content-Type", "application/json")
        .send(deepArray),
      await request(app)
        .post("/api/v1/orgs")
        .set("Authorization", `Bearer ${OPERATOR_TOKEN}`)
        .set("Content-Type", "application/json")
        .send(`{"name":${deepArray}}`),
    ]) {
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: "invalid_request", message: expect.stringMatching(/levels deep/) });
    }
    expect((await owner.get("group-mappings")).body).toEqual([]);
  });

  it("leaves ordinary nesting alone", async () => {
    const res = await scim.patch(
      `/Users/${user.id}`,
      patchBody({ op: "replace", value: { name: { givenName: "Ada" } } }),
    );
    expect(res.status).toBeLessThan(300);
  });
});

describe("SCIM `schemas` is checked (RFC 7644 §3.3)", () => {
  const userCases: [string, Record<string, unknown>, string][] = [
    ["missing", { userName: "s1@example.com" }, "invalidValue"],
    ["null", { schemas: null, userName: "s2@example.com" }, "invalidValue"],
    ["the Group URN", { schemas: [GROUP_SCHEMA], userName: "s3@example.com" }, "invalidValue"],
    ["User and Group URNs", { schemas: [USER_SCHEMA, GROUP_SCHEMA], userName: "s4@example.com" }, "invalidValue"],
    ["a string", { schemas: USER_SCHEMA, userName: "s5@example.com" }, "invalidSyntax"],
    ["an array with a number", { schemas: [USER_SCHEMA, 7], userName: "s6@example.com" }, "invalidSyntax"],
    ["empty", { schemas: [], userName: "s7@example.com" }, "invalidValue"],
  ];

  it("refuses a User whose schemas are missing, wrong or not an array, on POST, PUT and in Bulk", async () => {
    for (const [what, body, scimType] of userCases) {
      expectScimError(await scim.post("/Users", body), 400, scimType);
      expectScimError(await scim.put(`/Users/${user.id}`, { ...body, userName: user.userName }), 400, scimType);
      const bulk = await scim.post("/Bulk", {
        schemas: [BULK_REQUEST],
        Operations: [{ method: "POST", path: "/Users", bulkId: "u", data: body }],
      });
      expect(bulk.status, what).toBe(200);
      expect(bulk.body.Operations[0].status, what).toBe("400");
      expect(bulk.body.Operations[0].response.scimType, what).toBe(scimType);
    }
    const list = await scim.get(`/Users?filter=${encodeURIComponent('userName sw "s"')}`);
    expect(list.body.totalResults).toBe(0);
  });

  it("refuses a Group with the User URN or no schemas, and accepts unknown extension URNs beside the core one", async () => {
    expectScimError(await scim.post("/Groups", { schemas: [USER_SCHEMA], displayName: "Wrong" }), 400, "invalidValue");
    expectScimError(await scim.post("/Groups", { displayName: "Bare" }), 400, "invalidValue");
    expectScimError(await scim.post("/Groups", { schemas: GROUP_SCHEMA, displayName: "Str" }), 400, "invalidSyntax");
    const ok = await scim.post("/Groups", {
      schemas: [GROUP_SCHEMA, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
      displayName: "Fine",
    });
    expect(ok.status).toBe(201);
    // URNs compare case-insensitively.
    const upper = await scim.post("/Users", { schemas: [USER_SCHEMA.toUpperCase()], userName: "upper@example.com" });
    expect(upper.status).toBe(201);
  });

  it("requires the PatchOp URN on PATCH and the SearchRequest URN on .search", async () => {
    const op = { op: "replace", path: "displayName", value: "X" };
    for (const body of [
      { Operations: [op] },
      { schemas: [USER_SCHEMA], Operations: [op] },
      { schemas: "x", Operations: [op] },
    ]) {
      expectScimError(await scim.patch(`/Users/${user.id}`, body), 400, "invalidSyntax");
    }
    expectScimError(await scim.post("/Users/.search", { filter: 'userName eq "x"' }), 400, "invalidSyntax");
    expect((await scim.post("/Users/.search", { schemas: [SEARCH_REQUEST], filter: 'userName eq "x"' })).status).toBe(
      200,
    );
    expect((await scim.get(`/Users/${user.id}`)).body.displayName).toBeUndefined();
  });
});

describe("malformed PATCH paths (RFC 7644 §3.5.2)", () => {
  it("answers 400 invalidPath and changes nothing", async () => {
    const target = await createUser(scim, "paths@example.com", { name: { givenName: "Grace", familyName: "Hopper" } });
    const before = (await scim.get(`/Users/${target.id}`)).body;
    const paths = [
      "name..givenName",
      ".name",
      "name.",
      "name.givenName.x",
      "na me",
      "1name",
      'emails[type eq "work"]..value',
      "urn:ietf:params:scim:schemas:extension:enterprise:2.0:Userdepartment",
      "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:",
      "urn:example:unknown:2.0:User:thing",
    ];
    for (const path of paths) {
      const res = await scim.patch(`/Users/${target.id}`, patchBody({ op: "replace", path, value: "Changed" }));
      expectScimError(res, 400, "invalidPath");
      expect(res.body.detail, path).toContain(path);
    }
    // The same in a path-less value's keys.
    expectScimError(
      await scim.patch(`/Users/${target.id}`, patchBody({ op: "replace", value: { "name..givenName": "Changed" } })),
      400,
      "invalidPath",
    );
    expect((await scim.get(`/Users/${target.id}`)).body).toEqual(before);
  });

  it("still takes the paths IdPs send", async () => {
    const target = await createUser(scim, "goodpaths@example.com");
    const res = await scim.patch(
      `/Users/${target.id}`,
      patchBody(
        { op: "replace", path: "name.givenName", value: "Katherine" },
        { op: "add", path: 'emails[type eq "work"].value', value: "kj@example.com" },
        { op: "add", path: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", value: "NASA" },
        { op: "replace", path: "urn:ietf:params:scim:schemas:core:2.0:User:displayName", value: "KJ" },
        { op: "replace", value: { "name.familyName": "Johnson", active: true } },
      ),
    );
    expect(res.status).toBeLessThan(300);
    const after = (await scim.get(`/Users/${target.id}`)).body;
    expect(after.name).toMatchObject({ givenName: "Katherine", familyName: "Johnson" });
    expect(after.displayName).toBe("KJ");
    expect(after["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"].department).toBe("NASA");
  });
});

describe("PATCH of the enterprise extension as a whole object", () => {
  const ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

  it("adds, replaces and removes it", async () => {
    const target = await createUser(scim, "enterprise-whole@example.com");
    const at = `/Users/${target.id}`;
    let res = await scim.patch(
      at,
      patchBody({
        op: "add",
        path: ENT,
        value: { department: "Eng", employeeNumber: "7", manager: { value: user.id } },
      }),
    );
    expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
    let got = (await scim.get(at)).body;
    expect(got.schemas).toContain(ENT);
    expect(got[ENT]).toMatchObject({ department: "Eng", employeeNumber: "7", manager: { value: user.id } });

    // replace on a complex attribute sets the sub-attributes given and leaves the others (RFC 7644 §3.5.2.3).
    res = await scim.patch(at, patchBody({ op: "replace", path: ENT, value: { department: "Ops", costCenter: "42" } }));
    expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
    got = (await scim.get(at)).body;
    expect(got[ENT]).toMatchObject({ department: "Ops", costCenter: "42", employeeNumber: "7" });

    res = await scim.patch(at, patchBody({ op: "remove", path: ENT }));
    expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
    got = (await scim.get(at)).body;
    expect(got[ENT]).toBeUndefined();
    expect(got.schemas).not.toContain(ENT);

    // Removing it again, or from a user who never had it, changes nothing and is not an error.
    res = await scim.patch(at, patchBody({ op: "remove", path: ENT }));
    expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
  });

  it("works on a user created with the extension, alone and mixed with other operations", async () => {
    for (const op of ["add", "replace"]) {
      const target = await createUser(scim, `enterprise-${op}@example.com`, {
        [ENT]: { department: "A", manager: { value: user.id } },
      });
      const at = `/Users/${target.id}`;
      const res = await scim.patch(
        at,
        patchBody(
          { op, path: ENT, value: { department: "B", organization: "Org" } },
          { op: "replace", path: "displayName", value: "Mixed" },
        ),
      );
      expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
      const got = (await scim.get(at)).body;
      expect(got[ENT], op).toMatchObject({ department: "B", organization: "Org", manager: { value: user.id } });
      expect(got.displayName).toBe("Mixed");
      const removed = await scim.patch(
        at,
        patchBody({ op: "remove", path: ENT }, { op: "add", path: `${ENT}:department`, value: "C" }),
      );
      expect(removed.status, JSON.stringify(removed.body)).toBeLessThan(300);
      expect((await scim.get(at)).body[ENT]).toEqual({ department: "C" });
    }
  });

  it("replaces it through a path-less value keyed by the URN", async () => {
    const target = await createUser(scim, "enterprise-pathless@example.com", { [ENT]: { department: "A" } });
    const res = await scim.patch(
      `/Users/${target.id}`,
      patchBody({ op: "replace", value: { [ENT]: { department: "B" } } }),
    );
    expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
    expect((await scim.get(`/Users/${target.id}`)).body[ENT]).toMatchObject({ department: "B" });
  });
});
