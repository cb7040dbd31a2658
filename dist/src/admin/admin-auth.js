import { DomainError } from "../domain/errors.js";
import { roleAtLeast, roleNeededFor } from "../domain/roles.js";
import { findMember } from "../repositories/members-repository.js";
import { authenticateToken } from "../services/tokens-service.js";
export function bearerToken(req) {
    const header = req.get("authorization");
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    return match ? match[1] : null;
}
export function authenticateAdmin(deps, sessions) {
    return async (req, _res, next) => {
        const token = bearerToken(req);
        let orgId = null;
        let memberId = null;
        if (token) {
            const record = await authenticateToken(deps, "admin", token);
            if (!record || !record.memberId)
                throw new DomainError("unauthorized", "the admin API token is missing, revoked or unknown");
            orgId = record.orgId;
            memberId = record.memberId;
        }
        else {
            const session = sessions.read(req, deps.now());
            if (!session)
                throw new DomainError("unauthorized", "sign in or send an admin API token as a Bearer token");
            orgId = session.orgId;
            memberId = session.memberId;
        }
        const pathOrg = String(req.params.orgId ?? "");
        if (orgId !== pathOrg)
            throw new DomainError("forbidden", "these credentials belong to another organization");
        const member = await findMember(deps.db, orgId, memberId);
        if (!member || !member.active)
            throw new DomainError("unauthorized", "the member behind these credentials is no longer active");
        req.principal = { orgId, memberId, role: member.role, actor: `admin:${memberId}` };
        next();
    };
}
export function requirePermission(permission) {
    return (req, _res, next) => {
        const needed = roleNeededFor(permission);
        const principal = req.principal;
        if (!principal || !roleAtLeast(principal.role, needed)) {
            throw new DomainError("forbidden", `this action needs the ${needed} role or higher; you are ${principal?.role ?? "not signed in"}`, { requiredRole: needed });
        }
        next();
    };
}
//# sourceMappingURL=admin-auth.js.map