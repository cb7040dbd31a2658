// SCIM filters run as SQL on a real database: one table with a column of each kind filterToSql knows, rows
// with nulls, empty values and mixed case, and for each filter exactly the rows it must return.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AttributeResolver, type ColumnSpec, filterToSql } from "../../src/scim/filter/filter-to-sql.js";
import { type FilterValue, parseFilter } from "../../src/scim/filter/parse-filter.js";
import { ScimError } from "../../src/scim/scim-error.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

const TABLE = "scim_filter_probe";
const CORE = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

const emailsSpec: ColumnSpec = {
  type: "complex",
  jsonSql: "emails",
  subAttributes: {
    value: { type: "string", caseExact: false },
    type: { type: "string", caseExact: false },
    primary: { type: "boolean", caseExact: false },
    rank: { type: "number", caseExact: false },
    verified: { type: "dateTime", caseExact: false },
  },
  defaultSub: "value",
};

// Stored in a text[] column but exposed through custom SQL, as a join table would be.
const groupsSpec: ColumnSpec = {
  type: "custom",
  build(op: string, value: FilterValue) {
    if (op === "pr") return { sql: "cardinality(group_ids) > 0", bindings: [] };
    if (op === "eq") return { sql: "? = any(group_ids)", bindings: [value] };
    throw new ScimError(400, "invalidFilter", `groups supports only eq and pr, not ${op}`);
  },
};

/** Keys are "uri|name|sub", lower-cased; the core schema URN is optional. */
const columns: Record<string, ColumnSpec> = {
  "|id|": { type: "id", sql: "id" },
  "|username|": { type: "string", sql: "user_name", caseExact: false },
  "|externalid|": { type: "string", sql: "external_id", caseExact: true },
  "|name|familyname": { type: "string", sql: "family_name", caseExact: false },
  [`${ENTERPRISE.toLowerCase()}|employeenumber|`]: { type: "string", sql: "employee_number", caseExact: true },
  "|active|": { type: "boolean", sql: "active" },
  "|meta|created": { type: "dateTime", sql: "created_at" },
  "|logincount|": { type: "number", sql: "login_count" },
  "|roles|": { type: "stringArray", sql: "roles", caseExact: false },
  "|emails|": emailsSpec,
  "|emails|value": emailsSpec,
  "|emails|type": emailsSpec,
  "|emails|primary": emailsSpec,
  "|emails|rank": emailsSpec,
  "|emails|verified": emailsSpec,
  "|emails|foo": emailsSpec, // resolves, but the sub-attribute is unknown to the spec
  "|groups|": groupsSpec,
  "|groups|value": groupsSpec,
};

const resolver: AttributeResolver = {
  resolve(path) {
    const uri = path.uri && path.uri.toLowerCase() !== CORE.toLowerCase() ? path.uri.toLowerCase() : "";
    return columns[`${uri}|${path.name.toLowerCase()}|${(path.sub ?? "").toLowerCase()}`] ?? null;
  },
};

const uuid = (digit: number) => {
  const d = String(digit);
  return `${d.repeat(8)}-${d.repeat(4)}-4${d.repeat(3)}-8${d.repeat(3)}-${d.repeat(12)}`;
};

