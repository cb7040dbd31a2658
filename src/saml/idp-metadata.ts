// Reads what Roster needs from an IdP's SAML metadata XML: entity id, SSO URL and signing certificates.
import { X509Certificate } from "node:crypto";
import { DOMParser } from "@xmldom/xmldom";
import { DomainError } from "../domain/errors.js";

const MD_NS = "urn:oasis:names:tc:SAML:2.0:metadata";
const DS_NS = "http://www.w3.org/2000/09/xmldsig#";
const REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
const POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";

export interface IdpMetadata {
  idpEntityId: string;
  ssoUrl: string;
  certificates: string[];
  /** The IdP's WantAuthnRequestsSigned: it refuses unsigned AuthnRequests. */
  wantAuthnRequestsSigned: boolean;
}

/** A PEM certificate from base64 DER or PEM text; refused when it does not parse as X.509. */
export function toPemCertificate(text: string): string {
  const body = text.replace(/-----(BEGIN|END) CERTIFICATE-----/g, "").replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body))
    throw new DomainError("invalid_request", "a certificate is not base64 or PEM");
  const pem = `-----BEGIN CERTIFICATE-----\n${body.match(/.{1,64}/g)?.join("\n")}\n-----END CERTIFICATE-----\n`;
  try {
    new X509Certificate(pem);
  } catch {
    throw new DomainError("invalid_request", "a certificate is not a valid X.509 certificate");
  }
  return pem;
}

export function parseIdpMetadata(xml: string): IdpMetadata {
  if (xml.length > 1024 * 1024) throw new DomainError("invalid_request", "metadata XML is larger than 1 MB");
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw new DomainError("invalid_request", "metadata with a DOCTYPE is refused");
  const errors: string[] = [];
  let doc: Document | undefined;
  try {
    doc = new DOMParser({
      onError: (level: string, message: string) => void (level !== "warning" && errors.push(message)),
    }).parseFromString(xml, "text/xml") as unknown as Document;
  } catch (error) {
    // xmldom 0.9 throws a ParseError on fatal errors (no root element, unclosed tags) after reporting
    // them: without this, text that is not XML answered 500 instead of 400.
    errors.push((error as Error).message);
  }
  if (errors.length || !doc?.documentElement)
    throw new DomainError("invalid_request", `metadata is not well-formed XML${errors[0] ? `: ${errors[0]}` : ""}`);
  const entities = Array.from(doc.getElementsByTagNameNS(MD_NS, "EntityDescriptor"));
  const entity = entities.find((e) => e.getElementsByTagNameNS(MD_NS, "IDPSSODescriptor").length > 0);
  if (!entity) throw new DomainError("invalid_request", "metadata has no EntityDescriptor with an IDPSSODescriptor");
  const idpEntityId = entity.getAttribute("entityID");
  if (!idpEntityId) throw new DomainError("invalid_request", "the EntityDescriptor has no entityID");
  const descriptor = entity.getElementsByTagNameNS(MD_NS, "IDPSSODescriptor")[0];
  const services = Array.from(descriptor.getElementsByTagNameNS(MD_NS, "SingleSignOnService"));
  // Roster sends AuthnRequests with the Redirect binding; POST-only IdPs accept the same URL for GET in practice.
  const sso =
    services.find((s) => s.getAttribute("Binding") === REDIRECT) ??
    services.find((s) => s.getAttribute("Binding") === POST);
  const ssoUrl = sso?.getAttribute("Location");
  if (!ssoUrl)
    throw new DomainError(
      "invalid_request",
      "metadata has no SingleSignOnService with the HTTP-Redirect or HTTP-POST binding",
    );
  const certificates = Array.from(descriptor.getElementsByTagNameNS(MD_NS, "KeyDescriptor"))
    .filter((k) => k.getAttribute("use") !== "encryption")
    .flatMap((k) => Array.from(k.getElementsByTagNameNS(DS_NS, "X509Certificate")))
    .map((c) => toPemCertificate(c.textContent ?? ""));
  if (certificates.length === 0) throw new DomainError("invalid_request", "metadata has no signing certificate");
  return {
    idpEntityId,
    ssoUrl,
    certificates: [...new Set(certificates)],
    wantAuthnRequestsSigned: descriptor.getAttribute("WantAuthnRequestsSigned") === "true",
  };
}
