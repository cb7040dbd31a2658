// Browser sessions kept on the server: the cookie only names one, so sign-out and deactivation end it here.
import { randomUUID } from "node:crypto";
import { isUuid } from "../repositories/members-repository.js";
import { endSession, insertSession, isSessionLive } from "../repositories/sessions-repository.js";
import type { ServiceDeps } from "./context.js";

export interface SessionStore {
  create(orgId: string, memberId: string, expiresAt: Date): Promise<string>;
  isLive(orgId: string, id: string, memberId: string): Promise<boolean>;
  end(orgId: string, id: string): Promise<void>;
}

export function createSessionStore(deps: Pick<ServiceDeps, "db" | "now">): SessionStore {
  return {
    async create(orgId, memberId, expiresAt) {
      const id = randomUUID();
      await insertSession(deps.db, orgId, { id, memberId, expiresAt });
      return id;
    },
    async isLive(orgId, id, memberId) {
      if (!isUuid(id) || !isUuid(memberId)) return false;
      return isSessionLive(deps.db, orgId, id, memberId, deps.now());
    },
    async end(orgId, id) {
      if (isUuid(id)) await endSession(deps.db, orgId, id, deps.now());
    },
  };
}
