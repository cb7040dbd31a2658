// The admin API, /api/v1/orgs/{orgId}/…: each route authenticates, checks the role, validates, delegates.
import { Router } from "express";
import { z } from "zod";
import { DomainError } from "../domain/errors.js";
import { ROLES } from "../domain/roles.js";
import type { SessionManager } from "../http/session.js";
import { listAudit } from "../repositories/audit-repository.js";
import { isUuid } from "../repositories/members-repository.js";
import { loadOrg, type ServiceDeps } from "../services/context.js";
import { getJob, listOrgJobs } from "../services/jobs-service.js";
import {
  changeMappings,
  getMappings,
  mappingsInput,
  previewMappings,
  startSyncJob,
} from "../services/mappings-service.js";
import { getMember, listOrgMembers, memberPatchInput, patchMember, swapMembers } from "../services/members-service.js";
import { seatOverview } from "../services/orgs-service.js";
import { issueToken, listOrgTokens, revokeOrgToken } from "../services/tokens-service.js";
import { parseIdpMetadata, toPemCertificate } from "../saml/idp-metadata.js";
import {
  activateSpKey,
  createNextSpKey,
  getSamlConnection,
  listOrgSpKeys,
  putSamlConnection,
  removeSpKey,
  type SamlConnectionFields,
  samlEndpoints,
} from "../services/saml-connections-service.js";
import { authenticateAdmin, type Principal, requirePermission } from "./admin-auth.js";
import { addBillingRoutes } from "./billing-routes.js";
import { addInvitationRoutes } from "./invitation-routes.js";
import { addOrgRoutes } from "./org-routes.js";
import { addWebhookRoutes } from "./webhook-routes.js";
import {
  decodeCursor,
  encodeCursor,
  presentAuditEvent,
  presentJob,
  presentMapping,
  presentMember,
  presentSamlConnection,
  presentSpKey,
  presentToken,
} from "./presenters.js";

