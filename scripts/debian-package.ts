// Debian packages of a Linux release build, made with dpkg-deb alone: the
// executable, the man page, the bash/zsh/fish completions, the copyright
// file and changelog, lintian overrides, and the systemd units of
// contrib/systemd/ when that folder exists. The man page and completions are
// made from src/command-line/ here (not by running the executable), so the
// arm64 package is built without running an arm64 binary.
//
// Usage: bun scripts/debian-package.ts BINARY amd64|arm64 [OUTDIR]
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { completionScript } from "../src/command-line/completion.ts";
import { manPage } from "../src/command-line/man.ts";
import { ROOT, gitCommit, packageVersion } from "./build.ts";

export type DebArch = "amd64" | "arm64";

/** The Debian architecture of each Linux glibc release build. */
export const DEB_ARCH_OF_TARGET: Record<string, DebArch> = { "dsbackup-linux-x64": "amd64", "dsbackup-linux-arm64": "arm64" };

export const PACKAGING_DIR = join(ROOT, "packaging", "debian");

/** Where each generated file goes in the package (paths inside the installed system). */
export const PACKAGE_PATHS = {
  binary: "usr/bin/dsbackup",
  man: "usr/share/man/man1/dsbackup.1.gz",
  bash: "usr/share/bash-completion/completions/dsbackup",
  zsh: "usr/share/zsh/vendor-completions/_dsbackup",
  fish: "usr/share/fish/vendor_completions.d/dsbackup.fish",
  copyright: "usr/share/doc/dsbackup/copyright",
  changelog: "usr/share/doc/dsbackup/changelog.gz",
  overrides: "usr/share/lintian/overrides/dsbackup",
  systemd: "usr/lib/systemd/system",
} as const;

export interface DebOptions {
  /** A Linux glibc executable of `arch`. */
  binary: string;
  arch: DebArch;
  outDir: string;
  version?: string;
  commit?: string;
  /** Folder with systemd/*.service and *.timer to ship (default contrib/ of the repository); skipped when absent. */
  contribDir?: string;
  /** dpkg-deb's compressor; xz (its default) for releases, gzip -1 keeps tests fast. */
  compression?: { type: "xz" | "gzip" | "zstd" | "none"; level?: number };
  /** File and changelog times, in epoch seconds (default: SOURCE_DATE_EPOCH, else the commit's time). */
  sourceDateEpoch?: number;
}

export function debFileName(version: string, arch: DebArch): string {
  return `dsbackup_${version}_${arch}.deb`;
}

function run(command: string, args: string[], opts: { input?: Buffer | string; env?: Record<string, string> } = {}): Buffer {
  const r = spawnSync(command, args, { input: opts.input, env: { ...process.env, ...opts.env }, maxBuffer: 1 << 30 });
  if (r.error) throw new Error(`${command}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (exit ${r.status}): ${r.stderr.toString().trim()}`);
  return r.stdout;
}

/** gzip -9n: no name or time inside, so equal input gives equal bytes (Debian policy 12.3). */
function gzip9n(data: string | Buffer): Buffer {
  return run("gzip", ["-9n"], { input: data });
}

function commitTime(): number {
  const r = spawnSync("git", ["log", "-1", "--format=%ct"], { cwd: ROOT, encoding: "utf8" });
  const t = Number(r.stdout.trim());
  return r.status === 0 && t > 0 ? t : Math.floor(Date.now() / 1000);
}

/** RFC 5322 date as debian/changelog wants it, in UTC. */
function changelogDate(epoch: number): string {
  return new Date(epoch * 1000).toUTCString().replace("GMT", "+0000");
}

/** The systemd units to ship: contrib/systemd/*.service and *.timer. */
export function systemdUnits(contribDir: string): string[] {
  const dir = join(contribDir, "systemd");
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((n) => /\.(service|timer)$/.test(n)).sort().map((n) => join(dir, n));
}

function fill(template: string, values: Record<string, string>): string {
  return template.replace(/@([A-Z_]+)@/g, (whole, key: string) => {
    if (!(key in values)) throw new Error(`no value for ${whole} in a packaging template`);
    return values[key]!;
  });
}

