// The admin console at /admin: server-rendered pages over the same services as the admin API (no SQL and no
// business rules here). Plain forms, POST-redirect-GET, a CSRF token bound to the server-side session and an
// Origin check on every POST; the pages work without JavaScript.
import { randomUUID } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import express, { type NextFunction, type Request, type Response, Router } from "express";
import { z } from "zod";
import { DomainError } from "../domain/errors.js";
import { type Permission, type Role, roleAtLeast, roleNeededFor, ROLES } from "../domain/roles.js";
import { classify, HTTP_STATUS } from "../http/errors.js";
import type { Session, SessionManager } from "../http/session.js";
import type { Member } from "../repositories/members-repository.js";
import type { Org } from "../repositories/orgs-repository.js";
import { parseIdpMetadata, toPemCertificate } from "../saml/idp-metadata.js";
import { listAuditEvents } from "../services/audit-service.js";
import {
  billingOverview,
  idempotencyKey,
  purchaseSeats,
  type Quote,
  quoteSeats,
  reductionInput,
  scheduleReduction,
} from "../services/billing-service.js";
import { loadOrg, type ServiceDeps } from "../services/context.js";
import {
  changeMappings,
  getMappings,
  startSyncJob,
  listGroupChoices,
  mappingsInput,
  previewMappings,
} from "../services/mappings-service.js";
import {
  createInvitation,
  invitationInput,
  listOrgInvitations,
  resendInvitation,
  revokeInvitation,
} from "../services/invitations-service.js";
import { getMember, listOrgMembers, patchMember, swapMembers } from "../services/members-service.js";
import { seatOverview } from "../services/orgs-service.js";
import { transferOwnership } from "../services/ownership-service.js";
import { getSamlConnection, putSamlConnection, samlEndpoints } from "../services/saml-connections-service.js";
import { getSettings, patchSettings, settingsPatchInput } from "../services/settings-service.js";
import { getJob, listOrgJobs } from "../services/jobs-service.js";
import {
  changeEndpoint,
  createEndpoint,
  endpointDeliveries,
  endpointInput,
  getEndpoint,
  listOrgEndpoints,
  redeliver,
  removeEndpoint,
  sendTestEvent,
} from "../services/webhooks-service.js";
import { WEBHOOK_EVENT_TYPES } from "../domain/webhook-events.js";
import { issueToken, listOrgTokens, revokeOrgToken } from "../services/tokens-service.js";
import { sendPage, type Viewer } from "./layout.js";
import { sameOrigin } from "./security.js";
import { AuditPage, type AuditFilterForm } from "./pages/audit.js";
import { BillingPage, type BillingPageProps, ConfirmPurchasePage, money } from "./pages/billing.js";
import { ConnectionsPage } from "./pages/connections.js";
import { type InviteForm, InvitationsPage, STATUS_TABS } from "./pages/invitations.js";
import { BLANK_ROWS, MappingsPage, type RuleRow, rowsOf } from "./pages/mappings.js";
import { type MembersFilter, MembersPage, membersQuery, type Problem } from "./pages/members.js";
import { OverviewPage } from "./pages/overview.js";
import { SettingsPage } from "./pages/settings.js";
import { JobPage, JobsPage } from "./pages/jobs.js";
import { DeleteWebhookPage, DeliveriesPage, type EndpointForm, WebhooksPage } from "./pages/webhooks.js";
import { ErrorPage, NotForYouPage, SignInPage } from "./pages/signin.js";
import type { Labels } from "./words.js";

const ASSETS = path.join(path.dirname(fileURLToPath(import.meta.url)), "assets");
const PAGE_SIZE = 50;

interface Signed {
  session: Session;
  org: Org;
  member: Member;
  viewer: Viewer;
  actor: { actor: string; requestId: string; role: Role; memberId: string };
}

function signedOf(res: Response): Signed {
  return res.locals.signed as Signed;
}

const text = (max: number) => z.string().trim().max(max).optional();
const membersFilterSchema = z.object({
  q: text(200),
  seatType: text(40),
  role: z
    .enum(ROLES)
    .optional()
    .or(z.literal("").transform(() => undefined)),
  status: z
    .enum(["active", "inactive", "waiting"])
    .optional()
    .or(z.literal("").transform(() => undefined)),
  reason: text(80),
  source: text(40),
  cursor: text(200),
});

const DONE: Record<string, string> = {
  seat: "Seat changed.",
  role: "Role changed.",
  swap: "Seats swapped.",
  mappings: "Mappings saved. This job re-evaluates the members whose seat or role they change.",
  token_revoked: "Token revoked. IdPs using it are refused from now on.",
  saml: "SAML settings saved.",
  settings: "Settings saved.",
  ownership: "Ownership transferred. You are now an owner.",
  reduction: "Reduction scheduled for the renewal.",
  invitation_revoked: "Invitation revoked. The link no longer works and the seat went back.",
  reduction_cancelled: "The seat type keeps its seats at the renewal; no reduction is scheduled for it.",
  sync: "Sync started: members whose seat or role the rules change are re-evaluated.",
  webhook_enabled: "Endpoint enabled. Waiting events are sent from the oldest.",
  webhook_disabled: "Endpoint disabled. Events wait for it until it is enabled again.",
  webhook_deleted: "Endpoint deleted.",
  webhook_test: "Test event queued. Reload the deliveries to see it arrive.",
  redelivered: "Event queued again, with the same id.",
};

function done(req: Request): string | undefined {
  const code = typeof req.query.done === "string" ? req.query.done : "";
  return DONE[code];
}

