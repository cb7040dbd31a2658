// What enterprise IdPs ask of a SAML SP (issue 8): assertions encrypted to a per-org SP key pair whose
// certificate is in our metadata, key rotation without downtime, signed AuthnRequests when the IdP wants
// them, and the NameID format per connection. samlify plays the IdP: it encrypts to the certificate it
// read from our metadata and verifies our request signatures. Real app, real database, nothing mocked.
import { createVerify, X509Certificate } from "node:crypto";
import type { Express } from "express";
import samlify from "samlify";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import {
  DATA_ENCRYPTION,
  fixture,
  IDP_ENTITY_ID,
  IDP_SLO_URL,
  IDP_SSO_URL,
  idpMetadataXml,
  KEY_ENCRYPTION,
} from "../support/test-idp.js";
import { type AdminClient, adminClient, adminTokenFor, createOrgViaApi } from "./helpers.js";
import { configureSaml, me, type SamlSettings, signIn, signInOk, startLogin } from "./saml-flow-helpers.js";

let tdb: TestDatabase;
let app: Express;

beforeAll(async () => {
  tdb = await createTestDatabase();
  app = testApp(tdb.db);
});
afterAll(async () => tdb?.destroy());

interface Fixture {
  orgId: string;
  owner: AdminClient;
}

async function newOrg(saml: SamlSettings = {}): Promise<Fixture> {
  const created = await createOrgViaApi(app, {});
  const owner = adminClient(app, created.orgId, created.ownerToken);
  await configureSaml(owner, saml);
  return { orgId: created.orgId, owner };
}

async function spMetadata(orgId: string): Promise<string> {
  const res = await request(app).get(`/saml/${orgId}/metadata`);
  expect(res.status).toBe(200);
  return res.text;
}

/** The certificates (PEM) an IdP reads from our metadata for one use, in document order. */
function certificatesFor(metadata: string, use: "signing" | "encryption"): string[] {
  const descriptors =
    metadata.match(/<md:KeyDescriptor use="(signing|encryption)">[\s\S]*?<\/md:KeyDescriptor>/g) ?? [];
  return descriptors
    .filter((d) => d.includes(`use="${use}"`))
    .map((d) => /<ds:X509Certificate>([^<]+)<\/ds:X509Certificate>/.exec(d)?.[1] as string)
    .map((body) => `-----BEGIN CERTIFICATE-----\n${body.match(/.{1,64}/g)?.join("\n")}\n-----END CERTIFICATE-----\n`);
}

let counter = 0;
const nextEmail = () => `enc-${++counter}-${Date.now()}@example.com`;