/** Every file and folder under root, relative, folders first. */
function walk(root: string, rel = ""): { rel: string; dir: boolean }[] {
  const out: { rel: string; dir: boolean }[] = [];
  for (const e of readdirSync(join(root, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    out.push({ rel: r, dir: e.isDirectory() });
    if (e.isDirectory()) out.push(...walk(root, r));
  }
  return out;
}

/** Build dsbackup_VERSION_ARCH.deb in opts.outDir; returns its path. */
export function buildDeb(opts: DebOptions): string {
  const version = opts.version ?? packageVersion();
  const commit = opts.commit ?? gitCommit();
  const epoch = opts.sourceDateEpoch ?? (Number(process.env.SOURCE_DATE_EPOCH) || commitTime());
  const stage = mkdtempSync(join(tmpdir(), "dsbackup-deb-"));
  try {
    const put = (rel: string, data: string | Buffer, mode: number) => {
      const path = join(stage, rel);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, data);
      chmodSync(path, mode);
    };
    mkdirSync(join(stage, dirname(PACKAGE_PATHS.binary)), { recursive: true });
    copyFileSync(opts.binary, join(stage, PACKAGE_PATHS.binary));
    chmodSync(join(stage, PACKAGE_PATHS.binary), 0o755);
    put(PACKAGE_PATHS.man, gzip9n(manPage({ version })), 0o644);
    put(PACKAGE_PATHS.bash, completionScript("bash"), 0o644);
    put(PACKAGE_PATHS.zsh, completionScript("zsh"), 0o644);
    put(PACKAGE_PATHS.fish, completionScript("fish"), 0o644);
    put(PACKAGE_PATHS.copyright, readFileSync(join(PACKAGING_DIR, "copyright")), 0o644);
    const changelog = fill(readFileSync(join(PACKAGING_DIR, "changelog.in"), "utf8"), { VERSION: version, COMMIT: commit, DATE: changelogDate(epoch) });
    put(PACKAGE_PATHS.changelog, gzip9n(changelog), 0o644);
    put(PACKAGE_PATHS.overrides, readFileSync(join(PACKAGING_DIR, "lintian-overrides")), 0o644);
    for (const unit of systemdUnits(opts.contribDir ?? join(ROOT, "contrib"))) {
      put(`${PACKAGE_PATHS.systemd}/${unit.split("/").pop()}`, readFileSync(unit), 0o644);
    }

    // DEBIAN/md5sums, as dh_md5sums writes it: dpkg --verify checks the installed files against it.
    const files = walk(stage).filter((e) => !e.dir).map((e) => e.rel).sort();
    put("DEBIAN/md5sums", files.map((rel) => `${createHash("md5").update(readFileSync(join(stage, rel))).digest("hex")}  ${rel}\n`).join(""), 0o644);

    // Installed-Size: KiB, each file rounded up, as dpkg-gencontrol counts.
    const entries = walk(stage).filter((e) => !e.rel.startsWith("DEBIAN"));
    let kib = 0;
    for (const e of entries) kib += e.dir ? 1 : Math.ceil(statSync(join(stage, e.rel)).size / 1024);
    const control = fill(readFileSync(join(PACKAGING_DIR, "control.in"), "utf8"), { VERSION: version, ARCH: opts.arch, INSTALLED_SIZE: String(kib) });
    put("DEBIAN/control", control, 0o644);
    // Folders 0755 whatever the umask (and the stage itself, which mkdtemp made 0700).
    chmodSync(stage, 0o755);
    for (const e of walk(stage)) if (e.dir) chmodSync(join(stage, e.rel), 0o755);
    // Equal inputs, equal package: every time is the source date (dpkg-deb reads SOURCE_DATE_EPOCH for the ar members).
    for (const e of [...walk(stage)].reverse()) utimesSync(join(stage, e.rel), epoch, epoch);
    utimesSync(stage, epoch, epoch);

    mkdirSync(opts.outDir, { recursive: true });
    const out = join(opts.outDir, debFileName(version, opts.arch));
    const partial = `${out}.partial`;
    rmSync(partial, { force: true });
    const c = opts.compression ?? { type: "xz" };
    const args = ["--root-owner-group", "-Z", c.type, ...(c.level === undefined ? [] : [`-z${c.level}`]), "--build", stage, partial];
    try {
      run("dpkg-deb", args, { env: { SOURCE_DATE_EPOCH: String(epoch) } });
      renameSync(partial, out);
    } finally {
      rmSync(partial, { force: true });
    }
    return out;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const [binary, arch, outDir] = process.argv.slice(2);
  if (!binary || (arch !== "amd64" && arch !== "arm64")) {
    console.error("usage: bun scripts/debian-package.ts BINARY amd64|arm64 [OUTDIR]");
    process.exit(2);
  }
  try {
    console.log(buildDeb({ binary, arch, outDir: outDir ?? join(ROOT, "dist") }));
  } catch (err) {
    console.error(`debian-package: ${(err as Error).message}`);
    process.exit(1);
  }
}
