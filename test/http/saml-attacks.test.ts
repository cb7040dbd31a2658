// Attacks on the SAML ACS endpoint (DOMAIN §7): every one starts from a response the test IdP really signed,
// first shows that such a response IS accepted (for another user, so each test can fail), then mutates it the
// way an attacker would and expects a 401 with the same generic page for every reason, no roster_session
// cookie and nothing provisioned or changed (members, seats, groups, audit log).
import { randomUUID } from "node:crypto";
import { inflateRawSync } from "node:zlib";
import type { Express } from "express";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase } from "../../src/db/database.js";
import { pruneSamlStores } from "../../src/repositories/saml-repository.js";
import type { ServiceDeps } from "../../src/services/context.js";
import { samlEndpoints } from "../../src/services/saml-connections-service.js";
import { testApp } from "../support/app.js";
import { createTestDatabase, onPostgres, type TestDatabase } from "../support/database.js";
import { makeOrg, provision, testDeps } from "../support/factories.js";
import {
  addUnsignedAssertion,
  BILLION_LAUGHS,
  fromBase64,
  resignAssertion,
  rewriteText,
  setAttributeValues,
  setNameId,
  setResponseAttribute,
  setResponseIssuer,
  setSubjectConfirmationData,
  signatureValueOf,
  signResponseEnvelope,
  stripAssertionSignature,
  tamperSignatureValue,
  toBase64,
  withDoctype,
  wrapInAdvice,
  xsw,
  type XswVariant,
  XXE,
} from "../support/saml-attacks.js";
import { type AssertionOptions, fixture, IDP_ENTITY_ID, idpMetadataXml, signedResponse } from "../support/test-idp.js";
import { adminClient } from "./helpers.js";

let tdb: TestDatabase;
let app: Express;
let deps: ServiceDeps;
let genericPage: string;

const SKEW_MS = 30_000;
const LIFETIME_MS = 5 * 60 * 1000;
const REASON_WORDS =
  /signature|audience|expired|issuer|destination|recipient|replay|inresponseto|doctype|entity|sha-?1|comment|status|node-saml|assertion|too large|base64/i;

beforeAll(async () => {
  tdb = await createTestDatabase();
  app = testApp(tdb.db);
  deps = testDeps(tdb.db);
  // The page every rejection must show, whatever the reason: taken from the dullest one (not base64).
  const org = await setupOrg({ allowIdpInitiated: true });
  const res = await request(app).post(`/saml/${org.orgId}/acs`).type("form").send({ SAMLResponse: "not base64!" });
  expect(res.status).toBe(401);
  genericPage = res.text;
});
afterAll(async () => tdb?.destroy());

interface SamlOrg {
  orgId: string;
  acsUrl: string;
  audience: string;
}

let counter = 0;
const email = (label: string) => `${label}-${++counter}-${randomUUID().slice(0, 6)}@corp.example`;

async function setupOrg(options: { allowIdpInitiated: boolean }): Promise<SamlOrg> {
  const org = await makeOrg(deps);
  const res = await adminClient(app, org.org.id, org.ownerToken).put("saml", {
    metadataXml: idpMetadataXml(),
    allowIdpInitiated: options.allowIdpInitiated,
  });
  expect(res.status).toBe(200);
  const urls = samlEndpoints(deps.publicUrl, org.org.id);
  return { orgId: org.org.id, acsUrl: urls.acsUrl, audience: urls.spEntityId };
}

/** SP-initiated sign-in: Roster issues an AuthnRequest; its ID is what the IdP answers InResponseTo. */
async function issuedRequestId(org: SamlOrg, target: Express = app): Promise<string> {
  const res = await request(target).get(`/saml/${org.orgId}/login`);
  expect(res.status).toBe(302);
  const samlRequest = new URL(res.headers.location as string).searchParams.get("SAMLRequest") as string;
  const xml = inflateRawSync(Buffer.from(samlRequest, "base64")).toString("utf8");
  const id = /\sID="([^"]+)"/.exec(xml)?.[1];
  expect(id).toBeTruthy();
  return id as string;
}

