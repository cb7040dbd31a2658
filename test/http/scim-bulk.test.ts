// POST /Bulk over HTTP (RFC 7644 §3.7): bulkId references (also forward ones), each operation's status,
// location and version, failOnErrors, circular and unresolvable references, and the advertised limits
// (maxOperations 1000, maxPayloadSize 4 MB -> 413).
import type { Express } from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { makeOrg, testDeps } from "../support/factories.js";
import { UUID_RE } from "./helpers.js";
import {
  BASE_URL,
  BULK_REQUEST,
  BULK_RESPONSE,
  createUser,
  ERROR_SCHEMA,
  expectScimError,
  GROUP_SCHEMA,
  listWithFilter,
  patchBody,
  type ScimClient,
  scimClient,
  userBody,
} from "./scim-helpers.js";

let tdb: TestDatabase;
let app: Express;
let scim: ScimClient;

beforeAll(async () => {
  tdb = await createTestDatabase();
  app = testApp(tdb.db);
  scim = scimClient(app, (await makeOrg(testDeps(tdb.db))).scimToken);
});
afterAll(async () => tdb?.destroy());

interface BulkResult {
  method: string;
  bulkId?: string;
  location?: string;
  version?: string;
  status: string;
  response?: { schemas: string[]; status: string; scimType?: string; detail: string };
}

function bulk(operations: unknown[], extra: Record<string, unknown> = {}) {
  return scim.post("/Bulk", { schemas: [BULK_REQUEST], Operations: operations, ...extra });
}

async function bulkOk(operations: unknown[], extra: Record<string, unknown> = {}): Promise<BulkResult[]> {
  const res = await bulk(operations, extra);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.headers["content-type"]).toMatch(/^application\/scim\+json/);
  expect(res.body.schemas).toEqual([BULK_RESPONSE]);
  return res.body.Operations as BulkResult[];
}

const postUser = (bulkId: string, userName: string, extra: Record<string, unknown> = {}) => ({
  method: "POST",
  path: "/Users",
  bulkId,
  data: userBody(userName, extra),
});

function idFrom(location: string | undefined, type: "Users" | "Groups"): string {
  expect(location).toMatch(new RegExp(`^${BASE_URL}/${type}/[0-9a-f-]{36}$`));
  const id = (location as string).split("/").pop() as string;
  expect(id).toMatch(UUID_RE);
  return id;
}

function expectErrorResult(result: BulkResult, status: number, scimType?: string): void {
  expect(result.status).toBe(String(status));
  expect(result.response?.schemas).toEqual([ERROR_SCHEMA]);
  expect(result.response?.status).toBe(String(status));
  if (scimType) expect(result.response?.scimType).toBe(scimType);
}

