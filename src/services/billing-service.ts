// Buying seats (DOMAIN §4): quotes (which change nothing), purchases (the allocation change, the charge, the
// promotions of waiting members, the audit and outbox events, all in one transaction, idempotent under the
// client's key), reductions scheduled for renewal, the billing overview, and renewal itself.
import { createHash, randomUUID } from "node:crypto";
import type { Knex } from "knex";
import { z } from "zod";
import { withTransaction } from "../db/transaction.js";
import type { Catalog } from "../domain/catalog.js";
import { DomainError } from "../domain/errors.js";
import {
  nextTerm,
  type Pricing,
  pricingCurrency,
  prorateLine,
  prorationFraction,
  type QuoteLine,
  ROUNDING,
} from "../domain/pricing.js";
import {
  addPurchased,
  type Allocation,
  findAllocation,
  listAllocations,
  reducePurchased,
} from "../repositories/allocations-repository.js";
import { appendAuditWithEvent } from "../repositories/audit-repository.js";
import {
  type Charge,
  deleteReduction,
  deleteReductions,
  findChargeByIdempotencyKey,
  insertCharge,
  listCharges,
  listReductions,
  type ScheduledReduction,
  upsertReduction,
} from "../repositories/billing-repository.js";
import { findOrg, type Org, updateOrgTerm } from "../repositories/orgs-repository.js";
import { type Actor, changeContext, loadOrg, type ServiceDeps } from "./context.js";
import { effectivePricing } from "./orgs-service.js";
import { fillNewSeats } from "./seat-allocator.js";

const isoTime = z.iso.datetime({ offset: true });
const seatCounts = z
  .record(z.string().max(40), z.number().int().min(-1_000_000).max(1_000_000))
  .refine((add) => Object.keys(add).length > 0, 'name at least one seat type, e.g. {"chat_code": 5}');

export const quoteInput = z.object({ add: seatCounts, at: isoTime.optional() }).strict();
export type QuoteInput = z.infer<typeof quoteInput>;
export const purchaseInput = z.object({ add: seatCounts }).strict();
export type PurchaseInput = z.infer<typeof purchaseInput>;
export const reductionInput = z.object({ seatType: z.string().min(1).max(40), to: z.number().int().min(0) }).strict();
export type ReductionInput = z.infer<typeof reductionInput>;
export const renewInput = z.object({ at: isoTime.optional() }).strict();
export type RenewInput = z.infer<typeof renewInput>;
/** Printable ASCII, as the IETF Idempotency-Key draft and Stripe accept. */
export const idempotencyKey = z
  .string()
  .regex(/^[\x21-\x7e]{1,255}$/, "Idempotency-Key must be 1 to 255 printable ASCII characters");

export interface Quote {
  currency: string;
  at: Date;
  term: { start: Date; end: Date };
  rounding: typeof ROUNDING;
  lines: QuoteLine[];
  total: number;
}

/**
 * The price of adding seats at `at`: one line per seat type, in catalog rank order, each prorated and rounded
 * once; the total is the sum of the lines (what is charged). Refuses reductions, unknown types, a time
 * outside the term and a total outside the plan's minimum and maximum.
 */
