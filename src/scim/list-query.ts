// List and search parameters (RFC 7644 §3.4.2, §3.4.3), from a query string or a /.search body, compiled
// against an attribute resolver. Filters are bounded before parsing (parse-filter.ts).
import type { ScimPageQuery } from "../repositories/members-repository.js";
import { type AttributeResolver, filterToSql } from "./filter/filter-to-sql.js";
import { type FilterNode, parseAttrPath, parseFilter } from "./filter/parse-filter.js";
import { sortExpression } from "./scim-attributes.js";
import { ScimError } from "./scim-error.js";
import { LIMITS } from "./schemas.js";

export interface ListParams {
  filter: string | null;
  sortBy: string | null;
  sortOrder: "ascending" | "descending";
  startIndex: number;
  count: number;
  attributes: string[];
  excludedAttributes: string[];
  /**
   * RFC 9865 cursor paging: null when the client pages by startIndex; "" for the first page; else the
   * nextCursor of the previous page.
   */
  cursor: string | null;
}

function first(value: unknown): unknown {
  return Array.isArray(value) ? value[0] : value;
}

function toInt(value: unknown, name: string): number | null {
  const v = first(value);
  if (v === undefined || v === null || v === "") return null;
  const n = typeof v === "number" ? v : Number(String(v).trim());
  if (!Number.isFinite(n) || !Number.isInteger(n))
    throw new ScimError(400, "invalidValue", `${name} must be an integer`);
  return n;
}

/** attributes=a,b or ["a","b"]. */
export function attributeList(value: unknown): string[] {
  const parts = Array.isArray(value)
    ? value.flatMap((x) => String(x).split(","))
    : typeof value === "string"
      ? value.split(",")
      : [];
  return parts.map((p) => p.trim()).filter(Boolean);
}

/** Query parameter names are matched case-insensitively; IdPs and tools vary. */
function pick(source: Record<string, unknown>, name: string): unknown {
  const key = Object.keys(source).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : source[key];
}

export function readListParams(source: Record<string, unknown>): ListParams {
  const filter = first(pick(source, "filter"));
  const sortBy = first(pick(source, "sortBy"));
  const sortOrderRaw = first(pick(source, "sortOrder"));
  const sortOrder =
    typeof sortOrderRaw === "string" && sortOrderRaw.toLowerCase() === "descending" ? "descending" : "ascending";
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
    cursor: readCursor(pick(source, "cursor")),
  };
}

function readCursor(value: unknown): string | null {
  const v = first(value);
  if (v === undefined || v === null) return null;
  if (typeof v !== "string") throw new ScimError(400, "invalidCursor", "cursor must be a string");
  return v.trim();
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Our cursors are the last id of the page, base64url: opaque to clients, and cheap to check. */
export function encodeScimCursor(lastId: string): string {
  return Buffer.from(lastId, "utf8").toString("base64url");
}

function decodeScimCursor(cursor: string): string | null {
  if (cursor === "") return null;
  const id = /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, "base64url").toString("utf8") : "";
  if (!UUID.test(id)) throw new ScimError(400, "invalidCursor", "the cursor is not one this server issued");
  return id;
}

/** Attributes that identify one user or group: an eq filter on one of them matches at most a few rows. */
const IDENTIFYING = new Set(["id", "username", "externalid"]);

function identifiesFewRows(node: FilterNode | null): boolean {
  return (
    node?.kind === "compare" &&
    node.op === "eq" &&
    node.attr.uri === null &&
    node.attr.sub === null &&
    IDENTIFYING.has(node.attr.name.toLowerCase())
  );
}

export function compileListQuery(params: ListParams, resolver: AttributeResolver): ScimPageQuery {
  const filter = params.filter ? parseFilter(params.filter, { maxLength: LIMITS.maxFilterLength }) : null;
  const where = filter ? filterToSql(filter, resolver) : null;
  let orderBy: ScimPageQuery["orderBy"] = null;
  if (params.sortBy) {
    const expression = sortExpression(resolver.resolve(parseAttrPath(params.sortBy, "invalidValue")));
    if (!expression) throw new ScimError(400, "invalidValue", `cannot sort by ${params.sortBy}`);
    orderBy = { sql: expression, descending: params.sortOrder === "descending" };
  }
  if (params.cursor !== null) {
    // Keyset by id: each page costs the same however deep it is (RFC 9865 lets the order be the server's).
    if (orderBy) throw new ScimError(400, "invalidValue", "sortBy cannot be combined with cursor paging");
    return { where, orderBy: null, offset: 0, limit: params.count, keyset: { after: decodeScimCursor(params.cursor) } };
  }
  return {
    where,
    orderBy,
    offset: params.startIndex - 1,
    limit: params.count,
    fewMatches: orderBy === null && identifiesFewRows(filter),
  };
}
