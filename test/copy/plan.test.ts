// Copy planning (pure): refusals, what is copied, and the merged index text, byte for byte.
import { describe, expect, test } from "bun:test";
import { CopyRefusedError, lineWithDigests, mergeIndex, planCopy, type IndexText } from "../../src/copy/plan.ts";
import { ExitCode } from "../../src/errors.ts";
import type { ArchiveDigest } from "../../src/index/tindex.ts";

const A = "0".repeat(64);
const B = "b".repeat(64);
const H = "# header\n";
const src = (text: string): IndexText => ({ path: "/src/tindex", text });
const dst = (text: string | undefined): IndexText => ({ path: "s3://b/p/tindex", text });
const objs = (...specs: [string, number][]) => specs.map(([name, size]) => ({ name, size }));

const SOURCE = `${H}1     1790000000   0000000000000001
2     1790000100   0000000000000002  # stdout backup-1-to-2.tgz
3     1790000200   0000000000000003  # sha256 backup-2-to-3.tgz 30 ${A}; sha256 other-3.tgz 31 ${B}
4     1790000300   0000000000000004
`;

describe("planCopy", () => {
  test("copies what the destination lacks, with the streamed reference line an incremental starts from", () => {
    const plan = planCopy({ source: src(SOURCE), sourceObjects: objs(["backup-1.tgz", 10], ["backup-2-to-3.tgz", 30], ["other-3.tgz", 31], ["stray-9.tgz", 5], ["tindex", 1]), destination: dst(undefined), destObjects: [], prefix: "backup" });
    expect(plan.toCopy.map((a) => a.archive.name)).toEqual(["backup-1.tgz", "backup-2-to-3.tgz"]);
    expect(plan.toCopy[1]!.recorded).toEqual({ name: "backup-2-to-3.tgz", size: 30, sha256: A });
    expect(plan.referenceLines.map((e) => e.seq)).toEqual([2]);
    expect(plan.unindexed).toEqual([]);
    const all = planCopy({ source: src(SOURCE), sourceObjects: objs(["backup-1.tgz", 10], ["stray-9.tgz", 5]), destination: dst(undefined), destObjects: [] });
    expect(all.unindexed).toEqual(["stray-9.tgz"]);
  });

  test("refuses when the indexes disagree about a sequence number, naming both lines", () => {
    const other = `${H}3     1790000201   0000000000000003\n`;
    let err: unknown;
    try {
      planCopy({ source: src(SOURCE), sourceObjects: [], destination: dst(other), destObjects: [] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CopyRefusedError);
    expect((err as CopyRefusedError).exitCode).toBe(ExitCode.refused);
    expect((err as Error).message).toBe(
      `the indexes disagree about sequence 3: /src/tindex line 4 is "3     1790000200   0000000000000003  # sha256 backup-2-to-3.tgz 30 ${A}; sha256 other-3.tgz 31 ${B}", ` +
        `s3://b/p/tindex line 2 is "3     1790000201   0000000000000003"; they hold different histories, nothing was copied`,
    );
  });

  test("refuses an archive in both with another size or recorded sha256", () => {
    const sourceObjects = objs(["backup-2-to-3.tgz", 30]);
    expect(() => planCopy({ source: src(SOURCE), sourceObjects, destination: dst(H), destObjects: objs(["backup-2-to-3.tgz", 29]) })).toThrow(/30 bytes in \/src, 29 bytes in s3:\/\/b\/p; it is never overwritten/);
    const recorded = `${H}3     1790000200   0000000000000003  # sha256 backup-2-to-3.tgz 30 ${B}\n`;
    expect(() => planCopy({ source: src(SOURCE), sourceObjects, destination: dst(recorded), destObjects: objs(["backup-2-to-3.tgz", 30]) })).toThrow(CopyRefusedError);
    const same = planCopy({ source: src(SOURCE), sourceObjects, destination: dst(recorded.replace(B, A)), destObjects: objs(["backup-2-to-3.tgz", 30]) });
    expect(same.toCopy).toEqual([]);
    expect(same.present.map((p) => p.destRecorded?.sha256)).toEqual([A]);
  });
});

describe("lineWithDigests", () => {
  const d = (name: string, size: number, sha256: string): ArchiveDigest => ({ name, size, sha256 });
  test("adds items, drops those of archives the destination will not hold, keeps other notes and an unchanged line verbatim", () => {
    expect(lineWithDigests("1     1790000000   0000000000000001", () => true, [d("x-1.tgz", 7, A)])).toBe(`1     1790000000   0000000000000001  # sha256 x-1.tgz 7 ${A}`);
    const three = `3     1790000200   0000000000000003  # sha256 backup-2-to-3.tgz 30 ${A}; sha256 other-3.tgz 31 ${B}`;
    expect(lineWithDigests(three, (n) => n !== "other-3.tgz", [])).toBe(`3     1790000200   0000000000000003  # sha256 backup-2-to-3.tgz 30 ${A}`);
    expect(lineWithDigests(three, () => true, [d("backup-2-to-3.tgz", 30, A)])).toBe(three);
    expect(lineWithDigests("5 1 000000000000000A  # tid from x.serial", () => true, [d("y-5.tgz", 1, B)])).toBe(`5 1 000000000000000A  # tid from x.serial; sha256 y-5.tgz 1 ${B}`);
    expect(lineWithDigests(`6 1 000000000000000B  # sha256 gone-6.tgz 1 ${A}`, () => false, [])).toBe("6 1 000000000000000B");
  });
});

describe("mergeIndex", () => {
  test("inserts the source's lines in sequence order, each just before the next entry line of the destination, whose own lines keep their place", () => {
    const destination = dst(`${H}# a note of the destination\n2     1790000100   0000000000000002  # stdout backup-1-to-2.tgz\n9     1790000900   0000000000000009\n`);
    const sourceObjects = objs(["backup-1.tgz", 10], ["backup-2-to-3.tgz", 30], ["backup-4.tgz", 40]);
    const plan = planCopy({ source: src(SOURCE), sourceObjects, destination, destObjects: objs(["backup-9.tgz", 90]) });
    const digests = new Map([
      ["backup-1.tgz", { name: "backup-1.tgz", size: 10, sha256: B }],
      ["backup-2-to-3.tgz", { name: "backup-2-to-3.tgz", size: 30, sha256: A }],
      ["backup-4.tgz", { name: "backup-4.tgz", size: 40, sha256: A }],
    ]);
    const { text, changes } = mergeIndex(plan, src(SOURCE), destination, digests, new Set(["backup-9.tgz"]));
    expect(text).toBe(
      `${H}# a note of the destination\n` +
        `1     1790000000   0000000000000001  # sha256 backup-1.tgz 10 ${B}\n` +
        "2     1790000100   0000000000000002  # stdout backup-1-to-2.tgz\n" +
        `3     1790000200   0000000000000003  # sha256 backup-2-to-3.tgz 30 ${A}\n` +
        `4     1790000300   0000000000000004  # sha256 backup-4.tgz 40 ${A}\n` +
        "9     1790000900   0000000000000009\n",
    );
    expect(changes.map((c) => [c.seq, c.kind])).toEqual([[1, "added"], [3, "added"], [4, "added"]]);
  });

  test("a new index starts with the header; a destination line gains the digest of an archive that arrives", () => {
    const one = `${H}1     1790000000   0000000000000001\n`;
    const plan = planCopy({ source: src(one), sourceObjects: objs(["a-1.tgz", 10]), destination: dst(undefined), destObjects: [] });
    const digests = new Map([["a-1.tgz", { name: "a-1.tgz", size: 10, sha256: A }]]);
    const fresh = mergeIndex(plan, src(one), dst(undefined), digests, new Set());
    expect(fresh.text).toStartWith("# DirectoryStorage backup index, written by dsbackup.\n");
    expect(fresh.text).toEndWith(`# Archives: PREFIX-SEQ.tgz (full), PREFIX-REF-to-SEQ.tgz (incremental).\n1     1790000000   0000000000000001  # sha256 a-1.tgz 10 ${A}\n`);
    const there = dst(one);
    const plan2 = planCopy({ source: src(one), sourceObjects: objs(["a-1.tgz", 10]), destination: there, destObjects: [] });
    const updated = mergeIndex(plan2, src(one), there, digests, new Set());
    expect(updated.text).toBe(`${H}1     1790000000   0000000000000001  # sha256 a-1.tgz 10 ${A}\n`);
    expect(updated.changes).toEqual([{ seq: 1, kind: "updated", line: `1     1790000000   0000000000000001  # sha256 a-1.tgz 10 ${A}` }]);
    // Nothing new: no change at all.
    const done = dst(updated.text);
    const plan3 = planCopy({ source: src(one), sourceObjects: objs(["a-1.tgz", 10]), destination: done, destObjects: objs(["a-1.tgz", 10]) });
    const again = mergeIndex(plan3, src(one), done, new Map([["a-1.tgz", plan3.present[0]!.destRecorded!]]), new Set(["a-1.tgz"]));
    expect(again).toEqual({ text: updated.text, changes: [] });
  });
});

describe("encrypting copies (NAME.tgz.age)", () => {
  const C = "c".repeat(64);
  const two = `${H}1     1790000000   0000000000000001  # sha256 a-1.tgz 10 ${A}\n2     1790000100   0000000000000002  # sha256 a-1-to-2.tgz.age 99 ${B}\n`;
  const plan = (destObjects: [string, number][], encrypt: boolean, sourceObjects = objs(["a-1.tgz", 10], ["a-1-to-2.tgz.age", 99]), destination = dst(undefined)) =>
    planCopy({ source: src(two), sourceObjects, destination, destObjects: objs(...destObjects), encrypt });
  const names = (p: ReturnType<typeof plan>) => ({
    toCopy: p.toCopy.map((a) => [a.archive.name, a.destName, a.encrypt]),
    present: p.present.map((a) => [a.archive.name, a.destName, a.otherForm]),
    shadowed: p.shadowed,
  });

  test("a plain archive the destination lacks goes as NAME.tgz.age; one already encrypted as it is; without a key all as they are", () => {
    expect(names(plan([], true))).toEqual({ toCopy: [["a-1.tgz", "a-1.tgz.age", true], ["a-1-to-2.tgz.age", "a-1-to-2.tgz.age", false]], present: [], shadowed: [] });
    expect(names(plan([], false))).toEqual({ toCopy: [["a-1.tgz", "a-1.tgz", false], ["a-1-to-2.tgz.age", "a-1-to-2.tgz.age", false]], present: [], shadowed: [] });
  });

  test("held in either form it is present, never copied again nor compared byte for byte; the source's own .tgz.age shadows its .tgz", () => {
    // Another size in the other form is no refusal: other bytes by design.
    expect(names(plan([["a-1.tgz.age", 500], ["a-1-to-2.tgz", 7]], true))).toEqual({ toCopy: [], present: [["a-1.tgz", "a-1.tgz.age", true], ["a-1-to-2.tgz.age", "a-1-to-2.tgz", true]], shadowed: [] });
    expect(names(plan([["a-1.tgz.age", 500]], false)).present).toEqual([["a-1.tgz", "a-1.tgz.age", true]]);
    expect(names(plan([["a-1.tgz", 10]], true)).present).toEqual([["a-1.tgz", "a-1.tgz", false]]);
    // Both forms in the source: encrypting, the .tgz.age goes and the .tgz stays behind; without a key both go.
    const both = objs(["a-1.tgz", 10], ["a-1.tgz.age", 200]);
    expect(names(plan([], true, both))).toEqual({ toCopy: [["a-1.tgz.age", "a-1.tgz.age", false]], present: [], shadowed: ["a-1.tgz"] });
    expect(names(plan([], false, both)).toCopy).toEqual([["a-1.tgz", "a-1.tgz", false], ["a-1.tgz.age", "a-1.tgz.age", false]]);
  });

  test("the destination's line records the encrypted object, not the plain archive it came from", () => {
    const p = plan([], true);
    const digests = new Map([
      ["a-1.tgz.age", { name: "a-1.tgz.age", size: 300, sha256: C }],
      ["a-1-to-2.tgz.age", { name: "a-1-to-2.tgz.age", size: 99, sha256: B }],
    ]);
    expect(mergeIndex(p, src(two), dst(undefined), digests, new Set()).text).toEndWith(
      `1     1790000000   0000000000000001  # sha256 a-1.tgz.age 300 ${C}\n2     1790000100   0000000000000002  # sha256 a-1-to-2.tgz.age 99 ${B}\n`,
    );
    // A destination that holds a-1.tgz.age (recorded) for the source's plain a-1.tgz keeps its record; the plain one's is not added.
    const held = dst(`${H}1     1790000000   0000000000000001  # sha256 a-1.tgz.age 300 ${C}\n`);
    const p2 = plan([["a-1.tgz.age", 300]], true, objs(["a-1.tgz", 10]), held);
    expect(p2.present[0]!.destRecorded).toEqual({ name: "a-1.tgz.age", size: 300, sha256: C });
    expect(mergeIndex(p2, src(two), held, new Map([["a-1.tgz.age", p2.present[0]!.destRecorded!]]), new Set(["a-1.tgz.age"])).changes).toEqual([]);
  });
});
