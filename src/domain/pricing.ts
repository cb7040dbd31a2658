// Seat prices and proration (DOMAIN §4): tiered prices with Stripe's meaning, and the mid-term charge for
// added seats, in exact integer arithmetic. Money is integer minor units; BigInt carries every product and
// the proration is one rational rounded once, half away from zero. Pure: no clock, no database.
import { z } from "zod";

export const TIERING_MODELS = ["fixed", "graduated", "volume"] as const;
export type TieringModel = (typeof TIERING_MODELS)[number];

const money = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const tierSchema = z
  .object({
    /** Inclusive upper bound of the tier, in seats; null for the open last tier. */
    upTo: z.number().int().positive().nullable(),
    /** Per seat per term, minor units. */
    unitAmount: money,
    /** Once per tier (graduated: each tier reached; volume: the matched tier). */
    flatAmount: money.optional(),
  })
  .strict();
export type Tier = z.infer<typeof tierSchema>;

const currency = z.string().regex(/^[a-z]{3}$/, "currency is a lower-case ISO 4217 code, e.g. usd");

export const seatPriceSchema = z
  .object({ currency, model: z.enum(TIERING_MODELS), tiers: z.array(tierSchema).min(1).max(50) })
  .strict()
  .superRefine((price, ctx) => {
    const { tiers } = price;
    tiers.forEach((tier, i) => {
      const last = i === tiers.length - 1;
      if (last && tier.upTo !== null)
        ctx.addIssue({
          code: "custom",
          path: ["tiers", i, "upTo"],
          message: "the last tier must be open (upTo: null)",
        });
      if (!last && tier.upTo === null)
        ctx.addIssue({ code: "custom", path: ["tiers", i, "upTo"], message: "only the last tier may be open" });
      const previous = i > 0 ? tiers[i - 1].upTo : 0;
      if (tier.upTo !== null && previous !== null && tier.upTo <= previous)
        ctx.addIssue({
          code: "custom",
          path: ["tiers", i, "upTo"],
          message: "tiers must be in ascending order of upTo",
        });
    });
    if (price.model === "fixed" && tiers.length !== 1)
      ctx.addIssue({ code: "custom", path: ["tiers"], message: "a fixed price is one open tier" });
  });
export type SeatPrice = z.infer<typeof seatPriceSchema>;

/** Prices per seat type; every type of the plan, one currency. */
export type Pricing = Record<string, SeatPrice>;

/** Total for `quantity` seats for one whole term, in minor units. Zero seats cost nothing (no flat fee). */
export function termPriceExact(model: TieringModel, tiers: readonly Tier[], quantity: number): bigint {
  if (!Number.isSafeInteger(quantity) || quantity < 0) throw new RangeError(`quantity must be a whole number ≥ 0`);
  if (quantity === 0) return 0n;
  const q = BigInt(quantity);
  if (model === "graduated") {
    let total = 0n;
    let lower = 0n;
    for (const tier of tiers) {
      if (q <= lower) break;
      const upper = tier.upTo === null ? q : BigInt(tier.upTo) < q ? BigInt(tier.upTo) : q;
      total += (upper - lower) * BigInt(tier.unitAmount) + BigInt(tier.flatAmount ?? 0);
      if (tier.upTo === null) break;
      lower = BigInt(tier.upTo);
    }
    return total;
  }
  // fixed (one open tier) and volume: the tier the quantity falls in prices every seat.
  const tier = tiers.find((t) => t.upTo === null || q <= BigInt(t.upTo)) ?? tiers[tiers.length - 1];
  return q * BigInt(tier.unitAmount) + BigInt(tier.flatAmount ?? 0);
}

function toSafeNumber(value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER))
    throw new RangeError(`${what} is too large to represent`);
  return Number(value);
}

export function termPrice(model: TieringModel, tiers: readonly Tier[], quantity: number): number {
  return toSafeNumber(termPriceExact(model, tiers, quantity), "the term price");
}

/** n / d rounded to an integer, halves away from zero (1.5 → 2, −1.5 → −2). d must be positive. */
export function divideRoundHalfAwayFromZero(n: bigint, d: bigint): bigint {
  if (d <= 0n) throw new RangeError("the denominator must be positive");
  const magnitude = n < 0n ? -n : n;
  const rounded = (2n * magnitude + d) / (2n * d);
  return n < 0n ? -rounded : rounded;
}

export const ROUNDING = "half_away_from_zero" as const;

