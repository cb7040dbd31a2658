// The operator CLI: `npm run roster -- <command>`, against DATABASE_URL (or the embedded database in
// DATA_DIR when the server is not running: PGlite allows one process at a time).
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { startRuntime } from "../bootstrap.js";
import { loadConfig } from "../config.js";
import { migrateToLatest } from "../db/database.js";
import { DomainError } from "../domain/errors.js";
import { zodMessage } from "../http/errors.js";
import { presentInvitation } from "../admin/invitation-routes.js";
import { signInUrl } from "../operator/operator-router.js";
import {
  purchaseInput,
  purchaseSeats,
  quoteInput,
  quoteSeats,
  renewInput,
  renewTerm,
} from "../services/billing-service.js";
import {
  createInvitation,
  invitationInput,
  listInvitationsQuery,
  listOrgInvitations,
  resendInvitation,
  revokeInvitation,
} from "../services/invitations-service.js";
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
  org renew --org ORG_ID [--at ISO_TIME]
        Start the next term now (or at --at), as long as the last; scheduled seat reductions apply,
        never below the seats in use.
  seats quote --org ORG_ID --add TYPE=N[,TYPE=N…] [--at ISO_TIME]
        What adding seats would cost now (or at --at, within the term), prorated to the second; changes nothing.
  seats purchase --org ORG_ID --add TYPE=N[,TYPE=N…] [--idempotency-key KEY]
        Buy seats now: the allocation grows, the charge is recorded, waiting members get the new seats.
  token create --org ORG_ID [--name NAME]
        Issue another SCIM token for an organization (shown once).
  mappings export --org ORG_ID
        Print the organization's group mappings as JSON.
  mappings apply FILE --org ORG_ID [--dry-run]
        Replace the group mappings with FILE (a JSON array) and re-run the seat rules;
        --dry-run prints what would change and changes nothing.
  invitations create --org ORG_ID (--email EMAIL | --external-id ID) --seat-type TYPE [--role ROLE]
        Invite someone to a seat (a pending seat); prints the claim URL, once. Emailed when SMTP_URL is set.
  invitations list --org ORG_ID [--status pending|claimed|revoked|expired]
  invitations resend ID --org ORG_ID
        A new claim URL (24 hours); the old link stops working.
  invitations revoke ID --org ORG_ID
        Revoke a pending invitation; its seat goes to the longest-waiting member.
  migrate
        Apply pending database migrations.

