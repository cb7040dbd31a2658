// Webhooks (DOMAIN §9, issue 12) against a local receiver (node:http) that VERIFIES every signature with
// standardwebhooks' Webhook.verify: each event type arrives with its documented payload; order per endpoint
// holds under concurrent seat changes; a receiver down for a while gets everything afterwards, in order; a
// process killed mid-delivery loses nothing (another delivers, at most a duplicate with the same id); an
// endpoint failing repeatedly is disabled; private URLs are refused by default; roles; the secret once.
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Express } from "express";
import { Webhook } from "standardwebhooks";
import request from "supertest";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { WEBHOOK_EVENT_TYPES } from "../../src/domain/webhook-events.js";
import type { ServiceDeps } from "../../src/services/context.js";
import { expireInvitations } from "../../src/services/invitations-service.js";
import { isPrivateAddress } from "../../src/services/webhook-address.js";
import { deliverWebhooks, sendWebhook, type WebhookDeliveryOptions } from "../../src/services/webhook-delivery.js";
import { OPERATOR_TOKEN, testApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { provision, testDeps } from "../support/factories.js";
import { type AdminClient, adminClient, adminTokenFor, createOrgViaApi, ownerIdOf } from "./helpers.js";

let tdb: TestDatabase;
let app: Express;
let deps: ServiceDeps;
// One clock for the app and the delivery runs; tests move it forward to end leases and backoffs.
let offsetMs = 0;
const now = () => new Date(Date.now() + offsetMs);

interface Received {
  id: string;
  type: string;
  timestamp: string;
  orgId: string;
  data: Record<string, unknown>;
}

/** A webhook receiver that checks each signature with the endpoint's secret and keeps what it accepted. */
class Receiver {
  server!: Server;
  secret = "";
  events: Received[] = [];
  requests = 0;
  badSignatures = 0;
  /** "ok": 200; "down": 503; "hang": the request never gets an answer. */
  mode: "ok" | "down" | "hang" = "ok";
  onRequest: (() => void) | null = null;
  private hanging: ServerResponse[] = [];

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        this.requests += 1;
        this.onRequest?.();
        if (this.mode === "hang") {
          this.hanging.push(res);
          return;
        }
        if (this.mode === "down") {
          res.writeHead(503).end("x".repeat(5000));
          return;
        }
        const body = Buffer.concat(chunks).toString("utf8");
        try {
          const event = new Webhook(this.secret).verify(body, headersOf(req.headers)) as Received;
          expect(req.headers["webhook-id"]).toBe(event.id);
          this.events.push(event);
          res.writeHead(200).end("ok");
        } catch {
          this.badSignatures += 1;
          res.writeHead(400).end("bad signature");
        }
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  release(): void {
    for (const res of this.hanging.splice(0)) res.destroy();
  }

  async stop(): Promise<void> {
    this.release();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

function headersOf(h: IncomingHttpHeaders): Record<string, string> {
  return {
    "webhook-id": String(h["webhook-id"]),
    "webhook-timestamp": String(h["webhook-timestamp"]),
    "webhook-signature": String(h["webhook-signature"]),
  };
}

const receivers: Receiver[] = [];

beforeAll(async () => {
  tdb = await createTestDatabase();
  app = testApp(tdb.db, { now });
  deps = testDeps(tdb.db, now);
});
beforeEach(() => {
  offsetMs = 0;
});
afterAll(async () => {
  for (const r of receivers) await r.stop();
  await tdb?.destroy();
});

interface Fixture {
  orgId: string;
  owner: AdminClient;
  scimToken: string;
  receiver: Receiver;
  webhookId: string;
}

/** An org with one endpoint (all events unless `events`) pointing at a fresh receiver. */
async function orgWithEndpoint(events?: string[], orgBody: Record<string, unknown> = {}): Promise<Fixture> {
  const created = await createOrgViaApi(app, orgBody);
  const owner = adminClient(app, created.orgId, created.ownerToken);
  const receiver = new Receiver();
  receivers.push(receiver);
  const url = await receiver.start();
  const res = await owner.post("webhooks", { url, ...(events ? { events } : {}) });
  expect(res.status).toBe(201);
  receiver.secret = res.body.secret;
  return { orgId: created.orgId, owner, scimToken: created.scimToken, receiver, webhookId: res.body.id };
}

const fast: WebhookDeliveryOptions = { schedule: [0, 0, 0], random: () => 0.5, timeoutMs: 5_000 };

/** Runs delivery passes until nothing more is due (a bounded number of them). */
async function drain(options: WebhookDeliveryOptions = fast, passes = 50): Promise<void> {
  for (let i = 0; i < passes; i++) {
    const r = await deliverWebhooks(deps, options);
    if (!r.more && r.delivered === 0 && r.failed === 0) return;
  }
}

const scim = (token: string) => ({
  post: (path: string, body: object) =>
    request(app).post(`/scim/v2${path}`).set("Authorization", `Bearer ${token}`).send(body),
  patch: (path: string, body: object) =>
    request(app).patch(`/scim/v2${path}`).set("Authorization", `Bearer ${token}`).send(body),
  delete: (path: string) => request(app).delete(`/scim/v2${path}`).set("Authorization", `Bearer ${token}`),
});

const patchOp = (op: object) => ({ schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [op] });

describe("webhook endpoints", () => {
  it("shows the secret once (whsec_), never in GET; admin+ only (member → 403)", async () => {
    const f = await orgWithEndpoint(["member.seat_changed"]);
    expect(f.receiver.secret).toMatch(/^whsec_[A-Za-z0-9+/=]{40,}$/);
    const listed = await f.owner.get("webhooks");
    expect(listed.status).toBe(200);
    expect(listed.body.items).toHaveLength(1);
    expect(listed.body.items[0]).toMatchObject({ id: f.webhookId, events: ["member.seat_changed"], enabled: true });
    expect(JSON.stringify(listed.body)).not.toContain("whsec_");
    const one = await f.owner.get(`webhooks/${f.webhookId}`);
    expect(one.body.secret).toBeUndefined();
    const stored = await tdb.db("webhook_endpoints").where({ id: f.webhookId }).first();
    expect(stored.secret_sealed).not.toContain(f.receiver.secret.slice(6));

    const m = await provision(deps, f.orgId);
    const member = adminClient(app, f.orgId, await adminTokenFor(f.owner, m.id));
    expect((await member.get("webhooks")).status).toBe(403);
    expect((await member.post("webhooks", { url: "https://example.com/x" })).status).toBe(403);
    const admin = await provision(deps, f.orgId);
    expect((await f.owner.patch(`members/${admin.id}`, { role: "admin" })).status).toBe(200);
    const adminClientFor = adminClient(app, f.orgId, await adminTokenFor(f.owner, admin.id));
    expect((await adminClientFor.get("webhooks")).status).toBe(200);

    expect((await f.owner.post("webhooks", { url: "ftp://example.com/x" })).status).toBe(400);
    expect((await f.owner.post("webhooks", { url: "https://example.com/x", events: ["nope"] })).status).toBe(400);

    expect((await f.owner.patch(`webhooks/${f.webhookId}`, { events: [] })).body.events).toEqual([]);
    expect((await f.owner.delete(`webhooks/${f.webhookId}`)).status).toBe(204);
    expect((await f.owner.get(`webhooks/${f.webhookId}`)).status).toBe(404);
    const audit = await tdb
      .db("audit_events")
      .where({ org_id: f.orgId })
      .where("action", "like", "webhook.%")
      .orderBy("id");
    expect(audit.map((a) => a.action)).toEqual(["webhook.created", "webhook.updated", "webhook.deleted"]);
    expect(JSON.stringify(audit)).not.toContain("whsec_");
  });

  it("refuses private, loopback and link-local receivers unless WEBHOOK_ALLOW_PRIVATE", async () => {
    const strictApp = testApp(tdb.db, { now, allowPrivateWebhooks: false });
    const created = await createOrgViaApi(strictApp);
    const owner = adminClient(strictApp, created.orgId, created.ownerToken);
    for (const url of [
      "http://127.0.0.1:8080/hook",
      "http://localhost/hook",
      "http://[::1]/hook",
      "https://10.1.2.3/hook",
      "https://169.254.169.254/latest/meta-data",
      "https://192.168.1.1/",
      "http://[fd00::1]/",
      "http://[::ffff:127.0.0.1]/",
    ]) {
      const res = await owner.post("webhooks", { url });
      expect(res.status, url).toBe(422);
      expect(res.body.error).toBe("webhook_url_refused");
    }
    expect((await owner.get("webhooks")).body.items).toEqual([]);
  });

  it("checks the address it connects to: a name re-pointed at 127.0.0.1 after the check (DNS rebinding) gets nothing", async () => {
    const hits: string[] = [];
    const receiver = createServer((req, res) => {
      hits.push(req.url ?? "");
      res.end("ok");
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    const { port } = receiver.address() as AddressInfo;
    // The pass's own check saw a public address; by the time the socket connects, the name answers 127.0.0.1.
    let lookups = 0;
    const rebinding = async () => (++lookups === 1 ? ["93.184.216.34"] : ["127.0.0.1"]);
    const signer = new Webhook(Buffer.from("0123456789abcdef0123456789abcdef").toString("base64"));
    const delivery = { eventId: "evt_rebind", payload: { type: "webhook.test" } };
    const url = `http://hooks.rebind.test:${port}/hook`;
    try {
      expect((await rebinding()).length).toBe(1); // the registration-time check: public
      const refused = await sendWebhook(url, signer, delivery as never, 2_000, new AbortController().signal, {
        allowPrivate: false,
        resolve: rebinding,
      });
      expect(refused.ok).toBe(false);
      expect(refused.error).toMatch(/private/);
      expect(hits).toEqual([]);
      // The same lookup is what connects when private receivers are allowed: the guard is on the real path.
      const allowed = await sendWebhook(url, signer, delivery as never, 2_000, new AbortController().signal, {
        allowPrivate: true,
        resolve: rebinding,
      });
      expect(allowed).toMatchObject({ ok: true, statusCode: 200, responseExcerpt: "ok" });
      expect(hits).toEqual(["/hook"]);
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
  });

  it.each([
    ["127.0.0.1", true],
    ["10.0.0.1", true],
    ["172.31.255.255", true],
    ["192.168.0.10", true],
    ["169.254.169.254", true],
    ["100.64.0.1", true],
    ["0.0.0.0", true],
    ["::1", true],
    ["fe80::1", true],
    ["fc00::1", true],
    ["::ffff:10.0.0.1", true],
    ["8.8.8.8", false],
    ["172.32.0.1", false],
    ["2606:4700:4700::1111", false],
    ["::ffff:8.8.8.8", false],
  ])("isPrivateAddress(%s) = %s", (address, expected) => {
    expect(isPrivateAddress(address)).toBe(expected);
  });
});

describe("webhook delivery", () => {
  it("delivers each catalogued event type, signed, with the documented payload", async () => {
    const f = await orgWithEndpoint(undefined, { seats: { chat_code: 10, chat: 10 } });
    const ownerId = await ownerIdOf(f.owner);
    const s = scim(f.scimToken);
    // member.created + member.seat_changed
    const created = await s.post("/Users", {
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
      userName: "ada@example.com",
    });
    expect(created.status).toBe(201);
    const adaId = created.body.id as string;
    // member.updated
    expect(
      (await s.patch(`/Users/${adaId}`, patchOp({ op: "replace", path: "displayName", value: "Ada" }))).status,
    ).toBeLessThan(300);
    // member.seat_changed by hand, member.role_changed
    expect((await f.owner.patch(`members/${adaId}`, { seatType: "chat" })).status).toBe(200);
    expect((await f.owner.patch(`members/${adaId}`, { role: "admin" })).status).toBe(200);
    // group_mappings.changed
    expect((await f.owner.put("group-mappings", [{ group: "Eng", seatType: "chat_code", priority: 1 }])).status).toBe(
      200,
    );
    // scim_token.created / revoked
    const token = await f.owner.post("scim-tokens", { name: "second" });
    expect(token.status).toBe(201);
    expect((await f.owner.delete(`scim-tokens/${token.body.id}`)).status).toBeLessThan(300);
    // invitation.created, .revoked, .claimed, .expired
    const inv1 = await f.owner.post("invitations", { email: "bob@example.com", seatType: "chat" });
    expect(inv1.status).toBe(201);
    expect((await f.owner.delete(`invitations/${inv1.body.id}`)).status).toBe(200);
    const inv2 = await f.owner.post("invitations", { email: "cy@example.com", seatType: "chat" });
    const claimed = await request(app)
      .post("/api/v1/claim")
      .send({ token: String(inv2.body.claimUrl).split("/claim/")[1] });
    expect(claimed.status).toBe(200);
    const inv3 = await f.owner.post("invitations", { email: "dee@example.com", seatType: "chat" });
    expect(inv3.status).toBe(201);
    offsetMs += 25 * 3_600_000;
    expect((await expireInvitations(deps)).expired).toBeGreaterThanOrEqual(1);
    // seats.purchased, seats.renewed
    expect((await f.owner.post("seats/purchase", { add: { chat: 1 } })).status).toBe(200);
    const renewed = await request(app)
      .post(`/api/v1/orgs/${f.orgId}/renew`)
      .set("Authorization", `Bearer ${OPERATOR_TOKEN}`)
      .send({});
    expect(renewed.status).toBe(200);
    // member.deactivated, member.deleted
    expect(
      (await s.patch(`/Users/${adaId}`, patchOp({ op: "replace", path: "active", value: false }))).status,
    ).toBeLessThan(300);
    expect((await s.delete(`/Users/${adaId}`)).status).toBe(204);

    await drain();
    const r = f.receiver;
    expect(r.badSignatures).toBe(0);
    const types = new Set(r.events.map((e) => e.type));
    for (const type of WEBHOOK_EVENT_TYPES.filter(
      (t) => !["webhook.test", "ownership.transferred", "invitation.resent"].includes(t),
    ))
      expect(types, type).toContain(type);
    for (const e of r.events) {
      expect(Object.keys(e).sort()).toEqual(["data", "id", "orgId", "timestamp", "type"]);
      expect(e.orgId).toBe(f.orgId);
      expect(e.id).toMatch(/^evt_\d+$/);
      expect(Number.isNaN(Date.parse(e.timestamp))).toBe(false);
    }
    // Ids are unique and in order.
    const ids = r.events.map((e) => Number(e.id.slice(4)));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);

    const byType = (t: string) => r.events.filter((e) => e.type === t);
    const seat = byType("member.seat_changed").find(
      (e) => e.data.memberId === adaId && (e.data.after as { seatType: string }).seatType === "chat",
    )!;
    expect(Object.keys(seat.data).sort()).toEqual(["after", "before", "memberId", "reason"]);
    expect(seat.data).toMatchObject({
      before: { seatType: "chat_code" },
      after: { seatType: "chat" },
      reason: "manual",
    });
    expect(byType("member.created").some((e) => e.data.memberId === adaId)).toBe(true);
    expect(byType("member.role_changed").find((e) => e.data.memberId === adaId)!.data).toMatchObject({
      before: { role: "member" },
      after: { role: "admin" },
    });
    expect(byType("member.deactivated")[0]!.data).toMatchObject({ memberId: adaId, after: { active: false } });
    expect(byType("member.deleted")[0]!.data.memberId).toBe(adaId);
    expect(byType("invitation.created")[0]!.data).toMatchObject({ invitationId: inv1.body.id, seatType: "chat" });
    expect(byType("invitation.revoked")[0]!.data).toMatchObject({ invitationId: inv1.body.id, status: "revoked" });
    expect(byType("invitation.claimed")[0]!.data).toMatchObject({ invitationId: inv2.body.id, status: "claimed" });
    expect(byType("invitation.expired")[0]!.data).toMatchObject({ invitationId: inv3.body.id, status: "expired" });
    expect(byType("scim_token.created")[0]!.data).toMatchObject({ tokenId: token.body.id, name: "second" });
    expect(byType("scim_token.revoked")[0]!.data).toMatchObject({ tokenId: token.body.id });
    expect(byType("group_mappings.changed")[0]!.data.after).toEqual([
      expect.objectContaining({ group: "Eng", seatType: "chat_code" }),
    ]);
    expect(byType("seats.purchased")[0]!.data).toMatchObject({ total: expect.any(Number) });
    expect(byType("seats.renewed")).toHaveLength(1);
    expect(ownerId).toBeTruthy();

    // Every attempt is readable per endpoint.
    const deliveries = await f.owner.get(`webhooks/${f.webhookId}/deliveries?limit=5`);
    expect(deliveries.status).toBe(200);
    expect(deliveries.body.items).toHaveLength(5);
    expect(deliveries.body.nextCursor).toBeTruthy();
    expect(deliveries.body.items[0]).toMatchObject({
      status: "delivered",
      attempts: [{ statusCode: 200, responseExcerpt: "ok" }],
    });
    expect(deliveries.body.items[0].attempts[0].durationMs).toEqual(expect.any(Number));
    offsetMs = 0;
  });

  it("keeps order per endpoint under concurrent seat changes (more asks than seats)", async () => {
    const f = await orgWithEndpoint(["member.seat_changed"], { seats: { chat_code: 2, chat: 18 } });
    const members = [];
    for (let i = 0; i < 6; i++) members.push(await provision(deps, f.orgId));
    await drain();
    f.receiver.events = [];
    // Everyone asks for chat_code at once (2 seats), then back to chat, twice over.
    for (let round = 0; round < 2; round++) {
      const results = await Promise.all(
        members.map((m) => f.owner.patch(`members/${m.id}`, { seatType: "chat_code" })),
      );
      expect(results.filter((r) => r.status === 200).length).toBeLessThanOrEqual(2);
      await Promise.all(members.map((m) => f.owner.patch(`members/${m.id}`, { seatType: "chat" })));
    }
    await drain();
    const events = f.receiver.events;
    expect(events.length).toBeGreaterThan(0);
    const ids = events.map((e) => Number(e.id.slice(4)));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    // Per member, each event starts where the previous one ended: nothing reordered, nothing missing.
    for (const m of members) {
      const mine = events.filter((e) => e.data.memberId === m.id);
      for (let i = 1; i < mine.length; i++) expect(mine[i]!.data.before).toEqual(mine[i - 1]!.data.after);
    }
    const final = await tdb
      .db("members")
      .where({ org_id: f.orgId })
      .whereIn(
        "id",
        members.map((m) => m.id),
      );
    for (const m of final) {
      const mine = events.filter((e) => e.data.memberId === m.id);
      if (mine.length) expect((mine.at(-1)!.data.after as { seatType: string }).seatType).toBe(m.seat_type);
    }
  });

  it("a receiver down for a while gets everything afterwards, in order; a redelivery keeps the id", async () => {
    const f = await orgWithEndpoint(["member.created", "member.seat_changed"]);
    f.receiver.mode = "down";
    const slow: WebhookDeliveryOptions = { ...fast, schedule: [60_000, 60_000, 60_000, 60_000, 60_000] };
    for (let i = 0; i < 5; i++) await provision(deps, f.orgId);
    await deliverWebhooks(deps, slow);
    expect(f.receiver.requests).toBe(1); // the head failed: the rest wait behind it
    await deliverWebhooks(deps, slow);
    expect(f.receiver.requests).toBe(1); // backing off
    const listed = await f.owner.get(`webhooks/${f.webhookId}`);
    expect(listed.body).toMatchObject({ enabled: true, failures: 1 });
    const failed = await f.owner.get(`webhooks/${f.webhookId}/deliveries`);
    const head = failed.body.items.at(-1);
    expect(head.status).toBe("pending");
    expect(head.attempts[0]).toMatchObject({ statusCode: 503, error: "HTTP 503" });
    expect(head.attempts[0].responseExcerpt.length).toBeLessThanOrEqual(1024);
    for (let i = 0; i < 3; i++) await provision(deps, f.orgId);
    // The backlog shows in /metrics: 10 deliveries wait, and 6 outbox events are not fanned out yet.
    const metrics = (await request(app).get("/metrics")).text;
    expect(Number(/^roster_webhook_backlog (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(10);
    expect(Number(/^roster_outbox_undelivered (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(6);
    f.receiver.mode = "ok";
    offsetMs += 120_000;
    await drain(slow);
    const events = f.receiver.events;
    expect(events).toHaveLength(16);
    const ids = events.map((e) => Number(e.id.slice(4)));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect((await f.owner.get(`webhooks/${f.webhookId}`)).body.failures).toBe(0);

    // Redelivery on demand: the same event id again.
    const again = await f.owner.post(`webhooks/${f.webhookId}/deliveries/${head.id}/redeliver`);
    expect(again.status).toBe(202);
    expect(again.body.eventId).toBe(head.eventId);
    // A test event.
    expect((await f.owner.post(`webhooks/${f.webhookId}/test`)).status).toBe(202);
    await drain();
    expect(events.slice(16).map((e) => [e.id, e.type])).toEqual([
      [head.eventId, head.eventType],
      [expect.stringMatching(/^evt_test_/), "webhook.test"],
    ]);
  });

  it("a process killed mid-delivery loses nothing: another delivers after the lease, at most one duplicate", async () => {
    const f = await orgWithEndpoint(["member.created"]);
    for (let i = 0; i < 4; i++) await provision(deps, f.orgId);
    f.receiver.mode = "hang";
    const firstRequest = new Promise<void>((resolve) => (f.receiver.onRequest = resolve));
    const dying = new AbortController();
    const options: WebhookDeliveryOptions = { ...fast, leaseMs: 30_000, timeoutMs: 120_000 };
    const runnerA = deliverWebhooks(deps, options, dying.signal);
    await firstRequest;
    f.receiver.mode = "ok";
    // Runner B finds the endpoint leased: nothing sent twice while A may still be alive.
    await deliverWebhooks(deps, options);
    expect(f.receiver.requests).toBe(1);
    // A is gone (its lease runs out); B takes over from the oldest undelivered event.
    offsetMs += 31_000;
    await drain(options);
    dying.abort(); // the dead process's socket finally closes
    await runnerA;
    offsetMs = 0;
    const ids = f.receiver.events.map((e) => e.id);
    expect(ids).toHaveLength(4);
    expect(ids.map((id) => Number(id.slice(4)))).toEqual(
      [...ids.map((id) => Number(id.slice(4)))].sort((a, b) => a - b),
    );
    // The event A was sending counts one attempt without an answer, and the one B delivered.
    const rows = await tdb.db("webhook_deliveries").where({ org_id: f.orgId }).orderBy("id");
    expect(rows.every((r) => r.status === "delivered")).toBe(true);
    expect(f.receiver.requests).toBe(5); // 4 events + the one A never finished: same webhook-id
  });

  it("disables an endpoint that keeps failing (audited, reason shown); enabling it again resumes in order", async () => {
    const f = await orgWithEndpoint(["member.created"]);
    f.receiver.mode = "down";
    await provision(deps, f.orgId);
    await provision(deps, f.orgId);
    await drain();
    const endpoint = (await f.owner.get(`webhooks/${f.webhookId}`)).body;
    expect(endpoint.enabled).toBe(false);
    expect(endpoint.disabledReason).toMatch(/disabled after 4 failed attempts/);
    expect(f.receiver.requests).toBe(4); // the first try and the 3 retries of the schedule
    const audit = await tdb.db("audit_events").where({ org_id: f.orgId, action: "webhook.disabled" });
    expect(audit).toHaveLength(1);
    expect(audit[0].actor).toBe("system");
    // The admins are told by email, through the mail outbox.
    const mails = await tdb.db("outbox").where({ org_id: f.orgId, channel: "mail", topic: "webhook_disabled" });
    expect(mails.map((m) => m.payload.to)).toContain(
      (await f.owner.get("members?role=primary_owner")).body.items[0].email,
    );
    expect(mails[0].payload.reason).toMatch(/disabled after 4 failed attempts/);
    // Nothing is sent to a disabled endpoint.
    f.receiver.mode = "ok";
    await drain();
    expect(f.receiver.events).toHaveLength(0);
    const enabled = await f.owner.patch(`webhooks/${f.webhookId}`, { enabled: true });
    expect(enabled.body).toMatchObject({ enabled: true, failures: 0, disabledReason: null });
    await drain();
    expect(f.receiver.events).toHaveLength(2);
  });
});
