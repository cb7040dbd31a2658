// Shared by the SAML HTTP tests (test/http/saml-*.test.ts): configuring an org's connection over the admin
// API, the SP-initiated redirect read back like an IdP reads it, and a full sign-in through the real ACS
// with a response the test IdP really signed. Only HTTP; nothing is mocked.
import { inflateRawSync } from "node:zlib";
import type { Express } from "express";
import request from "supertest";
import { expect } from "vitest";
import { fixture, IDP_ENTITY_ID, IDP_SSO_URL, signedResponse, type AssertionOptions } from "../support/test-idp.js";
import type { AdminClient } from "./helpers.js";

/** testDeps' publicUrl: every SP URL the server writes starts with it. */
export const PUBLIC_URL = "http://roster.test";

export function spUrls(orgId: string) {
  const base = `${PUBLIC_URL}/saml/${orgId}`;
  return {
    spEntityId: `${base}/metadata`,
    acsUrl: `${base}/acs`,
    metadataUrl: `${base}/metadata`,
    loginUrl: `${base}/login`,
  };
}

export interface SamlSettings {
  idpEntityId?: string;
  ssoUrl?: string;
  certificates?: string[];
  attributeProfile?: string;
  allowIdpInitiated?: boolean;
  nameIdFormat?: string;
  signAuthnRequests?: boolean;
  requireEncryptedAssertions?: boolean;
}

/** PUT saml with explicit fields: the test IdP, its certificate, the generic profile, SP-initiated only. */
export async function configureSaml(owner: AdminClient, settings: SamlSettings = {}): Promise<request.Response> {
  const res = await owner.put("saml", {
    idpEntityId: IDP_ENTITY_ID,
    ssoUrl: IDP_SSO_URL,
    certificates: [fixture("idp-cert.pem")],
    attributeProfile: "generic",
    allowIdpInitiated: false,
    ...settings,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res;
}

export interface SpLogin {
  res: request.Response;
  location: URL;
  /** The AuthnRequest's ID, read from the deflated, base64 SAMLRequest as the IdP would. */
  requestId: string;
  requestXml: string;
  relayState: string | null;
}

/** The AuthnRequest inside a Redirect-binding SAMLRequest parameter. */
export function readAuthnRequest(samlRequest: string): { xml: string; id: string } {
  const xml = inflateRawSync(Buffer.from(samlRequest, "base64")).toString("utf8");
  const id = /<samlp:AuthnRequest[^>]*\sID="([^"]+)"/.exec(xml)?.[1];
  if (!id) throw new Error(`no AuthnRequest ID in ${xml}`);
  return { xml, id };
}

/** GET /saml/{orgId}/login (query as given) and what it sends to the IdP. */
export async function startLogin(app: Express, orgId: string, query = ""): Promise<SpLogin> {
  const res = await request(app).get(`/saml/${orgId}/login${query}`);
  expect(res.status, res.text).toBe(302);
  const location = new URL(res.headers.location as string);
  const samlRequest = location.searchParams.get("SAMLRequest");
  if (!samlRequest) throw new Error(`no SAMLRequest in ${location.toString()}`);
  const { xml, id } = readAuthnRequest(samlRequest);
  return { res, location, requestId: id, requestXml: xml, relayState: location.searchParams.get("RelayState") };
}

/** POST the ACS form as the browser does after the IdP's auto-submitting page. */
export function postAcs(app: Express, orgId: string, samlResponse: string, relayState?: string | null) {
  const form: Record<string, string> = { SAMLResponse: samlResponse };
  if (relayState != null) form.RelayState = relayState;
  return request(app).post(`/saml/${orgId}/acs`).type("form").send(form);
}

/** A response signed by the test IdP for this org's SP (audience, ACS); the rest as given. */
export function responseFor(
  orgId: string,
  options: Omit<AssertionOptions, "acsUrl" | "audience"> & Partial<AssertionOptions>,
) {
  const urls = spUrls(orgId);
  return signedResponse({ acsUrl: urls.acsUrl, audience: urls.spEntityId, ...options });
}

export interface SignInOptions {
  email: string;
  /** Attributes as the IdP sends them; default: the generic profile's email and groups. */
  attributes?: Record<string, string | string[]>;
  groups?: string[];
  nameId?: string;
  /** IdP-initiated: no AuthnRequest, no InResponseTo. */
  idpInitiated?: boolean;
  returnTo?: string;
  signingKey?: string;
  signingCert?: string;
  encryptTo?: AssertionOptions["encryptTo"];
}

export interface SignInResult {
  res: request.Response;
  samlResponse: string;
  /** "roster_session=…" when a session was issued, else null. */
  cookie: string | null;
}

/** The Set-Cookie value for roster_session, or null when none was set. */
export function maybeSessionCookie(res: request.Response): string | null {
  const raw = res.headers["set-cookie"] as unknown;
  const list = Array.isArray(raw) ? (raw as string[]) : typeof raw === "string" ? [raw] : [];
  return list.find((c) => c.startsWith("roster_session="))?.split(";")[0] ?? null;
}

/** One whole sign-in: SP-initiated (login → IdP → ACS) unless idpInitiated. */
export async function signIn(app: Express, orgId: string, options: SignInOptions): Promise<SignInResult> {
  let inResponseTo: string | null = null;
  let relayState: string | null = null;
  if (!options.idpInitiated) {
    const login = await startLogin(
      app,
      orgId,
      options.returnTo === undefined ? "" : `?returnTo=${encodeURIComponent(options.returnTo)}`,
    );
    inResponseTo = login.requestId;
    relayState = login.relayState;
  }
  const attributes = options.attributes ?? {
    email: options.email,
    ...(options.groups ? { groups: options.groups } : {}),
  };
  const { samlResponse } = await responseFor(orgId, {
    nameId: options.nameId ?? options.email,
    attributes,
    inResponseTo,
    signingKey: options.signingKey,
    signingCert: options.signingCert,
    encryptTo: options.encryptTo,
  });
  const res = await postAcs(app, orgId, samlResponse, relayState);
  return { res, samlResponse, cookie: maybeSessionCookie(res) };
}

/** GET /api/v1/me with a session cookie. */
export function me(app: Express, cookie: string) {
  return request(app).get("/api/v1/me").set("Cookie", cookie);
}

/** A sign-in that must succeed; returns the session cookie. */
export async function signInOk(app: Express, orgId: string, options: SignInOptions): Promise<string> {
  const result = await signIn(app, orgId, options);
  expect(result.res.status, result.res.text).toBe(303);
  expect(result.cookie).not.toBeNull();
  return result.cookie as string;
}
