// Mapping changes and syncs as jobs (issue 11): the preview is what the job then does, on random orgs and
// mappings; a job a process dropped midway is finished by another process with the same end state as an
// uninterrupted run; a job runs once however many workers look; seat invariants hold after every job.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addGroupMembers } from "../../src/repositories/groups-repository.js";
import { claimJob, expireLease, findJob, saveProgress } from "../../src/repositories/jobs-repository.js";
import type { ServiceDeps } from "../../src/services/context.js";
import { enqueueSync, runNextJob } from "../../src/services/jobs-service.js";
import { previewMappings, putMappings, syncOrg } from "../../src/services/mappings-service.js";
import { patchMember } from "../../src/services/members-service.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { makeGroup, makeOrg, provision, setMappings, setPurchased, testDeps } from "../support/factories.js";
import { expectInvariants, expectLedgerConsistent, steppingClock } from "../support/seat-invariants.js";

let tdb: TestDatabase;
beforeAll(async () => {
  tdb = await createTestDatabase();
});
afterAll(async () => tdb?.destroy());

const ADMIN = { actor: "admin:test", role: "owner" as const };
const GROUPS = ["Eng", "Sales", "Ops"];
const TYPES = [null, "chat_code", "chat"] as const;
const ROLES = [null, "admin", "owner"] as const;

interface Scenario {
  seats: { chat_code: number; chat: number };
  policy: "unassigned" | "next_available";
  /** Per member: which groups they are in, and whether an admin picked their seat by hand. */
  members: { groups: boolean[]; manual: boolean; samlGroup: number | null }[];
  before: { group: number; seatType: number; role: number; priority: number }[];
  after: { group: number; seatType: number; role: number; priority: number }[];
}

const mappingArb = fc
  .uniqueArray(
    fc.record({
      group: fc.integer({ min: 0, max: 2 }),
      seatType: fc.integer({ min: 0, max: 2 }),
      role: fc.integer({ min: 0, max: 2 }),
      priority: fc.integer({ min: 0, max: 3 }),
    }),
    { selector: (m) => m.group, maxLength: 3 },
  )
  .map((ms) => ms.filter((m) => m.seatType !== 0 || m.role !== 0));

const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  seats: fc.record({ chat_code: fc.integer({ min: 0, max: 4 }), chat: fc.integer({ min: 0, max: 4 }) }),
  policy: fc.constantFrom("unassigned" as const, "next_available" as const),
  members: fc.array(
    fc.record({
      groups: fc.tuple(fc.boolean(), fc.boolean(), fc.boolean()),
      manual: fc.boolean(),
      samlGroup: fc.option(fc.integer({ min: 0, max: 2 }), { nil: null }),
    }),
    { minLength: 2, maxLength: 9 },
  ),
  before: mappingArb,
  after: mappingArb,
});

function rules(ms: Scenario["before"]) {
  return ms.map((m) => ({
    group: GROUPS[m.group],
    seatType: TYPES[m.seatType],
    role: ROLES[m.role],
    priority: m.priority,
  }));
}

/** Builds the org: members provisioned, some by hand, groups filled behind the allocator's back. */
async function build(deps: ServiceDeps, s: Scenario): Promise<string> {
  const org = await makeOrg(deps, { mappedTypeExhausted: s.policy, manualHoldMinutes: 0 });
  const orgId = org.org.id;
  await setPurchased(deps.db, orgId, "chat_code", s.seats.chat_code + 1); // the owner holds one
  await setPurchased(deps.db, orgId, "chat", s.seats.chat);
  const ids: string[] = [];
  for (const m of s.members) {
    const member = await provision(deps, orgId);
    ids.push(member.id);
    if (m.samlGroup !== null)
      await deps
        .db("members")
        .where({ org_id: orgId, id: member.id })
        .update({ idp_groups: [GROUPS[m.samlGroup]] });
    if (m.manual) await patchMember(deps, orgId, member.id, { seatType: "unassigned" }, ADMIN).catch(() => undefined);
  }
  await putMappings(deps, orgId, rules(s.before), { actor: "admin:test" });
  for (const [g, name] of GROUPS.entries()) {
    await makeGroup(
      deps.db,
      orgId,
      name,
      ids.filter((_, i) => s.members[i].groups[g]),
    );
  }
  return orgId;
}

type SeatRow = {
  seatType: string | null;
  seatStatus: string;
  seatReason: string;
  waitingFor: string | null;
  role: string;
};

async function seatsOf(deps: ServiceDeps, orgId: string): Promise<Map<string, SeatRow>> {
  const rows = await deps.db("members").where({ org_id: orgId }).orderBy("id");
  return new Map(
    rows.map((r) => [
      r.id as string,
      {
        seatType: r.seat_type,
        seatStatus: r.seat_status,
        seatReason: r.seat_reason,
        waitingFor: r.waiting_for,
        role: r.role,
      },
    ]),
  );
}

