// SQL for browser sessions (the console and /me). A session is live while it has not ended, has not expired
// and its member is still active.
import type { Db } from "../db/database.js";

export async function insertSession(
  db: Db,
  orgId: string,
  session: { id: string; memberId: string; expiresAt: Date },
): Promise<void> {
  await db("sessions").insert({
    org_id: orgId,
    id: session.id,
    member_id: session.memberId,
    expires_at: session.expiresAt,
  });
}

export async function isSessionLive(db: Db, orgId: string, id: string, memberId: string, now: Date): Promise<boolean> {
  const row = await db("sessions as s")
    .join("members as m", function () {
      this.on("m.org_id", "s.org_id").andOn("m.id", "s.member_id");
    })
    .where({ "s.org_id": orgId, "s.id": id, "s.member_id": memberId, "m.active": true })
    .whereNull("s.ended_at")
    .where("s.expires_at", ">", now)
    .first("s.id");
  return row !== undefined;
}

export async function endSession(db: Db, orgId: string, id: string, now: Date): Promise<void> {
  await db("sessions").where({ org_id: orgId, id }).whereNull("ended_at").update({ ended_at: now });
}

/** Ends every session of a member (deactivation): a later reactivation does not bring them back. */
export async function endMemberSessions(db: Db, orgId: string, memberId: string, now: Date): Promise<number> {
  return db("sessions").where({ org_id: orgId, member_id: memberId }).whereNull("ended_at").update({ ended_at: now });
}
