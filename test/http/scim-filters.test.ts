// SCIM filters through HTTP (RFC 7644 §3.4.2.2): every operator, and/or/not with precedence and grouping,
// value paths, case rules per attribute (userName case-insensitive, externalId case-exact), the enterprise
// and seat extensions, meta dates, Groups, and bounded rejection of unknown or abusive filters.
import type { Express } from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { makeOrg, testDeps } from "../support/factories.js";
import {
  createGroup,
  createUser,
  ENTERPRISE,
  expectScimError,
  idsOf,
  LIST_RESPONSE,
  listWithFilter,
  patchBody,
  type ScimClient,
  scimClient,
  type ScimResource,
  SEAT,
  USER_SCHEMA,
} from "./scim-helpers.js";

let tdb: TestDatabase;
let app: Express;
let scim: ScimClient;

type Name = "alice" | "bob" | "carol" | "dave";
const users = {} as Record<Name, ScimResource>;
const groups = {} as Record<"engineering" | "sales" | "empty", ScimResource>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  tdb = await createTestDatabase();
  app = testApp(tdb.db);
  scim = scimClient(app, (await makeOrg(testDeps(tdb.db))).scimToken);
  // Created one after the other, a few milliseconds apart, so meta.created orders them.
  users.alice = await createUser(scim, "Alice@Example.com", {
    schemas: [USER_SCHEMA, ENTERPRISE],
    externalId: "ext-A1",
    displayName: "Alice Anderson",
    name: { givenName: "Alice", familyName: "Anderson" },
    title: "Engineer",
    userType: "Employee",
    emails: [
      { value: "alice@x.com", type: "work", primary: true },
      { value: "alice@home.org", type: "home" },
    ],
    [ENTERPRISE]: { department: "Engineering", employeeNumber: "1001" },
  });
  await sleep(5);
  users.bob = await createUser(scim, "bob@example.com", {
    schemas: [USER_SCHEMA, ENTERPRISE],
    externalId: "ext-b2",
    displayName: "Bob Brown",
    name: { givenName: "Bob", familyName: "Brown" },
    title: "Designer",
    emails: [
      { value: "bob@y.org", type: "work" },
      { value: "bob@x.com", type: "home" },
    ],
    [ENTERPRISE]: { department: "Design" },
  });
  await sleep(5);
  users.carol = await createUser(scim, "carol@example.net", {
    schemas: [USER_SCHEMA, ENTERPRISE],
    externalId: "EXT-A1",
    displayName: "Carol Clark",
    title: "Manager",
    active: false,
    [ENTERPRISE]: { department: "Sales" },
  });
  await sleep(5);
  users.dave = await createUser(scim, "dave@example.com", {
    schemas: [USER_SCHEMA, ENTERPRISE],
    displayName: "Dave Davis",
    userType: "Contractor",
    emails: [{ value: "dave@x.com", type: "work" }],
    [ENTERPRISE]: { department: "Engineering" },
  });
  groups.engineering = await createGroup(scim, "Engineering", [users.alice.id, users.dave.id], { externalId: "g-eng" });
  groups.sales = await createGroup(scim, "Sales", [users.carol.id]);
  groups.empty = await createGroup(scim, "Empty");
});
afterAll(async () => tdb?.destroy());

function namesOf(ids: string[], from: Record<string, ScimResource>): string[] {
  return ids.map((id) => Object.entries(from).find(([, r]) => r.id === id)?.[0] ?? `unknown:${id}`).sort();
}

async function matching(filter: string): Promise<string[]> {
  const res = await listWithFilter(scim, filter, "/Users", "&count=1000");
  expect(res.status, `${filter}: ${JSON.stringify(res.body)}`).toBe(200);
  expect(res.body.schemas).toEqual([LIST_RESPONSE]);
  expect(res.body.totalResults).toBe(res.body.Resources.length);
  return namesOf(idsOf(res), users);
}

const ENT = ENTERPRISE;

