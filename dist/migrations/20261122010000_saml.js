export async function up(knex) {
    await knex.schema.createTable("saml_connections", (t) => {
        t.text("org_id").primary().references("id").inTable("organizations").onDelete("CASCADE");
        t.text("idp_entity_id").notNullable();
        t.text("sso_url").notNullable();
        t.specificType("certificates", "text[]").notNullable(); // PEM; several during a rotation
        t.text("attribute_profile").notNullable().defaultTo("generic");
        t.boolean("allow_idp_initiated").notNullable().defaultTo(false);
        t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.timestamp("updated_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    });
    await knex.schema.createTable("saml_requests", (t) => {
        t.text("org_id").notNullable().references("id").inTable("organizations").onDelete("CASCADE");
        t.text("request_id").notNullable();
        t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.primary(["org_id", "request_id"], { constraintName: "saml_requests__pk" });
    });
    await knex.raw("create index saml_requests__created_at__index on saml_requests (created_at)");
    await knex.schema.createTable("saml_used_assertions", (t) => {
        t.text("org_id").notNullable().references("id").inTable("organizations").onDelete("CASCADE");
        t.text("assertion_id").notNullable();
        t.timestamp("expires_at", { useTz: true }).notNullable();
        t.primary(["org_id", "assertion_id"], { constraintName: "saml_used_assertions__pk" });
    });
    await knex.raw("create index saml_used_assertions__expires_at__index on saml_used_assertions (expires_at)");
}
export async function down(knex) {
    await knex.schema.dropTableIfExists("saml_used_assertions");
    await knex.schema.dropTableIfExists("saml_requests");
    await knex.schema.dropTableIfExists("saml_connections");
}
//# sourceMappingURL=20261122010000_saml.js.map