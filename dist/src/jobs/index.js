import { releaseExpiredHolds } from "../services/seat-holds-service.js";
export function backgroundJobs(deps, _logger) {
    return [
        // Holds last minutes; checking every 15 s keeps a seat from sitting idle long after its hold ends.
        { name: "seat-holds", intervalMs: 15_000, run: async () => (await releaseExpiredHolds(deps)).more },
    ];
}
//# sourceMappingURL=index.js.map