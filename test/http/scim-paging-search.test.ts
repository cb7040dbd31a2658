// SCIM lists over HTTP: paging with a true totalResults (RFC 7644 §3.4.2.4), sorting (§3.4.2.3), the
// count cap, attributes/excludedAttributes (§3.9) on lists and single reads of Users and Groups, and
// POST /.search on /Users, /Groups and the root (§3.4.3).
import type { Express } from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { insertMember } from "../../src/repositories/members-repository.js";
import type { ServiceDeps } from "../../src/services/context.js";
import { testApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { makeOrg, testDeps } from "../support/factories.js";
import {
  createGroup,
  createUser,
  ENTERPRISE,
  expectScimError,
  GROUP_SCHEMA,
  idsOf,
  LIST_RESPONSE,
  type ScimClient,
  scimClient,
  type ScimResource,
  SEARCH_REQUEST,
  SEAT,
  USER_SCHEMA,
} from "./scim-helpers.js";

let tdb: TestDatabase;
let app: Express;
let deps: ServiceDeps;
let scim: ScimClient;

// Seven users, created in this order; sorted case-insensitively they read alpha, bravo, charlie, delta,
// echo, mike, zulu.
const NAMES = ["mike", "Alpha", "zulu", "Charlie", "bravo", "Echo", "delta"];
const users: ScimResource[] = [];
let team: ScimResource;
let solo: ScimResource;

beforeAll(async () => {
  tdb = await createTestDatabase();
  app = testApp(tdb.db);
  deps = testDeps(tdb.db);
  scim = scimClient(app, (await makeOrg(deps)).scimToken);
  for (const name of NAMES) {
    users.push(
      await createUser(scim, `${name}@paging.test`, {
        schemas: [USER_SCHEMA, ENTERPRISE],
        displayName: `${name} Person`,
        name: { givenName: name, familyName: "Person" },
        emails: [{ value: `${name.toLowerCase()}@paging.test`, type: "work", primary: true }],
        [ENTERPRISE]: { department: "Paging", costCenter: "CC-1" },
      }),
    );
  }
  team = await createGroup(scim, "Team", [users[0].id, users[1].id]);
  solo = await createGroup(scim, "Solo", [users[2].id]);
});
afterAll(async () => tdb?.destroy());

const byName = (ids: string[]) =>
  ids.map(
    (id) => (users.find((u) => u.id === id)?.userName as string | undefined)?.split("@")[0].toLowerCase() ?? `?${id}`,
  );
const sorted = [...NAMES].map((n) => n.toLowerCase()).sort();

describe("paging", () => {
  it("count=3 pages through 7 users as 3, 3, 1 with the true totalResults; each user exactly once, in creation order", async () => {
    const seen: string[] = [];
    for (const [startIndex, size] of [
      [1, 3],
      [4, 3],
      [7, 1],
    ]) {
      const res = await scim.get(`/Users?startIndex=${startIndex}&count=3`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ schemas: [LIST_RESPONSE], totalResults: 7, itemsPerPage: size, startIndex });
      expect(res.body.Resources).toHaveLength(size);
      seen.push(...idsOf(res));
    }
    expect(seen).toEqual(users.map((u) => u.id));
  });

  it("count=0 answers only totalResults (no resources)", async () => {
    const res = await scim.get("/Users?count=0");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ totalResults: 7, itemsPerPage: 0, Resources: [] });
    const filtered = await scim.get(`/Users?count=0&filter=${encodeURIComponent('userName sw "e"')}`);
    expect(filtered.body).toMatchObject({ totalResults: 1, Resources: [] });
  });

  it("a startIndex beyond the end answers no resources and the right totalResults", async () => {
    for (const startIndex of [8, 100, 1_000_000]) {
      const res = await scim.get(`/Users?startIndex=${startIndex}&count=10`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ totalResults: 7, itemsPerPage: 0, startIndex, Resources: [] });
    }
  });

  it("reads a startIndex below 1 as 1 and a negative count as 0 (RFC 7644 §3.4.2.4)", async () => {
    for (const startIndex of [0, -5]) {
      const res = await scim.get(`/Users?startIndex=${startIndex}&count=2`);
      expect(res.status).toBe(200);
      expect(res.body.startIndex).toBe(1);
      expect(idsOf(res)).toEqual([users[0].id, users[1].id]);
    }
    const negative = await scim.get("/Users?count=-3");
    expect(negative.body).toMatchObject({ totalResults: 7, Resources: [] });
  });

  it("without paging parameters, returns everything from 1 (below the default page size)", async () => {
    const res = await scim.get("/Users");
    expect(res.body).toMatchObject({ totalResults: 7, itemsPerPage: 7, startIndex: 1 });
  });

  it("query parameter names are matched in any case", async () => {
    const res = await scim.get("/Users?STARTINDEX=2&Count=1&sortby=userName");
    expect(byName(idsOf(res))).toEqual([sorted[1]]);
  });

  it("refuses a count or startIndex that is not an integer: 400 invalidValue", async () => {
    expectScimError(await scim.get("/Users?count=ten"), 400, "invalidValue");
    expectScimError(await scim.get("/Users?startIndex=1.5"), 400, "invalidValue");
  });
});

