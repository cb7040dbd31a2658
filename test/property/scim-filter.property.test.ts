// Property tests of SCIM filters (issue 8), over HTTP on a real database: random filter text never answers
// 500 (only 200 or a 400 invalidFilter), and well-typed random filters over random stored users return
// exactly the users a small in-memory evaluator of RFC 7644 §3.4.2.2 picks from the same users.
import type { Express } from "express";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { makeOrg, testDeps } from "../support/factories.js";
import { createUser, type ScimClient, scimClient, type ScimResource } from "../http/scim-helpers.js";

let tdb: TestDatabase;
let app: Express;
let scim: ScimClient;
let users: ScimResource[];

// Small pools so that random filters and random users meet. ASCII only: lower() in PostgreSQL and
// toLowerCase() in JS agree on it. "%" and "_" check that co/sw/ew escape LIKE's wildcards.
const WORDS = ["ann", "Ann", "bob", "b_b", "al%", "zed", "Ann-Marie", "x"];
const DOMAINS = ["example.com", "EXAMPLE.org"];
const TITLES = ["Engineer", "engineer", "Lead", "VP_Sales"];
const TYPES = ["work", "home", "Work"];

type Emails = { value: string; type?: string }[];

const userArb = fc.record({
  given: fc.option(fc.constantFrom(...WORDS), { nil: undefined }),
  family: fc.option(fc.constantFrom(...WORDS), { nil: undefined }),
  display: fc.option(fc.constantFrom(...WORDS), { nil: undefined }),
  title: fc.option(fc.constantFrom(...TITLES), { nil: undefined }),
  externalId: fc.option(fc.constantFrom(...WORDS), { nil: undefined }),
  active: fc.boolean(),
  emails: fc.array(
    fc.record({
      local: fc.constantFrom(...WORDS.map((w) => w.replace(/%/g, "pct"))),
      domain: fc.constantFrom(...DOMAINS),
      type: fc.option(fc.constantFrom(...TYPES), { nil: undefined }),
    }),
    { maxLength: 3 },
  ),
});

const SEED = Math.floor(Math.random() * 2 ** 31);

beforeAll(async () => {
  tdb = await createTestDatabase();
  app = testApp(tdb.db);
  const org = await makeOrg(testDeps(tdb.db));
  scim = scimClient(app, org.scimToken);
  const generated = fc.sample(userArb, { numRuns: 14, seed: SEED });
  for (const [i, u] of generated.entries()) {
    const emails: Emails = [];
    const seen = new Set<string>();
    for (const e of u.emails) {
      const value = `${e.local}${i}@${e.domain}`;
      if (seen.has(value.toLowerCase())) continue;
      seen.add(value.toLowerCase());
      emails.push({ value, ...(e.type ? { type: e.type } : {}) });
    }
    await createUser(scim, `${WORDS[i % WORDS.length].replace(/%/g, "pct")}.${i}@Example.com`, {
      ...(u.given || u.family ? { name: { givenName: u.given, familyName: u.family } } : {}),
      ...(u.display ? { displayName: u.display } : {}),
      ...(u.title ? { title: u.title } : {}),
      ...(u.externalId ? { externalId: `${u.externalId}${i % 3}` } : {}),
      active: u.active,
      ...(emails.length ? { emails } : {}),
    });
  }
  const all = await scim.get("/Users?count=1000");
  users = all.body.Resources as ScimResource[];
  expect(users.length).toBe(14);
});
afterAll(async () => tdb?.destroy());

// ---- The reference: RFC 7644 filters over the resources as GET shows them ------------------------------

type Op = "eq" | "ne" | "co" | "sw" | "ew" | "gt" | "ge" | "lt" | "le";
type Filter =
  | { kind: "and" | "or"; left: Filter; right: Filter }
  | { kind: "not"; expr: Filter }
  | { kind: "cmp"; attr: StringAttr; op: Op; value: string }
  | { kind: "null"; attr: StringAttr; op: "eq" | "ne" }
  | { kind: "pr"; attr: StringAttr | "active" | "emails" }
  | { kind: "active"; op: "eq" | "ne"; value: boolean }
  | { kind: "emails"; op: Op; value: string }
  | { kind: "emailPath"; type: string; op: Op; value: string };

