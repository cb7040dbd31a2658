// An org's SAML connection over the admin API (GET|PUT saml, CONTRACT "Admin API"), the SP metadata an IdP
// admin imports, and certificate rotation seen from the ACS. Real app, real database, responses signed by
// the test IdP.
import { DOMParser } from "@xmldom/xmldom";
import type { Express } from "express";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServiceDeps } from "../../src/services/context.js";
import { testApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { provision, testDeps } from "../support/factories.js";
import { fixture as pemFixture, IDP_ENTITY_ID, IDP_SSO_URL, idpMetadataXml } from "../support/test-idp.js";
import { type AdminClient, adminClient, adminTokenFor, createOrgViaApi, ownerIdOf } from "./helpers.js";
import { configureSaml, me, postAcs, responseFor, signIn, signInOk, spUrls, startLogin } from "./saml-flow-helpers.js";

let tdb: TestDatabase;
let app: Express;
let deps: ServiceDeps;

beforeAll(async () => {
  tdb = await createTestDatabase();
  app = testApp(tdb.db);
  deps = testDeps(tdb.db);
});
afterAll(async () => tdb?.destroy());

interface Fixture {
  orgId: string;
  owner: AdminClient;
  ownerId: string;
}

async function newOrg(): Promise<Fixture> {
  const created = await createOrgViaApi(app);
  const owner = adminClient(app, created.orgId, created.ownerToken);
  return { orgId: created.orgId, owner, ownerId: await ownerIdOf(owner) };
}

/** A certificate's DER body, whatever its PEM line breaks. */
const der = (pem: string) => pem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s+/g, "");
const IDP_CERT = pemFixture("idp-cert.pem");
const ROTATED_CERT = pemFixture("idp-rotated-cert.pem");
const ROTATED_KEY = pemFixture("idp-rotated-key.pem");

function metadataWith(descriptor: string, entityId = IDP_ENTITY_ID): string {
  return `<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${entityId}">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">${descriptor}</md:IDPSSODescriptor>
</md:EntityDescriptor>`;
}
const keyDescriptor = (cert: string, use?: string) =>
  `<md:KeyDescriptor${use ? ` use="${use}"` : ""}><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${der(cert)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`;
const ssoService = (binding: "HTTP-Redirect" | "HTTP-POST", location: string) =>
  `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:${binding}" Location="${location}"/>`;

function expectJsonError(res: request.Response, status: number, error: string, message?: RegExp): void {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers["content-type"]).toMatch(/^application\/json/);
  expect(res.body.error).toBe(error);
  expect(typeof res.body.message).toBe("string");
  if (message) expect(res.body.message).toMatch(message);
}