describe("sorting", () => {
  it("sortBy=userName ascending (the default order) and descending, case-insensitively", async () => {
    const asc = await scim.get("/Users?sortBy=userName");
    expect(byName(idsOf(asc))).toEqual(sorted);
    const explicit = await scim.get("/Users?sortBy=userName&sortOrder=ascending");
    expect(idsOf(explicit)).toEqual(idsOf(asc));
    const desc = await scim.get("/Users?sortBy=userName&sortOrder=descending");
    expect(byName(idsOf(desc))).toEqual([...sorted].reverse());
  });

  it("sorted pages concatenate to the sorted list", async () => {
    const pages: string[] = [];
    for (const startIndex of [1, 4, 7])
      pages.push(
        ...idsOf(await scim.get(`/Users?sortBy=userName&sortOrder=descending&startIndex=${startIndex}&count=3`)),
      );
    expect(byName(pages)).toEqual([...sorted].reverse());
  });

  it("sortBy=meta.created descending is the reverse creation order; sortBy=name.givenName works too", async () => {
    const res = await scim.get("/Users?sortBy=meta.created&sortOrder=descending");
    expect(idsOf(res)).toEqual(users.map((u) => u.id).reverse());
    const given = await scim.get("/Users?sortBy=name.givenName");
    expect(byName(idsOf(given))).toEqual(sorted);
  });

  it("sorts Groups by displayName", async () => {
    const res = await scim.get("/Groups?sortBy=displayName&sortOrder=descending");
    expect(idsOf(res)).toEqual([team.id, solo.id]);
  });

  it("refuses an unknown sortBy or sortOrder: 400", async () => {
    expectScimError(await scim.get("/Users?sortBy=shoeSize"), 400, "invalidValue");
    expectScimError(await scim.get("/Users?sortBy=userName&sortOrder=sideways"), 400, "invalidValue");
  });
});

describe("the count cap", () => {
  let big: ScimClient;
  const TOTAL = 1005;

  beforeAll(async () => {
    const org = await makeOrg(deps);
    big = scimClient(app, org.scimToken);
    // More users than one page may hold; inserted directly (inactive, so no seats are involved).
    await tdb.db.transaction(async (trx) => {
      for (let i = 0; i < TOTAL; i++) {
        await insertMember(trx, org.org.id, {
          id: crypto.randomUUID(),
          userName: `bulk${String(i).padStart(4, "0")}@cap.test`,
          seatReason: "deactivated",
          source: "scim",
          active: false,
          scimManaged: true,
        });
      }
    });
  });

  it("caps count at filter.maxResults (1000) and still reports the true totalResults", async () => {
    const res = await big.get("/Users?count=5000");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ totalResults: TOTAL, itemsPerPage: 1000 });
    expect(res.body.Resources).toHaveLength(1000);
    const rest = await big.get("/Users?count=5000&startIndex=1001");
    expect(rest.body).toMatchObject({ totalResults: TOTAL, itemsPerPage: 5, startIndex: 1001 });
    expect(new Set([...idsOf(res), ...idsOf(rest)]).size).toBe(TOTAL);
  });

  it("the default page is no larger than the cap", async () => {
    const res = await big.get("/Users");
    expect(res.body.totalResults).toBe(TOTAL);
    expect(res.body.Resources.length).toBeGreaterThan(0);
    expect(res.body.Resources.length).toBeLessThanOrEqual(1000);
  });

  it("caps count in a .search body too", async () => {
    const res = await big.post("/Users/.search", { schemas: [SEARCH_REQUEST], count: 100_000, attributes: ["id"] });
    expect(res.body).toMatchObject({ totalResults: TOTAL, itemsPerPage: 1000 });
  });
});

