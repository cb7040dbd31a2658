// DOMAIN §3 as expressed by the pure functions of src/domain/seat-plan.ts.
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadCatalogs } from "../../src/catalogs.js";
import { type Catalog, toCatalog } from "../../src/domain/catalog.js";
import type { Role } from "../../src/domain/roles.js";
import {
  canUseFreedSeat,
  decideSeat,
  type ExhaustedPolicy,
  type GroupMappingRule,
  matchingMappings,
  planSeat,
  purchaseRequired,
  reasonFor,
  type SeatPlan,
  seatMoves,
  type SeatState,
  sortMappings,
  waitingReason,
} from "../../src/domain/seat-plan.js";

const catalogs = loadCatalogs(fileURLToPath(new URL("../../mappings", import.meta.url)));
const usage = catalogs.get("enterprise_usage");
const legacy = catalogs.get("enterprise_seat");
const single = catalogs.get("enterprise");

/** A hand-built three-type catalog, so that "lower-ranked types" has more than one element. */
const metals: Catalog = toCatalog({
  id: "metals",
  label: "Metals",
  minSeats: 1,
  maxSeats: 100,
  seatTypes: [
    { type: "gold", label: "Gold" },
    { type: "silver", label: "Silver" },
    { type: "bronze", label: "Bronze" },
  ],
});

function rule(group: string, seatType: string | null, priority: number, role: Role | null = null): GroupMappingRule {
  return { group, seatType, role, priority };
}

function plan(
  catalog: Catalog,
  mappings: GroupMappingRule[],
  memberGroups: string[],
  policy: ExhaustedPolicy = "unassigned",
): SeatPlan {
  return planSeat({ catalog, mappings, memberGroups, policy });
}

const unassignedState: SeatState = { seatType: null, reason: "exhausted", waitingFor: "any" };
const holding = (seatType: string, reason = "highest_available"): SeatState => ({ seatType, reason, waitingFor: null });

describe("planSeat: no matching mapping -> highest available", () => {
  it.each([
    ["enterprise_usage", usage, ["chat_code", "chat"]],
    ["enterprise_seat", legacy, ["premium", "standard"]],
    ["enterprise", single, ["enterprise"]],
    ["metals (hand-built)", metals, ["gold", "silver", "bronze"]],
  ])("%s: all catalog types by rank, waiting for any", (_name, catalog, expected) => {
    for (const policy of ["unassigned", "next_available"] as const) {
      expect(plan(catalog, [], ["engineering"], policy)).toEqual({
        candidates: expected,
        mapping: null,
        waitingFor: "any",
        role: null,
      });
    }
  });

  it.each([
    ["no mappings at all", [], ["engineering"]],
    [
      "mappings, but member is in none of their groups",
      [rule("sales", "chat", 1, "admin")],
      ["engineering", "support"],
    ],
    ["mappings, member has no groups", [rule("sales", "chat", 1)], []],
    ["group name is a prefix, not a match", [rule("eng", "chat", 1)], ["engineering"]],
  ])("%s", (_name, mappings, groups) => {
    expect(plan(usage, mappings, groups)).toEqual({
      candidates: ["chat_code", "chat"],
      mapping: null,
      waitingFor: "any",
      role: null,
    });
  });
});

