// Billing (DOMAIN §4): an org's negotiated prices (null: the plan's price book), the charges recorded by
// purchases (idempotent per org under the client's Idempotency-Key), and seat reductions scheduled for the
// end of the term. The term itself was already on organizations (term_start, term_end).
import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("organizations", (t) => {
    t.jsonb("pricing"); // per seat type {currency, model, tiers}; overrides the plan's price book
  });
  await knex.schema.createTable("charges", (t) => {
    t.text("org_id").notNullable().references("id").inTable("organizations").onDelete("CASCADE");
    t.uuid("id").notNullable();
    t.timestamp("at", { useTz: true }).notNullable();
    t.jsonb("lines").notNullable();
    t.bigInteger("total").notNullable(); // minor units; negative is a credit
    t.text("currency").notNullable();
    t.text("idempotency_key");
    t.text("request_hash").notNullable(); // what was asked, to tell a retry from a reuse of the key
    t.text("created_by").notNullable();
    t.timestamp("term_start", { useTz: true }).notNullable();
    t.timestamp("term_end", { useTz: true }).notNullable();
    t.primary(["org_id", "id"], { constraintName: "charges__pk" });
    t.unique(["org_id", "idempotency_key"], { indexName: "charges__org_id_idempotency_key__unique" });
  });
  await knex.raw(`create index charges__org_id_at__index on charges (org_id, at desc)`);
  await knex.schema.createTable("seat_reductions", (t) => {
    t.text("org_id").notNullable();
    t.text("seat_type").notNullable();
    t.integer("to_quantity").notNullable();
    t.timestamp("effective_at", { useTz: true }).notNullable(); // the term end it was scheduled for
    t.text("created_by").notNullable();
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    // One scheduled reduction per seat type: scheduling again replaces it.
    t.primary(["org_id", "seat_type"], { constraintName: "seat_reductions__pk" });
    t.foreign(["org_id", "seat_type"], "seat_reductions__allocation__fk")
      .references(["org_id", "seat_type"])
      .inTable("seat_allocations")
      .onDelete("CASCADE");
  });
  await knex.raw(
    `alter table seat_reductions add constraint seat_reductions__to_quantity__check check (to_quantity >= 0)`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists("seat_reductions");
  await knex.schema.dropTableIfExists("charges");
  await knex.schema.alterTable("organizations", (t) => {
    t.dropColumn("pricing");
  });
}
