import type { Express } from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Member } from "../../src/repositories/members-repository.js";
import { addGroupMembers } from "../../src/repositories/groups-repository.js";
import type { ServiceDeps } from "../../src/services/context.js";
import { runNextJob } from "../../src/services/jobs-service.js";
import { testApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { expectInvariants } from "../support/seat-invariants.js";
import { makeGroup, provision, seatLedger, testDeps } from "../support/factories.js";
import { type AdminClient, adminClient, adminTokenFor, createOrgViaApi, ownerIdOf } from "./helpers.js";

let tdb: TestDatabase;
let app: Express;
let deps: ServiceDeps;

beforeAll(async () => {
  tdb = await createTestDatabase();
  app = testApp(tdb.db);
  deps = testDeps(tdb.db);
});
afterAll(async () => tdb?.destroy());

const RULES = [
  { group: "Sales", seatType: "chat", priority: 2 },
  { group: "Engineering", seatType: "chat_code", role: "admin", priority: 1 },
];

interface Fixture {
  orgId: string;
  owner: AdminClient;
  ownerId: string;
  sales: Member;
  engineer: Member;
  loner: Member;
  engineeringId: string;
}

async function fixture(): Promise<Fixture> {
  const created = await createOrgViaApi(app);
  const owner = adminClient(app, created.orgId, created.ownerToken);
  const sales = await provision(deps, created.orgId);
  const engineer = await provision(deps, created.orgId);
  const loner = await provision(deps, created.orgId);
  expect([sales.seatType, engineer.seatType, loner.seatType]).toEqual(["chat_code", "chat_code", "chat_code"]);
  await makeGroup(tdb.db, created.orgId, "Sales", [sales.id]);
  const engineeringId = await makeGroup(tdb.db, created.orgId, "Engineering", [engineer.id]);
  return { orgId: created.orgId, owner, ownerId: await ownerIdOf(owner), sales, engineer, loner, engineeringId };
}

async function auditCount(f: Fixture): Promise<number> {
  const res = await f.owner.get("audit-events?limit=500");
  expect(res.body.nextCursor).toBeNull();
  return res.body.items.length;
}

describe("group mappings", () => {
  it("GET is empty at first", async () => {
    const f = await fixture();
    const res = await f.owner.get("group-mappings");
    expect(res.status).toBe(200);
    expect(res.body).toEqual([]);
  });

  it("preview says what would change and changes nothing", async () => {
    const f = await fixture();
    const auditBefore = await auditCount(f);
    const ledgerBefore = await seatLedger(tdb.db, f.orgId);
    const res = await f.owner.post("group-mappings/preview", RULES);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      members: 4,
      evaluated: 2,
      changed: 2,
      nextCursor: null,
      summary: {
        seats: [{ from: "chat_code", to: "chat", count: 1 }],
        roles: [{ from: "member", to: "admin", count: 1 }],
      },
    });
    const byMember = Object.fromEntries(res.body.changes.map((c: { memberId: string }) => [c.memberId, c]));
    expect(Object.keys(byMember).sort()).toEqual([f.sales.id, f.engineer.id].sort());
    expect(byMember[f.sales.id]).toMatchObject({
      before: { seatType: "chat_code" },
      after: { seatType: "chat", seatReason: "mapping:Sales" },
    });
    expect(byMember[f.engineer.id]).toMatchObject({
      before: { role: "member" },
      after: { seatType: "chat_code", role: "admin", seatReason: "mapping:Engineering" },
    });

    // Nothing applied: mappings, members, counters and the audit trail are as they were.
    expect((await f.owner.get("group-mappings")).body).toEqual([]);
    expect((await f.owner.get(`members/${f.sales.id}`)).body).toMatchObject({
      seatType: "chat_code",
      seatReason: "highest_available",
    });
    expect((await f.owner.get(`members/${f.engineer.id}`)).body.role).toBe("member");
    expect(await seatLedger(tdb.db, f.orgId)).toEqual(ledgerBefore);
    expect(await auditCount(f)).toBe(auditBefore);
  });

  it("preview pages who changes with limit and cursor", async () => {
    const f = await fixture();
    const first = await f.owner.post("group-mappings/preview?limit=1", RULES);
    expect(first.status).toBe(200);
    expect(first.body.changed).toBe(2);
    expect(first.body.changes).toHaveLength(1);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await f.owner.post(`group-mappings/preview?limit=1&cursor=${first.body.nextCursor}`, RULES);
    expect(second.body.changes).toHaveLength(1);
    expect(second.body.nextCursor).toBeNull();
    expect([first.body.changes[0].memberId, second.body.changes[0].memberId].sort()).toEqual(
      [f.sales.id, f.engineer.id].sort(),
    );
    expect((await f.owner.post("group-mappings/preview?cursor=bm9wZQ", RULES)).status).toBe(400);
    expect((await f.owner.get("jobs/00000000-0000-0000-0000-000000000000")).status).toBe(404);
  });

  it("PUT replaces the mappings, applies them at once, and GET returns them in priority order", async () => {
    const f = await fixture();
    const res = await f.owner.put("group-mappings", RULES);
    expect(res.status).toBe(200);
    expect(res.body.mappings).toEqual([
      { group: "Engineering", seatType: "chat_code", role: "admin", priority: 1 },
      { group: "Sales", seatType: "chat", role: null, priority: 2 },
    ]);
    // Small: applied before the answer; the job says what it did.
    expect(res.body.job).toMatchObject({
      kind: "mapping_change",
      state: "succeeded",
      progress: { done: 2, total: 2 },
      counts: { evaluated: 2, changed: 2, failed: 0 },
      errors: [],
    });
    expect(res.headers.location).toBe(`/api/v1/orgs/${f.orgId}/jobs/${res.body.job.id}`);
    expect((await f.owner.get(`jobs/${res.body.job.id}`)).body).toEqual(res.body.job);

    const got = await f.owner.get("group-mappings");
    expect(got.status).toBe(200);
    expect(got.body).toEqual(res.body.mappings);

    expect((await f.owner.get(`members/${f.sales.id}`)).body).toMatchObject({
      seatType: "chat",
      seatReason: "mapping:Sales",
      seatSource: "auto",
    });
    expect((await f.owner.get(`members/${f.engineer.id}`)).body).toMatchObject({
      seatType: "chat_code",
      seatReason: "mapping:Engineering",
      role: "admin",
    });
    expect((await f.owner.get(`members/${f.loner.id}`)).body).toMatchObject({
      seatType: "chat_code",
      seatReason: "highest_available",
      role: "member",
    });
    expect(await seatLedger(tdb.db, f.orgId)).toEqual({
      chat_code: { purchased: 10, used: 2, holders: 2, held: 0 },
      chat: { purchased: 10, used: 1, holders: 1, held: 0 },
    });

    const audit = await f.owner.get("audit-events?action=mapping.changed");
    expect(audit.body.items).toHaveLength(1);
    expect(audit.body.items[0]).toMatchObject({ actor: `admin:${f.ownerId}`, before: [], after: res.body.mappings });

    // Replacing with an empty list removes them.
    const cleared = await f.owner.put("group-mappings", []);
    expect(cleared.status).toBe(200);
    expect((await f.owner.get("group-mappings")).body).toEqual([]);
  });

  it("PUT answers 202 with a queued job when many members change; a worker finishes it", async () => {
    const f = await fixture();
    // 120 members holding chat_code, all in Sales (seeded in SQL: setup, not the API under test).
    await tdb.db("seat_allocations").where({ org_id: f.orgId }).update({ purchased: 200 });
    const ids: { id: string }[] = await tdb.db
      .raw(
        `insert into members (org_id, id, user_name, seat_type, seat_status, seat_reason, source, scim_managed)
       select ?, gen_random_uuid(), 'bulk' || i || '@example.com', 'chat_code', 'claimed', 'highest_available', 'scim', true
         from generate_series(1, 120) i returning id`,
        [f.orgId],
      )
      .then((r: { rows: { id: string }[] }) => r.rows);
    await tdb.db("seat_allocations").where({ org_id: f.orgId, seat_type: "chat_code" }).increment("used", 120);
    const salesId = (await tdb.db("groups").where({ org_id: f.orgId, display_name: "Sales" }).first()).id;
    await addGroupMembers(
      tdb.db,
      f.orgId,
      salesId,
      ids.map((r) => r.id),
    );

    const res = await f.owner.put("group-mappings", RULES);
    expect(res.status).toBe(202);
    expect(res.body.job).toMatchObject({ state: "queued", progress: { done: 0, total: 122 }, startedAt: null });
    expect(res.headers.location).toBe(`/api/v1/orgs/${f.orgId}/jobs/${res.body.job.id}`);
    while (await runNextJob(deps));
    const job = await f.owner.get(`jobs/${res.body.job.id}`);
    expect(job.body).toMatchObject({
      state: "succeeded",
      progress: { done: 122, total: 122 },
      counts: { evaluated: 122, changed: 122, failed: 0 },
    });
    expect(job.body.finishedAt).toEqual(expect.any(String));
    await expectInvariants(tdb.db, f.orgId);
    expect((await seatLedger(tdb.db, f.orgId)).chat.used).toBe(121);
  });

  it("matches a mapping by a group's id too", async () => {
    const f = await fixture();
    const res = await f.owner.put("group-mappings", [{ group: f.engineeringId, seatType: "chat", priority: 1 }]);
    expect(res.status).toBe(200);
    expect((await f.owner.get(`members/${f.engineer.id}`)).body).toMatchObject({
      seatType: "chat",
      seatReason: `mapping:${f.engineeringId}`,
    });
  });

  it("POST sync is idempotent and picks up group changes", async () => {
    const f = await fixture();
    expect((await f.owner.put("group-mappings", RULES)).status).toBe(200);
    const again = await f.owner.post("sync");
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({
      kind: "sync",
      state: "succeeded",
      counts: { evaluated: 0, changed: 0 },
      changes: [],
    });

    // The loner joins Sales behind the allocator's back (as a raw group write would); sync catches up.
    const salesId = (await tdb.db("groups").where({ org_id: f.orgId, display_name: "Sales" }).first()).id;
    await addGroupMembers(tdb.db, f.orgId, salesId, [f.loner.id]);
    const sync = await f.owner.post("sync");
    expect(sync.status).toBe(200);
    expect(sync.body).toMatchObject({ state: "succeeded", counts: { evaluated: 1, changed: 1 } });
    expect(sync.body.changes[0]).toMatchObject({ memberId: f.loner.id, after: { seatType: "chat" } });
    expect((await f.owner.get(`members/${f.loner.id}`)).body.seatType).toBe("chat");
    expect((await f.owner.post("sync")).body.counts.changed).toBe(0);
    // Every job is listed, newest first.
    const jobs = await f.owner.get("jobs");
    expect(jobs.status).toBe(200);
    expect(jobs.body.items.map((j: { kind: string }) => j.kind)).toEqual(["sync", "sync", "sync", "mapping_change"]);
    const audit = await f.owner.get("audit-events?action=mapping.sync");
    expect(audit.body.items.length).toBeGreaterThanOrEqual(3);
  });

  it("answers 400 for a mapping to an unknown seat type, changing nothing", async () => {
    const f = await fixture();
    expect((await f.owner.put("group-mappings", RULES)).status).toBe(200);
    const body = [{ group: "Design", seatType: "premium", priority: 1 }];
    for (const res of [await f.owner.put("group-mappings", body), await f.owner.post("group-mappings/preview", body)]) {
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: "invalid_request", message: expect.stringContaining("premium") });
    }
    expect((await f.owner.get("group-mappings")).body).toHaveLength(2);
  });

  it("answers 400 for a group mapped twice, whatever the case", async () => {
    const f = await fixture();
    for (const body of [
      [
        { group: "Engineering", seatType: "chat", priority: 1 },
        { group: "Engineering", seatType: "chat_code", priority: 2 },
      ],
      [
        { group: "Engineering", seatType: "chat", priority: 1 },
        { group: "engineering", role: "admin", priority: 2 },
      ],
    ]) {
      const res = await f.owner.put("group-mappings", body);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: "invalid_request", message: expect.stringMatching(/engineering/i) });
      expect((await f.owner.post("group-mappings/preview", body)).status).toBe(400);
    }
    expect((await f.owner.get("group-mappings")).body).toEqual([]);
  });

  it("answers 400 for malformed mapping lists", async () => {
    const f = await fixture();
    const bodies: unknown[] = [
      { group: "Sales", seatType: "chat", priority: 1 },
      [{ group: "Sales", priority: 1 }],
      [{ group: "Sales", seatType: "chat" }],
      [{ group: "", seatType: "chat", priority: 1 }],
      [{ group: "Sales", role: "primary_owner", priority: 1 }],
      [{ group: "Sales", seatType: "chat", priority: 1, extra: true }],
      [{ group: "Sales", seatType: "chat", priority: -1 }],
    ];
    for (const body of bodies) {
      const res = await f.owner.put("group-mappings", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error).toBe("invalid_request");
    }
  });

  it("is open to admins and closed to members", async () => {
    const f = await fixture();
    expect((await f.owner.patch(`members/${f.loner.id}`, { role: "admin" })).status).toBe(200);
    const admin = adminClient(app, f.orgId, await adminTokenFor(f.owner, f.loner.id));
    expect((await admin.get("group-mappings")).status).toBe(200);
    expect((await admin.post("group-mappings/preview", RULES)).status).toBe(200);
    expect((await admin.post("sync")).status).toBe(200);
    const member = adminClient(app, f.orgId, await adminTokenFor(f.owner, f.sales.id));
    for (const res of [
      await member.get("group-mappings"),
      await member.put("group-mappings", RULES),
      await member.post("group-mappings/preview", RULES),
      await member.post("sync"),
    ]) {
      expect(res.status).toBe(403);
      expect(res.body.requiredRole).toBe("admin");
    }
  });

  it("refuses an admin who saves a mapping that gives owner, naming the role needed (DOMAIN §2)", async () => {
    const f = await fixture();
    expect((await f.owner.patch(`members/${f.loner.id}`, { role: "admin" })).status).toBe(200);
    const admin = adminClient(app, f.orgId, await adminTokenFor(f.owner, f.loner.id));
    const auditBefore = await auditCount(f);
    const escalate = [{ group: "Sales", role: "owner", priority: 1 }];
    for (const res of [
      await admin.put("group-mappings", escalate),
      await admin.post("group-mappings/preview", escalate),
    ]) {
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ error: "forbidden", requiredRole: "owner" });
      expect(res.body.message).toMatch(/owner role/);
    }
    expect((await f.owner.get(`members/${f.sales.id}`)).body.role).toBe("member");
    expect((await f.owner.get("group-mappings")).body).toEqual([]);
    expect(await auditCount(f)).toBe(auditBefore);
    // primary_owner is never given by a mapping, whoever asks.
    for (const client of [admin, f.owner]) {
      const res = await client.put("group-mappings", [{ group: "Sales", role: "primary_owner", priority: 1 }]);
      expect(res.status).toBe(400);
    }
  });

  it("lets an owner save an owner mapping, and an admin keep it unchanged but not remove or alter it", async () => {
    const f = await fixture();
    const owners = [{ group: "Sales", role: "owner", priority: 1 }];
    expect((await f.owner.put("group-mappings", owners)).status).toBe(200);
    expect((await f.owner.get(`members/${f.sales.id}`)).body.role).toBe("owner");
    expect((await f.owner.patch(`members/${f.loner.id}`, { role: "admin" })).status).toBe(200);
    const admin = adminClient(app, f.orgId, await adminTokenFor(f.owner, f.loner.id));
    const kept = [...owners, { group: "Engineering", seatType: "chat", priority: 2 }];
    expect((await admin.put("group-mappings", kept)).status).toBe(200);
    for (const body of [
      [],
      [{ group: "Sales", role: "owner", priority: 5 }],
      [{ group: "Sales", role: "admin", priority: 1 }],
    ]) {
      const res = await admin.put("group-mappings", body);
      expect(res.status, JSON.stringify(body)).toBe(403);
      expect(res.body.requiredRole).toBe("owner");
    }
    expect((await f.owner.get(`members/${f.sales.id}`)).body.role).toBe("owner");
  });
});
