// The signed-in person: one-time sign-in links, GET /api/v1/me and the /me page.
import { Router } from "express";
import { h } from "preact";
import { sendPage } from "../console/layout.js";
import { MePage, SignedOutMePage } from "../console/pages/me.js";
import { ErrorPage } from "../console/pages/signin.js";
import { DomainError } from "../domain/errors.js";
import type { Session, SessionManager } from "../http/session.js";
import { findMember, memberGroupNames } from "../repositories/members-repository.js";
import { findOrg } from "../repositories/orgs-repository.js";
import type { ServiceDeps } from "../services/context.js";
import { redeemSignInLink } from "../services/tokens-service.js";
import { safeReturnPath } from "../saml/saml-checks.js";

const EMAIL = /^[^\s@]+@[^\s@]+$/;

/**
 * A SCIM client may create a user with only an email-shaped userName and no emails (SAML sign-in then
 * finds them by that userName): /api/v1/me answered "email": null for them. Like the /me page, fall back
 * to the userName when it is an email address.
 */
function emailOf(member: { email: string | null; userName: string }): string | null {
  return member.email ?? (EMAIL.test(member.userName) ? member.userName : null);
}

export function createMeRouter(deps: ServiceDeps, sessions: SessionManager): Router {
  const router = Router();
  const secure = deps.publicUrl.startsWith("https://");

  router.get("/signin/:token", async (req, res) => {
    const record = await redeemSignInLink(deps, String(req.params.token));
    if (!record || !record.memberId) {
      sendPage(
        res,
        401,
        h(ErrorPage, {
          title: "Sign-in link not valid",
          message: "This sign-in link has expired or was already used. Ask your administrator for a new one.",
        }),
      );
      return;
    }
    await sessions.start(res, { orgId: record.orgId, memberId: record.memberId }, secure, deps.now());
    // ?returnTo= a relative path. Without one the link lands on the console: only the primary owner gets
    // sign-in links, and the console is where they start (it sends anyone below admin on to /me).
    res.redirect(303, req.query.returnTo === undefined ? "/admin" : safeReturnPath(req.query.returnTo));
  });

  // Ends the session on the server too: the old cookie is refused afterwards.
  router.post("/signout", async (req, res) => {
    await sessions.end(req, res, deps.now());
    res.status(204).end();
  });

  async function me(reqSession: Session | null) {
    if (!reqSession) throw new DomainError("unauthorized", "not signed in");
    const member = await findMember(deps.db, reqSession.orgId, reqSession.memberId);
    const org = await findOrg(deps.db, reqSession.orgId);
    if (!member || !org || !member.active) throw new DomainError("unauthorized", "not signed in");
    const groups = await memberGroupNames(deps.db, org.id, member.id);
    const catalog = deps.catalogs.get(org.plan);
    const label = catalog.seatTypes.find((s) => s.type === member.seatType)?.label ?? null;
    return { member, org, groups, label, session: reqSession };
  }

  router.get("/api/v1/me", async (req, res) => {
    const { member, org, groups } = await me(await sessions.current(req, deps.now()));
    res.json({
      id: member.id,
      email: emailOf(member),
      userName: member.userName,
      orgId: org.id,
      orgName: org.name,
      role: member.role,
      seatType: member.seatType ?? "unassigned",
      seatStatus: member.seatStatus,
      seatReason: member.seatReason,
      waitingFor: member.waitingFor,
      // A group the IdP sends both over SCIM and in the assertion is one group to the person: listed once.
      groups: [...new Set(groups.map((g) => g.displayName).concat(member.idpGroups))],
    });
  });

  router.get("/me", async (req, res) => {
    const session = await sessions.current(req, deps.now());
    if (!session) {
      sendPage(res, 401, h(SignedOutMePage, {}));
      return;
    }
    const { member, org, label, groups } = await me(session);
    const viewer = {
      orgName: org.name,
      name: member.displayName ?? member.email ?? member.userName,
      role: member.role,
      csrf: sessions.csrfToken(session),
    };
    const names = [...new Set(groups.map((g) => g.displayName).concat(member.idpGroups))];
    sendPage(res, 200, h(MePage, { viewer, member, seatLabel: label, groups: names }));
  });

  return router;
}