describe("planSeat: group mappings", () => {
  it.each<[string, GroupMappingRule[], string[], { candidates: string[]; mapping: string | null; waitingFor: string }]>(
    [
      [
        "one matching mapping gives the target type",
        [rule("devs", "chat_code", 1)],
        ["devs"],
        { candidates: ["chat_code"], mapping: "devs", waitingFor: "chat_code" },
      ],
      [
        "a mapping to the lower type targets it, not the highest",
        [rule("staff", "chat", 1)],
        ["staff"],
        { candidates: ["chat"], mapping: "staff", waitingFor: "chat" },
      ],
      [
        "two matching mappings: lower priority number wins",
        [rule("staff", "chat", 1), rule("devs", "chat_code", 2)],
        ["devs", "staff"],
        { candidates: ["chat"], mapping: "staff", waitingFor: "chat" },
      ],
      [
        "priority, not list order, decides",
        [rule("devs", "chat_code", 20), rule("staff", "chat", 10)],
        ["staff", "devs"],
        { candidates: ["chat"], mapping: "staff", waitingFor: "chat" },
      ],
      [
        "a higher-priority mapping the member is not in is ignored",
        [rule("staff", "chat", 1), rule("devs", "chat_code", 2)],
        ["devs"],
        { candidates: ["chat_code"], mapping: "devs", waitingFor: "chat_code" },
      ],
      [
        "equal priority: ties break by group name",
        [rule("zeta", "chat", 5), rule("alpha", "chat_code", 5)],
        ["zeta", "alpha"],
        { candidates: ["chat_code"], mapping: "alpha", waitingFor: "chat_code" },
      ],
      [
        "mapping to a type not in the catalog is skipped for the next one",
        [rule("legacy", "premium", 1), rule("staff", "chat", 2)],
        ["legacy", "staff"],
        { candidates: ["chat"], mapping: "staff", waitingFor: "chat" },
      ],
      [
        "only mapping names a type not in the catalog -> highest available",
        [rule("legacy", "premium", 1)],
        ["legacy"],
        { candidates: ["chat_code", "chat"], mapping: null, waitingFor: "any" },
      ],
      [
        "role-only mapping first does not block a seat mapping after it",
        [rule("admins", null, 1, "admin"), rule("staff", "chat", 2)],
        ["admins", "staff"],
        { candidates: ["chat"], mapping: "staff", waitingFor: "chat" },
      ],
      [
        "role-only mapping alone gives no seat type",
        [rule("admins", null, 1, "admin")],
        ["admins"],
        { candidates: ["chat_code", "chat"], mapping: null, waitingFor: "any" },
      ],
    ],
  )("%s", (_name, mappings, groups, expected) => {
    const result = plan(usage, mappings, groups);
    expect({ candidates: result.candidates, mapping: result.mapping, waitingFor: result.waitingFor }).toEqual(expected);
  });

  it.each<[string, GroupMappingRule[], string[], Role | null]>([
    ["no role on any mapping", [rule("devs", "chat_code", 1)], ["devs"], null],
    ["role-only mapping gives its role", [rule("admins", null, 1, "admin")], ["admins"], "admin"],
    [
      "highest role wins even from a lower-priority mapping",
      [rule("staff", "chat", 1, "member"), rule("leads", "chat_code", 9, "owner")],
      ["staff", "leads"],
      "owner",
    ],
    [
      "highest role among three matching mappings",
      [rule("a", null, 1, "admin"), rule("b", "chat", 2, "member"), rule("c", null, 3, "owner")],
      ["a", "b", "c"],
      "owner",
    ],
    [
      "a non-matching mapping's role does not count",
      [rule("staff", "chat", 1, "member"), rule("owners", null, 2, "owner")],
      ["staff"],
      "member",
    ],
    [
      "a mapping skipped for its unknown seat type still gives its role",
      [rule("legacy", "premium", 1, "admin"), rule("staff", "chat", 2, "member")],
      ["legacy", "staff"],
      "admin",
    ],
    [
      "mapping without a role next to one with a role",
      [rule("staff", "chat", 1), rule("admins", null, 2, "admin")],
      ["staff", "admins"],
      "admin",
    ],
  ])("role: %s", (_name, mappings, groups, expected) => {
    expect(plan(usage, mappings, groups).role).toBe(expected);
  });

  it.each([
    ["Engineering", ["engineering"]],
    ["engineering", ["ENGINEERING"]],
    ["ENGINEERING", ["EnGiNeErInG"]],
    ["Chat-Users", ["other", "chat-users"]],
  ])("matches group %s case-insensitively against %j", (group, memberGroups) => {
    const result = plan(usage, [rule(group, "chat", 1, "admin")], memberGroups);
    expect(result).toEqual({ candidates: ["chat"], mapping: group, waitingFor: "chat", role: "admin" });
  });

  it.each<[string, Catalog, string, ExhaustedPolicy, string[]]>([
    ["metals", metals, "gold", "next_available", ["gold", "silver", "bronze"]],
    ["metals", metals, "silver", "next_available", ["silver", "bronze"]],
    ["metals", metals, "bronze", "next_available", ["bronze"]],
    ["metals", metals, "gold", "unassigned", ["gold"]],
    ["metals", metals, "silver", "unassigned", ["silver"]],
    ["enterprise_usage", usage, "chat_code", "next_available", ["chat_code", "chat"]],
    ["enterprise_usage", usage, "chat", "next_available", ["chat"]],
    ["enterprise_usage", usage, "chat_code", "unassigned", ["chat_code"]],
    ["enterprise_seat", legacy, "premium", "next_available", ["premium", "standard"]],
    ["enterprise_seat", legacy, "premium", "unassigned", ["premium"]],
    ["enterprise", single, "enterprise", "next_available", ["enterprise"]],
  ])("%s: target %s with policy %s -> %j", (_name, catalog, target, policy, expected) => {
    const result = plan(catalog, [rule("g", target, 1)], ["g"], policy);
    expect(result.candidates).toEqual(expected);
    // Whatever the policy, the member waits for the mapped type.
    expect(result.waitingFor).toBe(target);
    expect(result.mapping).toBe("g");
  });

  it("does not reorder or mutate the caller's mappings", () => {
    const mappings = [rule("b", "chat", 2), rule("a", "chat_code", 1)];
    const copy = structuredClone(mappings);
    plan(usage, mappings, ["a", "b"]);
    expect(mappings).toEqual(copy);
    expect(sortMappings(mappings).map((m) => m.group)).toEqual(["a", "b"]);
    expect(mappings.map((m) => m.group)).toEqual(["b", "a"]);
  });

  it("matchingMappings returns the matches in priority order", () => {
    const mappings = [rule("c", null, 3), rule("A", "chat", 1), rule("b", "chat_code", 2), rule("x", "chat", 0)];
    expect(matchingMappings(mappings, ["B", "a", "C"]).map((m) => m.group)).toEqual(["A", "b", "c"]);
  });
});

