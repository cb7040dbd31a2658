// A request id (taken from X-Request-Id when sane, else new) and a child logger per request. Logs method,
// route and status only: never bodies, query strings or credentials.
import { randomUUID } from "node:crypto";
const SAFE_ID = /^[A-Za-z0-9._-]{1,64}$/;
export function requestContext(logger) {
    const logsRequests = logger.isLevelEnabled("info");
    return (req, res, next) => {
        const incoming = req.get("x-request-id");
        const id = incoming && SAFE_ID.test(incoming) ? incoming : randomUUID();
        req.id = id;
        // The child logger is made when something logs (most requests log nothing at the default level).
        let child = null;
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
                // The full path (not the router-relative one), never the query string; /signin/<token> becomes /signin/….
                const fullPath = `${req.baseUrl}${req.path}`;
                const path = fullPath.startsWith("/signin/") ? "/signin/…" : fullPath;
                req.log.info({ method: req.method, path, status: res.statusCode, ms: Math.round(ms * 10) / 10 }, "request");
            });
        }
        next();
    };
}
//# sourceMappingURL=request-context.js.map