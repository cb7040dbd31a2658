// DOMAIN §2: roles, high to low, and who may do what.
import { describe, expect, it } from "vitest";
import { highestRole, type Permission, type Role, ROLES, roleAtLeast, roleNeededFor } from "../../src/domain/roles.js";

describe("ROLES", () => {
  it("lists the roles high to low", () => {
    expect(ROLES).toEqual(["primary_owner", "owner", "admin", "member"]);
  });
});

describe("roleAtLeast", () => {
  // Every pair: a role is at least `needed` exactly when it is not lower in ROLES.
  const table: [Role, Role, boolean][] = [
    ["primary_owner", "primary_owner", true],
    ["primary_owner", "owner", true],
    ["primary_owner", "admin", true],
    ["primary_owner", "member", true],
    ["owner", "primary_owner", false],
    ["owner", "owner", true],
    ["owner", "admin", true],
    ["owner", "member", true],
    ["admin", "primary_owner", false],
    ["admin", "owner", false],
    ["admin", "admin", true],
    ["admin", "member", true],
    ["member", "primary_owner", false],
    ["member", "owner", false],
    ["member", "admin", false],
    ["member", "member", true],
  ];
  it.each(table)("%s at least %s -> %s", (role, needed, expected) => {
    expect(roleAtLeast(role, needed)).toBe(expected);
  });

  it("the table covers every pair of roles", () => {
    expect(table).toHaveLength(ROLES.length * ROLES.length);
  });
});

describe("highestRole", () => {
  it.each<[Role[], Role | null]>([
    [[], null],
    [["member"], "member"],
    [["member", "admin"], "admin"],
    [["admin", "member"], "admin"],
    [["member", "owner", "admin"], "owner"],
    [["admin", "primary_owner", "owner"], "primary_owner"],
    [["admin", "admin"], "admin"],
    [["member", "member", "member"], "member"],
  ])("highestRole(%j) = %s", (roles, expected) => {
    expect(highestRole(roles)).toBe(expected);
  });
});

describe("roleNeededFor", () => {
  it.each<[Permission, Role]>([
    ["purchase_seats", "owner"],
    ["view_billing", "owner"],
    ["quote_seats", "admin"],
    ["change_roles", "owner"],
    ["manage_seats", "admin"],
    ["manage_mappings", "admin"],
    ["manage_tokens", "admin"],
    ["manage_saml", "admin"],
    ["read_audit", "admin"],
    ["read_members", "admin"],
  ])("%s needs %s", (permission, role) => {
    expect(roleNeededFor(permission)).toBe(role);
  });

  it.each<[Permission, Role[]]>([
    ["purchase_seats", ["primary_owner", "owner"]],
    ["view_billing", ["primary_owner", "owner"]],
    ["quote_seats", ["primary_owner", "owner", "admin"]],
    ["change_roles", ["primary_owner", "owner"]],
    ["manage_seats", ["primary_owner", "owner", "admin"]],
    ["manage_mappings", ["primary_owner", "owner", "admin"]],
    ["manage_tokens", ["primary_owner", "owner", "admin"]],
    ["manage_saml", ["primary_owner", "owner", "admin"]],
  ])("%s is allowed to exactly %j", (permission, allowed) => {
    expect(ROLES.filter((r) => roleAtLeast(r, roleNeededFor(permission)))).toEqual(allowed);
  });

  it("a member may do none of these", () => {
    const permissions: Permission[] = [
      "purchase_seats",
      "view_billing",
      "quote_seats",
      "manage_seats",
      "manage_mappings",
      "manage_tokens",
      "manage_saml",
      "change_roles",
      "read_audit",
      "read_members",
    ];
    for (const p of permissions) expect(roleAtLeast("member", roleNeededFor(p))).toBe(false);
  });
});
