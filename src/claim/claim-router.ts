// The public claim of an invitation. GET /claim/{token} is a page that changes nothing (mail scanners and
// link previews open links): it shows the org and the seat and a "Claim seat" button. Only a POST claims:
// the form (POST /claim, then on to /me) or the JSON API (POST /api/v1/claim). Both sign the person in
// with the session /me uses. Every link that cannot be claimed gets the same one answer (410).
import express, { type Request, type Response, Router } from "express";
import helmet from "helmet";
import { DomainError } from "../domain/errors.js";
import type { SessionManager } from "../http/session.js";
import type { ServiceDeps } from "../services/context.js";
import { claimInput, claimInvitation, previewClaim } from "../services/invitations-service.js";
import { escapeHtml } from "../services/mail-messages.js";

const INVALID_MESSAGE = "This claim link is invalid, expired or already used. Ask your administrator for a new one.";

const STYLE =
  "body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#222}" +
  "h1{font-size:1.4rem}button{font:inherit;padding:.6rem 1.2rem;border-radius:.4rem;border:0;background:#1d4ed8;color:#fff;cursor:pointer}" +
  "button:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}";

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer"><meta name="robots" content="noindex"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><main>${body}</main></body></html>`;
}

function invalidPage(res: Response): void {
  res
    .status(410)
    .type("html")
    .send(page("Claim link not valid", `<h1>Claim link not valid</h1><p>${escapeHtml(INVALID_MESSAGE)}</p>`));
}

export function createClaimRouter(deps: ServiceDeps, sessions: SessionManager): Router {
  const router = Router();
  const secure = deps.publicUrl.startsWith("https://");
  const publicOrigin = new URL(deps.publicUrl).origin;
  // The token is in the path: no referrer may carry it away, no cache keep it, no frame show the button.
  const headers = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        styleSrc: ["'unsafe-inline'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
    },
    referrerPolicy: { policy: "no-referrer" },
    strictTransportSecurity: secure,
  });
  const noStore = (_req: Request, res: Response, next: () => void) => {
    res.setHeader("Cache-Control", "no-store");
    next();
  };

  router.get("/claim/:token", headers, noStore, async (req, res) => {
    const token = String(req.params.token);
    const preview = await previewClaim(deps, token);
    if (!preview) return invalidPage(res);
    res.type("html").send(
      page(
        `Claim your seat in ${preview.orgName}`,
        `<h1>${escapeHtml(preview.orgName)}</h1>
<p>You are invited to a <strong>${escapeHtml(preview.seatLabel)}</strong> seat${preview.invitee ? ` as <strong>${escapeHtml(preview.invitee)}</strong>` : ""}.</p>
<form method="post" action="/claim"><input type="hidden" name="token" value="${escapeHtml(token)}"><button type="submit">Claim seat</button></form>`,
      ),
    );
  });

  router.post(
    "/claim",
    headers,
    noStore,
    express.urlencoded({ extended: false, limit: "4kb" }),
    async (req: Request, res: Response) => {
      // Login CSRF: another site must not make a browser claim (and sign in as) an invitee it chose.
      const origin = req.get("origin");
      if (origin && origin !== publicOrigin) {
        res
          .status(403)
          .type("html")
          .send(page("Not allowed", "<h1>Not allowed</h1><p>Open your claim link and press the button there.</p>"));
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
