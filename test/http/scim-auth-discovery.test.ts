// SCIM authentication (the bearer token decides the org; revocation holds at once), tenant isolation, and
// the discovery endpoints (ServiceProviderConfig, ResourceTypes, Schemas) over HTTP.
import type { Express } from "express";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServiceDeps } from "../../src/services/context.js";
import { testApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { makeOrg, testDeps, type TestOrg } from "../support/factories.js";
import { adminClient } from "./helpers.js";
import {
  BASE_URL,
  createGroup,
  createUser,
  ENTERPRISE,
  expectScimError,
  GROUP_SCHEMA,
  idsOf,
  LIST_RESPONSE,
  listWithFilter,
  patchBody,
  SCIM,
  type ScimClient,
  scimClient,
  SEARCH_REQUEST,
  SEAT,
  USER_SCHEMA,
  userBody,
} from "./scim-helpers.js";

let tdb: TestDatabase;
let app: Express;
let deps: ServiceDeps;

beforeAll(async () => {
  tdb = await createTestDatabase();
  app = testApp(tdb.db);
  deps = testDeps(tdb.db);
});
afterAll(async () => tdb?.destroy());

function expectUnauthorized(res: request.Response): void {
  expectScimError(res, 401, null);
  expect(res.headers["www-authenticate"]).toMatch(/^Bearer/);
}

describe("SCIM authentication", () => {
  let org: TestOrg;
  beforeAll(async () => {
    org = await makeOrg(deps);
  });

  it.each([
    ["no Authorization header", null],
    ["an empty bearer", "Bearer "],
    ["a Basic credential", `Basic ${Buffer.from("user:pass").toString("base64")}`],
    ["an unknown SCIM-shaped token", "Bearer rst_scim_0000000000000000000000000000000000000000"],
    ["random text", "Bearer not-a-token"],
  ])("answers 401 with a SCIM error body for %s", async (_label, header) => {
    for (const call of [
      request(app).get(`${SCIM}/Users`),
      request(app).post(`${SCIM}/Users`).send(userBody("nobody@example.com")),
      request(app).get(`${SCIM}/Nope`),
    ]) {
      const res = header === null ? await call : await call.set("Authorization", header);
      expectUnauthorized(res);
    }
  });

  it("refuses an admin API token on SCIM (and creates nothing)", async () => {
    const res = await request(app)
      .post(`${SCIM}/Users`)
      .set("Authorization", `Bearer ${org.ownerToken}`)
      .send(userBody("sneaky@example.com"));
    expectUnauthorized(res);
    const list = await scimClient(app, org.scimToken).get(
      `/Users?filter=${encodeURIComponent('userName eq "sneaky@example.com"')}`,
    );
    expect(list.body.totalResults).toBe(0);
  });

  it("checks the token before reading the body (malformed JSON without a token is still 401)", async () => {
    const res = await request(app).post(`${SCIM}/Users`).set("Content-Type", "application/scim+json").send("{not json");
    expectUnauthorized(res);
  });

  it("records the token's last use", async () => {
    const owner = adminClient(app, org.org.id, org.ownerToken);
    expect((await scimClient(app, org.scimToken).get("/Users")).status).toBe(200);
    const tokens = await owner.get("scim-tokens");
    expect(tokens.status).toBe(200);
    expect(tokens.body).toHaveLength(1);
    expect(tokens.body[0].lastUsedAt).not.toBeNull();
  });

  it("refuses a revoked token at once, while the org's other tokens keep working (rotation)", async () => {
    const owner = adminClient(app, org.org.id, org.ownerToken);
    const issued = await owner.post("scim-tokens", { name: "rotation" });
    expect(issued.status).toBe(201);
    const second = scimClient(app, issued.body.token);
    expect((await second.get("/Users")).status).toBe(200);

    expect((await owner.delete(`scim-tokens/${issued.body.id}`)).status).toBe(204);
    // The very next request fails: no cache, no grace period.
    expectUnauthorized(await second.get("/Users"));
    expectUnauthorized(await second.post("/Users", userBody("after-revoke@example.com")));
    expectUnauthorized(await second.get("/ServiceProviderConfig"));

    const first = scimClient(app, org.scimToken);
    const still = await first.get(`/Users?filter=${encodeURIComponent('userName eq "after-revoke@example.com"')}`);
    expect(still.status).toBe(200);
    expect(still.body.totalResults).toBe(0);
  });

  // A process remembers which org a token belongs to; the revocation is checked on every request, by the
  // request's own statement on POST /Users and GET /Users. Two apps stand for two server processes.
  it("refuses a token revoked in another process, on every path, though this process has seen it", async () => {
    const other = testApp(tdb.db);
    const owner = adminClient(app, org.org.id, org.ownerToken);
    const issued = await owner.post("scim-tokens", { name: "remembered" });
    const remembered = scimClient(other, issued.body.token);
    const existing = await createUser(remembered, "remembered-existing@example.com");
    expect((await remembered.get("/Users")).status).toBe(200);
    expect(
      (await remembered.get(`/Users?filter=${encodeURIComponent('userName eq "remembered-existing@example.com"')}`))
        .body.totalResults,
    ).toBe(1);

    expect((await owner.delete(`scim-tokens/${issued.body.id}`)).status).toBe(204);
    const attempts = [
      remembered.post("/Users", userBody("revoked-fast@example.com")), // the one-statement create
      remembered.post("/Users", userBody("revoked-inactive@example.com", { active: false })), // the transactional create
      remembered.post("/Users", userBody("remembered-existing@example.com")), // a taken userName: 401, not 409
      remembered.post("/Users", { schemas: [USER_SCHEMA] }), // an invalid body: 401, not 400
      remembered.get(`/Users?filter=${encodeURIComponent('userName eq "remembered-existing@example.com"')}`), // the one-query lookup
      remembered.get(`/Users?filter=${encodeURIComponent('userName eq "nobody-here@example.com"')}`), // a lookup that finds no one
      remembered.get("/Users?count=5"), // a page
      remembered.get(`/Users/${existing.id}`),
      remembered.get("/ServiceProviderConfig"),
    ];
    for (const res of await Promise.all(attempts)) expectUnauthorized(res);

    const still = scimClient(app, org.scimToken);
    for (const userName of ["revoked-fast@example.com", "revoked-inactive@example.com"]) {
      const found = await still.get(`/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`);
      expect(found.body.totalResults).toBe(0);
    }
  });

  it("refuses the org's initial token once it is revoked", async () => {
    const other = await makeOrg(deps);
    const scim = scimClient(app, other.scimToken);
    expect((await scim.get("/Users")).status).toBe(200);
    const owner = adminClient(app, other.org.id, other.ownerToken);
    const tokens = await owner.get("scim-tokens");
    expect((await owner.delete(`scim-tokens/${tokens.body[0].id}`)).status).toBe(204);
    expectUnauthorized(await scim.get("/Users"));
  });
});

describe("tenant isolation", () => {
  let a: ScimClient;
  let b: ScimClient;
  let bUser: Record<string, unknown> & { id: string };
  let bGroupId: string;
  const bName = "shared.name@example.com";

  beforeAll(async () => {
    a = scimClient(app, (await makeOrg(deps)).scimToken);
    b = scimClient(app, (await makeOrg(deps)).scimToken);
    bUser = await createUser(b, bName, { displayName: "B's user" });
    bGroupId = (await createGroup(b, "B team", [bUser.id])).id;
  });

  async function expectBUntouched(): Promise<void> {
    const res = await b.get(`/Users/${bUser.id}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(bUser);
  }

  it("org A does not see org B's users or groups in lists, filters or searches", async () => {
    const users = await a.get("/Users");
    expect(idsOf(users)).not.toContain(bUser.id);
    expect((await listWithFilter(a, `userName eq "${bName}"`)).body.totalResults).toBe(0);
    expect((await listWithFilter(a, `id eq "${bUser.id}"`)).body.totalResults).toBe(0);
    expect((await listWithFilter(a, 'displayName eq "B team"', "/Groups")).body.totalResults).toBe(0);
    const search = await a.post("/.search", { schemas: [SEARCH_REQUEST] });
    expect(search.status).toBe(200);
    expect(idsOf(search)).not.toContain(bUser.id);
    expect(idsOf(search)).not.toContain(bGroupId);
  });

  it("org A gets 404 for org B's user and group by id, for every method, and B's data stays as it was", async () => {
    expectScimError(await a.get(`/Users/${bUser.id}`), 404, null);
    expectScimError(await a.put(`/Users/${bUser.id}`, userBody(bName, { displayName: "hijacked" })), 404, null);
    expectScimError(
      await a.patch(`/Users/${bUser.id}`, patchBody({ op: "replace", path: "displayName", value: "hijacked" })),
      404,
      null,
    );
    expectScimError(await a.delete(`/Users/${bUser.id}`), 404, null);
    expectScimError(await a.get(`/Groups/${bGroupId}`), 404, null);
    expectScimError(await a.patch(`/Groups/${bGroupId}`, patchBody({ op: "remove", path: "members" })), 404, null);
    expectScimError(await a.delete(`/Groups/${bGroupId}`), 404, null);
    await expectBUntouched();
    const group = await b.get(`/Groups/${bGroupId}`);
    expect(group.body.members.map((m: { value: string }) => m.value)).toEqual([bUser.id]);
  });

  it("org A cannot put org B's user in its own group, nor reach it through Bulk", async () => {
    const group = await createGroup(a, "A team", [bUser.id]);
    expect(group.members ?? []).toEqual([]);
    const patched = await a.patch(
      `/Groups/${group.id}?attributes=members`,
      patchBody({ op: "add", path: "members", value: [{ value: bUser.id }] }),
    );
    expect(patched.status).toBe(200);
    expect(patched.body.members ?? []).toEqual([]);
    const bulk = await a.post("/Bulk", {
      schemas: ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
      Operations: [
        {
          method: "PATCH",
          path: `/Users/${bUser.id}`,
          data: patchBody({ op: "replace", path: "displayName", value: "hijacked" }),
        },
        { method: "DELETE", path: `/Users/${bUser.id}` },
      ],
    });
    expect(bulk.status).toBe(200);
    expect(bulk.body.Operations.map((o: { status: string }) => o.status)).toEqual(["404", "404"]);
    await expectBUntouched();
  });

  it("userNames are unique per org, not across orgs", async () => {
    const res = await a.post("/Users", userBody(bName.toUpperCase()));
    expect(res.status).toBe(201);
    expect(res.body.id).not.toBe(bUser.id);
    await expectBUntouched();
  });
});

describe("discovery", () => {
  let scim: ScimClient;
  beforeAll(async () => {
    scim = scimClient(app, (await makeOrg(deps)).scimToken);
  });

  it("GET /ServiceProviderConfig advertises what the server does", async () => {
    const res = await scim.get("/ServiceProviderConfig");
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^application\/scim\+json/);
    expect(res.body).toMatchObject({
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
      patch: { supported: true },
      bulk: { supported: true, maxOperations: 1000, maxPayloadSize: 4 * 1024 * 1024 },
      filter: { supported: true, maxResults: 1000 },
      changePassword: { supported: false },
      sort: { supported: true },
      etag: { supported: true },
      meta: { resourceType: "ServiceProviderConfig", location: `${BASE_URL}/ServiceProviderConfig` },
    });
    expect(res.body.authenticationSchemes).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: "oauthbearertoken" })]),
    );
  });

  it("GET /serviceConfiguration (Microsoft's path) answers the same document", async () => {
    const [a, b] = await Promise.all([scim.get("/ServiceProviderConfig"), scim.get("/serviceConfiguration")]);
    expect(b.status).toBe(200);
    expect(b.body).toEqual(a.body);
  });

  it("GET /ResourceTypes lists User (with the enterprise and seat extensions) and Group", async () => {
    const res = await scim.get("/ResourceTypes");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ schemas: [LIST_RESPONSE], totalResults: 2, itemsPerPage: 2, startIndex: 1 });
    const user = res.body.Resources.find((r: { id: string }) => r.id === "User");
    const group = res.body.Resources.find((r: { id: string }) => r.id === "Group");
    expect(user).toMatchObject({
      endpoint: "/Users",
      schema: USER_SCHEMA,
      meta: { resourceType: "ResourceType", location: `${BASE_URL}/ResourceTypes/User` },
    });
    expect(user.schemaExtensions).toEqual(
      expect.arrayContaining([
        { schema: ENTERPRISE, required: false },
        { schema: SEAT, required: false },
      ]),
    );
    expect(group).toMatchObject({ endpoint: "/Groups", schema: GROUP_SCHEMA });
  });

  it("GET /ResourceTypes/{id} answers one type (any case) or a SCIM 404", async () => {
    expect((await scim.get("/ResourceTypes/User")).body).toMatchObject({ id: "User", endpoint: "/Users" });
    expect((await scim.get("/ResourceTypes/group")).body).toMatchObject({ id: "Group" });
    expectScimError(await scim.get("/ResourceTypes/Device"), 404, null);
  });

  it("GET /Schemas lists the core User and Group, the enterprise extension and Roster's read-only seat extension", async () => {
    const res = await scim.get("/Schemas");
    expect(res.status).toBe(200);
    expect(res.body.schemas).toEqual([LIST_RESPONSE]);
    const ids = res.body.Resources.map((r: { id: string }) => r.id);
    expect(ids).toEqual(expect.arrayContaining([USER_SCHEMA, GROUP_SCHEMA, ENTERPRISE, SEAT]));
    expect(res.body.totalResults).toBe(ids.length);
    const seat = res.body.Resources.find((r: { id: string }) => r.id === SEAT);
    expect(seat.attributes.map((a: { name: string }) => a.name).sort()).toEqual([
      "seatReason",
      "seatStatus",
      "seatType",
    ]);
    for (const attribute of seat.attributes) expect(attribute.mutability, attribute.name).toBe("readOnly");
    // Every schema's meta.location is where GET answers it.
    for (const schema of res.body.Resources) {
      expect(schema.meta).toEqual({ resourceType: "Schema", location: `${BASE_URL}/Schemas/${schema.id}` });
      const one = await scim.get(schema.meta.location.slice(BASE_URL.length));
      expect(one.status, schema.id).toBe(200);
      expect(one.body).toEqual(schema);
    }
    const user = res.body.Resources.find((r: { id: string }) => r.id === USER_SCHEMA);
    expect(user.attributes.find((a: { name: string }) => a.name === "userName")).toMatchObject({
      uniqueness: "server",
      caseExact: false,
      required: true,
    });
  });

  it("GET /Schemas/{urn} answers one schema, including the seat extension, or a SCIM 404", async () => {
    const seat = await scim.get(`/Schemas/${SEAT}`);
    expect(seat.status).toBe(200);
    expect(seat.body.id).toBe(SEAT);
    expect((await scim.get(`/Schemas/${ENTERPRISE}`)).body.id).toBe(ENTERPRISE);
    expectScimError(await scim.get("/Schemas/urn:example:nothing"), 404, null);
  });

  it("endpoints are matched case-insensitively (/users, /groups, /schemas …)", async () => {
    const user = await createUser(scim, "lower.case@example.com");
    for (const p of [
      "/users",
      "/USERS",
      "/groups",
      "/serviceproviderconfig",
      "/resourcetypes",
      "/schemas",
      `/users/${user.id}`,
    ]) {
      const res = await scim.get(p);
      expect(res.status, p).toBe(200);
    }
    expect((await scim.get(`/users/${user.id}`)).body.id).toBe(user.id);
    const created = await scim.post("/users", userBody("posted.lower@example.com"));
    expect(created.status).toBe(201);
    expect(created.headers.location).toBe(`${BASE_URL}/Users/${created.body.id}`);
  });
});
