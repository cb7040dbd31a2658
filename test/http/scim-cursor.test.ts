// RFC 9865 cursor paging for /Users and /Groups: every resource exactly once across pages, nextCursor only
// while there is more, invalidCursor for a cursor we did not issue, startIndex unchanged, advertised in
// ServiceProviderConfig.
import type { Express } from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { makeOrg, testDeps } from "../support/factories.js";
import {
  createGroup,
  createUser,
  expectScimError,
  idsOf,
  SEARCH_REQUEST,
  type ScimClient,
  scimClient,
} from "./scim-helpers.js";

let tdb: TestDatabase;
let app: Express;
let scim: ScimClient;
let userIds: string[];
let groupIds: string[];

beforeAll(async () => {
  tdb = await createTestDatabase();
  app = testApp(tdb.db);
  const org = await makeOrg(testDeps(tdb.db));
  scim = scimClient(app, org.scimToken);
  userIds = [];
  for (let i = 0; i < 5; i++) userIds.push((await createUser(scim, `cursor${i}@example.com`)).id);
  groupIds = [];
  for (let i = 0; i < 3; i++) groupIds.push((await createGroup(scim, `Cursor group ${i}`)).id);
});
afterAll(async () => tdb?.destroy());

async function walk(resource: string, count: number): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor = "";
  for (let pages = 1; ; pages++) {
    const res = await scim.get(`${resource}?count=${count}&cursor=${encodeURIComponent(cursor)}`);
    expect(res.status).toBe(200);
    expect(res.body.startIndex).toBeUndefined();
    expect(res.body.itemsPerPage).toBe(res.body.Resources.length);
    ids.push(...idsOf(res));
    if (!res.body.nextCursor) return { ids, pages };
    cursor = res.body.nextCursor;
  }
}

describe("cursor paging", () => {
  it("walks /Users: each user once, in pages of count, until no nextCursor", async () => {
    const { ids, pages } = await walk("/Users", 2);
    expect(ids.filter((id) => userIds.includes(id)).sort()).toEqual([...userIds].sort());
    expect(new Set(ids).size).toBe(ids.length);
    expect(pages).toBeGreaterThanOrEqual(3);
    const first = await scim.get("/Users?count=2&cursor=");
    expect(first.body.totalResults).toBe(ids.length);
  });

  it("walks /Groups and answers /.search bodies with a cursor too", async () => {
    const { ids } = await walk("/Groups", 2);
    expect(ids.sort()).toEqual([...groupIds].sort());
    const res = await scim.post("/Groups/.search", { schemas: [SEARCH_REQUEST], cursor: "", count: 2 });
    expect(res.status).toBe(200);
    expect(res.body.Resources).toHaveLength(2);
    expect(res.body.nextCursor).toEqual(expect.any(String));
  });

  it("answers 400 invalidCursor for a cursor it did not issue", async () => {
    for (const bad of ["nope", "bm9wZQ", "!!!"]) {
      expectScimError(await scim.get(`/Users?cursor=${encodeURIComponent(bad)}`), 400, "invalidCursor");
      expectScimError(await scim.get(`/Groups?cursor=${encodeURIComponent(bad)}`), 400, "invalidCursor");
    }
    expectScimError(await scim.get("/Users?cursor=&sortBy=userName"), 400, "invalidValue");
  });

  it("keeps startIndex paging as it was", async () => {
    const res = await scim.get("/Users?startIndex=2&count=2");
    expect(res.status).toBe(200);
    expect(res.body.startIndex).toBe(2);
    expect(res.body.nextCursor).toBeUndefined();
    expect(res.body.Resources).toHaveLength(2);
  });

  it("is advertised in ServiceProviderConfig", async () => {
    const res = await scim.get("/ServiceProviderConfig");
    expect(res.body.pagination).toMatchObject({ cursor: true, index: true, defaultPaginationMethod: "index" });
  });
});
