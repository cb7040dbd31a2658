// Connections: the SCIM base URL and tokens (a new token is shown once), and the SAML setup with the values
// to paste into Okta or Entra ID and a test sign-in that runs a real SP-initiated login.
import type { SamlConnection } from "../../repositories/saml-repository.js";
import type { ApiToken } from "../../repositories/tokens-repository.js";
import type { SamlEndpoints } from "../../services/saml-connections-service.js";
import { CsrfField, formatDate, Layout, Notice, type Viewer } from "../layout.js";

export function ConnectionsPage(props: {
  viewer: Viewer;
  orgId: string;
  scimBaseUrl: string;
  tokens: ApiToken[];
  saml: SamlConnection | null;
  endpoints: SamlEndpoints;
  profiles: string[];
  newToken?: { name: string | null; token: string };
  done?: string;
  error?: string;
}) {
  const { viewer, saml, endpoints } = props;
  const live = props.tokens.filter((t) => !t.revokedAt);
  return (
    <Layout title="Connections" viewer={viewer} section="connections">
      {props.done && <Notice kind="ok">{props.done}</Notice>}
      {props.error && <Notice kind="error">{props.error}</Notice>}
      <section class="panel" aria-labelledby="scim">
        <h2 id="scim">SCIM provisioning</h2>
        <dl class="kv">
          <dt>SCIM base URL</dt>
          <dd>
            <code>{props.scimBaseUrl}</code>
          </dd>
          <dt>Authentication</dt>
          <dd>HTTP header, Bearer token</dd>
        </dl>
        {props.newToken && (
          <div class="notice ok" role="status">
            <p>
              New SCIM token{props.newToken.name ? ` “${props.newToken.name}”` : ""}. Copy it now: Roster keeps only a
              digest and will not show it again.
            </p>
            <code class="secret" id="new-token">
              {props.newToken.token}
            </code>
            <p>
              <button type="button" data-copy="new-token" hidden>
                Copy token
              </button>
            </p>
          </div>
        )}
        <h3>Tokens</h3>
        {props.tokens.length === 0 ? (
          <p>No tokens.</p>
        ) : (
          <div class="table-wrap">
            <table class="cards">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Token</th>
                  <th scope="col">Created</th>
                  <th scope="col">Last used</th>
                  <th scope="col">Status</th>
                </tr>
              </thead>
              <tbody>
                {props.tokens.map((t) => (
                  <tr key={t.id} data-token={t.name ?? ""}>
                    <td data-label="Name">{t.name ?? "—"}</td>
                    <td data-label="Token">
                      <code>{t.hint}</code>
                    </td>
                    <td data-label="Created">{formatDate(t.createdAt)}</td>
                    <td data-label="Last used">{t.lastUsedAt ? formatDate(t.lastUsedAt) : "never"}</td>
                    <td data-label="Status">
                      {t.revokedAt ? (
                        `Revoked ${formatDate(t.revokedAt)}`
                      ) : (
                        <form method="post" action={`/admin/connections/scim-tokens/${t.id}/revoke`} class="inline">
                          <CsrfField token={viewer.csrf} />
                          <button type="submit" class="danger">
                            Revoke<span class="visually-hidden"> token {t.name ?? t.hint}</span>
                          </button>
                        </form>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <p class="muted">
          {live.length} active. Keep two during a rotation: create the new one, switch the IdP, revoke the old.
        </p>
        <form method="post" action="/admin/connections/scim-tokens" class="row">
          <CsrfField token={viewer.csrf} />
          <label>
            New token name
            <input name="name" maxLength={100} placeholder="e.g. okta-2026" />
          </label>
          <button type="submit">Create token</button>
        </form>
      </section>

      <section class="panel" aria-labelledby="saml">
        <h2 id="saml">SAML single sign-on</h2>
        <h3>Paste these into your IdP</h3>
        <dl class="kv">
          <dt>ACS URL (Okta: Single sign-on URL; Entra ID: Reply URL)</dt>
          <dd>
            <code>{endpoints.acsUrl}</code>
          </dd>
          <dt>Entity ID (Okta: Audience URI; Entra ID: Identifier)</dt>
          <dd>
            <code>{endpoints.spEntityId}</code>
          </dd>
          <dt>SP metadata URL</dt>
          <dd>
            <a href={endpoints.metadataUrl}>{endpoints.metadataUrl}</a>
          </dd>
          <dt>Name ID</dt>
          <dd>Email address; send a groups attribute for group mappings.</dd>
        </dl>
        <h3>Your IdP</h3>
        {saml ? (
          <>
            <dl class="kv">
              <dt>IdP entity ID</dt>
              <dd>
                <code>{saml.idpEntityId}</code>
              </dd>
              <dt>IdP sign-in URL</dt>
              <dd>
                <code>{saml.ssoUrl}</code>
              </dd>
              <dt>Signing certificates</dt>
              <dd>{saml.certificates.length}</dd>
              <dt>Attribute profile</dt>
              <dd>{saml.attributeProfile}</dd>
              <dt>IdP-initiated sign-in</dt>
              <dd>{saml.allowIdpInitiated ? "allowed" : "not allowed"}</dd>
            </dl>
            <p>
              <a class="button" href={`/saml/${props.orgId}/login?returnTo=/admin/connections`}>
                Test sign-in
              </a>{" "}
              <span class="muted">runs a real SP-initiated login with your IdP and comes back here.</span>
            </p>
          </>
        ) : (
          <p>Not set up yet.</p>
        )}
        <form method="post" action="/admin/connections/saml">
          <CsrfField token={viewer.csrf} />
          <details open={!saml}>
            <summary>{saml ? "Replace the IdP settings" : "Set up SAML"}</summary>
            <label>
              IdP metadata XML (paste), or leave empty and fill in the fields below
              <textarea name="metadataXml" maxLength={1048576}></textarea>
            </label>
            <div class="grid">
              <label>
                IdP entity ID
                <input name="idpEntityId" maxLength={1024} />
              </label>
              <label>
                IdP sign-in URL
                <input name="ssoUrl" type="url" maxLength={2048} />
              </label>
            </div>
            <label>
              Signing certificate (PEM or base64)
              <textarea name="certificate" maxLength={20000}></textarea>
            </label>
            <div class="row">
              <label>
                Attribute profile
                <select name="attributeProfile">
                  {props.profiles.map((p) => (
                    <option value={p} selected={(saml?.attributeProfile ?? "generic") === p} key={p}>
                      {p}
                    </option>
                  ))}
                </select>
              </label>
              <label>
                <input
                  type="checkbox"
                  name="allowIdpInitiated"
                  value="yes"
                  checked={saml?.allowIdpInitiated ?? false}
                />{" "}
                Allow IdP-initiated sign-in
              </label>
            </div>
            <p>
              <button type="submit">Save SAML settings</button>
            </p>
          </details>
        </form>
      </section>
    </Layout>
  );
}
