// SCIM Group <-> Roster group, and Group PATCH operations -> membership deltas. Membership is never
// rewritten wholesale: `add` inserts, `remove` deletes the named members, `members[value eq "x"]` paths
// are read with our own bounded filter parser, and only an explicit replace swaps the whole set.
import type { Group, GroupMemberRef } from "../repositories/groups-repository.js";
import type { GroupFields, MembershipStep } from "../services/scim-groups-service.js";
import { type FilterNode, parseFilter } from "./filter/parse-filter.js";
import { normalizePatchOperations } from "./normalize.js";
import { checkResourceSchemas, readMessage, ScimError } from "./scim-error.js";
import { GROUP_SCHEMA, LIMITS, PATCH_OP_SCHEMA } from "./schemas.js";
import { etagOf } from "./users.js";

const MAX_MEMBERS_PER_REQUEST = 10_000;

function memberRef(raw: unknown): GroupMemberRef | null {
  // A bare string is read as a member id (the Microsoft suite sends one); anything unknown is ignored later.
  if (typeof raw === "string") return { value: raw, display: null };
  if (!raw || typeof raw !== "object") return null;
  const r = raw as Record<string, unknown>;
  const value = r.value ?? r.Value;
  if (typeof value !== "string" || !value) return null;
  const display = r.display ?? r.displayName;
  return { value, display: typeof display === "string" ? display.slice(0, 256) : null };
}

function memberRefs(raw: unknown): GroupMemberRef[] {
  const list = raw === undefined || raw === null ? [] : Array.isArray(raw) ? raw : [raw];
  if (list.length > MAX_MEMBERS_PER_REQUEST)
    throw new ScimError(413, "tooMany", `at most ${MAX_MEMBERS_PER_REQUEST} members per request`);
  return list.map(memberRef).filter((m): m is GroupMemberRef => m !== null);
}

export function fromScimGroup(body: unknown): GroupFields {
  if (!body || typeof body !== "object" || Array.isArray(body))
    throw new ScimError(400, "invalidSyntax", "the request body must be a SCIM Group object");
  const b = Object.fromEntries(Object.entries(body as Record<string, unknown>).map(([k, v]) => [k.toLowerCase(), v]));
  const displayName = typeof b.displayname === "string" ? b.displayname.trim() : "";
  if (!displayName) throw new ScimError(400, "invalidValue", "displayName is required");
  if (displayName.length > 256) throw new ScimError(400, "invalidValue", "displayName is longer than 256 characters");
  if (b.externalid !== undefined && b.externalid !== null && typeof b.externalid !== "string")
    throw new ScimError(400, "invalidValue", "externalId must be a string");
  if (b.members !== undefined && b.members !== null && !Array.isArray(b.members))
    throw new ScimError(400, "invalidValue", "members must be an array");
  return {
    displayName,
    externalId: (b.externalid as string | undefined) || null,
    attributes: {},
    members: memberRefs(b.members),
  };
}

/** A Group from a request (POST, PUT, Bulk): its `schemas` checked, then read. */
export function readScimGroup(body: unknown): GroupFields {
  checkResourceSchemas(body, GROUP_SCHEMA, "Group");
  return fromScimGroup(body);
}

export function toScimGroup(group: Group, members: GroupMemberRef[] | null, baseUrl: string): Record<string, unknown> {
  return {
    schemas: [GROUP_SCHEMA],
    id: group.id,
    ...(group.externalId ? { externalId: group.externalId } : {}),
    displayName: group.displayName,
    ...(members
      ? {
          members: members.map((m) => ({
            value: m.value,
            display: m.display ?? undefined,
            type: "User",
            $ref: `${baseUrl}/Users/${m.value}`,
          })),
        }
      : {}),
    meta: {
      resourceType: "Group",
      created: group.createdAt.toISOString(),
      lastModified: group.updatedAt.toISOString(),
      location: `${baseUrl}/Groups/${group.id}`,
      version: etagOf(group.version),
    },
  };
}

