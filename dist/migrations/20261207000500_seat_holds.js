export async function up(knex) {
    await knex.schema.createTable("seat_holds", (t) => {
        t.text("org_id").notNullable();
        t.uuid("id").notNullable();
        t.text("seat_type").notNullable();
        t.uuid("freed_by_member_id"); // whose seat it was, for the audit trail
        t.timestamp("held_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.timestamp("expires_at", { useTz: true }).notNullable();
        t.primary(["org_id", "id"], { constraintName: "seat_holds__pk" });
        t.foreign(["org_id", "seat_type"], "seat_holds__allocation__fk")
            .references(["org_id", "seat_type"])
            .inTable("seat_allocations")
            .onDelete("CASCADE");
    });
    await knex.raw(`create index seat_holds__org_id_seat_type__index on seat_holds (org_id, seat_type, expires_at)`);
    // The expiry job looks across orgs for holds that have run out.
    await knex.raw(`create index seat_holds__expires_at__index on seat_holds (expires_at)`);
}
export async function down(knex) {
    await knex.schema.dropTableIfExists("seat_holds");
}
//# sourceMappingURL=20261207000500_seat_holds.js.map