describe("attributes and excludedAttributes", () => {
  const keys = (r: Record<string, unknown>) => Object.keys(r).sort();

  it("attributes=userName on a list: id (always), schemas and userName only", async () => {
    const res = await scim.get("/Users?attributes=userName");
    expect(res.status).toBe(200);
    expect(res.body.totalResults).toBe(7);
    for (const r of res.body.Resources) expect(keys(r)).toEqual(["id", "schemas", "userName"]);
  });

  it("sub-attributes, fully qualified names and extension attributes", async () => {
    const res = await scim.get(
      `/Users/${users[1].id}?attributes=name.givenName,emails.value,${USER_SCHEMA}:displayName,${ENTERPRISE}:department`,
    );
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      schemas: expect.any(Array),
      id: users[1].id,
      name: { givenName: "Alpha" },
      emails: [{ value: "alpha@paging.test" }],
      displayName: "Alpha Person",
      [ENTERPRISE]: { department: "Paging" },
    });
  });

  it("a whole extension by its URN, in attributes and in excludedAttributes", async () => {
    const only = await scim.get(`/Users/${users[0].id}?attributes=${SEAT}`);
    expect(only.status).toBe(200);
    expect(keys(only.body)).toEqual(["id", "schemas", SEAT].sort());
    expect(only.body[SEAT]).toEqual(users[0][SEAT]);
    const without = await scim.get(`/Users?excludedAttributes=${ENTERPRISE},${SEAT}`);
    for (const r of without.body.Resources) {
      expect(r).not.toHaveProperty(ENTERPRISE);
      expect(r).not.toHaveProperty(SEAT);
      expect(r).toHaveProperty("userName");
    }
  });

  it("excludedAttributes on a list and a single read; id is returned even when excluded", async () => {
    const list = await scim.get("/Users?excludedAttributes=emails,meta,name,id");
    for (const r of list.body.Resources) {
      for (const gone of ["emails", "meta", "name"]) expect(r).not.toHaveProperty(gone);
      expect(r).toHaveProperty("id");
      expect(r).toHaveProperty("userName");
      expect(r).toHaveProperty("displayName");
    }
    const one = await scim.get(`/Users/${users[3].id}?excludedAttributes=displayName,name.familyName`);
    expect(one.body).not.toHaveProperty("displayName");
    expect(one.body.name).toEqual({ givenName: "Charlie" });
    expect(one.body.id).toBe(users[3].id);
  });

  it("attributes=id alone, and attributes naming nothing the resource has", async () => {
    const ids = await scim.get("/Users?attributes=id&count=2");
    for (const r of ids.body.Resources) expect(keys(r)).toEqual(["id", "schemas"]);
    const none = await scim.get(`/Users/${users[0].id}?attributes=nickName`);
    expect(keys(none.body)).toEqual(["id", "schemas"]);
  });

  it("Groups: members by default; excludedAttributes=members and attributes=displayName leave them out", async () => {
    const full = await scim.get(`/Groups/${team.id}`);
    expect(full.body.members.map((m: { value: string }) => m.value).sort()).toEqual([users[0].id, users[1].id].sort());
    expect(full.body.schemas).toEqual([GROUP_SCHEMA]);

    const list = await scim.get("/Groups?excludedAttributes=members");
    expect(list.body.totalResults).toBe(2);
    for (const g of list.body.Resources) {
      expect(g).not.toHaveProperty("members");
      expect(g).toHaveProperty("displayName");
      expect(g).toHaveProperty("meta");
    }
    const one = await scim.get(`/Groups/${team.id}?excludedAttributes=members`);
    expect(one.status).toBe(200);
    expect(one.body).not.toHaveProperty("members");
    expect(one.body.displayName).toBe("Team");

    const names = await scim.get("/Groups?attributes=displayName");
    for (const g of names.body.Resources) expect(keys(g)).toEqual(["displayName", "id", "schemas"]);

    const values = await scim.get(`/Groups/${solo.id}?attributes=members.value`);
    expect(values.body.members).toEqual([{ value: users[2].id }]);
  });
});

