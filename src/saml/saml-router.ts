// /saml/{orgId}/metadata | login | acs. passport with @node-saml/passport-saml's MultiSamlStrategy, its
// options built per request from the org's connection, safer than node-saml's defaults: SHA-256, signed
// assertions required, InResponseTo always checked (unless the org allows IdP-initiated sign-in) against a
// store in PostgreSQL that every process shares. Around node-saml, the numbered pipeline of the checks it
// leaves to the application. The client learns only "sign-in failed"; the log gets the reason.
import express, { type ErrorRequestHandler, type NextFunction, type Request, type Response, Router } from "express";
import { MultiSamlStrategy, type Profile, type SamlConfig, ValidateInResponseTo } from "@node-saml/passport-saml";
import { Passport } from "passport";
import { toDomainError } from "../db/to-domain-error.js";
import { readIdentity } from "../domain/attribute-profile.js";
import { DomainError } from "../domain/errors.js";
import type { SessionManager } from "../http/session.js";
import type { SamlConnection } from "../repositories/saml-repository.js";
import { type ServiceDeps, loadOrg } from "../services/context.js";
import { signInWithAssertion } from "../services/jit-service.js";
import {
  findAuthnRequest,
  findConnectionForSignIn,
  forgetAuthnRequest,
  NAME_ID_FORMATS,
  pruneSignInStores,
  rememberAuthnRequest,
  samlEndpoints,
  spKeyMaterial,
  type SpKeyMaterial,
  useAssertionOnce,
} from "../services/saml-connections-service.js";
import { decryptAssertion } from "./decrypt-assertion.js";
import {
  checkEnvelope,
  checkSignedAssertion,
  decodeResponse,
  refuseSha1,
  safeReturnPath,
  SamlRejection,
} from "./saml-checks.js";
import { spMetadataXml } from "./sp-metadata.js";

const REQUEST_ID_LIFETIME_MS = 10 * 60 * 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      samlConnection?: SamlConnection;
      samlKeys?: SpKeyMaterial;
    }
  }
}