/** members[value eq "a" or value eq "b"] -> ["a", "b"]; anything else inside the brackets is refused. */
function memberIdsFromFilter(node: FilterNode): string[] {
  if (node.kind === "or") return [...memberIdsFromFilter(node.left), ...memberIdsFromFilter(node.right)];
  if (
    node.kind === "compare" &&
    node.op === "eq" &&
    node.attr.name.toLowerCase() === "value" &&
    !node.attr.sub &&
    typeof node.value === "string"
  )
    return [node.value];
  throw new ScimError(
    400,
    "invalidFilter",
    'only members[value eq "<id>"] (optionally joined by or) can select members',
  );
}

function parseMembersPath(path: string): { filter: string | null } | null {
  const match = /^members(?:\[(.*)\])?$/is.exec(path);
  if (!match) return null;
  return { filter: match[1] ?? null };
}

function setStep(field: string, value: unknown, op: string): MembershipStep {
  const name = field.toLowerCase();
  if (name === "displayname") {
    if (op === "remove" || typeof value !== "string" || !value.trim())
      throw new ScimError(400, "invalidValue", "displayName must be a non-empty string");
    return { kind: "set", displayName: value.trim() };
  }
  if (name === "externalid") {
    if (op === "remove" || value === null) return { kind: "set", externalId: null };
    if (typeof value !== "string") throw new ScimError(400, "invalidValue", "externalId must be a string");
    return { kind: "set", externalId: value };
  }
  if (name === "id" || name.startsWith("meta")) throw new ScimError(400, "mutability", `${field} is read-only`);
  throw new ScimError(400, "invalidPath", `unknown attribute "${field}" for a Group`);
}

export function parseGroupPatch(body: unknown): MembershipStep[] {
  const b = readMessage(body, PATCH_OP_SCHEMA, "PatchOp");
  const rawOps = b.Operations ?? b.operations;
  if (!Array.isArray(rawOps) || rawOps.length === 0)
    throw new ScimError(400, "invalidSyntax", "Operations must be a non-empty array");
  const steps: MembershipStep[] = [];
  for (const op of normalizePatchOperations(rawOps)) {
    if (!["add", "remove", "replace"].includes(op.op))
      throw new ScimError(400, "invalidSyntax", `unknown op "${String(op.op)}"`);
    if (!op.path) {
      if (op.op === "remove") throw new ScimError(400, "noTarget", "remove needs a path");
      if (!op.value || typeof op.value !== "object" || Array.isArray(op.value))
        throw new ScimError(400, "invalidValue", "an operation without a path needs an object value");
      for (const [key, value] of Object.entries(op.value as Record<string, unknown>)) {
        // Okta renames a group with {"op":"replace","value":{"id":"<the group's id>","displayName":"…"}}.
        // The read-only id (and schemas/meta) in a path-less value is ignored, as for PUT (RFC 7644
        // §3.5.1); refusing it answered 400 to every Okta rename. An explicit `path: "id"` is still refused.
        if (["id", "schemas", "meta"].includes(key.toLowerCase())) continue;
        if (key.toLowerCase() === "members")
          steps.push(
            op.op === "add"
              ? { kind: "add", members: memberRefs(value) }
              : { kind: "replace", members: memberRefs(value) },
          );
        else steps.push(setStep(key, value, op.op));
      }
      continue;
    }
    if (op.path.length > LIMITS.maxFilterLength) throw new ScimError(400, "invalidPath", "path is too long");
    const members = parseMembersPath(op.path);
    if (!members) {
      steps.push(setStep(op.path.replace(/^urn:ietf:params:scim:schemas:core:2\.0:Group:/i, ""), op.value, op.op));
      continue;
    }
    if (members.filter !== null) {
      if (op.op !== "remove")
        throw new ScimError(400, "invalidPath", "a members[…] path can only be used to remove members");
      steps.push({
        kind: "remove",
        memberIds: memberIdsFromFilter(parseFilter(members.filter, { maxLength: LIMITS.maxFilterLength })),
      });
    } else if (op.op === "add") {
      steps.push({ kind: "add", members: memberRefs(op.value) });
    } else if (op.op === "replace") {
      steps.push({ kind: "replace", members: memberRefs(op.value) });
    } else if (op.value === undefined) {
      steps.push({ kind: "removeAll" });
    } else {
      // Entra and Okta remove members with a value list.
      steps.push({ kind: "remove", memberIds: memberRefs(op.value).map((m) => m.value) });
    }
  }
  return steps;
}
