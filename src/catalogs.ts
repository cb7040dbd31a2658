// Loads the declarative files under mappings/ at start (seat catalogs, price books, IdP attribute profiles);
// a malformed file stops the server with its problems.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { type AttributeProfile, attributeProfileSchema } from "./domain/attribute-profile.js";
import { type Catalog, catalogSchema, toCatalog } from "./domain/catalog.js";
import { DomainError } from "./domain/errors.js";
import { type Pricing, priceBookSchema, pricingProblems } from "./domain/pricing.js";

export interface Catalogs {
  get(planId: string): Catalog;
  list(): Catalog[];
}

export function loadCatalogs(mappingsDir: string): Catalogs {
  const dir = path.join(mappingsDir, "catalogs");
  const byId = new Map<string, Catalog>();
  const problems: string[] = [];
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(path.join(dir, file), "utf8"));
    } catch (error) {
      problems.push(`${file}: not valid JSON (${(error as Error).message})`);
      continue;
    }
    const parsed = catalogSchema.safeParse(raw);
    if (!parsed.success) {
      problems.push(...parsed.error.issues.map((i) => `${file}: ${i.path.join(".") || "(root)"}: ${i.message}`));
      continue;
    }
    if (`${parsed.data.id}.json` !== file) problems.push(`${file}: id "${parsed.data.id}" must match the file name`);
    byId.set(parsed.data.id, toCatalog(parsed.data));
  }
  if (problems.length) throw new Error(`Invalid seat catalogs in ${dir}:\n  ${problems.join("\n  ")}`);
  if (byId.size === 0) throw new Error(`No seat catalogs found in ${dir}`);
  return {
    get(planId) {
      const catalog = byId.get(planId);
      if (!catalog)
        throw new DomainError(
          "invalid_request",
          `unknown plan "${planId}"; known plans: ${[...byId.keys()].join(", ")}`,
        );
      return catalog;
    },
    list: () => [...byId.values()],
  };
}

export interface AttributeProfiles {
  get(id: string): AttributeProfile;
  ids(): string[];
}

export function loadAttributeProfiles(mappingsDir: string): AttributeProfiles {
  const dir = path.join(mappingsDir, "attribute-profiles");
  const byId = new Map<string, AttributeProfile>();
  const problems: string[] = [];
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()) {
    try {
      const parsed = attributeProfileSchema.safeParse(JSON.parse(readFileSync(path.join(dir, file), "utf8")));
      if (!parsed.success)
        problems.push(...parsed.error.issues.map((i) => `${file}: ${i.path.join(".") || "(root)"}: ${i.message}`));
      else if (`${parsed.data.id}.json` !== file)
        problems.push(`${file}: id "${parsed.data.id}" must match the file name`);
      else byId.set(parsed.data.id, parsed.data);
    } catch (error) {
      problems.push(`${file}: not valid JSON (${(error as Error).message})`);
    }
  }
  if (problems.length) throw new Error(`Invalid attribute profiles in ${dir}:\n  ${problems.join("\n  ")}`);
  if (!byId.has("generic")) throw new Error(`No generic attribute profile in ${dir}`);
  return {
    get(id) {
      const profile = byId.get(id);
      if (!profile)
        throw new DomainError(
          "invalid_request",
          `unknown attribute profile "${id}"; known: ${[...byId.keys()].join(", ")}`,
        );
      return profile;
    },
    ids: () => [...byId.keys()],
  };
}

export interface PriceBooks {
  /** The plan's list prices, every seat type of its catalog priced, one currency. */
  get(planId: string): Pricing;
}

/** mappings/price-books/<plan>.json: one per catalog, checked against that catalog's seat types. */
export function loadPriceBooks(mappingsDir: string, catalogs: Catalogs): PriceBooks {
  const dir = path.join(mappingsDir, "price-books");
  const byPlan = new Map<string, Pricing>();
  const problems: string[] = [];
  const files = readdirSync(dir, { withFileTypes: true })
    .filter((f) => f.isFile() && f.name.endsWith(".json"))
    .map((f) => f.name)
    .sort();
  for (const file of files) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(path.join(dir, file), "utf8"));
    } catch (error) {
      problems.push(`${file}: not valid JSON (${(error as Error).message})`);
      continue;
    }
    const parsed = priceBookSchema.safeParse(raw);
    if (!parsed.success) {
      problems.push(...parsed.error.issues.map((i) => `${file}: ${i.path.join(".") || "(root)"}: ${i.message}`));
      continue;
    }
    const book = parsed.data;
    if (`${book.plan}.json` !== file) problems.push(`${file}: plan "${book.plan}" must match the file name`);
    const catalog = catalogs.list().find((c) => c.id === book.plan);
    if (!catalog) {
      problems.push(`${file}: there is no catalog "${book.plan}"`);
      continue;
    }
    const wrong = pricingProblems(
      book.prices,
      catalog.seatTypes.map((s) => s.type),
    );
    problems.push(...wrong.map((p) => `${file}: ${p}`));
    if (!wrong.length) byPlan.set(book.plan, book.prices);
  }
  for (const catalog of catalogs.list())
    if (!files.includes(`${catalog.id}.json`))
      problems.push(`${catalog.id}.json: missing (every plan needs a price book)`);
  if (problems.length) throw new Error(`Invalid price books in ${dir}:\n  ${problems.join("\n  ")}`);
  return {
    get(planId) {
      const book = byPlan.get(planId);
      if (!book) throw new DomainError("invalid_request", `plan "${planId}" has no price book`);
      return book;
    },
  };
}
