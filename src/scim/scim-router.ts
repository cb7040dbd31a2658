// /scim/v2: our own express router (per-request state only; scimmy-routers keeps a global base path and
// config, which races across tenants, and turns non-SCIM errors into 404). The bearer SCIM token decides
// the org. Routes validate and delegate to services; scimmy is used for schemas and User PATCH.
import express, { type NextFunction, type Request, type Response, Router } from "express";
import { bearerToken } from "../admin/admin-auth.js";
import { type AuthFailureLimiter, tooManyFailuresMessage } from "../http/auth-failures.js";
import { nestsDeeperThan, TOO_DEEP_MESSAGE } from "../http/json-depth.js";
import { listMembersOfGroups, queryGroups } from "../repositories/groups-repository.js";
import { queryScimMembers } from "../repositories/members-repository.js";
import type { ServiceDeps } from "../services/context.js";
import {
  changeScimGroup,
  createScimGroup,
  deleteScimGroup,
  getScimGroup,
  replaceScimGroup,
} from "../services/scim-groups-service.js";
import {
  createScimUser,
  deleteScimUser,
  getScimUser,
  patchScimUser,
  replaceScimUser,
} from "../services/scim-users-service.js";
import {
  confirmToken,
  identifyScimToken,
  KnownTokens,
  type TokenCheck,
  tokenRefused,
} from "../services/tokens-service.js";
import { processBulk } from "./bulk.js";
import type { AttributeResolver, ColumnSpec } from "./filter/filter-to-sql.js";
import { parseGroupPatch, readScimGroup, toScimGroup } from "./groups.js";
import { attributeList, compileListQuery, encodeScimCursor, type ListParams, readListParams } from "./list-query.js";
import { excludes, project } from "./projection.js";
import { groupAttributes, userAttributes } from "./scim-attributes.js";
import { readMessage, ScimError } from "./scim-error.js";
import { SCIM_CONTENT_TYPE, scimErrorHandler, toScimError } from "./scim-errors.js";
import {
  LIMITS,
  LIST_RESPONSE_SCHEMA,
  resourceTypeDocuments,
  schemaDocuments,
  SEARCH_REQUEST_SCHEMA,
  serviceProviderConfig,
} from "./schemas.js";
import { speaksEntraDialect, storableText } from "./normalize.js";
import { applyUserPatch, parseUserPatch } from "./user-patch.js";
import { etagOf, readScimUser, toScimUser } from "./users.js";

export interface ScimContext {
  orgId: string;
  actor: string;
  /** The caller's token; see CHECKED_BY_STATEMENT for the requests that confirm it in their own statement. */
  token: TokenCheck;
}

/**
 * The two requests IdPs send most (create a user, look one up) check the token's revocation inside their
 * own statement: one round trip to the database instead of two. Every other request confirms the token
 * before any work. A request that fails before its statement runs is confirmed by the error handler, so a
 * revoked token is always answered 401, never with another error.
 */
function checkedByStatement(req: Request): boolean {
  return (req.method === "POST" || req.method === "GET") && /^\/users\/?$/i.test(req.path);
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      scim?: ScimContext;
    }
  }
}

/** Writes the JSON body straight to the socket (express's send adds nothing a SCIM response needs). */
function send(res: Response, status: number, body: unknown, etag?: string): void {
  const json = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader("Content-Type", SCIM_CONTENT_TYPE);
  res.setHeader("Content-Length", Buffer.byteLength(json));
  if (etag) res.setHeader("ETag", etag);
  res.end(json);
}

function listResponse(total: number, params: ListParams, resources: Record<string, unknown>[], lastId?: string | null) {
  if (params.cursor !== null) {
    // RFC 9865 §2.2: no startIndex; nextCursor while there may be more (a full page).
    const more = lastId && resources.length > 0 && resources.length === params.count;
    return {
      schemas: [LIST_RESPONSE_SCHEMA],
      totalResults: total,
      itemsPerPage: resources.length,
      ...(more ? { nextCursor: encodeScimCursor(lastId) } : {}),
      Resources: resources,
    };
  }
  return {
    schemas: [LIST_RESPONSE_SCHEMA],
    totalResults: total,
    itemsPerPage: resources.length,
    startIndex: params.startIndex,
    Resources: resources,
  };
}