describe("encrypted assertions", () => {
  it("every connection gets an SP key pair: its certificate is in the metadata for signing and encryption", async () => {
    const f = await newOrg();
    const metadata = await spMetadata(f.orgId);
    const [encryption] = certificatesFor(metadata, "encryption");
    expect(certificatesFor(metadata, "signing")).toEqual([encryption]);
    const certificate = new X509Certificate(encryption);
    expect(certificate.verify(certificate.publicKey)).toBe(true); // self-signed, parses as X.509
    expect(new Date(certificate.validTo).getTime()).toBeGreaterThan(Date.now() + 4 * 365 * 24 * 3600 * 1000);
    // The IdP admin sees the same certificate through the API, never the private key.
    const keys = await f.owner.get("saml/sp-keys");
    expect(keys.status).toBe(200);
    expect(keys.body.items).toHaveLength(1);
    expect(keys.body.items[0]).toMatchObject({ state: "active" });
    expect(keys.body.items[0].certificate.replace(/\s+/g, "")).toBe(encryption.replace(/\s+/g, ""));
    expect(JSON.stringify(keys.body)).not.toContain("PRIVATE KEY");
  });

  it("the private key is stored sealed, not as PEM", async () => {
    const f = await newOrg();
    const rows = await tdb.db("saml_sp_keys").where({ org_id: f.orgId });
    expect(rows).toHaveLength(1);
    expect(rows[0].private_key_sealed).not.toContain("PRIVATE KEY");
    expect(rows[0].private_key_sealed).toMatch(/^v1\./);
  });

  for (const [name, dataEncryptionAlgorithm] of Object.entries(DATA_ENCRYPTION)) {
    it(`an assertion encrypted to the metadata's certificate (RSA-OAEP + ${name}) signs the person in`, async () => {
      const f = await newOrg();
      const [certificate] = certificatesFor(await spMetadata(f.orgId), "encryption");
      const email = nextEmail();
      const result = await signIn(app, f.orgId, { email, encryptTo: { certificate, dataEncryptionAlgorithm } });
      expect(Buffer.from(result.samlResponse, "base64").toString()).toContain("EncryptedAssertion");
      expect(Buffer.from(result.samlResponse, "base64").toString()).not.toContain(email);
      expect(result.res.status, result.res.text).toBe(303);
      expect((await me(app, result.cookie as string)).body.email).toBe(email);
    });
  }

  it("an assertion encrypted to some other certificate is refused and provisions nobody", async () => {
    const f = await newOrg();
    const email = nextEmail();
    const result = await signIn(app, f.orgId, { email, encryptTo: { certificate: fixture("attacker-cert.pem") } });
    expect(result.res.status).toBe(401);
    expect(result.cookie).toBeNull();
    expect(await tdb.db("members").where({ org_id: f.orgId, email })).toHaveLength(0);
  });

  it("RSA PKCS#1 v1.5 key transport is refused (Bleichenbacher), even to the right certificate", async () => {
    const f = await newOrg();
    const [certificate] = certificatesFor(await spMetadata(f.orgId), "encryption");
    const email = nextEmail();
    const result = await signIn(app, f.orgId, {
      email,
      encryptTo: { certificate, keyEncryptionAlgorithm: KEY_ENCRYPTION.rsa15 },
    });
    expect(result.res.status).toBe(401);
    expect(await tdb.db("members").where({ org_id: f.orgId, email })).toHaveLength(0);
  });

  it("requireEncryptedAssertions refuses a plain assertion and still takes an encrypted one", async () => {
    const f = await newOrg({ requireEncryptedAssertions: true });
    expect((await f.owner.get("saml")).body.requireEncryptedAssertions).toBe(true);
    const plainEmail = nextEmail();
    const plain = await signIn(app, f.orgId, { email: plainEmail });
    expect(plain.res.status).toBe(401);
    expect(await tdb.db("members").where({ org_id: f.orgId, email: plainEmail })).toHaveLength(0);
    const [certificate] = certificatesFor(await spMetadata(f.orgId), "encryption");
    await signInOk(app, f.orgId, { email: nextEmail(), encryptTo: { certificate } });
  });
});

