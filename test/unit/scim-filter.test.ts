// The SCIM filter parser (RFC 7644 §3.4.2.2): trees for valid filters, 400 invalidFilter for everything else,
// and limits that reject hostile input quickly instead of hanging.
import { describe, expect, it } from "vitest";
import {
  type AttrPath,
  type FilterNode,
  type FilterValue,
  parseAttrPath,
  parseFilter,
} from "../../src/scim/filter/parse-filter.js";
import { ScimError } from "../../src/scim/scim-error.js";

const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const CORE = "urn:ietf:params:scim:schemas:core:2.0:User";

// Builders keep the expected trees readable.
const path = (name: string, sub: string | null = null, uri: string | null = null): AttrPath => ({ uri, name, sub });
const eq = (name: string, value: FilterValue, sub: string | null = null): FilterNode => ({
  kind: "compare",
  attr: path(name, sub),
  op: "eq",
  value,
});
const and = (left: FilterNode, right: FilterNode): FilterNode => ({ kind: "and", left, right });
const or = (left: FilterNode, right: FilterNode): FilterNode => ({ kind: "or", left, right });
const not = (expr: FilterNode): FilterNode => ({ kind: "not", expr });

/** Runs fn and returns the ScimError it throws (failing the test if it throws anything else or nothing). */
function scimError(fn: () => unknown): ScimError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ScimError);
    return error as ScimError;
  }
  throw new Error("expected a ScimError");
}

