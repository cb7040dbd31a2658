// SQL for organizations and server-wide settings.
import type { Db } from "../db/database.js";
import type { Pricing } from "../domain/pricing.js";
import type { ExhaustedPolicy } from "../domain/seat-plan.js";

export interface OrgSettings {
  mappedTypeExhausted: ExhaustedPolicy;
  /** How long a seat an admin frees by hand is held for admins (DOMAIN §3.4); 0 turns holds off. */
  manualHoldMinutes: number;
}

export interface Org {
  id: string;
  name: string;
  plan: string;
  settings: OrgSettings;
  termStart: Date;
  termEnd: Date;
  /** Negotiated prices per seat type; null: the plan's price book. Checked by the service before saving. */
  pricing: Pricing | null;
  createdAt: Date;
}

export const DEFAULT_SETTINGS: OrgSettings = { mappedTypeExhausted: "unassigned", manualHoldMinutes: 15 };

function fromRow(r: Record<string, unknown>): Org {
  return {
    id: r.id as string,
    name: r.name as string,
    plan: r.plan as string,
    settings: { ...DEFAULT_SETTINGS, ...(r.settings as Partial<OrgSettings>) },
    termStart: r.term_start as Date,
    termEnd: r.term_end as Date,
    pricing: (r.pricing as Pricing | null) ?? null,
    createdAt: r.created_at as Date,
  };
}

export async function insertOrg(
  db: Db,
  org: Omit<Org, "createdAt" | "pricing"> & { pricing?: Pricing | null },
): Promise<Org> {
  const [row] = await db("organizations")
    .insert({
      id: org.id,
      name: org.name,
      plan: org.plan,
      settings: JSON.stringify(org.settings),
      term_start: org.termStart,
      term_end: org.termEnd,
      pricing: org.pricing ? JSON.stringify(org.pricing) : null,
    })
    .returning("*");
  return fromRow(row);
}

/**
 * `forNoKeyUpdate` serialises writers of the org's own columns without blocking the foreign-key checks
 * (FOR KEY SHARE) that every insert of a member, audit or outbox row of the org takes on this row.
 */
export async function findOrg(
  db: Db,
  orgId: string,
  options: { forUpdate?: boolean; forNoKeyUpdate?: boolean } = {},
): Promise<Org | null> {
  const query = db("organizations").where({ id: orgId }).first();
  if (options.forUpdate) query.forUpdate();
  else if (options.forNoKeyUpdate) query.forNoKeyUpdate();
  const row = await query;
  return row ? fromRow(row) : null;
}

export async function updateOrgSettings(db: Db, orgId: string, settings: OrgSettings): Promise<void> {
  await db("organizations")
    .where({ id: orgId })
    .update({ settings: JSON.stringify(settings) });
}

export async function updateOrgTerm(db: Db, orgId: string, term: { start: Date; end: Date }): Promise<void> {
  await db("organizations").where({ id: orgId }).update({ term_start: term.start, term_end: term.end });
}

export async function countOrgs(db: Db): Promise<number> {
  const row = await db("organizations").count<{ count: number }[]>({ count: "*" }).first();
  return Number(row?.count ?? 0);
}

export async function getServerSetting(db: Db, key: string): Promise<string | null> {
  const row = await db("server_settings").where({ key }).first();
  return row ? (row.value as string) : null;
}

/** Insert-if-absent, then read: every process ends up with the same value. */
export async function ensureServerSetting(db: Db, key: string, make: () => string): Promise<string> {
  await db("server_settings").insert({ key, value: make() }).onConflict("key").ignore();
  return (await getServerSetting(db, key)) as string;
}