describe("SP key rotation without downtime", () => {
  it("next key published beside the active one; both decrypt; activate; previous still decrypts until deleted", async () => {
    const f = await newOrg();
    const [oldCert] = certificatesFor(await spMetadata(f.orgId), "encryption");

    // 1. A next key: the metadata now carries both, active first; the IdP may use either.
    const created = await f.owner.post("saml/sp-keys", {});
    expect(created.status).toBe(201);
    expect(created.body.state).toBe("next");
    expect((await f.owner.post("saml/sp-keys", {})).status).toBe(409); // one next key at a time
    const both = certificatesFor(await spMetadata(f.orgId), "encryption");
    expect(both).toHaveLength(2);
    expect(both[0].replace(/\s+/g, "")).toBe(oldCert.replace(/\s+/g, ""));
    const newCert = both[1];
    await signInOk(app, f.orgId, { email: nextEmail(), encryptTo: { certificate: oldCert } });
    await signInOk(app, f.orgId, { email: nextEmail(), encryptTo: { certificate: newCert } });

    // 2. Activate: the new key leads; the old one is kept as previous and still decrypts.
    const activated = await f.owner.post(`saml/sp-keys/${created.body.id}/activate`, {});
    expect(activated.status).toBe(200);
    expect(activated.body.state).toBe("active");
    const keys = (await f.owner.get("saml/sp-keys")).body.items as { id: string; state: string }[];
    expect(keys.map((k) => k.state)).toEqual(["active", "previous"]);
    expect(certificatesFor(await spMetadata(f.orgId), "encryption")[0].replace(/\s+/g, "")).toBe(
      newCert.replace(/\s+/g, ""),
    );
    await signInOk(app, f.orgId, { email: nextEmail(), encryptTo: { certificate: oldCert } });

    // 3. The active key cannot be deleted; the previous one can, and then the old certificate is dead.
    const previous = keys.find((k) => k.state === "previous") as { id: string };
    expect((await f.owner.delete(`saml/sp-keys/${created.body.id}`)).status).toBe(409);
    expect((await f.owner.delete(`saml/sp-keys/${previous.id}`)).status).toBe(204);
    expect(certificatesFor(await spMetadata(f.orgId), "encryption")).toHaveLength(1);
    const late = await signIn(app, f.orgId, { email: nextEmail(), encryptTo: { certificate: oldCert } });
    expect(late.res.status).toBe(401);
    await signInOk(app, f.orgId, { email: nextEmail(), encryptTo: { certificate: newCert } });

    const actions = (await f.owner.get("audit-events")).body.items.map((e: { action: string }) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining(["saml.sp_key.created", "saml.sp_key.activated", "saml.sp_key.deleted"]),
    );
  });

  it("a member cannot see or rotate SP keys; another org's admin cannot touch them", async () => {
    const f = await newOrg();
    const [key] = (await f.owner.get("saml/sp-keys")).body.items as { id: string }[];
    const memberEmail = nextEmail();
    await signInOk(app, f.orgId, { email: memberEmail });
    const { id: memberId } = await tdb.db("members").where({ org_id: f.orgId, email: memberEmail }).first();
    const member = adminClient(app, f.orgId, await adminTokenFor(f.owner, memberId));
    expect((await member.get("saml/sp-keys")).status).toBe(403);
    expect((await member.post("saml/sp-keys", {})).status).toBe(403);

    const other = await createOrgViaApi(app, {});
    const stranger = adminClient(app, other.orgId, other.ownerToken);
    expect((await stranger.post(`saml/sp-keys/${key.id}/activate`, {})).status).toBe(404);
    expect((await stranger.delete(`saml/sp-keys/${key.id}`)).status).toBe(404);
    expect((await f.owner.delete("saml/sp-keys/not-a-uuid")).status).toBe(404);
    expect((await f.owner.get("saml/sp-keys")).body.items).toEqual([
      expect.objectContaining({ id: key.id, state: "active" }),
    ]);
  });
});

