// Models -> admin API JSON. Ids are strings; a member's id is the same here and in SCIM.
import type { AuditEvent } from "../repositories/audit-repository.js";
import type { Job } from "../repositories/jobs-repository.js";
import type { Member } from "../repositories/members-repository.js";
import type { GroupMappingRule } from "../domain/seat-plan.js";
import type { SamlConnection } from "../repositories/saml-repository.js";
import type { ApiToken } from "../repositories/tokens-repository.js";
import {
  NAME_ID_FORMATS,
  nameIdFormatName,
  type SamlEndpoints,
  type SpKeyView,
} from "../services/saml-connections-service.js";

export function presentMember(m: Member & { groups?: { id: string; displayName: string }[] }) {
  return {
    id: m.id,
    userName: m.userName,
    email: m.email,
    displayName: m.displayName,
    name: { givenName: m.givenName, familyName: m.familyName },
    externalId: m.externalId,
    role: m.role,
    groups: m.groups ?? undefined,
    active: m.active,
    seatType: m.seatType ?? "unassigned",
    seatStatus: m.seatStatus,
    seatReason: m.seatReason,
    seatSource: m.seatSource,
    waitingFor: m.waitingFor,
    waitingSince: m.waitingSince,
    source: m.source,
    createdAt: m.createdAt,
    updatedAt: m.updatedAt,
  };
}

export function presentMapping(m: GroupMappingRule) {
  return { group: m.group, seatType: m.seatType, role: m.role, priority: m.priority };
}

export function presentAuditEvent(e: AuditEvent) {
  return {
    id: e.id,
    at: e.at,
    actor: e.actor,
    action: e.action,
    memberId: e.memberId,
    before: e.before,
    after: e.after,
    reason: e.reason,
    requestId: e.requestId,
  };
}

export function presentToken(t: ApiToken) {
  return {
    id: t.id,
    name: t.name,
    hint: t.hint,
    memberId: t.memberId ?? undefined,
    createdAt: t.createdAt,
    lastUsedAt: t.lastUsedAt,
    revokedAt: t.revokedAt,
  };
}

export function encodeCursor(value: string | null): string | null {
  return value === null ? null : Buffer.from(value, "utf8").toString("base64url");
}

export function decodeCursor(value: string | undefined): string | null {
  if (!value) return null;
  return Buffer.from(value, "base64url").toString("utf8");
}

/** The connection as the admin set it, plus the URLs to paste into the IdP. */
export function presentSamlConnection(c: SamlConnection | null, urls: SamlEndpoints) {
  return {
    configured: c !== null,
    idpEntityId: c?.idpEntityId ?? null,
    ssoUrl: c?.ssoUrl ?? null,
    certificates: c?.certificates ?? [],
    attributeProfile: c?.attributeProfile ?? "generic",
    allowIdpInitiated: c?.allowIdpInitiated ?? false,
    nameIdFormat: nameIdFormatName(c?.nameIdFormat ?? NAME_ID_FORMATS.emailAddress),
    signAuthnRequests: c?.signAuthnRequests ?? false,
    requireEncryptedAssertions: c?.requireEncryptedAssertions ?? false,
    ...urls,
  };
}

export function presentSpKey(key: SpKeyView) {
  return {
    id: key.id,
    state: key.state,
    certificate: key.certificate,
    notAfter: key.notAfter.toISOString(),
    createdAt: key.createdAt.toISOString(),
  };
}

/** An admin job. `changes` (the first changes, at most 1,000) only on the single job. */
export function presentJob(j: Job, withChanges: boolean) {
  return {
    id: j.id,
    kind: j.kind,
    state: j.state,
    progress: { done: j.progressDone, total: j.progressTotal },
    counts: j.counts,
    errors: j.errors,
    createdAt: j.createdAt.toISOString(),
    startedAt: j.startedAt?.toISOString() ?? null,
    finishedAt: j.finishedAt?.toISOString() ?? null,
    ...(withChanges ? { changes: j.changes } : {}),
  };
}
