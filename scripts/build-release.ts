// Release builds: cross-compile dsbackup for every platform in
// src/platform.ts RELEASE_TARGETS into dist/, minified, with the version and
// commit embedded; write the man page dist/dsbackup.1 and the Debian packages
// dist/dsbackup_VERSION_{amd64,arm64}.deb (scripts/debian-package.ts); and
// write dist/SHA256SUMS over all of them (the format of `sha256sum`).
// Bun fetches each target's runtime from the npm registry on first use and
// caches it. A build whose inputs are unchanged is reused (dist/.stamp-NAME).
//
// Usage: bun scripts/build-release.ts [--only dsbackup-linux-arm64,...] [--force]
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { parseArgs } from "node:util";
import { RELEASE_TARGETS, type ReleaseTarget } from "../src/platform.ts";
import { manPage } from "../src/command-line/man.ts";
import { ROOT, compile, gitCommit, packageVersion } from "./build.ts";
import { DEB_ARCH_OF_TARGET, PACKAGING_DIR, buildDeb, debFileName, systemdUnits, type DebArch } from "./debian-package.ts";

export const DIST = join(ROOT, "dist");
export const SUMS_FILE = "SHA256SUMS";
export const MAN_FILE = "dsbackup.1";

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

/** Write dist/dsbackup.1, the page `dsbackup man` prints. */
export function writeManPage(): string {
  const path = join(DIST, MAN_FILE);
  writeFileSync(`${path}.partial`, manPage({ version: packageVersion() }));
  renameSync(`${path}.partial`, path);
  return path;
}

export interface PackageResult {
  readonly arch: DebArch;
  readonly path: string;
  /** False when an up-to-date package was already in dist/. */
  readonly built: boolean;
}

/**
 * Package one Linux build as a .deb unless an identical package is already
 * there (xz-compressing 100 MiB takes minutes): the stamp covers the
 * executable, the packaging templates, the generated man page and
 * completions (through src/), and the systemd units shipped.
 */
export function ensurePackage(build: BuildResult, opts: { force?: boolean; commit?: string; log?: (m: string) => void } = {}): PackageResult {
  const arch = DEB_ARCH_OF_TARGET[build.target.file];
  if (!arch) throw new Error(`${build.target.file} has no Debian architecture`);
  const commit = opts.commit ?? gitCommit();
  const path = join(DIST, debFileName(packageVersion(), arch));
  const stampPath = join(DIST, `.stamp-${debFileName(packageVersion(), arch)}`);
  const h = createHash("sha256").update(`${sha256File(build.path)}\0${commit}\0${packageVersion()}\0`);
  for (const rel of [...filesUnder("src/command-line"), ...filesUnder("packaging/debian"), "scripts/debian-package.ts"]) h.update(`${rel}\0`).update(readFileSync(join(ROOT, rel)));
  for (const unit of systemdUnits(join(ROOT, "contrib"))) h.update(`${unit}\0`).update(readFileSync(unit));
  const stamp = h.digest("hex");
  if (!opts.force && existsSync(path) && existsSync(stampPath) && readFileSync(stampPath, "utf8") === stamp) return { arch, path, built: false };
  opts.log?.(`packaging ${debFileName(packageVersion(), arch)}`);
  rmSync(stampPath, { force: true });
  buildDeb({ binary: build.path, arch, outDir: DIST, commit });
  writeFileSync(stampPath, stamp);
  return { arch, path, built: true };
}

export interface ReleaseOptions {
  force?: boolean;
  log?: (m: string) => void;
  /** Also the man page and the Debian packages (default true). */
  packages?: boolean;
  /** Told about each package as it is made or found up to date. */
  onPackage?: (p: PackageResult) => void;
}

/** Build every release target (and, unless packages is false, the man page and the .debs) and write dist/SHA256SUMS over them. */
export function buildRelease(opts: ReleaseOptions = {}): BuildResult[] {
  if (opts.packages !== false && !existsSync(PACKAGING_DIR)) throw new Error(`${PACKAGING_DIR} is missing`);
  const commit = gitCommit();
  const results = RELEASE_TARGETS.map((t) => ensureReleaseBuild(t, { ...opts, commit }));
  const files = results.map((r) => r.path);
  if (opts.packages !== false) {
    files.push(writeManPage());
    for (const r of results.filter((r) => DEB_ARCH_OF_TARGET[r.target.file])) {
      const p = ensurePackage(r, { ...opts, commit });
      opts.onPackage?.(p);
      files.push(p.path);
    }
  }
  const sums = formatSha256Sums(files.map((path) => ({ name: basename(path), sha256: sha256File(path) })));
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
      const line = (name: string, path: string, built: boolean) =>
        console.log(`${name.padEnd(28)} ${(statSync(path).size / 2 ** 20).toFixed(1).padStart(6)} MiB${built ? "" : "  (unchanged)"}`);
      const packages: PackageResult[] = [];
      for (const r of buildRelease({ force: values.force, log, onPackage: (p) => packages.push(p) })) line(r.target.file, r.path, r.built);
      for (const p of packages) line(basename(p.path), p.path, p.built);
      console.log(`dist/${MAN_FILE} and dist/${SUMS_FILE} written`);
    }
  } catch (err) {
    console.error(`build-release: ${(err as Error).message}`);
    process.exit(1);
  }
}