describe("GET|PUT saml with explicit fields", () => {
  it("GET before anything is set: not configured, and the URLs to paste into the IdP", async () => {
    const f = await newOrg();
    const res = await f.owner.get("saml");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      configured: false,
      idpEntityId: null,
      ssoUrl: null,
      certificates: [],
      attributeProfile: "generic",
      allowIdpInitiated: false,
      nameIdFormat: "emailAddress",
      signAuthnRequests: false,
      requireEncryptedAssertions: false,
      ...spUrls(f.orgId),
    });
  });

  it("PUT stores every field; PUT and GET answer them plus spEntityId, acsUrl, metadataUrl, loginUrl", async () => {
    const f = await newOrg();
    const put = await f.owner.put("saml", {
      idpEntityId: "https://sts.windows.net/tenant-1/",
      ssoUrl: "https://login.microsoftonline.com/tenant-1/saml2",
      certificates: [IDP_CERT, ROTATED_CERT],
      attributeProfile: "entra",
      allowIdpInitiated: true,
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    const get = await f.owner.get("saml");
    expect(get.status).toBe(200);
    expect(get.body).toEqual(put.body);
    expect(get.body).toMatchObject({
      configured: true,
      idpEntityId: "https://sts.windows.net/tenant-1/",
      ssoUrl: "https://login.microsoftonline.com/tenant-1/saml2",
      attributeProfile: "entra",
      allowIdpInitiated: true,
      spEntityId: `http://roster.test/saml/${f.orgId}/metadata`,
      acsUrl: `http://roster.test/saml/${f.orgId}/acs`,
      metadataUrl: `http://roster.test/saml/${f.orgId}/metadata`,
      loginUrl: `http://roster.test/saml/${f.orgId}/login`,
    });
    expect(get.body.certificates).toHaveLength(2);
    for (const pem of get.body.certificates)
      expect(pem).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+\n-----END CERTIFICATE-----\n$/);
    expect(get.body.certificates.map(der)).toEqual([der(IDP_CERT), der(ROTATED_CERT)]);
  });

  it("accepts a certificate as bare base64 (as IdP consoles show it) and stores it as PEM", async () => {
    const f = await newOrg();
    const res = await configureSaml(f.owner, { certificates: [der(IDP_CERT)] });
    expect(res.body.certificates[0]).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
    expect(der(res.body.certificates[0])).toBe(der(IDP_CERT));
  });

  it("PUT keeps the options it does not mention: re-importing metadata to rotate a key loses no settings", async () => {
    const f = await newOrg();
    await configureSaml(f.owner, { attributeProfile: "okta", allowIdpInitiated: true });
    const res = await f.owner.put("saml", { metadataXml: idpMetadataXml(ROTATED_CERT) });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ attributeProfile: "okta", allowIdpInitiated: true });
    expect(res.body.certificates).toHaveLength(1);
    expect(der(res.body.certificates[0])).toBe(der(ROTATED_CERT));
  });

  it("a first PUT without options gets the defaults: generic profile, SP-initiated only", async () => {
    const f = await newOrg();
    const res = await f.owner.put("saml", {
      idpEntityId: IDP_ENTITY_ID,
      ssoUrl: IDP_SSO_URL,
      certificates: [IDP_CERT],
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ attributeProfile: "generic", allowIdpInitiated: false });
  });

  it.each([
    [
      "an unknown attribute profile",
      { attributeProfile: "pingfederate" },
      /unknown attribute profile "pingfederate".*generic/,
    ],
    ["a certificate that is not base64", { certificates: ["this is not a certificate!"] }, /certificate/],
    [
      "a certificate that is base64 but not X.509",
      { certificates: ["-----BEGIN CERTIFICATE-----\nAAAABBBBCCCC\n-----END CERTIFICATE-----\n"] },
      /X\.509/,
    ],
    ["no certificate", { certificates: [] }, /certificates/],
    ["a non-http(s) SSO URL", { ssoUrl: "javascript:alert(1)" }, /ssoUrl/],
    ["an unknown field", { extra: true }, undefined],
    ["metadataXml together with fields", { metadataXml: idpMetadataXml() }, undefined],
  ])("400 JSON for %s, and nothing changes", async (_name, override, message) => {
    const f = await newOrg();
    await configureSaml(f.owner);
    const before = await f.owner.get("saml");
    const res = await f.owner.put("saml", {
      idpEntityId: IDP_ENTITY_ID,
      ssoUrl: IDP_SSO_URL,
      certificates: [IDP_CERT],
      ...override,
    });
    expectJsonError(res, 400, "invalid_request", message);
    expect((await f.owner.get("saml")).body).toEqual(before.body);
    expect((await f.owner.get("audit-events?action=saml.updated")).body.items).toHaveLength(1);
  });
});