function priceAddition(
  org: Org,
  catalog: Catalog,
  pricing: Pricing,
  allocations: Allocation[],
  add: Record<string, number>,
  at: Date,
): Quote {
  const unknown = Object.keys(add).filter((t) => !catalog.seatTypes.some((s) => s.type === t));
  if (unknown.length)
    throw new DomainError(
      "invalid_request",
      `plan ${catalog.id} has no seat type ${unknown.join(", ")}; it has ${catalog.seatTypes.map((s) => s.type).join(", ")}`,
    );
  const renewsAt = org.termEnd.toISOString();
  const lowered = Object.entries(add).filter(([, n]) => n < 0);
  if (lowered.length)
    throw new DomainError(
      "reduction_during_term",
      `seats cannot be removed during the term (${lowered.map(([t]) => t).join(", ")}); schedule a reduction ` +
        `for the renewal on ${renewsAt} with POST seats/reductions`,
      { renewsAt },
    );
  if (Object.values(add).every((n) => n === 0))
    throw new DomainError("invalid_request", "nothing to add: every count is 0");
  if (at < org.termStart || at >= org.termEnd)
    throw new DomainError(
      "outside_term",
      `${at.toISOString()} is outside the current term (${org.termStart.toISOString()} to ${renewsAt}); ` +
        "quote a time within it, or have the operator renew the term",
      { term: { start: org.termStart, end: org.termEnd } },
    );
  const purchased = (type: string) => allocations.find((a) => a.seatType === type)?.purchased ?? 0;
  const totalAfter = catalog.seatTypes.reduce((sum, s) => sum + purchased(s.type) + (add[s.type] ?? 0), 0);
  if (totalAfter < catalog.minSeats || totalAfter > catalog.maxSeats)
    throw new DomainError(
      "seat_limit",
      totalAfter < catalog.minSeats
        ? `plan ${catalog.id} needs at least ${catalog.minSeats} seats in total; this would make ${totalAfter}`
        : `plan ${catalog.id} allows at most ${catalog.maxSeats} seats in total; this would make ${totalAfter}`,
      { minSeats: catalog.minSeats, maxSeats: catalog.maxSeats, total: totalAfter },
    );
  const proration = prorationFraction({ start: org.termStart, end: org.termEnd }, at);
  const lines = catalog.seatTypes
    .filter((s) => (add[s.type] ?? 0) > 0)
    .map((s) => prorateLine(s.type, pricing[s.type], purchased(s.type), purchased(s.type) + add[s.type], proration));
  return {
    currency: pricingCurrency(pricing),
    at,
    term: { start: org.termStart, end: org.termEnd },
    rounding: ROUNDING,
    lines,
    total: lines.reduce((sum, l) => sum + l.amount, 0),
  };
}

export async function quoteSeats(deps: ServiceDeps, orgId: string, input: QuoteInput): Promise<Quote> {
  const org = await loadOrg(deps, deps.db, orgId);
  const catalog = deps.catalogs.get(org.plan);
  const allocations = await listAllocations(deps.db, orgId);
  const at = input.at ? new Date(input.at) : deps.now();
  return priceAddition(org, catalog, effectivePricing(deps, org.plan, org.pricing), allocations, input.add, at);
}

export interface Purchase {
  charge: Charge;
  /** True when this was a retry of an earlier purchase under the same Idempotency-Key: nothing charged. */
  replayed: boolean;
  promoted: number;
}

/** The request, independent of key order, to tell a retry from a different request under the same key. */
function requestHash(input: PurchaseInput): string {
  const add = Object.entries(input.add)
    .filter(([, n]) => n !== 0)
    .sort(([a], [b]) => (a < b ? -1 : 1));
  return createHash("sha256").update(JSON.stringify(add)).digest("hex");
}

/**
 * Buys seats now: adds them to the pool, records the charge, promotes the longest waiters into them, and
 * writes the audit and outbox events, in one transaction. The org row is locked first (FOR NO KEY UPDATE:
 * SCIM and sign-in traffic, whose inserts only key-share it, goes on meanwhile), so concurrent
 * purchases apply one after the other (both count) and a retry under the same key finds the first charge.
 */
