// The checks an assertion must pass besides node-saml's own (signature from a trusted key, issuer,
// audience, time window, InResponseTo). Pure functions over XML text; no HTTP, no database. Each failure
// is a SamlRejection whose reason goes to the log, never to the client.
import { DOMParser } from "@xmldom/xmldom";

export class SamlRejection extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = "SamlRejection";
  }
}

const PROTOCOL_NS = "urn:oasis:names:tc:SAML:2.0:protocol";
const ASSERTION_NS = "urn:oasis:names:tc:SAML:2.0:assertion";
const SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success";
const BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
const DS_NS = "http://www.w3.org/2000/09/xmldsig#";
// The only signature and digest algorithms accepted, read from the parsed document (see checkEnvelope).
const ALLOWED_SIGNATURE_METHODS = new Set([
  "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
  "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
]);
const ALLOWED_DIGEST_METHODS = new Set([
  "http://www.w3.org/2001/04/xmlenc#sha256",
  "http://www.w3.org/2001/04/xmlenc#sha512",
]);
const SHA1_ALGORITHMS = [
  "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
  "http://www.w3.org/2000/09/xmldsig#sha1",
  "http://www.w3.org/2000/09/xmldsig#dsa-sha1",
  "http://www.w3.org/2000/09/xmldsig#hmac-sha1",
];

function parse(xml: string): Document {
  const errors: string[] = [];
  const doc = new DOMParser({
    onError: (level: string, message: string) => {
      if (level !== "warning") errors.push(message);
    },
  }).parseFromString(xml, "text/xml");
  if (errors.length || !doc?.documentElement)
    throw new SamlRejection(`malformed XML: ${errors[0] ?? "no document element"}`);
  return doc as unknown as Document;
}

function children(parent: Element, ns: string, localName: string): Element[] {
  const out: Element[] = [];
  for (let n = parent.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === 1 && (n as Element).namespaceURI === ns && (n as Element).localName === localName)
      out.push(n as Element);
  }
  return out;
}

/**
 * 1–3. Size, encoding and the XML features no IdP needs and attacks use: a DOCTYPE (entity expansion,
 * XXE) and comments (NameID truncation: `admin@corp.com<!---->.evil.com` keeps its signature under
 * exclusive canonicalization but reads differently).
 */
export function decodeResponse(samlResponse: unknown, maxBytes: number): string {
  if (typeof samlResponse !== "string" || samlResponse.length === 0) throw new SamlRejection("no SAMLResponse");
  if (samlResponse.length > Math.ceil((maxBytes * 4) / 3) + 4) throw new SamlRejection("SAMLResponse too large");
  const compact = samlResponse.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) throw new SamlRejection("SAMLResponse is not base64");
  const xml = Buffer.from(compact, "base64").toString("utf8");
  if (Buffer.byteLength(xml) > maxBytes) throw new SamlRejection("SAMLResponse too large");
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw new SamlRejection("DOCTYPE or ENTITY in SAMLResponse");
  if (xml.includes("<!--")) throw new SamlRejection("XML comment in SAMLResponse");
  return xml;
}

/**
 * 3. SHA-1 anywhere in a signature. Run on the document after decryption: an encrypted assertion's key
 * transport (RSA-OAEP) names SHA-1 as its mask digest, which is sound, and that part is gone by then.
 */
export function refuseSha1(xml: string): void {
  for (const algorithm of SHA1_ALGORITHMS)
    if (xml.includes(algorithm)) throw new SamlRejection(`SHA-1 algorithm refused: ${algorithm}`);
}

/** 4–7. The Response envelope: what it is, where it was sent, who sent it, and that it reports success. */
export function checkEnvelope(xml: string, expected: { acsUrl: string; idpEntityId: string }): void {
  const root = parse(xml).documentElement as Element;
  if (root.namespaceURI !== PROTOCOL_NS || root.localName !== "Response")
    throw new SamlRejection("root element is not a SAML 2.0 Response");
  const destination = root.getAttribute("Destination");
  if (destination !== expected.acsUrl) throw new SamlRejection(`wrong Destination: ${destination ?? "(none)"}`);
  const issuer = children(root, ASSERTION_NS, "Issuer")[0];
  if (issuer && issuer.textContent?.trim() !== expected.idpEntityId) throw new SamlRejection("wrong Response Issuer");
  const status = children(root, PROTOCOL_NS, "Status")[0];
  const code = status ? children(status, PROTOCOL_NS, "StatusCode")[0]?.getAttribute("Value") : null;
  if (code !== SUCCESS) throw new SamlRejection(`status is not Success: ${code ?? "(none)"}`);
  // decryptAssertion has already replaced a single EncryptedAssertion by its Assertion; any left is refused.
  if (children(root, ASSERTION_NS, "EncryptedAssertion").length > 0)
    throw new SamlRejection("more than one assertion, encrypted or not");
  const assertions = children(root, ASSERTION_NS, "Assertion");
  if (assertions.length !== 1) throw new SamlRejection(`expected exactly one Assertion, found ${assertions.length}`);
  // The text search for SHA-1 in decodeResponse misses an Algorithm spelled with character references
  // ("xmldsig&#x23;rsa-sha1"): canonicalization turns it back into '#', so the signature still verifies and
  // xml-crypto would check it with SHA-1. The parsed attribute values cannot hide: allow only SHA-2.
  for (const [localName, allowed] of [
    ["SignatureMethod", ALLOWED_SIGNATURE_METHODS],
    ["DigestMethod", ALLOWED_DIGEST_METHODS],
  ] as const) {
    for (const method of Array.from(root.getElementsByTagNameNS(DS_NS, localName))) {
      const algorithm = method.getAttribute("Algorithm") ?? "";
      if (!allowed.has(algorithm)) throw new SamlRejection(`${localName} algorithm refused: ${algorithm || "(none)"}`);
    }
  }
}

