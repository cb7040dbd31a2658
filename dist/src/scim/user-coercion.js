// Inbound SCIM User bodies, validated and coerced the way scimmy's User schema does it, in a fraction of the
// CPU. scimmy builds a frozen object with accessors and proxies for every attribute of every request, then
// coerces everything twice; on POST /Users that was a third of the server's CPU and most of its garbage.
// This walks the same schema definitions (scimmy's, so the attributes, types, required flags, directions and
// our relaxed canonical values are the same) once, with plain objects. Same results, same error messages:
// test/unit/user-coercion.test.ts compares the two on IdP bodies and on thousands of generated ones. The one
// shape it does not handle, extension attributes given as top-level "urn:…:User:attr" keys, goes to scimmy.
import SCIMMY from "scimmy";
import { ENTERPRISE_SCHEMA } from "./schemas.js";
function compile(attribute) {
    const { config } = attribute;
    const subAttributes = (attribute.subAttributes ?? []).map(compile);
    return {
        name: attribute.name,
        lower: attribute.name.toLowerCase(),
        type: attribute.type,
        multiValued: config.multiValued === true,
        required: config.required === true,
        inbound: config.direction !== "out",
        hidden: config.returned === false || config.returned === "never",
        canonicalValues: Array.isArray(config.canonicalValues) ? config.canonicalValues : null,
        referenceTypes: Array.isArray(config.referenceTypes) ? config.referenceTypes : [],
        subAttributes,
        subByLower: new Map(subAttributes.map((s) => [s.lower, s])),
    };
}
function isAttribute(a) {
    return (typeof a.name === "string" &&
        typeof a.type === "string" &&
        !!a.config);
}
// The core attributes of the User schema except schemas, id and meta, which the router strips from requests.
const SHADOWED = new Set(["schemas", "id", "meta"]);
const coreAttributes = SCIMMY.Schemas.User.definition.attributes
    .filter(isAttribute)
    .filter((a) => !SHADOWED.has(a.name))
    .map(compile);
const enterpriseAttributes = SCIMMY.Schemas.EnterpriseUser.definition.attributes
    .filter(isAttribute)
    .filter((a) => !SHADOWED.has(a.name))
    .map(compile);
