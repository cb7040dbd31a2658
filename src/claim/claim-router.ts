// The public claim of an invitation. GET /claim/{token} is a page that changes nothing (mail scanners and
// link previews open links): it shows the org and the seat and a "Claim seat" button. Only a POST claims:
// the form (POST /claim, then on to /me) or the JSON API (POST /api/v1/claim). Both sign the person in
// with the session /me uses. Every link that cannot be claimed gets the same one answer (410).
import express, { type Request, type Response, Router } from "express";
import helmet from "helmet";
import { h } from "preact";
import { sendPage } from "../console/layout.js";
import { sameOrigin } from "../console/security.js";
import { CLAIM_INVALID_MESSAGE, ClaimPage, ClaimProblemPage } from "../console/pages/claim.js";
import { DomainError } from "../domain/errors.js";
import type { SessionManager } from "../http/session.js";
import type { ServiceDeps } from "../services/context.js";
import { claimInput, claimInvitation, previewClaim } from "../services/invitations-service.js";

function invalidPage(res: Response): void {
  sendPage(res, 410, h(ClaimProblemPage, { title: "Claim link not valid", message: CLAIM_INVALID_MESSAGE }));
}

export function createClaimRouter(deps: ServiceDeps, sessions: SessionManager): Router {
  const router = Router();
  const secure = deps.publicUrl.startsWith("https://");
  // The token is in the path: no referrer may carry it away, no cache keep it, no frame show the button.
  const headers = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        // The console's stylesheet, copy script and icon (files, never inline).
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", "data:"],
        formAction: ["'self'"],
        objectSrc: ["'none'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
    },
    // strict-origin, not no-referrer: the path (with the token) never leaves in a Referer, yet the claim
    // form's POST still carries its Origin (under no-referrer browsers send "Origin: null", which the
    // login-CSRF check must refuse).
    referrerPolicy: { policy: "strict-origin" },
    strictTransportSecurity: secure ? { maxAge: 31_536_000 } : false,
    frameguard: { action: "deny" },
    crossOriginEmbedderPolicy: false,
  });
  const noStore = (_req: Request, res: Response, next: () => void) => {
    res.setHeader("Cache-Control", "no-store");
    next();
  };

  router.get("/claim/:token", headers, noStore, async (req, res) => {
    const token = String(req.params.token);
    const preview = await previewClaim(deps, token);
    if (!preview) return invalidPage(res);
    sendPage(res, 200, h(ClaimPage, { token, ...preview }));
  });

  router.post(
    "/claim",
    headers,
    noStore,
    express.urlencoded({ extended: false, limit: "4kb" }),
    async (req: Request, res: Response) => {
      // Login CSRF: another site must not make a browser claim (and sign in as) an invitee it chose.
      if (!sameOrigin(req, deps.publicUrl)) {
        sendPage(
          res,
          403,
          h(ClaimProblemPage, {
            title: "Not allowed",
            message: "This form did not come from Roster. Open your claim link and press the button there.",
          }),
        );
        return;
      }
      const token = typeof req.body?.token === "string" ? req.body.token : "";
      try {
        const claimed = await claimInvitation(deps, token, req.id);
        await sessions.start(res, { orgId: claimed.orgId, memberId: claimed.memberId }, secure, deps.now());
        res.redirect(303, "/me");
      } catch (error) {
        if (error instanceof DomainError && error.code === "claim_link_invalid") return invalidPage(res);
        throw error;
      }
    },
  );

  router.post("/api/v1/claim", noStore, async (req, res) => {
    const body = claimInput.parse(req.body ?? {});
    const claimed = await claimInvitation(deps, body.token, req.id);
    await sessions.start(res, { orgId: claimed.orgId, memberId: claimed.memberId }, secure, deps.now());
    res.json(claimed);
  });

  return router;
}