function page(res: Response, status: number, title: string, message: string): void {
  res
    .status(status)
    .type("html")
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1><p>${message}</p></body></html>`,
    );
}

/** The one answer to every refused assertion, whatever the reason (which goes to the log only). */
function failedSignIn(res: Response): void {
  page(
    res,
    401,
    "Sign-in failed",
    "Your sign-in could not be completed. Try again from your company's sign-in page, or ask your administrator.",
  );
}

export function samlOptions(deps: ServiceDeps, connection: SamlConnection, keys?: SpKeyMaterial): SamlConfig {
  const urls = samlEndpoints(deps.publicUrl, connection.orgId);
  // Only when the IdP asks for signed AuthnRequests: node-saml signs the Redirect binding's query.
  const signing = connection.signAuthnRequests && keys?.signingKey ? { privateKey: keys.signingKey } : {};
  return {
    ...signing,
    callbackUrl: urls.acsUrl,
    issuer: urls.spEntityId,
    audience: urls.spEntityId,
    entryPoint: connection.ssoUrl,
    idpIssuer: connection.idpEntityId,
    idpCert: connection.certificates,
    wantAssertionsSigned: true,
    // Okta and Entra sign the assertion by default and the envelope only optionally.
    wantAuthnResponseSigned: false,
    signatureAlgorithm: "sha256",
    digestAlgorithm: "sha256",
    acceptedClockSkewMs: deps.saml.clockSkewMs,
    validateInResponseTo: connection.allowIdpInitiated ? ValidateInResponseTo.ifPresent : ValidateInResponseTo.always,
    requestIdExpirationPeriodMs: REQUEST_ID_LIFETIME_MS,
    identifierFormat: connection.nameIdFormat,
    disableRequestedAuthnContext: true,
    cacheProvider: {
      saveAsync: async (key, value) => {
        await rememberAuthnRequest(deps, connection.orgId, key);
        return { value, createdAt: deps.now().getTime() };
      },
      getAsync: async (key) => {
        const created = await findAuthnRequest(deps, connection.orgId, key, REQUEST_ID_LIFETIME_MS);
        return created ? created.toISOString() : null;
      },
      removeAsync: async (key) => (key && (await forgetAuthnRequest(deps, connection.orgId, key)) ? key : null),
    },
  };
}

export function createSamlRouter(deps: ServiceDeps, sessions: SessionManager): Router {
  const router = Router();
  const passport = new Passport();
  // The verify callbacks only hand the profile on: every decision is made in the ACS pipeline below.
  const passOn = (
    _req: unknown,
    profile: Profile | null,
    done: (err: Error | null, user?: Record<string, unknown>) => void,
  ) => done(null, profile as unknown as Record<string, unknown>);
  const strategy = new MultiSamlStrategy(
    {
      passReqToCallback: true,
      getSamlOptions(req, done) {
        const connection = (req as unknown as Request).samlConnection;
        if (!connection) return done(new SamlRejection("no SAML connection for this org"));
        done(null, samlOptions(deps, connection, (req as unknown as Request).samlKeys));
      },
    },
    passOn,
    passOn,
  );
  // passport-saml ships its own copy of express's types; the strategy is the same object at run time.
  passport.use("saml", strategy as unknown as Parameters<typeof passport.use>[1]);
  const secure = deps.publicUrl.startsWith("https://");

  // A body the parser refuses (far too large, malformed) is a failed sign-in like any other: the same
  // generic 401 page, not the admin API's JSON error naming the reason.
  const bodyRefused: ErrorRequestHandler = (error: unknown, req, res, next) => {
    const type = (error as { type?: unknown } | null)?.type;
    const fromBodyParser =
      typeof type === "string" &&
      (type.startsWith("entity.") || type.startsWith("parameters.") || type.endsWith(".unsupported"));
    if (!fromBodyParser) return next(error);
    req.log.warn(
      { orgId: String(req.params.orgId), reason: `request body refused: ${type}` },
      "saml assertion rejected",
    );
    failedSignIn(res);
  };

  const loadConnection = async (req: Request, res: Response, next: NextFunction) => {
    const orgId = String(req.params.orgId);
    const connection = UUID.test(orgId) ? await findConnectionForSignIn(deps, orgId) : null;
    if (!connection)
      return page(
        res,
        404,
        "Single sign-on is not set up",
        "This organization has not configured SAML single sign-on.",
      );
    req.samlConnection = connection;
    req.samlKeys = await spKeyMaterial(deps, orgId);
    next();
  };

  router.get("/:orgId/metadata", async (req, res) => {
    const orgId = String(req.params.orgId);
    if (!UUID.test(orgId)) throw new DomainError("not_found", "no such organization");
    await loadOrg(deps, deps.db, orgId);
    const urls = samlEndpoints(deps.publicUrl, orgId);
    const connection = await findConnectionForSignIn(deps, orgId);
    const keys = await spKeyMaterial(deps, orgId);
    const xml = spMetadataXml({
      entityId: urls.spEntityId,
      acsUrl: urls.acsUrl,
      nameIdFormat: connection?.nameIdFormat ?? NAME_ID_FORMATS.emailAddress,
      certificates: keys.certificates,
      authnRequestsSigned: Boolean(connection?.signAuthnRequests && keys.signingKey),
    });
    res.type("application/samlmetadata+xml").send(xml);
  });

  router.get("/:orgId/login", loadConnection, (req, res, next) => {
    // Only Roster chooses the RelayState: a relative path from ?returnTo, never a URL from the query.
    // passport-saml takes ?RelayState before the body's, so the query loses it (Express 5's req.query is
    // a getter: an own property shadows it for this request).
    const { RelayState: _fromQuery, ...query } = req.query;
    Object.defineProperty(req, "query", { value: query, configurable: true, enumerable: true });
    (req as Request & { body: unknown }).body = { RelayState: safeReturnPath(query.returnTo) };
    passport.authenticate("saml", { session: false })(req, res, next);
  });

  router.post(
    "/:orgId/acs",
    express.urlencoded({ extended: false, limit: Math.ceil(deps.saml.maxResponseBytes * 1.4) + 4096 }),
    bodyRefused,
    loadConnection,
    async (req: Request, res: Response, next: NextFunction) => {
      const connection = req.samlConnection as SamlConnection;
      const urls = samlEndpoints(deps.publicUrl, connection.orgId);
      try {
        // 1–3 size, encoding, DOCTYPE, comments; an encrypted assertion decrypted in place (or refused when
        // the connection requires encryption and it is not); SHA-1; 4–7 Destination, Issuer, Success, one
        // Assertion. node-saml then reads the decrypted document.
        const received = decodeResponse(req.body?.SAMLResponse, deps.saml.maxResponseBytes);
        const xml = await decryptAssertion(received, req.samlKeys?.decryptionKeys ?? [], {
          required: connection.requireEncryptedAssertions,
        });
        refuseSha1(xml);
        checkEnvelope(xml, { acsUrl: urls.acsUrl, idpEntityId: connection.idpEntityId });
        if (xml !== received) req.body.SAMLResponse = Buffer.from(xml, "utf8").toString("base64");
        // 8. node-saml: signature by a trusted certificate on the assertion it returns, issuer, audience,
        //    time window with the allowed skew, InResponseTo against the shared store.
        const profile = await new Promise<Profile>((resolve, reject) => {
          passport.authenticate(
            "saml",
            { session: false },
            (err: unknown, user: Profile | false, info: { message?: string } | undefined) => {
              if (err)
                reject(
                  err instanceof SamlRejection
                    ? err
                    : new SamlRejection(`node-saml: ${(err as Error).message ?? String(err)}`),
                );
              else if (!user) reject(new SamlRejection(`node-saml: ${info?.message ?? "no profile"}`));
              else resolve(user);
            },
          )(req, res, next);
        });
        // 9–10. Issuer, Recipient, bearer window and InResponseTo on the verified assertion; then replay: each assertion is accepted once, in any process.
        const facts = checkSignedAssertion(profile.getAssertionXml?.() ?? "", {
          acsUrl: urls.acsUrl,
          idpEntityId: connection.idpEntityId,
          inResponseTo: typeof profile.inResponseTo === "string" ? profile.inResponseTo : null,
          clockSkewMs: deps.saml.clockSkewMs,
          now: deps.now(),
        });
        if (!(await useAssertionOnce(deps, connection.orgId, facts.assertionId, facts.notOnOrAfter)))
          throw new SamlRejection("assertion replayed");
        // 11. Who it is, read with the org's attribute profile; then JIT through the seat allocator.
        const identity = readIdentity(
          deps.attributeProfiles.get(connection.attributeProfile),
          profile as unknown as Record<string, unknown>,
          profile.nameID ?? null,
        );
        if (!identity) throw new SamlRejection("assertion carries no usable email");
        const member = await signInWithAssertion(deps, connection.orgId, identity, req.id);
        await sessions.start(res, { orgId: connection.orgId, memberId: member.id }, secure, deps.now());
        req.log.info({ orgId: connection.orgId, memberId: member.id }, "saml sign-in");
        res.redirect(303, safeReturnPath(req.body?.RelayState));
        void pruneSignInStores(deps, REQUEST_ID_LIFETIME_MS).catch(() => undefined);
      } catch (error) {
        if (error instanceof SamlRejection) {
          req.log.warn({ orgId: connection.orgId, reason: error.reason }, "saml assertion rejected");
          return failedSignIn(res);
        }
        const known = toDomainError(error);
        if (known instanceof DomainError && known.code === "forbidden") {
          req.log.warn({ orgId: connection.orgId, reason: known.message }, "saml sign-in refused");
          return page(
            res,
            403,
            "Sign-in refused",
            "Your account in this organization is deactivated. Ask your administrator.",
          );
        }
        throw error;
      }
    },
  );

  router.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
    const known = toDomainError(error);
    if (known instanceof DomainError && known.code === "unavailable") {
      res.setHeader("Retry-After", "5");
      return page(res, 503, "Try again shortly", "Sign-in is briefly unavailable.");
    }
    if (known instanceof DomainError && known.code === "not_found")
      return page(res, 404, "Not found", "No such organization.");
    next(error);
  });
  return router;
}
