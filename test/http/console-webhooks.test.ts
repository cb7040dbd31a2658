// The console's webhooks and jobs pages over HTTP: roles (a member gets no console, an admin manages
// webhooks), the signing secret shown once, a receiver's response excerpt and a URL carrying `<script>` shown as
// text, CSRF on every new form, a private URL refused in words, deliveries and redelivery, and the job page
// after saving mappings or syncing. Real app, real database, a local receiver on 127.0.0.1.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Express } from "express";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServiceDeps } from "../../src/services/context.js";
import { issueToken } from "../../src/services/tokens-service.js";
import { deliverWebhooks } from "../../src/services/webhook-delivery.js";
import { testApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { makeGroup, provision, reload, testDeps } from "../support/factories.js";
import { adminClient, createOrgViaApi, ownerIdOf, sessionCookie } from "./helpers.js";

let tdb: TestDatabase;
let app: Express;
let deps: ServiceDeps;
let receiver: Server;
let receiverUrl: string;
let received = 0;

beforeAll(async () => {
  tdb = await createTestDatabase();
  app = testApp(tdb.db);
  deps = testDeps(tdb.db);
  // A receiver whose answer carries markup: the console must show it as text.
  receiver = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      received += 1;
      res.writeHead(500, { "content-type": "text/html" }).end("<script>alert('pwned')</script> down");
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
});
afterAll(async () => {
  await new Promise((r) => receiver?.close(r));
  await tdb?.destroy();
});

function csrfOf(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error("no CSRF token on the page");
  return m[1];
}

async function signInAs(orgId: string, memberId: string): Promise<string> {
  const link = await issueToken(deps, tdb.db, orgId, "sign_in", { memberId }, { actor: "test" });
  const res = await request(app).get(`/signin/${link.token}`);
  expect(res.status).toBe(303);
  return sessionCookie(res);
}

async function orgWithPeople() {
  const created = await createOrgViaApi(app, { seats: { chat_code: 10, chat: 10 } });
  const api = adminClient(app, created.orgId, created.ownerToken);
  const ownerId = await ownerIdOf(api);
  const admin = await provision(deps, created.orgId, { userName: `admin-${created.orgId.slice(0, 8)}@acme.test` });
  expect((await api.patch(`members/${admin.id}`, { role: "admin" })).status).toBe(200);
  const plain = await provision(deps, created.orgId, { userName: `member-${created.orgId.slice(0, 8)}@acme.test` });
  return {
    orgId: created.orgId,
    api,
    owner: await signInAs(created.orgId, ownerId),
    admin: await signInAs(created.orgId, admin.id),
    member: await signInAs(created.orgId, plain.id),
  };
}

function get(cookie: string, path: string) {
  return request(app).get(path).set("Cookie", cookie);
}

/** A form POST as the browser sends it: urlencoded, repeated names for checkboxes. */
async function post(cookie: string, path: string, form: Record<string, string | string[]>, csrfFrom = "/admin") {
  const page = await get(cookie, csrfFrom);
  const body = new URLSearchParams({ _csrf: csrfOf(page.text) });
  for (const [k, v] of Object.entries(form)) for (const one of [v].flat()) body.append(k, one);
  return request(app).post(path).set("Cookie", cookie).type("form").send(body.toString());
}

async function addEndpoint(cookie: string, url: string, events: string[] = []) {
  const res = await post(cookie, "/admin/webhooks", { url, events });
  return res;
}

function endpointIdIn(html: string): string {
  const m = /\/admin\/webhooks\/([0-9a-f-]{36})\/test/.exec(html);
  if (!m) throw new Error("no endpoint on the page");
  return m[1];
}

describe("webhooks page", () => {
  it("a member gets no console page or action; an admin sees the page and the nav entry", async () => {
    const o = await orgWithPeople();
    for (const path of ["/admin/webhooks", "/admin/jobs"]) {
      const page = await get(o.member, path);
      expect(page.status).toBe(403);
      expect(page.text).toContain('href="/me"');
    }
    const refused = await post(o.member, "/admin/webhooks", { url: receiverUrl }, "/me");
    expect(refused.status).toBe(403);
    expect((await o.api.get("webhooks")).body.items).toEqual([]);

    const page = await get(o.admin, "/admin/webhooks");
    expect(page.status).toBe(200);
    expect(page.text).toContain('href="/admin/webhooks" aria-current="page"');
    expect(page.text).toContain('value="member.seat_changed"');
    expect(page.text).not.toContain('value="webhook.test"');
  });

  it("adds an endpoint with picked events, shows its secret once, lists it; disables, enables and deletes after a confirmation", async () => {
    const o = await orgWithPeople();
    const added = await addEndpoint(o.admin, receiverUrl, ["member.seat_changed", "member.created"]);
    expect(added.status).toBe(201);
    const secret = /id="new-secret">(whsec_[^<]+)</.exec(added.text)?.[1];
    expect(secret).toMatch(/^whsec_/);
    expect(added.text).toContain('data-copy="new-secret"');
    const [endpoint] = (await o.api.get("webhooks")).body.items;
    expect(endpoint.events.sort()).toEqual(["member.created", "member.seat_changed"]);
    expect(endpoint.url).toBe(receiverUrl);

    const list = await get(o.admin, "/admin/webhooks");
    expect(list.text).not.toContain(secret);
    expect(list.text).not.toContain("whsec_");
    const row = list.text.split(`data-endpoint="${receiverUrl}"`)[1].split("</tr>")[0];
    expect(row).toContain("member.seat_changed");
    expect(row).toContain('data-enabled="yes"');
    expect((await get(o.admin, `/admin/webhooks/${endpoint.id}`)).text).not.toContain("whsec_");

    const off = await post(o.admin, `/admin/webhooks/${endpoint.id}/enabled`, { enabled: "no" });
    expect(off.status).toBe(303);
    const disabled = await get(o.admin, String(off.headers.location));
    expect(disabled.text).toContain("Endpoint disabled.");
    expect(disabled.text).toContain("disabled by an admin");
    expect((await o.api.get(`webhooks/${endpoint.id}`)).body.enabled).toBe(false);
    await post(o.admin, `/admin/webhooks/${endpoint.id}/enabled`, { enabled: "yes" });
    expect((await o.api.get(`webhooks/${endpoint.id}`)).body.enabled).toBe(true);

    const confirm = await get(o.admin, `/admin/webhooks/${endpoint.id}/delete`);
    expect(confirm.status).toBe(200);
    expect(confirm.text).toContain("Delete this endpoint?");
    expect((await o.api.get("webhooks")).body.items).toHaveLength(1);
    const deleted = await post(o.admin, `/admin/webhooks/${endpoint.id}/delete`, {});
    expect(deleted.status).toBe(303);
    expect((await o.api.get("webhooks")).body.items).toEqual([]);
    expect((await get(o.admin, "/admin/webhooks?done=webhook_deleted")).text).toContain("No endpoints yet.");
  });

  it("says why a URL is refused (private address, not a URL, unknown event) and keeps what was typed", async () => {
    const o = await orgWithPeople();
    const strict = testApp(tdb.db, { allowPrivateWebhooks: false });
    const page = await request(strict).get("/admin/webhooks").set("Cookie", o.admin);
    const refused = await request(strict)
      .post("/admin/webhooks")
      .set("Cookie", o.admin)
      .type("form")
      .send({ _csrf: csrfOf(page.text), url: "http://127.0.0.1:9/hook" });
    expect(refused.status).toBe(422);
    expect(refused.text).toContain('role="alert"');
    expect(refused.text).toMatch(/private|loopback/i);
    expect(refused.text).toContain('value="http://127.0.0.1:9/hook"');
    const notUrl = await addEndpoint(o.admin, "not a url");
    expect(notUrl.status).toBe(400);
    expect(notUrl.text).toContain('role="alert"');
    const badEvent = await addEndpoint(o.admin, receiverUrl, ["member.nope"]);
    expect(badEvent.status).toBe(400);
    expect((await o.api.get("webhooks")).body.items).toEqual([]);
  });

  it("shows a URL and a receiver's response excerpt carrying <script> as text; sends a test event and redelivers", async () => {
    const o = await orgWithPeople();
    const url = `${receiverUrl}?q=<script>alert(1)</script>`;
    expect((await addEndpoint(o.admin, url)).status).toBe(201);
    const [endpoint] = (await o.api.get("webhooks")).body.items;
    const list = await get(o.admin, "/admin/webhooks");
    expect(list.text).not.toContain("<script>alert(1)</script>");

    const before = received;
    const test = await post(o.admin, `/admin/webhooks/${endpoint.id}/test`, {});
    expect(test.status).toBe(303);
    expect(test.headers.location).toBe(`/admin/webhooks/${endpoint.id}?done=webhook_test`);
    await deliverWebhooks(deps);
    expect(received).toBeGreaterThan(before);
    const page = await get(o.admin, `/admin/webhooks/${endpoint.id}`);
    expect(page.status).toBe(200);
    const row = page.text.split('data-delivery="webhook.test"')[1].split("</tr>")[0];
    expect(row).toContain("HTTP 500");
    expect(row).toContain("<pre data-excerpt=\"true\">&lt;script>alert('pwned')&lt;/script> down</pre>");
    expect(page.text).not.toContain("<script>alert(");
    const failures = (await get(o.admin, "/admin/webhooks")).text.split('data-failures="true">')[1].split("</td>")[0];
    expect(failures).toMatch(/^1/);

    const deliveryId = /deliveries\/(\d+)\/redeliver/.exec(page.text)?.[1];
    expect(deliveryId).toBeDefined();
    const again = await post(o.admin, `/admin/webhooks/${endpoint.id}/deliveries/${deliveryId}/redeliver`, {});
    expect(again.status).toBe(303);
    const deliveries = (await o.api.get(`webhooks/${endpoint.id}/deliveries`)).body.items;
    expect(deliveries).toHaveLength(2);
    expect(deliveries[0].eventId).toBe(deliveries[1].eventId);
    expect((await get(o.admin, `/admin/webhooks/${endpoint.id}?done=redelivered`)).text).toContain(
      "Event queued again",
    );
  });

  it("refuses every new form without a valid CSRF token, and changes nothing", async () => {
    const o = await orgWithPeople();
    expect((await addEndpoint(o.admin, receiverUrl)).status).toBe(201);
    const id = endpointIdIn((await get(o.admin, "/admin/webhooks")).text);
    const forms: [string, Record<string, string>][] = [
      ["/admin/webhooks", { url: `${receiverUrl}/2` }],
      [`/admin/webhooks/${id}/enabled`, { enabled: "no" }],
      [`/admin/webhooks/${id}/test`, {}],
      [`/admin/webhooks/${id}/delete`, {}],
      [`/admin/webhooks/${id}/deliveries/1/redeliver`, {}],
      ["/admin/mappings/sync", {}],
    ];
    for (const [path, form] of forms) {
      for (const csrf of [undefined, "forged"]) {
        const res = await request(app)
          .post(path)
          .set("Cookie", o.admin)
          .type("form")
          .send({ ...form, ...(csrf ? { _csrf: csrf } : {}) });
        expect(res.status, path).toBe(403);
        expect(res.text).toContain("This form cannot be sent");
      }
    }
    const [endpoint, ...rest] = (await o.api.get("webhooks")).body.items;
    expect(rest).toEqual([]);
    expect(endpoint.enabled).toBe(true);
    expect((await o.api.get(`webhooks/${id}/deliveries`)).body.items).toEqual([]);
    expect((await o.api.get("jobs")).body.items).toEqual([]);
  });
});

describe("jobs pages", () => {
  it("saving mappings lands on the job page with state, progress and counts; a sync starts a job; the list links them", async () => {
    const o = await orgWithPeople();
    const eng = await provision(deps, o.orgId, { userName: "dev@acme.test" });
    await makeGroup(tdb.db, o.orgId, "Engineering", [eng.id]);
    const form = { rows: "1", group_0: "Engineering", seatType_0: "chat", role_0: "", priority_0: "5" };
    const saved = await post(o.admin, "/admin/mappings", form);
    expect(saved.status).toBe(303);
    const location = String(saved.headers.location);
    expect(location).toMatch(/^\/admin\/jobs\/[0-9a-f-]{36}\?done=mappings$/);
    expect((await reload(tdb.db, o.orgId, eng.id)).seatType).toBe("chat");
    const job = await get(o.admin, location);
    expect(job.status).toBe(200);
    expect(job.text).toContain("Mapping change job");
    expect(job.text).toContain("Mappings saved.");
    expect(job.text).toContain('data-job-state="succeeded"');
    expect(job.text).toMatch(/data-count="changed">1</);
    expect(job.text).toMatch(/Progress: (\d+) of \1 members/);

    const mappings = await get(o.admin, "/admin/mappings");
    expect(mappings.text).toContain('href="/admin/jobs"');
    const sync = await post(o.admin, "/admin/mappings/sync", {});
    expect(sync.status).toBe(303);
    expect(String(sync.headers.location)).toMatch(/^\/admin\/jobs\/[0-9a-f-]{36}\?done=sync$/);
    expect((await get(o.admin, String(sync.headers.location))).text).toContain("Sync job");

    const list = await get(o.admin, "/admin/jobs");
    expect(list.status).toBe(200);
    expect(list.text.match(/data-job="/g)).toHaveLength(2);
    expect(list.text).toContain(location.split("?")[0]);
    expect((await get(o.admin, "/admin/jobs/00000000-0000-0000-0000-000000000000")).status).toBe(404);
    expect((await get(o.admin, "/admin/jobs/nope")).status).toBe(404);
  });

  it("a queued job's page says it is not finished and offers a plain reload link", async () => {
    const o = await orgWithPeople();
    const res = await o.api.post("sync", {});
    expect(res.status).toBe(200);
    // A queued job, as a large change leaves it: inserted and not yet run.
    const { enqueueSync } = await import("../../src/services/jobs-service.js");
    const queued = await enqueueSync(deps, o.orgId, "sync", { actor: "test", requestId: "r" });
    const page = await get(o.admin, `/admin/jobs/${queued.id}`);
    expect(page.text).toContain('data-job-state="queued"');
    expect(page.text).toContain(`href="/admin/jobs/${queued.id}"`);
    expect(page.text).toContain("not yet");
    expect(page.text).not.toMatch(/<script(?! src="\/admin\/assets\/console.js")/);
  });
});