/** Whole seconds since the epoch: proration counts seconds, so milliseconds are dropped (floor). */
export function epochSeconds(at: Date): number {
  return Math.floor(at.getTime() / 1000);
}

export interface Proration {
  /** Seconds left in the term at `at`. */
  numerator: number;
  /** Seconds in the term. */
  denominator: number;
}

/** The share of the term left at `at`, in seconds. `at` must lie in [start, end). */
export function prorationFraction(term: { start: Date; end: Date }, at: Date): Proration {
  const start = epochSeconds(term.start);
  const end = epochSeconds(term.end);
  const now = epochSeconds(at);
  if (end <= start) throw new RangeError("the term must end after it starts");
  if (now < start || now >= end) throw new RangeError("the time is outside the term");
  return { numerator: end - now, denominator: end - start };
}

export interface QuoteLine {
  seatType: string;
  from: number;
  to: number;
  model: TieringModel;
  termPriceBefore: number;
  termPriceAfter: number;
  prorationNumerator: number;
  prorationDenominator: number;
  /** Rounded once, half away from zero; negative is a credit. */
  amount: number;
}

/**
 * One line of a mid-term change: (termPrice(to) − termPrice(from)) × secondsLeft / termSeconds, rounded once.
 * With volume pricing more seats can cost less: the amount is then negative, a credit.
 */
export function prorateLine(
  seatType: string,
  price: Pick<SeatPrice, "model" | "tiers">,
  from: number,
  to: number,
  proration: Proration,
): QuoteLine {
  const before = termPriceExact(price.model, price.tiers, from);
  const after = termPriceExact(price.model, price.tiers, to);
  const amount = divideRoundHalfAwayFromZero(
    (after - before) * BigInt(proration.numerator),
    BigInt(proration.denominator),
  );
  return {
    seatType,
    from,
    to,
    model: price.model,
    termPriceBefore: toSafeNumber(before, "the term price"),
    termPriceAfter: toSafeNumber(after, "the term price"),
    prorationNumerator: proration.numerator,
    prorationDenominator: proration.denominator,
    amount: toSafeNumber(amount, "the amount"),
  };
}

/**
 * The next term after a renewal at `at`: as long as the last one. A term that was a whole number of calendar
 * months (the usual year) stays one, so a yearly term renewed on its anniversary ends on the next one,
 * whatever leap days lie between; any other term keeps its length in seconds.
 */
export function nextTerm(term: { start: Date; end: Date }, at: Date): { start: Date; end: Date } {
  const months = wholeMonthsBetween(term.start, term.end);
  if (months !== null) {
    const end = addMonths(at, months);
    if (end.getUTCDate() === at.getUTCDate()) return { start: at, end };
  }
  return { start: at, end: new Date(at.getTime() + (term.end.getTime() - term.start.getTime())) };
}

function addMonths(at: Date, months: number): Date {
  const d = new Date(at);
  d.setUTCMonth(d.getUTCMonth() + months);
  return d;
}

function wholeMonthsBetween(start: Date, end: Date): number | null {
  const months = (end.getUTCFullYear() - start.getUTCFullYear()) * 12 + (end.getUTCMonth() - start.getUTCMonth());
  return months > 0 && addMonths(start, months).getTime() === end.getTime() ? months : null;
}

/** A plan's price book, mappings/price-books/<plan>.json. */
export const priceBookSchema = z
  .object({
    plan: z.string().regex(/^[a-z][a-z0-9_]{0,39}$/),
    prices: z.record(z.string(), seatPriceSchema),
  })
  .strict();
export type PriceBook = z.infer<typeof priceBookSchema>;

/**
 * What is wrong with `pricing` as the prices of a plan with `seatTypes`: every type priced, no other type,
 * one currency. Empty when it is usable.
 */
export function pricingProblems(pricing: Pricing, seatTypes: readonly string[]): string[] {
  const problems: string[] = [];
  const missing = seatTypes.filter((t) => !pricing[t]);
  if (missing.length) problems.push(`no price for seat type ${missing.join(", ")}`);
  const unknown = Object.keys(pricing).filter((t) => !seatTypes.includes(t));
  if (unknown.length) problems.push(`the plan has no seat type ${unknown.join(", ")}`);
  const currencies = [...new Set(Object.values(pricing).map((p) => p.currency))];
  if (currencies.length > 1) problems.push(`one currency per price book; found ${currencies.join(", ")}`);
  return problems;
}

/** The currency of a checked pricing (one per book). */
export function pricingCurrency(pricing: Pricing): string {
  return Object.values(pricing)[0].currency;
}
