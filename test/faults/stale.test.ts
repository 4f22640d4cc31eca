// Which leftover temporary files a run may touch, and what it does with them.
import { describe, expect, test } from "bun:test";
import { hostname } from "node:os";
import { parseOwnTempName } from "../../src/fsutil/atomic.ts";
import { archiveSequence, findStaleTemps, sequenceAfterLeftovers } from "../../src/backup/stale.ts";
import type { IndexEntry } from "../../src/index/tindex.ts";

const index: IndexEntry[] = [1, 2, 3].map((seq) => ({ seq, timestamp: 1000 * seq, tid: "0".repeat(16), line: seq }));
const dead = () => false;

describe("temporary names", () => {
  test("only this host's names with a numeric pid are ours (host names may contain dashes)", () => {
    expect(parseOwnTempName(".tmp-web-1-4242-backup-3.tgz", "web-1")).toEqual({ pid: 4242, finalName: "backup-3.tgz" });
    expect(parseOwnTempName(".tmp-web-1-4242-tindex", "web-1")).toEqual({ pid: 4242, finalName: "tindex" });
    expect(parseOwnTempName(".tmp-web-2-4242-backup-3.tgz", "web-1")).toBeUndefined();
    expect(parseOwnTempName(".tmp-web-1-x42-backup-3.tgz", "web-1")).toBeUndefined();
    expect(parseOwnTempName(".tmp-web-1-0-backup-3.tgz", "web-1")).toBeUndefined();
    expect(parseOwnTempName("backup-3.tgz", "web-1")).toBeUndefined();
  });

  test("the sequence number is the last number of an archive name", () => {
    expect(archiveSequence("backup-7.tgz")).toBe(7);
    expect(archiveSequence("my-2-storage-5-to-7.tgz")).toBe(7);
    expect(archiveSequence("tindex")).toBeUndefined();
    expect(archiveSequence("backup-7.tgz.age")).toBe(7);
    expect(archiveSequence("s-5-to-8.tgz.age")).toBe(8);
  });
});

describe("findStaleTemps", () => {
  const host = hostname();
  const t = (pid: number, name: string) => `.tmp-${host}-${pid}-${name}`;

  test("live processes' files are left alone", () => {
    expect(findStaleTemps([t(77, "backup-4.tgz")], index, () => false, () => true)).toEqual([]);
  });

  test("no index line: never committed, removed; tindex copies are always removed", () => {
    expect(findStaleTemps([t(77, "backup-4.tgz"), t(77, "tindex")], index, () => false, dead).map((s) => s.action)).toEqual(["remove", "remove"]);
  });

  test("index line written, final name free: committed, completed by renaming", () => {
    expect(findStaleTemps([t(77, "a-3.tgz"), t(77, "b-1-to-3.tgz")], index, () => false, dead).map((s) => [s.finalName, s.action])).toEqual([
      ["a-3.tgz", "complete"],
      ["b-1-to-3.tgz", "complete"],
    ]);
  });

  test("final name already taken: the temporary copy is removed, the archive kept", () => {
    expect(findStaleTemps([t(77, "a-3.tgz")], index, (n) => n === "a-3.tgz", dead)[0]!.action).toBe("remove");
  });
});

describe("sequenceAfterLeftovers", () => {
  test("a number any leftover or archive carries is never taken again", () => {
    expect(sequenceAfterLeftovers(4, ["tindex", "backup-1.tgz", "backup-2-to-3.tgz"])).toBe(4);
    expect(sequenceAfterLeftovers(4, [".tmp-otherhost-12-backup-4.tgz"])).toBe(5);
    expect(sequenceAfterLeftovers(4, [".tmp-web-1-4242-x-2-to-6.tgz", "y-5.tgz"])).toBe(7);
    expect(sequenceAfterLeftovers(4, [".tmp-web-1-4242-tindex", ".tindex.lock"])).toBe(4);
  });
});
