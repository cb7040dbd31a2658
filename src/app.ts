// Express wiring only: builds the app from ready-made dependencies and reads no environment.
import express, { type Express } from "express";
import type { Knex } from "knex";
import { createAdminRouter } from "./admin/admin-router.js";
import { createConsoleRouter } from "./console/console-router.js";
import { pageSecurityHeaders } from "./console/security.js";
import { createClaimRouter } from "./claim/claim-router.js";
import { openApiDocument } from "./admin/openapi.js";
import { DomainError } from "./domain/errors.js";
import { AuthFailureLimiter, type AuthFailureLimit, DEFAULT_AUTH_FAILURE_LIMIT } from "./http/auth-failures.js";
import { createJsonErrorHandler, notFound } from "./http/errors.js";
import { nestsDeeperThan, TOO_DEEP_MESSAGE } from "./http/json-depth.js";
import { createMetrics } from "./http/metrics.js";
import { requestContext } from "./http/request-context.js";
import { createSessionManager, type SessionCodec } from "./http/session.js";
import type { Logger } from "./logger.js";
import { createOperatorRouter } from "./operator/operator-router.js";
import { createMeRouter } from "./me/me-router.js";
import { createSamlRouter } from "./saml/saml-router.js";
import { createScimRouter } from "./scim/scim-router.js";
import type { ServiceDeps } from "./services/context.js";
import { createSessionStore } from "./services/sessions-service.js";

export interface AppDeps extends ServiceDeps {
  db: Knex;
  logger: Logger;
  sessions: SessionCodec;
  operatorToken: string | null;
  /** Failed authentications allowed per client address (default 20 a minute). */
  authFailureLimit?: AuthFailureLimit;
  /** express's `trust proxy`: which proxies' X-Forwarded-For names the client (default loopback). */
  trustProxy?: boolean | number | string;
}

export function buildApp(deps: AppDeps): Express {
  const app = express();
  app.disable("x-powered-by");
  // SCIM sets resource ETags itself (W/"<version>"); express's body hashes on lists and errors mean nothing.
  app.set("etag", false);
  // The client address (rate limits, logs) comes from X-Forwarded-For only when a trusted proxy sent it.
  app.set("trust proxy", deps.trustProxy ?? "loopback");
  const authFailures = new AuthFailureLimiter(deps.authFailureLimit ?? DEFAULT_AUTH_FAILURE_LIMIT);
  const sessions = createSessionManager(deps.sessions, createSessionStore(deps));
  const metrics = createMetrics(deps.db);
  app.use(requestContext(deps.logger));
  app.use(metrics.middleware);
  // SCIM parses its own bodies (larger limit for Bulk and big group PATCHes) and answers in SCIM's format.
  app.use("/scim/v2", createScimRouter(deps, authFailures));
  app.use(express.json({ limit: "1mb", type: ["application/json", "application/*+json"] }));
  app.use((req, _res, next) => {
    if (req.body !== undefined && nestsDeeperThan(req.body)) throw new DomainError("invalid_request", TOO_DEEP_MESSAGE);
    next();
  });

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  app.get("/readyz", async (_req, res) => {
    try {
      await deps.db.raw("select 1");
      res.json({ status: "ready" });
    } catch {
      res
        .status(503)
        .setHeader("Retry-After", "5")
        .json({ error: "unavailable", message: "the database is unreachable" });
    }
  });
  app.get("/metrics", async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  const openApi = openApiDocument(deps.publicUrl);
  app.get("/api/v1/openapi.json", (_req, res) => {
    res.json(openApi);
  });
  app.use(createClaimRouter(deps, sessions));
  app.use("/api/v1", createOperatorRouter(deps, deps.operatorToken));
  app.use("/api/v1/orgs/:orgId", createAdminRouter(deps, sessions));
  app.use("/saml", createSamlRouter(deps, sessions));
  // Every HTML page (console, /me, sign-in links) gets the security headers.
  const pageHeaders = pageSecurityHeaders(deps.publicUrl);
  app.use(["/admin", "/me", "/signin"], pageHeaders);
  app.use("/admin", createConsoleRouter(deps, sessions));
  app.use(createMeRouter(deps, sessions));

  app.use("/api", (_req, _res, next) => next(new DomainError("not_found", "no such endpoint")));
  app.use(notFound);
  app.use(createJsonErrorHandler(authFailures));
  return app;
}