function ctx(req: Request): ScimContext {
  if (!req.scim) throw new ScimError(401, null, "authentication required");
  return req.scim;
}

function actorOf(req: Request) {
  return { actor: ctx(req).actor, requestId: req.id };
}

/** The token check a statement still has to make for this request (none once confirmed). */
function pendingCheck(req: Request): TokenCheck | undefined {
  const token = ctx(req).token;
  return token.confirmed ? undefined : token;
}

function projection(req: Request) {
  return { attributes: attributeList(req.query.attributes), excluded: attributeList(req.query.excludedAttributes) };
}

/**
 * If-None-Match on a read: the current ETag, or "*" (RFC 9110 §13.1.2: false whenever the resource exists;
 * it used to be compared as if it were an ETag, so "*" never answered 304).
 */
function notModified(req: Request, etag: string): boolean {
  const tags =
    req
      .get("if-none-match")
      ?.split(",")
      .map((t) => t.trim()) ?? [];
  return tags.includes("*") || tags.includes(etag);
}

/** Group PATCH answers 204 unless the client asks for the resource back (attributes/excludedAttributes). */
function wantsRepresentation(req: Request): boolean {
  return (
    req.query.attributes !== undefined ||
    req.query.excludedAttributes !== undefined ||
    /return=representation/i.test(req.get("prefer") ?? "")
  );
}

/** RFC 7240 `Prefer: return=minimal`: the client wants no body back. */
function prefersMinimal(req: Request): boolean {
  return /return=minimal/i.test(req.get("prefer") ?? "");
}

