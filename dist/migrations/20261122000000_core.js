// PGlite takes one statement per query.
async function run(knex, statements) {
    for (const sql of statements)
        await knex.raw(sql);
}
export async function up(knex) {
    // Server-wide values shared by every process (e.g. the session signing key), made on first start.
    await knex.schema.createTable("server_settings", (t) => {
        t.text("key").primary();
        t.text("value").notNullable();
    });
    await knex.schema.createTable("organizations", (t) => {
        t.text("id").primary();
        t.text("name").notNullable();
        t.text("plan").notNullable();
        t.jsonb("settings").notNullable().defaultTo("{}");
        t.timestamp("term_start", { useTz: true }).notNullable();
        t.timestamp("term_end", { useTz: true }).notNullable();
        t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    });
    await knex.schema.createTable("seat_allocations", (t) => {
        t.text("org_id").notNullable().references("id").inTable("organizations").onDelete("CASCADE");
        t.text("seat_type").notNullable();
        t.integer("purchased").notNullable();
        // claimed + pending seats of this type; kept by the allocator's conditional updates.
        t.integer("used").notNullable().defaultTo(0);
        t.primary(["org_id", "seat_type"], { constraintName: "seat_allocations__pk" });
    });
    await knex.raw(`alter table seat_allocations
    add constraint seat_allocations__capacity__check check (used <= purchased),
    add constraint seat_allocations__used__check check (used >= 0),
    add constraint seat_allocations__purchased__check check (purchased >= 0)`);
    await knex.schema.createTable("members", (t) => {
        t.text("org_id").notNullable().references("id").inTable("organizations").onDelete("CASCADE");
        t.uuid("id").notNullable();
        t.text("user_name").notNullable();
        t.text("email");
        t.text("external_id");
        t.text("display_name");
        t.text("given_name");
        t.text("family_name");
        t.text("role").notNullable().defaultTo("member");
        t.text("role_source").notNullable().defaultTo("manual"); // manual | mapping
        t.boolean("active").notNullable().defaultTo(true);
        t.text("seat_type"); // null = Unassigned
        t.text("seat_status").notNullable().defaultTo("unassigned"); // unassigned | pending | claimed | revoked
        t.text("seat_reason").notNullable();
        t.text("seat_source").notNullable().defaultTo("auto"); // auto | manual
        t.text("waiting_for"); // a seat type, 'any', or null
        t.specificType("waiting_types", "text[]").notNullable().defaultTo("{}"); // every type that would end the wait
        t.timestamp("waiting_since", { useTz: true });
        t.text("source").notNullable(); // scim | jit | invitation | operator | admin
        t.specificType("idp_groups", "text[]").notNullable().defaultTo("{}"); // group values from SAML assertions
        t.specificType("emails", "text[]").notNullable().defaultTo("{}"); // every email, lower-cased, for SCIM filters
        t.boolean("scim_managed").notNullable().defaultTo(false); // visible to and managed by the org's SCIM client
        t.jsonb("attributes").notNullable().defaultTo("{}"); // protocol-specific extras (SCIM attributes, metadata)
        t.integer("version").notNullable().defaultTo(1);
        t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.timestamp("updated_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.primary(["org_id", "id"], { constraintName: "members__pk" });
    });
    await run(knex, [
        `alter table members
      add constraint members__role__check check (role in ('primary_owner','owner','admin','member')),
      add constraint members__seat_status__check check (seat_status in ('unassigned','pending','claimed','revoked')),
      add constraint members__seat__check check ((seat_type is null) = (seat_status in ('unassigned','revoked'))),
      add constraint members__waiting__check check ((waiting_for is null) = (waiting_since is null))`,
        `create unique index members__org_id_user_name__unique on members (org_id, lower(user_name))`,
        // externalId belongs to the IdP and RFC 7643 gives it no uniqueness: indexed for filters, not unique.
        `create index members__org_id_external_id__index on members (org_id, external_id) where external_id is not null`,
        `create index members__org_id_email__index on members (org_id, lower(email))`,
        `create index members__emails__index on members using gin (emails)`,
        // SCIM lists page in creation order; this index serves the order and the count.
        `create index members__org_id_scim_created__index on members (org_id, created_at, id) where scim_managed`,
        `create index members__org_id_waiting__index on members (org_id, waiting_since, id) where waiting_for is not null`,
        `create index members__org_id_seat_type__index on members (org_id, seat_type)`,
        `create unique index members__org_id_primary_owner__unique on members (org_id) where role = 'primary_owner'`,
    ]);
    await knex.schema.createTable("groups", (t) => {
        t.text("org_id").notNullable().references("id").inTable("organizations").onDelete("CASCADE");
        t.uuid("id").notNullable();
        t.text("display_name").notNullable();
        t.text("external_id");
        t.jsonb("attributes").notNullable().defaultTo("{}");
        t.integer("version").notNullable().defaultTo(1);
        t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.timestamp("updated_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.primary(["org_id", "id"], { constraintName: "groups__pk" });
    });
    await run(knex, [
        `create index groups__org_id_display_name__index on groups (org_id, lower(display_name))`,
        `create index groups__org_id_created__index on groups (org_id, created_at, id)`,
        `create index groups__org_id_external_id__index on groups (org_id, external_id) where external_id is not null`,
    ]);
    await knex.schema.createTable("group_members", (t) => {
        t.text("org_id").notNullable();
        t.uuid("group_id").notNullable();
        t.uuid("member_id").notNullable();
        t.text("display"); // the member's display name as the IdP sent it with the membership
        t.primary(["org_id", "group_id", "member_id"], { constraintName: "group_members__pk" });
        t.foreign(["org_id", "group_id"], "group_members__group__fk")
            .references(["org_id", "id"])
            .inTable("groups")
            .onDelete("CASCADE");
        t.foreign(["org_id", "member_id"], "group_members__member__fk")
            .references(["org_id", "id"])
            .inTable("members")
            .onDelete("CASCADE");
    });
    await knex.raw(`create index group_members__org_id_member_id__index on group_members (org_id, member_id)`);
    await knex.schema.createTable("group_mappings", (t) => {
        t.text("org_id").notNullable().references("id").inTable("organizations").onDelete("CASCADE");
        t.uuid("id").notNullable();
        t.text("group_name").notNullable(); // matched against group id, externalId, displayName, SAML group value
        t.text("seat_type");
        t.text("role");
        t.integer("priority").notNullable();
        t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.primary(["org_id", "id"], { constraintName: "group_mappings__pk" });
    });
    await run(knex, [
        `create unique index group_mappings__org_id_group_name__unique on group_mappings (org_id, lower(group_name))`,
        `alter table group_mappings add constraint group_mappings__target__check check (seat_type is not null or role is not null)`,
    ]);
    await knex.schema.createTable("invitations", (t) => {
        t.text("org_id").notNullable().references("id").inTable("organizations").onDelete("CASCADE");
        t.uuid("id").notNullable();
        t.uuid("member_id").notNullable();
        t.text("email");
        t.text("external_id");
        t.text("seat_type").notNullable();
        t.text("token_hash").notNullable();
        t.timestamp("expires_at", { useTz: true }).notNullable();
        t.text("status").notNullable().defaultTo("pending"); // pending | claimed | revoked
        t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.primary(["org_id", "id"], { constraintName: "invitations__pk" });
        t.foreign(["org_id", "member_id"], "invitations__member__fk")
            .references(["org_id", "id"])
            .inTable("members")
            .onDelete("CASCADE");
    });
    await knex.raw(`create unique index invitations__token_hash__unique on invitations (token_hash)`);
    // Bearer tokens (SCIM, admin API) and one-time sign-in links. Only a SHA-256 digest is stored; the digest is
    // unique across orgs because a token is presented without its org.
    await knex.schema.createTable("api_tokens", (t) => {
        t.text("org_id").notNullable().references("id").inTable("organizations").onDelete("CASCADE");
        t.uuid("id").notNullable();
        t.text("kind").notNullable(); // scim | admin | sign_in
        t.uuid("member_id");
        t.text("name");
        t.text("token_hash").notNullable();
        t.text("hint").notNullable(); // last characters, to tell tokens apart in a list
        t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.timestamp("expires_at", { useTz: true });
        t.timestamp("last_used_at", { useTz: true });
        t.timestamp("revoked_at", { useTz: true });
        t.primary(["org_id", "id"], { constraintName: "api_tokens__pk" });
        t.foreign(["org_id", "member_id"], "api_tokens__member__fk")
            .references(["org_id", "id"])
            .inTable("members")
            .onDelete("CASCADE");
    });
    await run(knex, [
        `create unique index api_tokens__token_hash__unique on api_tokens (token_hash)`,
        `alter table api_tokens add constraint api_tokens__kind__check check (kind in ('scim','admin','sign_in'))`,
    ]);
    await knex.schema.createTable("audit_events", (t) => {
        t.text("org_id").notNullable().references("id").inTable("organizations").onDelete("CASCADE");
        t.bigIncrements("id", { primaryKey: false });
        t.timestamp("at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.text("actor").notNullable();
        t.text("action").notNullable();
        t.uuid("member_id");
        t.jsonb("before");
        t.jsonb("after");
        t.text("reason");
        t.text("request_id");
        t.primary(["org_id", "id"], { constraintName: "audit_events__pk" });
    });
    await run(knex, [
        `create index audit_events__org_id_member_id__index on audit_events (org_id, member_id, id)`,
        `create index audit_events__org_id_action__index on audit_events (org_id, action, id)`,
        `create function audit_events_append_only() returns trigger language plpgsql as $$
      begin raise exception 'audit_events is append-only' using errcode = '55000'; end $$`,
        `create trigger audit_events__append_only before update or delete on audit_events
      for each row execute function audit_events_append_only()`,
    ]);
    // Events written in the same transaction as the change they describe, delivered after commit.
    await knex.schema.createTable("outbox", (t) => {
        t.text("org_id").notNullable().references("id").inTable("organizations").onDelete("CASCADE");
        t.bigIncrements("id", { primaryKey: false });
        t.text("topic").notNullable();
        t.jsonb("payload").notNullable();
        t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.timestamp("delivered_at", { useTz: true });
        t.primary(["org_id", "id"], { constraintName: "outbox__pk" });
    });
    await knex.raw(`create index outbox__undelivered__index on outbox (id) where delivered_at is null`);
}
export async function down(knex) {
    for (const table of [
        "outbox",
        "audit_events",
        "api_tokens",
        "invitations",
        "group_mappings",
        "group_members",
        "groups",
        "members",
        "seat_allocations",
        "organizations",
        "server_settings",
    ]) {
        await knex.schema.dropTableIfExists(table);
    }
    await knex.raw("drop function if exists audit_events_append_only()");
}
//# sourceMappingURL=20261122000000_core.js.map