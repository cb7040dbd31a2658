// /me: what a signed-in person sees about their own seat, in the console's look.
import { roleAtLeast } from "../../domain/roles.js";
import type { Member } from "../../repositories/members-repository.js";
import { Layout, Notice, roleName, type Viewer } from "../layout.js";

export function MePage(props: { viewer: Viewer; member: Member; seatLabel: string | null; groups: string[] }) {
  const { viewer, member } = props;
  const admin = roleAtLeast(member.role, "admin");
  return (
    <Layout title={viewer.orgName} viewer={viewer} section="me">
      <p>
        Signed in as <strong>{member.email ?? member.userName}</strong> ({roleName(member.role)}).
      </p>
      <div class="panel seat">
        {member.seatType ? (
          <p>
            Your seat: <strong>{props.seatLabel ?? member.seatType}</strong>.
          </p>
        ) : admin ? (
          <p>
            You have no seat yet. As {roleName(member.role)}, you can give yourself one on the{" "}
            <a href={`/admin/members?q=${encodeURIComponent(member.userName)}`}>Members page</a>.
          </p>
        ) : (
          <p>
            You have no seat yet{member.waitingFor ? ", and you are on the waiting list" : ""}. Ask an admin or owner of{" "}
            {viewer.orgName} to assign you one.
          </p>
        )}
      </div>
      {props.groups.length > 0 && (
        <>
          <h2>Your groups</h2>
          <ul>
            {props.groups.map((g) => (
              <li key={g}>{g}</li>
            ))}
          </ul>
        </>
      )}
      {admin && (
        <Notice kind="info">
          <a href="/admin">Open the admin console</a>
        </Notice>
      )}
    </Layout>
  );
}

export function SignedOutMePage() {
  return (
    <Layout title="You are not signed in">
      <p>
        Sign in through your company’s identity provider, or on the <a href="/admin">sign-in page</a>.
      </p>
    </Layout>
  );
}