describe("parseFilter: valid filters", () => {
  const table: [string, FilterNode][] = [
    ['userName eq "bjensen"', eq("userName", "bjensen")],
    // Every operator; operators in any case.
    [
      'name.familyName co "O\'Malley"',
      { kind: "compare", attr: path("name", "familyName"), op: "co", value: "O'Malley" },
    ],
    ['userName sw "J"', { kind: "compare", attr: path("userName"), op: "sw", value: "J" }],
    ['userName EW "n"', { kind: "compare", attr: path("userName"), op: "ew", value: "n" }],
    ['title Ne "boss"', { kind: "compare", attr: path("title"), op: "ne", value: "boss" }],
    ["title pr", { kind: "present", attr: path("title") }],
    ["title PR", { kind: "present", attr: path("title") }],
    [
      'meta.lastModified gt "2011-05-13T04:42:34Z"',
      { kind: "compare", attr: path("meta", "lastModified"), op: "gt", value: "2011-05-13T04:42:34Z" },
    ],
    ["count Ge 10", { kind: "compare", attr: path("count"), op: "ge", value: 10 }],
    ["count lt -1.5e2", { kind: "compare", attr: path("count"), op: "lt", value: -150 }],
    ["count le 0", { kind: "compare", attr: path("count"), op: "le", value: 0 }],
    // Literals, any case.
    ["active eq true", eq("active", true)],
    ["active eq False", eq("active", false)],
    ["manager eq NULL", eq("manager", null)],
    ['active eq "True"', eq("active", "True")],
    // Precedence: not > and > or; and/or are left-associative.
    ['a eq "1" or b eq "2" and c eq "3"', or(eq("a", "1"), and(eq("b", "2"), eq("c", "3")))],
    ['a eq "1" and b eq "2" or c eq "3"', or(and(eq("a", "1"), eq("b", "2")), eq("c", "3"))],
    ['a eq "1" or b eq "2" or c eq "3"', or(or(eq("a", "1"), eq("b", "2")), eq("c", "3"))],
    ['a eq "1" AND b eq "2" Or c eq "3"', or(and(eq("a", "1"), eq("b", "2")), eq("c", "3"))],
    ['(a eq "1" or b eq "2") and c eq "3"', and(or(eq("a", "1"), eq("b", "2")), eq("c", "3"))],
    ['not (a eq "1") and b eq "2"', and(not(eq("a", "1")), eq("b", "2"))],
    ['NOT(a eq "1" or b eq "2")', not(or(eq("a", "1"), eq("b", "2")))],
    ['not (not (a eq "1"))', not(not(eq("a", "1")))],
    ['((((a eq "1"))))', eq("a", "1")],
    ['((a eq "1" or (b eq "2" and (c eq "3"))))', or(eq("a", "1"), and(eq("b", "2"), eq("c", "3")))],
    // Whitespace runs, tabs and newlines.
    ['  userName   eq\t"x"\n and\n  title  pr  ', and(eq("userName", "x"), { kind: "present", attr: path("title") })],
    // Value paths.
    [
      'emails[type eq "work" and value co "@example.com"]',
      {
        kind: "valuePath",
        attr: path("emails"),
        filter: and(eq("type", "work"), { kind: "compare", attr: path("value"), op: "co", value: "@example.com" }),
      },
    ],
    ['members[value eq "x"]', { kind: "valuePath", attr: path("members"), filter: eq("value", "x") }],
    [
      'userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")',
      and(
        eq("userType", "Employee"),
        or(
          { kind: "compare", attr: path("emails"), op: "co", value: "example.com" },
          { kind: "compare", attr: path("emails", "value"), op: "co", value: "example.org" },
        ),
      ),
    ],
    [
      'userType eq "Employee" and emails[type eq "work" and not (value ew ".org")] or x pr',
      or(
        and(eq("userType", "Employee"), {
          kind: "valuePath",
          attr: path("emails"),
          filter: and(eq("type", "work"), not({ kind: "compare", attr: path("value"), op: "ew", value: ".org" })),
        }),
        { kind: "present", attr: path("x") },
      ),
    ],
    // Schema URN prefixes (URNs contain dots and colons; the name follows the last colon).
    [
      `${ENTERPRISE}:employeeNumber eq "701984"`,
      { kind: "compare", attr: path("employeeNumber", null, ENTERPRISE), op: "eq", value: "701984" },
    ],
    [`${ENTERPRISE}:manager.value pr`, { kind: "present", attr: path("manager", "value", ENTERPRISE) }],
    [
      `${CORE}:name.familyName eq "J"`,
      { kind: "compare", attr: path("name", "familyName", CORE), op: "eq", value: "J" },
    ],
    [
      `${CORE}:emails[type eq "work"]`,
      { kind: "valuePath", attr: path("emails", null, CORE), filter: eq("type", "work") },
    ],
    ['members.$ref eq "x"', eq("members", "x", "$ref")],
    // Strings are JSON strings.
    [String.raw`title eq "say \"hi\""`, eq("title", 'say "hi"')],
    [String.raw`title eq "back\\slash"`, eq("title", "back\\slash")],
    [String.raw`title eq "\u00e9t\u00E9 \/ \t"`, eq("title", "été / \t")],
    ['title eq "(not) [and] or"', eq("title", "(not) [and] or")],
    ['title eq ""', eq("title", "")],
    // Attribute names that look like keywords are still attributes where an attribute is expected.
    ['or eq "x" or and pr', or(eq("or", "x"), { kind: "present", attr: path("and") })],
  ];

  it.each(table)("%s", (input, expected) => {
    expect(parseFilter(input)).toEqual(expected);
  });
});

// Entra looks users up with emails[type eq "work"].value eq "x": one element satisfying both conditions.
describe("parseFilter: a sub-attribute after a value filter", () => {
  it("reads attr[filter].sub op value as attr[filter and sub op value]", () => {
    expect(parseFilter('emails[type eq "work"].value eq "x@corp.example"')).toEqual({
      kind: "valuePath",
      attr: path("emails"),
      filter: and(
        { kind: "compare", attr: path("type"), op: "eq", value: "work" },
        { kind: "compare", attr: path("value"), op: "eq", value: "x@corp.example" },
      ),
    });
  });
});

