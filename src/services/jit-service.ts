// Just-in-time provisioning at SAML sign-in. The first sign-in creates the member through the seat
// allocator (the assertion's groups drive the mappings); later sign-ins refresh groups (and names, for
// members SCIM does not manage) and re-run the rules, which keep an admin's manual choice. A person whom
// SCIM or an invitation already created is found by userName or email: never a second member or seat.
import type { Knex } from "knex";
import { withTransaction } from "../db/transaction.js";
import type { AssertedIdentity } from "../domain/attribute-profile.js";
import { DomainError } from "../domain/errors.js";
import { appendAudit } from "../repositories/audit-repository.js";
import {
  findMember,
  findMemberByEmail,
  findMemberByUserName,
  type Member,
  updateMember,
} from "../repositories/members-repository.js";
import { changeContext, loadOrg, type ServiceDeps } from "./context.js";
import { claimOnSignIn } from "./invitations-service.js";
import { createMember } from "./provisioning-service.js";
import { changeSeat } from "./seat-allocator.js";

const JIT = "jit";

async function findPerson(trx: Knex.Transaction, orgId: string, email: string): Promise<Member | null> {
  return (await findMemberByUserName(trx, orgId, email)) ?? (await findMemberByEmail(trx, orgId, email));
}

async function signIn(
  deps: ServiceDeps,
  orgId: string,
  identity: AssertedIdentity,
  requestId: string | null,
): Promise<Member> {
  return withTransaction(deps.db, async (trx) => {
    const org = await loadOrg(deps, trx, orgId);
    const ctx = changeContext(deps, org, { actor: JIT, requestId });
    const existing = await findPerson(trx, orgId, identity.email);
    if (existing) {
      const member = (await findMember(trx, orgId, existing.id, { forUpdate: true })) as Member;
      if (!member.active) throw new DomainError("forbidden", "this account is deactivated");
      const names = member.scimManaged
        ? {}
        : { givenName: identity.givenName, familyName: identity.familyName, displayName: identity.displayName };
      const groupsChanged =
        JSON.stringify([...member.idpGroups].sort()) !== JSON.stringify([...identity.groups].sort());
      if (groupsChanged) {
        await appendAudit(trx, orgId, {
          actor: JIT,
          action: "member.groups_changed",
          memberId: member.id,
          before: { groups: member.idpGroups },
          after: { groups: identity.groups },
          requestId,
        });
      }
      const updated = await updateMember(trx, orgId, member.id, { ...names, idpGroups: identity.groups });
      // An invited person signing in with SSO has proved who they are: their invitation is claimed.
      await claimOnSignIn(trx, ctx, updated);
      return (await changeSeat(trx, ctx, member.id, { kind: "reconcile" }, deps.now())).member;
    }
    const { email, givenName, familyName, displayName, groups } = identity;
    return createMember(
      trx,
      ctx,
      { userName: email, email, givenName, familyName, displayName, idpGroups: groups, source: "jit" },
      deps.now(),
    );
  });
}

export async function signInWithAssertion(
  deps: ServiceDeps,
  orgId: string,
  identity: AssertedIdentity,
  requestId: string | null = null,
): Promise<Member> {
  try {
    return await signIn(deps, orgId, identity, requestId);
  } catch (error) {
    // Two first sign-ins of one person at once: the loser of the insert race finds the winner's member.
    if ((error as { code?: string }).code === "23505") return signIn(deps, orgId, identity, requestId);
    throw error;
  }
}
