// DOMAIN §4: tiered term prices and pro-rata charges in exact integer arithmetic, rounded once, half away
// from zero. The worked examples are those of DOMAIN §4 and research/console-billing.md §4.3.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  divideRoundHalfAwayFromZero,
  nextTerm,
  prorateLine,
  prorationFraction,
  type Tier,
  termPrice,
  type TieringModel,
} from "../../src/domain/pricing.js";

/** Tiers A: 1–10 at 1000, 11+ at 800. */
const A: Tier[] = [
  { upTo: 10, unitAmount: 1000 },
  { upTo: null, unitAmount: 800 },
];
/** Tiers F: A with Stripe flat fees, 5000 on the first tier and 3000 on the second. */
const F: Tier[] = [
  { upTo: 10, unitAmount: 1000, flatAmount: 5000 },
  { upTo: null, unitAmount: 800, flatAmount: 3000 },
];
const FIXED: Tier[] = [{ upTo: null, unitAmount: 30000 }];
const YEAR_2026 = { start: new Date("2026-01-01T00:00:00Z"), end: new Date("2027-01-01T00:00:00Z") };
const YEAR_2028 = { start: new Date("2028-01-01T00:00:00Z"), end: new Date("2029-01-01T00:00:00Z") };

describe("termPrice", () => {
  it.each<[string, TieringModel, Tier[], number, number]>([
    ["fixed, none", "fixed", FIXED, 0, 0],
    ["fixed, one", "fixed", FIXED, 1, 30000],
    ["fixed, 5", "fixed", FIXED, 5, 150000],
    ["graduated A, none", "graduated", A, 0, 0],
    ["graduated A, 1", "graduated", A, 1, 1000],
    ["graduated A, 10 (last seat of tier 1)", "graduated", A, 10, 10000],
    ["graduated A, 11 (first seat of tier 2)", "graduated", A, 11, 10800],
    ["graduated A, 14 = $132 (DOMAIN §4)", "graduated", A, 14, 13200],
    ["volume A, 10", "volume", A, 10, 10000],
    ["volume A, 11: every seat at 800", "volume", A, 11, 8800],
    ["volume A, 14 = $112 (DOMAIN §4)", "volume", A, 14, 11200],
    ["graduated F, 1: first tier's flat fee", "graduated", F, 1, 6000],
    ["graduated F, 10", "graduated", F, 10, 15000],
    ["graduated F, 11: both tiers' flat fees", "graduated", F, 11, 18800],
    ["graduated F, 14", "graduated", F, 14, 21200],
    ["volume F, 10: first tier's flat fee", "volume", F, 10, 15000],
    ["volume F, 14: only the matched tier's flat fee", "volume", F, 14, 14200],
    ["volume F, none: no flat fee for no seats", "volume", F, 0, 0],
  ])("%s", (_name, model, tiers, quantity, expected) => {
    expect(termPrice(model, tiers, quantity)).toBe(expected);
  });

  it("a volume total can fall at a threshold (Stripe's example: 5 at $7 = $35, 6 at $6.50 = $39)", () => {
    const tiers: Tier[] = [
      { upTo: 5, unitAmount: 700 },
      { upTo: 10, unitAmount: 650 },
      { upTo: null, unitAmount: 600 },
    ];
    expect(termPrice("volume", tiers, 5)).toBe(3500);
    expect(termPrice("volume", tiers, 6)).toBe(3900);
    expect(termPrice("volume", tiers, 11)).toBe(6600);
    expect(termPrice("graduated", tiers, 11)).toBe(5 * 700 + 5 * 650 + 600);
  });

  it("refuses a negative or fractional quantity", () => {
    expect(() => termPrice("fixed", FIXED, -1)).toThrow(RangeError);
    expect(() => termPrice("fixed", FIXED, 1.5)).toThrow(RangeError);
  });

  it("stays exact beyond 2^53 in the middle of the sum, and refuses a result it cannot represent", () => {
    const huge: Tier[] = [{ upTo: null, unitAmount: Number.MAX_SAFE_INTEGER }];
    expect(termPrice("fixed", huge, 1)).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => termPrice("fixed", huge, 2)).toThrow(/too large/);
  });
});

