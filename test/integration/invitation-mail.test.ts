// Invitation emails through the outbox to a real SMTP server (smtp-server, in this process): the mail that
// arrives goes to the invitee, names the org, and carries a link that claims the seat. Refused sends are
// retried with backoff and never lost; consumers in parallel send each mail once; a link that ran out
// before it could be sent is not sent; neither the token nor the address reaches a log line.
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import type { Express } from "express";
import { pino } from "pino";
import { SMTPServer } from "smtp-server";
import request from "supertest";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { buildApp } from "../../src/app.js";
import { createSessionCodec } from "../../src/http/session.js";
import { backgroundJobs } from "../../src/jobs/index.js";
import { createSmtpTransport, mailConsumer } from "../../src/jobs/mail-deliverer.js";
import { createLogger } from "../../src/logger.js";
import type { ServiceDeps } from "../../src/services/context.js";
import { deliverDue, type OutboxConsumer } from "../../src/services/outbox-delivery.js";
import { OPERATOR_TOKEN } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { testDeps } from "../support/factories.js";
import { adminClient, createOrgViaApi } from "../http/helpers.js";

interface Received {
  from: string;
  to: string[];
  raw: string;
}

let tdb: TestDatabase;
let deps: ServiceDeps;
let app: Express;
let smtp: SMTPServer;
let smtpUrl: string;
const received: Received[] = [];
let refuseNext = 0;
let clockMs = Date.parse("2026-06-01T09:00:00Z");
const now = () => new Date(clockMs);
const logLines: string[] = [];

