// The SP metadata an IdP admin uploads: our entity id, ACS URL, NameID format, and every SP certificate
// (active first) for signing and encryption. Written by hand rather than with node-saml's generator,
// which takes a single encryption certificate: during a rotation both the active and the next one must
// be published, so the IdP can move to the new one whenever its admin is ready.
const ENCRYPTION_METHODS = [
  "http://www.w3.org/2009/xmlenc11#aes256-gcm",
  "http://www.w3.org/2009/xmlenc11#aes128-gcm",
  "http://www.w3.org/2001/04/xmlenc#aes256-cbc",
  "http://www.w3.org/2001/04/xmlenc#aes128-cbc",
  "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p",
];

function escapeXml(value: string): string {
  return value.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c] as string,
  );
}

function keyDescriptor(use: "signing" | "encryption", certificate: string): string {
  const body = certificate.replace(/-----(BEGIN|END) CERTIFICATE-----|\s+/g, "");
  const methods =
    use === "encryption" ? ENCRYPTION_METHODS.map((a) => `<md:EncryptionMethod Algorithm="${a}"/>`).join("") : "";
  return `<md:KeyDescriptor use="${use}"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${body}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>${methods}</md:KeyDescriptor>`;
}

export interface SpMetadataInput {
  entityId: string;
  acsUrl: string;
  nameIdFormat: string;
  /** Active first. */
  certificates: string[];
  authnRequestsSigned: boolean;
}

export function spMetadataXml(input: SpMetadataInput): string {
  const keys = [
    ...input.certificates.map((c) => keyDescriptor("signing", c)),
    ...input.certificates.map((c) => keyDescriptor("encryption", c)),
  ].join("\n    ");
  return `<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${escapeXml(input.entityId)}">
  <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" AuthnRequestsSigned="${input.authnRequestsSigned}" WantAssertionsSigned="true">
    ${keys}
    <md:NameIDFormat>${escapeXml(input.nameIdFormat)}</md:NameIDFormat>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${escapeXml(input.acsUrl)}" index="1" isDefault="true"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>
`;
}
