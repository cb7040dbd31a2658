// User PATCH: Entra's and Okta's operations normalized, bounded (paths and their bracketed filters go
// through our own parser's limits first), then applied by scimmy's PatchOp to the current resource. The
// service holds the member's row lock while this runs, so read-modify-write cannot lose a concurrent write.
import SCIMMY from "scimmy";
import type { Member } from "../repositories/members-repository.js";
import type { UserFields } from "../services/scim-users-service.js";
import { parseFilter } from "./filter/parse-filter.js";
import { normalizePatchOperations, type PatchOperation } from "./normalize.js";
import { readMessage, ScimError } from "./scim-error.js";
import { ENTERPRISE_SCHEMA, LIMITS, PATCH_OP_SCHEMA, SEAT_SCHEMA, USER_SCHEMA, UserSchema } from "./schemas.js";
import { fromScimUser, toScimValidationError } from "./users.js";

const MAX_OPERATIONS = 1000;

// RFC 7644 §3.5.2 / §3.10: PATH = attrPath / valuePath [subAttr], attrPath = [URI ":"] ATTRNAME *1subAttr,
// ATTRNAME = ALPHA *(nameChar). scimmy split paths on dots without checking them, so "name..givenName" was
// accepted and wrote data. Paths are checked here first; the only URIs a User knows are its extensions
// (the core URN was already dropped by normalize.ts), and an extension URN alone names the whole extension.
const ATTR_PATH = /^(\$?[a-z][\w-]*)(?:\[(.*)\])?(?:\.(\$?[a-z][\w-]*))?$/is;
const EXTENSION_URNS = [ENTERPRISE_SCHEMA, SEAT_SCHEMA];

/** Throws invalidPath for a malformed path; returns the bracketed filter of a valuePath, if any. */
function checkPath(path: string, filterAllowed: boolean): string | null {
  let rest = path;
  const urn = EXTENSION_URNS.find((u) => path.toLowerCase().startsWith(u.toLowerCase()));
  if (urn) {
    rest = path.slice(urn.length);
    if (rest === "") return null;
    if (!rest.startsWith(":")) throw new ScimError(400, "invalidPath", `"${path}" is not a valid attribute path`);
    rest = rest.slice(1);
  }
  const match = ATTR_PATH.exec(rest);
  if (!match || (match[2] !== undefined && !filterAllowed))
    throw new ScimError(400, "invalidPath", `"${path}" is not a valid attribute path`);
  return match[2] ?? null;
}

export function parseUserPatch(body: unknown): PatchOperation[] {
  const b = readMessage(body, PATCH_OP_SCHEMA, "PatchOp");
  const raw = b.Operations ?? b.operations;
  if (!Array.isArray(raw) || raw.length === 0)
    throw new ScimError(400, "invalidSyntax", "Operations must be a non-empty array");
  if (raw.length > MAX_OPERATIONS)
    throw new ScimError(413, "tooMany", `at most ${MAX_OPERATIONS} operations per PATCH`);
  const ops = normalizePatchOperations(raw);
  for (const op of ops) {
    if (!["add", "remove", "replace"].includes(op.op))
      throw new ScimError(400, "invalidSyntax", `unknown op "${String(op.op)}"`);
    // RFC 7644 §3.5.2.1 and .3: add and replace carry a value (a missing one was a 500 deep in scimmy).
    if (op.op !== "remove" && op.value === undefined)
      throw new ScimError(400, "invalidValue", `"${op.op}" needs a value`);
    if (op.path !== undefined) {
      if (op.path.length > LIMITS.maxFilterLength) throw new ScimError(400, "invalidPath", "path is too long");
      const inner = checkPath(op.path, true);
      if (inner !== null) parseFilter(inner, { maxLength: LIMITS.maxFilterLength });
      if (op.path.toLowerCase().startsWith(SEAT_SCHEMA.toLowerCase()))
        throw new ScimError(400, "mutability", "the seat extension is read-only: seats follow Roster's rules");
    } else if (op.value && typeof op.value === "object" && !Array.isArray(op.value)) {
      // Path-less values name attributes by their keys ("name.givenName", "urn:…:User:department").
      for (const key of Object.keys(op.value)) checkPath(key, false);
      if (Object.keys(op.value).some((k) => k.toLowerCase().startsWith(SEAT_SCHEMA.toLowerCase())))
        throw new ScimError(400, "mutability", "the seat extension is read-only: seats follow Roster's rules");
    }
  }
  return ops;
}

