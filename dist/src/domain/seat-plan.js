import { highestRole } from "./roles.js";
export function sortMappings(mappings) {
    return [...mappings].sort((a, b) => a.priority - b.priority || a.group.localeCompare(b.group));
}
/** Group matching is case-insensitive: IdPs are inconsistent about the case of group names. */
export function matchingMappings(mappings, memberGroups) {
    const keys = new Set([...memberGroups].map((g) => g.toLowerCase()));
    return sortMappings(mappings).filter((m) => keys.has(m.group.toLowerCase()));
}
export function planSeat(input) {
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
/** A member keeps a seat the plan still allows and only moves up; a seat the plan no longer allows is given back. */
export function seatMoves(plan, currentSeatType) {
    if (currentSeatType === null)
        return { tryTypes: plan.candidates, keepCurrent: false };
    const index = plan.candidates.indexOf(currentSeatType);
    if (index === -1)
        return { tryTypes: plan.candidates, keepCurrent: false };
    return { tryTypes: plan.candidates.slice(0, index), keepCurrent: true };
}
export function reasonFor(plan) {
    return plan.mapping ? `mapping:${plan.mapping}` : "highest_available";
}
export function waitingReason(waitingFor) {
    return waitingFor === "any" ? "exhausted" : `waiting:${waitingFor}`;
}
/**
 * The outcome of the rules for one member, given the free seats per type. `current` is what the member
 * holds now (a seat they hold is not counted as free).
 */
export function decideSeat(plan, current, free) {
    const moves = seatMoves(plan, current.seatType);
    const claimed = moves.tryTypes.find((t) => (free[t] ?? 0) > 0);
    if (claimed)
        return { seatType: claimed, reason: reasonFor(plan), waitingFor: null };
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
export function canUseFreedSeat(waitingTypes, seatType) {
    return waitingTypes.includes(seatType);
}
/** How many seats must be bought before one more of a type can be assigned. */
export function purchaseRequired(purchased, used) {
    return Math.max(1, used - purchased + 1);
}
//# sourceMappingURL=seat-plan.js.map