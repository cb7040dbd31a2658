// Admin API for buying seats (DOMAIN §4): quote (admin+), purchase, reductions and billing (owner+).
import type { Router } from "express";
import type { Charge } from "../repositories/billing-repository.js";
import {
  billingOverview,
  idempotencyKey,
  purchaseInput,
  purchaseSeats,
  quoteInput,
  quoteSeats,
  reductionInput,
  scheduleReduction,
} from "../services/billing-service.js";
import type { ServiceDeps } from "../services/context.js";
import { seatOverview } from "../services/orgs-service.js";
import { requirePermission } from "./admin-auth.js";

export function presentCharge(c: Charge) {
  return { id: c.id, at: c.at, lines: c.lines, total: c.total, currency: c.currency, createdBy: c.createdBy };
}

export function addBillingRoutes(router: Router, deps: ServiceDeps): void {
  router.post("/seats/quote", requirePermission("quote_seats"), async (req, res) => {
    const body = quoteInput.parse(req.body);
    res.json(await quoteSeats(deps, req.principal!.orgId, body));
  });

  router.post("/seats/purchase", requirePermission("purchase_seats"), async (req, res) => {
    const body = purchaseInput.parse(req.body);
    const header = req.get("idempotency-key");
    const key = header === undefined ? null : idempotencyKey.parse(header);
    const principal = req.principal!;
    const purchase = await purchaseSeats(deps, principal.orgId, body, key, {
      actor: principal.actor,
      requestId: req.id,
    });
    if (purchase.replayed) res.setHeader("Idempotent-Replayed", "true");
    const overview = await seatOverview(deps, principal.orgId);
    res.json({ seatTypes: overview.seatTypes, charge: presentCharge(purchase.charge), promoted: purchase.promoted });
  });

  router.post("/seats/reductions", requirePermission("purchase_seats"), async (req, res) => {
    const body = reductionInput.parse(req.body);
    const principal = req.principal!;
    res.json(await scheduleReduction(deps, principal.orgId, body, { actor: principal.actor, requestId: req.id }));
  });

  router.get("/billing", requirePermission("view_billing"), async (req, res) => {
    const billing = await billingOverview(deps, req.principal!.orgId);
    res.json({ ...billing, charges: billing.charges.map(presentCharge) });
  });
}
