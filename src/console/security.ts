// Security headers for every HTML page Roster serves (console, /me, sign-in): a CSP with no inline script or
// style (the CSS and the one small script are files), no framing, nosniff, no referrer to other sites.
import helmet from "helmet";

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
