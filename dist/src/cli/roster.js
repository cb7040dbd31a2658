// The operator CLI: `npm run roster -- <command>`, against DATABASE_URL (or the embedded database in
// DATA_DIR when the server is not running: PGlite allows one process at a time).
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { startRuntime } from "../bootstrap.js";
import { loadConfig } from "../config.js";
import { migrateToLatest } from "../db/database.js";
import { DomainError } from "../domain/errors.js";
import { zodMessage } from "../http/errors.js";
import { signInUrl } from "../operator/operator-router.js";
import { getMappings, mappingsInput, previewMappings, putMappings } from "../services/mappings-service.js";
import { loadOrg } from "../services/context.js";
import { createOrg, createOrgInput } from "../services/orgs-service.js";
import { issueToken, reissueOwnerSignInLink } from "../services/tokens-service.js";
import { ZodError } from "zod";
const USAGE = `Usage: npm run roster -- <command> [options]

  org create --name NAME --plan PLAN --seats TYPE=N[,TYPE=N…] [--owner-email EMAIL]
        Create an organization; prints its id, SCIM base URL, SCIM token and the owner's credentials.
  org signin-link --org ORG_ID
        A fresh one-time sign-in link for the primary owner (24 hours); earlier unused links stop working.
  token create --org ORG_ID [--name NAME]
        Issue another SCIM token for an organization (shown once).
  mappings export --org ORG_ID
        Print the organization's group mappings as JSON.
  mappings apply FILE --org ORG_ID [--dry-run]
        Replace the group mappings with FILE (a JSON array) and re-run the seat rules;
        --dry-run prints what would change and changes nothing.
  migrate
        Apply pending database migrations.

Environment: DATABASE_URL (postgres://…); without it, the embedded database in DATA_DIR (default ./data).`;
const CLI_ACTOR = { actor: "operator:cli" };
function parseSeats(value) {
    if (!value)
        throw new DomainError("invalid_request", "--seats is required, e.g. --seats chat=50,chat_code=20");
    const seats = {};
    for (const part of value.split(",")) {
        const [type, count] = part.split("=");
        if (!type || !/^\d+$/.test(count ?? ""))
            throw new DomainError("invalid_request", `--seats: "${part}" is not TYPE=N`);
        seats[type.trim()] = Number(count);
    }
    return seats;
}
function required(value, flag) {
    if (!value)
        throw new DomainError("invalid_request", `${flag} is required`);
    return value;
}
async function run(argv) {
    const { values, positionals } = parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
            name: { type: "string" },
            plan: { type: "string" },
            seats: { type: "string" },
            "owner-email": { type: "string" },
            org: { type: "string" },
            "dry-run": { type: "boolean", default: false },
            help: { type: "boolean", short: "h", default: false },
        },
    });
    const [command, sub, arg] = positionals;
    if (values.help || !command) {
        process.stdout.write(`${USAGE}\n`);
        return command || values.help ? 0 : 2;
    }
    const config = loadConfig();
    const runtime = await startRuntime(config, { migrate: command !== "migrate" });
    const out = (value) => process.stdout.write(`${typeof value === "string" ? value : JSON.stringify(value, null, 2)}\n`);
    try {
        if (command === "migrate") {
            const applied = await migrateToLatest(runtime.db);
            out(applied.length ? `applied: ${applied.join(", ")}` : "already up to date");
        }
        else if (command === "org" && sub === "create") {
            const input = createOrgInput.parse({
                name: values.name,
                plan: values.plan,
                seats: parseSeats(values.seats),
                ownerEmail: values["owner-email"],
            });
            const created = await createOrg(runtime, input, CLI_ACTOR);
            out({
                orgId: created.org.id,
                scimBaseUrl: `${runtime.publicUrl}/scim/v2`,
                scimToken: created.scimToken,
                ownerToken: created.ownerToken,
                ownerSignInUrl: signInUrl(runtime.publicUrl, created.ownerSignInToken),
            });
        }
        else if (command === "org" && sub === "signin-link") {
            const issued = await reissueOwnerSignInLink(runtime, required(values.org, "--org"), CLI_ACTOR);
            out({ ownerSignInUrl: signInUrl(runtime.publicUrl, issued.token), expiresAt: issued.record.expiresAt });
        }
        else if (command === "token" && sub === "create") {
            const orgId = required(values.org, "--org");
            await loadOrg(runtime, runtime.db, orgId);
            const issued = await issueToken(runtime, runtime.db, orgId, "scim", { name: values.name ?? "cli" }, CLI_ACTOR);
            out({ id: issued.record.id, token: issued.token });
        }
        else if (command === "mappings" && sub === "export") {
            out(await getMappings(runtime, required(values.org, "--org")));
        }
        else if (command === "mappings" && sub === "apply") {
            const file = required(arg, "FILE");
            const orgId = required(values.org, "--org");
            let raw;
            try {
                raw = JSON.parse(readFileSync(file, "utf8"));
            }
            catch (error) {
                throw new DomainError("invalid_request", `${file}: ${error.message}`);
            }
            const input = mappingsInput.parse(raw);
            if (values["dry-run"])
                out({ dryRun: true, ...(await previewMappings(runtime, orgId, input, CLI_ACTOR)) });
            else
                out(await putMappings(runtime, orgId, input, CLI_ACTOR));
        }
        else {
            process.stderr.write(`unknown command: ${positionals.join(" ")}\n\n${USAGE}\n`);
            return 2;
        }
        return 0;
    }
    finally {
        await runtime.db.destroy();
    }
}
run(process.argv.slice(2)).then((code) => process.exit(code), (error) => {
    const message = error instanceof ZodError ? zodMessage(error) : error instanceof Error ? error.message : String(error);
    process.stderr.write(`roster: ${message}\n`);
    process.exit(error instanceof DomainError || error instanceof ZodError ? 2 : 1);
});
//# sourceMappingURL=roster.js.map