// attributes / excludedAttributes (RFC 7644 §3.9) applied to an outgoing resource. `id` and `schemas` are
// always returned. Lenient about what IdPs send: a bracketed filter in an attribute name
// (`emails[type eq "work"]`) selects the attribute; names match case-insensitively.
import { ENTERPRISE_SCHEMA, GROUP_SCHEMA, SEAT_SCHEMA, USER_SCHEMA } from "./schemas.js";
const CORE = [USER_SCHEMA.toLowerCase(), GROUP_SCHEMA.toLowerCase()];
const EXTENSIONS = [ENTERPRISE_SCHEMA.toLowerCase(), SEAT_SCHEMA.toLowerCase()];
const ALWAYS = new Set(["id", "schemas"]);
function parsePath(raw) {
    let text = raw.replace(/\[.*?\]/g, "").trim();
    if (!text)
        return null;
    const lower = text.toLowerCase();
    for (const core of CORE)
        if (lower.startsWith(`${core}:`))
            text = text.slice(core.length + 1);
    // A whole extension (attributes=urn:…:enterprise:2.0:User): without this, the last ':' would be read as
    // the start of an attribute name ("User") and the extension would never be selected nor excluded.
    if (EXTENSIONS.includes(text.toLowerCase()))
        return { top: text, rest: [] };
    if (text.toLowerCase().startsWith("urn:")) {
        // urn:…:Schema:attr.sub — the URN is everything up to the last ':'.
        const at = text.lastIndexOf(":");
        const urn = text.slice(0, at);
        const attr = text.slice(at + 1);
        return { top: urn, rest: attr ? attr.split(".") : [] };
    }
    const [top, ...rest] = text.split(".");
    return { top, rest };
}
function keyOf(object, name) {
    return Object.keys(object).find((k) => k.toLowerCase() === name.toLowerCase());
}
function pickPath(source, rest) {
    if (rest.length === 0 || source === null || typeof source !== "object")
        return source;
    if (Array.isArray(source))
        return source.map((item) => pickPath(item, rest)).filter((v) => v !== undefined);
    const key = keyOf(source, rest[0]);
    if (key === undefined)
        return undefined;
    const inner = pickPath(source[key], rest.slice(1));
    return inner === undefined ? undefined : { [key]: inner };
}
function merge(target, key, value) {
    const existing = target[key];
    if (existing &&
        typeof existing === "object" &&
        !Array.isArray(existing) &&
        value &&
        typeof value === "object" &&
        !Array.isArray(value)) {
        target[key] = { ...existing, ...value };
    }
    else {
        target[key] = value;
    }
}
function removePath(target, rest) {
    if (!target || typeof target !== "object")
        return;
    if (Array.isArray(target)) {
        target.forEach((item) => removePath(item, rest));
        return;
    }
    const object = target;
    const key = keyOf(object, rest[0]);
    if (key === undefined)
        return;
    if (rest.length === 1)
        delete object[key];
    else
        removePath(object[key], rest.slice(1));
}
export function project(resource, attributes, excluded) {
    if (attributes.length > 0) {
        const out = {};
        for (const key of Object.keys(resource))
            if (ALWAYS.has(key))
                out[key] = resource[key];
        for (const path of attributes.map(parsePath)) {
            if (!path)
                continue;
            const key = keyOf(resource, path.top);
            if (key === undefined)
                continue;
            const value = pickPath(resource[key], path.rest);
            if (value !== undefined)
                merge(out, key, value);
        }
        return out;
    }
    if (excluded.length > 0) {
        const out = structuredClone(resource);
        for (const path of excluded.map(parsePath)) {
            if (!path || ALWAYS.has(path.top.toLowerCase()))
                continue;
            const key = keyOf(out, path.top);
            if (key === undefined)
                continue;
            if (path.rest.length === 0)
                delete out[key];
            else
                removePath(out[key], path.rest);
        }
        return out;
    }
    return resource;
}
/** Whether a projection leaves out an attribute entirely (so it need not be loaded). */
export function excludes(name, attributes, excluded) {
    const top = (p) => parsePath(p)?.top.toLowerCase();
    if (attributes.length > 0)
        return !attributes.some((a) => top(a) === name.toLowerCase());
    return excluded.some((e) => top(e) === name.toLowerCase() && (parsePath(e)?.rest.length ?? 0) === 0);
}
//# sourceMappingURL=projection.js.map