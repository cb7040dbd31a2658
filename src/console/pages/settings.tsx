// Settings: the org's seat rules (admins), and ownership transfer (the primary owner only).
import type { OrgSettings } from "../../repositories/orgs-repository.js";
import { CsrfField, Layout, Notice, type Viewer } from "../layout.js";

export function SettingsPage(props: { viewer: Viewer; settings: OrgSettings; done?: string; error?: string }) {
  const { viewer, settings } = props;
  return (
    <Layout title="Settings" viewer={viewer} section="settings">
      {props.done && <Notice kind="ok">{props.done}</Notice>}
      {props.error && <Notice kind="error">{props.error}</Notice>}
      <form method="post" action="/admin/settings" class="panel">
        <CsrfField token={viewer.csrf} />
        <h2>Seat rules</h2>
        <label>
          Hold a seat an admin frees by hand for (minutes, 0 to 10080)
          <input
            type="number"
            name="manualHoldMinutes"
            min={0}
            max={10080}
            value={String(settings.manualHoldMinutes)}
            required
          />
        </label>
        <p class="muted">
          During the hold only a manual assignment can take the seat, so a swap works while people wait.
        </p>
        <fieldset>
          <legend>When a mapped seat type has no free seat</legend>
          <label>
            <input
              type="radio"
              name="mappedTypeExhausted"
              value="unassigned"
              checked={settings.mappedTypeExhausted === "unassigned"}
            />{" "}
            Leave the member Unassigned, waiting for that type
          </label>
          <label>
            <input
              type="radio"
              name="mappedTypeExhausted"
              value="next_available"
              checked={settings.mappedTypeExhausted === "next_available"}
            />{" "}
            Give the next type that has a free seat
          </label>
        </fieldset>
        <p>
          <button type="submit">Save settings</button>
        </p>
      </form>
      {viewer.role === "primary_owner" && (
        <form method="post" action="/admin/settings/ownership" class="panel">
          <CsrfField token={viewer.csrf} />
          <h2>Transfer ownership</h2>
          <p>The member you choose becomes the primary owner; you become an owner. Only they can hand it back.</p>
          <label>
            New primary owner (email or user name of an active member)
            <input name="member" required maxLength={256} />
          </label>
          <label>
            <input type="checkbox" name="confirm" value="yes" required /> I understand I will no longer be the primary
            owner
          </label>
          <p>
            <button type="submit" class="danger">
              Transfer ownership
            </button>
          </p>
        </form>
      )}
    </Layout>
  );
}