// Microsoft's SCIM test suite sends unquoted values; they are read as strings up to a space, ')' or ']'.
describe("parseFilter: bare (unquoted) values", () => {
  const table: [string, FilterNode][] = [
    ["userName eq bjensen", eq("userName", "bjensen")],
    ["userName sw O", { kind: "compare", attr: path("userName"), op: "sw", value: "O" }],
    ["userName eq 'single'", eq("userName", "'single'")],
    ["count eq 01", eq("count", "01")],
    ["created gt 2011-05-13", { kind: "compare", attr: path("created"), op: "gt", value: "2011-05-13" }],
    [
      "meta.Created gt 2015-10-10T14:38:21.8617979-07:00",
      { kind: "compare", attr: path("meta", "Created"), op: "gt", value: "2015-10-10T14:38:21.8617979-07:00" },
    ],
    [
      "name.FamilyName eq Employee and (emails.Value co example.com)",
      and(
        { kind: "compare", attr: path("name", "FamilyName"), op: "eq", value: "Employee" },
        { kind: "compare", attr: path("emails", "Value"), op: "co", value: "example.com" },
      ),
    ],
    ["active eq True", eq("active", true)],
  ];

  it.each(table)("%s", (input, expected) => {
    expect(parseFilter(input)).toEqual(expected);
  });
});

describe("parseFilter: invalid filters", () => {
  const table: [string, RegExp][] = [
    ["", /empty/],
    ["   ", /empty/],
    ["userName", /expected an operator .* found the end of the filter/],
    ['userName equals "x"', /expected an operator .* position 10, found 'equals'/],
    ["userName eq", /expected a value .* found the end of the filter/],
    ['userName eq "x" "y"', /unexpected '"y"' at position 17/],
    ['userName eq "x" and', /expected an attribute, '\(' or 'not' at position 20, found the end/],
    ['userName eq "x" nand title pr', /unexpected 'nand'/],
    ['(userName eq "x"', /expected '\)' at position 17 to close '\(' at position 1/],
    ['userName eq "x")', /unexpected '\)'/],
    ['not userName eq "x"', /expected '\(' after 'not'/],
    ['emails[type eq "work"', /expected '\]'/],
    ['emails[type eq "work"].value', /expected an operator after 'value'/],
    ['emails[type eq "work"]. eq "x"', /sub-attribute name after/],
    ['emails[type[value eq "x"] eq "work"]', /cannot be nested/],
    ['emails[emails.type eq "work"]', /bare sub-attribute name/],
    ['name.familyName[value eq "x"]', /multi-valued attribute/],
    ['userName eq "unterminated', /unterminated string at position 13/],
    [String.raw`userName eq "bad \q escape"`, /invalid string at position 13/],
    [String.raw`userName eq "nul \u0000"`, /\\u0000/],
    ['userName eq "x" & title pr', /unexpected character '&'/],
    ["count eq 1e999", /out of range/],
    ['a.b.c eq "x"', /at most one '\.'/],
    ['http://example.com:userName eq "x"', /'http:' at position 1: a schema prefix must be a URN/],
    ['foo:userName eq "x"', /must be a URN/],
    [`${ENTERPRISE}: eq "x"`, /attribute name must follow/],
    ['1abc eq "x"', /invalid number/],
    ['user-name eq "x" and _x pr', /unexpected character '_'/],
    ["[", /expected an attribute/],
  ];

  it.each(table)("%s", (input, message) => {
    const error = scimError(() => parseFilter(input));
    expect(error.status).toBe(400);
    expect(error.scimType).toBe("invalidFilter");
    expect(error.message).toMatch(message);
  });
});

