// Invitations (DOMAIN §5) and the outbox's delivery state. An invitation holds a pending seat for a member
// it created (or an existing member without a seat); its claim link is stored as a SHA-256 digest only.
// The outbox gains a channel (mail now, webhooks later) and what a consumer needs to deliver each row at
// least once from many processes: attempts, the next attempt's time (also the lease of a row being sent),
// and the last error.
import type { Knex } from "knex";

async function run(knex: Knex, statements: string[]): Promise<void> {
  for (const sql of statements) await knex.raw(sql);
}

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("invitations", (t) => {
    t.uuid("invited_by_member_id"); // null when the operator or the CLI invited
    t.text("invited_by").notNullable().defaultTo("system"); // the audit actor
    t.text("role"); // the role given at creation, for the record
    t.jsonb("metadata").notNullable().defaultTo("{}");
    t.timestamp("updated_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp("claimed_at", { useTz: true });
    t.timestamp("ended_at", { useTz: true }); // revoked or expired
    t.integer("sends").notNullable().defaultTo(1); // links issued (1 + resends)
  });
  await run(knex, [
    `alter table invitations add constraint invitations__status__check
       check (status in ('pending','claimed','revoked','expired'))`,
    // One open invitation per member: a second would hold a second seat for one person.
    `create unique index invitations__org_id_member_id_pending__unique on invitations (org_id, member_id)
       where status = 'pending'`,
    `create index invitations__org_id_status__index on invitations (org_id, status, created_at, id)`,
    // The expiry job looks across orgs for pending invitations that have run out.
    `create index invitations__pending_expires_at__index on invitations (expires_at) where status = 'pending'`,
    // SCIM creates check for an invited person not yet managed by SCIM (one member per person): few rows.
    `create index members__org_id_invited__index on members (org_id) where source = 'invitation' and not scim_managed`,
  ]);

  await knex.schema.alterTable("outbox", (t) => {
    t.text("channel").notNullable().defaultTo("events"); // events (webhooks) | mail
    t.integer("attempts").notNullable().defaultTo(0);
    t.timestamp("next_attempt_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.text("last_error");
  });
  await knex.raw(
    `create index outbox__channel_due__index on outbox (channel, next_attempt_at, id) where delivered_at is null`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await run(knex, [
    `drop index if exists outbox__channel_due__index`,
    `drop index if exists members__org_id_invited__index`,
    `drop index if exists invitations__pending_expires_at__index`,
    `drop index if exists invitations__org_id_status__index`,
    `drop index if exists invitations__org_id_member_id_pending__unique`,
    `alter table invitations drop constraint if exists invitations__status__check`,
  ]);
  await knex.schema.alterTable("outbox", (t) => {
    t.dropColumns("channel", "attempts", "next_attempt_at", "last_error");
  });
  await knex.schema.alterTable("invitations", (t) => {
    t.dropColumns(
      "invited_by_member_id",
      "invited_by",
      "role",
      "metadata",
      "updated_at",
      "claimed_at",
      "ended_at",
      "sends",
    );
  });
}
