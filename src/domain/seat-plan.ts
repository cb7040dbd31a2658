// The seat rules of DOMAIN §3 as pure functions: which seat types a member should try, in what order, and
// what they end up with given the free seats. The allocator (services/seat-allocator.ts) runs the same
// `seatMoves` against the database with conditional updates, so the two cannot drift apart.
import type { Catalog } from "./catalog.js";
import { highestRole, type Role } from "./roles.js";

export type ExhaustedPolicy = "unassigned" | "next_available";

export interface GroupMappingRule {
  /** The IdP group: matched against a SCIM group's id, externalId or displayName, or a SAML group value. */
  group: string;
  seatType: string | null;
  role: Role | null;
  priority: number;
}

export interface SeatPlan {
  /** Seat types to try, best first. */
  candidates: string[];
  /** The mapping that chose the target type, if any. */
  mapping: string | null;
  /** What the member waits for when none of the candidates has a free seat. */
  waitingFor: string;
  /** Highest role among all matching mappings; null when no matching mapping sets a role. */
  role: Role | null;
}

export function sortMappings<T extends GroupMappingRule>(mappings: T[]): T[] {
  return [...mappings].sort((a, b) => a.priority - b.priority || a.group.localeCompare(b.group));
}

/** Group matching is case-insensitive: IdPs are inconsistent about the case of group names. */
export function matchingMappings<T extends GroupMappingRule>(mappings: T[], memberGroups: Iterable<string>): T[] {
  const keys = new Set([...memberGroups].map((g) => g.toLowerCase()));
  return sortMappings(mappings).filter((m) => keys.has(m.group.toLowerCase()));
}

export function planSeat(input: {
  catalog: Catalog;
  mappings: GroupMappingRule[];
  memberGroups: Iterable<string>;
  policy: ExhaustedPolicy;
}): SeatPlan {
  const { catalog, policy } = input;
  const matches = matchingMappings(input.mappings, input.memberGroups);
  const role = highestRole(matches.flatMap((m) => (m.role ? [m.role] : [])));
  const byRank = catalog.seatTypes.map((s) => s.type);
  // A mapping naming a type that is not in this org's catalog cannot give a seat; it is skipped.
  const seatMapping = matches.find((m) => m.seatType !== null && byRank.includes(m.seatType));
  if (!seatMapping || seatMapping.seatType === null) {
    return { candidates: byRank, mapping: null, waitingFor: "any", role };
  }
  const target = seatMapping.seatType;
  const candidates = policy === "next_available" ? [target, ...byRank.slice(byRank.indexOf(target) + 1)] : [target];
  return { candidates, mapping: seatMapping.group, waitingFor: target, role };
}

export interface SeatMoves {
  /** Types worth claiming, best first; each is better than what the member holds now. */
  tryTypes: string[];
  /** Whether the member keeps the current seat when none of tryTypes is free. */
  keepCurrent: boolean;
}

/** A member keeps a seat the plan still allows and only moves up; a seat the plan no longer allows is given back. */
export function seatMoves(plan: SeatPlan, currentSeatType: string | null): SeatMoves {
  if (currentSeatType === null) return { tryTypes: plan.candidates, keepCurrent: false };
  const index = plan.candidates.indexOf(currentSeatType);
  if (index === -1) return { tryTypes: plan.candidates, keepCurrent: false };
  return { tryTypes: plan.candidates.slice(0, index), keepCurrent: true };
}

export interface SeatState {
  seatType: string | null;
  reason: string;
  waitingFor: string | null;
}

export function reasonFor(plan: SeatPlan): string {
  return plan.mapping ? `mapping:${plan.mapping}` : "highest_available";
}

export function waitingReason(waitingFor: string): string {
  return waitingFor === "any" ? "exhausted" : `waiting:${waitingFor}`;
}

/**
 * The outcome of the rules for one member, given the free seats per type. `current` is what the member
 * holds now (a seat they hold is not counted as free).
 */
export function decideSeat(plan: SeatPlan, current: SeatState, free: Record<string, number>): SeatState {
  const moves = seatMoves(plan, current.seatType);
  const claimed = moves.tryTypes.find((t) => (free[t] ?? 0) > 0);
  if (claimed) return { seatType: claimed, reason: reasonFor(plan), waitingFor: null };
  if (moves.keepCurrent) {
    // A promoted member keeps saying so until the rules would give them something else.
    const reason = current.reason === "promoted" ? "promoted" : reasonFor(plan);
    return { seatType: current.seatType, reason, waitingFor: null };
  }
  return { seatType: null, reason: waitingReason(plan.waitingFor), waitingFor: plan.waitingFor };
}

/**
 * Who may take a freed seat of `seatType`: a member whose plan lists it among the types they would take
 * (the mapped type, any type, or with next_available a lower type too). `waitingTypes` is the plan's
 * candidates, recorded when the member started waiting.
 */
export function canUseFreedSeat(waitingTypes: readonly string[], seatType: string): boolean {
  return waitingTypes.includes(seatType);
}

/** How many seats must be bought before one more of a type can be assigned. */
export function purchaseRequired(purchased: number, used: number): number {
  return Math.max(1, used - purchased + 1);
}

/** The role fields of a member, as far as the rules are concerned. */
export interface RoleState {
  role: Role;
  roleSource: "manual" | "mapping";
}

/**
 * The role the mappings give. The primary owner is exempt, and a role an owner set by hand above `member`
 * sticks; otherwise the highest role among the member's mapped groups applies.
 */
export function roleFromPlan(plan: SeatPlan, member: RoleState): RoleState {
  if (member.role === "primary_owner") return { role: member.role, roleSource: member.roleSource };
  if (member.roleSource === "manual" && member.role !== "member")
    return { role: member.role, roleSource: member.roleSource };
  if (plan.role) return { role: plan.role, roleSource: "mapping" };
  // The member left every group that gave them a role: back to member.
  if (member.roleSource === "mapping") return { role: "member", roleSource: "manual" };
  return { role: member.role, roleSource: member.roleSource };
}