describe("filters on Users", () => {
  it.each<[string, Name[]]>([
    // eq ne co sw ew on userName: case-insensitive (caseExact false)
    ['userName eq "alice@example.com"', ["alice"]],
    ['userName eq "ALICE@EXAMPLE.COM"', ["alice"]],
    ['userName ne "alice@example.com"', ["bob", "carol", "dave"]],
    ['userName co "EXAMPLE.COM"', ["alice", "bob", "dave"]],
    ['userName sw "B"', ["bob"]],
    ['userName ew ".NET"', ["carol"]],
    // gt ge lt le on a string: lexicographic, case-insensitive
    ['userName gt "bob@example.com"', ["carol", "dave"]],
    ['userName ge "BOB@example.com"', ["bob", "carol", "dave"]],
    ['userName lt "bob@example.com"', ["alice"]],
    ['userName le "bob@EXAMPLE.com"', ["alice", "bob"]],
    // pr
    ["externalId pr", ["alice", "bob", "carol"]],
    ["title pr", ["alice", "bob", "carol"]],
    ["name.givenName pr", ["alice", "bob"]],
    ["emails pr", ["alice", "bob", "dave"]],
    // externalId is case-exact
    ['externalId eq "ext-A1"', ["alice"]],
    ['externalId eq "EXT-A1"', ["carol"]],
    ['externalId eq "ext-a1"', []],
    ['externalId co "A1"', ["alice", "carol"]],
    ['externalId sw "ext"', ["alice", "bob"]],
    ['externalId ne "ext-A1"', ["bob", "carol", "dave"]],
    // other core attributes
    ['displayName co "an"', ["alice"]],
    ['name.familyName eq "brown"', ["bob"]],
    ['userType eq "contractor"', ["dave"]],
    ["active eq true", ["alice", "bob", "dave"]],
    ["active eq false", ["carol"]],
    ['active eq "False"', ["carol"]], // Entra sends booleans as strings
    // multi-valued: any value matches
    ['emails co "@x.com"', ["alice", "bob", "dave"]],
    ['emails.value ew "@y.org"', ["bob"]],
    ['emails.type eq "home"', ["alice", "bob"]],
    // value paths: one element must satisfy the whole inner filter
    ['emails[type eq "work" and value co "@x"]', ["alice", "dave"]],
    ['emails[type eq "home" and value co "@x"]', ["bob"]],
    ['emails[type eq "work" or value ew ".org"]', ["alice", "bob", "dave"]],
    ['emails[not (type eq "work")]', ["alice", "bob"]],
    ['emails[type eq "work"] and userName sw "d"', ["dave"]],
    // Entra's lookup form: the sub-attribute after the brackets belongs to the same element
    ['emails[type eq "home"].value co "@x"', ["bob"]],
    // and / or / not, precedence (not > and > or) and grouping
    ['userName sw "a" or userName sw "b"', ["alice", "bob"]],
    ['userName sw "a" or userName sw "b" and externalId eq "nope"', ["alice"]],
    ['(userName sw "a" or userName sw "b") and externalId eq "nope"', []],
    ['(userName sw "a" or userName sw "b") and not (externalId eq "ext-b2")', ["alice"]],
    ['not (userName sw "a" or userName sw "b")', ["carol", "dave"]],
    ['not (not (userName sw "c"))', ["carol"]],
    ["((title pr) and ((active eq true)))", ["alice", "bob"]],
    // keywords, operators and attribute names in any case; the core schema URN as a prefix
    ['USERNAME EQ "bob@example.com"', ["bob"]],
    ['userName Sw "a" OR userName sW "d"', ["alice", "dave"]],
    [`${USER_SCHEMA}:userName sw "d"`, ["dave"]],
    [`${USER_SCHEMA}:name.familyName eq "Anderson"`, ["alice"]],
    // the enterprise extension
    [`${ENT}:department eq "Engineering"`, ["alice", "dave"]],
    [`${ENT}:department eq "engineering"`, ["alice", "dave"]],
    [`${ENT}:department ne "Engineering"`, ["bob", "carol"]],
    [`${ENT}:department sw "De"`, ["bob"]],
    [`${ENT}:employeeNumber pr`, ["alice"]],
    [`${ENT}:department eq "Engineering" and active eq true and userName sw "a"`, ["alice"]],
    // Roster's seat extension: an inactive user holds no seat
    [`${SEAT}:seatType eq "unassigned"`, ["carol"]],
    [`${SEAT}:seatType ne "unassigned"`, ["alice", "bob", "dave"]],
    [`${SEAT}:seatReason eq "deactivated"`, ["carol"]],
  ])("%s", async (filter, expected) => {
    expect(await matching(filter)).toEqual([...expected].sort());
  });

  it("id eq and groups.value eq", async () => {
    expect(await matching(`id eq "${users.bob.id}"`)).toEqual(["bob"]);
    expect(await matching(`id eq "${users.bob.id.toUpperCase()}"`)).toEqual(["bob"]);
    expect(await matching('id eq "not-a-uuid"')).toEqual([]);
    expect(await matching(`id ne "${users.bob.id}"`)).toEqual(["alice", "carol", "dave"]);
    expect(await matching(`groups.value eq "${groups.engineering.id}"`)).toEqual(["alice", "dave"]);
    expect(await matching(`groups[value eq "${groups.sales.id}"]`)).toEqual(["carol"]);
  });

  it("meta.created gt/ge/lt/le, compared at the precision meta.created is shown with", async () => {
    const created = (n: Name) => (users[n].meta as { created: string }).created;
    expect(await matching(`meta.created gt "${created("alice")}"`)).toEqual(["bob", "carol", "dave"]);
    expect(await matching(`meta.created ge "${created("bob")}"`)).toEqual(["bob", "carol", "dave"]);
    expect(await matching(`meta.created lt "${created("bob")}"`)).toEqual(["alice"]);
    expect(await matching(`meta.created le "${created("bob")}"`)).toEqual(["alice", "bob"]);
    expect(await matching(`meta.created eq "${created("carol")}"`)).toEqual(["carol"]);
    expect(await matching(`meta.created gt "${created("dave")}"`)).toEqual([]);
    expect(await matching('meta.created gt "2000-01-01T00:00:00Z"')).toEqual(["alice", "bob", "carol", "dave"]);
    expect(await matching('meta.created lt "2000-01-01"')).toEqual([]);
    // Finer than milliseconds, with an offset (as Microsoft's suite sends): still a valid comparison.
    expect(await matching('meta.created gt "2015-10-10T14:38:21.8617979-07:00"')).toEqual([
      "alice",
      "bob",
      "carol",
      "dave",
    ]);
    expect(await matching(`meta.created eq "${created("carol").replace("Z", "1Z")}"`)).toEqual([]);
  });

  it("meta.lastModified gt finds what changed since a point in time", async () => {
    const latest = [users.alice, users.bob, users.carol, users.dave]
      .map((u) => (u.meta as { lastModified: string }).lastModified)
      .sort()
      .pop() as string;
    expect(await matching(`meta.lastModified gt "${latest}"`)).toEqual([]);
    await sleep(5);
    const patched = await scim.patch(
      `/Users/${users.bob.id}?attributes=meta`,
      patchBody({ op: "add", path: "nickName", value: "Bobby" }),
    );
    expect(patched.status).toBe(200);
    const bobModified = patched.body.meta.lastModified as string;
    expect(bobModified > latest).toBe(true);
    expect(await matching(`meta.lastModified gt "${latest}"`)).toEqual(["bob"]);
    // Incremental sync from the last value seen: the same resource does not come back.
    expect(await matching(`meta.lastModified gt "${bobModified}"`)).toEqual([]);
    expect(await matching(`meta.lastModified ge "${bobModified}"`)).toEqual(["bob"]);
    expect(await matching(`meta.lastModified eq "${bobModified}"`)).toEqual(["bob"]);
    expect(await matching(`meta.lastModified lt "${bobModified}"`)).toEqual(["alice", "carol", "dave"]);
    expect(await matching(`meta.lastModified le "${bobModified}" and nickName eq "bobby"`)).toEqual(["bob"]);
  });

  it("filter and count, startIndex and sortBy work together", async () => {
    const res = await listWithFilter(
      scim,
      'userName co "example"',
      "/Users",
      "&sortBy=userName&sortOrder=descending&count=2&startIndex=2",
    );
    expect(res.status).toBe(200);
    expect(res.body.totalResults).toBe(4);
    expect(res.body.Resources.map((r: { userName: string }) => r.userName)).toEqual([
      "carol@example.net",
      "bob@example.com",
    ]);
  });

  it("a filter containing SQL or LIKE wildcards is just text", async () => {
    expect(await matching(`userName eq "x' or '1'='1"`)).toEqual([]);
    expect(await matching('userName co "%"')).toEqual([]);
    expect(await matching('userName sw "_"')).toEqual([]);
    expect(await matching('displayName co "\\\\"')).toEqual([]);
  });
});

