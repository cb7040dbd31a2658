// Our User coercion must give exactly what scimmy's User schema gives (the same resource, or the same error
// message), since it replaced scimmy on every POST and PUT. Compared on the IdP fixture bodies, on cases
// chosen by hand, and on thousands of generated bodies (valid and not) from a fixed seed.
import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { ENTERPRISE_SCHEMA, USER_SCHEMA, UserSchema } from "../../src/scim/schemas.js";
import { coerceUser, NEEDS_SCIMMY } from "../../src/scim/user-coercion.js";

type Body = Record<string, unknown>;

function viaScimmy(input: Body): string {
  const schemas = [
    USER_SCHEMA,
    ...(Object.keys(input).some((k) => k.toLowerCase() === ENTERPRISE_SCHEMA.toLowerCase()) ? [ENTERPRISE_SCHEMA] : []),
  ];
  try {
    const resource = JSON.parse(JSON.stringify(new UserSchema({ ...input, schemas }, "in"))) as Body;
    delete resource.schemas;
    delete resource.meta;
    return JSON.stringify(resource);
  } catch (error) {
    return `error: ${(error as Error).message}`;
  }
}

function viaOurs(input: Body): string | null {
  try {
    const resource = coerceUser(input);
    return resource === NEEDS_SCIMMY ? null : JSON.stringify(resource);
  } catch (error) {
    return `error: ${(error as Error).message}`;
  }
}

function expectSameAsScimmy(input: Body): void {
  const ours = viaOurs(input);
  if (ours !== null) expect(ours, JSON.stringify(input)).toBe(viaScimmy(input));
}

// A small seeded generator: the same bodies on every run, so a failure names its input.
function generator(seed: number) {
  let state = seed;
  const random = () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x7fffffff;
  };
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)];
  const scalars: unknown[] = [
    "x",
    "",
    "True",
    "False",
    true,
    false,
    0,
    1.5,
    null,
    "https://example.com/p",
    "/relative",
    "2020-01-01T00:00:00Z",
    "User/1",
    [],
    {},
    ["a"],
    [{}],
    [null],
    { value: "v" },
  ];
  const attributes = [
    "userName",
    "USERNAME",
    "name",
    "displayName",
    "nickName",
    "profileUrl",
    "title",
    "userType",
    "locale",
    "timezone",
    "active",
    "password",
    "emails",
    "phoneNumbers",
    "ims",
    "photos",
    "addresses",
    "groups",
    "entitlements",
    "roles",
    "x509Certificates",
    "externalId",
    "shoeSize",
    ENTERPRISE_SCHEMA,
    ENTERPRISE_SCHEMA.toUpperCase(),
  ];
  const subAttributes = [
    "value",
    "VALUE",
    "display",
    "type",
    "primary",
    "givenName",
    "familyName",
    "formatted",
    "streetAddress",
    "$ref",
    "employeeNumber",
    "manager",
    "department",
    "costCenter",
    "displayName",
    "bogus",
  ];
  const complex = (depth: number): Body => {
    const value: Body = {};
    const n = Math.floor(random() * 4);
    for (let i = 0; i < n; i++)
      value[pick(subAttributes)] = depth > 0 && random() < 0.3 ? complex(depth - 1) : pick(scalars);
    return value;
  };
  return (): Body => {
    const body: Body = { userName: "u" };
    const n = Math.floor(random() * 5);
    for (let i = 0; i < n; i++) {
      const r = random();
      body[pick(attributes)] =
        r < 0.4 ? pick(scalars) : r < 0.7 ? [complex(1), ...(random() < 0.5 ? [complex(1)] : [])] : complex(2);
    }
    if (random() < 0.3) delete body.userName;
    return body;
  };
}

describe("User coercion gives scimmy's results", () => {
  it("on every User body in the Entra and Okta fixtures", () => {
    const bodies: Body[] = [];
    const walk = (x: unknown): void => {
      if (!x || typeof x !== "object") return;
      const o = x as Body;
      if (!Array.isArray(x) && typeof o.userName === "string")
        bodies.push(Object.fromEntries(Object.entries(o).filter(([k]) => !["id", "meta", "schemas"].includes(k))));
      Object.values(o).forEach(walk);
    };
    for (const idp of ["entra", "okta"])
      walk(JSON.parse(fs.readFileSync(`test/fixtures/idp-requests/${idp}.json`, "utf8")));
    expect(bodies.length).toBeGreaterThan(5);
    for (const body of bodies) {
      expect(viaOurs(body)).not.toBeNull();
      expectSameAsScimmy(body);
    }
  });

  it.each([
    [
      "a full body with the enterprise extension",
      {
        userName: "a",
        name: { givenName: "A", Formatted: "A B" },
        emails: [{ value: "a@x", Primary: true, type: "work", extra: 1 }],
        [ENTERPRISE_SCHEMA]: { employeeNumber: "7", Manager: { value: "m" }, costCenter: null },
      },
    ],
    ["attribute names in any case, the last one winning", { username: "a", UserName: "b", DISPLAYNAME: "D" }],
    ["read-only groups and a write-only password", { userName: "a", groups: [{ value: "g" }], password: "secret" }],
    ["a wrongly typed password", { userName: "a", password: 5 }],
    ["a missing userName", { displayName: "x" }],
    ["a null collection", { userName: "a", emails: null }],
    ["a collection given as one value", { userName: "a", emails: { value: "a@x" } }],
    ["a single value given as a collection", { userName: "a", name: [] }],
    ["a string boolean (normalized before, never here)", { userName: "a", active: "yes" }],
    ["a non-URL profileUrl", { userName: "a", profileUrl: "home" }],
    ["a relative photo", { userName: "a", photos: [{ value: "/me.png" }] }],
    ["an empty extension", { userName: "a", [ENTERPRISE_SCHEMA]: { manager: {}, department: null } }],
    ["a wrongly typed extension value", { userName: "a", [ENTERPRISE_SCHEMA]: { manager: { value: 5 } } }],
    [
      "a __proto__ key (JSON.parse makes it a plain key; it must not become the prototype)",
      JSON.parse('{"__proto__":{"username":"x","active":false}}'),
    ],
    [
      "a __proto__ key next to a userName",
      JSON.parse(
        '{"userName":"a","__proto__":{"emails":[{"value":"p@x"}]},"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"__proto__":{"department":"D"}}}',
      ),
    ],
    [
      "null and array values inside collections",
      { userName: "a", emails: [null, ["x"], {}], roles: [{ value: "r", type: "WindowsAzureActiveDirectoryRole" }] },
    ],
  ])("%s", (_label, body) => {
    expectSameAsScimmy(body as Body);
  });

  it("on 5,000 generated bodies, valid and invalid", () => {
    const next = generator(20261122);
    let compared = 0;
    let valid = 0;
    for (let i = 0; i < 5000; i++) {
      const body = next();
      const ours = viaOurs(body);
      if (ours === null) continue;
      expect(ours, JSON.stringify(body)).toBe(viaScimmy(body));
      compared++;
      if (!ours.startsWith("error:")) valid++;
    }
    // Enough of both kinds to mean something.
    expect(compared).toBeGreaterThan(4000);
    expect(valid).toBeGreaterThan(800);
  });

  it("leaves extension attributes given as top-level URN-prefixed keys to scimmy", () => {
    expect(coerceUser({ userName: "a", [`${ENTERPRISE_SCHEMA}:employeeNumber`]: "9" })).toBe(NEEDS_SCIMMY);
  });
});
