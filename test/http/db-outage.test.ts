// A database outage answers 503 with Retry-After (never 404 or a silent success), changes nothing, and the
// server recovers by itself once the database is back. Needs a PostgreSQL server to put a proxy in front of.
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Express } from "express";
import type { Knex } from "knex";
import { buildApp } from "../../src/app.js";
import { createDatabase } from "../../src/db/database.js";
import { createSessionCodec } from "../../src/http/session.js";
import { createLogger } from "../../src/logger.js";
import { createTestDatabase, onPostgres, type TestDatabase } from "../support/database.js";
import { makeOrg, provision, testDeps, type TestOrg } from "../support/factories.js";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.js";

describe.skipIf(!onPostgres)("database outage", () => {
  let tdb: TestDatabase;
  let proxy: TcpProxy;
  let viaProxy: Knex;
  let app: Express;
  let org: TestOrg;
  let memberId: string;

  beforeAll(async () => {
    tdb = await createTestDatabase();
    const target = new URL(tdb.url as string);
    proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    const proxied = new URL(tdb.url as string);
    proxied.hostname = "127.0.0.1";
    proxied.port = String(proxy.port);
    viaProxy = createDatabase({ url: proxied.toString(), dataDir: "", poolMax: 3 });
    const deps = testDeps(viaProxy);
    app = buildApp({ ...deps, logger: createLogger("silent"), sessions: createSessionCodec("k"), operatorToken: null });
    org = await makeOrg(testDeps(tdb.db));
    memberId = (await provision(testDeps(tdb.db), org.org.id)).id;
  });
  afterAll(async () => {
    await viaProxy?.destroy();
    await proxy?.close();
    await tdb?.destroy();
  });

  const auth = () => ({ Authorization: `Bearer ${org.ownerToken}` });

  it("answers 503 with Retry-After while the database is down, changes nothing, and recovers by itself", async () => {
    const before = await request(app).get(`/api/v1/orgs/${org.org.id}/members/${memberId}`).set(auth());
    expect(before.status).toBe(200);
    expect(before.body.seatType).toBe("chat_code");

    await proxy.cut();
    const read = await request(app).get(`/api/v1/orgs/${org.org.id}/members/${memberId}`).set(auth());
    expect(read.status).toBe(503);
    expect(read.headers["retry-after"]).toBeDefined();
    expect(read.body.error).toBe("unavailable");
    const write = await request(app)
      .patch(`/api/v1/orgs/${org.org.id}/members/${memberId}`)
      .set(auth())
      .send({ seatType: "unassigned" });
    expect(write.status).toBe(503);
    // SCIM answers in its own error format: 503 with Retry-After, never a 404 or an empty list.
    const scimList = await request(app).get("/scim/v2/Users").set("Authorization", `Bearer ${org.scimToken}`);
    expect(scimList.status).toBe(503);
    expect(scimList.headers["retry-after"]).toBeDefined();
    expect(scimList.body.schemas).toEqual(["urn:ietf:params:scim:api:messages:2.0:Error"]);
    expect(scimList.body.status).toBe("503");
    const scimCreate = await request(app)
      .post("/scim/v2/Users")
      .set("Authorization", `Bearer ${org.scimToken}`)
      .send({ schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: "during-outage@example.com" });
    expect(scimCreate.status).toBe(503);
    // A sign-in attempt says "try again shortly", not "not set up".
    const acs = await request(app).post(`/saml/${org.org.id}/acs`).type("form").send({ SAMLResponse: "PHg+" });
    expect(acs.status).toBe(503);
    const ready = await request(app).get("/readyz");
    expect(ready.status).toBe(503);
    expect((await request(app).get("/healthz")).status).toBe(200);

    await proxy.restore();
    // No restart: the pool replaces the dead connections on its own.
    const after = await request(app).get(`/api/v1/orgs/${org.org.id}/members/${memberId}`).set(auth());
    expect(after.status).toBe(200);
    expect(after.body.seatType).toBe("chat_code");
    expect((await request(app).get("/readyz")).status).toBe(200);
    // Nothing was written while the database was away, and SCIM works again.
    const users = await request(app)
      .get('/scim/v2/Users?filter=userName eq "during-outage@example.com"')
      .set("Authorization", `Bearer ${org.scimToken}`);
    expect(users.status).toBe(200);
    expect(users.body.totalResults).toBe(0);
  });

  it("queued SCIM creates and group changes all answer 503 during an outage, none hangs, and all work after it", async () => {
    const scim = (r: request.Test) =>
      r.set("Authorization", `Bearer ${org.scimToken}`).set("Content-Type", "application/scim+json");
    const user = (name: string) => ({ schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: name });
    const addMember = (id: string) => ({
      schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      Operations: [{ op: "add", path: "members", value: [{ value: id }] }],
    });
    const lookup = (name: string) =>
      scim(request(app).get(`/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${name}"`)}`));
    // Warm up: the token is remembered, the hot statements are prepared on pooled connections.
    const seed = await scim(request(app).post("/scim/v2/Users")).send(user("outage-seed@example.com"));
    expect(seed.status).toBe(201);
    expect((await lookup("outage-seed@example.com")).body.totalResults).toBe(1);
    const group = await scim(request(app).post("/scim/v2/Groups")).send({
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"],
      displayName: "Outage",
    });
    expect(group.status).toBe(201);

    await proxy.cut();
    const during = await Promise.all([
      ...Array.from({ length: 10 }, (_, i) =>
        scim(request(app).post("/scim/v2/Users")).send(user(`outage-${i}@example.com`)),
      ),
      ...Array.from({ length: 5 }, () =>
        scim(request(app).patch(`/scim/v2/Groups/${group.body.id}`)).send(addMember(seed.body.id)),
      ),
      lookup("outage-seed@example.com"),
    ]);
    expect(during.map((r) => r.status)).toEqual(Array(16).fill(503));

    await proxy.restore();
    const after = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        scim(request(app).post("/scim/v2/Users")).send(user(`after-outage-${i}@example.com`)),
      ),
    );
    expect(after.map((r) => r.status)).toEqual(Array(10).fill(201));
    expect(
      (await scim(request(app).patch(`/scim/v2/Groups/${group.body.id}`)).send(addMember(seed.body.id))).status,
    ).toBe(204);
    expect((await lookup("after-outage-3@example.com")).body.totalResults).toBe(1);
    // Nothing asked for during the outage was written.
    expect((await lookup("outage-3@example.com")).body.totalResults).toBe(0);
    const members = await tdb.db("group_members").where({ group_id: group.body.id }).count({ n: "*" }).first();
    expect(Number(members?.n)).toBe(1);
  }, 60_000);
});
