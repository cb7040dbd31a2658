import { collectDefaultMetrics, Histogram, Registry } from "prom-client";
function decodeSegment(segment) {
    try {
        return decodeURIComponent(segment);
    }
    catch {
        return segment;
    }
}
/**
 * The matched route pattern. req.baseUrl is the concrete mount path (/api/v1/orgs/<orgId>), so its
 * parameter values are put back as :names; otherwise every org id became a label value of its own.
 */
function routeLabel(req) {
    if (!req.route?.path)
        return "unmatched";
    const params = Object.entries((req.params ?? {}));
    const base = req.baseUrl
        .split("/")
        .map((segment) => {
        const hit = segment ? params.find(([, value]) => value === decodeSegment(segment)) : undefined;
        return hit ? `:${hit[0]}` : segment;
    })
        .join("/");
    return `${base}${req.route.path}`;
}
export function createMetrics() {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const duration = new Histogram({
        name: "roster_http_request_duration_seconds",
        help: "HTTP request duration by route and status",
        labelNames: ["method", "route", "status"],
        buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
        registers: [registry],
    });
    return {
        registry,
        middleware(req, res, next) {
            const end = duration.startTimer();
            res.on("finish", () => {
                // The matched route pattern, never the raw path: ids and tokens stay out of label values.
                end({ method: req.method, route: routeLabel(req), status: String(res.statusCode) });
            });
            next();
        },
    };
}
//# sourceMappingURL=metrics.js.map