describe("preview and apply", () => {
  it("the preview is exactly what the job then does, on random orgs and mappings", async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, fc.integer({ min: 1, max: 4 }), async (s, batchSize) => {
        const deps = testDeps(tdb.db, steppingClock());
        const orgId = await build(deps, s);
        const before = await seatsOf(deps, orgId);
        const preview = await previewMappings(deps, orgId, rules(s.after), { actor: "admin:test" }, { batchSize });
        expect(await seatsOf(deps, orgId)).toEqual(before);

        await setMappings(deps.db, orgId, rules(s.after));
        const job = await enqueueSync(deps, orgId, "mapping_change", { actor: "admin:test" });
        while (await runNextJob(deps, { batchSize }));
        const done = await findJob(deps.db, orgId, job.id);
        expect(done?.state).toBe("succeeded");
        expect(done?.counts.evaluated).toBe(preview.evaluated);

        const after = await seatsOf(deps, orgId);
        const planned = new Map(preview.changes.map((c) => [c.memberId, c.after]));
        for (const [id, now] of after) expect(now, id).toEqual(planned.get(id) ?? before.get(id));
        await expectInvariants(deps.db, orgId);
        // A sync right after changes nothing.
        const again = await enqueueSync(deps, orgId, "sync", { actor: "system" });
        expect(again.progressTotal).toBe(0);
        while (await runNextJob(deps));
        expect((await findJob(deps.db, orgId, again.id))?.counts).toMatchObject({ evaluated: 0, changed: 0 });
      }),
      { numRuns: 12 },
    );
  });
});

