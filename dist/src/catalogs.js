// Loads the declarative files under mappings/ at start (seat catalogs, IdP attribute profiles); a malformed
// file stops the server with its problems.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { attributeProfileSchema } from "./domain/attribute-profile.js";
import { catalogSchema, toCatalog } from "./domain/catalog.js";
import { DomainError } from "./domain/errors.js";
export function loadCatalogs(mappingsDir) {
    const dir = path.join(mappingsDir, "catalogs");
    const byId = new Map();
    const problems = [];
    for (const file of readdirSync(dir)
        .filter((f) => f.endsWith(".json"))
        .sort()) {
        let raw;
        try {
            raw = JSON.parse(readFileSync(path.join(dir, file), "utf8"));
        }
        catch (error) {
            problems.push(`${file}: not valid JSON (${error.message})`);
            continue;
        }
        const parsed = catalogSchema.safeParse(raw);
        if (!parsed.success) {
            problems.push(...parsed.error.issues.map((i) => `${file}: ${i.path.join(".") || "(root)"}: ${i.message}`));
            continue;
        }
        if (`${parsed.data.id}.json` !== file)
            problems.push(`${file}: id "${parsed.data.id}" must match the file name`);
        byId.set(parsed.data.id, toCatalog(parsed.data));
    }
    if (problems.length)
        throw new Error(`Invalid seat catalogs in ${dir}:\n  ${problems.join("\n  ")}`);
    if (byId.size === 0)
        throw new Error(`No seat catalogs found in ${dir}`);
    return {
        get(planId) {
            const catalog = byId.get(planId);
            if (!catalog)
                throw new DomainError("invalid_request", `unknown plan "${planId}"; known plans: ${[...byId.keys()].join(", ")}`);
            return catalog;
        },
        list: () => [...byId.values()],
    };
}
export function loadAttributeProfiles(mappingsDir) {
    const dir = path.join(mappingsDir, "attribute-profiles");
    const byId = new Map();
    const problems = [];
    for (const file of readdirSync(dir)
        .filter((f) => f.endsWith(".json"))
        .sort()) {
        try {
            const parsed = attributeProfileSchema.safeParse(JSON.parse(readFileSync(path.join(dir, file), "utf8")));
            if (!parsed.success)
                problems.push(...parsed.error.issues.map((i) => `${file}: ${i.path.join(".") || "(root)"}: ${i.message}`));
            else if (`${parsed.data.id}.json` !== file)
                problems.push(`${file}: id "${parsed.data.id}" must match the file name`);
            else
                byId.set(parsed.data.id, parsed.data);
        }
        catch (error) {
            problems.push(`${file}: not valid JSON (${error.message})`);
        }
    }
    if (problems.length)
        throw new Error(`Invalid attribute profiles in ${dir}:\n  ${problems.join("\n  ")}`);
    if (!byId.has("generic"))
        throw new Error(`No generic attribute profile in ${dir}`);
    return {
        get(id) {
            const profile = byId.get(id);
            if (!profile)
                throw new DomainError("invalid_request", `unknown attribute profile "${id}"; known: ${[...byId.keys()].join(", ")}`);
            return profile;
        },
        ids: () => [...byId.keys()],
    };
}
//# sourceMappingURL=catalogs.js.map