describe("PUT saml with metadataXml", () => {
  it("reads entity id, SSO URL and signing certificate from the IdP's metadata; options come alongside", async () => {
    const f = await newOrg();
    const put = await f.owner.put("saml", {
      metadataXml: idpMetadataXml(),
      attributeProfile: "okta",
      allowIdpInitiated: true,
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    const get = await f.owner.get("saml");
    expect(get.body).toMatchObject({
      configured: true,
      idpEntityId: IDP_ENTITY_ID,
      ssoUrl: IDP_SSO_URL,
      attributeProfile: "okta",
      allowIdpInitiated: true,
      ...spUrls(f.orgId),
    });
    expect(get.body.certificates.map(der)).toEqual([der(IDP_CERT)]);
  });

  it("a connection imported from metadata signs people in", async () => {
    const f = await newOrg();
    expect((await f.owner.put("saml", { metadataXml: idpMetadataXml() })).status).toBe(200);
    const cookie = await signInOk(app, f.orgId, { email: "imported@acme.example" });
    expect((await me(app, cookie)).body).toMatchObject({ email: "imported@acme.example", orgId: f.orgId });
  });

  it("prefers the HTTP-Redirect SSO endpoint, takes the POST one when it is the only one", async () => {
    const f = await newOrg();
    const both = metadataWith(
      `${keyDescriptor(IDP_CERT, "signing")}${ssoService("HTTP-POST", "https://idp.example.test/post")}${ssoService("HTTP-Redirect", "https://idp.example.test/redirect")}`,
    );
    expect((await f.owner.put("saml", { metadataXml: both })).body.ssoUrl).toBe("https://idp.example.test/redirect");
    const postOnly = metadataWith(
      `${keyDescriptor(IDP_CERT)}${ssoService("HTTP-POST", "https://idp.example.test/post")}`,
    );
    expect((await f.owner.put("saml", { metadataXml: postOnly })).body.ssoUrl).toBe("https://idp.example.test/post");
  });

  it("keeps every signing certificate (rotation), ignores encryption keys, and drops duplicates", async () => {
    const f = await newOrg();
    const xml = metadataWith(
      `${keyDescriptor(IDP_CERT, "signing")}${keyDescriptor(ROTATED_CERT)}${keyDescriptor(IDP_CERT, "signing")}${keyDescriptor(pemFixture("attacker-cert.pem"), "encryption")}${ssoService("HTTP-Redirect", IDP_SSO_URL)}`,
    );
    const res = await f.owner.put("saml", { metadataXml: xml });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.certificates.map(der)).toEqual([der(IDP_CERT), der(ROTATED_CERT)]);
  });

  it("finds the IdP inside an EntitiesDescriptor", async () => {
    const f = await newOrg();
    const inner = idpMetadataXml().replace(/^<\?xml[^>]*>\s*/, "");
    const xml = `<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">${inner}</md:EntitiesDescriptor>`;
    const res = await f.owner.put("saml", { metadataXml: xml });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.idpEntityId).toBe(IDP_ENTITY_ID);
  });

  it("400 for SP metadata (no IDPSSODescriptor), e.g. Roster's own pasted by mistake", async () => {
    const f = await newOrg();
    const spMetadata = (await request(app).get(`/saml/${f.orgId}/metadata`)).text;
    expectJsonError(await f.owner.put("saml", { metadataXml: spMetadata }), 400, "invalid_request", /IDPSSODescriptor/);
  });

  it.each([
    [
      "a DOCTYPE (XXE, entity expansion)",
      `<?xml version="1.0"?><!DOCTYPE md [<!ENTITY x SYSTEM "file:///etc/passwd">]>${idpMetadataXml().replace(/^<\?xml[^>]*>/, "")}`,
      /DOCTYPE/,
    ],
    [
      "a certificate that is not X.509",
      metadataWith(
        `<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>bm90IGEgY2VydGlmaWNhdGU=</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>${ssoService("HTTP-Redirect", IDP_SSO_URL)}`,
      ),
      /X\.509/,
    ],
    [
      "no signing certificate",
      metadataWith(`${keyDescriptor(IDP_CERT, "encryption")}${ssoService("HTTP-Redirect", IDP_SSO_URL)}`),
      /signing certificate/,
    ],
    [
      "no usable SingleSignOnService",
      metadataWith(
        `${keyDescriptor(IDP_CERT)}<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:SOAP" Location="${IDP_SSO_URL}"/>`,
      ),
      /SingleSignOnService/,
    ],
    [
      "an SSO URL that is not http(s)",
      metadataWith(`${keyDescriptor(IDP_CERT)}${ssoService("HTTP-Redirect", "javascript:alert(1)")}`),
      /SSO URL/,
    ],
    [
      "no entityID",
      metadataWith(`${keyDescriptor(IDP_CERT)}${ssoService("HTTP-Redirect", IDP_SSO_URL)}`, "").replace(
        ' entityID=""',
        "",
      ),
      /entityID/,
    ],
    ["text that is not XML", "this is not XML at all", /not well-formed XML/],
    [
      "XML that is not well-formed",
      "<md:EntityDescriptor xmlns:md='urn:oasis:names:tc:SAML:2.0:metadata'><md:IDPSSODescriptor>",
      /not well-formed XML/,
    ],
  ])("400 JSON for metadata with %s; the stored connection is untouched", async (_name, xml, message) => {
    const f = await newOrg();
    await configureSaml(f.owner);
    const before = await f.owner.get("saml");
    expectJsonError(await f.owner.put("saml", { metadataXml: xml }), 400, "invalid_request", message);
    expect((await f.owner.get("saml")).body).toEqual(before.body);
  });

  it("400 for an unknown attribute profile next to valid metadata", async () => {
    const f = await newOrg();
    expectJsonError(
      await f.owner.put("saml", { metadataXml: idpMetadataXml(), attributeProfile: "ENTRA" }),
      400,
      "invalid_request",
      /attribute profile/,
    );
    expect((await f.owner.get("saml")).body.configured).toBe(false);
  });
});

