// What a mapping change or a sync does, as pure functions over the members it can touch. The allocator
// (services/seat-allocator.ts `reconcile`) applies the rules member by member against the database; these
// functions replay the very same rules (planSeat, seatMoves, reasonFor, waitingReason, roleFromPlan) over a
// snapshot, in the same order and batches as the job does (services/mappings-service.ts), so a preview is
// what the apply then does. repositories/sync-repository.ts finds the members with the same predicate in SQL.
import type { Catalog } from "./catalog.js";
import type { Role } from "./roles.js";
import {
  type ExhaustedPolicy,
  type GroupMappingRule,
  planSeat,
  reasonFor,
  roleFromPlan,
  type SeatPlan,
  seatMoves,
  waitingReason,
} from "./seat-plan.js";

/** How many members a sync batch takes; each member of a batch is changed in a transaction of its own. */
export const SYNC_BATCH = 200;
/** A sync repeats until a pass finds nobody to change (a seat freed late in one pass may let someone earlier move up). */
export const SYNC_MAX_PASSES = 3;

/** The member fields the rules read and write. */
export interface RuleMember {
  id: string;
  active: boolean;
  role: Role;
  roleSource: "manual" | "mapping";
  seatType: string | null;
  seatStatus: string;
  seatReason: string;
  seatSource: "auto" | "manual";
  waitingFor: string | null;
  waitingTypes: string[];
  waitingSince: Date | null;
  /** The mapping groups (as the mappings spell them) this member is in. */
  matchedGroups: string[];
}

export interface RuleSnapshot {
  seatType: string | null;
  seatStatus: string;
  seatReason: string;
  waitingFor: string | null;
  role: Role;
}

export function ruleSnapshot(m: RuleMember): RuleSnapshot {
  return {
    seatType: m.seatType,
    seatStatus: m.seatStatus,
    seatReason: m.seatReason,
    waitingFor: m.waitingFor,
    role: m.role,
  };
}

export interface RuleInput {
  catalog: Catalog;
  mappings: GroupMappingRule[];
  policy: ExhaustedPolicy;
}

export function planOf(input: RuleInput, m: RuleMember): SeatPlan {
  return planSeat({
    catalog: input.catalog,
    mappings: input.mappings,
    memberGroups: m.matchedGroups,
    policy: input.policy,
  });
}

/** What reconcile does to one member given the free seats: the new member and the seat it gives back, if any. */
export interface Outcome {
  member: RuleMember;
  claimed: string | null;
  freed: string | null;
}

export function reconcileOutcome(plan: SeatPlan, m: RuleMember, free: Record<string, number>, now: Date): Outcome {
  const same = { member: m, claimed: null, freed: null };
  if (!m.active) return same;
  const role = roleFromPlan(plan, m);
  if (m.seatSource === "manual") return role.role === m.role ? same : { ...same, member: { ...m, ...role } };
  const moves = seatMoves(plan, m.seatType);
  const claimed = moves.tryTypes.find((t) => (free[t] ?? 0) > 0) ?? null;
  const notWaiting = { waitingFor: null, waitingTypes: [], waitingSince: null };
  if (claimed) {
    return {
      member: { ...m, ...role, seatType: claimed, seatStatus: "claimed", seatReason: reasonFor(plan), ...notWaiting },
      claimed,
      freed: m.seatType,
    };
  }
  if (moves.keepCurrent) {
    const seatReason = m.seatReason === "promoted" ? "promoted" : reasonFor(plan);
    if (seatReason === m.seatReason && role.role === m.role && m.waitingFor === null) return same;
    return { ...same, member: { ...m, ...role, seatReason, ...notWaiting } };
  }
  return {
    member: {
      ...m,
      ...role,
      seatType: null,
      seatStatus: "unassigned",
      seatReason: waitingReason(plan.waitingFor),
      waitingFor: plan.waitingFor,
      waitingTypes: plan.candidates,
      waitingSince: m.waitingSince ?? now,
    },
    claimed: null,
    freed: m.seatType,
  };
}

