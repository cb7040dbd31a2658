// `npm run build` (also run by `npm ci` through `prepare`): compile src/ and migrations/ to dist/ with tsc,
// and copy the files under src/ that are not TypeScript (the console's CSS, JS, icons) beside the compiled
// modules, which find them relative to themselves.
/* global process */
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dist = path.join(repo, "dist");

rmSync(dist, { recursive: true, force: true });
const tsc = path.join(repo, "node_modules", "typescript", "bin", "tsc");
execFileSync(process.execPath, [tsc, "-p", path.join(repo, "tsconfig.build.json")], { stdio: "inherit" });

function copyAssets(from, to) {
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    if (entry.isDirectory()) copyAssets(source, target);
    else if (!/\.(ts|tsx)$/.test(entry.name)) {
      mkdirSync(to, { recursive: true });
      copyFileSync(source, target);
    }
  }
}
copyAssets(path.join(repo, "src"), path.join(dist, "src"));
