import type { Express } from "express";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServiceDeps } from "../../src/services/context.js";
import { authenticateToken } from "../../src/services/tokens-service.js";
import { testApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { provision, testDeps } from "../support/factories.js";
import {
  type AdminClient,
  adminClient,
  adminTokenFor,
  type CreatedOrgBody,
  createOrgViaApi,
  deactivate,
  MISSING_ID,
  ownerIdOf,
  path,
} from "./helpers.js";

let tdb: TestDatabase;
let app: Express;
let deps: ServiceDeps;

beforeAll(async () => {
  tdb = await createTestDatabase();
  app = testApp(tdb.db);
  deps = testDeps(tdb.db);
});
afterAll(async () => tdb?.destroy());

interface Fixture {
  created: CreatedOrgBody;
  orgId: string;
  owner: AdminClient;
  ownerId: string;
}

async function fixture(): Promise<Fixture> {
  const created = await createOrgViaApi(app);
  const owner = adminClient(app, created.orgId, created.ownerToken);
  return { created, orgId: created.orgId, owner, ownerId: await ownerIdOf(owner) };
}

async function withRole(f: Fixture, role: "member" | "admin"): Promise<AdminClient> {
  const m = await provision(deps, f.orgId);
  if (role !== "member") expect((await f.owner.patch(`members/${m.id}`, { role })).status).toBe(200);
  return adminClient(app, f.orgId, await adminTokenFor(f.owner, m.id));
}

type AuditItem = {
  id: string;
  at: string;
  actor: string;
  action: string;
  memberId: string | null;
  before: unknown;
  after: unknown;
  reason: string | null;
};

describe("GET audit-events", () => {
  let f: Fixture;
  let memberId: string;
  beforeAll(async () => {
    f = await fixture();
    const m = await provision(deps, f.orgId);
    memberId = m.id;
    await provision(deps, f.orgId);
    expect((await f.owner.patch(`members/${m.id}`, { seatType: "chat" })).status).toBe(200);
    expect((await f.owner.patch(`members/${m.id}`, { seatType: "unassigned" })).status).toBe(200);
    expect((await f.owner.patch(`members/${m.id}`, { seatType: "auto" })).status).toBe(200);
  });

  async function everything(query = ""): Promise<AuditItem[]> {
    const res = await f.owner.get(`audit-events?limit=500${query}`);
    expect(res.status).toBe(200);
    expect(res.body.nextCursor).toBeNull();
    return res.body.items;
  }

  it("lists events newest first with the contract's fields", async () => {
    const res = await f.owner.get("audit-events");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ items: expect.any(Array), nextCursor: null });
    const items: AuditItem[] = res.body.items;
    expect(items.length).toBeGreaterThan(5);
    for (const e of items) {
      for (const key of ["at", "actor", "action", "memberId", "before", "after", "reason"])
        expect(e, key).toHaveProperty(key);
      expect(Number.isNaN(Date.parse(e.at))).toBe(false);
    }
    const ids = items.map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(items[items.length - 1].action).toBe("org.created");
    expect(items[items.length - 1].actor).toBe("operator");
    const manual = items.find(
      (e) =>
        e.action === "seat.changed" &&
        e.actor === `admin:${f.ownerId}` &&
        e.reason === "manual" &&
        (e.after as { seatType: string }).seatType === "chat",
    );
    expect(manual).toMatchObject({
      memberId,
      before: { seatType: "chat_code" },
      after: { seatType: "chat" },
      reason: "manual",
    });
  });

  it("filters by memberId and by action, and by both", async () => {
    const mine = await everything(`&memberId=${memberId}`);
    expect(mine.length).toBeGreaterThanOrEqual(5); // created, seat on creation, three patches
    expect(mine.every((e) => e.memberId === memberId)).toBe(true);
    const seats = await everything("&action=seat.changed");
    expect(seats.every((e) => e.action === "seat.changed")).toBe(true);
    expect(seats.some((e) => e.memberId !== memberId)).toBe(true);
    const both = await everything(`&memberId=${memberId}&action=seat.changed`);
    expect(both.map((e) => [e.before, e.after].map((s) => (s as { seatType: string | null }).seatType))).toEqual([
      [null, "chat_code"],
      ["chat", null],
      ["chat_code", "chat"],
      [null, "chat_code"],
    ]);
    expect(await everything("&action=no.such.action")).toEqual([]);
    expect(await everything(`&memberId=${MISSING_ID}`)).toEqual([]);
  });

  it("pages with a cursor, each event exactly once", async () => {
    const all = await everything();
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `audit-events?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      const res = await f.owner.get(query);
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((e: AuditItem) => e.id));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor !== null && pages < 100);
    expect(cursor).toBeNull();
    expect(seen).toEqual(all.map((e) => e.id));
    expect(pages).toBe(Math.ceil(all.length / 2));
  });

  it("pages within a filter", async () => {
    const all = await everything(`&memberId=${memberId}`);
    const first = await f.owner.get(`audit-events?memberId=${memberId}&limit=3`);
    const second = await f.owner.get(`audit-events?memberId=${memberId}&limit=100&cursor=${first.body.nextCursor}`);
    expect(second.body.nextCursor).toBeNull();
    expect([...first.body.items, ...second.body.items].map((e: AuditItem) => e.id)).toEqual(all.map((e) => e.id));
  });

  it("answers 400 for bad query parameters", async () => {
    for (const query of ["?memberId=nope", "?cursor=garbage!", "?limit=0", "?limit=x"]) {
      const res = await f.owner.get(`audit-events${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body).toEqual({ error: "invalid_request", message: expect.any(String) });
    }
  });

  it("is closed to members (needs admin) and open to admins", async () => {
    const member = await withRole(f, "member");
    const res = await member.get("audit-events");
    expect(res.status).toBe(403);
    expect(res.body.requiredRole).toBe("admin");
    expect((await (await withRole(f, "admin")).get("audit-events")).status).toBe(200);
  });
});

