// Sends the outbox's mail channel over SMTP (SMTP_URL) with nodemailer, after commit, retried with backoff
// until the server accepts it (services/outbox-delivery.ts). The claim link is kept sealed in the outbox
// and forgotten once sent; neither the link nor the address ever reaches a log line.
import nodemailer, { type Transporter } from "nodemailer";
import type { ServiceDeps } from "../services/context.js";
import { type InvitationMailPayload, invitationMail } from "../services/mail-messages.js";
import type { DeliveryOutcome, OutboxConsumer } from "../services/outbox-delivery.js";

export interface MailSettings {
  smtpUrl: string;
  from: string;
}

/** The part of a nodemailer transport we use (tests may pass their own). */
export type MailTransport = Pick<Transporter, "sendMail">;

export function createSmtpTransport(smtpUrl: string): Transporter {
  // Short timeouts: a stuck server must not hold a lease for long; the row is simply retried.
  return nodemailer.createTransport(smtpUrl, {
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
  } as never);
}

export function mailConsumer(deps: ServiceDeps, transport: MailTransport, from: string): OutboxConsumer {
  return {
    channel: "mail",
    leaseMs: 2 * 60_000,
    async deliver(row): Promise<DeliveryOutcome> {
      if (row.topic !== "invitation") return { kind: "dropped", note: `unknown mail topic ${row.topic}` };
      const payload = row.payload as unknown as InvitationMailPayload;
      const forgotten = { ...payload, sealedLink: null };
      if (!payload.sealedLink) return { kind: "dropped", note: "no link to send", payload: forgotten };
      // A link that has run out (SMTP was down for a day, or set up late) would only mislead.
      if (Date.parse(payload.expiresAt) <= deps.now().getTime())
        return { kind: "dropped", note: "the link expired before it could be sent", payload: forgotten };
      const message = invitationMail(payload, deps.secretBox.open(payload.sealedLink));
      await transport.sendMail({ from, ...message });
      return { kind: "delivered", payload: forgotten };
    },
  };
}
