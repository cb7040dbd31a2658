// SCIM Users over HTTP: create (201, Location, ETag, meta, the read-only seat extension), read, replace,
// patch (204, or 200 with the resource when asked), delete, userName uniqueness, and passwords that are
// never kept.
import type { Express } from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServiceDeps } from "../../src/services/context.js";
import { testApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { makeOrg, testDeps, type TestOrg } from "../support/factories.js";
import { adminClient, MISSING_ID, UUID_RE } from "./helpers.js";
import {
  BASE_URL,
  createUser,
  ENTERPRISE,
  expectScimError,
  patchBody,
  type ScimClient,
  scimClient,
  type ScimResource,
  SEAT,
  USER_SCHEMA,
  userBody,
} from "./scim-helpers.js";

let tdb: TestDatabase;
let app: Express;
let deps: ServiceDeps;
let org: TestOrg;
let scim: ScimClient;

beforeAll(async () => {
  tdb = await createTestDatabase();
  app = testApp(tdb.db);
  deps = testDeps(tdb.db);
  org = await makeOrg(deps);
  scim = scimClient(app, org.scimToken);
});
afterAll(async () => tdb?.destroy());

const PASSWORD = "Correct-Horse-Battery-Staple-93!";

function fullUser(userName: string): Record<string, unknown> {
  return userBody(userName, {
    schemas: [USER_SCHEMA, ENTERPRISE],
    externalId: `ext-${userName}`,
    displayName: "Ada Lovelace",
    name: { givenName: "Ada", familyName: "Lovelace", formatted: "Ada Lovelace" },
    title: "Analyst",
    emails: [
      { value: userName, type: "work", primary: true },
      { value: "ada@home.example.org", type: "home" },
    ],
    phoneNumbers: [{ value: "+44 20 7946 0000", type: "work" }],
    password: PASSWORD,
    active: true,
    [ENTERPRISE]: { department: "Engines", employeeNumber: "1815" },
  });
}

describe("POST /Users", () => {
  it("creates the user: 201, Location, ETag, meta, enterprise and seat extensions", async () => {
    const res = await scim.post("/Users", fullUser("ada@example.com"));
    expect(res.status).toBe(201);
    expect(res.headers["content-type"]).toMatch(/^application\/scim\+json/);
    const id = res.body.id as string;
    expect(id).toMatch(UUID_RE);
    expect(res.headers.location).toBe(`${BASE_URL}/Users/${id}`);
    expect(res.headers.etag).toMatch(/^W\/".+"$/);
    expect(res.body).toMatchObject({
      id,
      userName: "ada@example.com",
      externalId: "ext-ada@example.com",
      displayName: "Ada Lovelace",
      name: { givenName: "Ada", familyName: "Lovelace" },
      title: "Analyst",
      active: true,
      [ENTERPRISE]: { department: "Engines", employeeNumber: "1815" },
      meta: { resourceType: "User", location: res.headers.location, version: res.headers.etag },
    });
    expect(res.body.schemas).toEqual(expect.arrayContaining([USER_SCHEMA, ENTERPRISE, SEAT]));
    expect(res.body.emails).toEqual(
      expect.arrayContaining([expect.objectContaining({ value: "ada@example.com", type: "work", primary: true })]),
    );
    expect(Date.parse(res.body.meta.created)).not.toBeNaN();
    expect(res.body.meta.lastModified >= res.body.meta.created).toBe(true);
    // The first user of an org with free seats gets the highest seat type.
    expect(res.body[SEAT]).toEqual({
      seatType: "chat_code",
      seatStatus: expect.any(String),
      seatReason: "highest_available",
    });
  });

  it("never stores nor returns a password", async () => {
    const res = await scim.post("/Users", fullUser("babbage@example.com"));
    expect(res.status).toBe(201);
    expect(JSON.stringify(res.body)).not.toContain(PASSWORD);
    expect(res.body).not.toHaveProperty("password");
    const read = await scim.get(`/Users/${res.body.id}`);
    expect(JSON.stringify(read.body)).not.toContain(PASSWORD);
    // Nowhere in the member's row (columns and the stored resource), nor in the audit log.
    const row = await tdb.db("members").where({ org_id: org.org.id, id: res.body.id }).first();
    expect(row).toBeDefined();
    expect(JSON.stringify(row)).not.toContain(PASSWORD);
    expect(row.attributes).not.toHaveProperty("password");
    const audit = await tdb.db("audit_events").where({ org_id: org.org.id });
    expect(JSON.stringify(audit)).not.toContain(PASSWORD);
    // A PUT and a PATCH carrying a password do not store it either.
    expect((await scim.put(`/Users/${res.body.id}`, fullUser("babbage@example.com"))).status).toBe(200);
    expect(
      (await scim.patch(`/Users/${res.body.id}`, patchBody({ op: "replace", path: "password", value: PASSWORD })))
        .status,
    ).toBeLessThan(300);
    const after = await tdb.db("members").where({ org_id: org.org.id, id: res.body.id }).first();
    expect(JSON.stringify(after)).not.toContain(PASSWORD);
  });

  it("ignores a seat extension sent by the client: seats follow Roster's rules", async () => {
    const res = await scim.post(
      "/Users",
      userBody("seat.picker@example.com", {
        schemas: [USER_SCHEMA, SEAT],
        [SEAT]: { seatType: "chat", seatReason: "manual" },
      }),
    );
    expect(res.status).toBe(201);
    expect(res.body[SEAT]).toMatchObject({ seatType: "chat_code", seatReason: "highest_available" });
  });

  it("creates an inactive user without a seat", async () => {
    const res = await scim.post("/Users", userBody("inactive@example.com", { active: false }));
    expect(res.status).toBe(201);
    expect(res.body.active).toBe(false);
    expect(res.body[SEAT]).toMatchObject({ seatType: "unassigned" });
  });

  it("refuses a duplicate userName, compared case-insensitively: 409 uniqueness, nothing created", async () => {
    await createUser(scim, "Dup.User@Example.com");
    const res = await scim.post("/Users", userBody("dup.user@EXAMPLE.com", { externalId: "another" }));
    expectScimError(res, 409, "uniqueness");
    const list = await scim.get(`/Users?filter=${encodeURIComponent('userName eq "dup.user@example.com"')}`);
    expect(list.body.totalResults).toBe(1);
    expect(list.body.Resources[0].userName).toBe("Dup.User@Example.com");
  });

  it("refuses a user without a userName (400 invalidValue)", async () => {
    expectScimError(await scim.post("/Users", { schemas: [USER_SCHEMA], displayName: "No Name" }), 400, "invalidValue");
    expectScimError(await scim.post("/Users", userBody("   ")), 400, "invalidValue");
  });

  it("honours ?attributes= on the create response", async () => {
    const res = await scim.post("/Users?attributes=userName", fullUser("projected@example.com"));
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(["id", "schemas", "userName"]);
    expect(res.headers.location).toBe(`${BASE_URL}/Users/${res.body.id}`);
  });
});

describe("GET /Users/{id}", () => {
  it("returns the user with its ETag; the admin API shows the same member id", async () => {
    const created = await createUser(scim, "reader@example.com", { displayName: "Reader" });
    const res = await scim.get(`/Users/${created.id}`);
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^application\/scim\+json/);
    expect(res.body).toEqual(created);
    expect(res.headers.etag).toBe((created.meta as { version: string }).version);
    const member = await adminClient(app, org.org.id, org.ownerToken).get(`members/${created.id}`);
    expect(member.status).toBe(200);
    expect(member.body).toMatchObject({
      id: created.id,
      userName: "reader@example.com",
      seatType: (created[SEAT] as { seatType: string }).seatType,
    });
  });

  it("answers a SCIM 404 for an unknown id, a malformed id, and a member SCIM does not manage (the owner)", async () => {
    expectScimError(await scim.get(`/Users/${MISSING_ID}`), 404, null);
    expectScimError(await scim.get("/Users/not-a-uuid"), 404, null);
    const owner = await adminClient(app, org.org.id, org.ownerToken).get("members?role=primary_owner");
    expectScimError(await scim.get(`/Users/${owner.body.items[0].id}`), 404, null);
  });
});

