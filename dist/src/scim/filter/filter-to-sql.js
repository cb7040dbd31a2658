// SCIM filter tree -> parameterized SQL for a knex raw fragment (`?` placeholders, values only in bindings).
// The caller says how each attribute is stored through an AttributeResolver; this file owns the RFC 7644
// semantics: case-exact or not, LIKE for co/sw/ew, ordering only where it means something, and
// "any value matches" for multi-valued attributes.
//
// NULL: a fragment may evaluate to SQL NULL, and NULL always means "does not match". and/or preserve that
// reading, so only negation needs care: `not` (and `ne`, which is `not eq`) becomes `not coalesce(x, false)`,
// so an absent value is "not equal". Callers negating a fragment themselves must do the same.
import { ScimError } from "../scim-error.js";
// ---- SQL fragments: text plus its bindings, composed with a tagged template ----------------------------
class Sql {
    text;
    values;
    constructor(text, values) {
        this.text = text;
        this.values = values;
    }
}
/** Interpolated Sql is inlined with its bindings; any other interpolated value becomes a `?` binding. */
function sql(strings, ...parts) {
    let text = strings[0];
    const values = [];
    parts.forEach((part, i) => {
        if (part instanceof Sql) {
            text += part.text;
            values.push(...part.values);
        }
        else {
            text += "?";
            values.push(part);
        }
        text += strings[i + 1];
    });
    return new Sql(text, values);
}
/** Trusted SQL from the resolver (column names and expressions), never from the filter. */
function raw(text) {
    return new Sql(`(${text})`, []);
}
const FALSE = new Sql("(false)", []);
const LIKE_ESCAPE = new Sql("escape '\\'", []);
/** Two-valued negation: NULL (no value) counts as false before negating. */
function negate(inner) {
    return sql `(not coalesce(${inner}, false))`;
}
// ---- Errors and values ------------------------------------------------------------------------------
function invalid(message) {
    return new ScimError(400, "invalidFilter", message);
}
function pathText(path) {
    return `${path.uri ? `${path.uri}:` : ""}${path.name}${path.sub ? `.${path.sub}` : ""}`;
}
function showValue(value) {
    return typeof value === "string" ? JSON.stringify(value) : String(value);
}
const ORDER = { eq: "=", gt: ">", ge: ">=", lt: "<", le: "<=" };
function likePattern(op, value) {
    const escaped = value.replace(/[\\%_]/g, (c) => `\\${c}`);
    return op === "co" ? `%${escaped}%` : op === "sw" ? `${escaped}%` : `%${escaped}`;
}
function stringValue(label, value) {
    if (typeof value === "boolean")
        throw invalid(`${label} is a string attribute; it cannot be compared with ${value}`);
    return String(value); // numbers: lenient for `externalId eq 12345`
}
function booleanValue(label, value) {
    if (typeof value === "boolean")
        return value;
    if (typeof value === "string" && /^(true|false)$/i.test(value))
        return value.toLowerCase() === "true";
    throw invalid(`${label} is a boolean attribute; compare it with true or false, not ${showValue(value)}`);
}
function numberValue(label, value) {
    if (typeof value === "number")
        return value;
    if (typeof value === "string" && /^\s*-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?\s*$/.test(value)) {
        const n = Number(value);
        if (Number.isFinite(n))
            return n;
    }
    throw invalid(`${label} is a number attribute; ${showValue(value)} is not a number`);
}
const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?([Zz]|[+-](\d{2}):?(\d{2}))?)?$/;
/**
 * An ISO 8601 date or date-time, checked field by field so PostgreSQL never sees an impossible one (it would
 * fail the whole query). Without an offset the time is UTC, whatever the session's time zone.
 */