describe("signed AuthnRequests", () => {
  function octetString(location: URL): string {
    // The Redirect binding signs the query as sent, without the Signature parameter (SAML bindings §3.4.4.1).
    return location.search
      .slice(1)
      .split("&")
      .filter((p) => !p.startsWith("Signature="))
      .join("&");
  }

  it("off by default: no signature on the request, AuthnRequestsSigned=false in metadata", async () => {
    const f = await newOrg();
    const login = await startLogin(app, f.orgId);
    expect(login.location.searchParams.get("Signature")).toBeNull();
    expect(await spMetadata(f.orgId)).toContain('AuthnRequestsSigned="false"');
  });

  it("when on, samlify as an IdP that requires signed requests verifies ours with the metadata's certificate", async () => {
    const f = await newOrg({ signAuthnRequests: true });
    const metadata = await spMetadata(f.orgId);
    expect(metadata).toContain('AuthnRequestsSigned="true"');
    const login = await startLogin(app, f.orgId, "?returnTo=/me");
    expect(login.location.searchParams.get("SigAlg")).toBe("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256");
    const idp = samlify.IdentityProvider({
      entityID: IDP_ENTITY_ID,
      privateKey: fixture("idp-key.pem"),
      signingCert: fixture("idp-cert.pem"),
      singleSignOnService: [{ Binding: "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect", Location: IDP_SSO_URL }],
      singleLogoutService: [{ Binding: "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect", Location: IDP_SLO_URL }],
      wantAuthnRequestsSigned: true,
    } as never);
    const sp = samlify.ServiceProvider({ metadata } as never);
    const query = Object.fromEntries(login.location.searchParams);
    const parsed = await idp.parseLoginRequest(sp, "redirect", { query, octetString: octetString(login.location) });
    expect(parsed.extract.request?.id).toBe(login.requestId);

    // A request altered on the way (another RelayState) no longer verifies.
    const tampered = new URL(login.location);
    tampered.searchParams.set("RelayState", "/admin");
    await expect(
      idp.parseLoginRequest(sp, "redirect", {
        query: { ...query, RelayState: "/admin" },
        octetString: octetString(tampered),
      }),
    ).rejects.toThrow(/SIGNATURE/);
  });

  it("after a rotation, requests are signed with the newly active key", async () => {
    const f = await newOrg({ signAuthnRequests: true });
    const next = await f.owner.post("saml/sp-keys", {});
    expect((await f.owner.post(`saml/sp-keys/${next.body.id}/activate`, {})).status).toBe(200);
    const login = await startLogin(app, f.orgId);
    const verify = createVerify("RSA-SHA256");
    verify.update(octetString(login.location));
    expect(verify.verify(next.body.certificate, login.location.searchParams.get("Signature") as string, "base64")).toBe(
      true,
    );
  });

  it("IdP metadata with WantAuthnRequestsSigned=true turns signing on; the admin can still turn it off", async () => {
    const created = await createOrgViaApi(app, {});
    const owner = adminClient(app, created.orgId, created.ownerToken);
    const wanting = idpMetadataXml().replace('WantAuthnRequestsSigned="false"', 'WantAuthnRequestsSigned="true"');
    expect((await owner.put("saml", { metadataXml: wanting })).body.signAuthnRequests).toBe(true);
    expect((await startLogin(app, created.orgId)).location.searchParams.get("Signature")).not.toBeNull();
    const off = await owner.put("saml", { metadataXml: wanting, signAuthnRequests: false });
    expect(off.body.signAuthnRequests).toBe(false);
  });
});

describe("NameID format per connection", () => {
  it("defaults to emailAddress in the AuthnRequest and the metadata", async () => {
    const f = await newOrg();
    const login = await startLogin(app, f.orgId);
    expect(login.requestXml).toContain('Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"');
    expect(await spMetadata(f.orgId)).toContain(
      "<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>",
    );
  });

  it("persistent: asked for in the request and metadata; the email then comes from the attributes", async () => {
    const f = await newOrg({ nameIdFormat: "persistent" });
    expect((await f.owner.get("saml")).body.nameIdFormat).toBe("persistent");
    const login = await startLogin(app, f.orgId);
    expect(login.requestXml).toContain('Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"');
    expect(await spMetadata(f.orgId)).toContain("nameid-format:persistent</md:NameIDFormat>");
    const email = nextEmail();
    const cookie = await signInOk(app, f.orgId, { email, nameId: "00u1a2b3c4d5e6f7g8h9" });
    expect((await me(app, cookie)).body.email).toBe(email);
  });

  it("an unknown format is a 400 and changes nothing", async () => {
    const f = await newOrg();
    const res = await f.owner.put("saml", {
      idpEntityId: IDP_ENTITY_ID,
      ssoUrl: IDP_SSO_URL,
      certificates: [fixture("idp-cert.pem")],
      nameIdFormat: "kerberos",
    });
    expect(res.status).toBe(400);
    expect((await f.owner.get("saml")).body.nameIdFormat).toBe("emailAddress");
  });
});
