// What an attacker does to a SAML response in transit: strip or forge the signature, tamper with what it
// says, wrap the signed assertion (XSW1–XSW8 from "On Breaking SAML: Be Whoever You Want to Be" as SAML
// Raider implements them), sneak in comments or a DOCTYPE. Every helper takes and returns XML text; the
// tests start from a response the test IdP really signed (test/support/test-idp.ts).
import { DOMParser, XMLSerializer } from "@xmldom/xmldom";
import { SignedXml } from "xml-crypto";

export const PROTOCOL_NS = "urn:oasis:names:tc:SAML:2.0:protocol";
export const ASSERTION_NS = "urn:oasis:names:tc:SAML:2.0:assertion";
export const DS_NS = "http://www.w3.org/2000/09/xmldsig#";

const RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
const SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256";
const EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#";
const ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";

// xmldom's and the standard DOM types differ only in details these helpers do not use.
type El = Element;

export function parseXml(xml: string): Document {
  const errors: string[] = [];
  const doc = new DOMParser({
    onError: (level: string, message: string) => void (level !== "warning" && errors.push(message)),
  }).parseFromString(xml, "text/xml");
  if (errors.length || !doc.documentElement)
    throw new Error(`test helper produced malformed XML: ${errors[0] ?? "no document element"}`);
  return doc as unknown as Document;
}

export function serialize(node: Document | Element): string {
  return new XMLSerializer().serializeToString(node as never);
}

export const toBase64 = (xml: string) => Buffer.from(xml, "utf8").toString("base64");
export const fromBase64 = (b64: string) => Buffer.from(b64, "base64").toString("utf8");

function childElements(parent: Node, ns: string, localName: string): El[] {
  const out: El[] = [];
  for (let n = parent.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === 1 && (n as El).namespaceURI === ns && (n as El).localName === localName) out.push(n as El);
  }
  return out;
}

function descendants(parent: Document | El, ns: string, localName: string): El[] {
  return Array.from(parent.getElementsByTagNameNS(ns, localName)) as El[];
}

function only<T>(list: T[], what: string): T {
  if (list.length !== 1) throw new Error(`expected one ${what}, found ${list.length}`);
  return list[0];
}

/** The Response's one direct Assertion child. */
export function topAssertion(doc: Document): El {
  return only(childElements(doc.documentElement as El, ASSERTION_NS, "Assertion"), "top-level Assertion");
}

/** The enveloped ds:Signature that is a direct child of `element`. */
export function directSignature(element: El): El {
  return only(childElements(element, DS_NS, "Signature"), `ds:Signature in ${element.localName}`);
}

export function signatureValueOf(xml: string): string {
  return descendants(parseXml(xml), DS_NS, "SignatureValue")[0]?.textContent ?? "";
}

/** Mutates one DOM and serializes it again. */
export function edit(xml: string, change: (doc: Document) => void): string {
  const doc = parseXml(xml);
  change(doc);
  return serialize(doc);
}

function setText(element: El, text: string): void {
  while (element.firstChild) element.removeChild(element.firstChild);
  element.appendChild(element.ownerDocument.createTextNode(text));
}

/** What an attacker wants an assertion to say: someone else's NameID and email, and optionally groups. */
export interface EvilValues {
  email: string;
  groups?: string[];
}

/** Rewrites NameID, the email attribute and (optionally) the groups attribute inside `assertion`. */
export function makeEvil(assertion: El, evil: EvilValues): void {
  for (const nameId of descendants(assertion, ASSERTION_NS, "NameID")) setText(nameId, evil.email);
  for (const attribute of descendants(assertion, ASSERTION_NS, "Attribute")) {
    const name = attribute.getAttribute("Name");
    if (name === "email")
      for (const v of childElements(attribute, ASSERTION_NS, "AttributeValue")) setText(v, evil.email);
    if (name === "groups" && evil.groups) {
      const values = childElements(attribute, ASSERTION_NS, "AttributeValue");
      const template = values[0];
      for (const v of values) attribute.removeChild(v);
      for (const group of evil.groups) {
        const v = template.cloneNode(true) as El;
        setText(v, group);
        attribute.appendChild(v);
      }
    }
  }
}

export function setNameId(xml: string, value: string): string {
  return edit(xml, (doc) => setText(only(descendants(topAssertion(doc), ASSERTION_NS, "NameID"), "NameID"), value));
}

export function setAttributeValues(xml: string, name: string, values: string[]): string {
  return edit(xml, (doc) => {
    const attribute = only(
      descendants(topAssertion(doc), ASSERTION_NS, "Attribute").filter((a) => a.getAttribute("Name") === name),
      `Attribute ${name}`,
    );
    const existing = childElements(attribute, ASSERTION_NS, "AttributeValue");
    const template = existing[0];
    for (const v of existing) attribute.removeChild(v);
    for (const value of values) {
      const v = template.cloneNode(true) as El;
      setText(v, value);
      attribute.appendChild(v);
    }
  });
}