function dateTimeValue(label, value) {
    const bad = () => invalid(`${label} is a dateTime attribute; ${showValue(value)} is not an ISO 8601 date-time`);
    if (typeof value !== "string")
        throw bad();
    const m = ISO_DATE_TIME.exec(value.trim());
    if (!m)
        throw bad();
    const [, y, mo, d, h = "00", mi = "00", s = "00", fraction = "", offset, oh = "00", om = "00"] = m;
    const year = Number(y);
    const month = Number(mo);
    const day = Number(d);
    const fieldsOk = year >= 1 &&
        month >= 1 &&
        month <= 12 &&
        day >= 1 &&
        day <= daysInMonth(year, month) &&
        Number(h) <= 23 &&
        Number(mi) <= 59 &&
        Number(s) <= 59 &&
        Number(oh) <= 14 &&
        Number(om) <= 59;
    if (!fieldsOk)
        throw bad();
    const zone = !offset || /z/i.test(offset) ? "Z" : `${offset[0]}${oh}:${om}`;
    return `${y}-${mo}-${d}T${h}:${mi}:${s}${fraction}${zone}`;
}
function daysInMonth(year, month) {
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
}
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
function scalarPresent(s) {
    return s.type === "string" ? sql `(${s.expr} <> '')` : sql `(${s.expr} is not null)`;
}
/** `value` is not null here: comparisons with null are rewritten to presence tests first. */
function scalarCompare(s, op, value, label) {
    if (op === "ne")
        return negate(scalarCompare(s, "eq", value, label));
    const noOrdering = () => invalid(`operator '${op}' cannot be used with ${s.type} attribute ${label}`);
    switch (s.type) {
        case "string": {
            const v = stringValue(label, value);
            // lower() on both sides (not ILIKE) so an index on lower(column) serves eq and sw.
            const left = s.caseExact ? s.expr : sql `lower(${s.expr})`;
            const fold = (x) => (s.caseExact ? sql `${x}::text` : sql `lower(${x}::text)`);
            if (op === "co" || op === "sw" || op === "ew")
                return sql `(${left} like ${fold(likePattern(op, v))} ${LIKE_ESCAPE})`;
            if (op === "eq")
                return sql `(${left} = ${fold(v)})`;
            // Lexicographic means code point order, whatever the database's collation.
            return sql `(${left} collate "C" ${new Sql(ORDER[op], [])} ${fold(v)})`;
        }
        case "id": {
            const v = stringValue(label, value);
            if (op === "eq")
                return UUID.test(v) ? sql `(${s.expr} = ${v}::uuid)` : FALSE;
            // The text form of a uuid is lower-case hex, so fold the value to match.
            if (op === "co" || op === "sw" || op === "ew") {
                return sql `(${s.expr}::text like lower(${likePattern(op, v)}::text) ${LIKE_ESCAPE})`;
            }
            return sql `(${s.expr}::text collate "C" ${new Sql(ORDER[op], [])} lower(${v}::text))`;
        }
        case "boolean": {
            if (op !== "eq")
                throw noOrdering();
            return sql `(${s.expr} = ${booleanValue(label, value)}::boolean)`;
        }
        case "dateTime": {
            if (op === "co" || op === "sw" || op === "ew")
                throw noOrdering();
            if (s.shownInMs)
                return millisecondCompare(s.expr, op, dateTimeValue(label, value));
            return sql `(${s.expr} ${new Sql(ORDER[op], [])} ${dateTimeValue(label, value)}::timestamptz)`;
        }
        case "number": {
            if (op === "co" || op === "sw" || op === "ew")
                throw noOrdering();
            return sql `(${s.expr} ${new Sql(ORDER[op], [])} ${numberValue(label, value)}::numeric)`;
        }
    }
}
/**
 * `column op value` as a client sees the column: PostgreSQL keeps microseconds, SCIM shows milliseconds
 * (truncated). Compared raw, `meta.lastModified gt "<a resource's own lastModified>"` returned that resource
 * again (an IdP's incremental sync never settled) and `eq` with the shown value matched nothing. Written as
 * ranges on the raw column (floor/ceil of the value to the millisecond) so an index on it still serves.
 */
