// Where an IdP puts email, names and groups in a SAML assertion. Profiles are data
// (mappings/attribute-profiles/*.json); this module checks their shape and reads an identity with one.
import { z } from "zod";
const names = z.array(z.string().min(1)).min(1);
export const attributeProfileSchema = z
    .object({
    id: z.string().regex(/^[a-z][a-z0-9_]{0,39}$/),
    label: z.string().min(1),
    email: names,
    firstName: names,
    lastName: names,
    displayName: names,
    groups: names,
})
    .strict();
function values(attributes, keys) {
    for (const key of keys) {
        const found = Object.keys(attributes).find((k) => k.toLowerCase() === key.toLowerCase());
        if (found === undefined)
            continue;
        const raw = attributes[found];
        const list = (Array.isArray(raw) ? raw : [raw])
            .filter((v) => typeof v === "string")
            .map((v) => v.trim())
            .filter(Boolean);
        if (list.length)
            return list;
    }
    return [];
}
const EMAIL = /^[^\s@]+@[^\s@]+$/;
/** The identity an assertion carries, read with the org's profile; email falls back to an email-shaped NameID. */
export function readIdentity(profile, attributes, nameId) {
    const email = values(attributes, profile.email)[0] ?? (nameId && EMAIL.test(nameId) ? nameId : null);
    if (!email || !EMAIL.test(email) || email.length > 256)
        return null;
    const first = (keys) => values(attributes, keys)[0]?.slice(0, 256) ?? null;
    const groups = [...new Set(values(attributes, profile.groups).map((g) => g.slice(0, 256)))].slice(0, 1000);
    return {
        email: email.toLowerCase(),
        givenName: first(profile.firstName),
        familyName: first(profile.lastName),
        displayName: first(profile.displayName),
        groups,
    };
}
//# sourceMappingURL=attribute-profile.js.map