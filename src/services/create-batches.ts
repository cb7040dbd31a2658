// Adaptive batching of the one-statement SCIM create. Every create of an org updates the org's pool rows,
// and a row updated by one statement is held until its commit, so creates of one org queue there one
// commit at a time. Instead, each process sends at most one create statement per org at a time; creates
// that arrive meanwhile wait and go together in the next statement (one commit, each pool row updated
// once for the lot). One request alone goes at once, so a quiet server adds no delay; a busy one sends
// bigger batches. A batch that fails as a whole (a taken userName, a type that filled up meanwhile, one
// item's odd text) is retried one create at a time, so one bad item never decides the others' fate.
import type { Knex } from "knex";
import { isDatabaseUnavailable } from "../db/to-domain-error.js";
import {
  insertMembersWithSeats,
  type Member,
  type SeatedMemberItem,
  type TokenChecked,
} from "../repositories/members-repository.js";

const MAX_BATCH = 64;

interface Waiting {
  item: SeatedMemberItem;
  resolve: (result: TokenChecked<Member | null>) => void;
  reject: (error: unknown) => void;
}

interface OrgQueue {
  seatTypes: string[];
  seatReason: string;
  waiting: Waiting[];
  sending: boolean;
}

const queues = new WeakMap<Knex, Map<string, OrgQueue>>();

export function createWithSeatBatched(
  db: Knex,
  orgId: string,
  batch: { seatTypes: string[]; seatReason: string },
  item: SeatedMemberItem,
): Promise<TokenChecked<Member | null>> {
  let byOrg = queues.get(db);
  if (!byOrg) queues.set(db, (byOrg = new Map()));
  let queue = byOrg.get(orgId);
  if (!queue) byOrg.set(orgId, (queue = { ...batch, waiting: [], sending: false }));
  const promise = new Promise<TokenChecked<Member | null>>((resolve, reject) =>
    queue.waiting.push({ item, resolve, reject }),
  );
  if (!queue.sending) void send(db, orgId, byOrg, queue);
  return promise;
}

async function send(db: Knex, orgId: string, byOrg: Map<string, OrgQueue>, queue: OrgQueue): Promise<void> {
  queue.sending = true;
  try {
    while (queue.waiting.length) {
      const batch = queue.waiting.splice(0, MAX_BATCH);
      // sendBatch settles every create itself; this only guards against a bug leaving one hanging.
      await sendBatch(db, orgId, queue, batch).catch((error: unknown) => batch.forEach((w) => w.reject(error)));
    }
  } finally {
    queue.sending = false;
    if (!queue.waiting.length) byOrg.delete(orgId);
  }
}

function one(db: Knex, orgId: string, queue: OrgQueue, w: Waiting): Promise<void> {
  return insertMembersWithSeats(db, orgId, {
    seatTypes: queue.seatTypes,
    seatReason: queue.seatReason,
    items: [w.item],
  }).then(([result]) => w.resolve(result), w.reject);
}

async function sendBatch(db: Knex, orgId: string, queue: OrgQueue, batch: Waiting[]): Promise<void> {
  if (batch.length === 1) return one(db, orgId, queue, batch[0]);
  let results: TokenChecked<Member | null>[];
  try {
    results = await insertMembersWithSeats(db, orgId, {
      seatTypes: queue.seatTypes,
      seatReason: queue.seatReason,
      items: batch.map((w) => w.item),
    });
  } catch (error) {
    // The database is down: every create gets that answer (503) at once. Anything else may be one item's
    // fault (a taken userName, text jsonb refuses): each create then goes on by itself.
    if (isDatabaseUnavailable(error)) {
      for (const w of batch) w.reject(error);
    } else {
      for (const w of batch) await one(db, orgId, queue, w);
    }
    return;
  }
  batch.forEach((w, i) => w.resolve(results[i]));
}