const rows = [
  {
    handle: "alice",
    id: uuid(1),
    user_name: "Alice@Example.COM",
    external_id: "EXT-1",
    family_name: "Smith",
    employee_number: "701984",
    active: true,
    created_at: "2024-01-15T10:00:00Z",
    login_count: 5,
    roles: ["admin", "billing"],
    group_ids: ["g1", "g2"],
    emails: [
      { value: "alice@example.com", type: "work", primary: true, rank: 1, verified: "2024-01-01T00:00:00Z" },
      { value: "alice@home.org", type: "home", primary: false, rank: 2 },
    ],
  },
  {
    handle: "bob",
    id: uuid(2),
    user_name: "bob_smith",
    external_id: "ext-2",
    family_name: "smith",
    employee_number: null,
    active: false,
    created_at: "2024-06-01T00:00:00Z",
    login_count: 0,
    roles: ["member"],
    group_ids: ["g2"],
    // Sloppy data: a string boolean, a non-numeric rank and an impossible date must not break queries.
    emails: [
      { value: "Bob@Example.com", type: "Work", primary: "True", rank: "high", verified: "2020-02-30T00:00:00Z" },
    ],
  },
  {
    handle: "carol",
    id: uuid(3),
    user_name: "100%_real",
    external_id: null,
    family_name: null,
    employee_number: null,
    active: null,
    created_at: null,
    login_count: null,
    roles: null,
    group_ids: null,
    emails: null,
  },
  {
    handle: "dave",
    id: uuid(4),
    user_name: "Dave",
    external_id: "",
    family_name: "Jones",
    employee_number: "",
    active: true,
    created_at: "2025-03-01T12:30:00+02:00",
    login_count: 42,
    roles: [],
    group_ids: [],
    emails: [],
  },
  {
    handle: "eve",
    id: uuid(5),
    user_name: "eve\\admin",
    external_id: "EXT-5",
    family_name: null,
    employee_number: null,
    active: false,
    created_at: "2023-12-31T23:59:59Z",
    login_count: 7,
    roles: ["reader"],
    group_ids: null,
    emails: { value: "eve@example.com" }, // an object, not an array: reads as no emails
  },
  {
    handle: "frank",
    id: uuid(6),
    user_name: "1000xreal",
    external_id: "EXT-6",
    family_name: "SMITH",
    employee_number: null,
    active: null,
    created_at: null,
    login_count: null,
    roles: ["admin"],
    group_ids: null,
    emails: "null", // JSON null
  },
];
const ALL = rows.map((r) => r.handle);
const except = (...handles: string[]) => ALL.filter((h) => !handles.includes(h));

let tdb: TestDatabase;
beforeAll(async () => {
  tdb = await createTestDatabase();
  await tdb.db.schema.createTable(TABLE, (t) => {
    t.text("handle").primary();
    t.uuid("id").notNullable();
    t.text("user_name").notNullable();
    t.text("external_id");
    t.text("family_name");
    t.text("employee_number");
    t.boolean("active");
    t.timestamp("created_at", { useTz: true });
    t.integer("login_count");
    t.specificType("roles", "text[]");
    t.specificType("group_ids", "text[]");
    t.jsonb("emails");
  });
  await tdb.db(TABLE).insert(
    rows.map((r) => ({
      ...r,
      emails: r.emails === null ? null : typeof r.emails === "string" ? r.emails : JSON.stringify(r.emails),
    })),
  );
});
afterAll(async () => tdb?.destroy());

async function matching(filter: string): Promise<string[]> {
  const { sql, bindings } = filterToSql(parseFilter(filter), resolver);
  const found: string[] = await tdb
    .db(TABLE)
    .whereRaw(sql, bindings as never[])
    .orderBy("handle")
    .pluck("handle");
  return found;
}

