// A test identity provider: samlify signs real SAML responses with a real key (test/fixtures/saml), so the
// tests exercise Roster's SAML checks exactly as an IdP's response would. The XML is built from samlify's
// own response template with our values (ids, times, InResponseTo, multi-valued attributes).
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import samlify from "samlify";

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../fixtures/saml");
export const fixture = (name: string) => readFileSync(path.join(FIXTURES, name), "utf8");

// The SP side of samlify is not used to validate anything; its schema check is off.
samlify.setSchemaValidator({ validate: async () => "skipped" });

export const IDP_ENTITY_ID = "https://idp.example.test/metadata";
export const IDP_SSO_URL = "https://idp.example.test/sso";
export const IDP_SLO_URL = "https://idp.example.test/slo";

export interface AssertionOptions {
  acsUrl: string;
  audience: string;
  nameId: string;
  attributes?: Record<string, string | string[]>;
  inResponseTo?: string | null;
  issuer?: string;
  destination?: string;
  recipient?: string;
  statusCode?: string;
  /** Shifts every time in the assertion (e.g. -1 hour for an expired one). */
  offsetMs?: number;
  lifetimeMs?: number;
  signingKey?: string;
  signingCert?: string;
  /** Digest and signature algorithms (default SHA-256). */
  algorithm?: "sha256" | "sha1";
  assertionId?: string;
  /** Encrypt the signed assertion to this SP certificate (PEM), as an IdP set up for encryption does. */
  encryptTo?: {
    certificate: string;
    /** Default RSA-OAEP (MGF1, SHA-1 mask): what Okta and Entra use. */
    keyEncryptionAlgorithm?: string;
    /** Default AES-256-GCM. */
    dataEncryptionAlgorithm?: string;
  };
}

export const KEY_ENCRYPTION = {
  rsaOaep: "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p",
  rsa15: "http://www.w3.org/2001/04/xmlenc#rsa-1_5",
};
export const DATA_ENCRYPTION = {
  aes256gcm: "http://www.w3.org/2009/xmlenc11#aes256-gcm",
  aes256cbc: "http://www.w3.org/2001/04/xmlenc#aes256-cbc",
  aes128cbc: "http://www.w3.org/2001/04/xmlenc#aes128-cbc",
};

const certificateBody = (pem: string) => pem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s+/g, "");

const SIGNATURE = {
  sha256: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
  sha1: "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
};

function escapeXml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c] as string,
  );
}

function attributeStatement(attributes: Record<string, string | string[]>): string {
  const items = Object.entries(attributes).map(([name, value]) => {
    const values = (Array.isArray(value) ? value : [value])
      .map((v) => `<saml:AttributeValue xsi:type="xs:string">${escapeXml(v)}</saml:AttributeValue>`)
      .join("");
    return `<saml:Attribute Name="${escapeXml(name)}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic">${values}</saml:Attribute>`;
  });
  return items.length ? `<saml:AttributeStatement>${items.join("")}</saml:AttributeStatement>` : "";
}

/** A base64 SAMLResponse with a signed assertion, as Okta or Entra send by default. */
export async function signedResponse(
  options: AssertionOptions,
): Promise<{ samlResponse: string; xml: string; assertionId: string }> {
  const algorithm = options.algorithm ?? "sha256";
  const idp = samlify.IdentityProvider({
    entityID: options.issuer ?? IDP_ENTITY_ID,
    privateKey: options.signingKey ?? fixture("idp-key.pem"),
    signingCert: options.signingCert ?? fixture("idp-cert.pem"),
    singleSignOnService: [{ Binding: "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect", Location: IDP_SSO_URL }],
    // Roster does no single logout, but samlify warns on every IdP built without an SLO endpoint (171 lines
    // per test run); a real IdP has one, so ours does too.
    singleLogoutService: [{ Binding: "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect", Location: IDP_SLO_URL }],
    requestSignatureAlgorithm: SIGNATURE[algorithm],
    wantAuthnRequestsSigned: false,
    ...(options.encryptTo && {
      isAssertionEncrypted: true,
      keyEncryptionAlgorithm: options.encryptTo.keyEncryptionAlgorithm ?? KEY_ENCRYPTION.rsaOaep,
      dataEncryptionAlgorithm: options.encryptTo.dataEncryptionAlgorithm ?? DATA_ENCRYPTION.aes256gcm,
    }),
  } as never);
  const sp = samlify.ServiceProvider({
    entityID: options.audience,
    assertionConsumerService: [{ Binding: "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST", Location: options.acsUrl }],
    wantAssertionsSigned: true,
    wantMessageSigned: false,
    ...(options.encryptTo && { encryptCert: certificateBody(options.encryptTo.certificate) }),
  } as never);
  const now = Date.now() + (options.offsetMs ?? 0);
  const lifetime = options.lifetimeMs ?? 5 * 60 * 1000;
  const iso = (ms: number) => new Date(ms).toISOString();
  const assertionId = options.assertionId ?? `_a${randomUUID().replace(/-/g, "")}`;
  const inResponseTo = options.inResponseTo ?? null;
  const values: Record<string, string> = {
    ID: `_r${randomUUID().replace(/-/g, "")}`,
    AssertionID: assertionId,
    Destination: options.destination ?? options.acsUrl,
    Audience: options.audience,
    SubjectRecipient: options.recipient ?? options.acsUrl,
    NameIDFormat: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
    NameID: escapeXml(options.nameId),
    Issuer: escapeXml(options.issuer ?? IDP_ENTITY_ID),
    IssueInstant: iso(now),
    StatusCode: options.statusCode ?? "urn:oasis:names:tc:SAML:2.0:status:Success",
    ConditionsNotBefore: iso(now - 60_000),
    ConditionsNotOnOrAfter: iso(now + lifetime),
    SubjectConfirmationDataNotOnOrAfter: iso(now + lifetime),
    AuthnStatement: `<saml:AuthnStatement AuthnInstant="${iso(now)}" SessionIndex="_s${randomUUID().slice(0, 8)}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>`,
    AttributeStatement: attributeStatement(options.attributes ?? {}),
  };
  const template = samlify.SamlLib.defaultLoginResponseTemplate.context;
  let context = template.replace(/\{(\w+)\}/g, (match: string, key: string) =>
    key === "InResponseTo" ? "" : (values[key] ?? match),
  );
  // Unsolicited (IdP-initiated) responses carry no InResponseTo at all.
  context = inResponseTo
    ? context.replace(/InResponseTo=""/g, `InResponseTo="${escapeXml(inResponseTo)}"`)
    : context.replace(/ InResponseTo=""/g, "");
  const result = (await idp.createLoginResponse(
    sp,
    { extract: { request: { id: inResponseTo ?? "" } } } as never,
    "post",
    {},
    () => ({ id: values.ID, context }),
  )) as { context: string };
  const xml = Buffer.from(result.context, "base64").toString("utf8");
  return { samlResponse: result.context, xml, assertionId };
}

/** IdP metadata XML for the test IdP, as an admin would paste it. */
export function idpMetadataXml(cert = fixture("idp-cert.pem")): string {
  const body = cert.replace(/-----(BEGIN|END) CERTIFICATE-----|\s+/g, "");
  return `<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="${IDP_ENTITY_ID}">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" WantAuthnRequestsSigned="false">
    <md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>${body}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${IDP_SSO_URL}"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${IDP_SSO_URL}"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>`;
}