export async function purchaseSeats(
  deps: ServiceDeps,
  orgId: string,
  input: PurchaseInput,
  key: string | null,
  actor: Actor,
): Promise<Purchase> {
  const hash = requestHash(input);
  return withTransaction(deps.db, async (trx) => {
    const org = await findOrg(trx, orgId, { forNoKeyUpdate: true });
    if (!org) throw new DomainError("not_found", "organization not found");
    if (key) {
      const earlier = await findChargeByIdempotencyKey(trx, orgId, key);
      if (earlier) {
        if (earlier.requestHash !== hash)
          throw new DomainError(
            "idempotency_key_reused",
            "this Idempotency-Key was used for a different purchase; use a new key for a new purchase",
            { chargeId: earlier.id },
          );
        return { charge: earlier, replayed: true, promoted: 0 };
      }
    }
    const catalog = deps.catalogs.get(org.plan);
    const allocations = await listAllocations(trx, orgId);
    const quote = priceAddition(
      org,
      catalog,
      effectivePricing(deps, org.plan, org.pricing),
      allocations,
      input.add,
      deps.now(),
    );
    const charge: Charge = {
      id: randomUUID(),
      at: quote.at,
      lines: quote.lines,
      total: quote.total,
      currency: quote.currency,
      idempotencyKey: key,
      requestHash: hash,
      createdBy: actor.actor,
      term: quote.term,
    };
    // Pool rows in rank order, as the allocator locks them.
    for (const line of quote.lines) await addPurchased(trx, orgId, line.seatType, line.to - line.from);
    await insertCharge(trx, orgId, charge);
    const seats = (pick: "from" | "to") => Object.fromEntries(quote.lines.map((l) => [l.seatType, l[pick]]));
    await appendAuditWithEvent(
      trx,
      orgId,
      {
        actor: actor.actor,
        action: "seats.purchased",
        before: { purchased: seats("from") },
        after: { purchased: seats("to"), chargeId: charge.id, total: charge.total, currency: charge.currency },
        reason: key ? `Idempotency-Key ${key}` : null,
        requestId: actor.requestId,
      },
      {
        topic: "seats.purchased",
        payload: {
          orgId,
          chargeId: charge.id,
          lines: charge.lines,
          total: charge.total,
          currency: charge.currency,
          rounding: ROUNDING,
          effective: charge.at,
        },
      },
    );
    // New seats go to waiting members at once, best type first, through the allocator's promotion.
    const ctx = changeContext(deps, org, actor);
    let promoted = 0;
    for (const line of quote.lines) promoted += await fillNewSeats(trx, ctx, line.seatType, line.to - line.from);
    return { charge, replayed: false, promoted };
  });
}

export interface ReductionResult {
  seatType: string;
  /** Purchased now. */
  from: number;
  /** Purchased after the renewal (no lower than what is in use then). */
  to: number;
  effectiveAt: Date;
  /** False when `to` equals what is purchased: any scheduled reduction of the type is cancelled. */
  scheduled: boolean;
}

/** Schedules a type's pool to shrink to `to` at the end of the term; a later one replaces it. */
export async function scheduleReduction(
  deps: ServiceDeps,
  orgId: string,
  input: ReductionInput,
  actor: Actor,
): Promise<ReductionResult> {
  return withTransaction(deps.db, async (trx) => {
    const org = await findOrg(trx, orgId, { forNoKeyUpdate: true });
    if (!org) throw new DomainError("not_found", "organization not found");
    const catalog = deps.catalogs.get(org.plan);
    if (!catalog.seatTypes.some((s) => s.type === input.seatType))
      throw new DomainError(
        "invalid_request",
        `plan ${catalog.id} has no seat type ${input.seatType}; it has ${catalog.seatTypes.map((s) => s.type).join(", ")}`,
      );
    const allocation = (await findAllocation(trx, orgId, input.seatType)) ?? {
      seatType: input.seatType,
      purchased: 0,
      used: 0,
    };
    if (input.to > allocation.purchased)
      throw new DomainError(
        "invalid_request",
        `${input.to} is more than the ${allocation.purchased} ${input.seatType} seats bought; buy seats with POST seats/purchase`,
      );
    const planned = new Map((await listReductions(trx, orgId)).map((r) => [r.seatType, r.to]));
    planned.set(input.seatType, input.to);
    const allocations = await listAllocations(trx, orgId);
    const totalAfter = catalog.seatTypes.reduce(
      (sum, s) => sum + (planned.get(s.type) ?? allocations.find((a) => a.seatType === s.type)?.purchased ?? 0),
      0,
    );
    if (totalAfter < catalog.minSeats)
      throw new DomainError(
        "seat_limit",
        `plan ${catalog.id} needs at least ${catalog.minSeats} seats in total; after the renewal there would be ${totalAfter}`,
        { minSeats: catalog.minSeats, maxSeats: catalog.maxSeats, total: totalAfter },
      );
    const cancel = input.to === allocation.purchased;
    if (cancel) await deleteReduction(trx, orgId, input.seatType);
    else
      await upsertReduction(trx, orgId, {
        seatType: input.seatType,
        to: input.to,
        effectiveAt: org.termEnd,
        createdBy: actor.actor,
      });
    const after = { seatType: input.seatType, from: allocation.purchased, to: input.to, effectiveAt: org.termEnd };
    await appendAuditWithEvent(
      trx,
      orgId,
      {
        actor: actor.actor,
        action: cancel ? "seats.reduction_cancelled" : "seats.reduction_scheduled",
        before: { purchased: allocation.purchased, inUse: allocation.used },
        after,
        requestId: actor.requestId,
      },
      { topic: cancel ? "seats.reduction_cancelled" : "seats.reduction_scheduled", payload: { orgId, ...after } },
    );
    return { ...after, scheduled: !cancel };
  });
}

