// What real IdPs send that RFC 7644 does not: Entra's "True"/"False" strings and capitalised op names.
// Normalized here, once, before scimmy or our own code reads the request.

const BOOLEAN_ATTRIBUTES = new Set(["active", "primary"]);

function toBoolean(value: unknown): unknown {
  if (typeof value !== "string") return value;
  const lower = value.trim().toLowerCase();
  return lower === "true" ? true : lower === "false" ? false : value;
}

/** Turns "True"/"False" into booleans wherever a boolean attribute (active, *.primary) carries one. */
export function normalizeBooleans(value: unknown, key: string | null = null): unknown {
  if (Array.isArray(value)) return value.map((v) => normalizeBooleans(v, key));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, normalizeBooleans(v, k)]));
  }
  if (key !== null) {
    // Dotted and URN-prefixed keys (path-less PATCH values): the last segment names the attribute.
    const last = key.split(/[.:]/).pop()?.toLowerCase() ?? "";
    if (BOOLEAN_ATTRIBUTES.has(last)) return toBoolean(value);
  }
  return value;
}

export interface PatchOperation {
  op: "add" | "remove" | "replace";
  path?: string;
  value?: unknown;
}

/** Lower-cases op names (Entra sends "Replace", "Add") and normalizes boolean strings in values. */
export function normalizePatchOperations(operations: unknown[]): PatchOperation[] {
  return operations.map((raw) => {
    const op = raw as Record<string, unknown>;
    const name = typeof op.op === "string" ? op.op.toLowerCase() : op.op;
    const path = typeof op.path === "string" ? op.path.trim() : undefined;
    const lastPathSegment = path ? path.replace(/\[.*\]/g, "").split(/[.:]/).pop() ?? null : null;
    const value = op.value === undefined ? undefined : normalizeBooleans(op.value, lastPathSegment);
    return { op: name as PatchOperation["op"], ...(path ? { path } : {}), ...(value !== undefined ? { value } : {}) };
  });
}
