// Before `npm start` and `npm run roster`: compile the TypeScript to dist/ when dist/ is missing or older than
// any file under src/ or migrations/ (after a `git pull`, or an edit without `npm run build`), so the compiled server is never stale.
// `npm ci` already builds (the `prepare` script); this is the safety net, and costs a directory walk when fresh.
/* global process, console */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const built = path.join(repo, "dist", "src", "main.js");

function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) latest = Math.max(latest, newest(full));
    else latest = Math.max(latest, statSync(full).mtimeMs);
  }
  return latest;
}

const sources = Math.max(
  newest(path.join(repo, "src")),
  newest(path.join(repo, "migrations")),
  statSync(path.join(repo, "tsconfig.json")).mtimeMs,
  statSync(path.join(repo, "tsconfig.build.json")).mtimeMs,
);
if (!existsSync(built) || statSync(built).mtimeMs < sources) {
  console.error("roster: compiling TypeScript to dist/ (npm run build)");
  execFileSync(process.execPath, [path.join(repo, "scripts", "build.mjs")], { stdio: "inherit" });
}