describe("rounding half away from zero", () => {
  it.each<[bigint, bigint, bigint]>([
    [5n, 2n, 3n],
    [-5n, 2n, -3n],
    [3n, 2n, 2n],
    [-3n, 2n, -2n],
    [1n, 2n, 1n],
    [-1n, 2n, -1n],
    [7n, 3n, 2n],
    [-7n, 3n, -2n],
    [8n, 3n, 3n],
    [-8n, 3n, -3n],
    [0n, 7n, 0n],
    [10n, 5n, 2n],
    [-10n, 5n, -2n],
    [1n, 3n, 0n],
    [-1n, 3n, 0n],
  ])("%s / %s = %s", (n, d, expected) => {
    expect(divideRoundHalfAwayFromZero(n, d)).toBe(expected);
  });

  it("is symmetric: −x rounds to −(x rounded)", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }),
        fc.bigInt({ min: 1n, max: 10n ** 20n }),
        (n, d) => {
          expect(divideRoundHalfAwayFromZero(-n, d)).toBe(-divideRoundHalfAwayFromZero(n, d));
        },
      ),
    );
  });

  it("is within one half of the exact quotient", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }),
        fc.bigInt({ min: 1n, max: 10n ** 20n }),
        (n, d) => {
          const r = divideRoundHalfAwayFromZero(n, d);
          const twiceError = 2n * (r * d - n);
          expect(twiceError <= d && twiceError >= -d).toBe(true);
        },
      ),
    );
  });
});

describe("proration (seconds left / seconds in the term)", () => {
  const line = (model: TieringModel, tiers: Tier[], from: number, to: number, at: string, term = YEAR_2026) =>
    prorateLine("chat_code", { model, tiers }, from, to, prorationFraction(term, new Date(at)));

  it.each<[string, TieringModel, Tier[], number, number, string, number]>([
    ["graduated 10 → 14 at exactly half the term (DOMAIN §4)", "graduated", A, 10, 14, "2026-07-02T12:00:00Z", 1600],
    ["the same one second later: 1599.9999 rounds to 1600", "graduated", A, 10, 14, "2026-07-02T12:00:01Z", 1600],
    [
      "graduated 10 → 14 on 2026-04-01: 2410.9589 → 2411 (DOMAIN §4)",
      "graduated",
      A,
      10,
      14,
      "2026-04-01T00:00:00Z",
      2411,
    ],
    [
      "volume 10 → 11 on 2026-04-01: −904.1096 → −904, a credit (DOMAIN §4)",
      "volume",
      A,
      10,
      11,
      "2026-04-01T00:00:00Z",
      -904,
    ],
    ["flat fees, graduated 10 → 11 at half-way: 3800 × ½", "graduated", F, 10, 11, "2026-07-02T12:00:00Z", 1900],
    ["fixed +5 with 100 of 365 days left: 41095.89 → 41096", "fixed", FIXED, 0, 5, "2026-09-23T00:00:00Z", 41096],
    ["first second of the term: the whole term price", "graduated", A, 10, 14, "2026-01-01T00:00:00Z", 3200],
    ["last second of the term: 3200 × 1/31536000 → 0", "graduated", A, 10, 14, "2026-12-31T23:59:59Z", 0],
    ["milliseconds are dropped (to the second)", "graduated", A, 10, 14, "2026-07-02T12:00:00.999Z", 1600],
    ["no change, nothing to pay", "volume", A, 14, 14, "2026-04-01T00:00:00Z", 0],
  ])("%s", (_name, model, tiers, from, to, at, amount) => {
    expect(line(model, tiers, from, to, at).amount).toBe(amount);
  });

  it("shows each part of the computation", () => {
    expect(line("volume", A, 10, 11, "2026-04-01T00:00:00Z")).toEqual({
      seatType: "chat_code",
      from: 10,
      to: 11,
      model: "volume",
      termPriceBefore: 10000,
      termPriceAfter: 8800,
      prorationNumerator: 23_760_000,
      prorationDenominator: 31_536_000,
      amount: -904,
    });
  });

  it("a leap-year term counts its 366 days: half of 2028 is 2028-07-02T00:00:00Z", () => {
    const l = line("graduated", A, 10, 14, "2028-07-02T00:00:00Z", YEAR_2028);
    expect(l.prorationDenominator).toBe(31_622_400);
    expect(l.prorationNumerator).toBe(15_811_200);
    expect(l.amount).toBe(1600);
    // 29 February is a day of the term like any other.
    const feb29 = line("fixed", FIXED, 0, 1, "2028-02-29T00:00:00Z", YEAR_2028);
    expect(feb29.prorationNumerator).toBe(307 * 86_400);
    expect(feb29.amount).toBe(Math.round((30000 * 307) / 366));
  });

  it("rounds halves away from zero, for charges and for credits", () => {
    // A term of 4 seconds: a price change of 2 at 3 seconds left is 1.5, of −2 is −1.5.
    const term = { start: new Date("2026-01-01T00:00:00Z"), end: new Date("2026-01-01T00:00:04Z") };
    const at = new Date("2026-01-01T00:00:01Z");
    const up = prorateLine(
      "t",
      { model: "fixed", tiers: [{ upTo: null, unitAmount: 2 }] },
      0,
      1,
      prorationFraction(term, at),
    );
    expect(up.amount).toBe(2);
    const down = prorateLine(
      "t",
      {
        model: "volume",
        tiers: [
          { upTo: 1, unitAmount: 10 },
          { upTo: null, unitAmount: 4 },
        ],
      },
      1,
      2,
      prorationFraction(term, at),
    );
    expect(down.termPriceAfter - down.termPriceBefore).toBe(-2);
    expect(down.amount).toBe(-2);
  });

  it("refuses a time outside the term (before the start, at or after the end)", () => {
    for (const at of ["2025-12-31T23:59:59Z", "2027-01-01T00:00:00Z", "2027-06-01T00:00:00Z"])
      expect(() => prorationFraction(YEAR_2026, new Date(at))).toThrow(/outside the term/);
  });
});

