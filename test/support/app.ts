// The real app over a test database, for supertest.
import type { Express } from "express";
import type { Knex } from "knex";
import { buildApp } from "../../src/app.js";
import type { AuthFailureLimit } from "../../src/http/auth-failures.js";
import { createSessionCodec } from "../../src/http/session.js";
import { createLogger } from "../../src/logger.js";
import { testDeps } from "./factories.js";

export const OPERATOR_TOKEN = "test-operator-token-0123456789abcdef";

export interface TestAppOptions {
  now?: () => Date;
  /** Off unless a test asks: many tests send bad credentials on purpose, more than 20 a minute. */
  authFailureLimit?: AuthFailureLimit;
  trustProxy?: boolean | number | string;
}

export function testApp(db: Knex, options: TestAppOptions = {}): Express {
  const deps = testDeps(db, options.now);
  return buildApp({
    ...deps,
    logger: createLogger("silent"),
    sessions: createSessionCodec("test-session-key"),
    operatorToken: OPERATOR_TOKEN,
    authFailureLimit: options.authFailureLimit ?? { max: 0, windowMs: 60_000 },
    trustProxy: options.trustProxy,
  });
}
