// Checks every seat test ends with: the pool's counters agree with the members holding seats and stay
// within what was bought, and the audit trail of seat changes tells each member's story without a gap.
import type { Knex } from "knex";
import { expect } from "vitest";
import { DomainError } from "../../src/domain/errors.js";
import { changeSeat, type SeatIntent, type SeatSnapshot } from "../../src/services/seat-allocator.js";
import { changeContext, loadOrg, type ServiceDeps } from "../../src/services/context.js";
import { seatLedger } from "./factories.js";

/** used == members holding the type + seats held for admins, and used <= purchased, for every seat type. */
export async function expectLedgerConsistent(db: Knex, orgId: string): Promise<void> {
  const ledger = await seatLedger(db, orgId);
  for (const [type, row] of Object.entries(ledger)) {
    expect(row.used, `used of ${type}`).toBe(row.holders + row.held);
    expect(row.used, `used of ${type} within purchased`).toBeLessThanOrEqual(row.purchased);
  }
}

const SEAT_ACTIONS = ["seat.changed", "seat.promoted", "seat.swapped"];

function parsed(value: unknown): Record<string, unknown> {
  return (typeof value === "string" ? JSON.parse(value) : value) as Record<string, unknown>;
}

function seatFields(s: Record<string, unknown>): SeatSnapshot {
  return {
    seatType: s.seatType as string | null,
    seatStatus: s.seatStatus as string,
    seatReason: s.seatReason as string,
    waitingFor: s.waitingFor as string | null,
    role: s.role as SeatSnapshot["role"],
  };
}

export async function seatEvents(
  db: Knex,
  orgId: string,
  memberId?: string,
): Promise<
  {
    action: string;
    memberId: string;
    before: SeatSnapshot;
    after: SeatSnapshot;
    reason: string | null;
    actor: string;
  }[]
> {
  const query = db("audit_events").where({ org_id: orgId }).whereIn("action", SEAT_ACTIONS).orderBy("id");
  if (memberId) query.where({ member_id: memberId });
  const rows = await query;
  return rows.map((r) => ({
    action: r.action,
    memberId: r.member_id,
    before: seatFields(parsed(r.before)),
    after: seatFields(parsed(r.after)),
    reason: r.reason,
    actor: r.actor,
  }));
}

export async function auditCount(db: Knex, orgId: string): Promise<number> {
  const row = await db("audit_events").where({ org_id: orgId }).count<{ n: number }[]>({ n: "*" }).first();
  return Number(row?.n ?? 0);
}

/**
 * For every member: each seat event starts where the previous one (or a role change) left off, nothing
 * changed silently in between, and the last one matches the member as stored now.
 */
export async function expectAuditConsistent(db: Knex, orgId: string): Promise<void> {
  const rows = await db("audit_events")
    .where({ org_id: orgId })
    .whereIn("action", [...SEAT_ACTIONS, "member.role_changed"])
    .orderBy("id");
  const running = new Map<string, SeatSnapshot>();
  for (const r of rows) {
    const known = running.get(r.member_id);
    if (r.action === "member.role_changed") {
      if (known) running.set(r.member_id, { ...known, role: parsed(r.after).role as SeatSnapshot["role"] });
      continue;
    }
    const before = seatFields(parsed(r.before));
    const after = seatFields(parsed(r.after));
    if (known) expect(before, `audit event ${r.id} (${r.action}) starts where the last one ended`).toEqual(known);
    expect(after, `audit event ${r.id} records a change`).not.toEqual(before);
    running.set(r.member_id, after);
  }
  const members = await db("members").where({ org_id: orgId });
  for (const m of members) {
    const last = running.get(m.id);
    if (!last) continue;
    expect(last, `last seat event of ${m.user_name}`).toEqual({
      seatType: m.seat_type,
      seatStatus: m.seat_status,
      seatReason: m.seat_reason,
      waitingFor: m.waiting_for,
      role: m.role,
    });
  }
}

export async function expectInvariants(db: Knex, orgId: string): Promise<void> {
  await expectLedgerConsistent(db, orgId);
  await expectAuditConsistent(db, orgId);
}

/** Runs one allocator intent in its own transaction, as the SCIM and sign-in paths do. */
export async function runIntent(
  deps: ServiceDeps,
  orgId: string,
  memberId: string,
  intent: SeatIntent,
  actor = "system",
) {
  return deps.db.transaction(async (trx) => {
    const org = await loadOrg(deps, trx, orgId);
    return changeSeat(trx, changeContext(deps, org, { actor }), memberId, intent, deps.now());
  });
}

/** SCIM deactivation: the member stays but is inactive and gives the seat back, in one transaction. */
export async function deactivate(deps: ServiceDeps, orgId: string, memberId: string) {
  return deps.db.transaction(async (trx) => {
    const org = await loadOrg(deps, trx, orgId);
    await trx("members").where({ org_id: orgId, id: memberId }).update({ active: false });
    return changeSeat(
      trx,
      changeContext(deps, org, { actor: "scim:test" }),
      memberId,
      { kind: "release", reason: "deactivated" },
      deps.now(),
    );
  });
}

export async function reconcile(deps: ServiceDeps, orgId: string, memberId: string) {
  return runIntent(deps, orgId, memberId, { kind: "reconcile" });
}

/** The DomainError a call rejects with (fails the test if it resolves or throws something else). */
export async function domainError(work: Promise<unknown>): Promise<DomainError> {
  const error = await work.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error, "expected a DomainError").toBeInstanceOf(DomainError);
  return error as DomainError;
}

/** A clock that moves one second per reading, so waiting-since times are distinct and FIFO is deterministic. */
export function steppingClock(start = Date.parse("2026-03-01T09:00:00Z")): () => Date {
  let t = start;
  return () => new Date((t += 1000));
}
