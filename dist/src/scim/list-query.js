import { filterToSql } from "./filter/filter-to-sql.js";
import { parseAttrPath, parseFilter } from "./filter/parse-filter.js";
import { sortExpression } from "./scim-attributes.js";
import { ScimError } from "./scim-error.js";
import { LIMITS } from "./schemas.js";
function first(value) {
    return Array.isArray(value) ? value[0] : value;
}
function toInt(value, name) {
    const v = first(value);
    if (v === undefined || v === null || v === "")
        return null;
    const n = typeof v === "number" ? v : Number(String(v).trim());
    if (!Number.isFinite(n) || !Number.isInteger(n))
        throw new ScimError(400, "invalidValue", `${name} must be an integer`);
    return n;
}
/** attributes=a,b or ["a","b"]. */
export function attributeList(value) {
    const parts = Array.isArray(value)
        ? value.flatMap((x) => String(x).split(","))
        : typeof value === "string"
            ? value.split(",")
            : [];
    return parts.map((p) => p.trim()).filter(Boolean);
}
/** Query parameter names are matched case-insensitively; IdPs and tools vary. */
function pick(source, name) {
    const key = Object.keys(source).find((k) => k.toLowerCase() === name.toLowerCase());
    return key === undefined ? undefined : source[key];
}
export function readListParams(source) {
    const filter = first(pick(source, "filter"));
    const sortBy = first(pick(source, "sortBy"));
    const sortOrderRaw = first(pick(source, "sortOrder"));
    const sortOrder = typeof sortOrderRaw === "string" && sortOrderRaw.toLowerCase() === "descending" ? "descending" : "ascending";
    if (sortOrderRaw !== undefined && !["ascending", "descending"].includes(String(sortOrderRaw).toLowerCase())) {
        throw new ScimError(400, "invalidValue", "sortOrder must be ascending or descending");
    }
    // RFC 7644 §3.4.2.4: startIndex below 1 is read as 1; a negative count as 0; count is capped.
    const startIndex = Math.max(1, toInt(pick(source, "startIndex"), "startIndex") ?? 1);
    const count = Math.min(LIMITS.maxResults, Math.max(0, toInt(pick(source, "count"), "count") ?? LIMITS.defaultCount));
    if (filter !== undefined && typeof filter !== "string")
        throw new ScimError(400, "invalidFilter", "filter must be a string");
    return {
        filter: typeof filter === "string" && filter.trim() ? filter : null,
        sortBy: typeof sortBy === "string" && sortBy.trim() ? sortBy.trim() : null,
        sortOrder,
        startIndex,
        count,
        attributes: attributeList(pick(source, "attributes")),
        excludedAttributes: attributeList(pick(source, "excludedAttributes")),
    };
}
/** Attributes that identify one user or group: an eq filter on one of them matches at most a few rows. */
const IDENTIFYING = new Set(["id", "username", "externalid"]);
function identifiesFewRows(node) {
    return (node?.kind === "compare" &&
        node.op === "eq" &&
        node.attr.uri === null &&
        node.attr.sub === null &&
        IDENTIFYING.has(node.attr.name.toLowerCase()));
}
export function compileListQuery(params, resolver) {
    const filter = params.filter ? parseFilter(params.filter, { maxLength: LIMITS.maxFilterLength }) : null;
    const where = filter ? filterToSql(filter, resolver) : null;
    let orderBy = null;
    if (params.sortBy) {
        const expression = sortExpression(resolver.resolve(parseAttrPath(params.sortBy, "invalidValue")));
        if (!expression)
            throw new ScimError(400, "invalidValue", `cannot sort by ${params.sortBy}`);
        orderBy = { sql: expression, descending: params.sortOrder === "descending" };
    }
    return {
        where,
        orderBy,
        offset: params.startIndex - 1,
        limit: params.count,
        fewMatches: orderBy === null && identifiesFewRows(filter),
    };
}
//# sourceMappingURL=list-query.js.map