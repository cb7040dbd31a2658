// Seat catalogs: a plan's seat types ranked high to low. Catalogs are data (mappings/catalogs/*.json);
// this module only describes and checks their shape.
import { z } from "zod";
const seatTypeName = z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, "seat type ids are lower_snake_case");
export const catalogSchema = z
    .object({
    id: z.string().regex(/^[a-z][a-z0-9_]{0,39}$/),
    label: z.string().min(1),
    minSeats: z.number().int().min(0),
    maxSeats: z.number().int().positive(),
    seatTypes: z.array(z.object({ type: seatTypeName, label: z.string().min(1) })).min(1),
})
    .strict()
    .refine((c) => new Set(c.seatTypes.map((s) => s.type)).size === c.seatTypes.length, "seat types must be unique")
    .refine((c) => c.seatTypes.every((s) => !["unassigned", "auto", "any"].includes(s.type)), "unassigned, auto and any are reserved")
    .refine((c) => c.minSeats <= c.maxSeats, "minSeats must not exceed maxSeats");
export function toCatalog(file) {
    return { ...file, seatTypes: file.seatTypes.map((s, i) => ({ ...s, rank: i + 1 })) };
}
export function hasSeatType(catalog, type) {
    return catalog.seatTypes.some((s) => s.type === type);
}
//# sourceMappingURL=catalog.js.map