// Loads the seat catalogs under mappings/catalogs at start; a malformed file stops the server with its problems.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { type Catalog, catalogSchema, toCatalog } from "./domain/catalog.js";
import { DomainError } from "./domain/errors.js";

export interface Catalogs {
  get(planId: string): Catalog;
  list(): Catalog[];
}

export function loadCatalogs(mappingsDir: string): Catalogs {
  const dir = path.join(mappingsDir, "catalogs");
  const byId = new Map<string, Catalog>();
  const problems: string[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".json")).sort()) {
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
      if (!catalog) throw new DomainError("invalid_request", `unknown plan "${planId}"; known plans: ${[...byId.keys()].join(", ")}`);
      return catalog;
    },
    list: () => [...byId.values()],
  };
}
