import * as core from "../../migrations/20261122000000_core.js";
import * as saml from "../../migrations/20261122010000_saml.js";
import * as seatHolds from "../../migrations/20261207000500_seat_holds.js";
const MIGRATIONS = [
    ["20261122000000_core.ts", core],
    ["20261122010000_saml.ts", saml],
    ["20261207000500_seat_holds.ts", seatHolds],
];
export const migrationSource = {
    getMigrations: async () => MIGRATIONS,
    getMigrationName: ([name]) => name,
    getMigration: async ([, migration]) => migration,
};
//# sourceMappingURL=migration-source.js.map