/** Removes the assertion's signature altogether. */
export function stripAssertionSignature(xml: string): string {
  return edit(xml, (doc) => {
    const assertion = topAssertion(doc);
    assertion.removeChild(directSignature(assertion));
  });
}

/** Flips one byte of the (base64) SignatureValue, keeping it valid base64 of the same length. */
export function tamperSignatureValue(xml: string): string {
  return edit(xml, (doc) => {
    const value = only(descendants(directSignature(topAssertion(doc)), DS_NS, "SignatureValue"), "SignatureValue");
    const bytes = Buffer.from((value.textContent ?? "").replace(/\s+/g, ""), "base64");
    bytes[bytes.length >> 1] ^= 0x01;
    setText(value, bytes.toString("base64"));
  });
}

/**
 * Signs `targetXpath`'s element with an enveloped exc-c14n signature placed after its Issuer, replacing any
 * signature it had: the attacker's key for a forgery, or the IdP's own key to build a response an IdP could
 * legitimately have sent (a signed envelope, for XSW1/XSW2).
 */
function signElement(xml: string, target: "Assertion" | "Response", key: string, cert: string): string {
  const unsigned = edit(xml, (doc) => {
    const element = target === "Response" ? (doc.documentElement as El) : topAssertion(doc);
    for (const s of childElements(element, DS_NS, "Signature")) element.removeChild(s);
  });
  const elementXpath =
    target === "Response"
      ? "/*[local-name(.)='Response']"
      : "/*[local-name(.)='Response']/*[local-name(.)='Assertion']";
  const sig = new SignedXml({
    privateKey: key,
    publicCert: cert,
    signatureAlgorithm: RSA_SHA256,
    canonicalizationAlgorithm: EXC_C14N,
  });
  sig.addReference({ xpath: elementXpath, transforms: [ENVELOPED, EXC_C14N], digestAlgorithm: SHA256 });
  sig.computeSignature(unsigned, {
    prefix: "ds",
    location: { reference: `${elementXpath}/*[local-name(.)='Issuer']`, action: "after" },
  });
  return sig.getSignedXml();
}

export function resignAssertion(xml: string, key: string, cert: string): string {
  return signElement(xml, "Assertion", key, cert);
}

export function signResponseEnvelope(xml: string, key: string, cert: string): string {
  return signElement(xml, "Response", key, cert);
}

export type XswVariant = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;

/**
 * The eight classic XML Signature Wrapping permutations, as SAML Raider (CompassSecurity) applies them:
 * XSW1–2 against a signed Response, XSW3–8 against a signed Assertion. In each one the element carrying
 * the evil values sits where a naive SP looks (first Assertion, the document root) while the originally
 * signed element survives somewhere a naive verifier still finds it by ID.
 */
export function xsw(xml: string, variant: XswVariant, evil: EvilValues): string {
  return edit(xml, (doc) => {
    const root = doc.documentElement as El;
    switch (variant) {
      case 1:
      case 2: {
        // The evil Response takes the root; the original (its signature removed) goes inside the Response
        // signature (XSW1) or just before it as a sibling (XSW2).
        const original = root.cloneNode(true) as El;
        original.removeChild(directSignature(original));
        makeEvil(topAssertion(doc), evil);
        const signature = directSignature(root);
        if (variant === 1) signature.appendChild(original);
        else root.insertBefore(original, signature);
        root.setAttribute("ID", "_evil_response_ID");
        return;
      }
      case 3: {
        // An unsigned evil copy with a new ID, placed before the signed original.
        const assertion = topAssertion(doc);
        const evilAssertion = assertion.cloneNode(true) as El;
        makeEvil(evilAssertion, evil);
        evilAssertion.removeChild(directSignature(evilAssertion));
        evilAssertion.setAttribute("ID", "_evil_assertion_ID");
        root.insertBefore(evilAssertion, assertion);
        return;
      }
      case 4: {
        // The unsigned evil copy wraps the signed original as its child.
        const assertion = topAssertion(doc);
        const evilAssertion = assertion.cloneNode(true) as El;
        makeEvil(evilAssertion, evil);
        evilAssertion.removeChild(directSignature(evilAssertion));
        evilAssertion.setAttribute("ID", "_evil_assertion_ID");
        root.appendChild(evilAssertion);
        evilAssertion.appendChild(assertion);
        return;
      }
      case 5: {
        // The original turns evil in place (new ID, keeps the signature); an unsigned copy of the original,
        // with the signed ID, goes to the end of the Response.
        const evilAssertion = topAssertion(doc);
        const copy = evilAssertion.cloneNode(true) as El;
        makeEvil(evilAssertion, evil);
        copy.removeChild(directSignature(copy));
        root.appendChild(copy);
        evilAssertion.setAttribute("ID", "_evil_assertion_ID");
        return;
      }
      case 6: {
        // As XSW5, but the unsigned copy of the original hides inside the evil assertion's own Signature.
        const evilAssertion = topAssertion(doc);
        const signature = directSignature(evilAssertion);
        const copy = evilAssertion.cloneNode(true) as El;
        makeEvil(evilAssertion, evil);
        copy.removeChild(directSignature(copy));
        signature.appendChild(copy);
        evilAssertion.setAttribute("ID", "_evil_assertion_ID");
        return;
      }
      case 7: {
        // An unsigned evil copy (same ID) inside samlp:Extensions, before the signed original.
        const assertion = topAssertion(doc);
        const extensions = doc.createElementNS(PROTOCOL_NS, "samlp:Extensions");
        root.insertBefore(extensions, assertion);
        const evilAssertion = assertion.cloneNode(true) as El;
        makeEvil(evilAssertion, evil);
        evilAssertion.removeChild(directSignature(evilAssertion));
        extensions.appendChild(evilAssertion);
        return;
      }
      case 8: {
        // The original turns evil in place (same ID, keeps the signature); an unsigned copy of the original
        // sits in a ds:Object inside that Signature.
        const evilAssertion = topAssertion(doc);
        const signature = directSignature(evilAssertion);
        const copy = evilAssertion.cloneNode(true) as El;
        makeEvil(evilAssertion, evil);
        copy.removeChild(directSignature(copy));
        const object = doc.createElementNS(DS_NS, "ds:Object");
        signature.appendChild(object);
        object.appendChild(copy);
        return;
      }
    }
  });
}

