// Prometheus metrics on a registry of our own (not the global one), so several apps can live in one process:
// requests by route pattern and status with latency histograms, and, read at scrape time, seats per org and
// type, the database pool, and the outbox backlog.
import type { NextFunction, Request, Response } from "express";
import type { Knex } from "knex";
import { collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { countUndeliveredOutbox, readSeatGauges } from "../repositories/metrics-repository.js";

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

/** knex's connection pool (tarn), when the client has one. */
interface PoolLike {
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
  numPendingCreates(): number;
}

function poolOf(db: Knex): PoolLike | null {
  const pool = (db.client as { pool?: Partial<PoolLike> }).pool;
  return pool && typeof pool.numUsed === "function" ? (pool as PoolLike) : null;
}

function addDatabaseGauges(registry: Registry, db: Knex): void {
  new Gauge({
    name: "roster_seats",
    help: "Seats per organization and seat type: purchased, used (held by members), held (for admins), waiting (members queued)",
    labelNames: ["org_id", "seat_type", "state"],
    registers: [registry],
    async collect() {
      this.reset();
      // A scrape during a database outage still answers, without these figures.
      const rows = await readSeatGauges(db).catch(() => []);
      for (const r of rows) {
        const labels = { org_id: r.orgId, seat_type: r.seatType };
        this.set({ ...labels, state: "purchased" }, r.purchased);
        this.set({ ...labels, state: "used" }, r.used);
        this.set({ ...labels, state: "held" }, r.held);
        this.set({ ...labels, state: "waiting" }, r.waiting);
      }
    },
  });
  new Gauge({
    name: "roster_outbox_undelivered",
    help: "Outbox events written and not delivered yet",
    registers: [registry],
    async collect() {
      this.reset();
      const n = await countUndeliveredOutbox(db).catch(() => null);
      if (n !== null) this.set(n);
    },
  });
  new Gauge({
    name: "roster_db_pool_connections",
    help: "Database pool of this process: connections used and free, requests waiting for one, connections being opened",
    labelNames: ["state"],
    registers: [registry],
    collect() {
      this.reset();
      const pool = poolOf(db);
      if (!pool) return;
      this.set({ state: "used" }, pool.numUsed());
      this.set({ state: "free" }, pool.numFree());
      this.set({ state: "pending_acquires" }, pool.numPendingAcquires());
      this.set({ state: "pending_creates" }, pool.numPendingCreates());
    },
  });
}

export function createMetrics(db?: Knex): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const duration = new Histogram({
    name: "roster_http_request_duration_seconds",
    help: "HTTP request duration by route and status",
    labelNames: ["method", "route", "status"],
    buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  if (db) addDatabaseGauges(registry, db);
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
