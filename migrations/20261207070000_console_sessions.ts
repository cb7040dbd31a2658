// Server-side sessions for the browser (console and /me): the signed cookie names a row here, so signing out
// or deactivating a member ends the session on the server, not only in that browser. Plus an index that keeps
// the console's members list (keyset by id) fast when it is filtered by seat type at 100,000 members.
import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("sessions", (t) => {
    t.text("org_id").notNullable();
    t.uuid("id").notNullable();
    t.uuid("member_id").notNullable();
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp("expires_at", { useTz: true }).notNullable();
    t.timestamp("ended_at", { useTz: true });
    t.primary(["org_id", "id"], { constraintName: "sessions__pk" });
    t.foreign(["org_id", "member_id"], "sessions__member__fk")
      .references(["org_id", "id"])
      .inTable("members")
      .onDelete("CASCADE");
  });
  await knex.raw(
    `create index sessions__org_id_member_id__index on sessions (org_id, member_id) where ended_at is null`,
  );
  await knex.raw(`create index members__org_id_seat_type_id__index on members (org_id, seat_type, id)`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`drop index if exists members__org_id_seat_type_id__index`);
  await knex.schema.dropTableIfExists("sessions");
}