describe("PUT /Users/{id}", () => {
  it("replaces the user: attributes left out are removed; version and ETag move on", async () => {
    const created = await scim.post("/Users", fullUser("replace.me@example.com"));
    const id = created.body.id as string;
    const res = await scim.put(
      `/Users/${id}`,
      userBody("Replaced@Example.com", {
        displayName: "Replaced",
        emails: [{ value: "replaced@example.com", type: "work" }],
      }),
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id, userName: "Replaced@Example.com", displayName: "Replaced", active: true });
    for (const gone of ["name", "title", "externalId", "phoneNumbers", ENTERPRISE])
      expect(res.body, gone).not.toHaveProperty(gone);
    expect(res.body.schemas).not.toContain(ENTERPRISE);
    expect(res.headers.etag).toBe(res.body.meta.version);
    expect(res.headers.etag).not.toBe(created.headers.etag);
    expect(res.body.meta.created).toBe(created.body.meta.created);
    expect((await scim.get(`/Users/${id}`)).body).toEqual(res.body);
  });

  it("keeps the seat when the PUT carries a different seat extension", async () => {
    const created = await createUser(scim, "put.seat@example.com");
    const res = await scim.put(
      `/Users/${created.id}`,
      userBody("put.seat@example.com", { [SEAT]: { seatType: "chat", seatReason: "manual" } }),
    );
    expect(res.status).toBe(200);
    expect(res.body[SEAT]).toEqual(created[SEAT]);
  });

  it("refuses taking another user's userName (any case): 409 uniqueness", async () => {
    await createUser(scim, "taken@example.com");
    const other = await createUser(scim, "free@example.com");
    expectScimError(await scim.put(`/Users/${other.id}`, userBody("TAKEN@example.com")), 409, "uniqueness");
    expect((await scim.get(`/Users/${other.id}`)).body.userName).toBe("free@example.com");
  });

  it("answers 404 for an unknown user", async () => {
    expectScimError(await scim.put(`/Users/${MISSING_ID}`, userBody("ghost@example.com")), 404, null);
  });
});

