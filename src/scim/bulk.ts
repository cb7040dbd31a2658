// POST /Bulk (RFC 7644 §3.7): operations run in order, each in its own transaction through the same
// services as the single-resource endpoints. "bulkId:<id>" references in data are replaced by the ids of
// resources created earlier in the request; an operation whose reference is not yet known waits for a
// later pass. failOnErrors stops the run after that many errors. Limits are advertised and enforced.
import type { ServiceDeps } from "../services/context.js";
import {
  changeScimGroup,
  createScimGroup,
  deleteScimGroup,
  replaceScimGroup,
} from "../services/scim-groups-service.js";
import { createScimUser, deleteScimUser, patchScimUser, replaceScimUser } from "../services/scim-users-service.js";
import { parseGroupPatch, readScimGroup } from "./groups.js";
import { readMessage, ScimError, scimErrorBody } from "./scim-error.js";
import { toScimError } from "./scim-errors.js";
import { BULK_REQUEST_SCHEMA, BULK_RESPONSE_SCHEMA, LIMITS } from "./schemas.js";
import { applyUserPatch, parseUserPatch } from "./user-patch.js";
import { etagOf, readScimUser } from "./users.js";

interface BulkOperation {
  method: string;
  bulkId?: string;
  version?: string;
  path: string;
  data?: unknown;
}

interface BulkResult {
  method: string;
  bulkId?: string;
  version?: string;
  location?: string;
  status: string;
  response?: unknown;
}

const REFERENCE = /^bulkId:(.+)$/;
/** How many consecutive user creates of one Bulk request run together (create-batches.ts MAX_BATCH). */
const CREATE_RUN = 64;

/** POST /Users whose data refers to no bulkId: independent of every other operation. */
function plainUserCreate(op: BulkOperation): boolean {
  return op.method === "POST" && /^\/Users$/i.test(op.path) && references(op.data).size === 0;
}

/** Every bulkId the data refers to. */
function references(value: unknown, found = new Set<string>()): Set<string> {
  if (typeof value === "string") {
    const m = REFERENCE.exec(value);
    if (m) found.add(m[1]);
  } else if (Array.isArray(value)) value.forEach((v) => references(v, found));
  else if (value && typeof value === "object") Object.values(value).forEach((v) => references(v, found));
  return found;
}

function resolve(value: unknown, ids: Map<string, string>): unknown {
  if (typeof value === "string") {
    const m = REFERENCE.exec(value);
    return m && ids.has(m[1]) ? ids.get(m[1]) : value;
  }
  if (Array.isArray(value)) return value.map((v) => resolve(v, ids));
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, ids)]));
  return value;
}

function readRequest(body: unknown): { operations: BulkOperation[]; failOnErrors: number | null } {
  const b = readMessage(body, BULK_REQUEST_SCHEMA, "BulkRequest");
  const ops = b.Operations ?? b.operations;
  if (!Array.isArray(ops)) throw new ScimError(400, "invalidSyntax", "Operations must be an array");
  if (ops.length > LIMITS.bulkMaxOperations)
    throw new ScimError(413, null, `at most ${LIMITS.bulkMaxOperations} operations per Bulk request`);
  const failOnErrors = b.failOnErrors === undefined || b.failOnErrors === null ? null : Number(b.failOnErrors);
  if (failOnErrors !== null && (!Number.isInteger(failOnErrors) || failOnErrors < 1))
    throw new ScimError(400, "invalidValue", "failOnErrors must be a positive integer");
  const operations = ops.map((raw, i) => {
    const op = (raw ?? {}) as Record<string, unknown>;
    if (typeof op.method !== "string" || typeof op.path !== "string")
      throw new ScimError(400, "invalidSyntax", `operation ${i + 1} needs a method and a path`);
    if (op.method.toUpperCase() === "POST" && typeof op.bulkId !== "string")
      throw new ScimError(400, "invalidSyntax", `operation ${i + 1}: POST needs a bulkId`);
    return {
      method: op.method.toUpperCase(),
      path: op.path,
      bulkId: typeof op.bulkId === "string" ? op.bulkId : undefined,
      version: typeof op.version === "string" ? op.version : undefined,
      data: op.data,
    };
  });
  return { operations, failOnErrors };
}

