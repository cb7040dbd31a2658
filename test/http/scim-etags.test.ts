// SCIM versioning over HTTP (RFC 7644 §3.14): ETag on reads and writes equal to meta.version,
// If-None-Match -> 304, If-Match with a stale version -> 412 with nothing changed, a matching one succeeds.
import type { Express } from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { makeOrg, testDeps } from "../support/factories.js";
import {
  createGroup,
  createUser,
  expectScimError,
  GROUP_SCHEMA,
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

async function etagOf(path: string): Promise<string> {
  const res = await scim.get(path);
  expect(res.status).toBe(200);
  expect(res.headers.etag).toBeTruthy();
  expect(res.headers.etag).toBe(res.body.meta.version);
  return res.headers.etag as string;
}

describe("ETags on Users", () => {
  it("every write answers the new ETag, equal to meta.version, and each write changes it", async () => {
    const created = await scim.post("/Users", userBody("etag.writes@example.com"));
    expect(created.headers.etag).toBe(created.body.meta.version);
    const id = created.body.id as string;
    const put = await scim.put(`/Users/${id}`, userBody("etag.writes@example.com", { displayName: "One" }));
    expect(put.headers.etag).toBe(put.body.meta.version);
    expect(put.headers.etag).not.toBe(created.headers.etag);
    const patch = await scim.patch(`/Users/${id}`, patchBody({ op: "replace", path: "displayName", value: "Two" }));
    expect(patch.status).toBe(200);
    expect(patch.headers.etag).not.toBe(put.headers.etag);
    expect(await etagOf(`/Users/${id}`)).toBe(patch.headers.etag);
    // Lists carry each resource's version too.
    const list = await scim.get(`/Users?filter=${encodeURIComponent(`id eq "${id}"`)}`);
    expect(list.body.Resources[0].meta.version).toBe(patch.headers.etag);
  });

  it("If-None-Match with the current ETag answers 304 without a body; another ETag answers 200", async () => {
    const user = await createUser(scim, "etag.conditional@example.com");
    const etag = await etagOf(`/Users/${user.id}`);
    const notModified = await scim.get(`/Users/${user.id}`, { "If-None-Match": etag });
    expect(notModified.status).toBe(304);
    expect(notModified.text ?? "").toBe("");
    expect(notModified.headers.etag).toBe(etag);
    expect((await scim.get(`/Users/${user.id}`, { "If-None-Match": `W/"stale", ${etag}` })).status).toBe(304);
    expect((await scim.get(`/Users/${user.id}`, { "If-None-Match": "*" })).status).toBe(304);
    const stale = await scim.get(`/Users/${user.id}`, { "If-None-Match": 'W/"999999"' });
    expect(stale.status).toBe(200);
    expect(stale.body.id).toBe(user.id);
    // After a change, the old ETag no longer matches.
    await scim.patch(`/Users/${user.id}`, patchBody({ op: "replace", path: "displayName", value: "Changed" }));
    const changed = await scim.get(`/Users/${user.id}`, { "If-None-Match": etag });
    expect(changed.status).toBe(200);
    expect(changed.body.displayName).toBe("Changed");
  });

  it("If-Match with a stale ETag: PUT, PATCH and DELETE answer 412 and change nothing", async () => {
    const user = await createUser(scim, "etag.stale@example.com", { displayName: "Original" });
    const stale = await etagOf(`/Users/${user.id}`);
    await scim.patch(`/Users/${user.id}`, patchBody({ op: "replace", path: "title", value: "Moved on" }));
    const before = await scim.get(`/Users/${user.id}`);
    expect(before.headers.etag).not.toBe(stale);

    expectScimError(
      await scim.put(`/Users/${user.id}`, userBody("etag.stale@example.com", { displayName: "Lost update" }), {
        "If-Match": stale,
      }),
      412,
      null,
    );
    expectScimError(
      await scim.patch(`/Users/${user.id}`, patchBody({ op: "replace", path: "displayName", value: "Lost update" }), {
        "If-Match": stale,
      }),
      412,
      null,
    );
    expectScimError(
      await scim.patch(`/Users/${user.id}`, patchBody({ op: "replace", path: "active", value: false }), {
        "If-Match": stale,
      }),
      412,
      null,
    );
    expectScimError(await scim.delete(`/Users/${user.id}`, { "If-Match": stale }), 412, null);

    const after = await scim.get(`/Users/${user.id}`);
    expect(after.status).toBe(200);
    expect(after.body).toEqual(before.body);
    expect(after.headers.etag).toBe(before.headers.etag);
  });

  it("If-Match with the current ETag (or *, or a list containing it) succeeds", async () => {
    const user = await createUser(scim, "etag.current@example.com");
    let etag = await etagOf(`/Users/${user.id}`);
    const put = await scim.put(`/Users/${user.id}`, userBody("etag.current@example.com", { displayName: "Put" }), {
      "If-Match": etag,
    });
    expect(put.status).toBe(200);
    etag = put.headers.etag as string;
    const patch = await scim.patch(
      `/Users/${user.id}`,
      patchBody({ op: "replace", path: "displayName", value: "Patched" }),
      { "If-Match": `W/"0", ${etag}` },
    );
    expect(patch.status).toBe(200);
    const star = await scim.patch(
      `/Users/${user.id}`,
      patchBody({ op: "replace", path: "displayName", value: "Star" }),
      { "If-Match": "*" },
    );
    expect(star.status).toBe(200);
    etag = await etagOf(`/Users/${user.id}`);
    expect((await scim.delete(`/Users/${user.id}`, { "If-Match": etag })).status).toBe(204);
    expectScimError(await scim.get(`/Users/${user.id}`), 404, null);
  });

  it("If-Match on a user that does not exist is 404, not 412", async () => {
    expectScimError(
      await scim.put("/Users/00000000-0000-4000-8000-000000000000", userBody("ghost@example.com"), {
        "If-Match": 'W/"1"',
      }),
      404,
      null,
    );
  });
});

describe("ETags on Groups", () => {
  it("If-None-Match -> 304; a stale If-Match on PUT, PATCH and DELETE -> 412 with membership unchanged; the current one succeeds", async () => {
    const alice = await createUser(scim, "group.etag.alice@example.com");
    const bob = await createUser(scim, "group.etag.bob@example.com");
    const group = await createGroup(scim, "Versioned", [alice.id]);
    const first = await etagOf(`/Groups/${group.id}`);
    expect((await scim.get(`/Groups/${group.id}`, { "If-None-Match": first })).status).toBe(304);

    const added = await scim.patch(
      `/Groups/${group.id}`,
      patchBody({ op: "add", path: "members", value: [{ value: bob.id }] }),
      { "If-Match": first },
    );
    expect(added.status).toBe(204);
    expect(added.headers.etag).not.toBe(first);
    const before = await scim.get(`/Groups/${group.id}`);

    expectScimError(
      await scim.patch(`/Groups/${group.id}`, patchBody({ op: "remove", path: "members" }), { "If-Match": first }),
      412,
      null,
    );
    expectScimError(
      await scim.put(
        `/Groups/${group.id}`,
        { schemas: [GROUP_SCHEMA], displayName: "Renamed", members: [] },
        { "If-Match": first },
      ),
      412,
      null,
    );
    expectScimError(await scim.delete(`/Groups/${group.id}`, { "If-Match": first }), 412, null);
    const after = await scim.get(`/Groups/${group.id}`);
    expect(after.body).toEqual(before.body);
    expect(after.body.members).toHaveLength(2);

    const put = await scim.put(
      `/Groups/${group.id}`,
      { schemas: [GROUP_SCHEMA], displayName: "Renamed", members: [{ value: alice.id }] },
      { "If-Match": after.headers.etag as string },
    );
    expect(put.status).toBe(200);
    expect(put.body.displayName).toBe("Renamed");
    expect(put.headers.etag).toBe(put.body.meta.version);
    expect((await scim.delete(`/Groups/${group.id}`, { "If-Match": put.headers.etag as string })).status).toBe(204);
  });
});
