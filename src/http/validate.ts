// zod guards for request parts: a failure is a 400 in the caller's error format.
import type { z } from "zod";

export function parse<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  return schema.parse(value);
}
