// Who is calling the admin API: an admin API token (each belongs to a member and acts with that member's
// role) or the signed-in session. The member must belong to the org in the path and be active.
import type { NextFunction, Request, Response } from "express";
import { DomainError } from "../domain/errors.js";
import { type Permission, type Role, roleAtLeast, roleNeededFor } from "../domain/roles.js";
import type { SessionManager } from "../http/session.js";
import { findMember } from "../repositories/members-repository.js";
import type { ServiceDeps } from "../services/context.js";
import { authenticateToken } from "../services/tokens-service.js";

export interface Principal {
  orgId: string;
  memberId: string;
  role: Role;
  actor: string;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      principal?: Principal;
    }
  }
}

export function bearerToken(req: Request): string | null {
  const header = req.get("authorization");
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match ? match[1] : null;
}

export function authenticateAdmin(deps: ServiceDeps, sessions: SessionManager) {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const token = bearerToken(req);
    let orgId: string | null = null;
    let memberId: string | null = null;
    if (token) {
      const record = await authenticateToken(deps, "admin", token);
      if (!record || !record.memberId)
        throw new DomainError("unauthorized", "the admin API token is missing, revoked or unknown");
      orgId = record.orgId;
      memberId = record.memberId;
    } else {
      const session = await sessions.current(req, deps.now());
      if (!session) throw new DomainError("unauthorized", "sign in or send an admin API token as a Bearer token");
      orgId = session.orgId;
      memberId = session.memberId;
    }
    const pathOrg = String(req.params.orgId ?? "");
    if (orgId !== pathOrg) throw new DomainError("forbidden", "these credentials belong to another organization");
    const member = await findMember(deps.db, orgId, memberId);
    if (!member || !member.active)
      throw new DomainError("unauthorized", "the member behind these credentials is no longer active");
    req.principal = { orgId, memberId, role: member.role, actor: `admin:${memberId}` };
    next();
  };
}

export function requirePermission(permission: Permission) {
  return (req: Request, _res: Response, next: NextFunction) => {
    const needed = roleNeededFor(permission);
    const principal = req.principal;
    if (!principal || !roleAtLeast(principal.role, needed)) {
      throw new DomainError(
        "forbidden",
        `this action needs the ${needed} role or higher; you are ${principal?.role ?? "not signed in"}`,
        { requiredRole: needed },
      );
    }
    next();
  };
}
