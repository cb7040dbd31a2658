// What enterprise IdPs ask of an SP: a key pair per org (to decrypt assertions and sign AuthnRequests),
// rotated without downtime, and the NameID format and request signing chosen per connection.
import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("saml_sp_keys", (t) => {
    t.text("org_id").notNullable().references("id").inTable("organizations").onDelete("CASCADE");
    t.uuid("id").notNullable();
    // active: signs requests, listed first in metadata; next: published ahead of a rotation;
    // previous: the key before the last rotation, still accepted for decryption until deleted.
    t.text("state").notNullable();
    t.text("certificate").notNullable(); // PEM, public
    t.text("private_key_sealed").notNullable(); // PKCS#8 PEM sealed by the secret box
    t.timestamp("not_after", { useTz: true }).notNullable();
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(["org_id", "id"], { constraintName: "saml_sp_keys__pk" });
  });
  await knex.raw(
    `alter table saml_sp_keys add constraint saml_sp_keys__state__check check (state in ('active', 'next', 'previous'))`,
  );
  // At most one key in each state per org, held by the database rather than by code.
  await knex.raw(`create unique index saml_sp_keys__org_id_state__unique on saml_sp_keys (org_id, state)`);

  await knex.schema.alterTable("saml_connections", (t) => {
    t.text("name_id_format").notNullable().defaultTo("urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress");
    t.boolean("sign_authn_requests").notNullable().defaultTo(false);
    t.boolean("require_encrypted_assertions").notNullable().defaultTo(false);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable("saml_connections", (t) => {
    t.dropColumn("require_encrypted_assertions");
    t.dropColumn("sign_authn_requests");
    t.dropColumn("name_id_format");
  });
  await knex.schema.dropTableIfExists("saml_sp_keys");
}
