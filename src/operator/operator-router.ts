// The operator API (creating tenants), on only when ROSTER_OPERATOR_TOKEN is set.
import { timingSafeEqual } from "node:crypto";
import { type NextFunction, type Request, type Response, Router } from "express";
import { DomainError } from "../domain/errors.js";
import { bearerToken } from "../admin/admin-auth.js";
import { renewInput, renewTerm } from "../services/billing-service.js";
import type { ServiceDeps } from "../services/context.js";
import { createOrg, createOrgInput } from "../services/orgs-service.js";
import { hashToken } from "../services/secrets.js";
import { reissueOwnerSignInLink } from "../services/tokens-service.js";

export function signInUrl(publicUrl: string, token: string): string {
  return `${publicUrl}/signin/${token}`;
}

export function createOperatorRouter(deps: ServiceDeps, operatorToken: string | null): Router {
  const router = Router();
  // Compare digests so the comparison takes the same time whatever the length of the guess.
  const expected = operatorToken ? Buffer.from(hashToken(operatorToken), "hex") : null;
  const requireOperator = (req: Request, _res: Response, next: NextFunction) => {
    if (!expected)
      throw new DomainError("not_found", "the operator API is off; set ROSTER_OPERATOR_TOKEN to turn it on");
    const token = bearerToken(req);
    if (!token || !timingSafeEqual(Buffer.from(hashToken(token), "hex"), expected))
      throw new DomainError("unauthorized", "a valid operator token is required");
    next();
  };
  router.post("/orgs", requireOperator, async (req, res) => {
    const input = createOrgInput.parse(req.body);
    const created = await createOrg(deps, input, { actor: "operator", requestId: req.id });
    res.status(201).json({
      orgId: created.org.id,
      scimBaseUrl: `${deps.publicUrl}/scim/v2`,
      scimToken: created.scimToken,
      ownerToken: created.ownerToken,
      ownerSignInUrl: signInUrl(deps.publicUrl, created.ownerSignInToken),
    });
  });
  router.post("/orgs/:orgId/signin-link", requireOperator, async (req, res) => {
    const issued = await reissueOwnerSignInLink(deps, String(req.params.orgId), {
      actor: "operator",
      requestId: req.id,
    });
    res
      .status(201)
      .json({ ownerSignInUrl: signInUrl(deps.publicUrl, issued.token), expiresAt: issued.record.expiresAt });
  });
  router.post("/orgs/:orgId/renew", requireOperator, async (req, res) => {
    const input = renewInput.parse(req.body ?? {});
    res.json(await renewTerm(deps, String(req.params.orgId), input, { actor: "operator", requestId: req.id }));
  });
  return router;
}
