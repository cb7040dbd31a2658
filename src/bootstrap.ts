// Shared start-up for the server and the CLI: database, migrations, catalogs, session key.
import { randomBytes } from "node:crypto";
import type { Knex } from "knex";
import { loadAttributeProfiles, type Catalogs, loadCatalogs, loadPriceBooks } from "./catalogs.js";
import type { Config } from "./config.js";
import type { Logger } from "./logger.js";
import { createDatabase, migrateToLatest } from "./db/database.js";
import { ensureServerSetting } from "./repositories/orgs-repository.js";
import type { ServiceDeps } from "./services/context.js";
import { createSecretBox } from "./services/secret-box.js";

export interface Runtime extends ServiceDeps {
  db: Knex;
  catalogs: Catalogs;
  sessionKey: string;
}

export async function startRuntime(
  config: Config,
  options: { migrate: boolean; logger?: Logger } = { migrate: true },
): Promise<Runtime> {
  const catalogs = loadCatalogs(config.mappingsDir);
  const priceBooks = loadPriceBooks(config.mappingsDir, catalogs);
  const log = options.logger
    ? (level: "warn" | "error", message: string) => options.logger?.[level]({ component: "db" }, message)
    : undefined;
  const db = createDatabase({ url: config.databaseUrl, dataDir: config.dataDir, poolMax: config.dbPoolMax, log });
  if (options.migrate) await migrateToLatest(db);
  const sessionKey = await ensureServerSetting(db, "session_key", () => randomBytes(32).toString("base64url"));
  const secretKey =
    config.secretKey ??
    Buffer.from(await ensureServerSetting(db, "secret_key", () => randomBytes(32).toString("base64url")), "base64url");
  const attributeProfiles = loadAttributeProfiles(config.mappingsDir);
  return {
    db,
    catalogs,
    priceBooks,
    attributeProfiles,
    sessionKey,
    publicUrl: config.publicUrl,
    saml: config.saml,
    now: () => new Date(),
    secretBox: createSecretBox(secretKey),
    webhooks: { allowPrivate: config.webhookAllowPrivate },
  };
}