beforeAll(async () => {
  tdb = await createTestDatabase();
  deps = testDeps(tdb.db, now);
  // A logger at info that keeps every line, to check what is (not) logged.
  const sink = new Writable({
    write(chunk, _enc, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  app = buildApp({
    ...deps,
    logger: pino({ level: "info" }, sink),
    sessions: createSessionCodec("test-session-key"),
    operatorToken: OPERATOR_TOKEN,
  });
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onRcptTo(_address, _session, callback) {
      if (refuseNext > 0) {
        refuseNext -= 1;
        const error = new Error("mailbox busy, try later") as Error & { responseCode: number };
        error.responseCode = 451;
        return callback(error);
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString("utf8"),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", () => resolve()));
  smtpUrl = `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
  await tdb?.destroy();
});

beforeEach(() => {
  received.length = 0;
  refuseNext = 0;
});

function consumer(options: Partial<OutboxConsumer> = {}): OutboxConsumer {
  return { ...mailConsumer(deps, createSmtpTransport(smtpUrl), "Roster <roster@acme.test>"), ...options };
}

/** The message as a reader sees it: quoted-printable soft breaks and escapes undone. */
function decoded(raw: string): string {
  return raw
    .replace(/=\r?\n/g, "")
    .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

function header(raw: string, name: string): string {
  const unfolded = raw.split(/\r?\n\r?\n/)[0].replace(/\r?\n[ \t]+/g, " ");
  const line = unfolded.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line ? line.slice(name.length + 1).trim() : "";
}

async function newOrg(name = "Initech") {
  const created = await createOrgViaApi(app, { name });
  return { orgId: created.orgId, owner: adminClient(app, created.orgId, created.ownerToken) };
}

async function mailRows(orgId: string) {
  return tdb.db("outbox").where({ org_id: orgId, channel: "mail" }).orderBy("id");
}

/** Sends whatever earlier tests left, so a test sees only its own mail. */
async function drainEarlier() {
  while ((await deliverDue(deps, consumer())).more);
  received.length = 0;
}

describe("invitation emails over SMTP", () => {
  it("arrive after commit at the invitee, and the link in the body claims the seat", async () => {
    const o = await newOrg();
    const inv = await o.owner.post("invitations", { email: "milton@example.com", seatType: "chat" });
    expect(inv.status).toBe(201);
    expect(received).toHaveLength(0); // nothing is sent inside the request

    const pass = await deliverDue(deps, consumer());
    expect(pass.delivered).toBe(1);
    expect(received).toHaveLength(1);
    const mail = received[0];
    expect(mail.to).toEqual(["milton@example.com"]);
    expect(mail.from).toBe("roster@acme.test");
    expect(header(mail.raw, "Subject")).toBe("You are invited to Initech on Roster");
    const body = decoded(mail.raw);
    const link = /http:\/\/roster\.test\/claim\/claim_[A-Za-z0-9_-]{43}/.exec(body)?.[0];
    expect(link).toBe(inv.body.claimUrl);
    expect(body).toContain("Chat");

    const path = new URL(link!).pathname;
    expect((await request(app).get(path)).status).toBe(200);
    const claimed = await request(app)
      .post("/api/v1/claim")
      .send({ token: path.split("/claim/")[1] });
    expect(claimed.status).toBe(200);

    // Sent once, and the sealed link is forgotten after sending.
    const [row] = await mailRows(o.orgId);
    expect(row.delivered_at).not.toBeNull();
    expect(row.attempts).toBe(1);
    expect(row.payload.sealedLink).toBeNull();
    expect((await deliverDue(deps, consumer())).delivered).toBe(0);
  });

  it("a refused send is retried with backoff until it goes through, never lost", async () => {
    const o = await newOrg();
    await drainEarlier();
    await o.owner.post("invitations", { email: "peter@example.com", seatType: "chat" });
    refuseNext = 2;
    expect(await deliverDue(deps, consumer())).toMatchObject({ delivered: 0, failed: 1 });
    let [row] = await mailRows(o.orgId);
    expect(row).toMatchObject({ attempts: 1, delivered_at: null });
    expect(row.last_error).not.toContain("peter");
    expect(new Date(row.next_attempt_at).getTime()).toBe(clockMs + 30_000);
    // Not due again before the backoff ends.
    expect((await deliverDue(deps, consumer())).failed).toBe(0);
    clockMs += 30_000;
    expect(await deliverDue(deps, consumer())).toMatchObject({ delivered: 0, failed: 1 });
    [row] = await mailRows(o.orgId);
    expect(new Date(row.next_attempt_at).getTime()).toBe(clockMs + 60_000);
    clockMs += 60_000;
    expect(await deliverDue(deps, consumer())).toMatchObject({ delivered: 1, failed: 0 });
    expect(received.map((m) => m.to)).toEqual([["peter@example.com"]]);
    [row] = await mailRows(o.orgId);
    expect(row.attempts).toBe(3);
    expect(row.delivered_at).not.toBeNull();
  });

  it("consumers in parallel (as in several processes) send each mail exactly once", async () => {
    const o = await newOrg();
    await drainEarlier();
    const emails = Array.from({ length: 8 }, (_, i) => `bob${i}@example.com`);
    for (const email of emails) await o.owner.post("invitations", { email, seatType: "chat" });
    const drain = async () => {
      while ((await deliverDue(deps, consumer({ batchSize: 2 }))).more);
    };
    await Promise.all([drain(), drain(), drain()]);
    expect(received.flatMap((m) => m.to).sort()).toEqual([...emails].sort());
  });

  it("a process that dies mid-send leaves the row to be sent again when its lease ends", async () => {
    const o = await newOrg();
    await drainEarlier();
    await o.owner.post("invitations", { email: "joanna@example.com", seatType: "chat" });
    // A pass leases the row, then "dies" while sending: nothing ever marks the row.
    const dying = consumer({ deliver: () => new Promise(() => {}), leaseMs: 60_000 });
    void deliverDue(deps, dying);
    await new Promise((r) => setTimeout(r, 300));
    expect((await deliverDue(deps, consumer())).delivered).toBe(0); // leased: nobody else takes it meanwhile
    clockMs += 60_000;
    expect((await deliverDue(deps, consumer())).delivered).toBe(1);
    expect(received.map((m) => m.to)).toEqual([["joanna@example.com"]]);
  });

  it("a link that ran out before it could be sent is not sent", async () => {
    const o = await newOrg();
    await drainEarlier();
    await o.owner.post("invitations", { email: "lumbergh@example.com", seatType: "chat" });
    clockMs += 24 * 3600_000;
    expect((await deliverDue(deps, consumer())).delivered).toBe(1);
    expect(received).toHaveLength(0);
    const [row] = await mailRows(o.orgId);
    expect(row.last_error).toContain("expired");
    expect(row.payload.sealedLink).toBeNull();
  });

  it("never logs the claim token or the invitee's address", async () => {
    const o = await newOrg();
    await drainEarlier();
    logLines.length = 0;
    const inv = await o.owner.post("invitations", { email: "samir@example.com", seatType: "chat" });
    const token = inv.body.claimUrl.split("/claim/")[1];
    await request(app).get(`/claim/${token}`);
    await request(app).post("/claim").type("form").send({ token });
    await request(app).post("/api/v1/claim").send({ token });
    refuseNext = 1;
    await deliverDue(deps, consumer());
    const log = logLines.join("");
    expect(log).toContain("/claim/…");
    expect(log).not.toContain(token);
    expect(log).not.toContain("samir");
    const [row] = await mailRows(o.orgId);
    expect(row.last_error ?? "").not.toContain("samir");
  });
});

describe("without SMTP_URL", () => {
  it("no mail job runs: rows wait in the outbox and admins copy the link", () => {
    const logger = createLogger("silent");
    expect(backgroundJobs(deps, logger).map((j) => j.name)).toEqual(["seat-holds", "invitation-expiry", "admin-jobs"]);
    expect(backgroundJobs(deps, logger, { mail: { smtpUrl, from: "r@x.test" } }).map((j) => j.name)).toContain("mail");
  });
});
