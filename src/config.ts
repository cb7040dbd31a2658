// The one place that reads process.env: validated once at start, every problem listed together.
import path from "node:path";
import { z } from "zod";
import { parseSecretKey } from "./services/secret-box.js";

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().default("0.0.0.0"),
  PUBLIC_URL: z.url().optional(),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL")
    .optional(),
  DATA_DIR: z.string().default("./data"),
  DB_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  ROSTER_OPERATOR_TOKEN: z.string().min(24, "must be at least 24 characters").optional(),
  ROSTER_SECRET_KEY: z
    .string()
    .refine(
      (v) => Buffer.from(v.trim(), "base64").length === 32,
      "must be 32 random bytes in base64 (openssl rand -base64 32)",
    )
    .optional(),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, "must be an smtp:// or smtps:// URL (smtp://user:pass@host:587)")
    .optional(),
  MAIL_FROM: z.string().min(3).max(320).default("Roster <roster@localhost>"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  DEMO: z.enum(["true", "false"]).default("true"),
  MAPPINGS_DIR: z.string().default("./mappings"),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(25_000),
  WORKERS: z.coerce.number().int().min(1).max(64).default(1),
  AUTH_FAILURE_LIMIT: z.coerce.number().int().min(0).max(100_000).default(20),
  AUTH_FAILURE_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
  TRUST_PROXY: z.string().max(1000).default("loopback"),
  SAML_CLOCK_SKEW_MS: z.coerce.number().int().min(0).max(300_000).default(30_000),
  SAML_MAX_RESPONSE_BYTES: z.coerce
    .number()
    .int()
    .min(4096)
    .max(4 * 1024 * 1024)
    .default(256 * 1024),
});

export interface Config {
  port: number;
  host: string;
  publicUrl: string;
  /** null: embedded PGlite in dataDir. */
  databaseUrl: string | null;
  dataDir: string;
  dbPoolMax: number;
  operatorToken: string | null;
  /** Encrypts stored secrets (secret-box.ts); null: a key kept in the database. */
  secretKey: Buffer | null;
  logLevel: z.infer<typeof envSchema>["LOG_LEVEL"];
  demo: boolean;
  mappingsDir: string;
  shutdownGraceMs: number;
  /** Server processes sharing the port (node:cluster); more than 1 needs databaseUrl. */
  workers: number;
  saml: { clockSkewMs: number; maxResponseBytes: number };
  /** Failed authentications per client address and window before 429 (max 0: off). */
  authFailureLimit: { max: number; windowMs: number };
  /** express's `trust proxy`: true/false, a hop count, or addresses/subnets ("loopback", "10.0.0.0/8"). */
  trustProxy: boolean | number | string;
  /** null: no email is sent (admins copy claim links). */
  smtpUrl: string | null;
  mailFrom: string;
}

function parseTrustProxy(value: string): boolean | number | string {
  const v = value.trim();
  if (v === "true" || v === "false") return v === "true";
  return /^\d+$/.test(v) ? Number(v) : v;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty or blank variables count as unset, as in most shells' `FOO= cmd` (a blank PORT is not port 0).
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ""));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`).join("\n");
    throw new Error(`Invalid configuration:\n${problems}`);
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    host: e.HOST,
    publicUrl: (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ""),
    databaseUrl: e.DATABASE_URL ?? null,
    dataDir: path.resolve(e.DATA_DIR),
    dbPoolMax: e.DB_POOL_MAX,
    operatorToken: e.ROSTER_OPERATOR_TOKEN ?? null,
    secretKey: e.ROSTER_SECRET_KEY ? parseSecretKey(e.ROSTER_SECRET_KEY) : null,
    logLevel: e.LOG_LEVEL,
    demo: e.DEMO === "true",
    mappingsDir: path.resolve(e.MAPPINGS_DIR),
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    workers: e.WORKERS,
    saml: { clockSkewMs: e.SAML_CLOCK_SKEW_MS, maxResponseBytes: e.SAML_MAX_RESPONSE_BYTES },
    authFailureLimit: { max: e.AUTH_FAILURE_LIMIT, windowMs: e.AUTH_FAILURE_WINDOW_SECONDS * 1000 },
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
    smtpUrl: e.SMTP_URL ?? null,
    mailFrom: e.MAIL_FROM,
  };
}
