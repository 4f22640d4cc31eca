// writeArchive into a ByteSink (what an upload or an encryption stream is):
// the same bytes as into a file, one write outstanding at a time, and a
// failing sink fails the archive.
import { describe, expect, test } from "bun:test";
import { closeSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeArchive, type ByteSink } from "../../src/archive/writer.ts";
import { tempDir } from "../helpers.ts";
import { listEntries, makeTree } from "./tree.ts";

describe("writeArchive to a ByteSink", () => {
  const src = join(tempDir("sink"), "src");
  makeTree(src, 400, 5);
  const entries = () => listEntries(src);

  test("gives the same bytes as a file, with back-pressure honoured", async () => {
    const file = join(tempDir("sink-file"), "a.tgz");
    const fd = openSync(file, "w");
    await writeArchive(entries(), fd, { jobs: 2 });
    closeSync(fd);
    const chunks: Uint8Array[] = [];
    let outstanding = 0;
    let most = 0;
    const sink: ByteSink = {
      label: "test sink",
      async write(chunk) {
        outstanding++;
        most = Math.max(most, outstanding);
        await new Promise((r) => setTimeout(r, 2));
        chunks.push(chunk.slice());
        outstanding--;
      },
    };
    const result = await writeArchive(entries(), sink, { jobs: 2 });
    const bytes = Buffer.concat(chunks);
    expect(bytes.equals(readFileSync(file))).toBe(true);
    expect(result.outputBytes).toBe(bytes.length);
    expect(most).toBe(1);
  });

  test("a failing sink fails the archive with its own error", async () => {
    let calls = 0;
    const sink: ByteSink = {
      label: "failing sink",
      async write() {
        if (++calls === 1) throw new Error("upload refused");
      },
    };
    await expect(writeArchive(entries(), sink, { jobs: 1, level: 1 })).rejects.toThrow("upload refused");
  });
});
