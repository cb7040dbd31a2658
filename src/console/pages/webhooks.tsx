// Webhooks: the org's endpoints (enabled or why not, failures), adding one (its signing secret shown once),
// enable/disable, a test event, deleting (after a confirmation page), and each endpoint's deliveries with
// their attempts and a redeliver button. Every URL and response excerpt is rendered as text.
import type { AttemptRecord, WebhookDelivery, WebhookEndpoint } from "../../repositories/webhooks-repository.js";
import { CsrfField, formatDate, Layout, Notice, type Viewer } from "../layout.js";

export interface EndpointForm {
  url: string;
  events: string[];
}

function eventsInWords(events: string[]): string {
  return events.length === 0 ? "All events" : events.join(", ");
}

function StatusWords({ e }: { e: WebhookEndpoint }) {
  return e.enabled ? (
    <span data-enabled="yes">Enabled</span>
  ) : (
    <span data-enabled="no">Disabled{e.disabledReason ? <span class="muted">: {e.disabledReason}</span> : null}</span>
  );
}

export function WebhooksPage(props: {
  viewer: Viewer;
  endpoints: WebhookEndpoint[];
  eventTypes: readonly string[];
  newSecret?: { url: string; secret: string };
  form?: EndpointForm;
  done?: string;
  error?: string;
}) {
  const { viewer } = props;
  const form = props.form ?? { url: "", events: [] };
  return (
    <Layout title="Webhooks" viewer={viewer} section="webhooks">
      {props.done && <Notice kind="ok">{props.done}</Notice>}
      {props.error && <Notice kind="error">{props.error}</Notice>}
      {props.newSecret && (
        <div class="notice ok" role="status">
          <p>
            Endpoint added for <code>{props.newSecret.url}</code>. Copy its signing secret now: Roster will not show it
            again. Receivers verify each request with it (Standard Webhooks).
          </p>
          <code class="secret" id="new-secret">
            {props.newSecret.secret}
          </code>
          <p>
            <button type="button" data-copy="new-secret" hidden>
              Copy secret
            </button>
          </p>
        </div>
      )}
      <p class="muted">
        Roster sends every seat change and the other events you pick to your endpoints, signed, in order per endpoint,
        and retries for about a day. An endpoint that keeps failing is disabled; enable it again to resume from the
        oldest waiting event.
      </p>
      <section class="panel" aria-labelledby="endpoints">
        <h2 id="endpoints">Endpoints</h2>
        {props.endpoints.length === 0 ? (
          <p>No endpoints yet.</p>
        ) : (
          <div class="table-wrap">
            <table class="cards">
              <thead>
                <tr>
                  <th scope="col">URL</th>
                  <th scope="col">Events</th>
                  <th scope="col">Status</th>
                  <th scope="col">Failures</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {props.endpoints.map((e) => (
                  <tr key={e.id} data-endpoint={e.url}>
                    <td data-label="URL" class="mono">
                      {e.url}
                    </td>
                    <td data-label="Events">{eventsInWords(e.events)}</td>
                    <td data-label="Status">
                      <StatusWords e={e} />
                    </td>
                    <td data-label="Failures" data-failures>
                      {e.failures}
                      {e.failingSince ? <span class="muted"> since {formatDate(e.failingSince)}</span> : null}
                    </td>
                    <td data-label="Actions">
                      <div class="toolbar">
                        <a class="button secondary" href={`/admin/webhooks/${e.id}`}>
                          Deliveries<span class="visually-hidden"> to {e.url}</span>
                        </a>
                        <form method="post" action={`/admin/webhooks/${e.id}/test`} class="inline">
                          <CsrfField token={viewer.csrf} />
                          <button type="submit" class="secondary">
                            Send test event<span class="visually-hidden"> to {e.url}</span>
                          </button>
                        </form>
                        <form method="post" action={`/admin/webhooks/${e.id}/enabled`} class="inline">
                          <CsrfField token={viewer.csrf} />
                          <input type="hidden" name="enabled" value={e.enabled ? "no" : "yes"} />
                          <button type="submit" class="secondary">
                            {e.enabled ? "Disable" : "Enable"}
                            <span class="visually-hidden"> {e.url}</span>
                          </button>
                        </form>
                        <a class="button secondary" href={`/admin/webhooks/${e.id}/delete`}>
                          Delete…<span class="visually-hidden"> {e.url}</span>
                        </a>
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section class="panel" aria-labelledby="add-endpoint">
        <h2 id="add-endpoint">Add an endpoint</h2>
        <form method="post" action="/admin/webhooks">
          <CsrfField token={viewer.csrf} />
          <label>
            Endpoint URL
            <input
              name="url"
              type="url"
              class="wide"
              required
              maxLength={2000}
              value={form.url}
              placeholder="https://"
            />
          </label>
          <fieldset>
            <legend>Events to send (none ticked: all of them)</legend>
            <ul class="fields columns">
              {props.eventTypes.map((t) => (
                <li key={t}>
                  <label>
                    <input type="checkbox" name="events" value={t} checked={form.events.includes(t)} />
                    <code>{t}</code>
                  </label>
                </li>
              ))}
            </ul>
          </fieldset>
          <p>
            <button type="submit">Add endpoint</button>
          </p>
        </form>
      </section>
    </Layout>
  );
}

export function DeleteWebhookPage(props: { viewer: Viewer; endpoint: WebhookEndpoint }) {
  const { viewer, endpoint } = props;
  return (
    <Layout title="Delete this endpoint?" viewer={viewer} section="webhooks">
      <section class="panel">
        <p>
          Roster stops sending to <code>{endpoint.url}</code> and forgets its deliveries. Events not yet delivered are
          dropped. This cannot be undone.
        </p>
        <form method="post" action={`/admin/webhooks/${endpoint.id}/delete`} class="row">
          <CsrfField token={viewer.csrf} />
          <button type="submit" class="danger">
            Delete endpoint
          </button>
          <a class="button secondary" href="/admin/webhooks">
            Keep it
          </a>
        </form>
      </section>
    </Layout>
  );
}

function attemptWords(a: AttemptRecord): string {
  if (a.statusCode !== null) return `HTTP ${a.statusCode}`;
  return a.error ?? "no answer";
}

export function DeliveriesPage(props: {
  viewer: Viewer;
  endpoint: WebhookEndpoint;
  items: (WebhookDelivery & { attemptRecords: AttemptRecord[] })[];
  next: string | null;
  paged: boolean;
  done?: string;
  error?: string;
}) {
  const { viewer, endpoint } = props;
  return (
    <Layout title="Deliveries" viewer={viewer} section="webhooks">
      <p>
        <a href="/admin/webhooks">← All endpoints</a>
      </p>
      {props.done && <Notice kind="ok">{props.done}</Notice>}
      {props.error && <Notice kind="error">{props.error}</Notice>}
      <section class="panel" aria-labelledby="endpoint">
        <h2 id="endpoint">Endpoint</h2>
        <dl class="kv">
          <dt>URL</dt>
          <dd>
            <code>{endpoint.url}</code>
          </dd>
          <dt>Events</dt>
          <dd>{eventsInWords(endpoint.events)}</dd>
          <dt>Status</dt>
          <dd>
            <StatusWords e={endpoint} />
          </dd>
          <dt>Failures in a row</dt>
          <dd>{endpoint.failures}</dd>
        </dl>
        <div class="row">
          <a class="button secondary" href={`/admin/webhooks/${endpoint.id}`}>
            Reload
          </a>
          <form method="post" action={`/admin/webhooks/${endpoint.id}/test`} class="inline">
            <CsrfField token={viewer.csrf} />
            <input type="hidden" name="back" value="deliveries" />
            <button type="submit" class="secondary">
              Send test event
            </button>
          </form>
        </div>
      </section>
      <section class="panel" aria-labelledby="deliveries">
        <h2 id="deliveries">Deliveries, newest first</h2>
        {props.items.length === 0 ? (
          <p>No deliveries yet.</p>
        ) : (
          <div class="table-wrap">
            <table class="cards">
              <thead>
                <tr>
                  <th scope="col">Event</th>
                  <th scope="col">Status</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">Created</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {props.items.map((d) => (
                  <tr key={d.id} data-delivery={d.eventType} data-status={d.status}>
                    <td data-label="Event">
                      <code>{d.eventType}</code>
                      <br />
                      <span class="muted mono">{d.eventId}</span>
                    </td>
                    <td data-label="Status">
                      {d.status === "delivered" ? `Delivered ${formatDate(d.deliveredAt)}` : "Waiting"}
                    </td>
                    <td data-label="Attempts">
                      {d.attemptRecords.length === 0 ? (
                        "None yet"
                      ) : (
                        <ul class="fields">
                          {d.attemptRecords.map((a, i) => (
                            <li key={i} data-attempt>
                              <strong>{attemptWords(a)}</strong> in {a.durationMs} ms, {formatDate(a.at)}
                              {a.responseExcerpt ? (
                                <>
                                  <span class="visually-hidden">Response:</span>
                                  <pre data-excerpt>{a.responseExcerpt}</pre>
                                </>
                              ) : null}
                            </li>
                          ))}
                        </ul>
                      )}
                    </td>
                    <td data-label="Created">{formatDate(d.createdAt)}</td>
                    <td data-label="Actions">
                      <form
                        method="post"
                        action={`/admin/webhooks/${endpoint.id}/deliveries/${d.id}/redeliver`}
                        class="inline"
                      >
                        <CsrfField token={viewer.csrf} />
                        <button type="submit" class="secondary">
                          Redeliver<span class="visually-hidden"> {d.eventType}</span>
                        </button>
                      </form>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {(props.next || props.paged) && (
          <p class="pager">
            {props.paged && <a href={`/admin/webhooks/${endpoint.id}`}>Newest</a>}{" "}
            {props.next && <a href={`/admin/webhooks/${endpoint.id}?before=${props.next}`}>Older</a>}
          </p>
        )}
      </section>
    </Layout>
  );
}