export function createScimRouter(deps: ServiceDeps, authFailures: AuthFailureLimiter): Router {
  const router = Router({ caseSensitive: false });
  const baseUrl = `${deps.publicUrl}/scim/v2`;

  const knownTokens = new KnownTokens();
  router.use(async (req: Request, _res: Response, next: NextFunction) => {
    const presented = bearerToken(req);
    const token = presented ? await identifyScimToken(deps, knownTokens, presented) : null;
    if (!token) throw new ScimError(401, null, "a valid SCIM bearer token is required");
    req.scim = { orgId: token.orgId, actor: `scim:${token.tokenId}`, token };
    if (!checkedByStatement(req)) await confirmToken(deps, token);
    next();
  });
  router.use(
    express.json({
      limit: LIMITS.bulkMaxPayloadSize,
      type: ["application/scim+json", "application/json", "application/*+json"],
    }),
  );
  router.use((req: Request, _res: Response, next: NextFunction) => {
    if (req.body !== undefined) {
      if (nestsDeeperThan(req.body)) throw new ScimError(400, "invalidSyntax", TOO_DEEP_MESSAGE);
      const clean = storableText(req.body);
      if (!clean) throw new ScimError(400, "invalidValue", "text values must not contain NUL characters");
      req.body = clean.value;
    }
    next();
  });

  // --- discovery ---------------------------------------------------------------------------------------
  const spc = (_req: Request, res: Response) => send(res, 200, serviceProviderConfig(baseUrl));
  router.get("/ServiceProviderConfig", spc);
  router.get("/serviceConfiguration", spc); // Microsoft's suite asks here
  router.get("/ResourceTypes", (_req, res) => {
    const docs = resourceTypeDocuments(baseUrl);
    send(res, 200, {
      schemas: [LIST_RESPONSE_SCHEMA],
      totalResults: docs.length,
      itemsPerPage: docs.length,
      startIndex: 1,
      Resources: docs,
    });
  });
  router.get("/ResourceTypes/:id", (req, res) => {
    const doc = resourceTypeDocuments(baseUrl).find(
      (d) => String(d.id).toLowerCase() === String(req.params.id).toLowerCase(),
    );
    if (!doc) throw new ScimError(404, null, `ResourceType ${req.params.id} not found`);
    send(res, 200, doc);
  });
  router.get("/Schemas", (_req, res) => {
    const docs = schemaDocuments(baseUrl);
    send(res, 200, {
      schemas: [LIST_RESPONSE_SCHEMA],
      totalResults: docs.length,
      itemsPerPage: docs.length,
      startIndex: 1,
      Resources: docs,
    });
  });
  router.get("/Schemas/:id", (req, res) => {
    const doc = schemaDocuments(baseUrl).find(
      (d) => String(d.id).toLowerCase() === String(req.params.id).toLowerCase(),
    );
    if (!doc) throw new ScimError(404, null, `Schema ${req.params.id} not found`);
    send(res, 200, doc);
  });

  // --- Users -------------------------------------------------------------------------------------------
  async function listUsers(req: Request, res: Response, params: ListParams) {
    const token = pendingCheck(req);
    const checked = await queryScimMembers(deps.db, ctx(req).orgId, compileListQuery(params, userAttributes), {
      tokenId: token?.tokenId,
    });
    if (!checked.tokenUsable) throw tokenRefused();
    if (token) token.confirmed = true;
    const page = checked.result;
    send(
      res,
      200,
      listResponse(
        page.total,
        params,
        page.members.map((m) => project(toScimUser(m, baseUrl), params.attributes, params.excludedAttributes)),
        page.members[page.members.length - 1]?.id,
      ),
    );
  }
  router.get("/Users", async (req, res) => listUsers(req, res, readListParams(req.query as Record<string, unknown>)));
  router.post("/Users/.search", async (req, res) => listUsers(req, res, readSearchBody(req.body)));

  router.get("/Users/:id", async (req, res) => {
    const member = await getScimUser(deps, ctx(req).orgId, String(req.params.id));
    const etag = etagOf(member.version);
    if (notModified(req, etag)) {
      res.status(304).setHeader("ETag", etag).end();
      return;
    }
    const { attributes, excluded } = projection(req);
    send(res, 200, project(toScimUser(member, baseUrl), attributes, excluded), etag);
  });

  router.post("/Users", async (req, res) => {
    const member = await createScimUser(deps, ctx(req).orgId, readScimUser(req.body), actorOf(req), pendingCheck(req));
    res.setHeader("Location", `${baseUrl}/Users/${member.id}`);
    const { attributes, excluded } = projection(req);
    send(res, 201, project(toScimUser(member, baseUrl), attributes, excluded), etagOf(member.version));
  });

  router.put("/Users/:id", async (req, res) => {
    const member = await replaceScimUser(
      deps,
      ctx(req).orgId,
      String(req.params.id),
      readScimUser(req.body),
      actorOf(req),
      { ifMatch: req.get("if-match"), currentEtag: (m) => etagOf(m.version) },
    );
    const { attributes, excluded } = projection(req);
    send(res, 200, project(toScimUser(member, baseUrl), attributes, excluded), etagOf(member.version));
  });

  router.patch("/Users/:id", async (req, res) => {
    const ops = parseUserPatch(req.body);
    const member = await patchScimUser(
      deps,
      ctx(req).orgId,
      String(req.params.id),
      (current) => applyUserPatch(current, ops),
      actorOf(req),
      {
        ifMatch: req.get("if-match"),
        currentEtag: (m) => etagOf(m.version),
      },
    );
    // 200 with the resource (RFC 7644 §3.5.2), as Okta's documented flow and strict testers expect. 204 only
    // for `Prefer: return=minimal`, and for Entra's dialect unless it asks for the resource (see
    // speaksEntraDialect). Group PATCH keeps 204 unless asked: a group can hold 50,000 members.
    if (!wantsRepresentation(req) && (prefersMinimal(req) || speaksEntraDialect(req.body))) {
      res.setHeader("ETag", etagOf(member.version));
      res.status(204).end();
      return;
    }
    const { attributes, excluded } = projection(req);
    send(res, 200, project(toScimUser(member, baseUrl), attributes, excluded), etagOf(member.version));
  });

  router.delete("/Users/:id", async (req, res) => {
    await deleteScimUser(deps, ctx(req).orgId, String(req.params.id), actorOf(req), {
      ifMatch: req.get("if-match"),
      currentEtag: (m) => etagOf(m.version),
    });
    res.status(204).end();
  });

  // --- Groups ------------------------------------------------------------------------------------------
  async function renderGroups(
    orgId: string,
    groups: Awaited<ReturnType<typeof getScimGroup>>[],
    attributes: string[],
    excluded: string[],
  ) {
    // Members are loaded only when the response will show them (IdPs exclude them for large groups).
    const members = excludes("members", attributes, excluded)
      ? null
      : await listMembersOfGroups(
          deps.db,
          orgId,
          groups.map((g) => g.id),
        );
    return groups.map((g) =>
      project(toScimGroup(g, members?.get(g.id) ?? (members ? [] : null), baseUrl), attributes, excluded),
    );
  }
  async function listGroups(req: Request, res: Response, params: ListParams) {
    const page = await queryGroups(deps.db, ctx(req).orgId, compileListQuery(params, groupAttributes));
    send(
      res,
      200,
      listResponse(
        page.total,
        params,
        await renderGroups(ctx(req).orgId, page.groups, params.attributes, params.excludedAttributes),
        page.groups[page.groups.length - 1]?.id,
      ),
    );
  }
  router.get("/Groups", async (req, res) => listGroups(req, res, readListParams(req.query as Record<string, unknown>)));
  router.post("/Groups/.search", async (req, res) => listGroups(req, res, readSearchBody(req.body)));

  router.get("/Groups/:id", async (req, res) => {
    const group = await getScimGroup(deps, ctx(req).orgId, String(req.params.id));
    const etag = etagOf(group.version);
    if (notModified(req, etag)) {
      res.status(304).setHeader("ETag", etag).end();
      return;
    }
    const { attributes, excluded } = projection(req);
    send(res, 200, (await renderGroups(ctx(req).orgId, [group], attributes, excluded))[0], etag);
  });

  router.post("/Groups", async (req, res) => {
    const group = await createScimGroup(deps, ctx(req).orgId, readScimGroup(req.body), actorOf(req));
    res.setHeader("Location", `${baseUrl}/Groups/${group.id}`);
    const { attributes, excluded } = projection(req);
    send(res, 201, (await renderGroups(ctx(req).orgId, [group], attributes, excluded))[0], etagOf(group.version));
  });

  router.put("/Groups/:id", async (req, res) => {
    const group = await replaceScimGroup(
      deps,
      ctx(req).orgId,
      String(req.params.id),
      readScimGroup(req.body),
      actorOf(req),
      { ifMatch: req.get("if-match"), etag: (g) => etagOf(g.version) },
    );
    const { attributes, excluded } = projection(req);
    send(res, 200, (await renderGroups(ctx(req).orgId, [group], attributes, excluded))[0], etagOf(group.version));
  });

  router.patch("/Groups/:id", async (req, res) => {
    const steps = parseGroupPatch(req.body);
    const group = await changeScimGroup(deps, ctx(req).orgId, String(req.params.id), steps, actorOf(req), {
      ifMatch: req.get("if-match"),
      etag: (g) => etagOf(g.version),
    });
    res.setHeader("ETag", etagOf(group.version));
    if (!wantsRepresentation(req)) {
      res.status(204).end();
      return;
    }
    const { attributes, excluded } = projection(req);
    send(res, 200, (await renderGroups(ctx(req).orgId, [group], attributes, excluded))[0]);
  });

  router.delete("/Groups/:id", async (req, res) => {
    await deleteScimGroup(deps, ctx(req).orgId, String(req.params.id), actorOf(req), {
      ifMatch: req.get("if-match"),
      etag: (g) => etagOf(g.version),
    });
    res.status(204).end();
  });

  // --- search across resource types, and Bulk ----------------------------------------------------------
  router.post("/.search", async (req, res) => {
    // Both resource types in one list: Users first, then Groups, paged together.
    const params = readSearchBody(req.body);
    if (params.cursor !== null)
      throw new ScimError(400, "invalidValue", "cursor paging is offered on /Users and /Groups, not across both");
    const orgId = ctx(req).orgId;
    const userQuery = compileListQuery(params, rootResolver(userAttributes, groupAttributes));
    const groupQuery = compileListQuery(params, rootResolver(groupAttributes, userAttributes));
    const userPage = (await queryScimMembers(deps.db, orgId, { ...userQuery, offset: 0, limit: 0 })).result;
    const groupPage = await queryGroups(deps.db, orgId, { ...groupQuery, offset: 0, limit: 0 });
    const start = params.startIndex - 1;
    const users =
      start < userPage.total
        ? (await queryScimMembers(deps.db, orgId, { ...userQuery, offset: start, limit: params.count })).result
        : { members: [] };
    const remaining = params.count - users.members.length;
    const groupOffset = Math.max(0, start - userPage.total);
    const groups =
      remaining > 0
        ? await queryGroups(deps.db, orgId, { ...groupQuery, offset: groupOffset, limit: remaining })
        : { groups: [] };
    const resources = [
      ...users.members.map((m) => project(toScimUser(m, baseUrl), params.attributes, params.excludedAttributes)),
      ...(await renderGroups(orgId, groups.groups, params.attributes, params.excludedAttributes)),
    ];
    send(res, 200, listResponse(userPage.total + groupPage.total, params, resources));
  });

  router.post("/Bulk", async (req, res) => {
    send(res, 200, await processBulk(deps, ctx(req), req.body, baseUrl, req.id));
  });

  router.use((_req: Request) => {
    throw new ScimError(404, null, "no such SCIM endpoint");
  });
  router.use(async (error: unknown, req: Request, res: Response, next: NextFunction) => {
    // A revoked token is answered 401 whatever else went wrong (and its digest is forgotten).
    const token = req.scim?.token;
    let answer = error;
    if (token && !token.confirmed)
      answer = await confirmToken(deps, token).then(
        () => error,
        (refused: unknown) => refused,
      );
    if (token && toScimError(answer)?.status === 401) knownTokens.forget(token.digest);
    if (toScimError(answer)?.status === 401) {
      const wait = authFailures.fail(req.ip ?? "unknown");
      if (wait !== null) {
        req.log.warn({ ip: req.ip }, "failed authentication limit reached");
        res.setHeader("Retry-After", String(wait));
        answer = new ScimError(429, null, tooManyFailuresMessage(wait));
      }
    }
    scimErrorHandler(answer, req, res, next);
  });
  return router;
}