describe("seatMoves: keep a seat the plan allows, only move up", () => {
  const highest: SeatPlan = { candidates: ["gold", "silver", "bronze"], mapping: null, waitingFor: "any", role: null };
  const mappedSilver: SeatPlan = { candidates: ["silver"], mapping: "g", waitingFor: "silver", role: null };
  const mappedSilverNext: SeatPlan = {
    candidates: ["silver", "bronze"],
    mapping: "g",
    waitingFor: "silver",
    role: null,
  };

  it.each<[string, SeatPlan, string | null, string[], boolean]>([
    ["no seat: try every candidate", highest, null, ["gold", "silver", "bronze"], false],
    ["holds the best candidate: nothing to try, keep it", highest, "gold", [], true],
    ["holds the second: try only the better one", highest, "silver", ["gold"], true],
    ["holds the lowest: try the two better ones", highest, "bronze", ["gold", "silver"], true],
    ["holds the mapped type: keep it", mappedSilver, "silver", [], true],
    ["holds a higher type the mapping no longer allows: give it back", mappedSilver, "gold", ["silver"], false],
    ["holds a lower type the mapping does not allow: give it back", mappedSilver, "bronze", ["silver"], false],
    ["next_available: holds the fallback, try the target", mappedSilverNext, "bronze", ["silver"], true],
    [
      "next_available: holds a type above the target: give it back",
      mappedSilverNext,
      "gold",
      ["silver", "bronze"],
      false,
    ],
    ["holds a type not in the catalog at all: give it back", highest, "platinum", ["gold", "silver", "bronze"], false],
  ])("%s", (_name, seatPlan, current, tryTypes, keepCurrent) => {
    expect(seatMoves(seatPlan, current)).toEqual({ tryTypes, keepCurrent });
  });
});

