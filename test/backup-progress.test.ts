import { expect, test } from "bun:test";
import { progressLine, progressText } from "../src/backup/progress.ts";

test("progress text: files, MiB, rate, ETA from the expected count", () => {
  expect(progressText({ files: 1000, bytes: 10 * 1024 * 1024 }, 2, 4000)).toBe("1,000 files  10.0 MiB  5.0 MiB/s  ETA 0:06");
  expect(progressText({ files: 1000, bytes: 0 }, 0)).toBe("1,000 files  0.0 MiB  0.0 MiB/s");
  expect(progressText({ files: 5000, bytes: 0 }, 3, 4000)).not.toContain("ETA");
});

test("progress line is throttled and cleared", () => {
  const out: string[] = [];
  let t = 0;
  const line = progressLine((s) => out.push(s), undefined, () => t);
  line.update({ files: 1, bytes: 1 });
  t = 50;
  line.update({ files: 2, bytes: 2 });
  t = 300;
  line.update({ files: 3, bytes: 3 });
  line.clear();
  expect(out.length).toBe(3);
  expect(out[2]).toBe("\r\x1b[K");
});