export interface BillingOverview {
  term: { start: Date; end: Date };
  currency: string;
  pricing: Pricing;
  /** The newest 100 first. */
  charges: Charge[];
  scheduledReductions: ScheduledReduction[];
}

export async function billingOverview(deps: ServiceDeps, orgId: string): Promise<BillingOverview> {
  const org = await loadOrg(deps, deps.db, orgId);
  const pricing = effectivePricing(deps, org.plan, org.pricing);
  const [charges, scheduledReductions] = await Promise.all([
    listCharges(deps.db, orgId, 100),
    listReductions(deps.db, orgId),
  ]);
  return {
    term: { start: org.termStart, end: org.termEnd },
    currency: pricingCurrency(pricing),
    pricing,
    charges,
    scheduledReductions,
  };
}

export interface Renewal {
  previousTerm: { start: Date; end: Date };
  term: { start: Date; end: Date };
  reductions: { seatType: string; from: number; requested: number; to: number; inUse: number }[];
}

/**
 * Starts the next term at `at` (default now; not in the future), as long as the last, and applies the scheduled reductions,
 * each never below the seats in use then (claimed, pending and held). Nothing else changes.
 */
export async function renewTerm(deps: ServiceDeps, orgId: string, input: RenewInput, actor: Actor): Promise<Renewal> {
  return withTransaction(deps.db, async (trx: Knex.Transaction) => {
    const org = await findOrg(trx, orgId, { forNoKeyUpdate: true });
    if (!org) throw new DomainError("not_found", "organization not found");
    const now = deps.now();
    const at = input.at ? new Date(input.at) : now;
    // A renewal takes effect when it is made: `at` may date it back (to the end of a term that ran out) but
    // not ahead, which would leave the org between terms, unable to buy.
    if (at > now)
      throw new DomainError(
        "outside_term",
        `a renewal cannot start in the future (${at.toISOString()}); renew when the term ends`,
        { term: { start: org.termStart, end: org.termEnd } },
      );
    if (at <= org.termStart)
      throw new DomainError(
        "outside_term",
        `a renewal must start after the current term's start (${org.termStart.toISOString()})`,
        { term: { start: org.termStart, end: org.termEnd } },
      );
    const previousTerm = { start: org.termStart, end: org.termEnd };
    const term = nextTerm(previousTerm, at);
    await updateOrgTerm(trx, orgId, term);
    const catalog = deps.catalogs.get(org.plan);
    const scheduled = new Map((await listReductions(trx, orgId)).map((r) => [r.seatType, r.to]));
    const reductions: Renewal["reductions"] = [];
    // Pool rows in rank order, as the allocator locks them.
    for (const s of catalog.seatTypes) {
      const requested = scheduled.get(s.type);
      if (requested === undefined) continue;
      const applied = await reducePurchased(trx, orgId, s.type, requested);
      if (applied)
        reductions.push({ seatType: s.type, from: applied.before, requested, to: applied.after, inUse: applied.used });
    }
    await deleteReductions(trx, orgId);
    const after = { term, reductions };
    await appendAuditWithEvent(
      trx,
      orgId,
      {
        actor: actor.actor,
        action: "seats.renewed",
        before: { term: previousTerm },
        after,
        requestId: actor.requestId,
      },
      { topic: "seats.renewed", payload: { orgId, previousTerm, ...after } },
    );
    return { previousTerm, term, reductions };
  });
}
