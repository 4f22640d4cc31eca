import { describe, expect, test } from "bun:test";
import { entryProblem } from "../../src/restore/entry-rules.ts";

describe("entryProblem", () => {
  test("accepts what DirectoryStorage archives hold", () => {
    for (const [name, kind] of [
      ["A/", "directory"], ["B/", "directory"], ["misc/", "directory"], ["config/settings", "file"],
      ["A/x/serial", "file"], ["A/o0/12/34/56/78/9a/bc/def/c", "file"], ["A/o012/", "directory"], ["A/t01234567.89ABCDEF", "file"],
    ]) expect(entryProblem(name!, kind!)).toBeUndefined();
  });

  test("refuses everything else, saying why", () => {
    const cases: [string, string, string][] = [
      ["/etc/passwd", "file", "absolute"],
      ["A/../../etc/passwd", "file", "'..'"],
      ["../x", "directory", "'..'"],
      ["A/link", "symbolic link", "symbolic link refused"],
      ["A/hard", "hard link", "hard link refused"],
      ["A/dev", "character device", "character device refused"],
      ["A/fifo", "fifo", "fifo refused"],
      ["misc/snapshot", "file", "outside config/ and A/"],
      ["A", "file", "outside config/ and A/"],
      ["journal/working_0000000000000001_done/x.serial", "file", "outside"],
      ["./A/x", "file", "'.' path component"],
      ["A//x", "file", "empty or '.'"],
      ["C:/x", "file", "drive-letter"],
      ["A\\..\\x", "file", "backslash"],
      ["A/x\ny", "file", "control character"],
      ["", "file", "empty"],
    ];
    for (const [name, kind, why] of cases) expect(entryProblem(name, kind)).toContain(why);
  });
});