/** Single-valued string attributes and where GET shows them; externalId is the only case-exact one. */
const STRING_ATTRS = {
  userName: (r: ScimResource) => r.userName,
  displayName: (r: ScimResource) => r.displayName,
  "name.givenName": (r: ScimResource) => (r.name as Record<string, unknown> | undefined)?.givenName,
  "name.familyName": (r: ScimResource) => (r.name as Record<string, unknown> | undefined)?.familyName,
  title: (r: ScimResource) => r.title,
  externalId: (r: ScimResource) => r.externalId,
} as const;
type StringAttr = keyof typeof STRING_ATTRS;

function compare(actual: string, op: Op, expected: string, caseExact: boolean): boolean {
  const a = caseExact ? actual : actual.toLowerCase();
  const e = caseExact ? expected : expected.toLowerCase();
  switch (op) {
    case "eq":
      return a === e;
    case "ne":
      return a !== e;
    case "co":
      return a.includes(e);
    case "sw":
      return a.startsWith(e);
    case "ew":
      return a.endsWith(e);
    case "gt":
      return a > e;
    case "ge":
      return a >= e;
    case "lt":
      return a < e;
    case "le":
      return a <= e;
  }
}

function emailsOf(r: ScimResource): { value: string; type?: string }[] {
  return (r.emails as { value: string; type?: string }[] | undefined) ?? [];
}

/** Two-valued: an absent value matches nothing, and `ne`/`not` of that is a match. */
function matches(f: Filter, r: ScimResource): boolean {
  switch (f.kind) {
    case "and":
      return matches(f.left, r) && matches(f.right, r);
    case "or":
      return matches(f.left, r) || matches(f.right, r);
    case "not":
      return !matches(f.expr, r);
    case "cmp": {
      const v = STRING_ATTRS[f.attr](r);
      if (typeof v !== "string") return f.op === "ne";
      return compare(v, f.op, f.value, f.attr === "externalId");
    }
    case "null": {
      const v = STRING_ATTRS[f.attr](r);
      const present = typeof v === "string" && v !== "";
      return f.op === "eq" ? !present : present;
    }
    case "pr":
      if (f.attr === "active") return typeof r.active === "boolean";
      if (f.attr === "emails") return emailsOf(r).length > 0;
      return typeof STRING_ATTRS[f.attr](r) === "string" && STRING_ATTRS[f.attr](r) !== "";
    case "active":
      return f.op === "eq" ? r.active === f.value : r.active !== f.value;
    case "emails": {
      // Multi-valued: some value matches; ne is "no value equals".
      if (f.op === "ne") return !emailsOf(r).some((e) => compare(e.value, "eq", f.value, false));
      return emailsOf(r).some((e) => compare(e.value, f.op, f.value, false));
    }
    case "emailPath":
      // One element must satisfy both conditions.
      return emailsOf(r).some(
        (e) =>
          typeof e.type === "string" &&
          compare(e.type, "eq", f.type, false) &&
          (f.op === "ne" ? !compare(e.value, "eq", f.value, false) : compare(e.value, f.op, f.value, false)),
      );
  }
}

const quote = (s: string) => JSON.stringify(s);

function render(f: Filter): string {
  switch (f.kind) {
    case "and":
    case "or":
      return `(${render(f.left)} ${f.kind} ${render(f.right)})`;
    case "not":
      return `not (${render(f.expr)})`;
    case "cmp":
      return `${f.attr} ${f.op} ${quote(f.value)}`;
    case "null":
      return `${f.attr} ${f.op} null`;
    case "pr":
      return `${f.attr} pr`;
    case "active":
      return `active ${f.op} ${f.value}`;
    case "emails":
      return `emails.value ${f.op} ${quote(f.value)}`;
    case "emailPath":
      return `emails[type eq ${quote(f.type)} and value ${f.op} ${quote(f.value)}]`;
  }
}

