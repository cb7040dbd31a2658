// Encrypted assertions: the IdP encrypts the assertion to the org's SP certificate. We decrypt it before
// every other check, put the plain assertion back where the EncryptedAssertion was, and the document then
// runs through the same pipeline as an unencrypted one (the assertion's own signature, which the IdP made
// before encrypting, is what node-saml verifies). During a key rotation an IdP may encrypt to the active,
// next or previous certificate, so each of the org's keys is tried.
import { DOMParser, XMLSerializer } from "@xmldom/xmldom";
import xmlenc from "xml-encryption";
import { SamlRejection } from "./saml-checks.js";

const PROTOCOL_NS = "urn:oasis:names:tc:SAML:2.0:protocol";
const ASSERTION_NS = "urn:oasis:names:tc:SAML:2.0:assertion";

function decryptWith(encryptedXml: string, key: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // RSA PKCS#1 v1.5 key transport and 3DES are refused: both have practical attacks on XML encryption.
    xmlenc.decrypt(
      encryptedXml,
      { key, disallowDecryptionWithInsecureAlgorithm: true, warnInsecureAlgorithm: false },
      (error: Error | null, result?: string) => (error || result === undefined ? reject(error) : resolve(result)),
    );
  });
}

function elementChildren(parent: Element, ns: string, localName: string): Element[] {
  const out: Element[] = [];
  for (let n = parent.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === 1 && (n as Element).namespaceURI === ns && (n as Element).localName === localName)
      out.push(n as Element);
  }
  return out;
}

function parse(xml: string): Document {
  try {
    return new DOMParser({ onError: () => undefined }).parseFromString(xml, "text/xml") as unknown as Document;
  } catch {
    throw new SamlRejection("malformed XML");
  }
}

/**
 * The Response with its EncryptedAssertion replaced by the decrypted Assertion; unchanged when nothing is
 * encrypted (refused instead when the connection requires encryption).
 */
export async function decryptAssertion(
  xml: string,
  decryptionKeys: string[],
  options: { required: boolean },
): Promise<string> {
  const doc = parse(xml);
  const root = doc.documentElement;
  if (!root || root.namespaceURI !== PROTOCOL_NS || root.localName !== "Response")
    throw new SamlRejection("root element is not a SAML 2.0 Response");
  const encrypted = elementChildren(root, ASSERTION_NS, "EncryptedAssertion");
  if (encrypted.length === 0) {
    if (options.required) throw new SamlRejection("assertion is not encrypted and the connection requires it");
    return xml;
  }
  if (encrypted.length > 1) throw new SamlRejection(`expected one EncryptedAssertion, found ${encrypted.length}`);
  if (decryptionKeys.length === 0) throw new SamlRejection("encrypted assertion but the org has no SP key");
  const encryptedXml = new XMLSerializer().serializeToString(encrypted[0] as never);
  let plain: string | null = null;
  for (const key of decryptionKeys) {
    try {
      plain = await decryptWith(encryptedXml, key);
      break;
    } catch {
      // Not this key (or not decryptable at all): try the next one.
    }
  }
  if (plain === null) throw new SamlRejection("the assertion could not be decrypted with any of the org's SP keys");
  // The decrypted text gets the same screening as the document it came in.
  if (/<!DOCTYPE|<!ENTITY/i.test(plain)) throw new SamlRejection("DOCTYPE or ENTITY in the decrypted assertion");
  if (plain.includes("<!--")) throw new SamlRejection("XML comment in the decrypted assertion");
  const assertion = parse(plain).documentElement;
  if (!assertion || assertion.namespaceURI !== ASSERTION_NS || assertion.localName !== "Assertion")
    throw new SamlRejection("the EncryptedAssertion does not contain an Assertion");
  root.replaceChild(doc.importNode(assertion, true), encrypted[0]);
  return new XMLSerializer().serializeToString(doc as never);
}
