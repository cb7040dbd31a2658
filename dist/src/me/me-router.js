// The signed-in person: one-time sign-in links, GET /api/v1/me and the /me page.
import { Router } from "express";
import { DomainError } from "../domain/errors.js";
import { findMember, memberGroupNames } from "../repositories/members-repository.js";
import { findOrg } from "../repositories/orgs-repository.js";
import { redeemSignInLink } from "../services/tokens-service.js";
function escapeHtml(s) {
    return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}
const EMAIL = /^[^\s@]+@[^\s@]+$/;
/**
 * A SCIM client may create a user with only an email-shaped userName and no emails (SAML sign-in then
 * finds them by that userName): /api/v1/me answered "email": null for them. Like the /me page, fall back
 * to the userName when it is an email address.
 */
function emailOf(member) {
    return member.email ?? (EMAIL.test(member.userName) ? member.userName : null);
}
export function createMeRouter(deps, sessions) {
    const router = Router();
    const secure = deps.publicUrl.startsWith("https://");
    router.get("/signin/:token", async (req, res) => {
        const record = await redeemSignInLink(deps, String(req.params.token));
        if (!record || !record.memberId) {
            res
                .status(401)
                .type("html")
                .send("<!doctype html><title>Sign-in link not valid</title><p>This sign-in link has expired or was already used. Ask your administrator for a new one.</p>");
            return;
        }
        sessions.issue(res, { orgId: record.orgId, memberId: record.memberId }, secure, deps.now());
        res.redirect(303, "/me");
    });
    router.post("/signout", (_req, res) => {
        sessions.clear(res);
        res.status(204).end();
    });
    async function me(reqSession) {
        if (!reqSession)
            throw new DomainError("unauthorized", "not signed in");
        const member = await findMember(deps.db, reqSession.orgId, reqSession.memberId);
        const org = await findOrg(deps.db, reqSession.orgId);
        if (!member || !org || !member.active)
            throw new DomainError("unauthorized", "not signed in");
        const groups = await memberGroupNames(deps.db, org.id, member.id);
        const catalog = deps.catalogs.get(org.plan);
        const label = catalog.seatTypes.find((s) => s.type === member.seatType)?.label ?? null;
        return { member, org, groups, label };
    }
    router.get("/api/v1/me", async (req, res) => {
        const { member, org, groups } = await me(sessions.read(req, deps.now()));
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
        const session = sessions.read(req, deps.now());
        if (!session) {
            res
                .status(401)
                .type("html")
                .send("<!doctype html><title>Roster</title><p>You are not signed in. Sign in through your company's identity provider.</p>");
            return;
        }
        const { member, org, label } = await me(session);
        const seat = member.seatType
            ? `<p class="seat">Your seat: <strong>${escapeHtml(label ?? member.seatType)}</strong>.</p>`
            : member.role === "member"
                ? `<p class="seat">You have no seat yet${member.waitingFor ? ", and you are on the waiting list" : ""}. Ask an admin or owner of ${escapeHtml(org.name)} to assign you one.</p>`
                : // Buying seats gives no seat: an admin or owner who wants one gives it to themselves.
                    `<p class="seat">You have no seat yet. As ${escapeHtml(member.role.replace("_", " "))}, you can give yourself one: <code>PATCH /api/v1/orgs/${escapeHtml(org.id)}/members/${escapeHtml(member.id)}</code> with <code>{"seatType": "…"}</code>.</p>`;
        res.type("html")
            .send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Roster: ${escapeHtml(org.name)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#222}h1{font-size:1.4rem}.seat{padding:1rem;border-radius:.5rem;background:#f3f4f6}</style></head>
<body><h1>${escapeHtml(org.name)}</h1><p>Signed in as <strong>${escapeHtml(member.email ?? member.userName)}</strong> (${escapeHtml(member.role.replace("_", " "))}).</p>${seat}</body></html>`);
    });
    return router;
}
//# sourceMappingURL=me-router.js.map