interface Signed {
  samlResponse: string;
  xml: string;
  assertionId: string;
  email: string;
}

type ResponseOptions = Partial<AssertionOptions> & { solicited?: boolean; email?: string; groups?: string[] };

/** A response the IdP really signed for `org`: SP-initiated (answering a request Roster issued) unless solicited is false. */
async function idpResponse(org: SamlOrg, options: ResponseOptions = {}, target: Express = app): Promise<Signed> {
  const { solicited = true, email: wanted, groups = ["Engineering"], ...rest } = options;
  const address = wanted ?? email("user");
  const inResponseTo =
    rest.inResponseTo !== undefined ? rest.inResponseTo : solicited ? await issuedRequestId(org, target) : null;
  const signed = await signedResponse({
    acsUrl: org.acsUrl,
    audience: org.audience,
    nameId: address,
    attributes: { email: address, firstName: "Pat", groups },
    ...rest,
    inResponseTo,
  });
  return { ...signed, email: address };
}

function post(org: SamlOrg, samlResponse: string, target: Express = app) {
  return request(target).post(`/saml/${org.orgId}/acs`).type("form").send({ SAMLResponse: samlResponse });
}

function sessionCookies(res: { headers: Record<string, unknown> }): string[] {
  const raw = res.headers["set-cookie"];
  const list = Array.isArray(raw) ? (raw as string[]) : typeof raw === "string" ? [raw] : [];
  return list.filter((c) => c.startsWith("roster_session="));
}

/** Everything a sign-in could create or change in an org. */
async function snapshot(orgId: string) {
  const members = await tdb.db("members").where({ org_id: orgId }).orderBy("id");
  const seats = await tdb.db("seat_allocations").where({ org_id: orgId }).orderBy("seat_type");
  const groupMembers = await tdb.db("group_members").where({ org_id: orgId }).count({ n: "*" });
  const audit = await tdb.db("audit_events").where({ org_id: orgId }).count({ n: "*" });
  return { members, seats, groupMembers: Number(groupMembers[0].n), audit: Number(audit[0].n) };
}

async function memberByEmail(orgId: string, address: string) {
  return tdb.db("members").where({ org_id: orgId }).whereRaw("lower(email) = lower(?)", [address]).first();
}

async function expectAccepted(
  org: SamlOrg,
  samlResponse: string,
  address: string,
  target: Express = app,
): Promise<void> {
  const res = await post(org, samlResponse, target);
  expect(res.status, res.text).toBe(303);
  expect(sessionCookies(res)).toHaveLength(1);
  expect(await memberByEmail(org.orgId, address)).toBeTruthy();
}

/** 401, the generic page, no session cookie, nothing in the org changed; none of `absent` exists as a member. */
async function expectRejected(
  org: SamlOrg,
  samlResponse: string,
  absent: string[] = [],
  target: Express = app,
): Promise<void> {
  const before = await snapshot(org.orgId);
  const res = await post(org, samlResponse, target);
  expect(res.status).toBe(401);
  expect(res.text).toBe(genericPage);
  expect(sessionCookies(res)).toEqual([]);
  expect(await snapshot(org.orgId)).toEqual(before);
  for (const address of absent) expect(await memberByEmail(org.orgId, address)).toBeUndefined();
}

/** The control: the same kind of response, untouched, for another user, is accepted. */
async function provenAccepted(org: SamlOrg, options: ResponseOptions = {}, target: Express = app): Promise<void> {
  const valid = await idpResponse(org, { ...options, email: undefined }, target);
  await expectAccepted(org, valid.samlResponse, valid.email, target);
}

/** A colleague the attacker wants to be: an existing member, provisioned by SCIM. */
async function victimIn(org: SamlOrg): Promise<string> {
  const address = email("victim");
  await provision(deps, org.orgId, { userName: address, email: address });
  return address;
}

describe("the generic failure page", () => {
  it("names no reason", () => {
    expect(genericPage).toContain("Sign-in failed");
    expect(genericPage.replace(/<[^>]+>/g, " ")).not.toMatch(REASON_WORDS);
  });
});

