// The one size format and counted nouns used by every message.
import { expect, test } from "bun:test";
import { humanRate, humanSize } from "../src/human-size.ts";
import { count } from "../src/plural.ts";
import { readProgressText } from "../src/restore/progress.ts";

test("humanSize: bytes, then binary units with one decimal", () => {
  expect([0, 1, 1023, 1024, 1536, 1024 * 1024 - 1, 26.5 * 1024 * 1024, 3 * 1024 ** 3].map(humanSize)).toEqual([
    "0 B", "1 B", "1023 B", "1.0 KiB", "1.5 KiB", "1.0 MiB", "26.5 MiB", "3.0 GiB",
  ]);
  expect(humanRate(2.25 * 1024 * 1024)).toBe("2.3 MiB/s");
});

test("count: singular only for exactly one", () => {
  expect([count(0, "entry", "entries"), count(1, "entry", "entries"), count(2, "archive"), count(12345, "file")]).toEqual([
    "0 entries", "1 entry", "2 archives", "12,345 files",
  ]);
});

test("restore/verify progress text: files, compressed and tar bytes, rate, ETA from the plan's sizes", () => {
  expect(readProgressText({ files: 1, tarBytes: 3 * 1024 * 1024, readBytes: 1024 * 1024 }, 4 * 1024 * 1024, 2)).toBe(
    "1 file  1.0 MiB of 4.0 MiB compressed  3.0 MiB of tar  512.0 KiB/s  ETA 0:06",
  );
  expect(readProgressText({ files: 10, tarBytes: 0, readBytes: 4096 }, 4096, 1)).not.toContain("ETA");
});
