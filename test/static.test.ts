// Source-level promises: what the executable may spawn, where bun:ffi lives,
// and that commands do not exit the process behind the lock's back.
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

const SRC = join(import.meta.dir, "../src");
function sources(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? sources(join(dir, d.name)) : d.name.endsWith(".ts") ? [join(dir, d.name)] : [],
  );
}
const files = sources().map((path) => ({ path: relative(SRC, path), text: readFileSync(path, "utf8") }));

test("only fsutil/flock.ts imports bun:ffi", () => {
  expect(files.filter((f) => /from "bun:ffi"/.test(f.text)).map((f) => f.path)).toEqual(["fsutil/flock.ts"]);
});

test("no external tool (find, cpio, gzip, tar, date) is ever spawned", () => {
  const spawning = files.filter((f) => /child_process|Bun\.spawn|\bexecSync\b/.test(f.text));
  // Only the snapshot command runs a program, and only the one the user names.
  for (const f of spawning) expect(f.path).toMatch(/^(commands\/snapshot|snapshot\/run-command)\.ts$/);
  for (const f of files) expect(f.text).not.toMatch(/spawn\w*\(\s*["'`](find|cpio|gzip|tar|date|pigz)["'`]/);
});

test("process.exit only in the entry point", () => {
  expect(files.filter((f) => /process\.exit\(/.test(f.text)).map((f) => f.path)).toEqual(["cli.ts"]);
});
