// Roles, high to low, and what each may do (DOMAIN §2).
export const ROLES = ["primary_owner", "owner", "admin", "member"];
const RANK = { primary_owner: 4, owner: 3, admin: 2, member: 1 };
export function roleAtLeast(role, needed) {
    return RANK[role] >= RANK[needed];
}
export function highestRole(roles) {
    return roles.reduce((best, r) => (best === null || RANK[r] > RANK[best] ? r : best), null);
}
const NEEDED = {
    purchase_seats: "owner",
    view_billing: "owner",
    change_roles: "owner",
    manage_seats: "admin",
    manage_mappings: "admin",
    manage_tokens: "admin",
    manage_saml: "admin",
    read_audit: "admin",
    read_members: "admin",
    manage_settings: "admin",
    transfer_ownership: "primary_owner",
};
export function roleNeededFor(permission) {
    return NEEDED[permission];
}
//# sourceMappingURL=roles.js.map