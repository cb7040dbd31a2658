// Reading the audit log: newest first, filtered by member, action, actor and time, paged by event id.
import { type AuditEvent, listAudit } from "../repositories/audit-repository.js";
import { loadOrg, type ServiceDeps } from "./context.js";

export interface AuditFilter {
  memberId?: string;
  action?: string;
  actor?: string;
  from?: Date;
  to?: Date;
}

export async function listAuditEvents(
  deps: ServiceDeps,
  orgId: string,
  filter: AuditFilter,
  before: number | null,
  limit: number,
): Promise<{ items: AuditEvent[]; next: number | null }> {
  await loadOrg(deps, deps.db, orgId);
  const rows = await listAudit(deps.db, orgId, filter, before, limit + 1);
  const items = rows.slice(0, limit);
  return { items, next: rows.length > limit ? Number(items[items.length - 1].id) : null };
}
