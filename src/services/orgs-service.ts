// Creating tenants: the org, its seat allocation, the primary owner, a SCIM token and the owner's credentials.
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { DomainError } from "../domain/errors.js";
import { type Pricing, pricingProblems, seatPriceSchema } from "../domain/pricing.js";
import { countHolds, insertAllocations, listAllocations } from "../repositories/allocations-repository.js";
import { appendAudit } from "../repositories/audit-repository.js";
import { countMembersBySeat, insertMember } from "../repositories/members-repository.js";
import { DEFAULT_SETTINGS, insertOrg, type Org } from "../repositories/orgs-repository.js";
import { orgSettingsFields } from "./settings-service.js";
import { type Actor, loadOrg, type ServiceDeps } from "./context.js";
import { issueToken } from "./tokens-service.js";
import { withTransaction } from "../db/transaction.js";

export const termInput = z
  .object({ start: z.iso.datetime({ offset: true }), end: z.iso.datetime({ offset: true }) })
  .strict()
  .refine((t) => Date.parse(t.end) > Date.parse(t.start), {
    message: "the term must end after it starts",
    path: ["end"],
  });

/** The org's prices: its override merged over the plan's price book, checked as one book. */
export function effectivePricing(deps: ServiceDeps, plan: string, override: Pricing | null | undefined): Pricing {
  const catalog = deps.catalogs.get(plan);
  const pricing = { ...deps.priceBooks.get(plan), ...override };
  const problems = pricingProblems(
    pricing,
    catalog.seatTypes.map((s) => s.type),
  );
  if (problems.length) throw new DomainError("invalid_request", `pricing: ${problems.join("; ")}`);
  return pricing;
}

export const createOrgInput = z
  .object({
    name: z.string().trim().min(1).max(200),
    plan: z.string().min(1),
    seats: z.record(z.string(), z.number().int().min(0)),
    ownerEmail: z.email().optional(),
    mappedTypeExhausted: z.enum(["unassigned", "next_available"]).optional(),
    settings: orgSettingsFields.optional(),
    /** The first term; default: from now for a year. */
    term: termInput.optional(),
    /** Negotiated prices for some or all seat types; the others keep the plan's price book. */
    pricing: z.record(z.string(), seatPriceSchema).optional(),
  })
  .strict();
export type CreateOrgInput = z.infer<typeof createOrgInput>;

export interface CreatedOrg {
  org: Org;
  ownerId: string;
  scimToken: string;
  ownerToken: string;
  ownerSignInToken: string;
}

function slug(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-|-$/g, "") || "org"
  );
}

