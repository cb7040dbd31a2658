// Webhooks (DOMAIN §9): endpoints per org, a per-endpoint delivery queue, and every attempt recorded.
// Each `events` outbox row is fanned out, by one process at a time (an advisory lock), into one delivery
// per subscribed endpoint; deliveries of an endpoint are sent in `id` order by the one process that holds
// the endpoint's lease (`lease_until`), so a receiver sees events in the order they were committed.
import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("webhook_endpoints", (t) => {
    t.text("org_id").notNullable().references("id").inTable("organizations").onDelete("CASCADE");
    t.uuid("id").notNullable().defaultTo(knex.raw("gen_random_uuid()"));
    t.text("url").notNullable();
    t.text("description");
    t.jsonb("events").notNullable().defaultTo("[]"); // empty: every event type
    t.text("secret_sealed").notNullable(); // secret-box: signing needs the secret back
    t.boolean("enabled").notNullable().defaultTo(true);
    t.text("disabled_reason");
    t.integer("failures").notNullable().defaultTo(0); // consecutive failed attempts
    t.timestamp("failing_since", { useTz: true });
    t.timestamp("next_attempt_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp("lease_until", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp("updated_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(["org_id", "id"], { constraintName: "webhook_endpoints__pk" });
  });
  await knex.raw(`create index webhook_endpoints__due__index on webhook_endpoints (next_attempt_at) where enabled`);

  await knex.schema.createTable("webhook_deliveries", (t) => {
    t.text("org_id").notNullable();
    t.bigIncrements("id", { primaryKey: false }); // the order of delivery within an endpoint
    t.uuid("endpoint_id").notNullable();
    t.text("event_id").notNullable(); // webhook-id: the same on every attempt and redelivery
    t.text("event_type").notNullable();
    t.jsonb("payload").notNullable();
    t.text("status").notNullable().defaultTo("pending"); // pending | delivered
    t.integer("attempts").notNullable().defaultTo(0);
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp("delivered_at", { useTz: true });
    t.primary(["org_id", "id"], { constraintName: "webhook_deliveries__pk" });
    t.foreign(["org_id", "endpoint_id"], "webhook_deliveries__endpoint__fk")
      .references(["org_id", "id"])
      .inTable("webhook_endpoints")
      .onDelete("CASCADE");
  });
  await knex.raw(
    `alter table webhook_deliveries add constraint webhook_deliveries__status__check check (status in ('pending','delivered'))`,
  );
  await knex.raw(
    `create index webhook_deliveries__pending__index on webhook_deliveries (org_id, endpoint_id, id) where status = 'pending'`,
  );
  await knex.raw(
    `create index webhook_deliveries__org_id_endpoint_id__index on webhook_deliveries (org_id, endpoint_id, id)`,
  );
  await knex.raw(
    `create index webhook_deliveries__created_at__index on webhook_deliveries (created_at) where status = 'delivered'`,
  );

  await knex.schema.createTable("webhook_attempts", (t) => {
    t.text("org_id").notNullable();
    t.bigIncrements("id", { primaryKey: false });
    t.uuid("endpoint_id").notNullable();
    t.bigInteger("delivery_id").notNullable();
    t.integer("status_code"); // null: no response (timeout, refused, blocked address)
    t.integer("duration_ms").notNullable();
    t.text("response_excerpt"); // at most 1 KB
    t.text("error");
    t.timestamp("at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(["org_id", "id"], { constraintName: "webhook_attempts__pk" });
    t.foreign(["org_id", "delivery_id"], "webhook_attempts__delivery__fk")
      .references(["org_id", "id"])
      .inTable("webhook_deliveries")
      .onDelete("CASCADE");
  });
  await knex.raw(
    `create index webhook_attempts__org_id_delivery_id__index on webhook_attempts (org_id, delivery_id, id)`,
  );
  await knex.raw(`create index webhook_attempts__at__index on webhook_attempts (at)`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists("webhook_attempts");
  await knex.schema.dropTableIfExists("webhook_deliveries");
  await knex.schema.dropTableIfExists("webhook_endpoints");
}
