// Members: search, filters, keyset paging, why each member holds their seat, and the seat/role actions.
import { type Role, roleAtLeast } from "../../domain/roles.js";
import type { Member } from "../../repositories/members-repository.js";
import { CsrfField, Layout, Notice, roleName, type Viewer } from "../layout.js";
import { type Labels, mappingOf, seatLabel, seatReasonInWords } from "../words.js";

export interface MembersFilter {
  q?: string;
  seatType?: string;
  role?: Role;
  status?: "active" | "inactive" | "waiting";
  reason?: string;
  source?: string;
}

export type Problem =
  { kind: "no_seat"; seatType: string; purchaseRequired: number; message: string } | { kind: "error"; message: string };

const REASONS: [string, string][] = [
  ["", "Any reason"],
  ["mapping", "Group mapping"],
  ["highest_available", "Highest available"],
  ["manual", "Set by an admin"],
  ["promoted", "Promoted"],
  ["waiting", "Waiting"],
];
const SOURCES: [string, string][] = [
  ["", "Any source"],
  ["scim", "SCIM"],
  ["jit", "SSO sign-in (JIT)"],
  ["operator", "Operator"],
];
const STATUSES: [string, string][] = [
  ["", "Any status"],
  ["active", "Active"],
  ["inactive", "Deactivated"],
  ["waiting", "Waiting for a seat"],
];

function Select(props: { name: string; label: string; value?: string; options: [string, string][] }) {
  return (
    <label>
      {props.label}
      <select name={props.name}>
        {props.options.map(([v, l]) => (
          <option value={v} selected={(props.value ?? "") === v} key={v}>
            {l}
          </option>
        ))}
      </select>
    </label>
  );
}

export function membersQuery(filter: MembersFilter, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...filter, ...extra })) if (v) params.set(k, v);
  const s = params.toString();
  return s ? `?${s}` : "";
}

export function ProblemNotice(props: { problem: Problem; viewer: Viewer; labels: Labels }) {
  const p = props.problem;
  if (p.kind === "error") return <Notice kind="error">{p.message}</Notice>;
  const label = seatLabel(props.labels, p.seatType);
  return (
    <Notice kind="error">
      <p>
        No {label} seat is available: all are in use or held.{" "}
        {roleAtLeast(props.viewer.role, "owner") ? (
          <a
            class="button"
            href={`/admin/billing?seatType=${encodeURIComponent(p.seatType)}&quantity=${p.purchaseRequired}`}
          >
            Buy {p.purchaseRequired} {label} {p.purchaseRequired === 1 ? "seat" : "seats"}
          </a>
        ) : (
          <span>
            Ask an owner to buy {p.purchaseRequired} more, or free one first: unassign someone, then assign this member
            (a seat you free by hand is held for admins for a while).
          </span>
        )}
      </p>
    </Notice>
  );
}

function MemberActions(props: { m: Member; viewer: Viewer; labels: Labels; types: string[] }) {
  const { m, viewer, labels, types } = props;
  const mapping = mappingOf(m);
  const name = m.displayName ?? m.userName;
  return (
    <details>
      <summary>
        Change<span class="visually-hidden"> {name}</span>
      </summary>
      <div class="actions">
        {mapping && m.seatSource === "auto" ? (
          <p class="muted">
            This seat comes from the mapping “{mapping}”: change the <a href="/admin/mappings">mapping</a> or the
            member’s groups.
          </p>
        ) : (
          <form method="post" action={`/admin/members/${m.id}/seat`} class="row">
            <CsrfField token={viewer.csrf} />
            <label>
              Seat
              <select name="seatType">
                {types.map((t) => (
                  <option value={t} selected={m.seatType === t} key={t}>
                    {seatLabel(labels, t)}
                  </option>
                ))}
                <option value="unassigned" selected={m.seatType === null}>
                  Unassigned
                </option>
                <option value="auto">Back to automatic</option>
              </select>
            </label>
            <button type="submit">Apply</button>
          </form>
        )}
        {m.seatType !== null && (
          <form method="post" action={`/admin/members/${m.id}/seat`} class="inline">
            <CsrfField token={viewer.csrf} />
            <input type="hidden" name="seatType" value="unassigned" />
            <button type="submit" class="secondary">
              Unassign
            </button>
          </form>
        )}
        <form method="post" action={`/admin/members/${m.id}/swap`} class="row">
          <CsrfField token={viewer.csrf} />
          <label>
            Swap seats with (email or user name)
            <input name="with" required maxLength={256} />
          </label>
          <button type="submit" class="secondary">
            Swap
          </button>
        </form>
        {roleAtLeast(viewer.role, "owner") && m.role !== "primary_owner" && (
          <form method="post" action={`/admin/members/${m.id}/role`} class="row">
            <CsrfField token={viewer.csrf} />
            <label>
              Role
              <select name="role">
                {(["owner", "admin", "member"] as const).map((r) => (
                  <option value={r} selected={m.role === r} key={r}>
                    {roleName(r)}
                  </option>
                ))}
              </select>
            </label>
            <button type="submit" class="secondary">
              Change role
            </button>
          </form>
        )}
      </div>
    </details>
  );
}

