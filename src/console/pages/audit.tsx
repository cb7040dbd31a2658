// The audit log: newest first, filtered by member, action, actor and date; each event with before and after.
import type { AuditEvent } from "../../repositories/audit-repository.js";
import { formatDate, Layout, Notice, type Viewer } from "../layout.js";

export interface AuditFilterForm {
  member?: string;
  action?: string;
  actor?: string;
  from?: string;
  to?: string;
}

function query(filter: AuditFilterForm, cursor?: string): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(filter)) if (v) p.set(k, v);
  if (cursor) p.set("cursor", cursor);
  const s = p.toString();
  return s ? `?${s}` : "";
}

function short(value: unknown): string {
  return value === null ? "none" : typeof value === "string" ? value : JSON.stringify(value);
}

/** An event's before or after: an object as "key value" lines, anything else as compact JSON. */
function Json(props: { value: unknown }) {
  const v = props.value;
  if (v === null || v === undefined) return <span class="muted">—</span>;
  if (typeof v === "object" && !Array.isArray(v)) {
    return (
      <ul class="fields">
        {Object.entries(v as Record<string, unknown>).map(([k, x]) => (
          <li key={k}>
            <span class="muted">{k}</span> {short(x)}
          </li>
        ))}
      </ul>
    );
  }
  if (Array.isArray(v)) {
    return (
      <ul class="fields">
        {v.map((x, i) => (
          <li key={i}>{short(x)}</li>
        ))}
      </ul>
    );
  }
  return <span>{short(v)}</span>;
}

export function AuditPage(props: {
  viewer: Viewer;
  filter: AuditFilterForm;
  items: AuditEvent[];
  names: Map<string, string>;
  next: number | null;
  paged: boolean;
  error?: string;
}) {
  const { viewer, filter } = props;
  return (
    <Layout title="Audit log" viewer={viewer} section="audit">
      {props.error && <Notice kind="error">{props.error}</Notice>}
      <form method="get" action="/admin/audit" class="filters panel" role="search" aria-label="Filter the audit log">
        <label>
          Member (email or id)
          <input name="member" value={filter.member ?? ""} maxLength={256} />
        </label>
        <label>
          Action
          <input name="action" value={filter.action ?? ""} maxLength={100} placeholder="seat.changed" />
        </label>
        <label>
          Actor
          <input name="actor" value={filter.actor ?? ""} maxLength={200} placeholder="admin:…, scim:…, jit" />
        </label>
        <label>
          From (UTC)
          <input type="date" name="from" value={filter.from ?? ""} />
        </label>
        <label>
          To (UTC, inclusive)
          <input type="date" name="to" value={filter.to ?? ""} />
        </label>
        <button type="submit">Filter</button>
        <a href="/admin/audit">Clear</a>
      </form>
      {props.items.length === 0 ? (
        <p>No event matches.</p>
      ) : (
        <div class="table-wrap">
          <table class="cards">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Action</th>
                <th scope="col">Actor</th>
                <th scope="col">Member</th>
                <th scope="col">Before</th>
                <th scope="col">After</th>
                <th scope="col">Reason</th>
              </tr>
            </thead>
            <tbody>
              {props.items.map((e) => (
                <tr key={e.id} data-action={e.action}>
                  <td data-label="When">{formatDate(e.at)}</td>
                  <td data-label="Action">
                    <code>{e.action}</code>
                  </td>
                  <td data-label="Actor">
                    <code>{props.names.get(e.actor) ?? e.actor}</code>
                  </td>
                  <td data-label="Member">{e.memberId ? (props.names.get(e.memberId) ?? e.memberId) : "—"}</td>
                  <td data-label="Before">
                    <Json value={e.before} />
                  </td>
                  <td data-label="After">
                    <Json value={e.after} />
                  </td>
                  <td data-label="Reason">{e.reason ?? "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav class="pager" aria-label="Pages">
        {props.paged && <a href={`/admin/audit${query(filter)}`}>Newest</a>}
        {props.next !== null && <a href={`/admin/audit${query(filter, String(props.next))}`}>Older events</a>}
      </nav>
    </Layout>
  );
}