/** An unsigned evil assertion whose saml:Advice carries the signed original (schema-valid wrapping). */
export function wrapInAdvice(xml: string, evil: EvilValues): string {
  return edit(xml, (doc) => {
    const root = doc.documentElement as El;
    const assertion = topAssertion(doc);
    const evilAssertion = assertion.cloneNode(true) as El;
    makeEvil(evilAssertion, evil);
    evilAssertion.removeChild(directSignature(evilAssertion));
    evilAssertion.setAttribute("ID", "_evil_assertion_ID");
    const advice = doc.createElementNS(ASSERTION_NS, "saml:Advice");
    const conditions = childElements(evilAssertion, ASSERTION_NS, "Conditions")[0];
    evilAssertion.insertBefore(advice, conditions.nextSibling);
    root.replaceChild(evilAssertion, assertion);
    advice.appendChild(assertion);
  });
}

/** A second, unsigned assertion with a fresh ID next to (after) the signed one. */
export function addUnsignedAssertion(xml: string, evil: EvilValues): string {
  return edit(xml, (doc) => {
    const assertion = topAssertion(doc);
    const evilAssertion = assertion.cloneNode(true) as El;
    makeEvil(evilAssertion, evil);
    evilAssertion.removeChild(directSignature(evilAssertion));
    evilAssertion.setAttribute("ID", "_evil_assertion_ID");
    (doc.documentElement as El).appendChild(evilAssertion);
  });
}

/** Replaces text content `signed` by `rewritten` everywhere (string level: comments survive no DOM round trip). */
export function rewriteText(xml: string, signed: string, rewritten: string): string {
  const needle = `>${signed}<`;
  if (!xml.includes(needle)) throw new Error(`"${signed}" is not a text value in the response`);
  return xml.split(needle).join(`>${rewritten}<`);
}

/** Sets an attribute on the Response element (Destination, InResponseTo …); null removes it. */
export function setResponseAttribute(xml: string, name: string, value: string | null): string {
  return edit(xml, (doc) => {
    const root = doc.documentElement as El;
    if (value === null) root.removeAttribute(name);
    else root.setAttribute(name, value);
  });
}

/** Sets the Response's own (unsigned) Issuer; null removes it. */
export function setResponseIssuer(xml: string, value: string | null): string {
  return edit(xml, (doc) => {
    const issuer = only(childElements(doc.documentElement as El, ASSERTION_NS, "Issuer"), "Response Issuer");
    if (value === null) (doc.documentElement as El).removeChild(issuer);
    else setText(issuer, value);
  });
}

/** Sets an attribute of the bearer SubjectConfirmationData (re-signing is the caller's business). */
export function setSubjectConfirmationData(xml: string, name: string, value: string | null): string {
  return edit(xml, (doc) => {
    const data = only(
      descendants(topAssertion(doc), ASSERTION_NS, "SubjectConfirmationData"),
      "SubjectConfirmationData",
    );
    if (value === null) data.removeAttribute(name);
    else data.setAttribute(name, value);
  });
}

export const BILLION_LAUGHS = `<!DOCTYPE lolz [
<!ENTITY lol "lol">
<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>`;

export const XXE = `<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>`;

/** Puts a DOCTYPE before the root and, when given, an entity reference in place of a text value. */
export function withDoctype(xml: string, doctype: string, entity?: { replace: string; with: string }): string {
  let out = xml.replace(/^(<\?xml[^>]*\?>\s*)?/, (decl) => `${decl}${doctype}`);
  if (entity) out = rewriteText(out, entity.replace, entity.with);
  return out;
}