function currentResource(member: Member): Record<string, unknown> {
  const attributes = member.attributes ?? {};
  const hasEnterprise = Object.keys(attributes).includes(ENTERPRISE_SCHEMA);
  return {
    schemas: [USER_SCHEMA, ...(hasEnterprise ? [ENTERPRISE_SCHEMA] : [])],
    id: member.id,
    ...(member.externalId ? { externalId: member.externalId } : {}),
    userName: member.userName,
    ...attributes,
    active: member.active,
  };
}

const TYPED_VALUE_PATH = /^([a-z][\w-]*)\[\s*type\s+eq\s+"([^"]*)"\s*\]\.([a-z][\w-]*)$/i;

/**
 * Entra provisions a value the user did not have yet with an add through a filter, e.g.
 * {"op":"Add","path":"emails[type eq \"work\"].value","value":"a@b.example"}, and expects the entry to be
 * created. scimmy answered 400 noTarget (the filter matched nothing), so the user never got the address.
 * Such an add, when no entry of that type exists (nor was created by an earlier operation of the same
 * request), becomes an add of the new entry {type, <sub>: value}.
 */
function createOnAbsent(op: PatchOperation, resource: Record<string, unknown>, created: Set<string>): PatchOperation {
  const match = op.op === "add" && op.path ? TYPED_VALUE_PATH.exec(op.path) : null;
  if (!match) return op;
  const [, attribute, type, sub] = match;
  const id = `${attribute.toLowerCase()}|${type.toLowerCase()}`;
  const key = Object.keys(resource).find((k) => k.toLowerCase() === attribute.toLowerCase());
  const entries = key && Array.isArray(resource[key]) ? (resource[key] as unknown[]) : [];
  const exists =
    created.has(id) ||
    entries.some(
      (e) =>
        !!e &&
        typeof e === "object" &&
        String((e as Record<string, unknown>).type ?? "").toLowerCase() === type.toLowerCase(),
    );
  if (exists) return op;
  created.add(id);
  return { op: "add", path: attribute, value: [{ type, [sub]: op.value }] };
}

function isWholeExtension(op: PatchOperation): boolean {
  return op.path !== undefined && op.path.toLowerCase() === ENTERPRISE_SCHEMA.toLowerCase();
}

/** Drops the enterprise extension from a resource; true when it had one. */
function removeExtension(resource: Record<string, unknown>): boolean {
  const key = Object.keys(resource).find((k) => k.toLowerCase() === ENTERPRISE_SCHEMA.toLowerCase());
  if (key === undefined) return false;
  const had = resource[key] !== null && resource[key] !== undefined;
  delete resource[key];
  if (Array.isArray(resource.schemas))
    resource.schemas = (resource.schemas as unknown[]).filter(
      (s) => typeof s !== "string" || s.toLowerCase() !== ENTERPRISE_SCHEMA.toLowerCase(),
    );
  return had;
}

/**
 * The member after the operations, or null when they change nothing. Operations on the enterprise extension
 * as a whole (path = its URN) are not something scimmy's PatchOp can do: an add or replace becomes the
 * path-less form it handles ({"<urn>": value}); a remove drops the extension here, between the operations
 * scimmy applies before and after it, so the order of operations is kept.
 */
export async function applyUserPatch(member: Member, ops: PatchOperation[]): Promise<UserFields | null> {
  let current = currentResource(member);
  let changed = false;
  let pending: PatchOperation[] = [];
  const created = new Set<string>();
  const flush = async () => {
    if (pending.length === 0) return;
    const message = new SCIMMY.Messages.PatchOp({ schemas: [PATCH_OP_SCHEMA], Operations: pending });
    pending = [];
    const patched = (await message.apply(new UserSchema(current, "out"))) as unknown;
    if (patched) {
      current = JSON.parse(JSON.stringify(patched)) as Record<string, unknown>;
      changed = true;
    }
  };
  try {
    for (const op of ops) {
      if (isWholeExtension(op)) {
        if (op.op === "remove") {
          await flush();
          changed = removeExtension(current) || changed;
        } else {
          pending.push({ op: op.op, value: { [ENTERPRISE_SCHEMA]: op.value } });
        }
        continue;
      }
      pending.push(createOnAbsent(op, current, created));
    }
    await flush();
  } catch (error) {
    throw toScimValidationError(error);
  }
  if (!changed) return null;
  return fromScimUser(current);
}