describe("decideSeat: the outcome given the free seats", () => {
  const mapped = (catalog: Catalog, target: string, policy: ExhaustedPolicy) =>
    plan(catalog, [rule("devs", target, 1)], ["devs"], policy);
  const highestUsage = plan(usage, [], []);

  it.each<[string, SeatPlan, SeatState, Record<string, number>, SeatState]>([
    // Highest available.
    [
      "highest available: top type free",
      highestUsage,
      unassignedState,
      { chat_code: 1, chat: 1 },
      holding("chat_code"),
    ],
    [
      "highest available: top type full, next free",
      highestUsage,
      unassignedState,
      { chat_code: 0, chat: 3 },
      holding("chat"),
    ],
    [
      "highest available: top type missing from free counts",
      highestUsage,
      unassignedState,
      { chat: 1 },
      holding("chat"),
    ],
    [
      "highest available: everything full -> exhausted, waiting for any",
      highestUsage,
      unassignedState,
      { chat_code: 0, chat: 0 },
      { seatType: null, reason: "exhausted", waitingFor: "any" },
    ],
    [
      "highest available: no free counts at all -> exhausted",
      highestUsage,
      unassignedState,
      {},
      { seatType: null, reason: "exhausted", waitingFor: "any" },
    ],
    [
      "negative free counts are not free",
      highestUsage,
      unassignedState,
      { chat_code: -1, chat: -5 },
      { seatType: null, reason: "exhausted", waitingFor: "any" },
    ],
    [
      "metals: gold and silver full, bronze free",
      plan(metals, [], []),
      unassignedState,
      { gold: 0, silver: 0, bronze: 2 },
      holding("bronze"),
    ],
    // Mapped type, default policy.
    [
      "mapped type free",
      mapped(usage, "chat", "unassigned"),
      unassignedState,
      { chat_code: 5, chat: 1 },
      holding("chat", "mapping:devs"),
    ],
    [
      "mapped type full, unassigned policy -> waiting:<type> even with other types free",
      mapped(usage, "chat_code", "unassigned"),
      unassignedState,
      { chat_code: 0, chat: 5 },
      { seatType: null, reason: "waiting:chat_code", waitingFor: "chat_code" },
    ],
    // Mapped type, next_available policy.
    [
      "next_available: mapped type full, lower type free",
      mapped(usage, "chat_code", "next_available"),
      unassignedState,
      { chat_code: 0, chat: 5 },
      holding("chat", "mapping:devs"),
    ],
    [
      "next_available: never takes a type above the target",
      mapped(metals, "silver", "next_available"),
      unassignedState,
      { gold: 9, silver: 0, bronze: 0 },
      { seatType: null, reason: "waiting:silver", waitingFor: "silver" },
    ],
    [
      "next_available: all full -> still waiting for the mapped type",
      mapped(usage, "chat_code", "next_available"),
      unassignedState,
      { chat_code: 0, chat: 0 },
      { seatType: null, reason: "waiting:chat_code", waitingFor: "chat_code" },
    ],
    // A member who holds a seat.
    ["holds the top type with nothing free: keeps it", highestUsage, holding("chat_code"), {}, holding("chat_code")],
    [
      "holds chat, chat_code frees: moves up",
      highestUsage,
      holding("chat"),
      { chat_code: 1, chat: 0 },
      holding("chat_code"),
    ],
    [
      "holds chat, chat_code full: keeps chat",
      highestUsage,
      holding("chat"),
      { chat_code: 0, chat: 4 },
      holding("chat"),
    ],
    [
      "promoted member keeps the promoted reason while keeping the seat",
      highestUsage,
      holding("chat", "promoted"),
      { chat_code: 0 },
      holding("chat", "promoted"),
    ],
    [
      "promoted member who moves up takes the plan's reason",
      highestUsage,
      holding("chat", "promoted"),
      { chat_code: 1 },
      holding("chat_code"),
    ],
    [
      "a kept seat that was not promoted takes the plan's reason",
      highestUsage,
      holding("chat", "manual"),
      {},
      holding("chat"),
    ],
    [
      "a kept mapped seat says which mapping",
      mapped(usage, "chat", "unassigned"),
      holding("chat"),
      {},
      holding("chat", "mapping:devs"),
    ],
    [
      "holds a higher type than mapped, mapped type free: moves down to it",
      mapped(usage, "chat", "unassigned"),
      holding("chat_code"),
      { chat: 1 },
      holding("chat", "mapping:devs"),
    ],
    [
      "holds a higher type than mapped, mapped type full: gives it back and waits",
      mapped(usage, "chat", "unassigned"),
      holding("chat_code"),
      { chat_code: 3, chat: 0 },
      { seatType: null, reason: "waiting:chat", waitingFor: "chat" },
    ],
    // Single-type catalog.
    ["enterprise: free seat", plan(single, [], []), unassignedState, { enterprise: 1 }, holding("enterprise")],
    [
      "enterprise: exhausted",
      plan(single, [], []),
      unassignedState,
      { enterprise: 0 },
      { seatType: null, reason: "exhausted", waitingFor: "any" },
    ],
    [
      "enterprise: mapped and free",
      mapped(single, "enterprise", "unassigned"),
      unassignedState,
      { enterprise: 2 },
      holding("enterprise", "mapping:devs"),
    ],
    [
      "enterprise: mapped and full",
      mapped(single, "enterprise", "unassigned"),
      unassignedState,
      { enterprise: 0 },
      { seatType: null, reason: "waiting:enterprise", waitingFor: "enterprise" },
    ],
    [
      "enterprise: holds the seat, none free, keeps it",
      plan(single, [], []),
      holding("enterprise"),
      { enterprise: 0 },
      holding("enterprise"),
    ],
    // Legacy catalog.
    [
      "enterprise_seat: premium full, standard free",
      plan(legacy, [], []),
      unassignedState,
      { premium: 0, standard: 1 },
      holding("standard"),
    ],
  ])("%s", (_name, seatPlan, current, free, expected) => {
    expect(decideSeat(seatPlan, current, free)).toEqual(expected);
  });

  it("does not change the free counts it is given", () => {
    const free = { chat_code: 1, chat: 1 };
    decideSeat(highestUsage, unassignedState, free);
    expect(free).toEqual({ chat_code: 1, chat: 1 });
  });
});