describe("PATCH /Users/{id}", () => {
  let user: ScimResource;
  beforeAll(async () => {
    user = await createUser(scim, "patchy@example.com", { displayName: "Patchy", name: { givenName: "Pat" } });
  });

  it("answers 200 with the resource and the new ETag; the change is there on the next GET", async () => {
    const res = await scim.patch(
      `/Users/${user.id}`,
      patchBody({ op: "replace", path: "displayName", value: "Patched" }),
    );
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^application\/scim\+json/);
    const read = await scim.get(`/Users/${user.id}`);
    expect(read.body.displayName).toBe("Patched");
    expect(res.body).toEqual(read.body);
    expect(res.headers.etag).toBe(read.headers.etag);
    expect(read.headers.etag).not.toBe((user.meta as { version: string }).version);
  });

  it("answers 200 with the (projected) resource when ?attributes= or ?excludedAttributes= is given", async () => {
    const res = await scim.patch(
      `/Users/${user.id}?attributes=displayName,name.givenName`,
      patchBody({ op: "replace", path: "name.givenName", value: "Patricia" }),
    );
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^application\/scim\+json/);
    expect(res.body).toEqual({
      schemas: expect.any(Array),
      id: user.id,
      displayName: "Patched",
      name: { givenName: "Patricia" },
    });
    const excluded = await scim.patch(
      `/Users/${user.id}?excludedAttributes=emails,meta`,
      patchBody({ op: "add", path: "title", value: "Lead" }),
    );
    expect(excluded.status).toBe(200);
    expect(excluded.body).toMatchObject({ id: user.id, userName: "patchy@example.com", title: "Lead" });
    expect(excluded.body).not.toHaveProperty("meta");
  });

  it("refuses any change to the seat extension: 400 mutability, nothing changed", async () => {
    const before = await scim.get(`/Users/${user.id}`);
    for (const body of [
      patchBody({ op: "replace", path: `${SEAT}:seatType`, value: "chat" }),
      patchBody({ op: "add", path: `${SEAT}:seatReason`, value: "manual" }),
      patchBody({ op: "remove", path: `${SEAT}:seatType` }),
      patchBody({ op: "replace", value: { [`${SEAT}:seatType`]: "chat" } }),
      patchBody({ op: "replace", value: { [SEAT]: { seatType: "chat" } } }),
    ]) {
      expectScimError(await scim.patch(`/Users/${user.id}`, body), 400, "mutability");
    }
    const after = await scim.get(`/Users/${user.id}`);
    expect(after.body).toEqual(before.body);
  });

  it('deactivates (Entra\'s "Replace"/"False") and frees the seat; reactivation re-runs the rules', async () => {
    const member = await createUser(scim, "deactivate.me@example.com");
    expect((member[SEAT] as { seatType: string }).seatType).not.toBe("unassigned");
    const off = await scim.patch(
      `/Users/${member.id}?attributes=active,${SEAT}`,
      patchBody({ op: "Replace", path: "active", value: "False" }),
    );
    expect(off.status).toBe(200);
    expect(off.body).toMatchObject({ active: false, [SEAT]: { seatType: "unassigned", seatReason: "deactivated" } });
    const on = await scim.patch(
      `/Users/${member.id}?attributes=active,${SEAT}`,
      patchBody({ op: "replace", value: { active: true } }),
    );
    expect(on.body.active).toBe(true);
    expect((on.body[SEAT] as { seatType: string }).seatType).not.toBe("unassigned");
  });

  it("refuses taking another user's userName: 409 uniqueness", async () => {
    await createUser(scim, "patch.taken@example.com");
    expectScimError(
      await scim.patch(
        `/Users/${user.id}`,
        patchBody({ op: "replace", path: "userName", value: "Patch.Taken@example.com" }),
      ),
      409,
      "uniqueness",
    );
  });

  it("answers 404 for an unknown user and 400 invalidSyntax for a body that is not a PatchOp", async () => {
    expectScimError(
      await scim.patch(`/Users/${MISSING_ID}`, patchBody({ op: "replace", path: "displayName", value: "x" })),
      404,
      null,
    );
    expectScimError(
      await scim.patch(`/Users/${user.id}`, { Operations: [{ op: "replace", path: "displayName", value: "x" }] }),
      400,
      "invalidSyntax",
    );
    expectScimError(await scim.patch(`/Users/${user.id}`, patchBody()), 400, "invalidSyntax");
  });

  // Found by the property test: a replace or add with no value was a 500.
  it("answers 400 invalidValue for an add or replace without a value, and changes nothing", async () => {
    const before = (await scim.get(`/Users/${user.id}`)).body;
    for (const op of ["replace", "add"])
      for (const path of ["emails", "displayName", undefined])
        expectScimError(
          await scim.patch(`/Users/${user.id}`, patchBody(path ? { op, path } : { op })),
          400,
          "invalidValue",
        );
    expect((await scim.get(`/Users/${user.id}`)).body).toEqual(before);
  });
});

