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
  if (errors.length || !doc?.documentElement) throw new SamlRejection(`malformed XML: ${errors[0] ?? "no document element"}`);
  return doc as unknown as Document;
}

function children(parent: Element, ns: string, localName: string): Element[] {
  const out: Element[] = [];
  for (let n = parent.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === 1 && (n as Element).namespaceURI === ns && (n as Element).localName === localName) out.push(n as Element);
  }
  return out;
}

/**
 * 1–3. Size, encoding and the XML features no IdP needs and attacks use: a DOCTYPE (entity expansion,
 * XXE), comments (NameID truncation: `admin@corp.com<!---->.evil.com` keeps its signature under
 * exclusive canonicalization but reads differently), and SHA-1 anywhere in a signature.
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
  for (const algorithm of SHA1_ALGORITHMS) if (xml.includes(algorithm)) throw new SamlRejection(`SHA-1 algorithm refused: ${algorithm}`);
  return xml;
}

/** 4–7. The Response envelope: what it is, where it was sent, who sent it, and that it reports success. */
export function checkEnvelope(xml: string, expected: { acsUrl: string; idpEntityId: string }): void {
  const root = parse(xml).documentElement as Element;
  if (root.namespaceURI !== PROTOCOL_NS || root.localName !== "Response") throw new SamlRejection("root element is not a SAML 2.0 Response");
  const destination = root.getAttribute("Destination");
  if (destination !== expected.acsUrl) throw new SamlRejection(`wrong Destination: ${destination ?? "(none)"}`);
  const issuer = children(root, ASSERTION_NS, "Issuer")[0];
  if (issuer && issuer.textContent?.trim() !== expected.idpEntityId) throw new SamlRejection("wrong Response Issuer");
  const status = children(root, PROTOCOL_NS, "Status")[0];
  const code = status ? children(status, PROTOCOL_NS, "StatusCode")[0]?.getAttribute("Value") : null;
  if (code !== SUCCESS) throw new SamlRejection(`status is not Success: ${code ?? "(none)"}`);
  if (children(root, ASSERTION_NS, "EncryptedAssertion").length > 0) throw new SamlRejection("encrypted assertions are not configured");
  const assertions = children(root, ASSERTION_NS, "Assertion");
  if (assertions.length !== 1) throw new SamlRejection(`expected exactly one Assertion, found ${assertions.length}`);
}

export interface SignedAssertionFacts {
  assertionId: string;
  /** When the assertion stops being usable: the replay record can be forgotten after this. */
  notOnOrAfter: Date;
}

/**
 * 9–10. On the assertion node-saml verified (not on the document, which may carry wrapped copies): a
 * bearer SubjectConfirmation addressed to our ACS URL, and the facts the replay store needs.
 */
export function checkSignedAssertion(assertionXml: string, expected: { acsUrl: string; fallbackLifetimeMs: number; now: Date }): SignedAssertionFacts {
  const assertion = parse(assertionXml).documentElement as Element;
  if (assertion.namespaceURI !== ASSERTION_NS || assertion.localName !== "Assertion") throw new SamlRejection("signed element is not an Assertion");
  const assertionId = assertion.getAttribute("ID");
  if (!assertionId) throw new SamlRejection("assertion without ID");
  const subject = children(assertion, ASSERTION_NS, "Subject")[0];
  const confirmations = subject ? children(subject, ASSERTION_NS, "SubjectConfirmation").filter((c) => c.getAttribute("Method") === BEARER) : [];
  const data = confirmations.flatMap((c) => children(c, ASSERTION_NS, "SubjectConfirmationData"));
  if (!data.some((d) => d.getAttribute("Recipient") === expected.acsUrl)) throw new SamlRejection("no bearer SubjectConfirmation with our ACS URL as Recipient");
  const times = [...data.map((d) => d.getAttribute("NotOnOrAfter")), ...children(assertion, ASSERTION_NS, "Conditions").map((c) => c.getAttribute("NotOnOrAfter"))]
    .filter((t): t is string => !!t)
    .map((t) => new Date(t).getTime())
    .filter((t) => Number.isFinite(t));
  const notOnOrAfter = new Date(times.length ? Math.max(...times) : expected.now.getTime() + expected.fallbackLifetimeMs);
  return { assertionId, notOnOrAfter };
}

/** RelayState is attacker-controlled: only a relative path on this server is followed. */
export function safeReturnPath(value: unknown, fallback = "/me"): string {
  if (typeof value !== "string" || value.length > 512) return fallback;
  if (!value.startsWith("/") || value.startsWith("//") || value.includes("\\") || /[\u0000-\u001f]/.test(value)) return fallback;
  return value;
}
