// Shared start-up for the server and the CLI: database, migrations, catalogs, session key.
import { randomBytes } from "node:crypto";
import { loadAttributeProfiles, loadCatalogs } from "./catalogs.js";
import { createDatabase, migrateToLatest } from "./db/database.js";
import { ensureServerSetting } from "./repositories/orgs-repository.js";
import { createSecretBox } from "./services/secret-box.js";
export async function startRuntime(config, options = { migrate: true }) {
    const catalogs = loadCatalogs(config.mappingsDir);
    const log = options.logger
        ? (level, message) => options.logger?.[level]({ component: "db" }, message)
        : undefined;
    const db = createDatabase({ url: config.databaseUrl, dataDir: config.dataDir, poolMax: config.dbPoolMax, log });
    if (options.migrate)
        await migrateToLatest(db);
    const sessionKey = await ensureServerSetting(db, "session_key", () => randomBytes(32).toString("base64url"));
    const secretKey = config.secretKey ??
        Buffer.from(await ensureServerSetting(db, "secret_key", () => randomBytes(32).toString("base64url")), "base64url");
    const attributeProfiles = loadAttributeProfiles(config.mappingsDir);
    return {
        db,
        catalogs,
        attributeProfiles,
        sessionKey,
        publicUrl: config.publicUrl,
        saml: config.saml,
        now: () => new Date(),
        secretBox: createSecretBox(secretKey),
    };
}
//# sourceMappingURL=bootstrap.js.map