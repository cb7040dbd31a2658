// A request id (taken from X-Request-Id when sane, else new) and a child logger per request. Logs method,
// route and status only: never bodies, query strings or credentials.
import { randomUUID } from "node:crypto";
import type { NextFunction, Request, Response } from "express";
import type { Logger } from "../logger.js";

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      id: string;
      log: Logger;
    }
  }
}

const SAFE_ID = /^[A-Za-z0-9._-]{1,64}$/;

export function requestContext(logger: Logger) {
  const logsRequests = logger.isLevelEnabled("info");
  return (req: Request, res: Response, next: NextFunction) => {
    const incoming = req.get("x-request-id");
    const id = incoming && SAFE_ID.test(incoming) ? incoming : randomUUID();
    req.id = id;
    // The child logger is made when something logs (most requests log nothing at the default level).
    let child: Logger | null = null;
    Object.defineProperty(req, "log", {
      configurable: true,
      enumerable: false,
      get: () => (child ??= logger.child({ requestId: id })),
    });
    res.setHeader("X-Request-Id", id);
    if (logsRequests) {
      const started = process.hrtime.bigint();
      res.on("finish", () => {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        // The full path (not the router-relative one), never the query string; a link's token is cut off:
        // /signin/<token> becomes /signin/…, /claim/<token> becomes /claim/….
        const fullPath = `${req.baseUrl}${req.path}`;
        const secretPath = /^\/(signin|claim)\/./.exec(fullPath);
        const path = secretPath ? `/${secretPath[1]}/…` : fullPath;
        req.log.info({ method: req.method, path, status: res.statusCode, ms: Math.round(ms * 10) / 10 }, "request");
      });
    }
    next();
  };
}