describe("scim-tokens", () => {
  it("lists the initial token without its secret", async () => {
    const f = await fixture();
    const res = await f.owner.get("scim-tokens");
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(1);
    expect(res.body[0]).toMatchObject({
      id: expect.any(String),
      name: "initial",
      hint: `…${f.created.scimToken.slice(-4)}`,
      revokedAt: null,
    });
    expect(res.body[0]).not.toHaveProperty("token");
    expect(JSON.stringify(res.body)).not.toContain(f.created.scimToken);
  });

  it("POST shows the new token once; the list never shows it; DELETE revokes it at once", async () => {
    const f = await fixture();
    const created = await f.owner.post("scim-tokens", { name: "okta" });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      id: expect.any(String),
      name: "okta",
      revokedAt: null,
      token: expect.stringMatching(/^rst_scim_/),
    });
    const token: string = created.body.token;
    expect(created.body.hint).toBe(`…${token.slice(-4)}`);
    expect(await authenticateToken(deps, "scim", token)).toMatchObject({ id: created.body.id, orgId: f.orgId });

    const list = await f.owner.get("scim-tokens");
    expect(list.body.map((t: { id: string }) => t.id)).toContain(created.body.id);
    expect(JSON.stringify(list.body)).not.toContain(token);
    for (const t of list.body) expect(t).not.toHaveProperty("token");

    const del = await f.owner.delete(`scim-tokens/${created.body.id}`);
    expect(del.status).toBe(204);
    expect(del.text).toBe("");
    expect(await authenticateToken(deps, "scim", token)).toBeNull();
    const after = await f.owner.get("scim-tokens");
    expect(after.body.find((t: { id: string }) => t.id === created.body.id).revokedAt).not.toBeNull();
    // The other token is untouched.
    expect(await authenticateToken(deps, "scim", f.created.scimToken)).not.toBeNull();
    // Revoking again changes nothing.
    expect((await f.owner.delete(`scim-tokens/${created.body.id}`)).status).toBe(204);

    const audit = await f.owner.get("audit-events?limit=500");
    const actions = audit.body.items.map((e: AuditItem) => e.action);
    expect(actions.filter((a: string) => a === "token.scim.revoked")).toHaveLength(1);
    expect(actions).toContain("token.scim.created");
    expect(JSON.stringify(audit.body)).not.toContain(token);
  });

  it("POST works without a body", async () => {
    const f = await fixture();
    const res = await request(app)
      .post(path(f.orgId, "scim-tokens"))
      .set("Authorization", `Bearer ${f.created.ownerToken}`);
    expect(res.status).toBe(201);
    expect(res.body.name).toBeNull();
    expect(res.body.token).toMatch(/^rst_scim_/);
  });

  it("DELETE answers 404 for unknown, garbage, admin-token and other orgs' token ids", async () => {
    const f = await fixture();
    const g = await fixture();
    const otherOrgs = (await g.owner.get("scim-tokens")).body[0].id;
    const adminTokenId = (await f.owner.get("admin-tokens")).body[0].id;
    for (const id of [MISSING_ID, "garbage", otherOrgs, adminTokenId]) {
      const res = await f.owner.delete(`scim-tokens/${id}`);
      expect(res.status, id).toBe(404);
      expect(res.body.error).toBe("not_found");
    }
    expect(await authenticateToken(deps, "scim", g.created.scimToken)).not.toBeNull();
    expect((await f.owner.get("seats")).status).toBe(200); // the owner token was not revoked
  });

  it("answers 400 for a bad body and 403 to members", async () => {
    const f = await fixture();
    expect((await f.owner.post("scim-tokens", { name: 5 })).status).toBe(400);
    expect((await f.owner.post("scim-tokens", { other: "x" })).status).toBe(400);
    const member = await withRole(f, "member");
    for (const res of [
      await member.get("scim-tokens"),
      await member.post("scim-tokens", {}),
      await member.delete(`scim-tokens/${MISSING_ID}`),
    ]) {
      expect(res.status).toBe(403);
      expect(res.body.requiredRole).toBe("admin");
    }
    const admin = await withRole(f, "admin");
    expect((await admin.post("scim-tokens", {})).status).toBe(201);
  });
});