Environment: DATABASE_URL (postgres://…); without it, the embedded database in DATA_DIR (default ./data).`;

const CLI_ACTOR = { actor: "operator:cli" };

function parseSeats(value: string | undefined, flag = "--seats"): Record<string, number> {
  if (!value) throw new DomainError("invalid_request", `${flag} is required, e.g. ${flag} chat=50,chat_code=20`);
  const seats: Record<string, number> = {};
  for (const part of value.split(",")) {
    const [type, count] = part.split("=");
    if (!type || !/^\d+$/.test(count ?? ""))
      throw new DomainError("invalid_request", `${flag}: "${part}" is not TYPE=N`);
    seats[type.trim()] = Number(count);
  }
  return seats;
}

function required(value: string | undefined, flag: string): string {
  if (!value) throw new DomainError("invalid_request", `${flag} is required`);
  return value;
}

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: "string" },
      plan: { type: "string" },
      seats: { type: "string" },
      "owner-email": { type: "string" },
      org: { type: "string" },
      add: { type: "string" },
      at: { type: "string" },
      "idempotency-key": { type: "string" },
      email: { type: "string" },
      "external-id": { type: "string" },
      "seat-type": { type: "string" },
      role: { type: "string" },
      status: { type: "string" },
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
  const out = (value: unknown) =>
    process.stdout.write(`${typeof value === "string" ? value : JSON.stringify(value, null, 2)}\n`);
  try {
    if (command === "migrate") {
      const applied = await migrateToLatest(runtime.db);
      out(applied.length ? `applied: ${applied.join(", ")}` : "already up to date");
    } else if (command === "org" && sub === "create") {
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
    } else if (command === "org" && sub === "signin-link") {
      const issued = await reissueOwnerSignInLink(runtime, required(values.org, "--org"), CLI_ACTOR);
      out({ ownerSignInUrl: signInUrl(runtime.publicUrl, issued.token), expiresAt: issued.record.expiresAt });
    } else if (command === "org" && sub === "renew") {
      const input = renewInput.parse({ at: values.at });
      out(await renewTerm(runtime, required(values.org, "--org"), input, CLI_ACTOR));
    } else if (command === "seats" && sub === "quote") {
      const input = quoteInput.parse({ add: parseSeats(values.add, "--add"), at: values.at });
      out(await quoteSeats(runtime, required(values.org, "--org"), input));
    } else if (command === "seats" && sub === "purchase") {
      const input = purchaseInput.parse({ add: parseSeats(values.add, "--add") });
      const purchase = await purchaseSeats(
        runtime,
        required(values.org, "--org"),
        input,
        values["idempotency-key"] ?? null,
        CLI_ACTOR,
      );
      const { id, at, lines, total, currency } = purchase.charge;
      out({ charge: { id, at, lines, total, currency }, replayed: purchase.replayed, promoted: purchase.promoted });
    } else if (command === "token" && sub === "create") {
      const orgId = required(values.org, "--org");
      await loadOrg(runtime, runtime.db, orgId);
      const issued = await issueToken(runtime, runtime.db, orgId, "scim", { name: values.name ?? "cli" }, CLI_ACTOR);
      out({ id: issued.record.id, token: issued.token });
    } else if (command === "mappings" && sub === "export") {
      out(await getMappings(runtime, required(values.org, "--org")));
    } else if (command === "mappings" && sub === "apply") {
      const file = required(arg, "FILE");
      const orgId = required(values.org, "--org");
      let raw: unknown;
      try {
        raw = JSON.parse(readFileSync(file, "utf8"));
      } catch (error) {
        throw new DomainError("invalid_request", `${file}: ${(error as Error).message}`);
      }
      const input = mappingsInput.parse(raw);
      if (values["dry-run"]) out({ dryRun: true, ...(await previewMappings(runtime, orgId, input, CLI_ACTOR)) });
      else out(await putMappings(runtime, orgId, input, CLI_ACTOR));
    } else if (command === "invitations" && sub === "create") {
      const input = invitationInput.parse({
        email: values.email,
        externalId: values["external-id"],
        seatType: values["seat-type"],
        role: values.role,
      });
      // The operator stands above every role but primary_owner, which nobody is invited as.
      const issued = await createInvitation(runtime, required(values.org, "--org"), input, {
        ...CLI_ACTOR,
        role: "primary_owner",
      });
      out({ ...presentInvitation(issued.invitation, issued.claimUrl) });
    } else if (command === "invitations" && sub === "list") {
      const q = listInvitationsQuery.parse({ status: values.status, limit: 500 });
      const page = await listOrgInvitations(
        runtime,
        required(values.org, "--org"),
        { status: q.status },
        null,
        q.limit,
      );
      out(page.items.map((i) => presentInvitation(i)));
    } else if (command === "invitations" && sub === "resend") {
      const issued = await resendInvitation(runtime, required(values.org, "--org"), required(arg, "ID"), CLI_ACTOR);
      out(presentInvitation(issued.invitation, issued.claimUrl));
    } else if (command === "invitations" && sub === "revoke") {
      out(
        presentInvitation(
          await revokeInvitation(runtime, required(values.org, "--org"), required(arg, "ID"), CLI_ACTOR),
        ),
      );
    } else {
      process.stderr.write(`unknown command: ${positionals.join(" ")}\n\n${USAGE}\n`);
      return 2;
    }
    return 0;
  } finally {
    await runtime.db.destroy();
  }
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    const message =
      error instanceof ZodError ? zodMessage(error) : error instanceof Error ? error.message : String(error);
    process.stderr.write(`roster: ${message}\n`);
    process.exit(error instanceof DomainError || error instanceof ZodError ? 2 : 1);
  },
);