async function execute(
  deps: ServiceDeps,
  scope: { orgId: string; actor: { actor: string; requestId: string } },
  op: BulkOperation,
  baseUrl: string,
): Promise<BulkResult> {
  const match = /^\/(Users|Groups)(?:\/([^/]+))?$/i.exec(op.path);
  if (!match) throw new ScimError(400, "invalidPath", `unsupported path ${op.path}`);
  const type = match[1].toLowerCase() === "users" ? "Users" : "Groups";
  const id = match[2];
  const base = { method: op.method, ...(op.bulkId ? { bulkId: op.bulkId } : {}) };
  const pre = { ifMatch: op.version ?? null };
  const { orgId, actor } = scope;
  if (op.method === "POST" && !id) {
    const created =
      type === "Users"
        ? await createScimUser(deps, orgId, readScimUser(op.data), actor)
        : await createScimGroup(deps, orgId, readScimGroup(op.data), actor);
    return { ...base, location: `${baseUrl}/${type}/${created.id}`, version: etagOf(created.version), status: "201" };
  }
  if (!id) throw new ScimError(400, "invalidPath", `${op.method} needs a resource id in the path`);
  const location = `${baseUrl}/${type}/${id}`;
  if (op.method === "DELETE") {
    if (type === "Users")
      await deleteScimUser(deps, orgId, id, actor, { ...pre, currentEtag: (m) => etagOf(m.version) });
    else await deleteScimGroup(deps, orgId, id, actor, { ...pre, etag: (g) => etagOf(g.version) });
    return { ...base, location, status: "204" };
  }
  if (op.method === "PUT") {
    const updated =
      type === "Users"
        ? await replaceScimUser(deps, orgId, id, readScimUser(op.data), actor, {
            ...pre,
            currentEtag: (m) => etagOf(m.version),
          })
        : await replaceScimGroup(deps, orgId, id, readScimGroup(op.data), actor, {
            ...pre,
            etag: (g) => etagOf(g.version),
          });
    return { ...base, location, version: etagOf(updated.version), status: "200" };
  }
  if (op.method === "PATCH") {
    let version: string;
    if (type === "Users") {
      const ops = parseUserPatch(op.data);
      version = etagOf(
        (
          await patchScimUser(deps, orgId, id, (current) => applyUserPatch(current, ops), actor, {
            ...pre,
            currentEtag: (m) => etagOf(m.version),
          })
        ).version,
      );
    } else {
      version = etagOf(
        (
          await changeScimGroup(deps, orgId, id, parseGroupPatch(op.data), actor, {
            ...pre,
            etag: (g) => etagOf(g.version),
          })
        ).version,
      );
    }
    return { ...base, location, version, status: "200" };
  }
  throw new ScimError(400, "invalidSyntax", `unsupported method ${op.method}`);
}

export async function processBulk(
  deps: ServiceDeps,
  scope: { orgId: string; actor: string },
  body: unknown,
  baseUrl: string,
  requestId: string,
) {
  const { operations, failOnErrors } = readRequest(body);
  const results: (BulkResult | null)[] = operations.map(() => null);
  const createdIds = new Map<string, string>();
  let errors = 0;
  let pending = operations.map((_, i) => i);
  const actor = { orgId: scope.orgId, actor: { actor: scope.actor, requestId } };
  while (pending.length > 0 && (failOnErrors === null || errors < failOnErrors)) {
    const deferred: number[] = [];
    const run = async (i: number) => {
      const op = operations[i];
      try {
        const result = await execute(deps, actor, { ...op, data: resolve(op.data, createdIds) }, baseUrl);
        if (op.bulkId && result.location) createdIds.set(op.bulkId, result.location.split("/").pop() as string);
        results[i] = result;
      } catch (error) {
        const scimError = toScimError(error);
        if (!scimError) throw error;
        errors++;
        results[i] = {
          method: op.method,
          ...(op.bulkId ? { bulkId: op.bulkId } : {}),
          status: String(scimError.status),
          response: scimErrorBody(scimError.status, scimError.scimType, scimError.message),
        };
      }
    };
    for (let k = 0; k < pending.length; k++) {
      if (failOnErrors !== null && errors >= failOnErrors) break;
      const i = pending[k];
      const op = operations[i];
      // A run of plain user creates goes at once, so the creates share one statement (create-batches.ts)
      // as parallel POSTs do. The run never exceeds the errors still allowed, so failOnErrors stops the
      // request exactly where running them one by one would.
      const budget = failOnErrors === null ? CREATE_RUN : Math.min(CREATE_RUN, failOnErrors - errors);
      let end = k;
      while (end < pending.length && end - k < budget && plainUserCreate(operations[pending[end]])) end++;
      if (end - k > 1) {
        await Promise.all(pending.slice(k, end).map(run));
        k = end - 1;
        continue;
      }
      const unresolved = [...references(op.data)].filter((ref) => !createdIds.has(ref));
      // A reference to an operation that failed, or to no operation at all, can never resolve.
      const resolvable = unresolved.every((ref) => operations.some((o, j) => o.bulkId === ref && results[j] === null));
      if (unresolved.length > 0 && resolvable) {
        deferred.push(i);
        continue;
      }
      if (unresolved.length > 0) {
        errors++;
        results[i] = {
          method: op.method,
          ...(op.bulkId ? { bulkId: op.bulkId } : {}),
          status: "409",
          response: scimErrorBody(409, "invalidValue", `unresolved bulkId reference: ${unresolved.join(", ")}`),
        };
        continue;
      }
      await run(i);
    }
    if (deferred.length === pending.length) {
      // Nothing could run: the remaining operations refer to each other in a cycle.
      for (const i of deferred) {
        errors++;
        const op = operations[i];
        results[i] = {
          method: op.method,
          ...(op.bulkId ? { bulkId: op.bulkId } : {}),
          status: "409",
          response: scimErrorBody(409, "invalidValue", "circular bulkId references"),
        };
      }
      break;
    }
    pending = deferred;
  }
  return { schemas: [BULK_RESPONSE_SCHEMA], Operations: results.filter((r): r is BulkResult => r !== null) };
}