describe("admin-tokens", () => {
  it("GET lists the owner's token without its secret", async () => {
    const f = await fixture();
    const res = await f.owner.get("admin-tokens");
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(1);
    expect(res.body[0]).toMatchObject({
      name: "owner",
      memberId: f.ownerId,
      hint: `…${f.created.ownerToken.slice(-4)}`,
      revokedAt: null,
    });
    expect(JSON.stringify(res.body)).not.toContain(f.created.ownerToken);
  });

  it("POST issues a token for a member, shown once, that acts with that member's role", async () => {
    const f = await fixture();
    const m = await provision(deps, f.orgId);
    await f.owner.patch(`members/${m.id}`, { role: "admin" });
    const res = await f.owner.post("admin-tokens", { memberId: m.id, name: "ci" });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ memberId: m.id, name: "ci", token: expect.stringMatching(/^rst_admin_/) });
    const client = adminClient(app, f.orgId, res.body.token);
    expect((await client.get("members")).status).toBe(200);
    expect((await client.get("admin-tokens")).status).toBe(403);
    const list = await f.owner.get("admin-tokens");
    expect(list.body).toHaveLength(2);
    expect(JSON.stringify(list.body)).not.toContain(res.body.token);
    const audit = await f.owner.get(`audit-events?action=token.admin.created&memberId=${m.id}`);
    expect(audit.body.items).toHaveLength(1);
    expect(audit.body.items[0].actor).toBe(`admin:${f.ownerId}`);
  });

  it("refuses unknown, other orgs', and deactivated members, and bad bodies", async () => {
    const f = await fixture();
    const g = await fixture();
    for (const memberId of [MISSING_ID, g.ownerId]) {
      const res = await f.owner.post("admin-tokens", { memberId });
      expect(res.status).toBe(404);
      expect(res.body.error).toBe("not_found");
    }
    for (const body of [{}, { memberId: "nope" }, { memberId: f.ownerId, extra: 1 }]) {
      const res = await f.owner.post("admin-tokens", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error).toBe("invalid_request");
    }
    const m = await provision(deps, f.orgId);
    await deactivate(deps, f.orgId, m.id);
    const res = await f.owner.post("admin-tokens", { memberId: m.id });
    expect(res.status).toBe(409);
    expect((await f.owner.get("admin-tokens")).body).toHaveLength(1);
  });

  it("is for owners and above: admins get 403 naming the owner role", async () => {
    const f = await fixture();
    const admin = await withRole(f, "admin");
    for (const res of [await admin.get("admin-tokens"), await admin.post("admin-tokens", { memberId: f.ownerId })]) {
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ error: "forbidden", requiredRole: "owner" });
      expect(res.body.message).toMatch(/\bowner\b/);
    }
  });
});
