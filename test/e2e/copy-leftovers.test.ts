// copy settles a folder destination's leftovers as backup does: a killed
// backup's archive that the destination's index already names (written under
// its temporary name, the index line committed, the rename not yet done) is
// completed by renaming, never deleted as an incomplete write.
import { expect, test } from "bun:test";
import { existsSync, readFileSync, readdirSync, renameSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { createStorage } from "../fixtures/generator.ts";
import { copyBackups, dsbackup, tempDir } from "../helpers.ts";

test("a committed archive left under its temporary name at the destination is renamed into place, not copied again", () => {
  const home = join(tempDir("copy-left"), "storage");
  createStorage(home, { format: "flat", transactions: 6, seed: 3 });
  expect(dsbackup(["--storage", home, "-q", "full"]).status).toBe(0);
  const source = copyBackups(join(home, "backups"), "copy-left-source");
  const dest = join(home, "backups");
  const bytes = readFileSync(join(dest, "backup-1.tgz"));
  // As a backup killed between its index line and its rename leaves it (pid 999999: not running).
  const temp = `.tmp-${hostname()}-999999-backup-1.tgz`;
  renameSync(join(dest, "backup-1.tgz"), join(dest, temp));
  const r = dsbackup(["copy", "--backups", source, "--to", dest]);
  expect(r.status).toBe(0);
  expect(r.stdout + r.stderr).toContain("nothing to copy");
  expect(existsSync(join(dest, temp))).toBe(false);
  expect(readFileSync(join(dest, "backup-1.tgz")).equals(bytes)).toBe(true);
  expect(readdirSync(dest).filter((n) => n.startsWith(".tmp-"))).toEqual([]);
});