describe("filters on Groups", () => {
  async function groupsMatching(filter: string): Promise<string[]> {
    const res = await listWithFilter(scim, filter, "/Groups");
    expect(res.status, `${filter}: ${JSON.stringify(res.body)}`).toBe(200);
    return namesOf(idsOf(res), groups);
  }

  it.each<[string, string[]]>([
    ['displayName eq "engineering"', ["engineering"]],
    ['displayName sw "E"', ["empty", "engineering"]],
    ['displayName ne "Sales"', ["empty", "engineering"]],
    ['externalId eq "g-eng"', ["engineering"]],
    ['externalId eq "G-ENG"', []],
    ["externalId pr", ["engineering"]],
    ["members pr", ["engineering", "sales"]],
    ["not (members pr)", ["empty"]],
    ['displayName sw "e" and members pr', ["engineering"]],
  ])("%s", async (filter, expected) => {
    expect(await groupsMatching(filter)).toEqual(expected);
  });

  it("members[value eq …] and members.value eq find the groups of a user", async () => {
    expect(await groupsMatching(`members[value eq "${users.carol.id}"]`)).toEqual(["sales"]);
    expect(await groupsMatching(`members.value eq "${users.alice.id}"`)).toEqual(["engineering"]);
    expect(await groupsMatching(`members[value eq "${users.alice.id}" or value eq "${users.carol.id}"]`)).toEqual([
      "engineering",
      "sales",
    ]);
    expect(await groupsMatching(`members[value eq "${users.bob.id}"]`)).toEqual([]);
  });

  it("User attributes are unknown on Groups: 400 invalidFilter", async () => {
    expectScimError(await listWithFilter(scim, 'userName eq "alice@example.com"', "/Groups"), 400, "invalidFilter");
    expectScimError(await listWithFilter(scim, `${ENT}:department eq "Sales"`, "/Groups"), 400, "invalidFilter");
  });
});

