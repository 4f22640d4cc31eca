// The Debian package, built the way `npm run build:release` builds it but
// from the dist/dsbackup that npm test compiles (gzip -1 instead of xz, so it
// takes seconds): dpkg-deb --info and --contents show the fields and files,
// lintian finds no error or warning it was not told of, and the package
// unpacked into a scratch root runs and carries the generated man page and
// completions. The release's own .debs are listed in SHA256SUMS
// (release.test.ts).
import { beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { completionScript } from "../../src/command-line/completion.ts";
import { manPage } from "../../src/command-line/man.ts";
import { packageVersion } from "../../scripts/build.ts";
import { buildDeb, PACKAGE_PATHS } from "../../scripts/debian-package.ts";
import { BINARY, hasCommand, runCommand, tempDir } from "../helpers.ts";

const hasDpkg = hasCommand("dpkg-deb", "--version");
const dir = tempDir("deb");
const version = packageVersion();
let deb = "";
let plainDeb = "";

const SERVICE = "[Unit]\nDescription=DirectoryStorage backup\nDocumentation=man:dsbackup(1)\n\n[Service]\nType=oneshot\nExecStart=/usr/bin/dsbackup --storage /var/zope/storage --or-full inc \"36 hours ago\"\n";
const TIMER = "[Unit]\nDescription=Daily DirectoryStorage backup\n\n[Timer]\nOnCalendar=daily\nPersistent=true\n\n[Install]\nWantedBy=timers.target\n";

beforeAll(() => {
  if (!hasDpkg) return;
  // A contrib/ folder as the retention work ships it, and none at all.
  const contrib = join(dir, "contrib");
  mkdirSync(join(contrib, "systemd"), { recursive: true });
  writeFileSync(join(contrib, "systemd", "dsbackup.service"), SERVICE);
  writeFileSync(join(contrib, "systemd", "dsbackup.timer"), TIMER);
  writeFileSync(join(contrib, "systemd", "README"), "not a unit\n");
  const fast = { type: "gzip", level: 1 } as const;
  deb = buildDeb({ binary: BINARY, arch: "amd64", outDir: join(dir, "with-units"), contribDir: contrib, compression: fast });
  plainDeb = buildDeb({ binary: BINARY, arch: "amd64", outDir: join(dir, "plain"), contribDir: join(dir, "no-contrib"), compression: fast });
}, 120_000);

function dpkgDeb(...args: string[]): string {
  const r = spawnSync("dpkg-deb", args, { encoding: "utf8", maxBuffer: 1 << 26 });
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  return r.stdout;
}

describe("the amd64 package", () => {
  test("is named dsbackup_VERSION_amd64.deb", () => {
    if (!hasDpkg) return console.warn("SKIP: dpkg-deb not installed");
    expect(deb.endsWith(`/dsbackup_${version}_amd64.deb`)).toBe(true);
  });

  test("dpkg-deb --info: the control fields", () => {
    if (!hasDpkg) return console.warn("SKIP: dpkg-deb not installed");
    const field = (name: string) => dpkgDeb("--field", deb, name).trim();
    expect(field("Package")).toBe("dsbackup");
    expect(field("Version")).toBe(version);
    expect(field("Architecture")).toBe("amd64");
    expect(field("Maintainer")).toMatch(/^.+ <[^@ ]+@[^@ ]+>$/);
    expect(field("Section")).toBe("admin");
    expect(field("Priority")).toBe("optional");
    expect(field("Depends")).toBe("libc6 (>= 2.17)");
    expect(field("Description")).toMatch(/^backup tool for DirectoryStorage \(ZODB\)\n /);
    // Installed-Size is KiB and covers at least the executable.
    const kib = Number(field("Installed-Size"));
    expect(kib).toBeGreaterThanOrEqual(Math.ceil(statSync(BINARY).size / 1024));
    expect(kib).toBeLessThan(Math.ceil(statSync(BINARY).size / 1024) + 200);
    const info = dpkgDeb("--info", deb);
    expect(info).toMatch(/^ new Debian package, version 2\.0\./);
    expect(info).toMatch(/ md5sums\s*$/m);
  });

  test("dpkg-deb --contents: the files, owned by root, 0755 and 0644", () => {
    if (!hasDpkg) return console.warn("SKIP: dpkg-deb not installed");
    const rows = dpkgDeb("--contents", deb).trim().split("\n").map((line) => {
      const [mode, owner, , , , path] = line.split(/\s+/);
      return { mode: mode!, owner: owner!, path: path!.replace(/^\.\//, "") };
    });
    for (const r of rows) {
      expect({ path: r.path, owner: r.owner }).toEqual({ path: r.path, owner: "root/root" });
      expect({ path: r.path, mode: r.mode }).toEqual({ path: r.path, mode: r.mode.startsWith("d") ? "drwxr-xr-x" : r.path === PACKAGE_PATHS.binary ? "-rwxr-xr-x" : "-rw-r--r--" });
    }
    const files = rows.filter((r) => !r.mode.startsWith("d")).map((r) => r.path).sort();
    expect(files).toEqual(
      [
        PACKAGE_PATHS.binary,
        PACKAGE_PATHS.man,
        PACKAGE_PATHS.bash,
        PACKAGE_PATHS.zsh,
        PACKAGE_PATHS.fish,
        PACKAGE_PATHS.copyright,
        PACKAGE_PATHS.changelog,
        PACKAGE_PATHS.overrides,
        `${PACKAGE_PATHS.systemd}/dsbackup.service`,
        `${PACKAGE_PATHS.systemd}/dsbackup.timer`,
      ].sort(),
    );
    // Without contrib/systemd there are no units (and no empty folder for them).
    expect(dpkgDeb("--contents", plainDeb)).not.toContain("systemd");
  });

  test("lintian: no errors or warnings but the overridden ones", () => {
    if (!hasDpkg) return console.warn("SKIP: dpkg-deb not installed");
    if (!hasCommand("lintian", "--version")) return console.warn("SKIP: lintian not installed (apt-get install lintian)");
    for (const file of [deb, plainDeb]) {
      const r = spawnSync("lintian", ["--fail-on", "error,warning", "--pedantic", "--display-info", file], { encoding: "utf8", maxBuffer: 1 << 26 });
      const tags = r.stdout.split("\n").filter((l) => /^[EWIPX]: /.test(l));
      expect(tags).toEqual([]);
      expect(r.status).toBe(0);
    }
  }, 180_000);

  test("unpacked into a scratch root: the binary prints its version, the files are the generated ones", () => {
    if (!hasDpkg) return console.warn("SKIP: dpkg-deb not installed");
    const root = join(dir, "root");
    const r = spawnSync("dpkg", ["-x", deb, root], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const run = runCommand([join(root, PACKAGE_PATHS.binary)], ["--version"]);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^dsbackup ${version.replace(/\./g, "\\.")} \\(commit [0-9a-f]{12}(-dirty)?\\) linux-x64\\n$`));

    // gzip -9n: no file name and no time in the header (byte 3: flags, bytes 4-7: mtime).
    const man = readFileSync(join(root, PACKAGE_PATHS.man));
    expect(man[3]).toBe(0);
    expect(man.readUInt32LE(4)).toBe(0);
    expect(gunzipSync(man).toString()).toBe(manPage({ version }));
    expect(readFileSync(join(root, PACKAGE_PATHS.bash), "utf8")).toBe(completionScript("bash"));
    expect(readFileSync(join(root, PACKAGE_PATHS.zsh), "utf8")).toBe(completionScript("zsh"));
    expect(readFileSync(join(root, PACKAGE_PATHS.fish), "utf8")).toBe(completionScript("fish"));
    expect(readFileSync(join(root, PACKAGE_PATHS.copyright), "utf8")).toStartWith("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n");
    expect(gunzipSync(readFileSync(join(root, PACKAGE_PATHS.changelog))).toString()).toMatch(new RegExp(`^dsbackup \\(${version.replace(/\./g, "\\.")}\\) unstable; urgency=medium\\n`));
    expect(readFileSync(join(root, PACKAGE_PATHS.systemd, "dsbackup.timer"), "utf8")).toBe(TIMER);

    // The md5sums in the control archive match the unpacked files (what dpkg --verify checks).
    const control = join(dir, "control");
    expect(spawnSync("dpkg-deb", ["-e", deb, control]).status).toBe(0);
    const check = spawnSync("md5sum", ["--check", "--quiet", join(control, "md5sums")], { cwd: root, encoding: "utf8" });
    expect(check.stdout + check.stderr).toBe("");
    expect(check.status).toBe(0);

    // The installed man page is what man(1) finds under the scratch root, and renders cleanly.
    if (hasCommand("man", "--version")) {
      const m = spawnSync("man", ["--warnings", "-l", join(root, PACKAGE_PATHS.man)], { encoding: "utf8", env: { ...process.env, MANWIDTH: "80", PAGER: "cat", MANPAGER: "cat" } });
      expect(m.stderr).toBe("");
      expect(m.stdout).toContain("DSBACKUP(1)");
    }
  });

  test("the same inputs give the same package, byte for byte", () => {
    if (!hasDpkg) return console.warn("SKIP: dpkg-deb not installed");
    const again = buildDeb({ binary: BINARY, arch: "amd64", outDir: join(dir, "again"), contribDir: join(dir, "no-contrib"), compression: { type: "gzip", level: 1 } });
    expect(readFileSync(again).equals(readFileSync(plainDeb))).toBe(true);
  }, 60_000);
});
