// Migrations listed statically: the same code path under tsx, vitest and a bundler, with no dynamic
// import of .ts files by path. Add each new file under migrations/ here, in order.
import type { Knex } from "knex";
import * as core from "../../migrations/20261122000000_core.js";
import * as saml from "../../migrations/20261122010000_saml.js";
import * as seatHolds from "../../migrations/20261207000500_seat_holds.js";
import * as samlSpKeys from "../../migrations/20261207020000_saml_sp_keys.js";
import * as billing from "../../migrations/20261207030000_billing.js";
import * as invitations from "../../migrations/20261207040000_invitations.js";
import * as webhooks from "../../migrations/20261207050000_webhooks.js";
import * as jobs from "../../migrations/20261207060000_jobs.js";
import * as consoleSessions from "../../migrations/20261207070000_console_sessions.js";

const MIGRATIONS: [string, Knex.Migration][] = [
  ["20261122000000_core.ts", core],
  ["20261122010000_saml.ts", saml],
  ["20261207000500_seat_holds.ts", seatHolds],
  ["20261207020000_saml_sp_keys.ts", samlSpKeys],
  ["20261207030000_billing.ts", billing],
  ["20261207040000_invitations.ts", invitations],
  ["20261207050000_webhooks.ts", webhooks],
  ["20261207060000_jobs.ts", jobs],
  ["20261207070000_console_sessions.ts", consoleSessions],
];

export const migrationSource: Knex.MigrationSource<[string, Knex.Migration]> = {
  getMigrations: async () => MIGRATIONS,
  getMigrationName: ([name]) => name,
  getMigration: async ([, migration]) => migration,
};
