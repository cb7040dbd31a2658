// What every service needs: the database, the catalogs, where we are reachable, and a clock.
import type { Knex } from "knex";
import type { AttributeProfiles, Catalogs, PriceBooks } from "../catalogs.js";
import { DomainError } from "../domain/errors.js";
import { findOrg, type Org } from "../repositories/orgs-repository.js";
import type { ChangeContext } from "./seat-allocator.js";
import type { SecretBox } from "./secret-box.js";

export interface SamlSettings {
  /** Allowed difference between our clock and the IdP's. */
  clockSkewMs: number;
  maxResponseBytes: number;
}

export interface ServiceDeps {
  db: Knex;
  catalogs: Catalogs;
  /** List prices per plan (mappings/price-books); an org may override them (organizations.pricing). */
  priceBooks: PriceBooks;
  attributeProfiles: AttributeProfiles;
  publicUrl: string;
  saml: SamlSettings;
  now: () => Date;
  /** Encrypts secrets that must be read back (SP keys, webhook secrets). */
  secretBox: SecretBox;
  /** Starts a background job's next pass now (e.g. mail delivery right after a commit); unset in tools. */
  wakeJob?: (name: string) => void;
}

export interface Actor {
  /** Recorded on audit events: admin:<memberId>, scim:<tokenId>, jit, system, operator. */
  actor: string;
  requestId?: string | null;
}

export async function loadOrg(deps: ServiceDeps, db: Knex | Knex.Transaction, orgId: string): Promise<Org> {
  const org = await findOrg(db, orgId);
  if (!org) throw new DomainError("not_found", "organization not found");
  return org;
}

// An org's plan is set when the org is created and never changed (nothing updates organizations.plan), so
// each process may keep it: the common SCIM create needs only the plan and saves a round trip.
const plans = new Map<string, string>();

export async function orgPlan(deps: ServiceDeps, orgId: string): Promise<string> {
  const known = plans.get(orgId);
  if (known) return known;
  const { plan } = await loadOrg(deps, deps.db, orgId);
  if (plans.size >= 10_000) plans.clear();
  plans.set(orgId, plan);
  return plan;
}

export function changeContext(deps: ServiceDeps, org: Org, actor: Actor): ChangeContext {
  return {
    org,
    catalog: deps.catalogs.get(org.plan),
    actor: actor.actor,
    requestId: actor.requestId ?? null,
    now: deps.now,
  };
}