describe("filters that are refused: 400 invalidFilter", () => {
  it.each([
    ["unknown attribute", 'favouriteColour eq "blue"'],
    ["unknown sub-attribute", 'name.middle eq "x"'],
    ["unknown enterprise attribute", `${ENT}:shoeSize eq "44"`],
    ["unknown schema", 'urn:example:params:scim:schemas:Custom:attr eq "x"'],
    ["password (never filterable)", 'password eq "secret"'],
    ["unknown sub-attribute in a value path", 'emails[colour eq "red"]'],
    ["missing value", "userName eq"],
    ["unknown operator", 'userName like "a%"'],
    ["unbalanced parenthesis", '(userName eq "a"'],
    ["stray closing parenthesis", 'userName eq "a")'],
    ["unterminated string", 'userName eq "abc'],
    ["dangling and", 'userName eq "a" and'],
    ["ordering a boolean", "active gt true"],
    ["co on a date", 'meta.created co "2020"'],
    ["not a date", 'meta.created gt "yesterday"'],
    ["impossible date", 'meta.created gt "2021-02-30T00:00:00Z"'],
    ["nested value paths", 'emails[type eq "work" and emails[value pr]]'],
    ["sub-attribute after a value path without an operator", 'emails[type eq "work"].value'],
  ])("%s", async (_label, filter) => {
    const res = await listWithFilter(scim, filter);
    expectScimError(res, 400, "invalidFilter");
  });

  it("a 2,000-character filter, quickly", async () => {
    const filter = `userName eq "${"a".repeat(1990)}"`;
    expect(filter.length).toBeGreaterThanOrEqual(2000);
    const started = Date.now();
    expectScimError(await listWithFilter(scim, filter), 400, "invalidFilter");
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("deeply nested parentheses and nots, quickly", async () => {
    for (const filter of [
      `${"(".repeat(300)}userName eq "x"${")".repeat(300)}`,
      `${"not (".repeat(150)}userName eq "x"${")".repeat(150)}`,
      `emails[${"(".repeat(200)}value pr${")".repeat(200)}]`,
    ]) {
      expect(filter.length).toBeLessThan(1000); // refused for its depth, not its length
      const started = Date.now();
      expectScimError(await listWithFilter(scim, filter), 400, "invalidFilter");
      expect(Date.now() - started).toBeLessThan(1000);
    }
  });

  it("too many expressions, quickly", async () => {
    const filter = Array.from({ length: 50 }, (_, i) => `title eq "${i}"`).join(" or ");
    expect(filter.length).toBeLessThan(1000);
    const started = Date.now();
    expectScimError(await listWithFilter(scim, filter), 400, "invalidFilter");
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("the same limits apply to a filter in a .search body", async () => {
    const res = await scim.post("/Users/.search", {
      schemas: ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
      filter: `${"(".repeat(300)}userName eq "x"${")".repeat(300)}`,
    });
    expectScimError(res, 400, "invalidFilter");
    expectScimError(
      await scim.post("/Users/.search", {
        schemas: ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        filter: 42,
      }),
      400,
      "invalidFilter",
    );
  });
});