describe("POST /.search", () => {
  it("/Users/.search takes filter, paging, sorting and attributes from the body", async () => {
    const res = await scim.post("/Users/.search", {
      schemas: [SEARCH_REQUEST],
      filter: 'displayName co "a" and name.familyName eq "person"',
      sortBy: "userName",
      sortOrder: "descending",
      startIndex: 2,
      count: 2,
      attributes: ["userName"],
    });
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^application\/scim\+json/);
    // displayNames containing "a": alpha, bravo, charlie, delta; descending: delta, charlie, bravo, alpha.
    expect(res.body).toMatchObject({ schemas: [LIST_RESPONSE], totalResults: 4, itemsPerPage: 2, startIndex: 2 });
    expect(res.body.Resources.map((r: { userName: string }) => r.userName.toLowerCase())).toEqual([
      "charlie@paging.test",
      "bravo@paging.test",
    ]);
    for (const r of res.body.Resources) expect(Object.keys(r).sort()).toEqual(["id", "schemas", "userName"]);
  });

  it("/Users/.search with excludedAttributes and no filter lists everyone", async () => {
    const res = await scim.post("/Users/.search", {
      schemas: [SEARCH_REQUEST],
      excludedAttributes: ["emails", "meta"],
    });
    expect(res.body.totalResults).toBe(7);
    for (const r of res.body.Resources) {
      expect(r).not.toHaveProperty("emails");
      expect(r).not.toHaveProperty("meta");
    }
  });

  it("/Groups/.search", async () => {
    const res = await scim.post("/Groups/.search", {
      schemas: [SEARCH_REQUEST],
      filter: 'displayName eq "team"',
      excludedAttributes: ["members"],
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ totalResults: 1, Resources: [{ id: team.id, displayName: "Team" }] });
    expect(res.body.Resources[0]).not.toHaveProperty("members");
  });

  it("/.search at the root lists Users then Groups, paged together with one totalResults", async () => {
    const all = await scim.post("/.search", { schemas: [SEARCH_REQUEST] });
    expect(all.status).toBe(200);
    expect(all.body.totalResults).toBe(9);
    expect(idsOf(all)).toEqual([...users.map((u) => u.id), team.id, solo.id]);
    // A page across the boundary between the two types.
    const page = await scim.post("/.search", { schemas: [SEARCH_REQUEST], startIndex: 6, count: 3 });
    expect(page.body).toMatchObject({ totalResults: 9, itemsPerPage: 3, startIndex: 6 });
    expect(idsOf(page)).toEqual([users[5].id, users[6].id, team.id]);
    const groupsOnly = await scim.post("/.search", { schemas: [SEARCH_REQUEST], startIndex: 9, count: 5 });
    expect(idsOf(groupsOnly)).toEqual([solo.id]);
    const count0 = await scim.post("/.search", { schemas: [SEARCH_REQUEST], count: 0 });
    expect(count0.body).toMatchObject({ totalResults: 9, Resources: [] });
  });

  it("/.search at the root with an attribute only one type has: the other type simply does not match (RFC 7644 §3.4.2.1)", async () => {
    const users1 = await scim.post("/.search", { schemas: [SEARCH_REQUEST], filter: 'userName sw "b"' });
    expect(users1.status, JSON.stringify(users1.body)).toBe(200);
    expect(byName(idsOf(users1))).toEqual(["bravo"]);
    expect(users1.body.totalResults).toBe(1);
    const groups1 = await scim.post("/.search", { schemas: [SEARCH_REQUEST], filter: "members pr" });
    expect(groups1.status).toBe(200);
    expect(idsOf(groups1).sort()).toEqual([team.id, solo.id].sort());
    const both = await scim.post("/.search", {
      schemas: [SEARCH_REQUEST],
      filter: 'displayName sw "t" or userName sw "e"',
    });
    expect(both.status).toBe(200);
    expect(idsOf(both)).toEqual([users[5].id, team.id]);
    const negated = await scim.post("/.search", { schemas: [SEARCH_REQUEST], filter: "not (userName pr)" });
    expect(idsOf(negated)).toEqual([team.id, solo.id]);
    const sortedRoot = await scim.post("/.search", { schemas: [SEARCH_REQUEST], sortBy: "userName", count: 3 });
    expect(sortedRoot.status).toBe(200);
    expect(byName(idsOf(sortedRoot))).toEqual(sorted.slice(0, 3));
  });

  it("/.search at the root still refuses an attribute no type has: 400 invalidFilter", async () => {
    expectScimError(
      await scim.post("/.search", { schemas: [SEARCH_REQUEST], filter: 'shoeSize eq "44"' }),
      400,
      "invalidFilter",
    );
  });

  it("a body without the SearchRequest schema, or not an object, is refused: 400 invalidSyntax", async () => {
    expectScimError(await scim.post("/Users/.search", { filter: 'userName sw "a"' }), 400, "invalidSyntax");
    expectScimError(await scim.post("/.search", ["not", "an", "object"]), 400, "invalidSyntax");
    expectScimError(await scim.post("/Groups/.search"), 400, "invalidSyntax");
  });
});

describe("an IdP's lookup by an identifying attribute (total and page from one query)", () => {
  it("still counts every match: two users may share an externalId", async () => {
    const client = scimClient(testApp(tdb.db), (await makeOrg(testDeps(tdb.db))).scimToken);
    await createUser(client, "twin-a@example.com", { externalId: "shared-ext" });
    await createUser(client, "twin-b@example.com", { externalId: "shared-ext" });
    const res = await client.get(`/Users?filter=${encodeURIComponent('externalId eq "shared-ext"')}`);
    expect(res.status).toBe(200);
    expect(res.body.totalResults).toBe(2);
    expect(res.body.Resources.map((r: { userName: string }) => r.userName).sort()).toEqual([
      "twin-a@example.com",
      "twin-b@example.com",
    ]);
    const none = await client.get(`/Users?filter=${encodeURIComponent('userName eq "nobody@example.com"')}`);
    expect([none.body.totalResults, none.body.Resources]).toEqual([0, []]);
  });
});