describe("signature", () => {
  it("an unsigned assertion (signature removed) is refused", async () => {
    const org = await setupOrg({ allowIdpInitiated: false });
    await provenAccepted(org);
    const r = await idpResponse(org);
    const stripped = stripAssertionSignature(r.xml);
    expect(stripped).not.toContain("SignatureValue");
    await expectRejected(org, toBase64(stripped), [r.email]);
  });

  it("an unsigned assertion in a Response the IdP did sign is refused (signed assertions are required)", async () => {
    const org = await setupOrg({ allowIdpInitiated: false });
    await provenAccepted(org);
    const r = await idpResponse(org);
    const envelopeOnly = signResponseEnvelope(
      stripAssertionSignature(r.xml),
      fixture("idp-key.pem"),
      fixture("idp-cert.pem"),
    );
    await expectRejected(org, toBase64(envelopeOnly), [r.email]);
  });

  it("an assertion signed by an untrusted key (the attacker's certificate) is refused", async () => {
    const org = await setupOrg({ allowIdpInitiated: false });
    await provenAccepted(org);
    const r = await idpResponse(org, {
      signingKey: fixture("attacker-key.pem"),
      signingCert: fixture("attacker-cert.pem"),
    });
    await expectRejected(org, r.samlResponse, [r.email]);
  });

  it("an assertion tampered with and re-signed by the attacker is refused", async () => {
    const org = await setupOrg({ allowIdpInitiated: false });
    await provenAccepted(org);
    const victim = await victimIn(org);
    const r = await idpResponse(org);
    const forged = resignAssertion(
      setNameId(setAttributeValues(r.xml, "email", [victim]), victim),
      fixture("attacker-key.pem"),
      fixture("attacker-cert.pem"),
    );
    expect(signatureValueOf(forged)).not.toBe(signatureValueOf(r.xml));
    await expectRejected(org, toBase64(forged), [r.email]);
  });

  it("a tampered NameID is refused", async () => {
    const org = await setupOrg({ allowIdpInitiated: false });
    await provenAccepted(org);
    const victim = await victimIn(org);
    // Email from the NameID only, so the NameID is all that decides who signs in.
    const r = await idpResponse(org, { attributes: { groups: ["Engineering"] } });
    await expectRejected(org, toBase64(setNameId(r.xml, victim)), [r.email]);
  });

  it("a tampered email attribute is refused", async () => {
    const org = await setupOrg({ allowIdpInitiated: false });
    await provenAccepted(org);
    const victim = await victimIn(org);
    const r = await idpResponse(org);
    await expectRejected(org, toBase64(setAttributeValues(r.xml, "email", [victim])), [r.email]);
  });

  it("a tampered groups attribute is refused", async () => {
    const org = await setupOrg({ allowIdpInitiated: false });
    await provenAccepted(org);
    const r = await idpResponse(org, { groups: ["Engineering"] });
    await expectRejected(org, toBase64(setAttributeValues(r.xml, "groups", ["Engineering", "Roster Admins"])), [
      r.email,
    ]);
  });

  it("a tampered SignatureValue is refused", async () => {
    const org = await setupOrg({ allowIdpInitiated: false });
    await provenAccepted(org);
    const r = await idpResponse(org);
    await expectRejected(org, toBase64(tamperSignatureValue(r.xml)), [r.email]);
  });

  it("SHA-1 signature and digest are refused", async () => {
    const org = await setupOrg({ allowIdpInitiated: false });
    await provenAccepted(org);
    const r = await idpResponse(org, { algorithm: "sha1" });
    expect(r.xml).toContain("xmldsig#rsa-sha1");
    await expectRejected(org, r.samlResponse, [r.email]);
  });

  it("SHA-1 spelled with character references in the Algorithm attributes is refused too", async () => {
    const org = await setupOrg({ allowIdpInitiated: false });
    await provenAccepted(org);
    const r = await idpResponse(org, { algorithm: "sha1" });
    // Canonicalization turns &#x23; back into '#', so the IdP's signature still verifies.
    const disguised = r.xml
      .split("xmldsig#rsa-sha1")
      .join("xmldsig&#x23;rsa-sha1")
      .split("xmldsig#sha1")
      .join("xmldsig&#x23;sha1");
    expect(disguised).not.toMatch(/xmldsig#(rsa-)?sha1/);
    await expectRejected(org, toBase64(disguised), [r.email]);
  });
});

describe("XML Signature Wrapping", () => {
  // XSW1 and XSW2 attack a signed Response: the IdP here signs the envelope as well as the assertion.
  for (const variant of [1, 2] as XswVariant[]) {
    it(`XSW${variant}: evil Response at the root, the signed original ${variant === 1 ? "inside its Signature" : "next to its Signature"}, is refused`, async () => {
      const org = await setupOrg({ allowIdpInitiated: false });
      const idpKey = fixture("idp-key.pem");
      const idpCert = fixture("idp-cert.pem");
      const control = await idpResponse(org);
      await expectAccepted(org, toBase64(signResponseEnvelope(control.xml, idpKey, idpCert)), control.email);
      const victim = await victimIn(org);
      const r = await idpResponse(org);
      const wrapped = xsw(signResponseEnvelope(r.xml, idpKey, idpCert), variant, { email: victim });
      expect(wrapped).toContain(`>${victim}<`);
      expect(wrapped).toContain('ID="_evil_response_ID"');
      await expectRejected(org, toBase64(wrapped), [r.email]);
    });
  }

  const assertionVariants: [XswVariant, string][] = [
    [3, "an unsigned evil assertion before the signed one"],
    [4, "an unsigned evil assertion wrapping the signed one"],
    [5, "the signed assertion made evil in place, an unsigned copy of the original at the end"],
    [6, "the signed assertion made evil in place, an unsigned copy of the original inside its Signature"],
    [7, "an unsigned evil assertion in samlp:Extensions before the signed one"],
    [8, "the signed assertion made evil in place, the original in a ds:Object inside its Signature"],
  ];
  for (const [variant, description] of assertionVariants) {
    it(`XSW${variant}: ${description}, is refused`, async () => {
      const org = await setupOrg({ allowIdpInitiated: false });
      await provenAccepted(org);
      const victim = await victimIn(org);
      const r = await idpResponse(org);
      const wrapped = xsw(r.xml, variant, { email: victim, groups: ["Roster Admins"] });
      expect(wrapped).toContain(`>${victim}<`);
      expect(signatureValueOf(wrapped)).toBe(signatureValueOf(r.xml));
      await expectRejected(org, toBase64(wrapped), [r.email]);
    });
  }

  it("an unsigned evil assertion carrying the signed one in saml:Advice is refused", async () => {
    const org = await setupOrg({ allowIdpInitiated: false });
    await provenAccepted(org);
    const victim = await victimIn(org);
    const r = await idpResponse(org);
    await expectRejected(org, toBase64(wrapInAdvice(r.xml, { email: victim })), [r.email]);
  });

  it("an extra unsigned assertion next to the signed one is refused", async () => {
    const org = await setupOrg({ allowIdpInitiated: false });
    await provenAccepted(org);
    const victim = await victimIn(org);
    const r = await idpResponse(org);
    await expectRejected(org, toBase64(addUnsignedAssertion(r.xml, { email: victim })), [r.email]);
  });
});

describe("comments and DOCTYPE", () => {
  it("a comment-truncated NameID (victim@corp.example<!---->.attacker.example) is refused", async () => {
    const org = await setupOrg({ allowIdpInitiated: false });
    await provenAccepted(org);
    const victim = await victimIn(org);
    // The attacker owns victim…@….attacker.example at the IdP; the comment keeps the signature valid.
    const attacker = `${victim}.attacker.example`;
    const r = await idpResponse(org, { email: attacker });
    const truncated = rewriteText(r.xml, attacker, `${victim}<!---->.attacker.example`);
    await expectRejected(org, toBase64(truncated), [attacker]);
  });

  it("a comment-truncated group value is refused", async () => {
    const org = await setupOrg({ allowIdpInitiated: false });
    await provenAccepted(org);
    const r = await idpResponse(org, { groups: ["Roster Admins.attacker"] });
    await expectRejected(org, toBase64(rewriteText(r.xml, "Roster Admins.attacker", "Roster Admins<!---->.attacker")), [
      r.email,
    ]);
  });

  it("a DOCTYPE with entity expansion (billion laughs) is refused", async () => {
    const org = await setupOrg({ allowIdpInitiated: false });
    await provenAccepted(org);
    const r = await idpResponse(org, { groups: ["Engineering"] });
    const started = Date.now();
    await expectRejected(
      org,
      toBase64(withDoctype(r.xml, BILLION_LAUGHS, { replace: "Engineering", with: "&lol9;" })),
      [r.email],
    );
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("a DOCTYPE with an external entity (XXE) is refused", async () => {
    const org = await setupOrg({ allowIdpInitiated: false });
    await provenAccepted(org);
    const r = await idpResponse(org, { groups: ["Engineering"] });
    await expectRejected(org, toBase64(withDoctype(r.xml, XXE, { replace: "Engineering", with: "&xxe;" })), [r.email]);
  });
});

describe("conditions", () => {
  it("an expired assertion (1 h old) is refused", async () => {
    const org = await setupOrg({ allowIdpInitiated: false });
    await provenAccepted(org);
    const r = await idpResponse(org, { offsetMs: -60 * 60 * 1000 });
    await expectRejected(org, r.samlResponse, [r.email]);
  });

  it("an assertion not yet valid (1 h ahead, beyond the 30 s skew) is refused", async () => {
    const org = await setupOrg({ allowIdpInitiated: false });
    await provenAccepted(org);
    const r = await idpResponse(org, { offsetMs: 60 * 60 * 1000 });
    await expectRejected(org, r.samlResponse, [r.email]);
  });

  // The test IdP puts NotBefore 60 s before its clock and NotOnOrAfter 5 min after it.
  it("clock skew inside 30 s is accepted at both ends of the window", async () => {
    const org = await setupOrg({ allowIdpInitiated: false });
    const early = await idpResponse(org, { offsetMs: 60_000 + SKEW_MS - 10_000 }); // NotBefore 20 s ahead
    await expectAccepted(org, early.samlResponse, early.email);
    const late = await idpResponse(org, { offsetMs: -LIFETIME_MS - SKEW_MS + 10_000 }); // NotOnOrAfter 20 s ago
    await expectAccepted(org, late.samlResponse, late.email);
  });

  it("clock skew just beyond 30 s is refused at both ends of the window", async () => {
    const org = await setupOrg({ allowIdpInitiated: false });
    await provenAccepted(org);
    const early = await idpResponse(org, { offsetMs: 60_000 + SKEW_MS + 10_000 }); // NotBefore 40 s ahead
    await expectRejected(org, early.samlResponse, [early.email]);
    const late = await idpResponse(org, { offsetMs: -LIFETIME_MS - SKEW_MS - 10_000 }); // NotOnOrAfter 40 s ago
    await expectRejected(org, late.samlResponse, [late.email]);
  });

  it("an unsolicited assertion whose bearer confirmation has expired (Conditions still open) is refused", async () => {
    const org = await setupOrg({ allowIdpInitiated: true });
    await provenAccepted(org, { solicited: false });
    const r = await idpResponse(org, { solicited: false });
    // An IdP may give Conditions a longer life than the bearer confirmation; the confirmation is what counts.
    const stale = resignAssertion(
      setSubjectConfirmationData(r.xml, "NotOnOrAfter", new Date(Date.now() - 2 * 60 * 1000).toISOString()),
      fixture("idp-key.pem"),
      fixture("idp-cert.pem"),
    );
    await expectRejected(org, toBase64(stale), [r.email]);
  });

  it("a wrong audience is refused", async () => {
    const org = await setupOrg({ allowIdpInitiated: false });
    await provenAccepted(org);
    const r = await idpResponse(org, { audience: "https://other-sp.example/metadata" });
    await expectRejected(org, r.samlResponse, [r.email]);
  });

  it("an assertion meant for another org's audience and ACS is refused", async () => {
    const org = await setupOrg({ allowIdpInitiated: true });
    const other = await setupOrg({ allowIdpInitiated: true });
    await provenAccepted(org, { solicited: false });
    const r = await idpResponse(other, { solicited: false });
    await expectRejected(org, r.samlResponse, [r.email]);
  });

  it("a wrong Recipient is refused", async () => {
    const org = await setupOrg({ allowIdpInitiated: false });
    await provenAccepted(org);
    const r = await idpResponse(org, { recipient: "https://other-sp.example/acs" });
    await expectRejected(org, r.samlResponse, [r.email]);
  });

  it("a wrong Destination is refused", async () => {
    const org = await setupOrg({ allowIdpInitiated: false });
    await provenAccepted(org);
    const r = await idpResponse(org, { destination: "https://other-sp.example/acs" });
    await expectRejected(org, r.samlResponse, [r.email]);
  });

  it("a missing Destination is refused", async () => {
    const org = await setupOrg({ allowIdpInitiated: false });
    await provenAccepted(org);
    const r = await idpResponse(org);
    await expectRejected(org, toBase64(setResponseAttribute(r.xml, "Destination", null)), [r.email]);
  });

  it("a wrong issuer is refused", async () => {
    const org = await setupOrg({ allowIdpInitiated: false });
    await provenAccepted(org);
    const r = await idpResponse(org, { issuer: "https://evil-idp.example/metadata" });
    await expectRejected(org, r.samlResponse, [r.email]);
  });

  it("a wrong issuer on the signed assertion is refused even when the unsigned envelope names the right one", async () => {
    const org = await setupOrg({ allowIdpInitiated: false });
    await provenAccepted(org);
    // The trusted key signed an assertion for another entity (an IdP that shares its key across entities).
    const r = await idpResponse(org, { issuer: "https://evil-idp.example/metadata" });
    await expectRejected(org, toBase64(setResponseIssuer(r.xml, IDP_ENTITY_ID)), [r.email]);
  });

  it("a wrong issuer on the signed assertion is refused when the envelope has no Issuer", async () => {
    const org = await setupOrg({ allowIdpInitiated: false });
    await provenAccepted(org);
    const r = await idpResponse(org, { issuer: "https://evil-idp.example/metadata" });
    await expectRejected(org, toBase64(setResponseIssuer(r.xml, null)), [r.email]);
  });

  for (const status of [
    "urn:oasis:names:tc:SAML:2.0:status:Requester",
    "urn:oasis:names:tc:SAML:2.0:status:Responder",
  ]) {
    it(`a non-Success status (${status.split(":").pop()}) is refused even with a signed assertion`, async () => {
      const org = await setupOrg({ allowIdpInitiated: false });
      await provenAccepted(org);
      const r = await idpResponse(org, { statusCode: status });
      await expectRejected(org, r.samlResponse, [r.email]);
    });
  }
});

describe("InResponseTo and IdP-initiated sign-in", () => {
  it("an InResponseTo Roster never issued is refused", async () => {
    const org = await setupOrg({ allowIdpInitiated: false });
    await provenAccepted(org);
    const r = await idpResponse(org, { inResponseTo: `_${randomUUID().replace(/-/g, "")}` });
    await expectRejected(org, r.samlResponse, [r.email]);
  });

  it("an InResponseTo Roster never issued is refused even where IdP-initiated sign-in is allowed", async () => {
    const org = await setupOrg({ allowIdpInitiated: true });
    await provenAccepted(org);
    const r = await idpResponse(org, { inResponseTo: `_${randomUUID().replace(/-/g, "")}` });
    await expectRejected(org, r.samlResponse, [r.email]);
  });

  it("an InResponseTo Roster issued for another org is refused", async () => {
    const org = await setupOrg({ allowIdpInitiated: false });
    const other = await setupOrg({ allowIdpInitiated: false });
    await provenAccepted(org);
    const r = await idpResponse(org, { inResponseTo: await issuedRequestId(other) });
    await expectRejected(org, r.samlResponse, [r.email]);
  });

  it("an InResponseTo is answered once: a second response to the same request is refused", async () => {
    const org = await setupOrg({ allowIdpInitiated: false });
    const requestId = await issuedRequestId(org);
    const first = await idpResponse(org, { inResponseTo: requestId });
    await expectAccepted(org, first.samlResponse, first.email);
    const second = await idpResponse(org, { inResponseTo: requestId });
    await expectRejected(org, second.samlResponse, [second.email]);
  });

  it("a solicited response with InResponseTo stripped from its envelope is refused where IdP-initiated sign-in is allowed", async () => {
    const org = await setupOrg({ allowIdpInitiated: true });
    await provenAccepted(org, { solicited: false });
    // Answers a request of another org: the signed SubjectConfirmationData still says so.
    const other = await setupOrg({ allowIdpInitiated: true });
    const r = await idpResponse(org, { inResponseTo: await issuedRequestId(other) });
    await expectRejected(org, toBase64(setResponseAttribute(r.xml, "InResponseTo", null)), [r.email]);
  });

  it("a solicited response whose signed confirmation does not name the request is refused", async () => {
    const org = await setupOrg({ allowIdpInitiated: false });
    await provenAccepted(org);
    // SAML profiles §4.1.4.2: the bearer SubjectConfirmationData carries the request's ID; without it the
    // request would stay open for a second answer.
    const r = await idpResponse(org);
    const vague = resignAssertion(
      setSubjectConfirmationData(r.xml, "InResponseTo", null),
      fixture("idp-key.pem"),
      fixture("idp-cert.pem"),
    );
    await expectRejected(org, toBase64(vague), [r.email]);
  });

  it("an IdP-initiated (unsolicited) response is refused when the org does not allow it", async () => {
    const org = await setupOrg({ allowIdpInitiated: false });
    await provenAccepted(org);
    const r = await idpResponse(org, { solicited: false });
    expect(r.xml).not.toContain("InResponseTo");
    await expectRejected(org, r.samlResponse, [r.email]);
  });

  it("an IdP-initiated response is accepted when the org allows it (control)", async () => {
    const org = await setupOrg({ allowIdpInitiated: true });
    const r = await idpResponse(org, { solicited: false });
    await expectAccepted(org, r.samlResponse, r.email);
  });
});

describe("replay", () => {
  it("an accepted SP-initiated response is refused the second time", async () => {
    const org = await setupOrg({ allowIdpInitiated: false });
    const r = await idpResponse(org);
    await expectAccepted(org, r.samlResponse, r.email);
    await expectRejected(org, r.samlResponse);
  });

  it("an accepted IdP-initiated response is refused the second time (only the replay store can tell)", async () => {
    const org = await setupOrg({ allowIdpInitiated: true });
    const r = await idpResponse(org, { solicited: false });
    await expectAccepted(org, r.samlResponse, r.email);
    await expectRejected(org, r.samlResponse);
  });

  it("a replay with a fresh envelope (new Response ID, same signed assertion) is refused", async () => {
    const org = await setupOrg({ allowIdpInitiated: true });
    const r = await idpResponse(org, { solicited: false });
    await expectAccepted(org, r.samlResponse, r.email);
    await expectRejected(org, toBase64(setResponseAttribute(r.xml, "ID", `_r${randomUUID().replace(/-/g, "")}`)));
  });

  it("a replay inside the clock-skew grace after housekeeping has run is refused", async () => {
    const org = await setupOrg({ allowIdpInitiated: true });
    // NotOnOrAfter 10 s ago: still accepted thanks to the 30 s skew.
    const r = await idpResponse(org, { solicited: false, offsetMs: -LIFETIME_MS - 10_000 });
    await expectAccepted(org, r.samlResponse, r.email);
    // Housekeeping that any process runs after any sign-in, at this very moment.
    await pruneSamlStores(tdb.db, new Date(), 10 * 60 * 1000);
    expect(
      await tdb.db("saml_used_assertions").where({ org_id: org.orgId, assertion_id: r.assertionId }).first(),
    ).toBeTruthy();
    await expectRejected(org, r.samlResponse);
  });

  describe.skipIf(!onPostgres)(
    "across processes (a second app with its own pool on the same PostgreSQL database)",
    () => {
      let secondDb: ReturnType<typeof createDatabase>;
      let second: Express;
      beforeAll(() => {
        secondDb = createDatabase({ url: tdb.url, dataDir: "", poolMax: 4 });
        second = testApp(secondDb);
      });
      afterAll(async () => secondDb?.destroy());

      it("a response accepted by one process is refused by the other", async () => {
        const org = await setupOrg({ allowIdpInitiated: true });
        const r = await idpResponse(org, { solicited: false });
        await expectAccepted(org, r.samlResponse, r.email);
        await expectRejected(org, r.samlResponse, [], second);
      });

      it("a request issued by one process is answered at the other, and the answer is refused back at the first", async () => {
        const org = await setupOrg({ allowIdpInitiated: false });
        const r = await idpResponse(org, {}, second);
        await expectAccepted(org, r.samlResponse, r.email, app);
        await expectRejected(org, r.samlResponse, [], second);
      });

      it("the same response posted to both processes at once is accepted exactly once", async () => {
        const org = await setupOrg({ allowIdpInitiated: true });
        const r = await idpResponse(org, { solicited: false });
        const results = await Promise.all([
          post(org, r.samlResponse, app),
          post(org, r.samlResponse, second),
          post(org, r.samlResponse, app),
          post(org, r.samlResponse, second),
        ]);
        expect(results.map((x) => x.status).sort()).toEqual([303, 401, 401, 401]);
        expect(results.flatMap((x) => sessionCookies(x))).toHaveLength(1);
        expect(
          await tdb
            .db("members")
            .where({ org_id: org.orgId })
            .whereRaw("lower(email) = lower(?)", [r.email])
            .count({ n: "*" }),
        ).toEqual([{ n: 1 }]);
      });
    },
  );
});

describe("size", () => {
  const padding = (bytes: number) => ({ padding: "x".repeat(bytes) });

  it("a response just under 256 KB is accepted (control)", async () => {
    const org = await setupOrg({ allowIdpInitiated: false });
    const address = email("big");
    const r = await idpResponse(org, { email: address, attributes: { email: address, ...padding(240 * 1024) } });
    expect(Buffer.byteLength(r.xml)).toBeLessThan(256 * 1024);
    await expectAccepted(org, r.samlResponse, r.email);
  });

  it("a validly signed SAMLResponse over 256 KB is refused", async () => {
    const org = await setupOrg({ allowIdpInitiated: false });
    await provenAccepted(org);
    const address = email("big");
    const r = await idpResponse(org, { email: address, attributes: { email: address, ...padding(258 * 1024) } });
    expect(Buffer.byteLength(r.xml)).toBeGreaterThan(256 * 1024);
    await expectRejected(org, r.samlResponse, [r.email]);
  });

  it("a SAMLResponse far over the limit is refused before it is parsed", async () => {
    const org = await setupOrg({ allowIdpInitiated: false });
    await provenAccepted(org);
    // 4 MB of a billion-laughs document: the body parser's own limit stops it, with the same generic page.
    const huge = toBase64(`${BILLION_LAUGHS}<r>${"&lol9;".repeat(700_000)}</r>`);
    const started = Date.now();
    await expectRejected(org, huge);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe("sanity of the attack helpers", () => {
  it("the test IdP's response round-trips through the helpers unchanged in meaning and is still accepted", async () => {
    const org = await setupOrg({ allowIdpInitiated: false });
    const r = await idpResponse(org);
    // parse + serialize without change: proves that rejections above come from the mutation, not the round trip.
    const roundTripped = setResponseAttribute(r.xml, "Destination", org.acsUrl);
    expect(fromBase64(toBase64(roundTripped))).toBe(roundTripped);
    await expectAccepted(org, toBase64(roundTripped), r.email);
  });

  it("an assertion re-signed with the IdP's own key is accepted (so re-signing is not what gets refused)", async () => {
    const org = await setupOrg({ allowIdpInitiated: false });
    const r = await idpResponse(org);
    await expectAccepted(
      org,
      toBase64(resignAssertion(r.xml, fixture("idp-key.pem"), fixture("idp-cert.pem"))),
      r.email,
    );
  });
});