export const listMembersQuery = z.object({
  seatType: z.string().max(40).optional(),
  role: z.enum(ROLES).optional(),
  status: z.enum(["active", "inactive", "waiting"]).optional(),
  q: z.string().max(200).optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const auditQuery = z.object({
  memberId: z.string().refine(isUuid, "must be a member id").optional(),
  action: z.string().max(100).optional(),
  cursor: z.string().max(40).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const previewQuery = z.object({
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export const jobsQuery = z.object({
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

export const swapBody = z
  .object({ a: z.string().refine(isUuid, "must be a member id"), b: z.string().refine(isUuid, "must be a member id") })
  .strict();
export const adminTokenBody = z
  .object({ memberId: z.string().refine(isUuid, "must be a member id"), name: z.string().max(100).optional() })
  .strict();
export const scimTokenBody = z.object({ name: z.string().max(100).optional() }).strict();
const samlOptionsFields = {
  attributeProfile: z.string().max(40).optional(),
  allowIdpInitiated: z.boolean().optional(),
  nameIdFormat: z.enum(["emailAddress", "persistent", "transient", "unspecified"]).optional(),
  signAuthnRequests: z.boolean().optional(),
  requireEncryptedAssertions: z.boolean().optional(),
};
export const samlBody = z.union([
  z
    .object({
      metadataXml: z
        .string()
        .min(1)
        .max(1024 * 1024),
      ...samlOptionsFields,
    })
    .strict(),
  z
    .object({
      idpEntityId: z.string().min(1).max(1024),
      ssoUrl: z.url({ protocol: /^https?$/ }).max(2048),
      certificates: z.array(z.string().min(1).max(20_000)).min(1).max(5),
      ...samlOptionsFields,
    })
    .strict(),
]);

function actorOf(principal: Principal | undefined, requestId: string) {
  if (!principal) throw new DomainError("unauthorized", "not signed in");
  return { actor: principal.actor, requestId, role: principal.role };
}

export function createAdminRouter(deps: ServiceDeps, sessions: SessionManager): Router {
  const router = Router({ mergeParams: true });
  router.use(authenticateAdmin(deps, sessions));
  addOrgRoutes(router, deps);
  addBillingRoutes(router, deps);
  addInvitationRoutes(router, deps);
  addWebhookRoutes(router, deps);

  router.get("/seats", requirePermission("read_members"), async (req, res) => {
    res.json(await seatOverview(deps, req.principal!.orgId));
  });

  router.get("/members", requirePermission("read_members"), async (req, res) => {
    const q = listMembersQuery.parse(req.query);
    // The cursor is a member id; anything else would reach PostgreSQL as a bad uuid and answer 500.
    const after = decodeCursor(q.cursor);
    if (after !== null && !isUuid(after)) throw new DomainError("invalid_request", "cursor is not valid");
    const page = await listOrgMembers(deps, req.principal!.orgId, q, after, q.limit);
    res.json({ items: page.items.map(presentMember), nextCursor: encodeCursor(page.next) });
  });

  router.post("/members/swap", requirePermission("manage_seats"), async (req, res) => {
    const body = swapBody.parse(req.body);
    const [a, b] = await swapMembers(deps, req.principal!.orgId, body.a, body.b, actorOf(req.principal, req.id));
    res.json({ a: presentMember(a), b: presentMember(b) });
  });

  router.get("/members/:memberId", requirePermission("read_members"), async (req, res) => {
    res.json(presentMember(await getMember(deps, req.principal!.orgId, String(req.params.memberId))));
  });

  router.patch("/members/:memberId", requirePermission("manage_seats"), async (req, res) => {
    const body = memberPatchInput.parse(req.body);
    res.json(
      presentMember(
        await patchMember(
          deps,
          req.principal!.orgId,
          String(req.params.memberId),
          body,
          actorOf(req.principal, req.id),
        ),
      ),
    );
  });

  router.get("/group-mappings", requirePermission("manage_mappings"), async (req, res) => {
    res.json((await getMappings(deps, req.principal!.orgId)).map(presentMapping));
  });

  // A small change is applied before the answer (200, the job finished); a large one is a job (202 and a
  // Location to poll). Either way the body carries the job.
  router.put("/group-mappings", requirePermission("manage_mappings"), async (req, res) => {
    const body = mappingsInput.parse(req.body);
    const result = await changeMappings(deps, req.principal!.orgId, body, actorOf(req.principal, req.id));
    res.location(`${req.baseUrl}/jobs/${result.job.job.id}`);
    res
      .status(result.job.finished ? 200 : 202)
      .json({ mappings: result.mappings.map(presentMapping), job: presentJob(result.job.job, true) });
  });

  router.post("/group-mappings/preview", requirePermission("manage_mappings"), async (req, res) => {
    const body = mappingsInput.parse(req.body);
    const q = previewQuery.parse(req.query);
    const cursor = decodeCursor(q.cursor);
    if (cursor !== null && !isUuid(cursor)) throw new DomainError("invalid_request", "cursor is not valid");
    const preview = await previewMappings(deps, req.principal!.orgId, body, actorOf(req.principal, req.id), {
      limit: q.limit,
      cursor,
    });
    res.json({ ...preview, nextCursor: encodeCursor(preview.nextCursor) });
  });

  router.post("/sync", requirePermission("manage_mappings"), async (req, res) => {
    const started = await startSyncJob(deps, req.principal!.orgId, actorOf(req.principal, req.id));
    res.location(`${req.baseUrl}/jobs/${started.job.id}`);
    res.status(started.finished ? 200 : 202).json(presentJob(started.job, true));
  });

  router.get("/jobs", requirePermission("manage_mappings"), async (req, res) => {
    const q = jobsQuery.parse(req.query);
    const raw = decodeCursor(q.cursor);
    let before: { createdAt: Date; id: string } | null = null;
    if (raw !== null) {
      const [at, id] = raw.split("|");
      const createdAt = new Date(at);
      if (!id || !isUuid(id) || Number.isNaN(createdAt.getTime()))
        throw new DomainError("invalid_request", "cursor is not valid");
      before = { createdAt, id };
    }
    const jobs = await listOrgJobs(deps, req.principal!.orgId, { limit: q.limit + 1, before });
    const items = jobs.slice(0, q.limit);
    const last = items[items.length - 1];
    const next = jobs.length > q.limit && last ? `${last.createdAt.toISOString()}|${last.id}` : null;
    res.json({ items: items.map((j) => presentJob(j, false)), nextCursor: encodeCursor(next) });
  });

  router.get("/jobs/:jobId", requirePermission("manage_mappings"), async (req, res) => {
    const jobId = String(req.params.jobId);
    if (!isUuid(jobId)) throw new DomainError("not_found", "job not found");
    res.json(presentJob(await getJob(deps, req.principal!.orgId, jobId), true));
  });

  router.get("/audit-events", requirePermission("read_audit"), async (req, res) => {
    const q = auditQuery.parse(req.query);
    const before = q.cursor ? Number(decodeCursor(q.cursor)) : null;
    if (before !== null && !Number.isSafeInteger(before))
      throw new DomainError("invalid_request", "cursor is not valid");
    const items = await listAudit(
      deps.db,
      req.principal!.orgId,
      { memberId: q.memberId, action: q.action },
      before,
      q.limit + 1,
    );
    const page = items.slice(0, q.limit);
    res.json({
      items: page.map(presentAuditEvent),
      nextCursor: items.length > q.limit ? encodeCursor(page[page.length - 1].id) : null,
    });
  });

  router.get("/scim-tokens", requirePermission("manage_tokens"), async (req, res) => {
    res.json((await listOrgTokens(deps, req.principal!.orgId, "scim")).map(presentToken));
  });

  router.post("/scim-tokens", requirePermission("manage_tokens"), async (req, res) => {
    const body = scimTokenBody.parse(req.body ?? {});
    const issued = await issueToken(
      deps,
      deps.db,
      req.principal!.orgId,
      "scim",
      { name: body.name ?? null },
      actorOf(req.principal, req.id),
    );
    // The token itself is shown this once; only its digest is kept.
    res.status(201).json({ ...presentToken(issued.record), token: issued.token });
  });

  router.delete("/scim-tokens/:tokenId", requirePermission("manage_tokens"), async (req, res) => {
    const tokenId = String(req.params.tokenId);
    if (!isUuid(tokenId)) throw new DomainError("not_found", "token not found");
    await revokeOrgToken(deps, req.principal!.orgId, "scim", tokenId, actorOf(req.principal, req.id));
    res.status(204).end();
  });

  router.get("/admin-tokens", requirePermission("change_roles"), async (req, res) => {
    res.json((await listOrgTokens(deps, req.principal!.orgId, "admin")).map(presentToken));
  });

  router.post("/admin-tokens", requirePermission("change_roles"), async (req, res) => {
    const body = adminTokenBody.parse(req.body);
    const member = await getMember(deps, req.principal!.orgId, body.memberId);
    if (!member.active) throw new DomainError("conflict", "the member is deactivated");
    await loadOrg(deps, deps.db, req.principal!.orgId);
    const issued = await issueToken(
      deps,
      deps.db,
      req.principal!.orgId,
      "admin",
      { memberId: member.id, name: body.name ?? null },
      actorOf(req.principal, req.id),
    );
    res.status(201).json({ ...presentToken(issued.record), token: issued.token });
  });

  router.get("/saml", requirePermission("manage_saml"), async (req, res) => {
    const orgId = req.principal!.orgId;
    const connection = await getSamlConnection(deps, orgId);
    res.json(presentSamlConnection(connection, samlEndpoints(deps.publicUrl, orgId)));
  });

  router.put("/saml", requirePermission("manage_saml"), async (req, res) => {
    const body = samlBody.parse(req.body);
    const orgId = req.principal!.orgId;
    const fields: SamlConnectionFields =
      "metadataXml" in body
        ? (({ metadataXml, ...options }) => {
            const { wantAuthnRequestsSigned, ...idp } = parseIdpMetadata(metadataXml);
            // An IdP that announces it wants signed requests gets them unless the admin says otherwise.
            return {
              ...idp,
              ...options,
              signAuthnRequests: options.signAuthnRequests ?? (wantAuthnRequestsSigned || undefined),
            };
          })(body)
        : { ...body, certificates: body.certificates.map(toPemCertificate) };
    const saved = await putSamlConnection(deps, orgId, fields, actorOf(req.principal, req.id));
    res.json(presentSamlConnection(saved, samlEndpoints(deps.publicUrl, orgId)));
  });

  // The org's SP key pairs: rotation without downtime is create (next) -> the IdP takes the new
  // certificate from our metadata -> activate -> delete the previous key.
  router.get("/saml/sp-keys", requirePermission("manage_saml"), async (req, res) => {
    res.json({ items: (await listOrgSpKeys(deps, req.principal!.orgId)).map(presentSpKey) });
  });

  router.post("/saml/sp-keys", requirePermission("manage_saml"), async (req, res) => {
    const key = await createNextSpKey(deps, req.principal!.orgId, actorOf(req.principal, req.id));
    res.status(201).json(presentSpKey(key));
  });

  router.post("/saml/sp-keys/:keyId/activate", requirePermission("manage_saml"), async (req, res) => {
    const keyId = String(req.params.keyId);
    if (!isUuid(keyId)) throw new DomainError("not_found", "SP key not found");
    const key = await activateSpKey(deps, req.principal!.orgId, keyId, actorOf(req.principal, req.id));
    res.json(presentSpKey(key));
  });

  router.delete("/saml/sp-keys/:keyId", requirePermission("manage_saml"), async (req, res) => {
    const keyId = String(req.params.keyId);
    if (!isUuid(keyId)) throw new DomainError("not_found", "SP key not found");
    await removeSpKey(deps, req.principal!.orgId, keyId, actorOf(req.principal, req.id));
    res.status(204).end();
  });

  router.delete("/admin-tokens/:tokenId", requirePermission("change_roles"), async (req, res) => {
    const tokenId = String(req.params.tokenId);
    if (!isUuid(tokenId)) throw new DomainError("not_found", "token not found");
    await revokeOrgToken(deps, req.principal!.orgId, "admin", tokenId, actorOf(req.principal, req.id));
    res.status(204).end();
  });

  return router;
}
