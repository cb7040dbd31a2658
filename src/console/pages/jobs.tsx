// Jobs: a mapping change or a sync re-runs the rules for the members it changes. A small job finishes inside
// the request; a large one runs in the background, so its page shows the state and progress and a Reload link
// (no script polls it). The list shows recent jobs, newest first.
import type { Job } from "../../repositories/jobs-repository.js";
import { formatDate, Layout, Notice, type Viewer } from "../layout.js";

const KIND: Record<Job["kind"], string> = {
  mapping_change: "Mapping change",
  sync: "Sync",
};

const STATE: Record<Job["state"], string> = {
  queued: "Queued",
  running: "Running",
  succeeded: "Finished",
  failed: "Failed",
};

/** The total is counted when the job starts; a job that evaluates more (a later pass) raises it. */
function totalOf(j: Job): number {
  return Math.max(j.progressTotal, j.progressDone);
}

function progressWords(j: Job): string {
  return `${j.progressDone} of ${totalOf(j)}`;
}

export function JobPage(props: { viewer: Viewer; job: Job; done?: string }) {
  const { viewer, job } = props;
  const over = job.state === "succeeded" || job.state === "failed";
  return (
    <Layout title={`${KIND[job.kind]} job`} viewer={viewer} section="mappings">
      <p>
        <a href="/admin/mappings">← Group mappings</a> · <a href="/admin/jobs">All jobs</a>
      </p>
      {props.done && <Notice kind="ok">{props.done}</Notice>}
      {job.state === "failed" && <Notice kind="error">This job failed; see the errors below.</Notice>}
      <section class="panel" aria-labelledby="job">
        <h2 id="job">
          <span data-job-state={job.state}>{STATE[job.state]}</span>
        </h2>
        <p>
          <label>
            Progress: {progressWords(job)} members
            <progress
              max={Math.max(job.progressTotal, 1)}
              value={over ? Math.max(job.progressTotal, 1) : job.progressDone}
            >
              {progressWords(job)}
            </progress>
          </label>
        </p>
        <dl class="kv">
          <dt>Members evaluated</dt>
          <dd data-count="evaluated">{job.counts.evaluated}</dd>
          <dt>Members changed</dt>
          <dd data-count="changed">{job.counts.changed}</dd>
          <dt>Members failed</dt>
          <dd data-count="failed">{job.counts.failed}</dd>
          <dt>Started</dt>
          <dd>{formatDate(job.startedAt ?? job.createdAt)}</dd>
          <dt>Finished</dt>
          <dd>{over ? formatDate(job.finishedAt) : "not yet"}</dd>
          <dt>Job id</dt>
          <dd>
            <code>{job.id}</code>
          </dd>
        </dl>
        {!over && (
          <p>
            <a class="button" href={`/admin/jobs/${job.id}`}>
              Reload
            </a>{" "}
            <span class="muted">The job runs in the background; reload to see its progress.</span>
          </p>
        )}
      </section>
      {job.errors.length > 0 && (
        <section class="panel" aria-labelledby="errors">
          <h2 id="errors">Errors</h2>
          <ul>
            {job.errors.map((e, i) => (
              <li key={i} data-job-error>
                {e.memberId ? (
                  <>
                    <a href={`/admin/members?q=${encodeURIComponent(e.memberId)}`}>
                      <code>{e.memberId}</code>
                    </a>
                    :{" "}
                  </>
                ) : null}
                {e.message}
              </li>
            ))}
          </ul>
        </section>
      )}
    </Layout>
  );
}

export function JobsPage(props: { viewer: Viewer; jobs: Job[]; next: string | null; paged: boolean; done?: string }) {
  const { viewer } = props;
  return (
    <Layout title="Jobs" viewer={viewer} section="mappings">
      <p>
        <a href="/admin/mappings">← Group mappings</a>
      </p>
      {props.done && <Notice kind="ok">{props.done}</Notice>}
      <p class="muted">
        Saving mappings and syncing each start a job that re-runs the rules for the members they change.
      </p>
      <section class="panel" aria-labelledby="recent">
        <h2 id="recent">Recent jobs</h2>
        {props.jobs.length === 0 ? (
          <p>No jobs yet.</p>
        ) : (
          <div class="table-wrap">
            <table class="cards">
              <thead>
                <tr>
                  <th scope="col">Job</th>
                  <th scope="col">State</th>
                  <th scope="col">Progress</th>
                  <th scope="col">Changed</th>
                  <th scope="col">Failed</th>
                  <th scope="col">Started</th>
                </tr>
              </thead>
              <tbody>
                {props.jobs.map((j) => (
                  <tr key={j.id} data-job={j.id}>
                    <td data-label="Job">
                      <a href={`/admin/jobs/${j.id}`}>
                        {KIND[j.kind]}
                        <span class="visually-hidden"> of {formatDate(j.createdAt)}</span>
                      </a>
                    </td>
                    <td data-label="State">{STATE[j.state]}</td>
                    <td data-label="Progress">{progressWords(j)}</td>
                    <td data-label="Changed">{j.counts.changed}</td>
                    <td data-label="Failed">{j.counts.failed}</td>
                    <td data-label="Started">{formatDate(j.startedAt ?? j.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {(props.next || props.paged) && (
          <p class="pager">
            {props.paged && <a href="/admin/jobs">Newest</a>}{" "}
            {props.next && <a href={`/admin/jobs?cursor=${props.next}`}>Older</a>}
          </p>
        )}
      </section>
    </Layout>
  );
}
