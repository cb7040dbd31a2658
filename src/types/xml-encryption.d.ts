// xml-encryption ships no types; only decrypt is used (src/saml/decrypt-assertion.ts).
declare module "xml-encryption" {
  interface DecryptOptions {
    key: string | Buffer;
    disallowDecryptionWithInsecureAlgorithm?: boolean;
    warnInsecureAlgorithm?: boolean;
  }
  const xmlenc: {
    decrypt(xml: string, options: DecryptOptions, callback: (error: Error | null, result?: string) => void): void;
  };
  export default xmlenc;
}