describe("canUseFreedSeat", () => {
  it.each<[string[], string, boolean]>([
    [["chat"], "chat", true],
    [["chat_code", "chat"], "chat", true], // waiting for any type, or next_available falling back to chat
    [["chat_code", "chat"], "chat_code", true],
    [["chat_code"], "chat", false], // mapped to chat_code under the unassigned policy
    [["chat"], "chat_code", false],
    [[], "chat", false], // not waiting
    [["Chat"], "chat", false],
  ])("waiting for any of %j, freed %s -> %s", (waitingTypes, seatType, expected) => {
    expect(canUseFreedSeat(waitingTypes, seatType)).toBe(expected);
  });

  it("accepts exactly the plan's candidates, whatever the policy", () => {
    const catalog = catalogs.get("enterprise_usage");
    const mappings = [{ group: "devs", seatType: "chat_code", role: null, priority: 1 }];
    const nextAvailable = planSeat({ catalog, mappings, memberGroups: ["devs"], policy: "next_available" });
    const strict = planSeat({ catalog, mappings, memberGroups: ["devs"], policy: "unassigned" });
    expect(canUseFreedSeat(nextAvailable.candidates, "chat")).toBe(true);
    expect(canUseFreedSeat(strict.candidates, "chat")).toBe(false);
  });
});

describe("purchaseRequired", () => {
  it.each([
    [5, 5, 1],
    [0, 0, 1],
    [20, 20, 1],
    [5, 7, 3],
    [0, 4, 5],
    [10, 3, 1],
  ])("purchased %i, used %i -> buy %i", (purchased, used, expected) => {
    expect(purchaseRequired(purchased, used)).toBe(expected);
  });
});

describe("reasons", () => {
  it.each<[SeatPlan, string]>([
    [{ candidates: ["chat_code", "chat"], mapping: null, waitingFor: "any", role: null }, "highest_available"],
    [{ candidates: ["chat"], mapping: "devs", waitingFor: "chat", role: null }, "mapping:devs"],
    [
      { candidates: ["chat"], mapping: "Okta Chat Users", waitingFor: "chat", role: "admin" },
      "mapping:Okta Chat Users",
    ],
  ])("reasonFor(%j) = %s", (seatPlan, expected) => {
    expect(reasonFor(seatPlan)).toBe(expected);
  });

  it.each([
    ["any", "exhausted"],
    ["chat_code", "waiting:chat_code"],
    ["chat", "waiting:chat"],
    ["enterprise", "waiting:enterprise"],
  ])("waitingReason(%s) = %s", (waitingFor, expected) => {
    expect(waitingReason(waitingFor)).toBe(expected);
  });

  it("every reason planSeat+decideSeat can produce is one of the documented forms", () => {
    const documented = /^(mapping:.+|highest_available|manual|exhausted|waiting:[a-z][a-z0-9_]*|promoted)$/;
    for (const mappings of [[], [rule("devs", "chat_code", 1)], [rule("devs", "chat", 1)]]) {
      for (const policy of ["unassigned", "next_available"] as const) {
        for (const free of [{}, { chat: 1 }, { chat_code: 1 }, { chat_code: 1, chat: 1 }] as Record<string, number>[]) {
          const result = decideSeat(plan(usage, mappings, ["devs"], policy), unassignedState, free);
          expect(result.reason).toMatch(documented);
        }
      }
    }
  });
});
