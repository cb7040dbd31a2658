// Where each SCIM attribute lives, for filters and sortBy: indexed columns for what IdPs search by
// (userName, externalId, emails, displayName, id, active, meta dates), the stored resource (jsonb) for the
// rest of the RFC 7643 schemas. Built from scimmy's schema definitions, so an attribute outside the schemas
// is an unknown attribute (400 invalidFilter), never a silent "no match". This is the one module outside
// repositories/ that names columns: it is the configuration of the filter compiler.
import SCIMMY from "scimmy";
import { ENTERPRISE_SCHEMA, GROUP_SCHEMA, SEAT_SCHEMA, USER_SCHEMA } from "./schemas.js";
const SUB_TYPES = {
    string: "string",
    reference: "string",
    binary: "string",
    boolean: "boolean",
    dateTime: "dateTime",
    decimal: "number",
    integer: "number",
};
function jsonText(base, key) {
    return `(${base}->>'${key.replace(/'/g, "''")}')`;
}
function jsonObject(base, key) {
    return `(${base}->'${key.replace(/'/g, "''")}')`;
}
/** A spec for an attribute kept only in the stored resource (jsonb column `base`). */
function fromDefinition(attribute, base, sub) {
    if (attribute.type === "complex") {
        const subs = attribute.subAttributes ?? [];
        if (attribute.config.multiValued) {
            if (sub && !subs.some((s) => s.name.toLowerCase() === sub.toLowerCase()))
                return null;
            const spec = {
                type: "complex",
                jsonSql: jsonObject(base, attribute.name),
                subAttributes: Object.fromEntries(subs.map((s) => [s.name, { type: SUB_TYPES[s.type] ?? "string", caseExact: s.config.caseExact }])),
                defaultSub: "value",
            };
            return sub
                ? { ...spec, defaultSub: subs.find((s) => s.name.toLowerCase() === sub.toLowerCase())?.name ?? "value" }
                : spec;
        }
        const subAttribute = sub ? subs.find((s) => s.name.toLowerCase() === sub.toLowerCase()) : null;
        if (!subAttribute)
            return null;
        return {
            type: "string",
            sql: jsonText(jsonObject(base, attribute.name), subAttribute.name),
            caseExact: subAttribute.config.caseExact,
        };
    }
    if (sub)
        return null;
    if (attribute.config.multiValued)
        return null;
    return { type: "string", sql: jsonText(base, attribute.name), caseExact: attribute.config.caseExact };
}
function findAttribute(definition, name) {
    return definition.attributes.find((a) => a.name.toLowerCase() === name.toLowerCase());
}
const lower = (s) => (s ?? "").toLowerCase();
function customColumn(expression) {
    return { type: "string", sql: expression, caseExact: true };
}
const userColumns = {
    id: { type: "id", sql: "m.id" },
    externalid: { type: "string", sql: "m.external_id", caseExact: true },
    username: { type: "string", sql: "m.user_name", caseExact: false },
    displayname: { type: "string", sql: "m.display_name", caseExact: false },
    active: { type: "boolean", sql: "m.active" },
    "name.givenname": { type: "string", sql: "m.given_name", caseExact: false },
    "name.familyname": { type: "string", sql: "m.family_name", caseExact: false },
    "emails.value": { type: "stringArray", sql: "m.emails", caseExact: false },
    "meta.created": { type: "dateTime", sql: "m.created_at" },
    "meta.lastmodified": { type: "dateTime", sql: "m.updated_at" },
    "meta.resourcetype": { type: "string", sql: "'User'", caseExact: true },
    "groups.value": {
        type: "custom",
        build(op, value) {
            if (op === "pr")
                return {
                    sql: "exists (select 1 from group_members gm where gm.org_id = m.org_id and gm.member_id = m.id)",
                    bindings: [],
                };
            if (op !== "eq")
                return { sql: "false", bindings: [] };
            return {
                sql: "exists (select 1 from group_members gm where gm.org_id = m.org_id and gm.member_id = m.id and gm.group_id::text = ?)",
                bindings: [String(value)],
            };
        },
    },
};
const seatColumns = {
    seattype: customColumn("coalesce(m.seat_type, 'unassigned')"),
    seatstatus: customColumn("m.seat_status"),
    seatreason: customColumn("m.seat_reason"),
};
export const userAttributes = {
    resolve(path) {
        const uri = lower(path.uri);
        const key = path.sub ? `${lower(path.name)}.${lower(path.sub)}` : lower(path.name);
        if (uri === lower(SEAT_SCHEMA))
            return path.sub ? null : (seatColumns[lower(path.name)] ?? null);
        if (uri === lower(ENTERPRISE_SCHEMA)) {
            const attribute = findAttribute(SCIMMY.Schemas.EnterpriseUser.definition, path.name);
            return attribute ? fromDefinition(attribute, jsonObject("m.attributes", ENTERPRISE_SCHEMA), path.sub) : null;
        }
        if (uri && uri !== lower(USER_SCHEMA))
            return null;
        if (userColumns[key])
            return userColumns[key];
        if (key === "groups")
            return userColumns["groups.value"];
        const attribute = findAttribute(SCIMMY.Schemas.User.definition, path.name);
        // meta is Roster's, not stored with the resource: only the columns above can be filtered on.
        if (!attribute || ["password", "groups", "meta"].includes(attribute.name))
            return null;
        return fromDefinition(attribute, "m.attributes", path.sub);
    },
};
const membersColumn = {
    type: "custom",
    build(op, value) {
        if (op === "pr")
            return {
                sql: "exists (select 1 from group_members gm where gm.org_id = g.org_id and gm.group_id = g.id)",
                bindings: [],
            };
        if (op !== "eq")
            return { sql: "false", bindings: [] };
        return {
            sql: "exists (select 1 from group_members gm where gm.org_id = g.org_id and gm.group_id = g.id and gm.member_id::text = ?)",
            bindings: [String(value)],
        };
    },
};
const groupColumns = {
    id: { type: "id", sql: "g.id" },
    externalid: { type: "string", sql: "g.external_id", caseExact: true },
    displayname: { type: "string", sql: "g.display_name", caseExact: false },
    "meta.created": { type: "dateTime", sql: "g.created_at" },
    "meta.lastmodified": { type: "dateTime", sql: "g.updated_at" },
    "meta.resourcetype": { type: "string", sql: "'Group'", caseExact: true },
    members: membersColumn,
    "members.value": membersColumn,
};
export const groupAttributes = {
    resolve(path) {
        if (path.uri && lower(path.uri) !== lower(GROUP_SCHEMA))
            return null;
        const key = path.sub ? `${lower(path.name)}.${lower(path.sub)}` : lower(path.name);
        return groupColumns[key] ?? null;
    },
};
/** ORDER BY expression for sortBy (RFC 7644 §3.4.2.3); null when the attribute cannot be sorted on. */
export function sortExpression(spec) {
    if (!spec)
        return null;
    if (spec.type === "string")
        return spec.caseExact ? spec.sql : `lower(${spec.sql})`;
    if (spec.type === "id" || spec.type === "dateTime" || spec.type === "number" || spec.type === "boolean")
        return spec.sql;
    if (spec.type === "stringArray")
        return `${spec.sql}[1]`;
    return null;
}
//# sourceMappingURL=scim-attributes.js.map