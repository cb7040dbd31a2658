// Prometheus metrics on a registry of our own (not the global one), so several apps can live in one process.
import type { NextFunction, Request, Response } from "express";
import { collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export interface Metrics {
  registry: Registry;
  middleware: (req: Request, res: Response, next: NextFunction) => void;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * The matched route pattern. req.baseUrl is the concrete mount path (/api/v1/orgs/<orgId>), so its
 * parameter values are put back as :names; otherwise every org id became a label value of its own.
 */
function routeLabel(req: Request): string {
  if (!req.route?.path) return "unmatched";
  const params = Object.entries((req.params ?? {}) as Record<string, string>);
  const base = req.baseUrl
    .split("/")
    .map((segment) => {
      const hit = segment ? params.find(([, value]) => value === decodeSegment(segment)) : undefined;
      return hit ? `:${hit[0]}` : segment;
    })
    .join("/");
  return `${base}${req.route.path}`;
}

/** Work waiting after commit, read when /metrics is scraped: outbox rows per channel, webhook deliveries. */
export type BacklogReader = () => Promise<{ outbox: Record<string, number>; webhookDeliveries: number }>;

export function createMetrics(options: { backlog?: BacklogReader } = {}): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const backlog = options.backlog;
  if (backlog) {
    // One read serves both gauges of a scrape.
    let pending: ReturnType<BacklogReader> | null = null;
    const read = () => {
      pending ??= backlog().finally(() => setTimeout(() => (pending = null), 0));
      return pending;
    };
    new Gauge({
      name: "roster_outbox_backlog",
      help: "Outbox rows not yet delivered, by channel (events: not yet fanned out to webhooks; mail)",
      labelNames: ["channel"],
      registers: [registry],
      async collect() {
        const { outbox } = await read();
        this.reset();
        for (const [channel, n] of Object.entries(outbox)) this.set({ channel }, n);
      },
    });
    new Gauge({
      name: "roster_webhook_backlog",
      help: "Webhook deliveries waiting to be sent (all endpoints)",
      registers: [registry],
      async collect() {
        this.set((await read()).webhookDeliveries);
      },
    });
  }
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
