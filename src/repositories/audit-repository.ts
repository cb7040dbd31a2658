// Append-only audit events (a trigger refuses UPDATE and DELETE) and the outbox of events delivered after commit.
import type { Db } from "../db/database.js";

export interface AuditEventInput {
  actor: string;
  action: string;
  memberId?: string | null;
  before?: unknown;
  after?: unknown;
  reason?: string | null;
  requestId?: string | null;
}

export interface AuditEvent {
  id: string;
  at: Date;
  actor: string;
  action: string;
  memberId: string | null;
  before: unknown;
  after: unknown;
  reason: string | null;
  requestId: string | null;
}

function auditRow(orgId: string, event: AuditEventInput) {
  return {
    org_id: orgId,
    actor: event.actor,
    action: event.action,
    member_id: event.memberId ?? null,
    before: event.before === undefined ? null : JSON.stringify(event.before),
    after: event.after === undefined ? null : JSON.stringify(event.after),
    reason: event.reason ?? null,
    request_id: event.requestId ?? null,
  };
}

export async function appendAudit(db: Db, orgId: string, event: AuditEventInput): Promise<void> {
  await db("audit_events").insert(auditRow(orgId, event));
}

/** Several events in one statement, recorded in the order given. */
export async function appendAudits(db: Db, orgId: string, events: AuditEventInput[]): Promise<void> {
  if (events.length) await db("audit_events").insert(events.map((e) => auditRow(orgId, e)));
}

export async function listAudit(
  db: Db,
  orgId: string,
  filter: { memberId?: string; action?: string; actor?: string; from?: Date; to?: Date },
  before: number | null,
  limit: number,
): Promise<AuditEvent[]> {
  // Newest first; the cursor is the last id seen.
  const query = db("audit_events").where({ org_id: orgId }).orderBy("id", "desc").limit(limit);
  if (before !== null) query.where("id", "<", before);
  if (filter.memberId) query.where({ member_id: filter.memberId });
  if (filter.action) query.where({ action: filter.action });
  if (filter.actor) query.where({ actor: filter.actor });
  if (filter.from) query.where("at", ">=", filter.from);
  if (filter.to) query.where("at", "<", filter.to);
  const rows = await query;
  return rows.map((r) => ({
    id: String(r.id),
    at: r.at,
    actor: r.actor,
    action: r.action,
    memberId: r.member_id,
    before: r.before,
    after: r.after,
    reason: r.reason,
    requestId: r.request_id,
  }));
}

/** An audit event and its outbox event in one statement (one round trip while the seat row is held). */
export async function appendAuditWithEvent(
  db: Db,
  orgId: string,
  event: AuditEventInput,
  outbox: { topic: string; payload: unknown },
): Promise<void> {
  await db.raw(
    `with audit as (
       insert into audit_events (org_id, actor, action, member_id, before, after, reason, request_id)
       values (?, ?, ?, ?, ?::jsonb, ?::jsonb, ?, ?))
     insert into outbox (org_id, topic, payload) values (?, ?, ?::jsonb)`,
    [
      orgId,
      event.actor,
      event.action,
      event.memberId ?? null,
      event.before === undefined ? null : JSON.stringify(event.before),
      event.after === undefined ? null : JSON.stringify(event.after),
      event.reason ?? null,
      event.requestId ?? null,
      orgId,
      outbox.topic,
      JSON.stringify(outbox.payload),
    ],
  );
}