describe("who may read and change SAML settings", () => {
  it("401 without credentials", async () => {
    const f = await newOrg();
    expect((await request(app).get(`/api/v1/orgs/${f.orgId}/saml`)).status).toBe(401);
    expect(
      (await request(app).put(`/api/v1/orgs/${f.orgId}/saml`).send({ metadataXml: idpMetadataXml() })).status,
    ).toBe(401);
  });

  it("a member gets 403 naming the admin role, for GET and PUT; nothing changes", async () => {
    const f = await newOrg();
    const m = await provision(deps, f.orgId);
    const asMember = adminClient(app, f.orgId, await adminTokenFor(f.owner, m.id));
    for (const res of [await asMember.get("saml"), await asMember.put("saml", { metadataXml: idpMetadataXml() })]) {
      expectJsonError(res, 403, "forbidden", /admin/);
      expect(res.body.requiredRole).toBe("admin");
    }
    expect((await f.owner.get("saml")).body.configured).toBe(false);
  });

  it("an admin may; the audit event names them", async () => {
    const f = await newOrg();
    const m = await provision(deps, f.orgId);
    expect((await f.owner.patch(`members/${m.id}`, { role: "admin" })).status).toBe(200);
    const asAdmin = adminClient(app, f.orgId, await adminTokenFor(f.owner, m.id));
    expect((await asAdmin.put("saml", { metadataXml: idpMetadataXml() })).status).toBe(200);
    expect((await asAdmin.get("saml")).body.configured).toBe(true);
    const events = (await f.owner.get("audit-events?action=saml.updated")).body.items;
    expect(events.map((e: { actor: string }) => e.actor)).toEqual([`admin:${m.id}`]);
  });

  it("a session signed in over SAML is a credential for the admin API too, with that member's role", async () => {
    const f = await newOrg();
    await configureSaml(f.owner);
    const cookie = await signInOk(app, f.orgId, { email: "someone@acme.example" });
    const res = await request(app).get(`/api/v1/orgs/${f.orgId}/saml`).set("Cookie", cookie);
    expectJsonError(res, 403, "forbidden", /admin/);
  });
});

describe("audit of SAML settings", () => {
  it("each PUT writes saml.updated with before and after (certificates counted, never copied)", async () => {
    const f = await newOrg();
    await configureSaml(f.owner);
    await configureSaml(f.owner, {
      certificates: [IDP_CERT, ROTATED_CERT],
      attributeProfile: "entra",
      allowIdpInitiated: true,
    });
    const res = await f.owner.get("audit-events?action=saml.updated");
    expect(res.status).toBe(200);
    const items = res.body.items as { actor: string; action: string; before: unknown; after: unknown; at: string }[];
    expect(items).toHaveLength(2);
    const [older, newer] = [...items].sort((a, b) => a.at.localeCompare(b.at) || (a.before === null ? -1 : 1));
    const first = {
      idpEntityId: IDP_ENTITY_ID,
      ssoUrl: IDP_SSO_URL,
      certificates: 1,
      attributeProfile: "generic",
      allowIdpInitiated: false,
    };
    expect(older).toMatchObject({ actor: `admin:${f.ownerId}`, action: "saml.updated", before: null, after: first });
    expect(newer).toMatchObject({
      actor: `admin:${f.ownerId}`,
      before: first,
      after: { ...first, certificates: 2, attributeProfile: "entra", allowIdpInitiated: true },
    });
    expect(JSON.stringify(items)).not.toContain(der(IDP_CERT).slice(0, 40));
  });
});