describe("parseFilter: limits", () => {
  /** Hostile input must be rejected with invalidFilter, and fast. */
  function rejectsQuickly(input: string, limits: Parameters<typeof parseFilter>[1], message: RegExp) {
    const started = performance.now();
    const error = scimError(() => parseFilter(input, limits));
    expect(performance.now() - started).toBeLessThan(200);
    expect(error.scimType).toBe("invalidFilter");
    expect(error.message).toMatch(message);
  }

  const orChain = (n: number) => Array.from({ length: n }, (_, i) => `a eq ${i}`).join(" or ");
  const nested = (n: number) => `${"(".repeat(n)}a eq 1${")".repeat(n)}`;

  it("rejects a 100,000-character filter on length before tokenizing", () => {
    rejectsQuickly(`userName eq "${"x".repeat(100_000)}"`, undefined, /100014 characters long; the limit is 1000/);
  });

  it("rejects 10,000 nested parentheses on length, and on depth when the length limit is raised", () => {
    rejectsQuickly(nested(10_000), undefined, /limit is 1000/);
    rejectsQuickly(nested(10_000), { maxLength: 1_000_000 }, /more than 16 levels deep at position 17/);
    rejectsQuickly(`${"not (".repeat(10_000)}a pr${")".repeat(10_000)}`, { maxLength: 1_000_000 }, /16 levels/);
  });

  it("rejects `a eq 1 or a eq 2 or …` × 1000 on length, and on node count when the length limit is raised", () => {
    rejectsQuickly(orChain(1000), undefined, /limit is 1000/);
    rejectsQuickly(orChain(1000), { maxLength: 1_000_000 }, /more than 64 expressions/);
    rejectsQuickly(orChain(100_000), { maxLength: 10_000_000 }, /more than 64 expressions/);
  });

  it("accepts exactly the limits and rejects one more", () => {
    expect(() => parseFilter(nested(16))).not.toThrow();
    expect(() => parseFilter(nested(17))).toThrow(/16 levels/);
    // n comparisons joined by or make 2n - 1 nodes.
    expect(() => parseFilter(orChain(32))).not.toThrow();
    expect(() => parseFilter(orChain(33))).toThrow(/more than 64 expressions/);
    expect(() => parseFilter(orChain(10), { maxNodes: 19 })).not.toThrow();
    expect(() => parseFilter(orChain(10), { maxNodes: 18 })).toThrow(/more than 18 expressions/);
    expect(() => parseFilter('a eq "x"', { maxLength: 8 })).not.toThrow();
    expect(() => parseFilter('a eq "x"', { maxLength: 7 })).toThrow(/limit is 7/);
    // A value path's brackets count as a level.
    expect(() => parseFilter('(emails[type eq "work"])', { maxDepth: 2 })).not.toThrow();
    expect(() => parseFilter('(emails[type eq "work"])', { maxDepth: 1 })).toThrow(/1 levels/);
  });

  it("parses long flat chains within the limits in linear time", () => {
    const started = performance.now();
    const tree = parseFilter(orChain(5000), { maxLength: 1_000_000, maxNodes: 100_000 });
    expect(performance.now() - started).toBeLessThan(500);
    expect(tree.kind).toBe("or");
  });
});

describe("parseAttrPath", () => {
  const table: [string, AttrPath][] = [
    ["userName", path("userName")],
    ["  name.familyName ", path("name", "familyName")],
    [`${ENTERPRISE}:employeeNumber`, path("employeeNumber", null, ENTERPRISE)],
    [`${ENTERPRISE}:manager.displayName`, path("manager", "displayName", ENTERPRISE)],
    ["meta.lastModified", path("meta", "lastModified")],
  ];
  it.each(table)("%s", (input, expected) => {
    expect(parseAttrPath(input)).toEqual(expected);
  });

  const invalid: string[] = ["", "a.b.c", 'emails[type eq "work"]', "user name", "9lives", "foo:bar", "name."];
  it.each(invalid)("rejects %j", (input) => {
    const error = scimError(() => parseAttrPath(input));
    expect([error.status, error.scimType]).toEqual([400, "invalidFilter"]);
  });

  it("reports invalidPath when asked (PATCH)", () => {
    expect(scimError(() => parseAttrPath("a.b.c", "invalidPath")).scimType).toBe("invalidPath");
  });
});