function labelsOf(deps: ServiceDeps, org: Org): { labels: Labels; types: string[] } {
  const catalog = deps.catalogs.get(org.plan);
  return {
    labels: new Map(catalog.seatTypes.map((s) => [s.type, s.label])),
    types: catalog.seatTypes.map((s) => s.type),
  };
}

/** A refusal to show on the page; anything else (an unknown error, the database down) goes on to the error handler. */
function refusalOf(error: unknown) {
  const known = classify(error);
  if (!known || known.code === "unavailable") throw error;
  return known;
}

export function createConsoleRouter(deps: ServiceDeps, sessions: SessionManager): Router {
  const router = Router();

  router.use("/assets", express.static(ASSETS, { index: false, maxAge: "1h", fallthrough: false }));
  router.use(express.urlencoded({ extended: false, limit: "1200kb", parameterLimit: 3000 }));

  // Signed-out: SSO by org id, SP-initiated, back to /admin.
  router.get("/signin", async (req, res) => {
    const org = typeof req.query.org === "string" ? req.query.org.trim().slice(0, 64) : "";
    let configured = false;
    if (/^[0-9a-f-]{36}$/i.test(org)) {
      try {
        configured = (await getSamlConnection(deps, org)) !== null;
      } catch (error) {
        if (!(error instanceof DomainError && error.code === "not_found")) throw error;
      }
    }
    if (configured) {
      res.redirect(303, `/saml/${encodeURIComponent(org)}/login?returnTo=/admin`);
      return;
    }
    sendPage(
      res,
      404,
      <SignInPage
        org={org}
        message="No organization with that id has SSO set up. Check the id, or sign in with the owner’s link."
      />,
    );
  });

  // Everything else needs a live session of an active member.
  router.use(async (req, res, next) => {
    const session = await sessions.current(req, deps.now());
    let member: Member | null = null;
    let org: Org | null = null;
    if (session) {
      try {
        member = await getMember(deps, session.orgId, session.memberId);
        org = await loadOrg(deps, deps.db, session.orgId);
      } catch (error) {
        if (!(error instanceof DomainError && error.code === "not_found")) throw error;
      }
    }
    if (!session || !member || !org || !member.active) {
      if (req.method === "POST" && req.path === "/signout") {
        await sessions.end(req, res, deps.now());
        res.redirect(303, "/admin");
        return;
      }
      sendPage(res, req.path === "/" ? 200 : 401, <SignInPage />);
      return;
    }
    const viewer: Viewer = {
      orgName: org.name,
      name: member.displayName ?? member.email ?? member.userName,
      role: member.role,
      csrf: sessions.csrfToken(session),
    };
    res.locals.signed = {
      session,
      org,
      member,
      viewer,
      actor: { actor: `admin:${member.id}`, requestId: req.id, role: member.role, memberId: member.id },
    } satisfies Signed;
    if (req.method === "POST") {
      const body = (req.body ?? {}) as Record<string, unknown>;
      if (!sameOrigin(req, deps.publicUrl) || !sessions.checkCsrf(session, body._csrf)) {
        req.log.warn({ path: req.path }, "console form refused: CSRF token or origin");
        sendPage(
          res,
          403,
          <ErrorPage
            viewer={viewer}
            title="This form cannot be sent"
            message="The form expired or did not come from this Roster console. Nothing was changed. Reload the page and try again."
          />,
        );
        return;
      }
    }
    next();
  });

  router.post("/signout", async (req, res) => {
    await sessions.end(req, res, deps.now());
    res.redirect(303, "/admin");
  });

  // Members see only /me; some actions need more than admin.
  function need(permission: Permission) {
    return (_req: Request, res: Response, next: NextFunction) => {
      const { viewer } = signedOf(res);
      const needed = roleNeededFor(permission);
      if (roleAtLeast(viewer.role, needed)) return next();
      if (!roleAtLeast(viewer.role, "admin")) return sendPage(res, 403, <NotForYouPage viewer={viewer} />);
      sendPage(
        res,
        403,
        <ErrorPage
          viewer={viewer}
          title="Not allowed"
          message={`This needs the ${needed.replace("_", " ")} role or higher; you are ${viewer.role.replace("_", " ")}.`}
        />,
      );
    };
  }

  router.get("/", need("read_members"), async (_req, res) => {
    const { org, viewer } = signedOf(res);
    sendPage(res, 200, <OverviewPage viewer={viewer} seats={await seatOverview(deps, org.id)} />);
  });

  // ---- Members
  async function renderMembers(
    req: Request,
    res: Response,
    filter: MembersFilter & { cursor?: string },
    extra: { status?: number; done?: string; problem?: Problem } = {},
  ) {
    const { org, viewer } = signedOf(res);
    const { labels, types } = labelsOf(deps, org);
    const after = filter.cursor ? Buffer.from(filter.cursor, "base64url").toString("utf8") : null;
    if (after !== null && !/^[0-9a-f-]{36}$/i.test(after))
      throw new DomainError("invalid_request", "the page link is not valid");
    const { cursor: _cursor, ...rest } = filter;
    const page = await listOrgMembers(
      deps,
      org.id,
      { ...rest, seatType: rest.seatType || undefined },
      after,
      PAGE_SIZE,
    );
    sendPage(
      res,
      extra.status ?? 200,
      <MembersPage
        viewer={viewer}
        labels={labels}
        types={types}
        filter={rest}
        items={page.items}
        next={page.next ? Buffer.from(page.next, "utf8").toString("base64url") : null}
        paged={after !== null}
        done={extra.done}
        problem={extra.problem}
      />,
    );
  }

  router.get("/members", need("read_members"), async (req, res) => {
    const filter = membersFilterSchema.parse(req.query);
    await renderMembers(req, res, filter, { done: done(req) });
  });

  /** Runs a member action; on a refusal the members page shows that member and says why. */
  async function memberAction(
    req: Request,
    res: Response,
    memberId: string,
    doneCode: string,
    act: () => Promise<unknown>,
  ) {
    const target = await getMember(deps, signedOf(res).org.id, memberId);
    try {
      await act();
    } catch (error) {
      const known = refusalOf(error);
      const problem: Problem =
        known.code === "no_seat_available"
          ? {
              kind: "no_seat",
              seatType: String(known.details.seatType ?? ""),
              purchaseRequired: Number(known.details.purchaseRequired ?? 1),
              message: known.message,
            }
          : { kind: "error", message: known.message };
      return renderMembers(req, res, { q: target.userName }, { status: HTTP_STATUS[known.code], problem });
    }
    res.redirect(303, `/admin/members${membersQuery({ q: target.userName }, { done: doneCode })}`);
  }

  router.post("/members/:memberId/seat", need("manage_seats"), async (req, res) => {
    const seatType = z.string().min(1).max(40).parse(req.body.seatType);
    const { org, actor } = signedOf(res);
    const id = String(req.params.memberId);
    await memberAction(req, res, id, "seat", () => patchMember(deps, org.id, id, { seatType }, actor));
  });

  router.post("/members/:memberId/role", need("change_roles"), async (req, res) => {
    const role = z.enum(["owner", "admin", "member"]).parse(req.body.role);
    const { org, actor } = signedOf(res);
    const id = String(req.params.memberId);
    await memberAction(req, res, id, "role", () => patchMember(deps, org.id, id, { role }, actor));
  });

  async function findOne(orgId: string, who: string): Promise<Member | null> {
    const q = who.trim().toLowerCase();
    if (!q) return null;
    const found = await listOrgMembers(deps, orgId, { q }, null, 20);
    return (
      found.items.find((m) => m.userName.toLowerCase() === q || m.email?.toLowerCase() === q || m.id === q) ?? null
    );
  }

  router.post("/members/:memberId/swap", need("manage_seats"), async (req, res) => {
    const other = z.string().trim().min(1).max(256).parse(req.body.with);
    const { org, actor } = signedOf(res);
    const id = String(req.params.memberId);
    await memberAction(req, res, id, "swap", async () => {
      const b = await findOne(org.id, other);
      if (!b) throw new DomainError("not_found", `no member has the email or user name “${other}”`);
      await swapMembers(deps, org.id, id, b.id, actor);
    });
  });

  // ---- Group mappings
  function rulesFromForm(body: Record<string, unknown>): { rows: RuleRow[]; input: unknown[] } {
    const count = Math.min(Number(body.rows) || 0, 500 + BLANK_ROWS);
    const rows: RuleRow[] = [];
    for (let i = 0; i < count; i++) {
      const field = (name: string) =>
        typeof body[`${name}_${i}`] === "string" ? String(body[`${name}_${i}`]).trim() : "";
      const row = {
        group: field("group"),
        seatType: field("seatType"),
        role: field("role"),
        priority: field("priority"),
      };
      if (row.group) rows.push(row);
    }
    const input = rows.map((r, i) => ({
      group: r.group,
      seatType: r.seatType || null,
      role: r.role || null,
      priority: r.priority === "" ? (i + 1) * 10 : Number(r.priority),
    }));
    return { rows, input };
  }

  async function renderMappings(res: Response, status: number, extra: Partial<Parameters<typeof MappingsPage>[0]>) {
    const { org, viewer } = signedOf(res);
    const { labels, types } = labelsOf(deps, org);
    const rows = extra.rows ?? rowsOf(await getMappings(deps, org.id));
    sendPage(
      res,
      status,
      <MappingsPage
        viewer={viewer}
        labels={labels}
        types={types}
        groups={await listGroupChoices(deps, org.id)}
        {...extra}
        rows={rows}
      />,
    );
  }

  router.get("/mappings", need("manage_mappings"), async (req, res) => {
    await renderMappings(res, 200, { done: done(req) });
  });

  async function mappingsAction(req: Request, res: Response, save: boolean) {
    const { org, actor } = signedOf(res);
    const { rows, input } = rulesFromForm(req.body);
    const parsed = mappingsInput.safeParse(input);
    if (!parsed.success) {
      const message = classify(parsed.error)?.message ?? "the rules are not valid";
      return renderMappings(res, 400, { rows, error: message });
    }
    if (parsed.data.some((m) => m.role === "owner") && !roleAtLeast(actor.role, "owner")) {
      return renderMappings(res, 403, { rows, error: "Only an owner can save a mapping that gives the owner role." });
    }
    try {
      if (save) {
        // Applied by a job: a small change finishes before this returns, a large one in the background.
        const result = await changeMappings(deps, org.id, parsed.data, actor);
        res.redirect(303, `/admin/jobs/${result.job.job.id}?done=mappings`);
        return;
      }
      const result = await previewMappings(deps, org.id, parsed.data, actor);
      const changes = await Promise.all(
        result.changes.slice(0, 200).map(async (c) => ({
          member: await getMember(deps, org.id, c.memberId).catch(() => null),
          before: c.before,
          after: c.after,
        })),
      );
      await renderMappings(res, 200, {
        rows,
        preview: { evaluated: result.evaluated, changed: result.changed, changes },
      });
    } catch (error) {
      const known = refusalOf(error);
      await renderMappings(res, HTTP_STATUS[known.code], { rows, error: known.message });
    }
  }

  router.post("/mappings/preview", need("manage_mappings"), (req, res) => mappingsAction(req, res, false));
  router.post("/mappings", need("manage_mappings"), (req, res) => mappingsAction(req, res, true));

  router.post("/mappings/sync", need("manage_mappings"), async (_req, res) => {
    const { org, actor } = signedOf(res);
    const started = await startSyncJob(deps, org.id, actor);
    res.redirect(303, `/admin/jobs/${started.job.id}?done=sync`);
  });

  // ---- Jobs (mapping changes and syncs): a page to reload while a large one runs in the background.
  router.get("/jobs", need("manage_mappings"), async (req, res) => {
    const { org, viewer } = signedOf(res);
    const cursor = text(200).parse(req.query.cursor);
    let before: { createdAt: Date; id: string } | null = null;
    if (cursor) {
      const [at, id] = Buffer.from(cursor, "base64url").toString("utf8").split("|");
      if (!at || !id || !/^[0-9a-f-]{36}$/i.test(id) || Number.isNaN(Date.parse(at)))
        throw new DomainError("invalid_request", "the page link is not valid");
      before = { createdAt: new Date(at), id };
    }
    const jobs = await listOrgJobs(deps, org.id, { limit: PAGE_SIZE + 1, before });
    const items = jobs.slice(0, PAGE_SIZE);
    const last = items.at(-1);
    const next =
      jobs.length > PAGE_SIZE && last
        ? Buffer.from(`${last.createdAt.toISOString()}|${last.id}`, "utf8").toString("base64url")
        : null;
    sendPage(res, 200, <JobsPage viewer={viewer} jobs={items} next={next} paged={before !== null} />);
  });

  router.get("/jobs/:jobId", need("manage_mappings"), async (req, res) => {
    const { org, viewer } = signedOf(res);
    const id = String(req.params.jobId);
    if (!/^[0-9a-f-]{36}$/i.test(id)) throw new DomainError("not_found", "job not found");
    sendPage(res, 200, <JobPage viewer={viewer} job={await getJob(deps, org.id, id)} done={done(req)} />);
  });

  // ---- Billing (owners)
  /** The quote form's numbers, add_<type>=N, for the plan's types (0 when absent). */
  function addFrom(query: Record<string, unknown>, types: string[]): Record<string, number> {
    const add: Record<string, number> = {};
    for (const t of types) {
      const raw = query[`add_${t}`];
      const value = typeof raw === "string" ? raw.trim() : "";
      if (value === "") continue;
      if (!/^-?\d{1,7}$/.test(value))
        throw new DomainError("invalid_request", `“${value.slice(0, 20)}” is not a whole number of seats`);
      add[t] = Number(value);
    }
    return add;
  }

  /** A billing refusal as the console says it (the API's wording names endpoints). */
  function billingMessage(error: DomainError, termEnd: Date): string {
    if (error.code === "reduction_during_term")
      return `Seats cannot be removed during the term. Schedule fewer seats for the renewal on ${termEnd.toISOString().slice(0, 10)} under “Fewer seats from the renewal”.`;
    if (error.code === "outside_term")
      return "The term has ended, so nothing can be bought until it is renewed. Ask the Roster operator to renew it.";
    if (error.code === "idempotency_key_reused")
      return "This confirmation was already used for a different purchase. Get a new quote and confirm again.";
    return error.message.replace(/; buy seats with POST seats\/purchase$/, "; buy seats under “Buy seats”");
  }

  async function renderBilling(
    res: Response,
    status: number,
    extra: Partial<Omit<BillingPageProps, "viewer" | "labels" | "billing" | "seats" | "names">>,
  ) {
    const { org, viewer } = signedOf(res);
    const { labels } = labelsOf(deps, org);
    const [billing, seats] = await Promise.all([billingOverview(deps, org.id), seatOverview(deps, org.id)]);
    // Who bought: the member behind "admin:<id>", when they still exist (tokens and the operator stay as ids).
    const names = new Map<string, string>();
    const ids = new Set(billing.charges.map((c) => c.createdBy).filter((a) => a.startsWith("admin:")));
    await Promise.all(
      [...ids].map(async (actor) => {
        const m = await getMember(deps, org.id, actor.slice("admin:".length)).catch(() => null);
        if (m) names.set(actor, m.email ?? m.userName);
      }),
    );
    sendPage(
      res,
      status,
      <BillingPage viewer={viewer} labels={labels} billing={billing} seats={seats} names={names} add={{}} {...extra} />,
    );
  }

  /** The quote for the form's numbers, or the refusal in words and its status. */
  async function tryQuote(
    orgId: string,
    add: Record<string, number>,
  ): Promise<{ quote?: Quote; error?: string; status: number }> {
    if (!Object.values(add).some((n) => n !== 0)) return { status: 200 };
    try {
      return { quote: await quoteSeats(deps, orgId, { add }), status: 200 };
    } catch (error) {
      const known = refusalOf(error);
      const org = await loadOrg(deps, deps.db, orgId);
      return { error: billingMessage(known, org.termEnd), status: HTTP_STATUS[known.code] };
    }
  }

  router.get("/billing", need("view_billing"), async (req, res) => {
    const { org } = signedOf(res);
    const { labels, types } = labelsOf(deps, org);
    const query = req.query as Record<string, unknown>;
    let add: Record<string, number>;
    let prefillNote: string | undefined;
    try {
      add = addFrom(query, types);
      // "Buy N seats" links: ?seatType=&quantity= (no seatType: people wait for any type).
      const quantity = typeof query.quantity === "string" ? query.quantity.trim() : "";
      if (Object.keys(add).length === 0 && /^\d{1,7}$/.test(quantity) && Number(quantity) > 0) {
        const wanted = typeof query.seatType === "string" ? query.seatType : "";
        if (types.includes(wanted)) {
          add = { [wanted]: Number(quantity) };
        } else {
          // Waiting for any type takes any seat: start with the lowest type; the owner can change it.
          const lowest = types[types.length - 1];
          add = { [lowest]: Number(quantity) };
          prefillNote = `${quantity} ${Number(quantity) === 1 ? "person waits" : "people wait"} for a seat of any type, so this quote starts with ${Number(quantity)} ${labels.get(lowest) ?? lowest} seats. Change the numbers as you like.`;
        }
      }
    } catch (error) {
      const known = classify(error);
      if (!known) throw error;
      return renderBilling(res, 400, { quoteError: known.message });
    }
    const tried = await tryQuote(org.id, add);
    let doneMessage: string | undefined;
    if (query.done === "purchased" || query.done === "replayed") {
      const chargeId = typeof query.charge === "string" ? query.charge : "";
      const charge = (await billingOverview(deps, org.id)).charges.find((c) => c.id === chargeId);
      const promoted = Number(typeof query.promoted === "string" ? query.promoted : 0) || 0;
      if (charge) {
        doneMessage =
          query.done === "replayed"
            ? `This purchase was already made (the form was sent more than once); it was charged once, ${money(charge.total, charge.currency)}.`
            : `Seats bought: ${money(charge.total, charge.currency)} charged. ${promoted === 0 ? "Nobody was waiting for them." : `${promoted} waiting ${promoted === 1 ? "member got a seat" : "members got seats"}.`}`;
      }
    } else doneMessage = done(req);
    await renderBilling(res, tried.status, {
      add,
      quote: tried.quote,
      quoteError: tried.error,
      prefillNote,
      done: doneMessage,
    });
  });

  router.get("/billing/confirm", need("purchase_seats"), async (req, res) => {
    const { org, viewer } = signedOf(res);
    const { labels, types } = labelsOf(deps, org);
    const add = addFrom(req.query as Record<string, unknown>, types);
    const tried = await tryQuote(org.id, add);
    if (!tried.quote)
      return renderBilling(res, tried.error ? tried.status : 400, {
        add,
        quoteError: tried.error ?? "Give a number of seats to add first.",
      });
    // One key per confirmation page: a second submit of this form is a retry, charged once.
    sendPage(
      res,
      200,
      <ConfirmPurchasePage
        viewer={viewer}
        labels={labels}
        quote={tried.quote}
        add={add}
        idempotencyKey={`console-${randomUUID()}`}
      />,
    );
  });

  router.post("/billing/purchase", need("purchase_seats"), async (req, res) => {
    const { org, actor } = signedOf(res);
    const { types } = labelsOf(deps, org);
    let purchase;
    try {
      const add = Object.fromEntries(Object.entries(addFrom(req.body, types)).filter(([, n]) => n !== 0));
      const key = idempotencyKey.parse(req.body.idempotencyKey);
      purchase = await purchaseSeats(deps, org.id, { add }, key, actor);
    } catch (error) {
      const known = refusalOf(error);
      return renderBilling(res, HTTP_STATUS[known.code], {
        error: billingMessage(known, (await loadOrg(deps, deps.db, org.id)).termEnd),
      });
    }
    const params = new URLSearchParams({
      done: purchase.replayed ? "replayed" : "purchased",
      charge: purchase.charge.id,
      promoted: String(purchase.promoted),
    });
    res.redirect(303, `/admin/billing?${params.toString()}`);
  });

  router.post("/billing/reductions", need("purchase_seats"), async (req, res) => {
    const { org, actor } = signedOf(res);
    let result;
    try {
      const to = String(req.body.to ?? "").trim();
      if (!/^\d{1,7}$/.test(to)) throw new DomainError("invalid_request", "give the number of seats as a whole number");
      const input = reductionInput.parse({ seatType: req.body.seatType, to: Number(to) });
      result = await scheduleReduction(deps, org.id, input, actor);
    } catch (error) {
      const known = refusalOf(error);
      return renderBilling(res, HTTP_STATUS[known.code], {
        reductionError: billingMessage(known, (await loadOrg(deps, deps.db, org.id)).termEnd),
      });
    }
    res.redirect(303, `/admin/billing?done=${result.scheduled ? "reduction" : "reduction_cancelled"}#reductions`);
  });

  // ---- Invitations (admins)
  const STATUS_VALUES = STATUS_TABS.map(([s]) => s);
  type StatusTab = (typeof STATUS_VALUES)[number];

  async function renderInvitations(
    res: Response,
    httpStatus: number,
    view: { status: StatusTab; cursor?: string },
    extra: Partial<Parameters<typeof InvitationsPage>[0]> = {},
  ) {
    const { org, viewer } = signedOf(res);
    const { labels, types } = labelsOf(deps, org);
    let after: { createdAt: Date; id: string } | null = null;
    if (view.cursor) {
      const [at, id] = Buffer.from(view.cursor, "base64url").toString("utf8").split("|");
      if (!at || !id || !/^[0-9a-f-]{36}$/i.test(id) || Number.isNaN(Date.parse(at)))
        throw new DomainError("invalid_request", "the page link is not valid");
      after = { createdAt: new Date(at), id };
    }
    const page = await listOrgInvitations(
      deps,
      org.id,
      { status: view.status === "all" ? undefined : view.status },
      after,
      PAGE_SIZE,
    );
    sendPage(
      res,
      httpStatus,
      <InvitationsPage
        viewer={viewer}
        labels={labels}
        types={types}
        status={view.status}
        items={page.items}
        next={
          page.next
            ? Buffer.from(`${page.next.createdAt.toISOString()}|${page.next.id}`, "utf8").toString("base64url")
            : null
        }
        paged={after !== null}
        {...extra}
      />,
    );
  }

  router.get("/invitations", need("manage_invitations"), async (req, res) => {
    const q = z
      .object({ status: z.enum(STATUS_VALUES as [StatusTab, ...StatusTab[]]).default("pending"), cursor: text(200) })
      .parse(req.query);
    await renderInvitations(res, 200, q, { done: done(req) });
  });

  router.post("/invitations", need("manage_invitations"), async (req, res) => {
    const { org, actor } = signedOf(res);
    const field = (name: string) => (typeof req.body[name] === "string" ? String(req.body[name]).trim() : "");
    const form: InviteForm = {
      email: field("email"),
      externalId: field("externalId"),
      seatType: field("seatType"),
      role: field("role"),
    };
    try {
      const input = invitationInput.parse({
        email: form.email || undefined,
        externalId: form.externalId || undefined,
        seatType: form.seatType,
        role: form.role || undefined,
      });
      const issued = await createInvitation(deps, org.id, input, actor);
      // The link is on this response only (no-store); the list and every later page show the invitation, not the link.
      await renderInvitations(
        res,
        201,
        { status: "pending" },
        { newLink: { who: input.email ?? input.externalId ?? "", url: issued.claimUrl, resent: false } },
      );
    } catch (error) {
      const known = refusalOf(error);
      const problem: Problem =
        known.code === "no_seat_available"
          ? {
              kind: "no_seat",
              seatType: String(known.details.seatType ?? form.seatType),
              purchaseRequired: Number(known.details.purchaseRequired ?? 1),
              message: known.message,
            }
          : {
              kind: "error",
              message: known.message.replace(/^give email or externalId$/, "Give an email or an external id."),
            };
      await renderInvitations(res, HTTP_STATUS[known.code], { status: "pending" }, { problem, form });
    }
  });

  function invitationIdOf(req: Request): string {
    const id = String(req.params.invitationId);
    if (!/^[0-9a-f-]{36}$/i.test(id)) throw new DomainError("not_found", "invitation not found");
    return id;
  }

  router.post("/invitations/:invitationId/resend", need("manage_invitations"), async (req, res) => {
    const { org, actor } = signedOf(res);
    try {
      const issued = await resendInvitation(deps, org.id, invitationIdOf(req), actor);
      const i = issued.invitation;
      await renderInvitations(
        res,
        200,
        { status: "pending" },
        { newLink: { who: i.email ?? i.externalId ?? i.memberId, url: issued.claimUrl, resent: true } },
      );
    } catch (error) {
      const known = refusalOf(error);
      await renderInvitations(
        res,
        HTTP_STATUS[known.code],
        { status: "pending" },
        {
          problem: { kind: "error", message: known.message },
        },
      );
    }
  });

  router.post("/invitations/:invitationId/revoke", need("manage_invitations"), async (req, res) => {
    const { org, actor } = signedOf(res);
    try {
      await revokeInvitation(deps, org.id, invitationIdOf(req), actor);
    } catch (error) {
      const known = refusalOf(error);
      return renderInvitations(
        res,
        HTTP_STATUS[known.code],
        { status: "pending" },
        {
          problem: { kind: "error", message: known.message },
        },
      );
    }
    res.redirect(303, "/admin/invitations?done=invitation_revoked");
  });

  // ---- Connections
  async function renderConnections(
    res: Response,
    status: number,
    extra: { newToken?: { name: string | null; token: string }; done?: string; error?: string },
  ) {
    const { org, viewer } = signedOf(res);
    sendPage(
      res,
      status,
      <ConnectionsPage
        viewer={viewer}
        orgId={org.id}
        scimBaseUrl={`${deps.publicUrl}/scim/v2`}
        tokens={await listOrgTokens(deps, org.id, "scim")}
        saml={await getSamlConnection(deps, org.id)}
        endpoints={samlEndpoints(deps.publicUrl, org.id)}
        profiles={deps.attributeProfiles.ids()}
        {...extra}
      />,
    );
  }

  router.get("/connections", need("manage_tokens"), async (req, res) => {
    await renderConnections(res, 200, { done: done(req) });
  });

  router.post("/connections/scim-tokens", need("manage_tokens"), async (req, res) => {
    const name = z.string().trim().max(100).optional().parse(req.body.name) || null;
    const { org, actor } = signedOf(res);
    const issued = await issueToken(deps, deps.db, org.id, "scim", { name }, actor);
    // Shown on this response only (no-store); a reload or the next page shows its hint, never the token.
    await renderConnections(res, 201, { newToken: { name, token: issued.token } });
  });

  router.post("/connections/scim-tokens/:tokenId/revoke", need("manage_tokens"), async (req, res) => {
    const { org, actor } = signedOf(res);
    const id = String(req.params.tokenId);
    if (!/^[0-9a-f-]{36}$/i.test(id)) throw new DomainError("not_found", "token not found");
    await revokeOrgToken(deps, org.id, "scim", id, actor);
    res.redirect(303, "/admin/connections?done=token_revoked");
  });

  router.post("/connections/saml", need("manage_saml"), async (req, res) => {
    const { org, actor } = signedOf(res);
    const body = req.body as Record<string, string | undefined>;
    const options = {
      attributeProfile: body.attributeProfile || undefined,
      allowIdpInitiated: body.allowIdpInitiated === "yes",
    };
    try {
      const xml = (body.metadataXml ?? "").trim();
      const fields = xml
        ? { ...parseIdpMetadata(xml), ...options }
        : {
            idpEntityId: z
              .string()
              .trim()
              .min(1, "give the IdP entity ID, or paste the metadata")
              .max(1024)
              .parse(body.idpEntityId),
            ssoUrl: z
              .url({ protocol: /^https?$/ })
              .max(2048)
              .parse((body.ssoUrl ?? "").trim()),
            certificates: [
              toPemCertificate(
                z.string().trim().min(1, "give the signing certificate").max(20_000).parse(body.certificate),
              ),
            ],
            ...options,
          };
      await putSamlConnection(deps, org.id, fields, actor);
    } catch (error) {
      const known = refusalOf(error);
      return renderConnections(res, HTTP_STATUS[known.code], { error: known.message });
    }
    res.redirect(303, "/admin/connections?done=saml");
  });

  // ---- Webhooks (admins)
  const EVENT_CHOICES = WEBHOOK_EVENT_TYPES.filter((t) => t !== "webhook.test");

  function endpointIdOf(req: Request): string {
    const id = String(req.params.webhookId);
    if (!/^[0-9a-f-]{36}$/i.test(id)) throw new DomainError("not_found", "webhook endpoint not found");
    return id;
  }

  async function renderWebhooks(res: Response, status: number, extra: Partial<Parameters<typeof WebhooksPage>[0]>) {
    const { org, viewer } = signedOf(res);
    sendPage(
      res,
      status,
      <WebhooksPage
        viewer={viewer}
        endpoints={await listOrgEndpoints(deps, org.id)}
        eventTypes={EVENT_CHOICES}
        {...extra}
      />,
    );
  }

  router.get("/webhooks", need("manage_webhooks"), async (req, res) => {
    await renderWebhooks(res, 200, { done: done(req) });
  });

  router.post("/webhooks", need("manage_webhooks"), async (req, res) => {
    const { org, actor } = signedOf(res);
    const raw: unknown = req.body.events;
    const form: EndpointForm = {
      url: typeof req.body.url === "string" ? String(req.body.url).trim().slice(0, 2000) : "",
      events: (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).map(String).slice(0, 50),
    };
    try {
      const input = endpointInput.parse({ url: form.url, events: form.events });
      const created = await createEndpoint(deps, org.id, input, actor);
      // The secret is on this response only (no-store); the list and every later page never show it.
      await renderWebhooks(res, 201, { newSecret: { url: created.endpoint.url, secret: created.secret } });
    } catch (error) {
      const known = refusalOf(error);
      await renderWebhooks(res, HTTP_STATUS[known.code], { form, error: known.message });
    }
  });

  router.post("/webhooks/:webhookId/enabled", need("manage_webhooks"), async (req, res) => {
    const { org, actor } = signedOf(res);
    const enabled = z.enum(["yes", "no"]).parse(req.body.enabled) === "yes";
    await changeEndpoint(deps, org.id, endpointIdOf(req), { enabled }, actor);
    res.redirect(303, `/admin/webhooks?done=${enabled ? "webhook_enabled" : "webhook_disabled"}`);
  });

  router.get("/webhooks/:webhookId/delete", need("manage_webhooks"), async (req, res) => {
    const { org, viewer } = signedOf(res);
    const endpoint = await getEndpoint(deps, org.id, endpointIdOf(req));
    sendPage(res, 200, <DeleteWebhookPage viewer={viewer} endpoint={endpoint} />);
  });

  router.post("/webhooks/:webhookId/delete", need("manage_webhooks"), async (req, res) => {
    const { org, actor } = signedOf(res);
    await removeEndpoint(deps, org.id, endpointIdOf(req), actor);
    res.redirect(303, "/admin/webhooks?done=webhook_deleted");
  });

  router.post("/webhooks/:webhookId/test", need("manage_webhooks"), async (req, res) => {
    const { org } = signedOf(res);
    const id = endpointIdOf(req);
    await sendTestEvent(deps, org.id, id);
    res.redirect(303, `/admin/webhooks/${id}?done=webhook_test`);
  });

  router.get("/webhooks/:webhookId", need("manage_webhooks"), async (req, res) => {
    const { org, viewer } = signedOf(res);
    const id = endpointIdOf(req);
    const before = text(20).parse(req.query.before) ?? null;
    if (before !== null && !/^\d{1,18}$/.test(before))
      throw new DomainError("invalid_request", "the page link is not valid");
    const endpoint = await getEndpoint(deps, org.id, id);
    const page = await endpointDeliveries(deps, org.id, id, before, 20);
    sendPage(
      res,
      200,
      <DeliveriesPage
        viewer={viewer}
        endpoint={endpoint}
        items={page.items}
        next={page.more ? (page.items.at(-1)?.id ?? null) : null}
        paged={before !== null}
        done={done(req)}
      />,
    );
  });

  router.post("/webhooks/:webhookId/deliveries/:deliveryId/redeliver", need("manage_webhooks"), async (req, res) => {
    const { org, actor } = signedOf(res);
    const id = endpointIdOf(req);
    await redeliver(deps, org.id, id, String(req.params.deliveryId), actor);
    res.redirect(303, `/admin/webhooks/${id}?done=redelivered`);
  });

  // ---- Audit log
  router.get("/audit", need("read_audit"), async (req, res) => {
    const { org, viewer } = signedOf(res);
    const form = z
      .object({
        member: text(256),
        action: text(100),
        actor: text(200),
        from: text(10),
        to: text(10),
        cursor: text(20),
      })
      .parse(req.query);
    const filter: AuditFilterForm = {
      member: form.member,
      action: form.action,
      actor: form.actor,
      from: form.from,
      to: form.to,
    };
    const day = (s: string | undefined, plus = 0) => {
      if (!s) return undefined;
      const d = new Date(`${s}T00:00:00Z`);
      if (Number.isNaN(d.getTime())) throw new DomainError("invalid_request", `“${s}” is not a date`);
      return new Date(d.getTime() + plus);
    };
    let error: string | undefined;
    let memberId: string | undefined;
    if (form.member) {
      const m = /^[0-9a-f-]{36}$/i.test(form.member) ? { id: form.member } : await findOne(org.id, form.member);
      if (m) memberId = m.id;
      else error = `No member has the email or user name “${form.member}”.`;
    }
    const before = form.cursor && /^\d+$/.test(form.cursor) ? Number(form.cursor) : null;
    const page = error
      ? { items: [], next: null }
      : await listAuditEvents(
          deps,
          org.id,
          { memberId, action: form.action, actor: form.actor, from: day(form.from), to: day(form.to, 86_400_000) },
          before,
          50,
        );
    // Name the members and admin actors shown, when they still exist.
    const ids = new Set<string>();
    for (const e of page.items) {
      if (e.memberId) ids.add(e.memberId);
      if (e.actor.startsWith("admin:")) ids.add(e.actor.slice("admin:".length));
    }
    const names = new Map<string, string>();
    await Promise.all(
      [...ids].map(async (id) => {
        const m = await getMember(deps, org.id, id).catch(() => null);
        if (!m) return;
        const name = m.email ?? m.userName;
        names.set(id, name);
        names.set(`admin:${id}`, `admin: ${name}`);
      }),
    );
    sendPage(
      res,
      200,
      <AuditPage
        viewer={viewer}
        filter={filter}
        items={page.items}
        names={names}
        next={page.next}
        paged={before !== null}
        error={error}
      />,
    );
  });

  // ---- Settings and ownership
  router.get("/settings", need("manage_settings"), async (req, res) => {
    const { org, viewer } = signedOf(res);
    sendPage(res, 200, <SettingsPage viewer={viewer} settings={await getSettings(deps, org.id)} done={done(req)} />);
  });

  router.post("/settings", need("manage_settings"), async (req, res) => {
    const { org, viewer, actor } = signedOf(res);
    try {
      const patch = settingsPatchInput.parse({
        manualHoldMinutes: req.body.manualHoldMinutes === undefined ? undefined : Number(req.body.manualHoldMinutes),
        mappedTypeExhausted: req.body.mappedTypeExhausted || undefined,
      });
      await patchSettings(deps, org.id, patch, actor);
    } catch (error) {
      const known = refusalOf(error);
      return sendPage(
        res,
        HTTP_STATUS[known.code],
        <SettingsPage viewer={viewer} settings={await getSettings(deps, org.id)} error={known.message} />,
      );
    }
    res.redirect(303, "/admin/settings?done=settings");
  });

  router.post("/settings/ownership", need("transfer_ownership"), async (req, res) => {
    const { org, viewer, actor } = signedOf(res);
    try {
      if (req.body.confirm !== "yes") throw new DomainError("invalid_request", "tick the box to confirm the transfer");
      const who = z.string().trim().min(1).max(256).parse(req.body.member);
      const target = await findOne(org.id, who);
      if (!target) throw new DomainError("not_found", `no member has the email or user name “${who}”`);
      await transferOwnership(deps, org.id, { memberId: target.id }, actor);
    } catch (error) {
      const known = refusalOf(error);
      return sendPage(
        res,
        HTTP_STATUS[known.code],
        <SettingsPage viewer={viewer} settings={await getSettings(deps, org.id)} error={known.message} />,
      );
    }
    res.redirect(303, "/admin/settings?done=ownership");
  });

  // Unknown console paths, and errors as pages (never JSON, never a stack).
  router.use((_req, res) => {
    const signed = res.locals.signed as Signed | undefined;
    sendPage(
      res,
      404,
      <ErrorPage viewer={signed?.viewer} title="Not found" message="There is no such page in the console." />,
    );
  });
  router.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const signed = res.locals.signed as Signed | undefined;
    const known = classify(error);
    if (known) {
      if (known.code === "unavailable") res.setHeader("Retry-After", "5");
      return sendPage(
        res,
        HTTP_STATUS[known.code],
        <ErrorPage viewer={signed?.viewer} title="That did not work" message={known.message} />,
      );
    }
    req.log.error({ err: error }, "console: unhandled error");
    sendPage(
      res,
      500,
      <ErrorPage
        viewer={signed?.viewer}
        title="Something went wrong"
        message="Something went wrong on our side; the request id is in X-Request-Id."
      />,
    );
  });
  return router;
}
