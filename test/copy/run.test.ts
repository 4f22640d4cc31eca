// The copy core over two real folder locations: a writer that ignores the
// lock and changes the destination's index mid-copy makes the conditional
// index write fail (exit 11), and the archives this run copied are taken away again.
import { expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { copyBackups } from "../../src/copy/run.ts";
import { ExitCode, IndexConflictError, InterruptedError } from "../../src/errors.ts";
import { FolderLocation } from "../../src/location/folder.ts";
import { tempDir } from "../helpers.ts";

function source(): string {
  const dir = tempDir("copy-core");
  writeFileSync(join(dir, "tindex"), "1     1790000000   0000000000000001\n2     1790000100   0000000000000002\n");
  writeFileSync(join(dir, "a-1.tgz"), "full");
  writeFileSync(join(dir, "a-1-to-2.tgz"), "incremental");
  return dir;
}

test("an index changed behind the lock's back: IndexConflictError, the copied archives removed, the other writer's index kept", async () => {
  const dest = tempDir("copy-core-dest");
  const theirs = "7     1790000700   0000000000000007\n";
  const err = await copyBackups({
    source: new FolderLocation(source()),
    destination: new FolderLocation(dest),
    signal: new AbortController().signal,
    warn: (m) => { throw new Error(`unexpected warning: ${m}`); },
    onArchiveStart: (_a, i) => { if (i === 1) writeFileSync(join(dest, "tindex"), theirs); },
  }).then(() => undefined, (e) => e);
  expect(err).toBeInstanceOf(IndexConflictError);
  expect((err as IndexConflictError).exitCode).toBe(ExitCode.locked);
  expect(readdirSync(dest).filter((n) => !n.startsWith(".")).sort()).toEqual(["tindex"]);
  expect(readFileSync(join(dest, "tindex"), "utf8")).toBe(theirs);
});

test("an abort before the index is written: the copied archives removed, the index untouched", async () => {
  const dest = tempDir("copy-core-dest");
  const controller = new AbortController();
  const err = await copyBackups({
    source: new FolderLocation(source()),
    destination: new FolderLocation(dest),
    signal: controller.signal,
    warn: () => {},
    onArchiveCopied: () => controller.abort(new Error("stop")),
  }).then(() => undefined, (e) => e);
  expect(err).toBeInstanceOf(InterruptedError);
  expect((err as Error).message).toBe(`copy to ${dest} interrupted; its index is unchanged`);
  expect(readdirSync(dest).filter((n) => !n.startsWith("."))).toEqual([]);
});