describe("DELETE /Users/{id}", () => {
  it("answers 204, then the user is gone (404 on GET, PATCH and a second DELETE) and the seat is free", async () => {
    const seatsBefore = await adminClient(app, org.org.id, org.ownerToken).get("seats");
    const created = await createUser(scim, "delete.me@example.com");
    const res = await scim.delete(`/Users/${created.id}`);
    expect(res.status).toBe(204);
    expect(res.text).toBe("");
    expectScimError(await scim.get(`/Users/${created.id}`), 404, null);
    expectScimError(
      await scim.patch(`/Users/${created.id}`, patchBody({ op: "replace", path: "displayName", value: "x" })),
      404,
      null,
    );
    expectScimError(await scim.delete(`/Users/${created.id}`), 404, null);
    const seatsAfter = await adminClient(app, org.org.id, org.ownerToken).get("seats");
    expect(seatsAfter.body.seatTypes).toEqual(seatsBefore.body.seatTypes);
    // The userName is free again.
    expect((await scim.post("/Users", userBody("delete.me@example.com"))).status).toBe(201);
  });
});

describe("a replace that does not mention active", () => {
  it("keeps a deactivated user deactivated, holding no seat, instead of reactivating them", async () => {
    const user = await createUser(scim, "quiet@example.com");
    expect(
      (await scim.patch(`/Users/${user.id}`, patchBody({ op: "replace", path: "active", value: false }))).status,
    ).toBe(200);
    const body = userBody("quiet@example.com", { displayName: "Quiet" });
    delete body.active;
    const put = await scim.put(`/Users/${user.id}`, body);
    expect(put.status).toBe(200);
    expect(put.body.active).toBe(false);
    expect((put.body[SEAT] as { seatType: string }).seatType).toBe("unassigned");
    expect(put.body.displayName).toBe("Quiet");
  });

  it("still creates a new user as active when POST omits active", async () => {
    const body = userBody("omitted@example.com");
    delete body.active;
    const res = await scim.post("/Users", body);
    expect(res.status).toBe(201);
    expect(res.body.active).toBe(true);
  });
});

