// Shared by the SCIM HTTP tests (test/http/scim-*.test.ts): a client acting with one SCIM token, the
// RFC 7644 §3.12 error-body check, and builders for Users. They only talk to the real app over HTTP.
import type { Express } from "express";
import request from "supertest";
import { expect } from "vitest";

export const SCIM = "/scim/v2";
/** testDeps' publicUrl + /scim/v2: the base of every location the server writes. */
export const BASE_URL = "http://roster.test/scim/v2";

export const USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User";
export const GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group";
export const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
export const SEAT = "urn:roster:params:scim:schemas:extension:seat:2.0:User";
export const ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error";
export const LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
export const PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
export const SEARCH_REQUEST = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
export const BULK_REQUEST = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
export const BULK_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";

export type Headers = Record<string, string>;
export type ScimResource = Record<string, unknown> & { id: string };

/** A SCIM client for one token. Bodies go out as application/scim+json, as IdPs send them. */
export function scimClient(app: Express, token: string) {
  const auth = `Bearer ${token}`;
  const body = (r: request.Test, payload: unknown) =>
    payload === undefined ? r : r.set("Content-Type", "application/scim+json").send(JSON.stringify(payload));
  return {
    get: (p: string, headers: Headers = {}) =>
      request(app)
        .get(SCIM + p)
        .set("Authorization", auth)
        .set(headers),
    post: (p: string, payload?: unknown, headers: Headers = {}) =>
      body(
        request(app)
          .post(SCIM + p)
          .set("Authorization", auth)
          .set(headers),
        payload,
      ),
    put: (p: string, payload: unknown, headers: Headers = {}) =>
      body(
        request(app)
          .put(SCIM + p)
          .set("Authorization", auth)
          .set(headers),
        payload,
      ),
    patch: (p: string, payload: unknown, headers: Headers = {}) =>
      body(
        request(app)
          .patch(SCIM + p)
          .set("Authorization", auth)
          .set(headers),
        payload,
      ),
    delete: (p: string, headers: Headers = {}) =>
      request(app)
        .delete(SCIM + p)
        .set("Authorization", auth)
        .set(headers),
  };
}
export type ScimClient = ReturnType<typeof scimClient>;

/**
 * An RFC 7644 §3.12 error: the HTTP status, a SCIM content type, the Error schema, `status` as a string,
 * a `detail`, and `scimType` exactly when one is given (null: must be absent).
 */
export function expectScimError(res: request.Response, status: number, scimType: string | null): void {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers["content-type"]).toMatch(/^application\/scim\+json/);
  expect(res.body.schemas).toEqual([ERROR_SCHEMA]);
  expect(res.body.status).toBe(String(status));
  expect(typeof res.body.detail).toBe("string");
  if (scimType === null) expect(res.body).not.toHaveProperty("scimType");
  else expect(res.body.scimType).toBe(scimType);
}

export function userBody(userName: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { schemas: [USER_SCHEMA], userName, ...extra };
}

export async function createUser(
  scim: ScimClient,
  userName: string,
  extra: Record<string, unknown> = {},
): Promise<ScimResource> {
  const res = await scim.post("/Users", userBody(userName, extra));
  if (res.status !== 201) throw new Error(`creating ${userName} failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as ScimResource;
}

export async function createGroup(
  scim: ScimClient,
  displayName: string,
  memberIds: string[] = [],
  extra: Record<string, unknown> = {},
): Promise<ScimResource> {
  const res = await scim.post("/Groups", {
    schemas: [GROUP_SCHEMA],
    displayName,
    members: memberIds.map((value) => ({ value })),
    ...extra,
  });
  if (res.status !== 201)
    throw new Error(`creating group ${displayName} failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as ScimResource;
}

export function patchBody(...operations: Record<string, unknown>[]): Record<string, unknown> {
  return { schemas: [PATCH_OP], Operations: operations };
}

/** GET /Users?filter=… (encoded), or another list path. */
export function listWithFilter(scim: ScimClient, filter: string, resource = "/Users", extra = "") {
  return scim.get(`${resource}?filter=${encodeURIComponent(filter)}${extra}`);
}

export function idsOf(res: request.Response): string[] {
  return (res.body.Resources as ScimResource[]).map((r) => r.id);
}
