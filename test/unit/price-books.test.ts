// DOMAIN §4: price books are data under mappings/price-books, one per plan, checked at start against the
// plan's catalog; a malformed one stops the server with its problems.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { loadCatalogs, loadPriceBooks } from "../../src/catalogs.js";

const shippedDir = fileURLToPath(new URL("../../mappings", import.meta.url));
const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** A copy of the shipped mappings with price-books/<plan>.json replaced (null deletes it). */
function withBook(plan: string, content: unknown): string {
  const root = mkdtempSync(path.join(tmpdir(), "roster-prices-"));
  tempDirs.push(root);
  cpSync(shippedDir, root, { recursive: true });
  const file = path.join(root, "price-books", `${plan}.json`);
  if (content === null) rmSync(file);
  else writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content));
  return root;
}

function loadError(dir: string): string {
  try {
    loadPriceBooks(dir, loadCatalogs(dir));
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected loadPriceBooks to refuse the price books");
}

const open = (unitAmount: number) => ({ upTo: null, unitAmount });

describe("the shipped price books", () => {
  const catalogs = loadCatalogs(shippedDir);
  const books = loadPriceBooks(shippedDir, catalogs);

  it("price every seat type of every plan in one currency", () => {
    for (const catalog of catalogs.list()) {
      const book = books.get(catalog.id);
      expect(Object.keys(book).sort()).toEqual(catalog.seatTypes.map((s) => s.type).sort());
      expect(new Set(Object.values(book).map((p) => p.currency)).size).toBe(1);
    }
  });

  it("the self-serve plan caps at 1,000 seats and enterprise plans need 20", () => {
    expect(catalogs.get("team").maxSeats).toBe(1000);
    for (const id of ["enterprise", "enterprise_seat", "enterprise_usage"]) expect(catalogs.get(id).minSeats).toBe(20);
  });
});

describe("a broken price book stops the start with its problem", () => {
  const usage = (prices: Record<string, unknown>) => ({ plan: "enterprise_usage", prices });
  const fixed = { currency: "usd", model: "fixed", tiers: [open(100)] };

  it.each<[string, string, unknown, RegExp]>([
    ["missing file", "team", null, /team\.json: missing/],
    ["not JSON", "team", "{", /team\.json: not valid JSON/],
    ["a seat type unpriced", "enterprise_usage", usage({ chat: fixed }), /no price for seat type chat_code/],
    [
      "a type the plan lacks",
      "enterprise_usage",
      usage({ chat: fixed, chat_code: fixed, gold: fixed }),
      /no seat type gold/,
    ],
    [
      "two currencies",
      "enterprise_usage",
      usage({ chat: fixed, chat_code: { ...fixed, currency: "eur" } }),
      /one currency per price book; found usd, eur/,
    ],
    [
      "tiers out of order",
      "enterprise_usage",
      usage({
        chat: fixed,
        chat_code: {
          currency: "usd",
          model: "graduated",
          tiers: [{ upTo: 10, unitAmount: 1 }, { upTo: 5, unitAmount: 1 }, open(1)],
        },
      }),
      /tiers\.1\.upTo: tiers must be in ascending order/,
    ],
    [
      "last tier closed",
      "enterprise_usage",
      usage({ chat: fixed, chat_code: { currency: "usd", model: "volume", tiers: [{ upTo: 10, unitAmount: 1 }] } }),
      /the last tier must be open/,
    ],
    [
      "an open tier before the last",
      "enterprise_usage",
      usage({ chat: fixed, chat_code: { currency: "usd", model: "volume", tiers: [open(1), open(2)] } }),
      /only the last tier may be open/,
    ],
    [
      "a negative amount",
      "enterprise_usage",
      usage({ chat: fixed, chat_code: { currency: "usd", model: "fixed", tiers: [open(-1)] } }),
      /unitAmount/,
    ],
    [
      "a fractional amount",
      "enterprise_usage",
      usage({ chat: fixed, chat_code: { currency: "usd", model: "fixed", tiers: [open(9.5)] } }),
      /unitAmount/,
    ],
    [
      "a fixed price with tiers",
      "enterprise_usage",
      usage({
        chat: fixed,
        chat_code: { currency: "usd", model: "fixed", tiers: [{ upTo: 10, unitAmount: 1 }, open(1)] },
      }),
      /a fixed price is one open tier/,
    ],
    [
      "plan not matching the file",
      "team",
      { plan: "enterprise", prices: {} },
      /team\.json: plan "enterprise" must match/,
    ],
  ])("%s", (_name, plan, content, problem) => {
    expect(loadError(withBook(plan, content))).toMatch(problem);
  });
});
