// What real IdPs send that RFC 7644 does not: Entra's "True"/"False" strings and capitalised op names.
// Normalized here, once, before scimmy or our own code reads the request.

import { ScimError } from "./scim-error.js";

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
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, normalizeBooleans(v, k)]),
    );
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

// RFC 7644 §3.10 lets a client qualify core attributes with their schema URN ("urn:…:core:2.0:User:active",
// "urn:…:core:2.0:Group:members[value eq …]"). scimmy refused them as invalid paths and the Group parser
// only stripped the prefix for displayName/externalId, so a fully qualified members path was a 400. The
// core prefix is dropped here, once; extension URNs (the enterprise schema) are left as they are.
const CORE_PREFIX = /^urn:ietf:params:scim:schemas:core:2\.0:(?:User|Group):/i;

function unqualified(name: string): string {
  return name.replace(CORE_PREFIX, "");
}

// Entra links a manager with {"op":"Add","path":"urn:…:enterprise:2.0:User:manager","value":"<manager id>"}:
// a bare id where RFC 7643 §4.3 has the complex {"value": id}. scimmy refused it (400), failing the sync.
const MANAGER = /^urn:ietf:params:scim:schemas:extension:enterprise:2\.0:User:manager$/i;

function managerValue(name: string, value: unknown): unknown {
  return MANAGER.test(name) && typeof value === "string" ? { value } : value;
}

/** Lower-cases op names (Entra sends "Replace", "Add") and normalizes boolean strings in values. */
export function normalizePatchOperations(operations: unknown[]): PatchOperation[] {
  return operations.map((raw, i) => {
    if (!raw || typeof raw !== "object" || Array.isArray(raw))
      throw new ScimError(400, "invalidSyntax", `operation ${i + 1} is not an object`);
    const op = raw as Record<string, unknown>;
    if (op.path !== undefined && op.path !== null && typeof op.path !== "string")
      throw new ScimError(400, "invalidPath", `operation ${i + 1}: path must be a string`);
    const name = typeof op.op === "string" ? op.op.toLowerCase() : op.op;
    const path = typeof op.path === "string" ? unqualified(op.path.trim()) : undefined;
    const lastPathSegment = path
      ? (path
          .replace(/\[.*\]/g, "")
          .split(/[.:]/)
          .pop() ?? null)
      : null;
    let value = op.value === undefined ? undefined : normalizeBooleans(op.value, lastPathSegment);
    if (path) value = managerValue(path, value);
    else if (value && typeof value === "object" && !Array.isArray(value)) {
      value = Object.fromEntries(
        Object.entries(value as Record<string, unknown>).map(([k, v]) => [unqualified(k), managerValue(k, v)]),
      );
    }
    return { op: name as PatchOperation["op"], ...(path ? { path } : {}), ...(value !== undefined ? { value } : {}) };
  });
}

/**
 * Entra's dialect: capitalised op names ("Replace", "Add"), which RFC 7644 does not have and which only
 * Microsoft's provisioning service and its reference test suite send. Those clients are answered as
 * Microsoft's reference server answers them (User PATCH: 204), everyone else as RFC 7644 prefers.
 */
export function speaksEntraDialect(body: unknown): boolean {
  const b = body as Record<string, unknown> | null;
  const ops = b && typeof b === "object" ? (b.Operations ?? b.operations) : null;
  return (
    Array.isArray(ops) &&
    ops.some((o) => {
      const name = (o as Record<string, unknown> | null)?.op;
      return typeof name === "string" && name !== name.toLowerCase();
    })
  );
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Request text as PostgreSQL can store it, in text and jsonb columns alike: a NUL character is refused
 * (null is returned), and a lone UTF-16 surrogate becomes U+FFFD (text columns did that silently; jsonb
 * refused it, and failed the statement). Returns the same object when nothing needed changing.
 */
export function storableText(value: unknown): { value: unknown } | null {
  if (typeof value === "string") {
    if (value.includes("\u0000")) return null;
    LONE_SURROGATE.lastIndex = 0;
    return { value: LONE_SURROGATE.test(value) ? value.replace(LONE_SURROGATE, "\uFFFD") : value };
  }
  if (Array.isArray(value)) {
    let changed = false;
    const out: unknown[] = [];
    for (const v of value) {
      const clean = storableText(v);
      if (!clean) return null;
      changed ||= clean.value !== v;
      out.push(clean.value);
    }
    return { value: changed ? out : value };
  }
  if (value && typeof value === "object") {
    let changed = false;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const key = storableText(k);
      const clean = storableText(v);
      if (!key || !clean) return null;
      changed ||= key.value !== k || clean.value !== v;
      Object.defineProperty(out, key.value as string, {
        value: clean.value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return { value: changed ? out : value };
  }
  return { value };
}
