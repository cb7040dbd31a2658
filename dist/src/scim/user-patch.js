// User PATCH: Entra's and Okta's operations normalized, bounded (paths and their bracketed filters go
// through our own parser's limits first), then applied by scimmy's PatchOp to the current resource. The
// service holds the member's row lock while this runs, so read-modify-write cannot lose a concurrent write.
import SCIMMY from "scimmy";
import { parseFilter } from "./filter/parse-filter.js";
import { normalizePatchOperations } from "./normalize.js";
import { readMessage, ScimError } from "./scim-error.js";
import { ENTERPRISE_SCHEMA, LIMITS, PATCH_OP_SCHEMA, SEAT_SCHEMA, USER_SCHEMA, UserSchema } from "./schemas.js";
import { fromScimUser, toScimValidationError } from "./users.js";
const MAX_OPERATIONS = 1000;
export function parseUserPatch(body) {
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
        if (op.path !== undefined) {
            if (op.path.length > LIMITS.maxFilterLength)
                throw new ScimError(400, "invalidPath", "path is too long");
            for (const [, inner] of op.path.matchAll(/\[(.*?)\]/g))
                parseFilter(inner, { maxLength: LIMITS.maxFilterLength });
            if (op.path.toLowerCase().startsWith(SEAT_SCHEMA.toLowerCase()))
                throw new ScimError(400, "mutability", "the seat extension is read-only: seats follow Roster's rules");
        }
        else if (op.value &&
            typeof op.value === "object" &&
            Object.keys(op.value).some((k) => k.toLowerCase().startsWith(SEAT_SCHEMA.toLowerCase()))) {
            throw new ScimError(400, "mutability", "the seat extension is read-only: seats follow Roster's rules");
        }
    }
    return ops;
}
function currentResource(member) {
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
function createOnAbsent(op, resource, created) {
    const match = op.op === "add" && op.path ? TYPED_VALUE_PATH.exec(op.path) : null;
    if (!match)
        return op;
    const [, attribute, type, sub] = match;
    const id = `${attribute.toLowerCase()}|${type.toLowerCase()}`;
    const key = Object.keys(resource).find((k) => k.toLowerCase() === attribute.toLowerCase());
    const entries = key && Array.isArray(resource[key]) ? resource[key] : [];
    const exists = created.has(id) ||
        entries.some((e) => !!e &&
            typeof e === "object" &&
            String(e.type ?? "").toLowerCase() === type.toLowerCase());
    if (exists)
        return op;
    created.add(id);
    return { op: "add", path: attribute, value: [{ type, [sub]: op.value }] };
}
/** The member after the operations, or null when they change nothing. */
export async function applyUserPatch(member, ops) {
    let patched;
    try {
        const current = currentResource(member);
        const created = new Set();
        ops = ops.map((op) => createOnAbsent(op, current, created));
        const message = new SCIMMY.Messages.PatchOp({ schemas: [PATCH_OP_SCHEMA], Operations: ops });
        const resource = new UserSchema(current, "out");
        patched = (await message.apply(resource));
    }
    catch (error) {
        throw toScimValidationError(error);
    }
    if (!patched)
        return null;
    const plain = JSON.parse(JSON.stringify(patched));
    // externalId lives outside scimmy's coerced attributes; carry it through unless the ops changed it.
    return fromScimUser(plain);
}
//# sourceMappingURL=user-patch.js.map