describe("values outside the schema's canonical lists", () => {
  it("accepts Entra's app roles and a capitalised email type, and returns them as sent", async () => {
    const roles = [{ primary: "True", type: "WindowsAzureActiveDirectoryRole", value: "Admin" }];
    const res = await scim.post(
      "/Users",
      userBody("roles@example.com", { roles, emails: [{ value: "roles@example.com", type: "Work", primary: true }] }),
    );
    expect(res.status).toBe(201);
    expect(res.body.roles).toEqual([{ primary: true, type: "WindowsAzureActiveDirectoryRole", value: "Admin" }]);
    expect((res.body.emails as { type: string }[])[0].type).toBe("Work");
  });
});

describe("PATCH /Users/{id}: 200 with the resource, 204 only when the client's dialect or Prefer asks", () => {
  it("answers 204 to Entra's capitalised op names and to Prefer: return=minimal; 200 otherwise", async () => {
    const target = await createUser(scim, "dialects@example.com");
    const at = `/Users/${target.id}`;
    const entra = await scim.patch(at, patchBody({ op: "Replace", path: "displayName", value: "E" }));
    expect(entra.status).toBe(204);
    expect(entra.headers.etag).toMatch(/^W\//);
    const minimal = await scim.patch(at, patchBody({ op: "replace", path: "displayName", value: "M" }), {
      Prefer: "return=minimal",
    });
    expect(minimal.status).toBe(204);
    const rfc = await scim.patch(at, patchBody({ op: "replace", path: "displayName", value: "R" }));
    expect(rfc.status).toBe(200);
    expect(rfc.body).toMatchObject({ id: target.id, displayName: "R", userName: "dialects@example.com" });
    // Entra asking for the resource gets it.
    const asked = await scim.patch(
      `${at}?attributes=displayName`,
      patchBody({ op: "Replace", path: "displayName", value: "A" }),
    );
    expect(asked.status).toBe(200);
    expect(asked.body.displayName).toBe("A");
  });
});
