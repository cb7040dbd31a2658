export function presentMember(m) {
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
export function presentMapping(m) {
    return { group: m.group, seatType: m.seatType, role: m.role, priority: m.priority };
}
export function presentAuditEvent(e) {
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
export function presentToken(t) {
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
export function encodeCursor(value) {
    return value === null ? null : Buffer.from(value, "utf8").toString("base64url");
}
export function decodeCursor(value) {
    if (!value)
        return null;
    return Buffer.from(value, "base64url").toString("utf8");
}
/** The connection as the admin set it, plus the URLs to paste into the IdP. */
export function presentSamlConnection(c, urls) {
    return {
        configured: c !== null,
        idpEntityId: c?.idpEntityId ?? null,
        ssoUrl: c?.ssoUrl ?? null,
        certificates: c?.certificates ?? [],
        attributeProfile: c?.attributeProfile ?? "generic",
        allowIdpInitiated: c?.allowIdpInitiated ?? false,
        ...urls,
    };
}
//# sourceMappingURL=presenters.js.map