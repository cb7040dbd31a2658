// The real app over a test database, for supertest.
import type { Express } from "express";
import type { Knex } from "knex";
import { buildApp } from "../../src/app.js";
import { createSessionCodec } from "../../src/http/session.js";
import { createLogger } from "../../src/logger.js";
import { testDeps } from "./factories.js";

export const OPERATOR_TOKEN = "test-operator-token-0123456789abcdef";

export function testApp(db: Knex, options: { now?: () => Date; allowPrivateWebhooks?: boolean } = {}): Express {
  const deps = testDeps(db, options.now);
  return buildApp({
    ...deps,
    webhooks: { allowPrivate: options.allowPrivateWebhooks ?? true },
    logger: createLogger("silent"),
    sessions: createSessionCodec("test-session-key"),
    operatorToken: OPERATOR_TOKEN,
  });
}
