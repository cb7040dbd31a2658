// Admin API for invitations (admin+): invite, list, resend (a new link, the old one dead), revoke.
import type { Router } from "express";
import { DomainError } from "../domain/errors.js";
import type { Invitation } from "../repositories/invitations-repository.js";
import { isUuid } from "../repositories/members-repository.js";
import type { ServiceDeps } from "../services/context.js";
import {
  createInvitation,
  getInvitation,
  invitationInput,
  listInvitationsQuery,
  listOrgInvitations,
  resendInvitation,
  revokeInvitation,
} from "../services/invitations-service.js";
import { requirePermission } from "./admin-auth.js";
import { decodeCursor, encodeCursor } from "./presenters.js";

export function presentInvitation(i: Invitation, claimUrl?: string) {
  return {
    id: i.id,
    status: i.status,
    memberId: i.memberId,
    email: i.email,
    externalId: i.externalId,
    seatType: i.seatType,
    role: i.role,
    metadata: i.metadata,
    expiresAt: i.expiresAt,
    createdAt: i.createdAt,
    claimedAt: i.claimedAt,
    endedAt: i.endedAt,
    invitedBy: i.invitedBy,
    // Shown once, when a link is issued; only its digest is kept.
    ...(claimUrl ? { claimUrl } : {}),
  };
}

function invitationId(raw: unknown): string {
  const id = String(raw);
  if (!isUuid(id)) throw new DomainError("not_found", "invitation not found");
  return id;
}

export function addInvitationRoutes(router: Router, deps: ServiceDeps): void {
  router.post("/invitations", requirePermission("manage_invitations"), async (req, res) => {
    const body = invitationInput.parse(req.body);
    const p = req.principal!;
    const issued = await createInvitation(deps, p.orgId, body, {
      actor: p.actor,
      requestId: req.id,
      role: p.role,
      memberId: p.memberId,
    });
    res.status(201).json(presentInvitation(issued.invitation, issued.claimUrl));
  });

  router.get("/invitations", requirePermission("manage_invitations"), async (req, res) => {
    const q = listInvitationsQuery.parse(req.query);
    let after: { createdAt: Date; id: string } | null = null;
    if (q.cursor) {
      const [at, id] = (decodeCursor(q.cursor) ?? "").split("|");
      if (!at || !id || !isUuid(id) || Number.isNaN(Date.parse(at)))
        throw new DomainError("invalid_request", "cursor is not valid");
      after = { createdAt: new Date(at), id };
    }
    const page = await listOrgInvitations(deps, req.principal!.orgId, { status: q.status }, after, q.limit);
    res.json({
      items: page.items.map((i) => presentInvitation(i)),
      nextCursor: page.next ? encodeCursor(`${page.next.createdAt.toISOString()}|${page.next.id}`) : null,
    });
  });

  router.get("/invitations/:invitationId", requirePermission("manage_invitations"), async (req, res) => {
    res.json(presentInvitation(await getInvitation(deps, req.principal!.orgId, invitationId(req.params.invitationId))));
  });

  router.post("/invitations/:invitationId/resend", requirePermission("manage_invitations"), async (req, res) => {
    const p = req.principal!;
    const issued = await resendInvitation(deps, p.orgId, invitationId(req.params.invitationId), {
      actor: p.actor,
      requestId: req.id,
    });
    res.json(presentInvitation(issued.invitation, issued.claimUrl));
  });

  router.delete("/invitations/:invitationId", requirePermission("manage_invitations"), async (req, res) => {
    const p = req.principal!;
    const revoked = await revokeInvitation(deps, p.orgId, invitationId(req.params.invitationId), {
      actor: p.actor,
      requestId: req.id,
    });
    res.json(presentInvitation(revoked));
  });
}