const OPS: Op[] = ["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"];
const valueArb = fc.oneof(
  fc.constantFrom(...WORDS, ...TITLES, ...DOMAINS, "", "@", ".", "1"),
  fc.string({ maxLength: 4, unit: fc.constantFrom("a", "n", "B", "_", "%", "@", ".", "e", "1", "\\") }),
);
const leafArb: fc.Arbitrary<Filter> = fc.oneof(
  fc.record({
    kind: fc.constant("cmp" as const),
    attr: fc.constantFrom(...(Object.keys(STRING_ATTRS) as StringAttr[])),
    op: fc.constantFrom(...OPS),
    value: valueArb,
  }),
  fc.record({
    kind: fc.constant("null" as const),
    attr: fc.constantFrom(...(Object.keys(STRING_ATTRS) as StringAttr[])),
    op: fc.constantFrom("eq" as const, "ne" as const),
  }),
  fc.record({
    kind: fc.constant("pr" as const),
    attr: fc.constantFrom(...(Object.keys(STRING_ATTRS) as StringAttr[]), "active" as const, "emails" as const),
  }),
  fc.record({
    kind: fc.constant("active" as const),
    op: fc.constantFrom("eq" as const, "ne" as const),
    value: fc.boolean(),
  }),
  fc.record({ kind: fc.constant("emails" as const), op: fc.constantFrom(...OPS), value: valueArb }),
  fc.record({
    kind: fc.constant("emailPath" as const),
    type: fc.constantFrom(...TYPES),
    op: fc.constantFrom(...OPS),
    value: valueArb,
  }),
);
const filterArb: fc.Arbitrary<Filter> = fc.letrec<{ node: Filter }>((tie) => ({
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leafArb,
    fc.record({ kind: fc.constantFrom("and" as const, "or" as const), left: tie("node"), right: tie("node") }),
    fc.record({ kind: fc.constant("not" as const), expr: tie("node") }),
  ),
})).node;

// Random text made of filter tokens, so the parser is reached past its first character.
const TOKENS = [
  "userName",
  "emails",
  "emails.value",
  "name.givenName",
  "meta.created",
  "active",
  "id",
  "groups",
  "title",
  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
  "members",
  "x.y.z",
  "eq",
  "ne",
  "co",
  "sw",
  "ew",
  "gt",
  "ge",
  "lt",
  "le",
  "pr",
  "and",
  "or",
  "not",
  "(",
  ")",
  "[",
  "]",
  '"a"',
  '"',
  "'",
  "true",
  "false",
  "null",
  "1",
  "-1.5e3",
  "2026-01-01T00:00:00Z",
  "\\",
  "%",
  " ",
  "  ",
];
const noiseArb = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.array(fc.constantFrom(...TOKENS), { maxLength: 25 }).map((t) => t.join(" ")),
  fc.array(fc.constantFrom(...TOKENS), { maxLength: 25 }).map((t) => t.join("")),
  filterArb.map(render).chain((f) => fc.nat(f.length).map((cut) => f.slice(0, cut))),
);

describe("SCIM filters, property-based", () => {
  it("never answer 500: random filter text is 200 or 400 invalidFilter, on Users and Groups", async () => {
    await fc.assert(
      fc.asyncProperty(noiseArb, fc.constantFrom("/Users", "/Groups"), async (filter, resource) => {
        const res = await scim.get(`${resource}?filter=${encodeURIComponent(filter)}`);
        expect([200, 400], `${res.status} ${JSON.stringify(res.body)}`).toContain(res.status);
        if (res.status === 400) expect(res.body.scimType).toBe("invalidFilter");
      }),
      { numRuns: 150 },
    );
  });

  it("return exactly what an in-memory evaluation returns, on random users", async () => {
    await fc.assert(
      fc.asyncProperty(filterArb, async (f) => {
        const text = render(f);
        const res = await scim.get(`/Users?count=1000&filter=${encodeURIComponent(text)}`);
        expect(res.status, `${text}: ${JSON.stringify(res.body)}`).toBe(200);
        const got = (res.body.Resources as ScimResource[]).map((r) => r.id).sort();
        const want = users
          .filter((u) => matches(f, u))
          .map((u) => u.id)
          .sort();
        expect(got, `${text} (users from seed ${SEED})`).toEqual(want);
        expect(res.body.totalResults).toBe(want.length);
      }),
      { numRuns: 150 },
    );
  });
});
