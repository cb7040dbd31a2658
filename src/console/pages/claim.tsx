// The public claim page (/claim/{token}) in the console's look, signed out: what the invitation is for and a
// "Claim seat" button (only the POST claims), and the one answer for every link that cannot be claimed.
import { Layout, Notice } from "../layout.js";

export const CLAIM_INVALID_MESSAGE =
  "This claim link is invalid, expired or already used. Ask your administrator for a new one.";

export function ClaimPage(props: { token: string; orgName: string; seatLabel: string; invitee: string }) {
  return (
    <Layout title={`Join ${props.orgName}`} secretUrl>
      <section class="panel" aria-labelledby="invite">
        <h2 id="invite">Your invitation</h2>
        <p>
          You are invited to a <strong>{props.seatLabel}</strong> seat in <strong>{props.orgName}</strong>
          {props.invitee ? (
            <>
              {" "}
              as <strong class="mono">{props.invitee}</strong>
            </>
          ) : null}
          .
        </p>
        <form method="post" action="/claim">
          <input type="hidden" name="token" value={props.token} />
          <button type="submit">Claim seat</button>
        </form>
        <p class="muted">Claiming signs you in and takes you to your page. The link works once.</p>
      </section>
    </Layout>
  );
}

export function ClaimProblemPage(props: { title: string; message: string }) {
  return (
    <Layout title={props.title} secretUrl>
      <Notice kind="error">{props.message}</Notice>
      <p>
        Already a member? <a href="/admin">Sign in</a>.
      </p>
    </Layout>
  );
}
