// The one place that reads the environment: defaults, every problem listed together, empty means unset.
import path from "node:path";
import { describe, expect, it } from "vitest";
import { type Config, loadConfig } from "../../src/config.js";

function configError(env: NodeJS.ProcessEnv): string {
  try {
    loadConfig(env);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected loadConfig to refuse the environment");
}

const defaults: Config = {
  port: 8080,
  host: "0.0.0.0",
  publicUrl: "http://localhost:8080",
  databaseUrl: null,
  dataDir: path.resolve("./data"),
  dbPoolMax: 10,
  operatorToken: null,
  secretKey: null,
  logLevel: "info",
  demo: true,
  mappingsDir: path.resolve("./mappings"),
  shutdownGraceMs: 25_000,
  workers: 1,
  saml: { clockSkewMs: 30_000, maxResponseBytes: 256 * 1024 },
  authFailureLimit: { max: 20, windowMs: 60_000 },
  trustProxy: "loopback",
  smtpUrl: null,
  mailFrom: "Roster <roster@localhost>",
};

describe("loadConfig defaults", () => {
  it("an empty environment gives the documented defaults", () => {
    expect(loadConfig({})).toEqual(defaults);
  });

  it("ignores variables it does not know", () => {
    expect(loadConfig({ HOME: "/root", PATH: "/usr/bin", NODE_ENV: "test" })).toEqual(defaults);
  });

  it("empty variables count as unset", () => {
    const empty = {
      PORT: "",
      HOST: "",
      PUBLIC_URL: "",
      DATABASE_URL: "",
      DATA_DIR: "",
      DB_POOL_MAX: "",
      ROSTER_OPERATOR_TOKEN: "",
      LOG_LEVEL: "",
      DEMO: "",
      MAPPINGS_DIR: "",
      SHUTDOWN_GRACE_MS: "",
    };
    expect(loadConfig(empty)).toEqual(defaults);
  });

  it("blank variables count as unset too: a PORT of spaces is not port 0", () => {
    expect(loadConfig({ PORT: "  ", SHUTDOWN_GRACE_MS: " " })).toEqual(defaults);
  });
});

describe("loadConfig values", () => {
  it.each<[string, NodeJS.ProcessEnv, Partial<Config>]>([
    ["PORT also sets the default PUBLIC_URL", { PORT: "3000" }, { port: 3000, publicUrl: "http://localhost:3000" }],
    ["PORT 0 is allowed", { PORT: "0" }, { port: 0, publicUrl: "http://localhost:0" }],
    ["PORT 65535 is allowed", { PORT: "65535" }, { port: 65535 }],
    [
      "PUBLIC_URL wins over PORT",
      { PORT: "3000", PUBLIC_URL: "https://roster.example.com" },
      { port: 3000, publicUrl: "https://roster.example.com" },
    ],
    [
      "trailing slashes of PUBLIC_URL are dropped",
      { PUBLIC_URL: "https://roster.example.com/base//" },
      { publicUrl: "https://roster.example.com/base" },
    ],
    [
      "postgres:// DATABASE_URL",
      { DATABASE_URL: "postgres://u:p@db:5432/roster" },
      { databaseUrl: "postgres://u:p@db:5432/roster" },
    ],
    [
      "postgresql:// DATABASE_URL",
      { DATABASE_URL: "postgresql://db/roster" },
      { databaseUrl: "postgresql://db/roster" },
    ],
    ["DEMO=false", { DEMO: "false" }, { demo: false }],
    ["LOG_LEVEL", { LOG_LEVEL: "debug" }, { logLevel: "debug" }],
    ["DB_POOL_MAX", { DB_POOL_MAX: "25" }, { dbPoolMax: 25 }],
    ["operator token of 24 characters", { ROSTER_OPERATOR_TOKEN: "x".repeat(24) }, { operatorToken: "x".repeat(24) }],
    [
      "DATA_DIR and MAPPINGS_DIR are made absolute",
      { DATA_DIR: "var/data", MAPPINGS_DIR: "conf/mappings" },
      { dataDir: path.resolve("var/data"), mappingsDir: path.resolve("conf/mappings") },
    ],
    ["SHUTDOWN_GRACE_MS", { SHUTDOWN_GRACE_MS: "0" }, { shutdownGraceMs: 0 }],
    ["WORKERS", { WORKERS: "4" }, { workers: 4 }],
    [
      "AUTH_FAILURE_LIMIT and its window; 0 turns it off",
      { AUTH_FAILURE_LIMIT: "0", AUTH_FAILURE_WINDOW_SECONDS: "300" },
      { authFailureLimit: { max: 0, windowMs: 300_000 } },
    ],
    ["TRUST_PROXY as a hop count", { TRUST_PROXY: "1" }, { trustProxy: 1 }],
    ["TRUST_PROXY as a boolean", { TRUST_PROXY: "false" }, { trustProxy: false }],
    ["TRUST_PROXY as subnets", { TRUST_PROXY: "loopback, 10.0.0.0/8" }, { trustProxy: "loopback, 10.0.0.0/8" }],
  ])("%s", (_name, env, expected) => {
    expect(loadConfig(env)).toMatchObject(expected);
  });
});

describe("loadConfig refuses invalid variables", () => {
  it.each([
    ["PORT", "abc"],
    ["PORT", "70000"],
    ["PORT", "-1"],
    ["PORT", "80.5"],
    ["PUBLIC_URL", "not a url"],
    ["DATABASE_URL", "mysql://db/roster"],
    ["DB_POOL_MAX", "0"],
    ["DB_POOL_MAX", "500"],
    ["ROSTER_OPERATOR_TOKEN", "short"],
    ["LOG_LEVEL", "loud"],
    ["DEMO", "yes"],
    ["SHUTDOWN_GRACE_MS", "-5"],
    ["WORKERS", "0"],
    ["AUTH_FAILURE_LIMIT", "-1"],
    ["AUTH_FAILURE_WINDOW_SECONDS", "0"],
  ])("%s=%s", (name, value) => {
    const message = configError({ [name]: value });
    expect(message).toMatch(/^Invalid configuration:/);
    expect(message).toMatch(new RegExp(`^  ${name}: `, "m"));
  });

  it("lists every invalid variable at once", () => {
    const message = configError({
      PORT: "abc",
      DATABASE_URL: "mysql://db/roster",
      ROSTER_OPERATOR_TOKEN: "short",
      LOG_LEVEL: "loud",
      DEMO: "yes",
      HOST: "example.org",
    });
    const named = [...message.matchAll(/^ {2}([A-Z_]+): /gm)].map((m) => m[1]).sort();
    expect(named).toEqual(["DATABASE_URL", "DEMO", "LOG_LEVEL", "PORT", "ROSTER_OPERATOR_TOKEN"]);
    expect(message).toContain("DATABASE_URL: must be a postgres:// URL");
    expect(message).toContain("ROSTER_OPERATOR_TOKEN: must be at least 24 characters");
  });

  it("an empty variable is not an error, the same variable set to garbage is", () => {
    expect(() => loadConfig({ PORT: "", LOG_LEVEL: "" })).not.toThrow();
    expect(() => loadConfig({ PORT: "x", LOG_LEVEL: "" })).toThrow(/^ {2}PORT: /m);
  });
});

describe("ROSTER_SECRET_KEY", () => {
  it("takes 32 bytes of base64 and refuses anything else with a clear message", () => {
    const key = Buffer.alloc(32, 3);
    expect(loadConfig({ ROSTER_SECRET_KEY: key.toString("base64") }).secretKey).toEqual(key);
    expect(configError({ ROSTER_SECRET_KEY: "too-short" })).toMatch(/ROSTER_SECRET_KEY: must be 32 random bytes/);
  });
});

describe("SMTP_URL and MAIL_FROM", () => {
  it("takes an smtp:// or smtps:// URL and a sender; anything else is refused by name", () => {
    const config = loadConfig({ SMTP_URL: "smtps://user:pass@mail.example.com:465", MAIL_FROM: "Acme <it@acme.test>" });
    expect(config.smtpUrl).toBe("smtps://user:pass@mail.example.com:465");
    expect(config.mailFrom).toBe("Acme <it@acme.test>");
    expect(loadConfig({ SMTP_URL: "smtp://localhost:2525" }).smtpUrl).toBe("smtp://localhost:2525");
    expect(configError({ SMTP_URL: "http://mail.example.com" })).toMatch(/^ {2}SMTP_URL: must be an smtp:\/\//m);
  });
});