describe("POST /Bulk", () => {
  it("creates users and a group that refers to them by bulkId (even before they are created)", async () => {
    const results = await bulkOk([
      {
        method: "POST",
        path: "/Groups",
        bulkId: "team",
        data: {
          schemas: [GROUP_SCHEMA],
          displayName: "Bulk team",
          members: [{ value: "bulkId:ann" }, { value: "bulkId:ben" }],
        },
      },
      postUser("ann", "ann@bulk.test", { displayName: "Ann" }),
      postUser("ben", "ben@bulk.test", { displayName: "Ben" }),
    ]);
    // Answers keep the request's order; each POST has 201, a location and a version.
    expect(results.map((r) => [r.method, r.bulkId, r.status])).toEqual([
      ["POST", "team", "201"],
      ["POST", "ann", "201"],
      ["POST", "ben", "201"],
    ]);
    const groupId = idFrom(results[0].location, "Groups");
    const annId = idFrom(results[1].location, "Users");
    const benId = idFrom(results[2].location, "Users");
    for (const r of results) expect(r.version).toMatch(/^W\/".+"$/);

    const ann = await scim.get(`/Users/${annId}`);
    expect(ann.body).toMatchObject({
      userName: "ann@bulk.test",
      displayName: "Ann",
      meta: { location: results[1].location, version: results[1].version },
    });
    const group = await scim.get(`/Groups/${groupId}`);
    expect(group.body.displayName).toBe("Bulk team");
    expect(group.body.members.map((m: { value: string }) => m.value).sort()).toEqual([annId, benId].sort());
  });

  it("answers PUT 200, PATCH 200 and DELETE 204 with their locations, and applies them in order", async () => {
    const user = await createUser(scim, "bulk.update@bulk.test");
    const other = await createUser(scim, "bulk.delete@bulk.test");
    const results = await bulkOk([
      { method: "PUT", path: `/Users/${user.id}`, data: userBody("bulk.update@bulk.test", { displayName: "Put" }) },
      {
        method: "PATCH",
        path: `/Users/${user.id}`,
        data: patchBody({ op: "replace", path: "title", value: "Patched" }),
      },
      { method: "DELETE", path: `/Users/${other.id}` },
      {
        method: "patch",
        path: `/users/${user.id}`,
        data: patchBody({ op: "add", path: "nickName", value: "Lower-case method and path" }),
      },
    ]);
    expect(results.map((r) => [r.method, r.status, r.location])).toEqual([
      ["PUT", "200", `${BASE_URL}/Users/${user.id}`],
      ["PATCH", "200", `${BASE_URL}/Users/${user.id}`],
      ["DELETE", "204", `${BASE_URL}/Users/${other.id}`],
      ["PATCH", "200", `${BASE_URL}/Users/${user.id}`],
    ]);
    const read = await scim.get(`/Users/${user.id}`);
    expect(read.body).toMatchObject({ displayName: "Put", title: "Patched", nickName: "Lower-case method and path" });
    expect(results[3].version).toBe(read.headers.etag);
    expectScimError(await scim.get(`/Users/${other.id}`), 404, null);
  });

  it("resolves bulkId references in a PATCH of an existing group, and deletes groups", async () => {
    const existing = (await scim.post("/Groups", { schemas: [GROUP_SCHEMA], displayName: "Existing" })).body
      .id as string;
    const doomed = (await scim.post("/Groups", { schemas: [GROUP_SCHEMA], displayName: "Doomed" })).body.id as string;
    const results = await bulkOk([
      {
        method: "PATCH",
        path: `/Groups/${existing}`,
        data: patchBody({ op: "add", path: "members", value: [{ value: "bulkId:newcomer" }] }),
      },
      postUser("newcomer", "newcomer@bulk.test"),
      { method: "DELETE", path: `/Groups/${doomed}` },
    ]);
    expect(results.map((r) => [r.method, r.status])).toEqual([
      ["PATCH", "200"],
      ["POST", "201"],
      ["DELETE", "204"],
    ]);
    expect(results[0].location).toBe(`${BASE_URL}/Groups/${existing}`);
    const newcomer = idFrom(results[1].location, "Users");
    const group = await scim.get(`/Groups/${existing}`);
    expect(group.body.members.map((m: { value: string }) => m.value)).toEqual([newcomer]);
    expect(results[0].version).toBe(group.body.meta.version);
    expectScimError(await scim.get(`/Groups/${doomed}`), 404, null);
  });

  it("keeps going after errors when failOnErrors is absent, reporting each one as a SCIM error", async () => {
    await createUser(scim, "taken@bulk.test");
    const results = await bulkOk([
      postUser("dup", "TAKEN@bulk.test"),
      postUser("ok1", "ok1@bulk.test"),
      {
        method: "PATCH",
        path: "/Users/00000000-0000-4000-8000-000000000000",
        data: patchBody({ op: "replace", path: "displayName", value: "x" }),
      },
      postUser("bad", ""),
      { method: "GET", path: "/Users" },
      { method: "POST", path: "/Devices", bulkId: "dev", data: {} },
      postUser("ok2", "ok2@bulk.test"),
    ]);
    expect(results).toHaveLength(7);
    expectErrorResult(results[0], 409, "uniqueness");
    expect(results[1].status).toBe("201");
    expectErrorResult(results[2], 404);
    expectErrorResult(results[3], 400, "invalidValue");
    expectErrorResult(results[4], 400);
    expectErrorResult(results[5], 400);
    expect(results[6].status).toBe("201");
  });

  it("failOnErrors stops after that many errors: later operations are not run", async () => {
    await createUser(scim, "fail.dup@bulk.test");
    const results = await bulkOk(
      [postUser("a", "fail.a@bulk.test"), postUser("dup", "fail.dup@bulk.test"), postUser("b", "fail.b@bulk.test")],
      { failOnErrors: 1 },
    );
    expect(results.map((r) => [r.bulkId, r.status])).toEqual([
      ["a", "201"],
      ["dup", "409"],
    ]);
    expect((await listWithFilter(scim, 'userName eq "fail.b@bulk.test"')).body.totalResults).toBe(0);

    const two = await bulkOk(
      [
        postUser("d1", "fail.dup@bulk.test"),
        postUser("c", "fail.c@bulk.test"),
        postUser("d2", "FAIL.DUP@bulk.test"),
        postUser("d3", "fail.dup@bulk.test"),
        postUser("e", "fail.e@bulk.test"),
      ],
      { failOnErrors: 2 },
    );
    expect(two.map((r) => [r.bulkId, r.status])).toEqual([
      ["d1", "409"],
      ["c", "201"],
      ["d2", "409"],
    ]);
    expect((await listWithFilter(scim, 'userName eq "fail.e@bulk.test"')).body.totalResults).toBe(0);
  });

  it("refuses a failOnErrors that is not a positive integer: 400 invalidValue", async () => {
    expectScimError(await bulk([postUser("x", "x@bulk.test")], { failOnErrors: 0 }), 400, "invalidValue");
    expectScimError(await bulk([postUser("x", "x@bulk.test")], { failOnErrors: "many" }), 400, "invalidValue");
  });

  it("reports circular references as errors and creates nothing of the cycle", async () => {
    const results = await bulkOk([
      {
        method: "POST",
        path: "/Groups",
        bulkId: "g1",
        data: { schemas: [GROUP_SCHEMA], displayName: "Cycle one", members: [{ value: "bulkId:g2" }] },
      },
      {
        method: "POST",
        path: "/Groups",
        bulkId: "g2",
        data: { schemas: [GROUP_SCHEMA], displayName: "Cycle two", members: [{ value: "bulkId:g1" }] },
      },
      {
        method: "POST",
        path: "/Groups",
        bulkId: "self",
        data: { schemas: [GROUP_SCHEMA], displayName: "Cycle self", members: [{ value: "bulkId:self" }] },
      },
      postUser("fine", "outside.cycle@bulk.test"),
    ]);
    expect(results.map((r) => [r.bulkId, r.status])).toEqual([
      ["g1", "409"],
      ["g2", "409"],
      ["self", "409"],
      ["fine", "201"],
    ]);
    for (const r of results.slice(0, 3)) {
      expectErrorResult(r, 409);
      expect(r.response?.detail).toMatch(/circular/i);
    }
    expect((await listWithFilter(scim, 'displayName sw "Cycle"', "/Groups")).body.totalResults).toBe(0);
  });

  it("reports a reference to a failed operation or to no operation at all as an error", async () => {
    await createUser(scim, "ref.taken@bulk.test");
    const results = await bulkOk([
      postUser("broken", "ref.taken@bulk.test"),
      {
        method: "POST",
        path: "/Groups",
        bulkId: "g",
        data: { schemas: [GROUP_SCHEMA], displayName: "Refers to broken", members: [{ value: "bulkId:broken" }] },
      },
      {
        method: "POST",
        path: "/Groups",
        bulkId: "h",
        data: { schemas: [GROUP_SCHEMA], displayName: "Refers to nothing", members: [{ value: "bulkId:nowhere" }] },
      },
    ]);
    expectErrorResult(results[0], 409, "uniqueness");
    expect(results[1].status).toBe("409");
    expect(results[1].response?.detail).toMatch(/broken/);
    expect(results[2].status).toBe("409");
    expect(results[2].response?.detail).toMatch(/nowhere/);
  });

  it("checks each operation's version (If-Match): a stale one is 412 for that operation only", async () => {
    const user = await createUser(scim, "bulk.version@bulk.test");
    const current = (user.meta as { version: string }).version;
    const results = await bulkOk([
      {
        method: "PATCH",
        path: `/Users/${user.id}`,
        version: current,
        data: patchBody({ op: "replace", path: "displayName", value: "First" }),
      },
      {
        method: "PATCH",
        path: `/Users/${user.id}`,
        version: current,
        data: patchBody({ op: "replace", path: "displayName", value: "Stale" }),
      },
    ]);
    expect(results[0].status).toBe("200");
    expectErrorResult(results[1], 412);
    expect((await scim.get(`/Users/${user.id}`)).body.displayName).toBe("First");
  });

  it("refuses more than maxOperations (1000) operations: 413, and runs none of them", async () => {
    const operations = Array.from({ length: 1001 }, (_, i) => postUser(`u${i}`, `too.many.${i}@bulk.test`));
    const res = await bulk(operations);
    expectScimError(res, 413, null);
    expect((await listWithFilter(scim, 'userName sw "too.many."')).body.totalResults).toBe(0);
  });

  it("refuses a body over maxPayloadSize (4 MB): 413 as a SCIM error", async () => {
    const padding = "x".repeat(4 * 1024 * 1024 + 10);
    const res = await bulk([postUser("big", "big@bulk.test", { nickName: padding })]);
    expectScimError(res, 413, null);
    expect((await listWithFilter(scim, 'userName eq "big@bulk.test"')).body.totalResults).toBe(0);
  });

  it("refuses a request that is not a BulkRequest: 400 invalidSyntax", async () => {
    expectScimError(await scim.post("/Bulk", { Operations: [postUser("x", "x@bulk.test")] }), 400, "invalidSyntax");
    expectScimError(await scim.post("/Bulk", { schemas: [BULK_REQUEST], Operations: "none" }), 400, "invalidSyntax");
    expectScimError(
      await bulk([{ method: "POST", path: "/Users", data: userBody("no.bulkid@bulk.test") }]),
      400,
      "invalidSyntax",
    );
    expectScimError(await bulk([{ path: "/Users" }]), 400, "invalidSyntax");
  });
});

