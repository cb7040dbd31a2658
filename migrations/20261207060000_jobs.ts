// Admin jobs (issue 11): mapping changes and syncs run in the background, in small batches, resumable by
// any process. A worker claims a job with FOR UPDATE SKIP LOCKED and keeps a lease (lease_until) while it
// runs; a job whose lease ran out (its process died) is claimed again and resumes from its cursor.
import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("jobs", (t) => {
    t.text("org_id").notNullable().references("id").inTable("organizations").onDelete("CASCADE");
    t.uuid("id").notNullable();
    t.text("kind").notNullable(); // mapping_change | sync
    t.text("state").notNullable().defaultTo("queued"); // queued | running | succeeded | failed
    t.text("actor").notNullable();
    t.text("request_id");
    t.integer("progress_done").notNullable().defaultTo(0);
    t.integer("progress_total").notNullable().defaultTo(0);
    t.jsonb("counts").notNullable().defaultTo("{}");
    t.jsonb("errors").notNullable().defaultTo("[]");
    t.jsonb("changes").notNullable().defaultTo("[]"); // the first changes, for the admin to read
    t.integer("pass").notNullable().defaultTo(0);
    t.integer("pass_processed").notNullable().defaultTo(0);
    t.uuid("cursor"); // last member id done in this pass
    t.text("lease_owner");
    t.timestamp("lease_until", { useTz: true });
    t.integer("attempts").notNullable().defaultTo(0);
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp("started_at", { useTz: true });
    t.timestamp("finished_at", { useTz: true });
    t.primary(["org_id", "id"], { constraintName: "jobs__pk" });
  });
  await knex.raw(
    `alter table jobs add constraint jobs__state__check check (state in ('queued','running','succeeded','failed'))`,
  );
  await knex.raw(`create index jobs__org_id_created__index on jobs (org_id, created_at desc, id desc)`);
  // Workers look across orgs for work: queued jobs, and running ones whose lease ran out.
  await knex.raw(`create index jobs__open__index on jobs (created_at) where state in ('queued','running')`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists("jobs");
}
