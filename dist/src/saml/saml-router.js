// /saml/{orgId}/metadata | login | acs. passport with @node-saml/passport-saml's MultiSamlStrategy, its
// options built per request from the org's connection, safer than node-saml's defaults: SHA-256, signed
// assertions required, InResponseTo always checked (unless the org allows IdP-initiated sign-in) against a
// store in PostgreSQL that every process shares. Around node-saml, the numbered pipeline of the checks it
// leaves to the application. The client learns only "sign-in failed"; the log gets the reason.
import express, { Router } from "express";
import { MultiSamlStrategy, ValidateInResponseTo, generateServiceProviderMetadata, } from "@node-saml/passport-saml";
import { Passport } from "passport";
import { toDomainError } from "../db/to-domain-error.js";
import { readIdentity } from "../domain/attribute-profile.js";
import { DomainError } from "../domain/errors.js";
import { findSamlConnection, findRequestId, markAssertionUsed, pruneSamlStores, removeRequestId, saveRequestId, } from "../repositories/saml-repository.js";
import { signInWithAssertion } from "../services/jit-service.js";
import { samlEndpoints } from "../services/saml-connections-service.js";
import { checkEnvelope, checkSignedAssertion, decodeResponse, safeReturnPath, SamlRejection } from "./saml-checks.js";
const REQUEST_ID_LIFETIME_MS = 10 * 60 * 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
function page(res, status, title, message) {
    res
        .status(status)
        .type("html")
        .send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1><p>${message}</p></body></html>`);
}
/** The one answer to every refused assertion, whatever the reason (which goes to the log only). */
function failedSignIn(res) {
    page(res, 401, "Sign-in failed", "Your sign-in could not be completed. Try again from your company's sign-in page, or ask your administrator.");
}
export function samlOptions(deps, connection) {
    const urls = samlEndpoints(deps.publicUrl, connection.orgId);
    return {
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
        identifierFormat: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
        disableRequestedAuthnContext: true,
        cacheProvider: {
            saveAsync: async (key, value) => {
                await saveRequestId(deps.db, connection.orgId, key);
                return { value, createdAt: deps.now().getTime() };
            },
            getAsync: async (key) => {
                const created = await findRequestId(deps.db, connection.orgId, key, REQUEST_ID_LIFETIME_MS, deps.now());
                return created ? created.toISOString() : null;
            },
            removeAsync: async (key) => (key && (await removeRequestId(deps.db, connection.orgId, key)) ? key : null),
        },
    };
}
export function createSamlRouter(deps, sessions) {
    const router = Router();
    const passport = new Passport();
    // The verify callbacks only hand the profile on: every decision is made in the ACS pipeline below.
    const passOn = (_req, profile, done) => done(null, profile);
    const strategy = new MultiSamlStrategy({
        passReqToCallback: true,
        getSamlOptions(req, done) {
            const connection = req.samlConnection;
            if (!connection)
                return done(new SamlRejection("no SAML connection for this org"));
            done(null, samlOptions(deps, connection));
        },
    }, passOn, passOn);
    // passport-saml ships its own copy of express's types; the strategy is the same object at run time.
    passport.use("saml", strategy);
    const secure = deps.publicUrl.startsWith("https://");
    // A body the parser refuses (far too large, malformed) is a failed sign-in like any other: the same
    // generic 401 page, not the admin API's JSON error naming the reason.
    const bodyRefused = (error, req, res, next) => {
        const type = error?.type;
        const fromBodyParser = typeof type === "string" &&
            (type.startsWith("entity.") || type.startsWith("parameters.") || type.endsWith(".unsupported"));
        if (!fromBodyParser)
            return next(error);
        req.log.warn({ orgId: String(req.params.orgId), reason: `request body refused: ${type}` }, "saml assertion rejected");
        failedSignIn(res);
    };
    const loadConnection = async (req, res, next) => {
        const orgId = String(req.params.orgId);
        const connection = UUID.test(orgId) ? await findSamlConnection(deps.db, orgId) : null;
        if (!connection)
            return page(res, 404, "Single sign-on is not set up", "This organization has not configured SAML single sign-on.");
        req.samlConnection = connection;
        next();
    };
    router.get("/:orgId/metadata", async (req, res) => {
        const orgId = String(req.params.orgId);
        if (!UUID.test(orgId))
            throw new DomainError("not_found", "no such organization");
        const urls = samlEndpoints(deps.publicUrl, orgId);
        const xml = generateServiceProviderMetadata({
            issuer: urls.spEntityId,
            callbackUrl: urls.acsUrl,
            identifierFormat: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
            wantAssertionsSigned: true,
        });
        res.type("application/samlmetadata+xml").send(xml);
    });
    router.get("/:orgId/login", loadConnection, (req, res, next) => {
        // Only Roster chooses the RelayState: a relative path from ?returnTo, never a URL from the query.
        // passport-saml takes ?RelayState before the body's, so the query loses it (Express 5's req.query is
        // a getter: an own property shadows it for this request).
        const { RelayState: _fromQuery, ...query } = req.query;
        Object.defineProperty(req, "query", { value: query, configurable: true, enumerable: true });
        req.body = { RelayState: safeReturnPath(query.returnTo) };
        passport.authenticate("saml", { session: false })(req, res, next);
    });
    router.post("/:orgId/acs", express.urlencoded({ extended: false, limit: Math.ceil(deps.saml.maxResponseBytes * 1.4) + 4096 }), bodyRefused, loadConnection, async (req, res, next) => {
        const connection = req.samlConnection;
        const urls = samlEndpoints(deps.publicUrl, connection.orgId);
        try {
            // 1–3 size, encoding, DOCTYPE, comments, SHA-1; 4–7 Destination, Issuer, Success, one Assertion.
            const xml = decodeResponse(req.body?.SAMLResponse, deps.saml.maxResponseBytes);
            checkEnvelope(xml, { acsUrl: urls.acsUrl, idpEntityId: connection.idpEntityId });
            // 8. node-saml: signature by a trusted certificate on the assertion it returns, issuer, audience,
            //    time window with the allowed skew, InResponseTo against the shared store.
            const profile = await new Promise((resolve, reject) => {
                passport.authenticate("saml", { session: false }, (err, user, info) => {
                    if (err)
                        reject(err instanceof SamlRejection
                            ? err
                            : new SamlRejection(`node-saml: ${err.message ?? String(err)}`));
                    else if (!user)
                        reject(new SamlRejection(`node-saml: ${info?.message ?? "no profile"}`));
                    else
                        resolve(user);
                })(req, res, next);
            });
            // 9–10. Issuer, Recipient, bearer window and InResponseTo on the verified assertion; then replay: each assertion is accepted once, in any process.
            const facts = checkSignedAssertion(profile.getAssertionXml?.() ?? "", {
                acsUrl: urls.acsUrl,
                idpEntityId: connection.idpEntityId,
                inResponseTo: typeof profile.inResponseTo === "string" ? profile.inResponseTo : null,
                clockSkewMs: deps.saml.clockSkewMs,
                now: deps.now(),
            });
            if (!(await markAssertionUsed(deps.db, connection.orgId, facts.assertionId, facts.notOnOrAfter)))
                throw new SamlRejection("assertion replayed");
            // 11. Who it is, read with the org's attribute profile; then JIT through the seat allocator.
            const identity = readIdentity(deps.attributeProfiles.get(connection.attributeProfile), profile, profile.nameID ?? null);
            if (!identity)
                throw new SamlRejection("assertion carries no usable email");
            const member = await signInWithAssertion(deps, connection.orgId, identity, req.id);
            sessions.issue(res, { orgId: connection.orgId, memberId: member.id }, secure, deps.now());
            req.log.info({ orgId: connection.orgId, memberId: member.id }, "saml sign-in");
            res.redirect(303, safeReturnPath(req.body?.RelayState));
            void pruneSamlStores(deps.db, deps.now(), REQUEST_ID_LIFETIME_MS).catch(() => undefined);
        }
        catch (error) {
            if (error instanceof SamlRejection) {
                req.log.warn({ orgId: connection.orgId, reason: error.reason }, "saml assertion rejected");
                return failedSignIn(res);
            }
            const known = toDomainError(error);
            if (known instanceof DomainError && known.code === "forbidden") {
                req.log.warn({ orgId: connection.orgId, reason: known.message }, "saml sign-in refused");
                return page(res, 403, "Sign-in refused", "Your account in this organization is deactivated. Ask your administrator.");
            }
            throw error;
        }
    });
    router.use((error, req, res, next) => {
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
//# sourceMappingURL=saml-router.js.map