// Messages between the main thread and the embedded database's thread, and PGlite's start parameters.
import { PGlite } from "@electric-sql/pglite";

export type PgliteThreadRequest =
  | { type: "query"; id: number; sql: string; params: unknown[]; rowMode?: "array" | "object" }
  | { type: "close"; id: number };

export type PgliteThreadReply =
  | { type: "ready" }
  | { type: "failed"; error: SerializedError }
  | { type: "result"; id: number; result: unknown }
  | { type: "error"; id: number; error: SerializedError };

/** An Error's message, name and own fields (PostgreSQL's code, constraint, detail…), which cloning would drop. */
export type SerializedError = Record<string, unknown> & { message: string; name: string };

export function serializeError(error: unknown): SerializedError {
  if (!(error instanceof Error)) return { name: "Error", message: String(error) };
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(error)) {
    if (value === undefined || typeof value === "function" || (typeof value === "object" && value !== null)) continue;
    fields[key] = value;
  }
  return { ...fields, name: error.name, message: error.message };
}

export function deserializeError(serialized: SerializedError): Error {
  const error = new Error(serialized.message);
  Object.assign(error, serialized);
  return error;
}

/**
 * PGlite's defaults plus smaller memory settings: PostgreSQL's defaults assume a machine of its own
 * (shared_buffers 128 MB), and PGlite's WASM memory only ever grows. One connection needs little.
 */
export function pgliteStartParams(): string[] {
  return [
    ...PGlite.defaultStartParams,
    ...["-c", "shared_buffers=16MB"],
    ...["-c", "work_mem=4MB"],
    ...["-c", "maintenance_work_mem=16MB"],
    ...["-c", "temp_buffers=4MB"],
    ...["-c", "wal_buffers=1MB"],
  ];
}
