// The background jobs every server process runs. Each is safe to run in many processes at once.
import type { Logger } from "../logger.js";
import type { ServiceDeps } from "../services/context.js";
import { runNextJob } from "../services/jobs-service.js";
import { expireInvitations } from "../services/invitations-service.js";
import { MAIL_JOB } from "../services/mail-messages.js";
import { deliverDue } from "../services/outbox-delivery.js";
import { releaseExpiredHolds } from "../services/seat-holds-service.js";
import { deliverWebhooks, pruneWebhookHistory } from "../services/webhook-delivery.js";
import { WEBHOOK_JOB } from "../services/webhooks-service.js";
import type { Job } from "./job-runner.js";
import { createSmtpTransport, mailConsumer, type MailSettings } from "./mail-deliverer.js";

export function backgroundJobs(deps: ServiceDeps, logger: Logger, options: { mail?: MailSettings | null } = {}): Job[] {
  const jobs: Job[] = [
    // Holds last minutes; checking every 15 s keeps a seat from sitting idle long after its hold ends.
    { name: "seat-holds", intervalMs: 15_000, run: async () => (await releaseExpiredHolds(deps)).more },
    // Invitations last 24 hours; a minute late is fine.
    { name: "invitation-expiry", intervalMs: 60_000, run: async () => (await expireInvitations(deps)).more },
    // Webhooks: every second (one indexed read when idle) picks up events other commits wrote; tests and
    // redeliveries wake it at once. Each endpoint is sent to by one process at a time (a lease).
    { name: WEBHOOK_JOB, intervalMs: 1_000, run: async (signal) => (await deliverWebhooks(deps, {}, signal)).more },
    // Attempt records older than 30 days.
    { name: "webhook-prune", intervalMs: 60 * 60_000, run: async () => (await pruneWebhookHistory(deps)).more },
    // Mapping changes and syncs (issue 11): queued ones, and those whose process died (lease ran out).
    {
      name: "admin-jobs",
      intervalMs: 1_000,
      run: async (signal) =>
        runNextJob(deps, {
          signal,
          onBatchFailed: (err) =>
            logger.warn({ component: "admin-jobs", err }, "a batch failed as a whole; its members go one at a time"),
        }),
    },
  ];
  if (options.mail) {
    const consumer = mailConsumer(deps, createSmtpTransport(options.mail.smtpUrl), options.mail.from);
    // Woken right after a commit that queued mail; the interval picks up retries and other processes' rows.
    jobs.push({
      name: MAIL_JOB,
      intervalMs: 10_000,
      run: async (signal) => (await deliverDue(deps, consumer, signal)).more,
    });
  } else {
    logger.info({ component: "mail" }, "SMTP_URL is not set: emails are not sent; admins copy claim links");
  }
  return jobs;
}