export async function createOrg(deps: ServiceDeps, input: CreateOrgInput, actor: Actor): Promise<CreatedOrg> {
  const catalog = deps.catalogs.get(input.plan);
  const unknown = Object.keys(input.seats).filter((t) => !catalog.seatTypes.some((s) => s.type === t));
  if (unknown.length)
    throw new DomainError(
      "invalid_request",
      `plan ${catalog.id} has no seat type ${unknown.join(", ")}; it has ${catalog.seatTypes.map((s) => s.type).join(", ")}`,
    );
  const total = Object.values(input.seats).reduce((a, b) => a + b, 0);
  if (total < catalog.minSeats)
    throw new DomainError(
      "invalid_request",
      `plan ${catalog.id} needs at least ${catalog.minSeats} seats in total; got ${total}`,
    );
  if (total > catalog.maxSeats)
    throw new DomainError(
      "invalid_request",
      `plan ${catalog.id} allows at most ${catalog.maxSeats} seats; got ${total}`,
    );
  const seats = Object.fromEntries(catalog.seatTypes.map((s) => [s.type, input.seats[s.type] ?? 0]));
  if (input.pricing) effectivePricing(deps, catalog.id, input.pricing);
  const now = deps.now();
  const termStart = input.term ? new Date(input.term.start) : now;
  let termEnd: Date;
  if (input.term) termEnd = new Date(input.term.end);
  else {
    termEnd = new Date(now);
    termEnd.setUTCFullYear(termEnd.getUTCFullYear() + 1);
  }

  return withTransaction(deps.db, async (trx) => {
    const org = await insertOrg(trx, {
      id: randomUUID(),
      name: input.name,
      plan: catalog.id,
      settings: {
        ...DEFAULT_SETTINGS,
        ...(input.mappedTypeExhausted ? { mappedTypeExhausted: input.mappedTypeExhausted } : {}),
        ...input.settings,
      },
      termStart,
      termEnd,
      pricing: input.pricing ?? null,
    });
    await insertAllocations(trx, org.id, seats);
    await appendAudit(trx, org.id, {
      actor: actor.actor,
      action: "org.created",
      after: {
        name: org.name,
        plan: org.plan,
        seats,
        term: { start: termStart.toISOString(), end: termEnd.toISOString() },
        ...(input.pricing ? { pricing: input.pricing } : {}),
      },
      requestId: actor.requestId,
    });
    const ownerEmail = input.ownerEmail ?? `owner@${slug(input.name)}.example.com`;
    // Buying seats gives the buyer no seat: the owner starts Unassigned by choice, not waiting.
    const owner = await insertMember(trx, org.id, {
      id: randomUUID(),
      userName: ownerEmail,
      email: ownerEmail,
      displayName: "Primary owner",
      role: "primary_owner",
      seatSource: "manual",
      seatReason: "manual",
      source: "operator",
    });
    await appendAudit(trx, org.id, {
      actor: actor.actor,
      action: "member.created",
      memberId: owner.id,
      after: { userName: owner.userName, role: owner.role, seatType: null },
      reason: "primary owner",
    });
    const scim = await issueToken(deps, trx, org.id, "scim", { name: "initial" }, actor);
    const admin = await issueToken(deps, trx, org.id, "admin", { memberId: owner.id, name: "owner" }, actor);
    const signIn = await issueToken(deps, trx, org.id, "sign_in", { memberId: owner.id }, actor);
    return { org, ownerId: owner.id, scimToken: scim.token, ownerToken: admin.token, ownerSignInToken: signIn.token };
  });
}

export interface SeatOverview {
  plan: string;
  term: { start: Date; end: Date };
  seatTypes: {
    type: string;
    label: string;
    rank: number;
    purchased: number;
    /** Seats members hold (claimed or pending). */
    used: number;
    /** Free for anyone: purchased − used − held. */
    available: number;
    waiting: number;
    /** Seats an admin freed by hand, held for admins (DOMAIN §3.4). */
    held: number;
  }[];
  unassigned: number;
  waitingForAny: number;
}

export async function seatOverview(deps: ServiceDeps, orgId: string): Promise<SeatOverview> {
  const org = await loadOrg(deps, deps.db, orgId);
  const catalog = deps.catalogs.get(org.plan);
  const [allocations, counts, holds] = await Promise.all([
    listAllocations(deps.db, orgId),
    countMembersBySeat(deps.db, orgId),
    countHolds(deps.db, orgId),
  ]);
  const waitingFor = (type: string) => counts.filter((c) => c.waitingFor === type).reduce((a, c) => a + c.count, 0);
  return {
    plan: org.plan,
    term: { start: org.termStart, end: org.termEnd },
    seatTypes: catalog.seatTypes.map((s) => {
      const a = allocations.find((x) => x.seatType === s.type) ?? { purchased: 0, used: 0 };
      // The pool's counter covers held seats too, so no automatic claim can take them.
      const held = holds[s.type] ?? 0;
      return {
        type: s.type,
        label: s.label,
        rank: s.rank,
        purchased: a.purchased,
        used: a.used - held,
        available: a.purchased - a.used,
        waiting: waitingFor(s.type),
        held,
      };
    }),
    unassigned: counts.filter((c) => c.seatType === null).reduce((a, c) => a + c.count, 0),
    waitingForAny: waitingFor("any"),
  };
}
