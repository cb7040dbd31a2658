// Roles, high to low, and what each may do (DOMAIN §2).
export const ROLES = ["primary_owner", "owner", "admin", "member"] as const;
export type Role = (typeof ROLES)[number];

const RANK: Record<Role, number> = { primary_owner: 4, owner: 3, admin: 2, member: 1 };

export function roleAtLeast(role: Role, needed: Role): boolean {
  return RANK[role] >= RANK[needed];
}

export function highestRole(roles: Role[]): Role | null {
  return roles.reduce<Role | null>((best, r) => (best === null || RANK[r] > RANK[best] ? r : best), null);
}

export type Permission =
  | "purchase_seats"
  | "quote_seats"
  | "view_billing"
  | "manage_seats"
  | "manage_mappings"
  | "manage_tokens"
  | "manage_saml"
  | "change_roles"
  | "read_audit"
  | "read_members"
  | "manage_settings"
  | "transfer_ownership"
  | "manage_invitations";

const NEEDED: Record<Permission, Role> = {
  purchase_seats: "owner",
  view_billing: "owner",
  quote_seats: "admin",
  change_roles: "owner",
  manage_seats: "admin",
  manage_mappings: "admin",
  manage_tokens: "admin",
  manage_saml: "admin",
  read_audit: "admin",
  read_members: "admin",
  manage_settings: "admin",
  transfer_ownership: "primary_owner",
  manage_invitations: "admin",
};

export function roleNeededFor(permission: Permission): Role {
  return NEEDED[permission];
}

/**
 * Whether someone with `grantor`'s role may save a rule that hands out `granted` (DOMAIN §2: nobody grants
 * more than they have; nothing ever hands out primary_owner, which only an ownership transfer gives).
 */
export function mayGrant(grantor: Role, granted: Role): boolean {
  return granted !== "primary_owner" && roleAtLeast(grantor, granted);
}