describe("Bulk creates go through the batched create path", () => {
  it("creates a run of users together: more users than seats, a duplicate, every result in order", async () => {
    const org = await makeOrg(testDeps(tdb.db), { seats: { chat_code: 10, chat: 10 } });
    const client = scimClient(app, org.scimToken);
    const ops = Array.from({ length: 30 }, (_, i) => postUser(`b${i}`, `run${i}@example.com`));
    ops.push(postUser("dup", "run3@example.com"));
    const res = await client.post("/Bulk", { schemas: [BULK_REQUEST], Operations: ops });
    expect(res.status).toBe(200);
    const results = res.body.Operations as BulkResult[];
    expect(results.map((r) => r.bulkId)).toEqual(ops.map((o) => o.bulkId));
    expect(results.slice(0, 30).every((r) => r.status === "201")).toBe(true);
    expect(results[30].status).toBe("409");
    // The owner holds one chat_code seat: 19 more seats for 30 users, the other 11 unassigned.
    const rows: { seat_type: string | null; n: number }[] = await tdb
      .db("members")
      .where({ org_id: org.org.id })
      .groupBy("seat_type")
      .select("seat_type", tdb.db.raw("count(*)::int as n"));
    expect(Object.fromEntries(rows.map((r) => [r.seat_type ?? "none", Number(r.n)]))).toEqual({
      chat_code: 10,
      chat: 10,
      none: 11,
    });
    const pools = await tdb.db("seat_allocations").where({ org_id: org.org.id }).orderBy("seat_type");
    expect(pools.map((p) => [p.seat_type, p.used])).toEqual([
      ["chat", 10],
      ["chat_code", 10],
    ]);
  });
});
