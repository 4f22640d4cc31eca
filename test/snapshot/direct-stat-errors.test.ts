// An lstat that fails while planning a roll-forward (EACCES as a non-root
// user sees it, or a file that vanished) is a one-line error naming the path,
// not an internal error. Root passes every permission check, so the failure
// is injected into node:fs's lstatSync for the one path.
import { afterEach, expect, spyOn, test } from "bun:test";
import * as fs from "node:fs";
import { join } from "node:path";
import { createStorage } from "../fixtures/generator.ts";
import { buildCrashedStorage } from "../fixtures/crash.ts";
import { tempDir } from "../helpers.ts";
import { planRollForward } from "../../src/snapshot/direct.ts";
import { FileError } from "../../src/errors.ts";

const restore: (() => void)[] = [];
afterEach(() => {
  for (const r of restore.splice(0)) r();
});

function failLstat(match: (path: string) => boolean) {
  const original = fs.lstatSync;
  const spy = spyOn(fs, "lstatSync").mockImplementation(((path: fs.PathLike, opts?: never) => {
    if (match(String(path))) throw Object.assign(new Error(`EACCES: permission denied, lstat '${path}'`), { code: "EACCES", errno: -13 });
    return original(path, opts);
  }) as typeof fs.lstatSync);
  restore.push(() => spy.mockRestore());
}

function crashed() {
  const dir = tempDir("direct-stat");
  const base = join(dir, "base");
  createStorage(base, { format: "bushy", transactions: 4, objectsPerTransaction: 2, seed: 5 });
  const home = join(dir, "crashed");
  buildCrashedStorage(base, "bushy", join(dir, "expected"), home, { inB: 1, done: 2, temp: true });
  return home;
}

test.each([
  ["a journal folder", (p: string) => /journal\/working_[0-9A-F]+_done$/.test(p)],
  ["a file of a committed transaction", (p: string) => /journal\/working_[0-9A-F]+_done\/.+/.test(p)],
  ["a file in B/", (p: string) => /\/B\/.+/.test(p)],
] as const)("an lstat failing on %s names the path", (_label, match) => {
  const home = crashed();
  failLstat(match);
  let err: unknown;
  try {
    planRollForward(home, "bushy");
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(FileError);
  expect((err as FileError).message).toMatch(new RegExp(`^Cannot stat ${home}/(journal|B)/\\S+: `));
});
