// Signed-out pages: how to sign in (SSO for the org, or the primary owner's one-time link), and "not for you".
import { Layout, Notice, type Viewer } from "../layout.js";

export function SignInPage(props: { message?: string; org?: string }) {
  return (
    <Layout title="Sign in to the Roster console">
      {props.message && <Notice kind="error">{props.message}</Notice>}
      <section class="panel" aria-labelledby="sso">
        <h2 id="sso">Sign in with your company’s SSO</h2>
        <p>Enter your organization id (your administrator or the Roster operator has it).</p>
        <form method="get" action="/admin/signin" class="row">
          <label>
            Organization id
            <input name="org" required maxLength={64} value={props.org ?? ""} autocomplete="organization" size={38} />
          </label>
          <button type="submit">Continue with SSO</button>
        </form>
      </section>
      <section class="panel" aria-labelledby="link">
        <h2 id="link">First time: the owner’s sign-in link</h2>
        <p>
          When your organization was created, its primary owner received a one-time sign-in link (<code>/signin/…</code>
          ). Open it once to sign in; ask the Roster operator for a fresh one if it was used or has expired.
        </p>
      </section>
    </Layout>
  );
}

export function NotForYouPage(props: { viewer: Viewer }) {
  return (
    <Layout title="The console is for admins" viewer={props.viewer}>
      <Notice kind="info">
        The Roster console needs the admin role or higher; you are a {props.viewer.role}. Your own seat is on{" "}
        <a href="/me">your page</a>.
      </Notice>
    </Layout>
  );
}

export function ErrorPage(props: { title: string; message: string; viewer?: Viewer; back?: string }) {
  return (
    <Layout title={props.title} viewer={props.viewer}>
      <Notice kind="error">{props.message}</Notice>
      <p>
        <a href={props.back ?? "/admin"}>Back</a>
      </p>
    </Layout>
  );
}
