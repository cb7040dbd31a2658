// Small helpers shared by the HTTP tests: they only talk to the real app over HTTP, except where the
// product has no HTTP path yet (deactivation is a SCIM operation), where they go through the same services.
import type { Express } from "express";
import request from "supertest";
import { withTransaction } from "../../src/db/transaction.js";
import { updateMember } from "../../src/repositories/members-repository.js";
import { changeContext, loadOrg, type ServiceDeps } from "../../src/services/context.js";
import { changeSeat } from "../../src/services/seat-allocator.js";
import { OPERATOR_TOKEN } from "../support/app.js";

export interface CreatedOrgBody {
  orgId: string;
  scimBaseUrl: string;
  scimToken: string;
  ownerToken: string;
  ownerSignInUrl: string;
}

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const MISSING_ID = "00000000-0000-4000-8000-000000000000";

export function operatorPost(app: Express, body: unknown) {
  return request(app)
    .post("/api/v1/orgs")
    .set("Authorization", `Bearer ${OPERATOR_TOKEN}`)
    .send(body as object);
}

/** Creates an org through the operator API (seats default to 10 chat_code + 10 chat). */
export async function createOrgViaApi(app: Express, body: Record<string, unknown> = {}): Promise<CreatedOrgBody> {
  const res = await operatorPost(app, {
    name: "Acme",
    plan: "enterprise_usage",
    seats: { chat_code: 10, chat: 10 },
    ...body,
  });
  if (res.status !== 201) throw new Error(`creating an org failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as CreatedOrgBody;
}

export function path(orgId: string, rest: string): string {
  return `/api/v1/orgs/${orgId}/${rest}`;
}

export function bearer(token: string): [string, string] {
  return ["Authorization", `Bearer ${token}`];
}

/** A small client for one org's admin API acting with one token. */
export function adminClient(app: Express, orgId: string, token: string) {
  const auth = `Bearer ${token}`;
  return {
    get: (rest: string) => request(app).get(path(orgId, rest)).set("Authorization", auth),
    post: (rest: string, body?: unknown) => {
      const r = request(app).post(path(orgId, rest)).set("Authorization", auth);
      return body === undefined ? r : r.send(body as object);
    },
    put: (rest: string, body: unknown) =>
      request(app)
        .put(path(orgId, rest))
        .set("Authorization", auth)
        .send(body as object),
    patch: (rest: string, body: unknown) =>
      request(app)
        .patch(path(orgId, rest))
        .set("Authorization", auth)
        .send(body as object),
    delete: (rest: string) => request(app).delete(path(orgId, rest)).set("Authorization", auth),
  };
}
export type AdminClient = ReturnType<typeof adminClient>;

/** Issues an admin API token for a member, as the owner, over the API. */
export async function adminTokenFor(owner: AdminClient, memberId: string): Promise<string> {
  const res = await owner.post("admin-tokens", { memberId });
  if (res.status !== 201) throw new Error(`issuing an admin token failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.token as string;
}

export async function ownerIdOf(owner: AdminClient): Promise<string> {
  const res = await owner.get("members?role=primary_owner");
  if (res.status !== 200 || res.body.items.length !== 1)
    throw new Error(`no primary owner: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.items[0].id as string;
}

/** Deactivation as SCIM does it (there is no admin API for it): the seat goes back, then active=false. */
export async function deactivate(deps: ServiceDeps, orgId: string, memberId: string): Promise<void> {
  await withTransaction(deps.db, async (trx) => {
    const org = await loadOrg(deps, trx, orgId);
    await changeSeat(
      trx,
      changeContext(deps, org, { actor: "scim:test" }),
      memberId,
      { kind: "release", reason: "deactivated" },
      deps.now(),
    );
    await updateMember(trx, orgId, memberId, { active: false });
  });
}

/** The roster_session cookie ("name=value") from a response's Set-Cookie headers. */
export function sessionCookie(res: { headers: Record<string, unknown> }): string {
  const raw = res.headers["set-cookie"];
  const list = Array.isArray(raw) ? (raw as string[]) : typeof raw === "string" ? [raw] : [];
  const found = list.find((c) => c.startsWith("roster_session="));
  if (!found) throw new Error(`no roster_session cookie in ${JSON.stringify(raw)}`);
  return found.split(";")[0];
}
