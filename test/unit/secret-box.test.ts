import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createSecretBox, parseSecretKey } from "../../src/services/secret-box.js";

describe("secret box", () => {
  const box = createSecretBox(randomBytes(32));

  it("gives back what it sealed, and never the same text twice", () => {
    const a = box.seal("whsec_secret");
    const b = box.seal("whsec_secret");
    expect(a).not.toBe(b);
    expect(a).not.toContain("whsec_secret");
    expect(box.open(a)).toBe("whsec_secret");
  });

  it("refuses altered text and another key's text", () => {
    const sealed = box.seal("private key");
    const parts = sealed.split(".");
    const flipped = Buffer.from(parts[3], "base64url");
    flipped[0] ^= 1;
    expect(() => box.open([...parts.slice(0, 3), flipped.toString("base64url")].join("."))).toThrow();
    expect(() => createSecretBox(randomBytes(32)).open(sealed)).toThrow();
    expect(() => box.open("plain text")).toThrow();
  });

  it("reads a 32-byte base64 key and refuses any other length", () => {
    expect(parseSecretKey(randomBytes(32).toString("base64")).length).toBe(32);
    expect(() => parseSecretKey("c2hvcnQ=")).toThrow(/32 random bytes/);
  });
});