describe("jobs across processes", () => {
  /** A contested org: more members want chat_code than there are seats, so order and resumption matter. */
  async function contested(deps: ServiceDeps): Promise<string> {
    const org = await makeOrg(deps, { manualHoldMinutes: 0, mappedTypeExhausted: "next_available" });
    const orgId = org.org.id;
    await setPurchased(deps.db, orgId, "chat_code", 4);
    await setPurchased(deps.db, orgId, "chat", 5);
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push((await provision(deps, orgId)).id);
    const eng = await makeGroup(deps.db, orgId, "Eng", ids.slice(0, 8));
    await addGroupMembers(deps.db, orgId, await makeGroup(deps.db, orgId, "Sales", []), ids.slice(6));
    await setMappings(deps.db, orgId, [
      { group: eng, seatType: "chat_code", role: "admin", priority: 1 },
      { group: "Sales", seatType: "chat", priority: 2 },
    ]);
    return orgId;
  }

  async function restore(
    deps: ServiceDeps,
    orgId: string,
    members: Record<string, unknown>[],
    pools: Record<string, unknown>[],
  ) {
    for (const m of members) await deps.db("members").where({ org_id: orgId, id: m.id }).update(m);
    for (const p of pools)
      await deps.db("seat_allocations").where({ org_id: orgId, seat_type: p.seat_type }).update({ used: p.used });
  }

  it("a job dropped midway is finished by another process, ending as an uninterrupted run does", async () => {
    const first = testDeps(tdb.db, steppingClock());
    const second = testDeps(tdb.db, steppingClock(Date.parse("2026-03-01T10:00:00Z")));
    const orgId = await contested(first);
    const members = await tdb.db("members").where({ org_id: orgId });
    const pools = await tdb.db("seat_allocations").where({ org_id: orgId });

    // Uninterrupted, in batches of 3.
    const whole = await enqueueSync(first, orgId, "mapping_change", { actor: "admin:test" });
    while (await runNextJob(first, { batchSize: 3 }));
    expect((await findJob(tdb.db, orgId, whole.id))?.state).toBe("succeeded");
    const uninterrupted = await seatsOf(first, orgId);
    await expectInvariants(tdb.db, orgId);

    // Back to the start (the audit trail no longer tells one story from here, so only the ledger is
    // checked), then: the first process runs one batch and dies (its lease is dropped).
    await restore(first, orgId, members, pools);
    const job = await enqueueSync(first, orgId, "mapping_change", { actor: "admin:test" });
    expect(job.progressTotal).toBeGreaterThan(3);
    expect(await runNextJob(first, { batchSize: 3, maxBatches: 1, owner: "process-1" })).toBe(true);
    const midway = await findJob(tdb.db, orgId, job.id);
    expect(midway).toMatchObject({ state: "running", progressDone: 3, leaseOwner: "process-1" });
    // While its lease holds, nobody else takes it.
    const stillLeased = new Date((midway?.leaseUntil as Date).getTime() - 1000);
    expect(await claimJob(tdb.db, "process-2", stillLeased, stillLeased, { orgId, id: job.id })).toBeNull();
    await expectLedgerConsistent(tdb.db, orgId);

    await expireLease(tdb.db, orgId, job.id);
    expect(await runNextJob(second, { batchSize: 3, owner: "process-2" })).toBe(true);
    const finished = await findJob(tdb.db, orgId, job.id);
    expect(finished).toMatchObject({ state: "succeeded", leaseOwner: "process-2", attempts: 2 });
    expect(finished?.progressDone).toBe(finished?.counts.evaluated);
    // What GET jobs/{id} shows: never more done than the total.
    expect(finished?.progressTotal).toBeGreaterThanOrEqual(finished?.progressDone ?? Infinity);
    expect(await seatsOf(first, orgId)).toEqual(uninterrupted);
    await expectLedgerConsistent(tdb.db, orgId);
    // The first process, back from the dead, cannot save over it.
    expect(await saveProgress(tdb.db, orgId, job.id, "process-1", { progressDone: 0 })).toBe(false);
  });

  it("a batch applied with set-based statements ends as the allocator one member at a time does, audit and outbox included", async () => {
    const deps = testDeps(tdb.db, steppingClock());
    const org = await makeOrg(deps, { manualHoldMinutes: 0, mappedTypeExhausted: "unassigned" });
    const orgId = org.org.id;
    await setPurchased(deps.db, orgId, "chat_code", 5); // the owner holds one
    await setPurchased(deps.db, orgId, "chat", 5);
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push((await provision(deps, orgId)).id);
    const eng = await makeGroup(deps.db, orgId, "Eng", ids.slice(0, 8));
    await makeGroup(deps.db, orgId, "Sales", ids.slice(0, 2));
    // Eight want chat_code, four get it: the others wait for it.
    await setMappings(deps.db, orgId, [{ group: eng, seatType: "chat_code", priority: 1 }]);
    await syncOrg(deps, orgId, { actor: "admin:test" });
    const members = await tdb.db("members").where({ org_id: orgId });
    const pools = await tdb.db("seat_allocations").where({ org_id: orgId });
    expect(members.some((m) => m.waiting_for !== null)).toBe(true);
    // The change: Sales (two of Eng's seat holders) goes to chat as admins, freeing chat_code seats that
    // promote Eng's waiters.
    await setMappings(deps.db, orgId, [
      { group: "Sales", seatType: "chat", role: "admin", priority: 1 },
      { group: eng, seatType: "chat_code", priority: 2 },
    ]);
    const trail = async (from: { audit: number; outbox: number }) => ({
      audit: (
        await tdb
          .db("audit_events")
          .where({ org_id: orgId })
          .where("id", ">", from.audit)
          .whereLike("action", "seat.%")
          .orderBy("id")
      ).map((r) => [r.action, r.member_id, r.before, r.after, r.reason]),
      outbox: (await tdb.db("outbox").where({ org_id: orgId }).where("id", ">", from.outbox).orderBy("id")).map((r) => [
        r.topic,
        r.payload,
      ]),
    });
    const mark = async () => ({
      audit: Number((await tdb.db("audit_events").max({ n: "id" }))[0].n ?? 0),
      outbox: Number((await tdb.db("outbox").max({ n: "id" }))[0].n ?? 0),
    });

    const runs: { seats: Map<string, SeatRow>; trail: Awaited<ReturnType<typeof trail>>; changed: number }[] = [];
    for (const oneByOne of [true, false]) {
      await restore(deps, orgId, members, pools);
      const from = await mark();
      const job = await enqueueSync(deps, orgId, "mapping_change", { actor: "admin:test" });
      let failed: unknown = null;
      while (await runNextJob(deps, { batchSize: 5, oneByOne, onBatchFailed: (e) => (failed = e) }));
      expect(failed).toBeNull();
      const done = await findJob(tdb.db, orgId, job.id);
      expect(done?.state).toBe("succeeded");
      await expectLedgerConsistent(tdb.db, orgId);
      runs.push({ seats: await seatsOf(deps, orgId), trail: await trail(from), changed: done?.counts.changed ?? 0 });
    }
    const [single, batched] = runs;
    expect(single.changed).toBeGreaterThan(0);
    expect(single.trail.audit.some(([action]) => action === "seat.promoted")).toBe(true);
    expect(batched.seats).toEqual(single.seats);
    expect(batched.changed).toBe(single.changed);
    expect(batched.trail.audit).toEqual(single.trail.audit);
    expect(batched.trail.outbox).toEqual(single.trail.outbox);
  });

  it("runs once however many workers look at the same time", async () => {
    const deps = testDeps(tdb.db, steppingClock());
    const orgId = await contested(deps);
    const job = await enqueueSync(deps, orgId, "mapping_change", { actor: "admin:test" });
    const workers = await Promise.all(
      [1, 2, 3].map((n) => runNextJob(testDeps(tdb.db), { batchSize: 2, owner: `p${n}` })),
    );
    expect(workers.filter(Boolean).length).toBeGreaterThanOrEqual(1);
    const done = await findJob(tdb.db, orgId, job.id);
    expect(done?.state).toBe("succeeded");
    expect(done?.attempts).toBe(1);
    const events = await tdb.db("audit_events").where({ org_id: orgId, action: "mapping.sync" });
    expect(events).toHaveLength(1);
    await expectInvariants(tdb.db, orgId);
  });
});
