// Property test of User PATCH (issue 8), over HTTP on a real database: random PatchOp documents, well formed
// or not, never answer 500 and never corrupt the stored user. After each one the user is still readable,
// is a valid SCIM User that Roster itself would accept back on PUT, and is unchanged whenever the PATCH
// was refused.
import type { Express } from "express";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readScimUser } from "../../src/scim/users.js";
import { testApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { makeOrg, testDeps } from "../support/factories.js";
import {
  createUser,
  ENTERPRISE,
  PATCH_OP,
  type ScimClient,
  scimClient,
  type ScimResource,
  USER_SCHEMA,
} from "../http/scim-helpers.js";

let tdb: TestDatabase;
let app: Express;
let scim: ScimClient;
let user: ScimResource;

beforeAll(async () => {
  tdb = await createTestDatabase();
  app = testApp(tdb.db);
  const org = await makeOrg(testDeps(tdb.db));
  scim = scimClient(app, org.scimToken);
  // A second user whose userName a PATCH may try to take (409).
  await createUser(scim, "taken@example.com");
  user = await createUser(scim, "patched@example.com", {
    name: { givenName: "Pat", familyName: "Ched" },
    emails: [{ value: "patched@example.com", type: "work", primary: true }],
    [ENTERPRISE]: { department: "R&D", manager: { value: "someone" } },
  });
});
afterAll(async () => tdb?.destroy());

const PATHS = [
  "displayName",
  "userName",
  "externalId",
  "title",
  "active",
  "nickName",
  "name",
  "name.givenName",
  "name.familyName",
  "name..givenName",
  "name.",
  "emails",
  "emails.value",
  'emails[type eq "work"]',
  'emails[type eq "work"].value',
  'emails[type eq "home"].value',
  'emails[value co "@"].primary',
  "emails[type eq]",
  "phoneNumbers",
  'phoneNumbers[type eq "mobile"].value',
  'addresses[type eq "work"].locality',
  "addresses",
  "roles",
  "groups",
  "id",
  "meta",
  "meta.created",
  "schemas",
  ENTERPRISE,
  `${ENTERPRISE}:department`,
  `${ENTERPRISE}:manager`,
  `${ENTERPRISE}:manager.value`,
  `${USER_SCHEMA}:displayName`,
  "urn:roster:params:scim:schemas:extension:seat:2.0:User:seatType",
  "urn:unknown:thing",
  "unknownAttribute",
  "",
  " ",
  "[",
  "x".repeat(300),
];

const scalarArb = fc.oneof(
  fc.constantFrom("taken@example.com", "new@example.com", "True", "False", "", "work", "home", "x"),
  fc.string({ maxLength: 12 }),
  fc.boolean(),
  fc.integer(),
  fc.constant(null),
);
const valueArb = fc.oneof(
  scalarArb,
  fc.dictionary(
    fc.constantFrom(
      "value",
      "type",
      "primary",
      "givenName",
      "familyName",
      "displayName",
      "department",
      "active",
      "userName",
      "name.givenName",
      ENTERPRISE,
      `${ENTERPRISE}:department`,
      "emails",
      "id",
    ),
    scalarArb,
    { maxKeys: 4 },
  ),
  fc.array(fc.dictionary(fc.constantFrom("value", "type", "primary", "display"), scalarArb, { maxKeys: 3 }), {
    maxLength: 3,
  }),
  fc.jsonValue({ maxDepth: 3 }),
);
const opArb = fc.record(
  {
    op: fc.constantFrom("add", "replace", "remove", "Add", "Replace", "Remove", "move", 7),
    path: fc.constantFrom(...PATHS),
    value: valueArb,
  },
  { requiredKeys: ["op"] },
);
// Operations a real IdP might send, with values of the right type, so that many documents apply.
const text = fc.constantFrom("Ada", "Grace", "new@example.com", "taken@example.com", "Eng", "work");
const sensibleOpArb = fc.oneof(
  fc.record({
    op: fc.constantFrom("replace", "add", "Replace"),
    path: fc.constantFrom(
      "displayName",
      "title",
      "nickName",
      "name.givenName",
      "name.familyName",
      `${ENTERPRISE}:department`,
      'emails[type eq "work"].value',
      "userName",
      "externalId",
    ),
    value: text,
  }),
  fc.record({
    op: fc.constantFrom("replace", "Replace"),
    path: fc.constant("active"),
    value: fc.constantFrom(true, false, "True", "False"),
  }),
  fc.record({
    op: fc.constantFrom("remove", "Remove"),
    path: fc.constantFrom("displayName", "title", "name.givenName", "emails", ENTERPRISE, `${ENTERPRISE}:manager`),
  }),
  fc.record({
    op: fc.constantFrom("add", "replace"),
    path: fc.constant(ENTERPRISE),
    value: fc.record({ department: text }),
  }),
  fc.record({
    op: fc.constantFrom("replace", "add"),
    value: fc.record({ displayName: text, "name.familyName": text }, { requiredKeys: [] }),
  }),
  fc.record({
    op: fc.constant("add"),
    path: fc.constant("emails"),
    value: fc.constant([{ value: "second@example.com", type: "home" }]),
  }),
);
const anyOpArb = fc.oneof({ weight: 3, arbitrary: sensibleOpArb }, { weight: 1, arbitrary: opArb });
const bodyArb = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .array(anyOpArb, { minLength: 1, maxLength: 3 })
      .map((Operations) => ({ schemas: [PATCH_OP], Operations })),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.record({ schemas: fc.constant([PATCH_OP]), Operations: fc.jsonValue({ maxDepth: 2 }) }) },
);

/** The user as GET shows it, checked to be a valid User that Roster accepts back. */
async function readValid(): Promise<ScimResource> {
  const res = await scim.get(`/Users/${user.id}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const body = res.body as ScimResource;
  expect(body.id).toBe(user.id);
  expect(body.schemas).toContain(USER_SCHEMA);
  expect(typeof body.userName).toBe("string");
  expect((body.userName as string).length).toBeGreaterThan(0);
  expect(typeof body.active).toBe("boolean");
  // What is stored reads back through the same coercion a POST or PUT goes through.
  expect(() => readScimUser(body)).not.toThrow();
  return body;
}

describe("User PATCH, property-based", () => {
  it("never answers 500 and never corrupts the stored user", async () => {
    let before = await readValid();
    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(bodyArb, async (body) => {
        const res = await scim.patch(`/Users/${user.id}`, body);
        seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
        expect([200, 204, 400, 409, 413], `${res.status} ${JSON.stringify(res.body)}`).toContain(res.status);
        const after = await readValid();
        if (res.status >= 400) {
          expect(res.body.schemas).toEqual(["urn:ietf:params:scim:api:messages:2.0:Error"]);
          expect(after).toEqual(before);
        } else if (res.status === 200) {
          expect(res.body).toEqual(after);
        }
        before = after;
      }),
      { numRuns: 120 },
    );
    // The documents reach both outcomes: some change the user, some are refused.
    expect((seen.get(200) ?? 0) + (seen.get(204) ?? 0), JSON.stringify([...seen])).toBeGreaterThan(5);
    expect(seen.get(400) ?? 0).toBeGreaterThan(5);
  });
});
