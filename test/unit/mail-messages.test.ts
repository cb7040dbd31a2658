// The invitation email: what a person reads, with hostile names kept as text and headers on one line.
import { describe, expect, it } from "vitest";
import { invitationMail } from "../../src/services/mail-messages.js";
import { defaultBackoffMs } from "../../src/services/outbox-delivery.js";

const payload = {
  invitationId: "i1",
  to: "ada@example.com",
  orgName: "Acme",
  seatLabel: "Chat",
  expiresAt: "2026-06-02T09:00:00.000Z",
  sealedLink: "sealed",
};

describe("invitationMail", () => {
  it("names the org and the seat and carries the link in both parts", () => {
    const mail = invitationMail(payload, "https://roster.example/claim/claim_abc");
    expect(mail).toMatchObject({ to: "ada@example.com", subject: "You are invited to Acme on Roster" });
    expect(mail.text).toContain("Chat seat in Acme");
    expect(mail.text).toContain("https://roster.example/claim/claim_abc");
    expect(mail.text).toContain("Tue, 02 Jun 2026 09:00:00 GMT");
    expect(mail.html).toContain('href="https://roster.example/claim/claim_abc"');
  });

  it("escapes hostile names in the HTML part and keeps the subject on one line", () => {
    const mail = invitationMail(
      { ...payload, orgName: '<script>alert("x")</script>\r\nBcc: evil@example.com', seatLabel: "<b>Chat</b>" },
      "https://roster.example/claim/claim_abc",
    );
    expect(mail.html).not.toContain("<script>");
    expect(mail.html).not.toContain("<b>Chat</b>");
    expect(mail.html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect(mail.subject).not.toMatch(/[\r\n]/);
  });
});

describe("defaultBackoffMs", () => {
  it("doubles from 30 seconds and stops growing at an hour", () => {
    expect([1, 2, 3, 4].map(defaultBackoffMs)).toEqual([30_000, 60_000, 120_000, 240_000]);
    expect(defaultBackoffMs(7)).toBe(1_920_000);
    expect(defaultBackoffMs(8)).toBe(3_600_000);
    expect(defaultBackoffMs(50)).toBe(3_600_000);
  });
});
