// A self-signed X.509 certificate for an org's SP key pair. IdPs use the certificate only as a carrier
// for the public key (they trust it because the admin pasted our metadata, not through a chain), so a
// minimal v3 certificate is enough. Node can make key pairs but not certificates; the DER below is the
// few structures RFC 5280 requires, signed with SHA-256.
import { generateKeyPair, randomBytes, sign, X509Certificate } from "node:crypto";
import { promisify } from "node:util";

const generateRsaKeyPair = promisify(generateKeyPair);

function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

const der = (tag: number, content: Buffer) =>
  Buffer.concat([Buffer.from([tag]), encodeLength(content.length), content]);
const sequence = (...parts: Buffer[]) => der(0x30, Buffer.concat(parts));
const set = (...parts: Buffer[]) => der(0x31, Buffer.concat(parts));
const explicit = (tagNumber: number, content: Buffer) => der(0xa0 + tagNumber, content);

function integer(value: Buffer): Buffer {
  // DER integers are signed: a leading 1 bit would read as negative.
  return der(0x02, value[0] & 0x80 ? Buffer.concat([Buffer.from([0]), value]) : value);
}

function objectId(dotted: string): Buffer {
  const [first, second, ...rest] = dotted.split(".").map(Number);
  const bytes = [first * 40 + second];
  for (const arc of rest) {
    const chunk = [arc & 0x7f];
    for (let n = arc >>> 7; n > 0; n >>>= 7) chunk.unshift((n & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return der(0x06, Buffer.from(bytes));
}

function time(date: Date): Buffer {
  // RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime after.
  const iso = date.toISOString().replace(/[-:T]/g, "").slice(0, 14); // YYYYMMDDHHMMSS
  return date.getUTCFullYear() < 2050 ? der(0x17, Buffer.from(`${iso.slice(2)}Z`)) : der(0x18, Buffer.from(`${iso}Z`));
}

const SHA256_WITH_RSA = sequence(objectId("1.2.840.113549.1.1.11"), Buffer.from([0x05, 0x00]));
const COMMON_NAME = "2.5.4.3";

export interface SpKeyPair {
  certificate: string;
  privateKey: string;
  notAfter: Date;
}

/**
 * A fresh RSA-2048 key pair and a self-signed certificate naming `commonName`, valid from `now` for
 * `years`. The key is generated on libuv's thread pool: it takes a CPU-busy moment the event loop should
 * not wait for.
 */
export async function createSpKeyPair(commonName: string, now: Date, years = 5): Promise<SpKeyPair> {
  const { privateKey, publicKey } = await generateRsaKeyPair("rsa", { modulusLength: 2048 });
  const notBefore = new Date(now.getTime() - 60_000); // a minute of slack for IdP clocks
  const notAfter = new Date(now);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + years);
  const name = sequence(set(sequence(objectId(COMMON_NAME), der(0x0c, Buffer.from(commonName.slice(0, 64))))));
  const serial = randomBytes(16);
  serial[0] = (serial[0] & 0x7f) | 0x40; // positive, and no leading zero byte (DER integers are minimal)
  const tbs = sequence(
    explicit(0, integer(Buffer.from([2]))), // v3
    integer(serial),
    SHA256_WITH_RSA,
    name,
    sequence(time(notBefore), time(notAfter)),
    name,
    publicKey.export({ type: "spki", format: "der" }),
  );
  const signature = sign("sha256", tbs, privateKey);
  const certificateDer = sequence(tbs, SHA256_WITH_RSA, der(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const body = certificateDer
    .toString("base64")
    .match(/.{1,64}/g)
    ?.join("\n");
  const certificate = `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`;
  new X509Certificate(certificate); // refuse to hand out anything that does not parse
  return {
    certificate,
    privateKey: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    notAfter,
  };
}