const ENTERPRISE_LOWER = ENTERPRISE_SCHEMA.toLowerCase();
function typeName(value) {
    return value instanceof Date ? "dateTime" : typeof value === "object" ? "complex" : typeof value;
}
function checkString(attr, value) {
    if (typeof value !== "string" && value !== null) {
        throw new TypeError(`Attribute '${attr.name}' expected ` +
            (Array.isArray(value)
                ? "single value of type 'string'"
                : `value type 'string' but found type '${typeName(value)}'`));
    }
}
function checkBoolean(attr, value) {
    if (typeof value !== "boolean" && value !== null) {
        throw new TypeError(`Attribute '${attr.name}' expected ` +
            (Array.isArray(value)
                ? "single value of type 'boolean'"
                : `value type 'boolean' but found type '${typeName(value)}'`));
    }
}
const ISO_DATE = /^(-?(?:[1-9][0-9]*)?[0-9]{4})-(1[0-2]|0[1-9])-(3[01]|0[1-9]|[12][0-9])(T(2[0-3]|[01][0-9]):([0-5][0-9]):([0-5][0-9])(\.[0-9]+)?(Z|[+-](?:2[0-3]|[01][0-9]):[0-5][0-9])?)?$/;
function checkDate(attr, value) {
    const date = new Date(value);
    const type = typeName(value);
    if (["number", "complex", "boolean"].includes(type) || (type === "string" && date.toString() === "Invalid Date")) {
        throw new TypeError(`Attribute '${attr.name}' expected ` +
            (Array.isArray(value) ? "single value of type 'dateTime'" : `value type 'dateTime' but found type '${type}'`));
    }
    if (!(date.toString() !== "Invalid Date" && ISO_DATE.test(date.toISOString())))
        throw new TypeError(`Attribute '${attr.name}' expected value to be a valid date`);
}
function checkNumber(attr, value) {
    const { type, name } = attr;
    const isNum = /^-?\d+?(\.\d+)?$/.test(String(value));
    const isInt = isNum && !String(value).includes(".");
    if (typeof value === "object" && value !== null) {
        throw new TypeError(`Attribute '${name}' expected ` +
            (Array.isArray(value)
                ? `single value of type '${type}'`
                : `value type '${type}' but found type '${typeName(value)}'`));
    }
    if (!isNum)
        throw new TypeError(`Attribute '${name}' expected value type '${type}' but found type '${typeName(value)}'`);
    if (type === "decimal" && isInt)
        throw new TypeError(`Attribute '${name}' expected value type 'decimal' but found type 'integer'`);
    if (type === "integer" && !isInt)
        throw new TypeError(`Attribute '${name}' expected value type 'integer' but found type 'decimal'`);
}
function parsesAsUrl(value) {
    try {
        return new URL(value);
    }
    catch {
        return null;
    }
}
function checkReference(attr, value) {
    const listed = attr.referenceTypes.map((t) => `'${t}'`).join(", ");
    let message;
    if (value === undefined && !attr.required)
        return;
    if (typeof value !== "string" && value !== null) {
        message = Array.isArray(value)
            ? `Attribute '${attr.name}' expected single value of type 'reference'`
            : `Attribute '${attr.name}' expected value type 'reference' but found type '${typeName(value)}'`;
    }
    else if (!listed.length) {
        message = `Attribute '${attr.name}' with type 'reference' does not specify any referenceTypes`;
    }
    else {
        message = `Attribute '${attr.name}' expected value type 'reference' to refer to one of: ${listed}`;
        const resourceTypes = attr.referenceTypes.filter((t) => t !== "uri" && t !== "external");
        if (resourceTypes.some((t) => String(value).startsWith(t) || String(value).includes(`/${t}`)))
            message = null;
        if (attr.referenceTypes.includes("external") && parsesAsUrl(value)?.hostname)
            message = null;
        if (attr.referenceTypes.includes("uri") && (parsesAsUrl(value) || String(value).startsWith("/")))
            message = null;
    }
    if (message)
        throw new TypeError(message);
}
function checkBinary(attr, value) {
    let message = null;
    if (typeof value === "object" && value !== null) {
        message = Array.isArray(value)
            ? `Attribute '${attr.name}' expected single value of type 'binary'`
            : `Attribute '${attr.name}' expected value type 'binary' but found type '${typeName(value)}'`;
    }
    else {
        try {
            Buffer.from(value);
        }
        catch {
            message = `Attribute '${attr.name}' expected value type 'binary' to be base64 encoded string or binary octet stream`;
        }
    }
    if (message)
        throw new TypeError(message);
}
/** One complex value: known sub-attributes (any case) coerced, unknown ones ignored, in definition order. */
function coerceComplex(attr, source) {
    if (Object(source) !== source || source instanceof Date) {
        throw new TypeError(`Complex attribute '${attr.name}' expected complex value but found type '${source instanceof Date ? "dateTime" : source === null ? "null" : typeof source}'`);
    }
    const values = new Map();
    const fromComplex = (sub, value) => {
        try {
            return coerceAttribute(sub, value);
        }
        catch (error) {
            error.message += ` from complex attribute '${attr.name}'`;
            throw error;
        }
    };
    for (const [key, value] of Object.entries(source)) {
        const sub = attr.subByLower.get(key.toLowerCase());
        if (sub)
            values.set(sub, fromComplex(sub, value));
    }
    const result = {};
    for (const sub of attr.subAttributes) {
        // Sub-attributes not given are still checked, so a missing required one is refused.
        const value = values.has(sub) ? values.get(sub) : fromComplex(sub, undefined);
        if (value !== undefined && !sub.hidden)
            result[sub.name] = value;
    }
    return result;
}
function coerceAttribute(attr, source, isComplexValue = false) {
    if (!attr.inbound)
        return undefined;
    const { name, multiValued, canonicalValues } = attr;
    if ((source === undefined || source === null) && attr.required)
        throw new TypeError(`Required attribute '${name}' is missing`);
    if (source !== undefined && !isComplexValue && multiValued && !Array.isArray(source))
        throw new TypeError(`Attribute '${name}' expected to be a collection`);
    if (!multiValued && Array.isArray(source))
        throw new TypeError(`Attribute '${name}' is not multi-valued and must not be a collection`);
    if (source !== undefined &&
        canonicalValues &&
        !(multiValued
            ? (source ?? []).every((v) => canonicalValues.includes(v))
            : canonicalValues.includes(source))) {
        throw new TypeError(`Attribute '${name}' contains non-canonical value`);
    }
    if (source === undefined || source === null)
        return undefined;
    const each = (check, cast) => {
        const values = multiValued ? source : [source];
        for (const v of values)
            check(attr, v);
        return multiValued ? values.map(cast) : cast(source);
    };
    switch (attr.type) {
        case "string":
            return each(checkString, String);
        case "dateTime":
            return each(checkDate, (v) => new Date(v).toISOString());
        case "decimal":
        case "integer":
            return each(checkNumber, Number);
        case "reference":
            return each(checkReference, String);
        case "binary":
            return each(checkBinary, String);
        case "boolean":
            return each(checkBoolean, (v) => !!v);
        case "complex":
            if (isComplexValue)
                return coerceComplex(attr, source);
            return multiValued
                ? source.map((v) => coerceAttribute(attr, v, true))
                : coerceComplex(attr, source);
        default:
            return source;
    }
}
/** Deep copy with every key lower-cased, as scimmy reads an extension's value. */
function lowerKeys(value) {
    // No prototype: a "__proto__" key from JSON.parse must stay an ignored key, not become the prototype.
    const out = Object.create(null);
    for (const [key, v] of Object.entries(value)) {
        out[key.toLowerCase()] = Array.isArray(v)
            ? [...v]
            : v !== null && typeof v === "object"
                ? lowerKeys(v)
                : v;
    }
    return out;
}
function hasActualValues(value) {
    return Object.values(value).some((v) => (typeof v === "object" ? v !== null && hasActualValues(v) : v !== undefined));
}
function coerceEnterprise(source) {
    if (source === undefined || source === null)
        return undefined;
    const given = lowerKeys(source);
    const result = {};
    for (const attr of enterpriseAttributes) {
        let value;
        try {
            value = coerceAttribute(attr, given[attr.lower]);
        }
        catch (error) {
            error.message += ` in schema extension '${ENTERPRISE_SCHEMA}'`;
            throw error;
        }
        // scimmy drops an extension's empty complex values, and the extension itself when nothing is left.
        if (value === undefined || (Object(value) === value && !hasActualValues(value)))
            continue;
        result[attr.name] = value;
    }
    return Object.keys(result).length ? result : undefined;
}
export const NEEDS_SCIMMY = Symbol("needs scimmy");
/**
 * The coerced User (core attributes in schema order, then the enterprise extension), without schemas, id,
 * meta and password. Throws scimmy's TypeErrors; NEEDS_SCIMMY for namespaced extension keys.
 */
export function coerceUser(input) {
    const source = Object.create(null); // see lowerKeys
    for (const key of Object.keys(input)) {
        const lower = key.toLowerCase();
        if (lower.startsWith("urn:") && lower !== ENTERPRISE_LOWER && lower.startsWith(`${ENTERPRISE_LOWER}:`))
            return NEEDS_SCIMMY;
        source[lower] = input[key];
    }
    const extension = source[ENTERPRISE_LOWER];
    if (extension !== undefined && extension !== null && (typeof extension !== "object" || Array.isArray(extension)))
        return NEEDS_SCIMMY;
    const result = {};
    for (const attr of coreAttributes) {
        const value = coerceAttribute(attr, source[attr.lower]);
        if (value !== undefined && !attr.hidden)
            result[attr.name] = value;
    }
    const enterprise = coerceEnterprise(extension);
    if (enterprise)
        result[ENTERPRISE_SCHEMA] = enterprise;
    return result;
}
//# sourceMappingURL=user-coercion.js.map