// Builders for test data, going through the same services the product uses.
import { randomUUID } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Knex } from "knex";
import { loadAttributeProfiles, loadCatalogs, loadPriceBooks } from "../../src/catalogs.js";
import type { Role } from "../../src/domain/roles.js";
import { addGroupMembers, insertGroup } from "../../src/repositories/groups-repository.js";
import { replaceMappings } from "../../src/repositories/mappings-repository.js";
import { findMember, type Member } from "../../src/repositories/members-repository.js";
import { findOrg, type Org, updateOrgSettings } from "../../src/repositories/orgs-repository.js";
import type { ServiceDeps } from "../../src/services/context.js";
import { createOrg, type CreatedOrg } from "../../src/services/orgs-service.js";
import { provisionMember, type ProvisionInput } from "../../src/services/provisioning-service.js";
import { createSecretBox } from "../../src/services/secret-box.js";

export const MAPPINGS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../mappings");
export const catalogs = loadCatalogs(MAPPINGS_DIR);
export const priceBooks = loadPriceBooks(MAPPINGS_DIR, catalogs);
export const attributeProfiles = loadAttributeProfiles(MAPPINGS_DIR);

export function testDeps(db: Knex, now: () => Date = () => new Date()): ServiceDeps {
  return {
    db,
    catalogs,
    priceBooks,
    attributeProfiles,
    publicUrl: "http://roster.test",
    saml: { clockSkewMs: 30_000, maxResponseBytes: 256 * 1024 },
    now,
    secretBox: createSecretBox(Buffer.alloc(32, 7)),
    // WEBHOOK_ALLOW_PRIVATE=true: test receivers listen on 127.0.0.1.
    webhooks: { allowPrivate: true },
  };
}

export interface TestOrg extends CreatedOrg {
  deps: ServiceDeps;
}

export async function makeOrg(
  deps: ServiceDeps,
  options: {
    plan?: string;
    seats?: Record<string, number>;
    name?: string;
    mappedTypeExhausted?: "unassigned" | "next_available";
    manualHoldMinutes?: number;
  } = {},
): Promise<TestOrg> {
  const plan = options.plan ?? "enterprise_usage";
  // Enterprise plans need 20 seats; tests that want fewer of one type pad another.
  const created = await createOrg(
    deps,
    {
      name: options.name ?? `Org ${randomUUID().slice(0, 8)}`,
      plan,
      seats: options.seats ?? { chat_code: 10, chat: 10 },
      mappedTypeExhausted: options.mappedTypeExhausted,
      settings: options.manualHoldMinutes === undefined ? undefined : { manualHoldMinutes: options.manualHoldMinutes },
    },
    { actor: "operator" },
  );
  return { ...created, deps };
}

/** Shrinks or grows an allocation directly, for tests that need a small pool below the plan minimum. */
export async function setPurchased(db: Knex, orgId: string, seatType: string, purchased: number): Promise<void> {
  await db("seat_allocations").where({ org_id: orgId, seat_type: seatType }).update({ purchased });
}

export async function setExhaustedPolicy(
  db: Knex,
  orgId: string,
  policy: "unassigned" | "next_available",
): Promise<void> {
  const org = (await findOrg(db, orgId)) as Org;
  await updateOrgSettings(db, orgId, { ...org.settings, mappedTypeExhausted: policy });
}

export async function orgOf(db: Knex, orgId: string): Promise<Org> {
  return (await findOrg(db, orgId)) as Org;
}

let counter = 0;
export async function provision(
  deps: ServiceDeps,
  orgId: string,
  input: Partial<ProvisionInput> = {},
): Promise<Member> {
  const userName = input.userName ?? `user${++counter}-${randomUUID().slice(0, 6)}@example.com`;
  return provisionMember(deps, orgId, { source: "scim", email: userName, ...input, userName }, { actor: "scim:test" });
}

export async function makeGroup(
  db: Knex,
  orgId: string,
  displayName: string,
  memberIds: string[] = [],
  externalId?: string,
): Promise<string> {
  const id = randomUUID();
  await insertGroup(db, orgId, { id, displayName, externalId });
  await addGroupMembers(db, orgId, id, memberIds);
  return id;
}

export async function setMappings(
  db: Knex,
  orgId: string,
  mappings: { group: string; seatType?: string | null; role?: Role | null; priority: number }[],
): Promise<void> {
  await replaceMappings(
    db,
    orgId,
    mappings.map((m) => ({ group: m.group, seatType: m.seatType ?? null, role: m.role ?? null, priority: m.priority })),
  );
}

export async function reload(db: Knex, orgId: string, memberId: string): Promise<Member> {
  return (await findMember(db, orgId, memberId)) as Member;
}

/** The capacity invariant and the counters' agreement with the members who hold seats. */
export async function seatLedger(
  db: Knex,
  orgId: string,
): Promise<Record<string, { purchased: number; used: number; holders: number; held: number }>> {
  const allocations = await db("seat_allocations").where({ org_id: orgId });
  const holders: { seat_type: string; n: number }[] = await db("members")
    .where({ org_id: orgId })
    .whereNotNull("seat_type")
    .groupBy("seat_type")
    .select("seat_type", db.raw("count(*)::int as n"));
  const holds: { seat_type: string; n: number }[] = await db("seat_holds")
    .where({ org_id: orgId })
    .groupBy("seat_type")
    .select("seat_type", db.raw("count(*)::int as n"));
  return Object.fromEntries(
    allocations.map((a) => [
      a.seat_type,
      {
        purchased: a.purchased,
        used: a.used,
        holders: Number(holders.find((h) => h.seat_type === a.seat_type)?.n ?? 0),
        held: Number(holds.find((h) => h.seat_type === a.seat_type)?.n ?? 0),
      },
    ]),
  );
}
