// Symbolic links at the top of HOME: a link to a folder (backups ->
// /mnt/backups, A -> /data/A) is backed up as that folder's bare entry, with
// the folder's own mode; anything else at the top is left out with a
// warning; links below A/ and config/ stay refused.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, renameSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createStorage } from "../fixtures/generator.ts";
import { dsbackup, listArchive, tempDir, tools } from "../helpers.ts";

if (!tools.python) console.warn("SKIP: python3 not installed; top-level symlink tests list archives with its tarfile");

/** name -> mode of every entry (python tarfile). */
function modes(archive: string): Record<string, number> {
  const r = spawnSync("python3", ["-c", "import sys,tarfile\nfor m in tarfile.open(sys.argv[1]): print(m.name, m.mode)", archive], { encoding: "utf8" });
  return Object.fromEntries(r.stdout.trim().split("\n").map((l) => [l.split(" ")[0]!, Number(l.split(" ")[1])]));
}

describe.skipIf(!tools.python)("top-level symbolic links", () => {
  test("links to folders inside or outside HOME are folder entries; other names are left out with a warning", () => {
    const dir = tempDir("toplinks");
    const home = join(dir, "storage");
    createStorage(home, { format: "bushy", transactions: 3, objectsPerTransaction: 2, seed: 3 });
    // backups -> a folder outside HOME; A -> the real A/ moved outside HOME; extra -> a folder inside HOME.
    renameSync(join(home, "backups"), join(dir, "mnt-backups"));
    symlinkSync(join(dir, "mnt-backups"), join(home, "backups"));
    renameSync(join(home, "A"), join(dir, "data-A"));
    symlinkSync(join(dir, "data-A"), join(home, "A"));
    mkdirSync(join(home, "real-extra"));
    chmodSync(join(home, "real-extra"), 0o710);
    symlinkSync("real-extra", join(home, "extra"));
    writeFileSync(join(dir, "a-file"), "x");
    symlinkSync(join(dir, "a-file"), join(home, "note"));
    symlinkSync(join(dir, "nowhere"), join(home, "dangling"));

    const r = dsbackup(["--storage", home, "full"]);
    expect(r.status).toBe(0);
    const archive = join(dir, "mnt-backups", "backup-1.tgz");
    const names = listArchive(archive);
    for (const folder of ["A/", "backups/", "extra/", "real-extra/"]) expect(names).toContain(folder);
    expect(names.some((n) => n.startsWith("A/") && n !== "A/")).toBe(true); // A/'s files, through the link
    expect(names).not.toContain("note");
    expect(names).not.toContain("dangling");
    expect(modes(archive).extra).toBe(0o710); // the folder's mode, not the link's 0777
    const warnings = r.stderr.split("\n").filter((l) => l.includes("left out of the backup"));
    expect(warnings.map((l) => l.replace(/^.*\//, ""))).toEqual([
      "dangling: not a directory, left out of the backup",
      "note: not a directory, left out of the backup",
    ]);
  });

  test("a symbolic link inside config/ is still refused", () => {
    const home = join(tempDir("configlink"), "storage");
    createStorage(home, { format: "bushy", transactions: 2, objectsPerTransaction: 2, seed: 3 });
    symlinkSync(join(home, "config", "settings"), join(home, "config", "linked"));
    const r = dsbackup(["--storage", home, "full"]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`${join(home, "config", "linked")} is a symbolic link`);
  });
});