describe("filterToSql on PostgreSQL returns exactly the matching rows", () => {
  const table: [string, string[]][] = [
    // Case-insensitive strings; operators and attribute names in any case.
    ['userName eq "alice@example.com"', ["alice"]],
    ['USERNAME Eq "DAVE"', ["dave"]],
    ['userName ne "dave"', except("dave")],
    [`${CORE}:userName sw "DA"`, ["dave"]],
    ['name.familyName eq "smith"', ["alice", "bob", "frank"]],
    ['Name.FamilyName co "MIT"', ["alice", "bob", "frank"]],
    ['name.familyName sw "jo"', ["dave"]],
    ['name.familyName ew "S"', ["dave"]],
    ['not (name.familyName eq "smith")', ["carol", "dave", "eve"]],
    // Ordering on strings: lower-cased, code point order.
    ['userName gt "c"', ["dave", "eve"]],
    ['userName le "bob_smith"', ["alice", "bob", "carol", "frank"]],
    ['userName lt "1000"', ["carol"]],
    // Case-exact strings, empty strings and nulls.
    ['externalId eq "ext-1"', []],
    ['externalId eq "EXT-1"', ["alice"]],
    ['externalId ne "EXT-1"', except("alice")],
    ['externalId co "XT"', ["alice", "eve", "frank"]],
    ["externalId pr", ["alice", "bob", "eve", "frank"]],
    ["not (externalId pr)", ["carol", "dave"]],
    ["externalId eq null", ["carol", "dave"]],
    ["externalId ne null", ["alice", "bob", "eve", "frank"]],
    ["externalId eq 5", []],
    [`${ENTERPRISE}:employeeNumber eq "701984"`, ["alice"]],
    // LIKE metacharacters in values are literal.
    ['userName co "%"', ["carol"]],
    ['userName sw "100%"', ["carol"]],
    ['userName co "_"', ["bob", "carol"]],
    [String.raw`userName co "\\"`, ["eve"]],
    [String.raw`userName ew "\\ADMIN"`, ["eve"]],
    // Values are bound, never spliced into the SQL.
    [`userName eq "x' or '1'='1"`, []],
    // uuid ids.
    [`id eq "${uuid(1).toUpperCase()}"`, ["alice"]],
    ['id eq "not-a-uuid"', []],
    ['id ne "not-a-uuid"', ALL],
    [`id ne "${uuid(2)}"`, except("bob")],
    ['id sw "1111"', ["alice"]],
    ['id co "-4333-"', ["carol"]],
    ["id pr", ALL],
    // Booleans, including the strings Entra sends.
    ["active eq true", ["alice", "dave"]],
    ['active eq "True"', ["alice", "dave"]],
    ['active eq "FALSE"', ["bob", "eve"]],
    ["active ne true", ["bob", "carol", "eve", "frank"]],
    ["active pr", ["alice", "bob", "dave", "eve"]],
    ["not (active eq false)", ["alice", "carol", "dave", "frank"]],
    ["active eq null", ["carol", "frank"]],
    // dateTime: instants, offsets, date-only values as UTC midnight.
    ['meta.created gt "2024-01-15T10:00:00Z"', ["bob", "dave"]],
    ['meta.created ge "2024-01-15T10:00:00Z"', ["alice", "bob", "dave"]],
    ['meta.created lt "2024-01-01"', ["eve"]],
    ['meta.created eq "2025-03-01T10:30:00Z"', ["dave"]],
    ['meta.created eq "2025-03-01T12:30:00+02:00"', ["dave"]],
    ['meta.created le "2024-01-15T11:00:00+01:00"', ["alice", "eve"]],
    ['meta.created ne "2024-01-15T10:00:00.000Z"', except("alice")],
    ["meta.created pr", ["alice", "bob", "dave", "eve"]],
    // Numbers.
    ["loginCount gt 5", ["dave", "eve"]],
    ["loginCount eq 0", ["bob"]],
    ["loginCount le 5", ["alice", "bob"]],
    ["loginCount ne 5", except("alice")],
    ['loginCount ge "7"', ["dave", "eve"]],
    ["loginCount lt 5.5", ["alice", "bob"]],
    // text[]: any value matches; ne means no value equals.
    ['roles eq "ADMIN"', ["alice", "frank"]],
    ['roles co "ILL"', ["alice"]],
    ['roles sw "mem"', ["bob"]],
    ['roles gt "m"', ["bob", "eve"]],
    ["roles pr", ["alice", "bob", "eve", "frank"]],
    ["roles eq null", ["carol", "dave"]],
    ['roles ne "admin"', ["bob", "carol", "dave", "eve"]],
    ['roles[value eq "Reader"]', ["eve"]],
    ['roles[value sw "b" or value sw "m"]', ["alice", "bob"]],
    ['roles[value sw "a" and value ew "g"]', []],
    // jsonb array of objects: the default sub-attribute, dotted sub-attributes, value paths.
    ['emails co "example.com"', ["alice", "bob"]],
    ['emails eq "BOB@example.COM"', ["bob"]],
    ['emails.type eq "work"', ["alice", "bob"]],
    ['emails[type eq "work" and value ew ".com"]', ["alice", "bob"]],
    ['emails[type eq "home" and value co "example"]', []],
    ['emails[type eq "home"] and emails co "example"', ["alice"]],
    ['emails[not (type eq "work")]', ["alice"]],
    ['not (emails[type eq "work"])', ["carol", "dave", "eve", "frank"]],
    ["emails pr", ["alice", "bob"]],
    ["not (emails pr)", ["carol", "dave", "eve", "frank"]],
    ["emails eq null", ["carol", "dave", "eve", "frank"]],
    ["emails.value pr", ["alice", "bob"]],
    ['emails.type ne "home"', except("alice")],
    ["emails.type eq null", ["carol", "dave", "eve", "frank"]],
    ["emails.primary eq true", ["alice", "bob"]],
    ['emails[primary eq "TRUE" and type eq "work"]', ["alice", "bob"]],
    ["emails[primary eq false]", ["alice"]],
    ["emails.rank gt 1", ["alice"]],
    ["emails.rank pr", ["alice"]],
    ['emails.verified lt "2025-01-01T00:00:00Z"', ["alice"]],
    ["emails.verified pr", ["alice"]],
    // Custom SQL, and a value path over it.
    ['groups eq "g2"', ["alice", "bob"]],
    ['groups[value eq "g1" or value eq "x"]', ["alice"]],
    ["groups pr", ["alice", "bob"]],
    ["groups eq null", ["carol", "dave", "eve", "frank"]],
    // Logic: precedence, grouping, not over nulls.
    ['userName sw "a" or userName sw "b" and active eq true', ["alice"]],
    ['(userName sw "a" or userName sw "b") and active eq false', ["bob"]],
    ["not (active eq true or loginCount gt 5)", ["bob", "carol", "frank"]],
    ["not (not (active eq true))", ["alice", "dave"]],
    ['not (externalId eq "EXT-1") and not (name.familyName pr)', ["carol", "eve"]],
    ['active eq true and (roles eq "admin" or emails.type eq "home")', ["alice"]],
  ];

  it.each(table)("%s", async (filter, expected) => {
    expect(await matching(filter)).toEqual(expected);
  });
});