describe("properties", () => {
  const tiersArb = fc.uniqueArray(fc.integer({ min: 1, max: 500 }), { minLength: 0, maxLength: 4 }).chain((bounds) =>
    fc
      .array(
        fc.record({
          unitAmount: fc.integer({ min: 0, max: 100_000 }),
          flatAmount: fc.integer({ min: 0, max: 50_000 }),
        }),
        {
          minLength: bounds.length + 1,
          maxLength: bounds.length + 1,
        },
      )
      .map((amounts) => {
        const sorted = [...bounds].sort((a, b) => a - b);
        return amounts.map((a, i): Tier => ({ upTo: i < sorted.length ? sorted[i] : null, ...a }));
      }),
  );

  it("a graduated total never falls when seats are added", () => {
    fc.assert(
      fc.property(tiersArb, fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 100 }), (tiers, q, more) => {
        expect(termPrice("graduated", tiers, q + more)).toBeGreaterThanOrEqual(termPrice("graduated", tiers, q));
      }),
    );
  });

  it("with one tier, graduated, volume and fixed agree", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 0, max: 10_000 }), (unitAmount, q) => {
        const tiers: Tier[] = [{ upTo: null, unitAmount }];
        expect(termPrice("graduated", tiers, q)).toBe(termPrice("volume", tiers, q));
        expect(termPrice("fixed", tiers, q)).toBe(q * unitAmount);
      }),
    );
  });

  it("within the first tier, graduated and volume agree", () => {
    fc.assert(
      fc.property(tiersArb, fc.integer({ min: 0, max: 500 }), (tiers, q) => {
        fc.pre(tiers[0].upTo === null || q <= tiers[0].upTo);
        expect(termPrice("graduated", tiers, q)).toBe(termPrice("volume", tiers, q));
      }),
    );
  });

  it("a proration lies between nothing and the whole change, and the whole change at the first second", () => {
    fc.assert(
      fc.property(
        tiersArb,
        fc.constantFrom<TieringModel>("graduated", "volume"),
        fc.integer({ min: 0, max: 600 }),
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: 0, max: 31_535_999 }),
        (tiers, model, from, add, offset) => {
          const at = new Date(YEAR_2026.start.getTime() + offset * 1000);
          const l = prorateLine("t", { model, tiers }, from, from + add, prorationFraction(YEAR_2026, at));
          const delta = l.termPriceAfter - l.termPriceBefore;
          expect(Math.abs(l.amount)).toBeLessThanOrEqual(Math.abs(delta));
          expect(l.amount === 0 || Math.sign(l.amount) === Math.sign(delta)).toBe(true);
          if (offset === 0) expect(l.amount).toBe(delta);
        },
      ),
    );
  });
});

describe("nextTerm", () => {
  it.each<[string, { start: string; end: string }, string, { start: string; end: string }]>([
    [
      "a calendar year renewed on its anniversary, into a leap year",
      { start: "2027-01-01T00:00:00Z", end: "2028-01-01T00:00:00Z" },
      "2028-01-01T00:00:00Z",
      { start: "2028-01-01T00:00:00Z", end: "2029-01-01T00:00:00Z" },
    ],
    [
      "a year renewed early starts then and lasts a year",
      { start: "2026-03-15T10:00:00Z", end: "2027-03-15T10:00:00Z" },
      "2027-03-01T00:00:00Z",
      { start: "2027-03-01T00:00:00Z", end: "2028-03-01T00:00:00Z" },
    ],
    [
      "a term of 30 days keeps its length",
      { start: "2026-01-01T00:00:00Z", end: "2026-01-31T00:00:00Z" },
      "2026-01-31T00:00:00Z",
      { start: "2026-01-31T00:00:00Z", end: "2026-03-02T00:00:00Z" },
    ],
    [
      "a term that is not whole calendar months (31 January to 29 February) keeps its length in seconds",
      { start: "2028-01-31T00:00:00Z", end: "2028-02-29T00:00:00Z" },
      "2029-01-31T00:00:00Z",
      { start: "2029-01-31T00:00:00Z", end: "2029-03-01T00:00:00Z" },
    ],
  ])("%s", (_name, term, at, expected) => {
    const next = nextTerm({ start: new Date(term.start), end: new Date(term.end) }, new Date(at));
    expect({ start: next.start.toISOString(), end: next.end.toISOString() }).toEqual({
      start: new Date(expected.start).toISOString(),
      end: new Date(expected.end).toISOString(),
    });
  });
});