function sameArray(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Whether reconcile would write anything for this member: the predicate sync-repository.ts runs in SQL. */
export function wouldChange(before: RuleMember, after: RuleMember): boolean {
  return (
    before.seatType !== after.seatType ||
    before.seatStatus !== after.seatStatus ||
    before.seatReason !== after.seatReason ||
    before.waitingFor !== after.waitingFor ||
    !sameArray(before.waitingTypes, after.waitingTypes) ||
    (before.waitingSince === null) !== (after.waitingSince === null) ||
    before.role !== after.role ||
    before.roleSource !== after.roleSource
  );
}

export interface PlannedChange {
  memberId: string;
  before: RuleSnapshot;
  after: RuleSnapshot;
}

export interface SyncSimulation {
  /** Members the sync runs the rules for (counted once per pass). */
  evaluated: number;
  /** Members whose seat or role ends up different, by member id. */
  changes: PlannedChange[];
}

/**
 * Replays a sync over `members`: every member that could change under any free seats, plus everyone
 * waiting (a freed seat may promote them). Batches of SYNC_BATCH candidates in id order, each picked with
 * the free seats of the moment, as the job picks them in SQL; a freed seat goes to the longest waiter.
 * A generator that pauses after each batch, so a caller on a server can let other requests run in between
 * (planning 20,000 changes is a few hundred milliseconds of CPU); run to its end it returns the simulation.
 */
export function* simulateSyncInSteps(
  input: RuleInput,
  members: RuleMember[],
  freeSeats: Record<string, number>,
  now: Date,
  batchSize = SYNC_BATCH,
): Generator<void, SyncSimulation, void> {
  const free = { ...freeSeats };
  const state = new Map(members.map((m) => [m.id, m]));
  const initial = new Map(members.map((m) => [m.id, m]));
  const ids = [...state.keys()].sort();
  const plans = new Map<string, SeatPlan>();
  const plan = (m: RuleMember) => {
    let p = plans.get(m.id);
    if (!p) plans.set(m.id, (p = planOf(input, m)));
    return p;
  };
  let tick = 0;
  const clock = () => new Date(now.getTime() + tick++);
  const candidate = (m: RuleMember) => wouldChange(m, reconcileOutcome(plan(m), m, free, now).member);

  let evaluated = 0;
  for (let pass = 0; pass < SYNC_MAX_PASSES; pass++) {
    let processed = 0;
    let index = 0;
    for (;;) {
      const batch: string[] = [];
      for (; index < ids.length && batch.length < batchSize; index++) {
        if (candidate(state.get(ids[index]) as RuleMember)) batch.push(ids[index]);
      }
      if (batch.length === 0) break;
      applyBatchRules(input, state, batch, free, clock, plan);
      evaluated += batch.length;
      processed += batch.length;
      yield;
    }
    if (processed === 0) break;
  }

  const changes: PlannedChange[] = [];
  for (const [n, id] of ids.entries()) {
    if (n > 0 && n % 5_000 === 0) yield;
    const before = ruleSnapshot(initial.get(id) as RuleMember);
    const after = ruleSnapshot(state.get(id) as RuleMember);
    if (JSON.stringify(before) !== JSON.stringify(after)) changes.push({ memberId: id, before, after });
  }
  return { evaluated, changes };
}

/** What one batch did: the members it reconciled (in order) and the waiters a freed seat promoted. */
export interface BatchResult {
  /** Each step in order: a batch member reconciled, or a waiter promoted into a seat a batch member freed. */
  steps: { id: string; kind: "reconcile" | "promoted"; before: RuleMember; after: RuleMember }[];
  /** Net change of each pool's `used` (claims minus seats given back to the pool). */
  used: Record<string, number>;
}

/**
 * The allocator's reconcile over one batch, member by member in the order given, against `free` (updated
 * in place): a seat a member gives back goes to the longest waiter in `state` who can use it, else back to
 * the pool. `state` holds the batch's members and the waiters that may be promoted; it is updated in place.
 * The preview (simulateSync) and the job (services/jobs-service.ts) both run this, so they cannot drift.
 */
export function applyBatchRules(
  input: RuleInput,
  state: Map<string, RuleMember>,
  batch: string[],
  free: Record<string, number>,
  clock: () => Date,
  plan: (m: RuleMember) => SeatPlan = (m) => planOf(input, m),
): BatchResult {
  const result: BatchResult = { steps: [], used: {} };
  const bump = (type: string, by: number) => (result.used[type] = (result.used[type] ?? 0) + by);
  // Who is waiting, kept as the batch goes: looking through every member for each freed seat made a preview
  // at 100,000 members quadratic (seconds of a blocked event loop).
  const waiting = new Set<string>();
  for (const w of state.values()) if (w.active && w.waitingFor !== null) waiting.add(w.id);
  const put = (m: RuleMember) => {
    state.set(m.id, m);
    if (m.active && m.waitingFor !== null) waiting.add(m.id);
    else waiting.delete(m.id);
  };
  const giveBack = (seatType: string, fromId: string) => {
    let best: RuleMember | null = null;
    for (const id of waiting) {
      const w = state.get(id) as RuleMember;
      if (w.id === fromId || !w.waitingTypes.includes(seatType)) continue;
      if (!best || waitsLonger(w, best)) best = w;
    }
    if (!best) {
      free[seatType] = (free[seatType] ?? 0) + 1;
      bump(seatType, -1);
      return;
    }
    const promoted: RuleMember = {
      ...best,
      seatType,
      seatStatus: "claimed",
      seatReason: "promoted",
      waitingFor: null,
      waitingTypes: [],
      waitingSince: null,
    };
    result.steps.push({ id: best.id, kind: "promoted", before: best, after: promoted });
    put(promoted);
  };
  for (const id of batch) {
    const m = state.get(id);
    if (!m) continue;
    const out = reconcileOutcome(plan(m), m, free, clock());
    if (out.claimed) {
      free[out.claimed]--;
      bump(out.claimed, 1);
    }
    if (out.freed) giveBack(out.freed, id);
    put(out.member);
    result.steps.push({ id, kind: "reconcile", before: m, after: out.member });
  }
  return result;
}

function waitsLonger(a: RuleMember, b: RuleMember): boolean {
  const at = (a.waitingSince ?? new Date(0)).getTime();
  const bt = (b.waitingSince ?? new Date(0)).getTime();
  return at < bt || (at === bt && a.id < b.id);
}
