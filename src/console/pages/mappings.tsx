// Group mappings: edit the rules, preview who would change, then save.
import { roleAtLeast } from "../../domain/roles.js";
import type { GroupMappingRule } from "../../domain/seat-plan.js";
import type { Member } from "../../repositories/members-repository.js";
import type { SeatSnapshot } from "../../services/seat-allocator.js";
import { CsrfField, Layout, Notice, roleName, type Viewer } from "../layout.js";
import { type Labels, seatLabel } from "../words.js";

export interface RuleRow {
  group: string;
  seatType: string;
  role: string;
  priority: string;
}

export interface PreviewChange {
  member: Pick<Member, "id" | "userName" | "displayName"> | null;
  before: SeatSnapshot;
  after: SeatSnapshot;
}

export const BLANK_ROWS = 3;

export function rowsOf(rules: GroupMappingRule[]): RuleRow[] {
  return rules.map((r) => ({
    group: r.group,
    seatType: r.seatType ?? "",
    role: r.role ?? "",
    priority: String(r.priority),
  }));
}

function snapshotWords(labels: Labels, s: SeatSnapshot): string {
  const seat = s.seatType
    ? seatLabel(labels, s.seatType)
    : s.waitingFor
      ? `Unassigned, waiting for ${seatLabel(labels, s.waitingFor)}`
      : "Unassigned";
  return `${seat}, ${roleName(s.role)}`;
}

export function MappingsPage(props: {
  viewer: Viewer;
  labels: Labels;
  types: string[];
  groups: string[];
  rows: RuleRow[];
  preview?: { evaluated: number; changed: number; changes: PreviewChange[] };
  done?: string;
  error?: string;
}) {
  const { viewer, labels, types } = props;
  const rows = [
    ...props.rows,
    ...Array.from({ length: BLANK_ROWS }, () => ({ group: "", seatType: "", role: "", priority: "" })),
  ];
  const roles = roleAtLeast(viewer.role, "owner")
    ? (["owner", "admin", "member"] as const)
    : (["admin", "member"] as const);
  return (
    <Layout title="Group mappings" viewer={viewer} section="mappings">
      {props.done && <Notice kind="ok">{props.done}</Notice>}
      {props.error && <Notice kind="error">{props.error}</Notice>}
      <div class="row">
        <a class="button secondary" href="/admin/jobs">
          Recent jobs
        </a>
        <form method="post" action="/admin/mappings/sync" class="inline">
          <CsrfField token={viewer.csrf} />
          <button type="submit" class="secondary">
            Sync all members now
          </button>
        </form>
      </div>
      <p class="muted">
        The first mapping, by priority (lowest number first), whose group a member is in decides their seat type; the
        highest role among all matching mappings is their role. Members in no mapped group get the highest type
        available. Pick a SCIM group or type the group value your IdP sends in SAML.
      </p>
      {props.preview && (
        <section class="panel" aria-labelledby="preview">
          <h2 id="preview">Preview</h2>
          <p data-preview-summary>
            Saving would change {props.preview.changed} of {props.preview.evaluated} members.
          </p>
          {props.preview.changes.length > 0 && (
            <div class="table-wrap">
              <table class="cards">
                <thead>
                  <tr>
                    <th scope="col">Member</th>
                    <th scope="col">Now</th>
                    <th scope="col">After saving</th>
                  </tr>
                </thead>
                <tbody>
                  {props.preview.changes.map((c, i) => (
                    <tr key={i}>
                      <td data-label="Member">{c.member ? (c.member.displayName ?? c.member.userName) : "—"}</td>
                      <td data-label="Now">{snapshotWords(labels, c.before)}</td>
                      <td data-label="After saving">{snapshotWords(labels, c.after)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
      )}
      <form method="post" action="/admin/mappings/preview" class="panel">
        <CsrfField token={viewer.csrf} />
        <input type="hidden" name="rows" value={String(rows.length)} />
        <datalist id="scim-groups">
          {props.groups.map((g) => (
            <option value={g} key={g} />
          ))}
        </datalist>
        <div class="table-wrap">
          <table class="cards">
            <thead>
              <tr>
                <th scope="col">Group</th>
                <th scope="col">Seat type</th>
                <th scope="col">Role</th>
                <th scope="col">Priority</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r, i) => (
                <tr key={i}>
                  <td data-label="Group">
                    <label>
                      <span class="visually-hidden">Group of rule {i + 1}</span>
                      <input name={`group_${i}`} value={r.group} list="scim-groups" maxLength={256} />
                    </label>
                  </td>
                  <td data-label="Seat type">
                    <label>
                      <span class="visually-hidden">Seat type of rule {i + 1}</span>
                      <select name={`seatType_${i}`}>
                        <option value="">No seat type</option>
                        {types.map((t) => (
                          <option value={t} selected={r.seatType === t} key={t}>
                            {seatLabel(labels, t)}
                          </option>
                        ))}
                      </select>
                    </label>
                  </td>
                  <td data-label="Role">
                    <label>
                      <span class="visually-hidden">Role of rule {i + 1}</span>
                      <select name={`role_${i}`}>
                        <option value="">No role</option>
                        {roles.map((role) => (
                          <option value={role} selected={r.role === role} key={role}>
                            {roleName(role)}
                          </option>
                        ))}
                      </select>
                    </label>
                  </td>
                  <td data-label="Priority">
                    <label>
                      <span class="visually-hidden">Priority of rule {i + 1}</span>
                      <input name={`priority_${i}`} value={r.priority} inputMode="numeric" size={6} maxLength={7} />
                    </label>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <p class="muted">Clear a rule’s group to remove it.</p>
        <p class="row">
          <button type="submit">Preview changes</button>
          {props.preview && (
            <button type="submit" formaction="/admin/mappings" class="secondary">
              Save these rules
            </button>
          )}
        </p>
      </form>
    </Layout>
  );
}