describe("SP metadata and endpoints without a connection", () => {
  it("GET /saml/{orgId}/metadata: SP metadata XML with the entity id and the POST ACS URL", async () => {
    const f = await newOrg();
    const res = await request(app).get(`/saml/${f.orgId}/metadata`);
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^application\/samlmetadata\+xml/);
    const doc = new DOMParser().parseFromString(res.text, "text/xml");
    const MD = "urn:oasis:names:tc:SAML:2.0:metadata";
    const root = doc.documentElement!;
    expect(root.localName).toBe("EntityDescriptor");
    expect(root.getAttribute("entityID")).toBe(spUrls(f.orgId).spEntityId);
    const sp = doc.getElementsByTagNameNS(MD, "SPSSODescriptor")[0];
    expect(sp.getAttribute("WantAssertionsSigned")).toBe("true");
    const acs = Array.from(doc.getElementsByTagNameNS(MD, "AssertionConsumerService"));
    expect(acs.map((a) => [a.getAttribute("Binding"), a.getAttribute("Location")])).toEqual([
      ["urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST", spUrls(f.orgId).acsUrl],
    ]);
    // The entity id in the metadata is the audience Roster checks, and what GET saml tells the admin.
    expect((await f.owner.get("saml")).body.spEntityId).toBe(root.getAttribute("entityID"));
  });

  it("404 for metadata of something that is not an org id", async () => {
    expect((await request(app).get("/saml/not-an-org/metadata")).status).toBe(404);
  });

  it("login and ACS of an org without a connection: 404 page, no redirect", async () => {
    const f = await newOrg();
    const login = await request(app).get(`/saml/${f.orgId}/login`);
    expect(login.status).toBe(404);
    expect(login.headers["content-type"]).toMatch(/^text\/html/);
    expect(login.headers.location).toBeUndefined();
    const { samlResponse } = await responseFor(f.orgId, {
      nameId: "x@acme.example",
      attributes: { email: "x@acme.example" },
    });
    expect((await postAcs(app, f.orgId, samlResponse)).status).toBe(404);
  });

  it("the redirect goes to the SSO URL of the connection as last saved", async () => {
    const f = await newOrg();
    await configureSaml(f.owner, { ssoUrl: "https://idp-old.example.test/sso" });
    expect((await startLogin(app, f.orgId)).location.origin).toBe("https://idp-old.example.test");
    await configureSaml(f.owner, { ssoUrl: "https://idp-new.example.test/sso/saml" });
    const login = await startLogin(app, f.orgId);
    expect(`${login.location.origin}${login.location.pathname}`).toBe("https://idp-new.example.test/sso/saml");
  });
});

describe("certificate rotation", () => {
  it("with two certificates configured, responses signed with either key are accepted", async () => {
    const f = await newOrg();
    await configureSaml(f.owner, { certificates: [IDP_CERT, ROTATED_CERT] });
    await signInOk(app, f.orgId, { email: "old-key@acme.example" });
    const cookie = await signInOk(app, f.orgId, {
      email: "new-key@acme.example",
      signingKey: ROTATED_KEY,
      signingCert: ROTATED_CERT,
    });
    expect((await me(app, cookie)).body.email).toBe("new-key@acme.example");
  });

  it("after the old certificate is removed, its key is refused (401, nobody created) and the new one works", async () => {
    const f = await newOrg();
    await configureSaml(f.owner, { certificates: [IDP_CERT, ROTATED_CERT] });
    await configureSaml(f.owner, { certificates: [ROTATED_CERT] });
    const refused = await signIn(app, f.orgId, { email: "stale@acme.example" });
    expect(refused.res.status).toBe(401);
    expect(refused.cookie).toBeNull();
    expect((await f.owner.get("members?q=stale@acme.example")).body.items).toEqual([]);
    await signInOk(app, f.orgId, { email: "fresh@acme.example", signingKey: ROTATED_KEY, signingCert: ROTATED_CERT });
  });

  it("a key that was never configured is refused even while two are trusted", async () => {
    const f = await newOrg();
    await configureSaml(f.owner, { certificates: [IDP_CERT, ROTATED_CERT] });
    const refused = await signIn(app, f.orgId, {
      email: "mallory@acme.example",
      signingKey: pemFixture("attacker-key.pem"),
      signingCert: pemFixture("attacker-cert.pem"),
    });
    expect(refused.res.status).toBe(401);
    expect(refused.cookie).toBeNull();
  });
});
