// The emails Roster sends, composed from an outbox row's payload at delivery time. Plain text and HTML;
// every value that came from a person (org name, seat label) is escaped in the HTML part.
export const MAIL_JOB = "mail";

export interface InvitationMailPayload {
  invitationId: string;
  to: string;
  orgName: string;
  seatLabel: string;
  expiresAt: string;
  /** The claim URL, sealed with the secret box. */
  sealedLink: string | null;
}

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

export function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string,
  );
}

export function invitationMail(payload: InvitationMailPayload, claimUrl: string): MailMessage {
  // A header must stay on one line whatever the org is called.
  const orgName = payload.orgName.replace(/[\r\n]+/g, " ").slice(0, 200);
  const expires = new Date(payload.expiresAt).toUTCString();
  return {
    to: payload.to,
    subject: `You are invited to ${orgName} on Roster`,
    text: [
      `You have been given a ${payload.seatLabel} seat in ${orgName}.`,
      "",
      "Open this link to claim it (it works once, until " + expires + "):",
      claimUrl,
      "",
      "If you did not expect this, ignore this email.",
    ].join("\n"),
    html:
      `<p>You have been given a <strong>${escapeHtml(payload.seatLabel)}</strong> seat in <strong>${escapeHtml(orgName)}</strong>.</p>` +
      `<p><a href="${escapeHtml(claimUrl)}">Claim your seat</a> (the link works once, until ${escapeHtml(expires)}).</p>` +
      `<p>If you did not expect this, ignore this email.</p>`,
  };
}