function millisecondCompare(column, op, value) {
    const floor = sql `date_trunc('milliseconds', ${value}::timestamptz)`;
    const next = sql `(${floor} + interval '1 millisecond')`;
    const ceil = sql `date_trunc('milliseconds', ${value}::timestamptz + interval '999 microseconds')`;
    switch (op) {
        case "eq":
            return sql `(${column} >= ${ceil} and ${column} < ${next})`;
        case "gt":
            return sql `(${column} >= ${next})`;
        case "ge":
            return sql `(${column} >= ${ceil})`;
        case "lt":
            return sql `(${column} < ${ceil})`;
        case "le":
            return sql `(${column} < ${next})`;
    }
}
/** compare or present on one value, with `eq null` = not present and `ne null` = present. */
function scalarLeaf(s, op, value, label) {
    if (op === "pr")
        return scalarPresent(s);
    if (value === null)
        return nullCompare(op, label, () => scalarPresent(s));
    return scalarCompare(s, op, value, label);
}
function nullCompare(op, label, present) {
    if (op === "eq")
        return negate(present());
    if (op === "ne")
        return present();
    throw invalid(`operator '${op}' cannot compare ${label} with null`);
}
/** jsonb_array_elements fails on a non-array, so anything else (a stray object, JSON null) reads as empty. */
function complexElements(spec, where) {
    const json = raw(spec.jsonSql);
    return sql `(exists (select 1 from jsonb_array_elements(case when jsonb_typeof(${json}) = 'array' then ${json} else '[]'::jsonb end) as scim_el(elem) where ${where}))`;
}
function complexPresent(spec) {
    const json = raw(spec.jsonSql);
    return sql `(case when jsonb_typeof(${json}) = 'array' then jsonb_array_length(${json}) > 0 else false end)`;
}
function findSub(spec, name, label) {
    const lower = name.toLowerCase();
    const found = Object.entries(spec.subAttributes).find(([key]) => key.toLowerCase() === lower);
    if (!found)
        throw invalid(`unknown attribute ${label}`);
    return found;
}
/** A sub-attribute of the current element (scim_el.elem), typed so a stray JSON type reads as no value. */
function elementScalar(key, sub) {
    const text = sql `(scim_el.elem ->> ${key}::text)`;
    switch (sub.type) {
        case "string":
            return { type: "string", expr: text, caseExact: sub.caseExact };
        case "boolean":
            // "True" from sloppy writers counts as true, like in filters.
            return { type: "boolean", expr: sql `(case lower(${text}) when 'true' then true when 'false' then false end)` };
        case "number":
            return {
                type: "number",
                expr: sql `(case when jsonb_typeof(scim_el.elem -> ${key}::text) = 'number' then ${text}::numeric end)`,
            };
        case "dateTime":
            return { type: "dateTime", expr: jsonDateTime(text) };
    }
}
/**
 * A stored JSON string as timestamptz, or NULL when it is not a valid ISO 8601 date-time: a bad cast would
 * fail the whole query. The regex checks each field's range; the day is checked against its month's length.
 */