describe("filterToSql rejects what it cannot mean with 400 invalidFilter", () => {
  const table: [string, RegExp][] = [
    ['nickName eq "x"', /unknown attribute nickName/],
    [`${ENTERPRISE}:costCenter pr`, /unknown attribute urn:.*:costCenter/],
    ['emails.foo eq "x"', /unknown attribute emails\.foo/],
    ['emails[foo eq "x"]', /unknown attribute emails\.foo/],
    ['roles[display eq "x"]', /unknown attribute roles\.display/],
    ['userName[value eq "x"]', /unknown attribute userName\.value/],
    ['groups[value eq "g1" and value eq "g2"]', /only comparisons joined by 'or'/],
    ["active gt true", /'gt' cannot be used with boolean attribute active/],
    ['active eq "yes"', /compare it with true or false/],
    ["active eq 1", /compare it with true or false/],
    ['meta.created gt "yesterday"', /not an ISO 8601 date-time/],
    ['meta.created gt "2024-02-30"', /not an ISO 8601 date-time/],
    ['meta.created lt "2024-01-01T24:00:00Z"', /not an ISO 8601 date-time/],
    ["meta.created lt 1700000000", /not an ISO 8601 date-time/],
    ['meta.created co "2024"', /'co' cannot be used with dateTime/],
    ['loginCount eq "many"', /not a number/],
    ["loginCount sw 1", /'sw' cannot be used with number/],
    ["userName eq true", /string attribute; it cannot be compared with true/],
    ["userName gt null", /cannot compare userName with null/],
    ["roles co null", /cannot compare roles with null/],
    ['groups co "g"', /groups supports only eq and pr/],
  ];

  it.each(table)("%s", (filter, message) => {
    let error: unknown;
    try {
      filterToSql(parseFilter(filter), resolver);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ScimError);
    expect((error as ScimError).status).toBe(400);
    expect((error as ScimError).scimType).toBe("invalidFilter");
    expect((error as ScimError).message).toMatch(message);
  });
});

describe("the generated SQL", () => {
  it("binds every value and has one placeholder per binding", () => {
    const { sql, bindings } = filterToSql(
      parseFilter('userName eq "O\'Brien%" and (emails[value co "x?y"] or meta.created gt "2024-01-01")'),
      resolver,
    );
    expect(sql).not.toContain("Brien");
    expect(sql).not.toContain("x?y");
    expect(sql.split("?").length - 1).toBe(bindings.length);
    expect(bindings).toContain("O'Brien%");
    expect(bindings).toContain("%x?y%");
  });

  it("keeps case-insensitive eq in the lower(column) = lower(?) form an index on lower(column) serves", () => {
    expect(filterToSql(parseFilter('userName eq "x"'), resolver)).toEqual({
      sql: "(lower((user_name)) = lower(?::text))",
      bindings: ["x"],
    });
    expect(filterToSql(parseFilter('roles eq "Admin"'), resolver)).toEqual({
      sql: "((roles) @> array[lower(?::text)]::text[])",
      bindings: ["Admin"],
    });
  });
});
