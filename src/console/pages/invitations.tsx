// Invitations: listed by status, an invite form (the roles offered are those the admin may give), the claim link
// shown once with a Copy button after an invite or a resend, and revoke behind a confirmation.
import { type Role, roleAtLeast } from "../../domain/roles.js";
import type { Invitation, InvitationStatus } from "../../repositories/invitations-repository.js";
import { CsrfField, formatDate, Layout, Notice, roleName, type Viewer } from "../layout.js";
import { type Labels, seatLabel } from "../words.js";
import { ProblemNotice, type Problem } from "./members.js";

export const STATUS_TABS: [InvitationStatus | "all", string][] = [
  ["pending", "Pending"],
  ["claimed", "Claimed"],
  ["revoked", "Revoked"],
  ["expired", "Expired"],
  ["all", "All"],
];

export interface InviteForm {
  email?: string;
  externalId?: string;
  seatType?: string;
  role?: string;
}

/** The roles an actor may give: never primary owner, never above their own. */
export function grantableRoles(role: Role): Role[] {
  return (["member", "admin", "owner"] as const).filter((r) => roleAtLeast(role, r));
}

function Metadata(props: { metadata: Record<string, unknown> }) {
  const entries = Object.entries(props.metadata);
  if (entries.length === 0) return null;
  return (
    <ul class="fields">
      {entries.map(([k, v]) => (
        <li key={k}>
          <span class="muted">{k}</span> {typeof v === "string" ? v : JSON.stringify(v)}
        </li>
      ))}
    </ul>
  );
}

function StatusWords(props: { i: Invitation }) {
  const { i } = props;
  switch (i.status) {
    case "pending":
      return <>Pending, link good until {formatDate(i.expiresAt)}</>;
    case "claimed":
      return <>Claimed {formatDate(i.claimedAt)}</>;
    case "revoked":
      return <>Revoked {formatDate(i.endedAt)}</>;
    default:
      return <>Expired {formatDate(i.endedAt ?? i.expiresAt)}</>;
  }
}

function Actions(props: { i: Invitation; viewer: Viewer; who: string }) {
  const { i, viewer, who } = props;
  if (i.status !== "pending") return <>—</>;
  return (
    <div class="actions">
      <form method="post" action={`/admin/invitations/${i.id}/resend`} class="inline">
        <CsrfField token={viewer.csrf} />
        <button type="submit" class="secondary">
          Resend<span class="visually-hidden"> the invitation of {who}</span>
        </button>
      </form>
      <details>
        <summary>
          Revoke…<span class="visually-hidden"> the invitation of {who}</span>
        </summary>
        <form method="post" action={`/admin/invitations/${i.id}/revoke`}>
          <CsrfField token={viewer.csrf} />
          <p class="muted">The link stops working at once and the seat goes back (to the longest waiter, if any).</p>
          <button type="submit" class="danger">
            Revoke the invitation<span class="visually-hidden"> of {who}</span>
          </button>
        </form>
      </details>
    </div>
  );
}

export function InvitationsPage(props: {
  viewer: Viewer;
  labels: Labels;
  types: string[];
  status: InvitationStatus | "all";
  items: Invitation[];
  next: string | null;
  paged: boolean;
  form?: InviteForm;
  /** A claim link just issued: shown on this response only. */
  newLink?: { who: string; url: string; resent: boolean };
  done?: string;
  problem?: Problem;
}) {
  const { viewer, labels, types, status, items } = props;
  const form = props.form ?? {};
  const tabHref = (s: string) => (s === "pending" ? "/admin/invitations" : `/admin/invitations?status=${s}`);
  return (
    <Layout title="Invitations" viewer={viewer} section="invitations">
      {props.done && <Notice kind="ok">{props.done}</Notice>}
      {props.problem && <ProblemNotice problem={props.problem} viewer={viewer} labels={labels} />}
      {props.newLink && (
        <div class="notice ok" role="status">
          <p>
            {props.newLink.resent ? "New claim link" : "Invitation created"} for <strong>{props.newLink.who}</strong>.
            Copy the link now and send it to them: Roster keeps only a digest and will not show it again.
            {props.newLink.resent ? " The previous link no longer works." : ""} It is good for 24 hours and one claim.
          </p>
          <code class="secret" id="claim-link">
            {props.newLink.url}
          </code>
          <p>
            <button type="button" data-copy="claim-link" hidden>
              Copy link
            </button>
          </p>
        </div>
      )}
      <section class="panel" aria-labelledby="invite">
        <h2 id="invite">Invite someone</h2>
        <p class="muted">
          For people outside SCIM and SSO. Their seat is taken now and given back if the link is revoked or not claimed
          within 24 hours. With an email address, Roster also sends them the link.
        </p>
        <form method="post" action="/admin/invitations" class="row">
          <CsrfField token={viewer.csrf} />
          <label>
            Email
            <input type="email" name="email" maxLength={320} value={form.email ?? ""} autocomplete="off" />
          </label>
          <label>
            or external id
            <input name="externalId" maxLength={256} value={form.externalId ?? ""} autocomplete="off" />
          </label>
          <label>
            Seat type
            <select name="seatType">
              {types.map((t) => (
                <option value={t} selected={form.seatType === t} key={t}>
                  {seatLabel(labels, t)}
                </option>
              ))}
            </select>
          </label>
          <label>
            Role
            <select name="role">
              {grantableRoles(viewer.role).map((r) => (
                <option value={r} selected={(form.role ?? "member") === r} key={r}>
                  {roleName(r)}
                </option>
              ))}
            </select>
          </label>
          <button type="submit">Invite</button>
        </form>
      </section>
      <nav class="tabs" aria-label="Invitation status">
        <ul>
          {STATUS_TABS.map(([s, label]) => (
            <li key={s}>
              <a href={tabHref(s)} aria-current={s === status ? "page" : undefined}>
                {label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      {items.length === 0 ? (
        <p>No {status === "all" ? "" : `${status} `}invitations.</p>
      ) : (
        <div class="table-wrap">
          <table class="cards">
            <caption class="visually-hidden">{status === "all" ? "All" : status} invitations</caption>
            <thead>
              <tr>
                <th scope="col">Invitee</th>
                <th scope="col">Seat</th>
                <th scope="col">Role</th>
                <th scope="col">Status</th>
                <th scope="col">Invited</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {items.map((i) => {
                const who = i.email ?? i.externalId ?? i.memberId;
                return (
                  <tr key={i.id} data-invitation={who} data-status={i.status}>
                    <td data-label="Invitee">
                      <strong class="invitee">{who}</strong>
                      {i.email && i.externalId && <div class="muted mono">{i.externalId}</div>}
                      <Metadata metadata={i.metadata} />
                    </td>
                    <td data-label="Seat">{seatLabel(labels, i.seatType)}</td>
                    <td data-label="Role">{i.role ? roleName(i.role as Role) : "member"}</td>
                    <td data-label="Status">
                      <StatusWords i={i} />
                    </td>
                    <td data-label="Invited">
                      {formatDate(i.createdAt)}
                      {i.sends > 1 ? ` (sent ${i.sends} times)` : ""}
                    </td>
                    <td data-label="Actions">
                      <Actions i={i} viewer={viewer} who={who} />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <nav class="pager" aria-label="Pages">
        {props.paged && <a href={tabHref(status)}>First page</a>}
        {props.next && (
          <a href={`/admin/invitations?${new URLSearchParams({ status, cursor: props.next }).toString()}`}>Next page</a>
        )}
      </nav>
    </Layout>
  );
}