function jsonDateTime(text) {
    const shape = "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])([Tt ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]+)?)?([Zz]|[+-](0[0-9]|1[0-4]):?[0-5][0-9])?)?$";
    const y = sql `substr(${text}, 1, 4)::int`;
    const m = sql `substr(${text}, 6, 2)::int`;
    const d = sql `substr(${text}, 9, 2)::int`;
    // Nested CASEs, because only CASE fixes the order of evaluation: each cast sees text the step before passed.
    const monthHasDay = sql `extract(day from make_date(${y}, ${m}, 1) + (${d} - 1)) = ${d}`;
    return sql `(case when ${text} ~ ${shape}::text then case when ${y} > 0 then case when ${monthHasDay} then ${text}::timestamptz end end end)`;
}
const ARRAY_ELEMENT = new Sql("scim_v.v", []);
function arrayElements(spec, where) {
    return sql `(exists (select 1 from unnest(${raw(spec.sql)}) as scim_v(v) where ${where}))`;
}
function arrayLeaf(spec, op, value, label) {
    const column = raw(spec.sql);
    const present = () => sql `(cardinality(${column}) > 0)`;
    if (op === "pr")
        return present();
    if (value === null)
        return nullCompare(op, label, present);
    // Multi-valued: ne is "no value equals", the negation of "some value equals".
    if (op === "ne")
        return negate(arrayLeaf(spec, "eq", value, label));
    if (op === "eq") {
        const v = stringValue(label, value);
        const element = spec.caseExact ? sql `${v}::text` : sql `lower(${v}::text)`;
        return sql `(${column} @> array[${element}]::text[])`;
    }
    const element = { type: "string", expr: ARRAY_ELEMENT, caseExact: spec.caseExact };
    return arrayElements(spec, scalarCompare(element, op, value, label));
}
function translate(node, leaf, resolver, nested) {
    switch (node.kind) {
        case "and":
            return sql `(${translate(node.left, leaf, resolver, nested)} and ${translate(node.right, leaf, resolver, nested)})`;
        case "or":
            return sql `(${translate(node.left, leaf, resolver, nested)} or ${translate(node.right, leaf, resolver, nested)})`;
        case "not":
            return negate(translate(node.expr, leaf, resolver, nested));
        case "compare":
            return leaf(node.attr, node.op, node.value);
        case "present":
            return leaf(node.attr, "pr", null);
        case "valuePath":
            if (nested)
                throw invalid(`value filters cannot be nested (${pathText(node.attr)}[…])`);
            return valuePath(node.attr, node.filter, resolver);
    }
}
function topLeaf(resolver) {
    return (attr, op, value) => {
        const label = pathText(attr);
        const spec = resolver.resolve(attr);
        if (!spec)
            throw invalid(`unknown attribute ${label}`);
        switch (spec.type) {
            case "string":
                return scalarLeaf({ type: "string", expr: raw(spec.sql), caseExact: spec.caseExact }, op, value, label);
            case "id":
            case "boolean":
            case "number":
                return scalarLeaf({ type: spec.type, expr: raw(spec.sql) }, op, value, label);
            case "dateTime":
                return scalarLeaf({ type: "dateTime", expr: raw(spec.sql), shownInMs: true }, op, value, label);
            case "stringArray":
                return arrayLeaf(spec, op, value, label);
            case "complex": {
                // The attribute itself (no sub-attribute): present when the array has an element.
                if (attr.sub === null && (op === "pr" || value === null)) {
                    return op === "pr" ? complexPresent(spec) : nullCompare(op, label, () => complexPresent(spec));
                }
                const [key, sub] = findSub(spec, attr.sub ?? spec.defaultSub, label);
                const element = elementScalar(key, sub);
                // Multi-valued: some element matches; "eq null" and ne are negations of that.
                if (op !== "pr" && value === null) {
                    return nullCompare(op, label, () => complexElements(spec, scalarPresent(element)));
                }
                if (op === "ne")
                    return negate(complexElements(spec, scalarLeaf(element, "eq", value, label)));
                return complexElements(spec, scalarLeaf(element, op, value, label));
            }
            case "custom": {
                if (op !== "pr" && value === null)
                    return nullCompare(op, label, () => custom(spec, "pr", null));
                return custom(spec, op, value);
            }
        }
    };
}
function custom(spec, op, value) {
    const built = spec.build(op, value);
    return new Sql(`(${built.sql})`, [...built.bindings]);
}
/** attr[filter]: one element must satisfy the whole inner filter. */
function valuePath(attr, filter, resolver) {
    const label = pathText(attr);
    const spec = resolver.resolve(attr);
    if (!spec)
        throw invalid(`unknown attribute ${label}`);
    const subLabel = (inner) => `${label}.${inner.name}`;
    if (spec.type === "complex") {
        const leaf = (inner, op, value) => {
            const [key, sub] = findSub(spec, inner.name, subLabel(inner));
            return scalarLeaf(elementScalar(key, sub), op, value, subLabel(inner));
        };
        return complexElements(spec, translate(filter, leaf, resolver, true));
    }
    if (spec.type === "stringArray") {
        // A simple multi-valued attribute: its only sub-attribute is "value".
        const leaf = (inner, op, value) => {
            if (inner.name.toLowerCase() !== "value")
                throw invalid(`unknown attribute ${subLabel(inner)}`);
            const element = { type: "string", expr: ARRAY_ELEMENT, caseExact: spec.caseExact };
            return scalarLeaf(element, op, value, subLabel(inner));
        };
        return arrayElements(spec, translate(filter, leaf, resolver, true));
    }
    // Stored some other way (custom, e.g. a join table): members[value eq "x"] means members.value eq "x".
    // That reading is exact only when one element need not satisfy several conditions at once: comparisons
    // joined by "or" (EXISTS distributes over or), not "and" or "not".
    if (!onlyOrOfComparisons(filter)) {
        throw invalid(`${label}[…] supports only comparisons joined by 'or' inside the brackets`);
    }
    const top = topLeaf(resolver);
    const leaf = (inner, op, value) => top({ uri: attr.uri, name: attr.name, sub: inner.name }, op, value);
    return sql `(${translate(filter, leaf, resolver, true)})`;
}
function onlyOrOfComparisons(node) {
    if (node.kind === "or")
        return onlyOrOfComparisons(node.left) && onlyOrOfComparisons(node.right);
    return node.kind === "compare" || node.kind === "present";
}
export function filterToSql(node, resolver) {
    const result = translate(node, topLeaf(resolver), resolver, false);
    return { sql: result.text, bindings: result.values };
}
//# sourceMappingURL=filter-to-sql.js.map