/**
 * For a search at the root (RFC 7644 §3.4.2.1): "for filtered attributes that are not part of a particular
 * resource type, the service provider SHALL treat the attribute as if there is no attribute value". An
 * attribute only the other type has resolves to a spec of the same kind holding SQL NULL (so `userName pr`
 * keeps Users and drops Groups, and sortBy=userName still sorts the Users); one neither type has stays
 * unknown (400 invalidFilter). Without this, every root search on a User-only or Group-only attribute was 400.
 */
function rootResolver(own: AttributeResolver, other: AttributeResolver): AttributeResolver {
  return { resolve: (path) => own.resolve(path) ?? withoutValue(other.resolve(path)) };
}

function withoutValue(spec: ColumnSpec | null): ColumnSpec | null {
  if (!spec) return null;
  switch (spec.type) {
    case "string":
      return { ...spec, sql: "(null::text)" };
    case "id":
      return { type: "id", sql: "(null::uuid)" };
    case "boolean":
      return { type: "boolean", sql: "(null::boolean)" };
    case "dateTime":
      return { type: "dateTime", sql: "(null::timestamptz)" };
    case "number":
      return { type: "number", sql: "(null::numeric)" };
    case "stringArray":
      return { ...spec, sql: "(null::text[])" };
    case "complex":
      return { ...spec, jsonSql: "(null::jsonb)" };
    case "custom":
      return { type: "custom", build: () => ({ sql: "null::boolean", bindings: [] }) };
  }
}

function readSearchBody(body: unknown): ListParams {
  const b = readMessage(body, SEARCH_REQUEST_SCHEMA, "SearchRequest");
  return readListParams(b);
}
