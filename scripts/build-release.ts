// Release builds: cross-compile dsbackup for every platform in
// src/platform.ts RELEASE_TARGETS into dist/, minified, with the version and
// commit embedded, and write dist/SHA256SUMS (the format of `sha256sum`).
// Bun fetches each target's runtime from the npm registry on first use and
// caches it. A build whose inputs are unchanged is reused (dist/.stamp-NAME).
//
// Usage: bun scripts/build-release.ts [--only dsbackup-linux-arm64,...] [--force]
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { RELEASE_TARGETS, type ReleaseTarget } from "../src/platform.ts";
import { ROOT, compile, gitCommit } from "./build.ts";

export const DIST = join(ROOT, "dist");
export const SUMS_FILE = "SHA256SUMS";

export function sha256File(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/** Lines "HEX  NAME" (two spaces: text mode), as `sha256sum` prints and `sha256sum -c` / `shasum -a 256 -c` read. */
export function formatSha256Sums(entries: readonly { name: string; sha256: string }[]): string {
  return entries.map((e) => `${e.sha256}  ${e.name}\n`).join("");
}

/** Every file under dir, sorted, as paths relative to ROOT. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...filesUnder(rel));
    else out.push(rel);
  }
  return out.sort();
}

/** A hash of everything that goes into a build: sources, lock file, Bun version, commit, target. */
function inputsHash(target: ReleaseTarget, commit: string): string {
  const h = createHash("sha256");
  h.update(`${Bun.version}\0${commit}\0${target.bunTarget}\0minify\0`);
  for (const rel of [...filesUnder("src"), "package.json", "package-lock.json", "scripts/build.ts"]) {
    h.update(`${rel}\0`);
    h.update(readFileSync(join(ROOT, rel)));
    h.update("\0");
  }
  return h.digest("hex");
}

export interface BuildResult {
  readonly target: ReleaseTarget;
  readonly path: string;
  /** False when an up-to-date build was already in dist/. */
  readonly built: boolean;
}

/** Build one target into dist/ unless an identical build is already there. */
export function ensureReleaseBuild(target: ReleaseTarget, opts: { force?: boolean; commit?: string; log?: (m: string) => void } = {}): BuildResult {
  const commit = opts.commit ?? gitCommit();
  const path = join(DIST, target.file);
  const stampPath = join(DIST, `.stamp-${target.file}`);
  const stamp = inputsHash(target, commit);
  if (!opts.force && existsSync(path) && existsSync(stampPath) && readFileSync(stampPath, "utf8") === stamp) {
    return { target, path, built: false };
  }
  opts.log?.(`building ${target.file} (${target.bunTarget})`);
  rmSync(stampPath, { force: true });
  // Build under a temporary name so that an interrupted build never leaves a half file under the final one.
  const temp = `${path}.partial`;
  rmSync(temp, { force: true });
  try {
    compile({ target: target.bunTarget, outfile: temp, minify: true, commit, stdio: "pipe" });
    renameSync(temp, path);
  } finally {
    rmSync(temp, { force: true });
  }
  writeFileSync(stampPath, stamp);
  return { target, path, built: true };
}

/** Build every release target and write dist/SHA256SUMS over all of them. */
export function buildRelease(opts: { force?: boolean; log?: (m: string) => void } = {}): BuildResult[] {
  const commit = gitCommit();
  const results = RELEASE_TARGETS.map((t) => ensureReleaseBuild(t, { ...opts, commit }));
  const sums = formatSha256Sums(results.map((r) => ({ name: r.target.file, sha256: sha256File(r.path) })));
  const sumsPath = join(DIST, SUMS_FILE);
  writeFileSync(`${sumsPath}.partial`, sums);
  renameSync(`${sumsPath}.partial`, sumsPath);
  return results;
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { only: { type: "string" }, force: { type: "boolean" } } });
  const log = (m: string) => console.error(m);
  try {
    if (values.only) {
      const names = values.only.split(",");
      for (const name of names) {
        const target = RELEASE_TARGETS.find((t) => t.file === name || t.file === `dsbackup-${name}`);
        if (!target) throw new Error(`unknown target ${name}; known: ${RELEASE_TARGETS.map((t) => t.file).join(", ")}`);
        ensureReleaseBuild(target, { force: values.force, log });
      }
    } else {
      for (const r of buildRelease({ force: values.force, log })) {
        const mib = (statSync(r.path).size / 2 ** 20).toFixed(1);
        console.log(`${r.target.file.padEnd(28)} ${mib.padStart(6)} MiB${r.built ? "" : "  (unchanged)"}`);
      }
      console.log(`dist/${SUMS_FILE} written`);
    }
  } catch (err) {
    console.error(`build-release: ${(err as Error).message}`);
    process.exit(1);
  }
}