export interface SignedAssertionFacts {
  assertionId: string;
  /** When the assertion stops being usable, clock skew included: the replay record can be forgotten after this. */
  notOnOrAfter: Date;
}

/**
 * 9–10. On the assertion node-saml verified (not on the document, which may carry wrapped copies): its
 * Issuer, a bearer SubjectConfirmation addressed to our ACS URL, inside its time window and answering the
 * same request as the Response, and the facts the replay store needs.
 */
export function checkSignedAssertion(
  assertionXml: string,
  expected: { acsUrl: string; idpEntityId: string; inResponseTo: string | null; clockSkewMs: number; now: Date },
): SignedAssertionFacts {
  const assertion = parse(assertionXml).documentElement as Element;
  if (assertion.namespaceURI !== ASSERTION_NS || assertion.localName !== "Assertion")
    throw new SamlRejection("signed element is not an Assertion");
  const assertionId = assertion.getAttribute("ID");
  if (!assertionId) throw new SamlRejection("assertion without ID");
  // node-saml's idpIssuer is only compared on logout messages; checkEnvelope sees only the Response's
  // Issuer, which is unsigned and optional. A key the org trusts may sign for other entities too (one
  // signing key per IdP tenant): the signed assertion must name the org's IdP.
  const issuers = children(assertion, ASSERTION_NS, "Issuer");
  if (issuers.length !== 1 || issuers[0].textContent?.trim() !== expected.idpEntityId)
    throw new SamlRejection("wrong or missing Assertion Issuer");
  const now = expected.now.getTime();
  const time = (value: string | null) => (value === null ? null : new Date(value).getTime());
  const subject = children(assertion, ASSERTION_NS, "Subject")[0];
  const confirmations = subject
    ? children(subject, ASSERTION_NS, "SubjectConfirmation").filter((c) => c.getAttribute("Method") === BEARER)
    : [];
  const data = confirmations.flatMap((c) => children(c, ASSERTION_NS, "SubjectConfirmationData"));
  if (!data.some((d) => d.getAttribute("Recipient") === expected.acsUrl))
    throw new SamlRejection("no bearer SubjectConfirmation with our ACS URL as Recipient");
  // The bearer confirmation is what makes the assertion usable, and its NotOnOrAfter is required (SAML
  // profiles §4.1.4.2). node-saml checks its time only when it validates InResponseTo, i.e. not for an
  // unsolicited response, where an assertion past its bearer window but with longer Conditions got in.
  // Its InResponseTo must be the Response's (checked by node-saml against the store): an unsigned envelope
  // stripped of InResponseTo would otherwise pass a solicited assertion off as unsolicited, and one whose
  // confirmation does not name the request would leave the request unconsumed.
  const usable = data.filter((d) => {
    if (d.getAttribute("Recipient") !== expected.acsUrl) return false;
    const notOnOrAfter = time(d.getAttribute("NotOnOrAfter"));
    const notBefore = time(d.getAttribute("NotBefore"));
    if (notOnOrAfter === null || !Number.isFinite(notOnOrAfter) || now - expected.clockSkewMs >= notOnOrAfter)
      return false;
    if (notBefore !== null && (!Number.isFinite(notBefore) || now + expected.clockSkewMs < notBefore)) return false;
    return (d.getAttribute("InResponseTo") || null) === expected.inResponseTo;
  });
  if (usable.length === 0) throw new SamlRejection("no bearer SubjectConfirmation usable now for this request");
  // The replay record must outlive every moment the assertion is accepted, and that is its latest
  // NotOnOrAfter plus the skew: forgotten at NotOnOrAfter itself, it could be replayed for clockSkewMs
  // once housekeeping (run after any sign-in, by any process) had deleted it.
  const times = [
    ...usable.map((d) => d.getAttribute("NotOnOrAfter")),
    ...children(assertion, ASSERTION_NS, "Conditions").map((c) => c.getAttribute("NotOnOrAfter")),
  ]
    .map((t) => time(t) ?? Number.NaN)
    .filter((t) => Number.isFinite(t));
  return { assertionId, notOnOrAfter: new Date(Math.max(...times) + expected.clockSkewMs) };
}

const hasControlCharacter = (value: string) => Array.from(value).some((c) => c.charCodeAt(0) < 0x20);

/** RelayState is attacker-controlled: only a relative path on this server is followed. */
export function safeReturnPath(value: unknown, fallback = "/me"): string {
  if (typeof value !== "string" || value.length > 512) return fallback;
  if (!value.startsWith("/") || value.startsWith("//") || value.includes("\\") || hasControlCharacter(value))
    return fallback;
  return value;
}
