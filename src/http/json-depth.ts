// How deeply a parsed request body nests. Checked right after parsing, before any recursive code (SCIM
// normalisation, zod, scimmy) walks the body: a 10,000-deep array used to overflow the stack there and
// answer 500. The walk itself keeps its own stack, so no body can overflow it.

/** No body Roster accepts needs more: a Bulk operation's group member value sits six levels down. */
export const MAX_JSON_DEPTH = 32;

/** True when `value` nests objects/arrays more than `max` levels deep (a scalar is depth 0). */
export function nestsDeeperThan(value: unknown, max: number = MAX_JSON_DEPTH): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== "object") continue;
    if (depth + 1 > max) return true;
    const children = Array.isArray(current) ? current : Object.values(current as Record<string, unknown>);
    for (const child of children) if (child !== null && typeof child === "object") stack.push([child, depth + 1]);
  }
  return false;
}

export const TOO_DEEP_MESSAGE = `the request body nests more than ${MAX_JSON_DEPTH} levels deep`;