export function MembersPage(props: {
  viewer: Viewer;
  labels: Labels;
  types: string[];
  filter: MembersFilter;
  items: Member[];
  next: string | null;
  paged: boolean;
  done?: string;
  problem?: Problem;
}) {
  const { viewer, labels, types, filter, items } = props;
  const typeOptions: [string, string][] = [
    ["", "Any seat"],
    ...types.map((t): [string, string] => [t, seatLabel(labels, t)]),
    ["unassigned", "Unassigned"],
  ];
  const roleOptions: [string, string][] = [
    ["", "Any role"],
    ...(["primary_owner", "owner", "admin", "member"] as const).map((r): [string, string] => [r, roleName(r)]),
  ];
  return (
    <Layout title="Members" viewer={viewer} section="members">
      {props.done && <Notice kind="ok">{props.done}</Notice>}
      {props.problem && <ProblemNotice problem={props.problem} viewer={viewer} labels={labels} />}
      <form method="get" action="/admin/members" class="filters panel" role="search" aria-label="Find members">
        <label>
          Name or email
          <input type="search" name="q" value={filter.q ?? ""} maxLength={200} />
        </label>
        <Select name="seatType" label="Seat type" value={filter.seatType} options={typeOptions} />
        <Select name="role" label="Role" value={filter.role} options={roleOptions} />
        <Select name="status" label="Status" value={filter.status} options={STATUSES} />
        <Select name="reason" label="Seat reason" value={filter.reason} options={REASONS} />
        <Select name="source" label="Source" value={filter.source} options={SOURCES} />
        <button type="submit">Search</button>
        <a href="/admin/members">Clear</a>
      </form>
      {items.length === 0 ? (
        <p>No member matches.</p>
      ) : (
        <div class="table-wrap">
          <table class="cards">
            <caption class="visually-hidden">Members</caption>
            <thead>
              <tr>
                <th scope="col">Member</th>
                <th scope="col">Role</th>
                <th scope="col">Seat</th>
                <th scope="col">Why</th>
                <th scope="col">Source</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {items.map((m) => (
                <tr key={m.id} data-member={m.userName}>
                  <td data-label="Member">
                    <strong>{m.displayName ?? m.userName}</strong>
                    <br />
                    <span class="muted mono">{m.email ?? m.userName}</span>
                  </td>
                  <td data-label="Role">{roleName(m.role)}</td>
                  <td data-label="Seat" data-seat>
                    {m.active ? seatLabel(labels, m.seatType) : "Deactivated"}
                  </td>
                  <td data-label="Why">{seatReasonInWords(labels, m)}</td>
                  <td data-label="Source">{m.source}</td>
                  <td data-label="Actions">
                    {m.active ? <MemberActions m={m} viewer={viewer} labels={labels} types={types} /> : "—"}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav class="pager" aria-label="Pages">
        {props.paged && <a href={`/admin/members${membersQuery(filter)}`}>First page</a>}
        {props.next && <a href={`/admin/members${membersQuery(filter, { cursor: props.next })}`}>Next page</a>}
      </nav>
    </Layout>
  );
}
