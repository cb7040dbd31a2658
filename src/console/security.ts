// Security headers for every HTML page Roster serves (console, /me, sign-in): a CSP with no inline script or
// style (the CSS and the one small script are files), no framing, nosniff, no referrer to other sites.
import type { Request } from "express";
import helmet from "helmet";

/**
 * A form POST from one of our own pages: its Origin is the public URL's or this request's own host (a
 * cross-site form carries the other site's origin). Browsers send Origin on every form POST; a request
 * without one is not a browser's cross-site form; "null" (sandboxed frames, some redirects) is refused.
 */
export function sameOrigin(req: Request, publicUrl: string): boolean {
  const origin = req.get("origin");
  if (!origin) return true;
  if (origin === "null") return false;
  const own = [new URL(publicUrl).origin, `${req.protocol}://${req.get("host")}`];
  return own.includes(origin);
}

export function pageSecurityHeaders(publicUrl: string) {
  const https = publicUrl.startsWith("https://");
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", "data:"],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        objectSrc: ["'none'"],
        // Over plain http (development, tests) upgrading would break the page's own CSS.
        ...(https ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    strictTransportSecurity: https ? { maxAge: 31_536_000 } : false,
    referrerPolicy: { policy: "same-origin" },
    frameguard: { action: "deny" },
    crossOriginEmbedderPolicy: false,
  });
}
