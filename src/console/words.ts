// Seat facts in words for people: labels for types, and why a member holds (or waits for) their seat.
import type { Member } from "../repositories/members-repository.js";
import { formatDate } from "./layout.js";

export type Labels = Map<string, string>;

export function seatLabel(labels: Labels, type: string | null): string {
  if (type === null) return "Unassigned";
  if (type === "any") return "any seat type";
  return labels.get(type) ?? type;
}

/** Why the member holds their seat, or waits: "From mapping “Eng”", "Waiting for Chat since …". */
export function seatReasonInWords(
  labels: Labels,
  m: Pick<Member, "seatType" | "seatReason" | "seatSource" | "waitingFor" | "waitingSince" | "active">,
): string {
  if (!m.active) return "Deactivated: uses no seat";
  if (m.waitingFor) {
    return `Waiting for ${seatLabel(labels, m.waitingFor)} since ${formatDate(m.waitingSince)}`;
  }
  const reason = m.seatReason;
  if (reason.startsWith("mapping:")) return `From group mapping “${reason.slice("mapping:".length)}”`;
  switch (reason) {
    case "highest_available":
      return "Highest type available when assigned (automatic)";
    case "manual":
      return m.seatType === null
        ? "No seat, by an admin’s choice (stays until reset to automatic)"
        : "Set by an admin (stays until reset to automatic)";
    case "promoted":
      return "Promoted from the waiting list when a seat freed up";
    case "exhausted":
      return "No seat of any type was free";
    case "deactivated":
      return "Deactivated: uses no seat";
    default:
      return reason;
  }
}

export function mappingOf(m: Pick<Member, "seatReason" | "waitingFor">): string | null {
  return m.seatReason.startsWith("mapping:") && !m.waitingFor ? m.seatReason.slice("mapping:".length) : null;
}
