// Index comments carrying each archive's size and sha256: golden lines, and
// older one-item comments still read.
import { describe, expect, test } from "bun:test";
import { formatIndexLine, indexComment, parseIndex } from "../../src/index/tindex.ts";

const HEX = "ab".repeat(32);
const HEX2 = "0f".repeat(32);

describe("index comment items", () => {
  test("a line with digests is the original format plus a comment (golden bytes)", () => {
    const line = formatIndexLine(7, 1795000000, "040CB6D200000000", indexComment({ digests: [{ name: "x-7.tgz", size: 1234, sha256: HEX }, { name: "x-5-to-7.tgz", size: 99, sha256: HEX2 }] }));
    expect(line).toBe(`7     1795000000   040CB6D200000000  # sha256 x-7.tgz 1234 ${HEX}; sha256 x-5-to-7.tgz 99 ${HEX2}\n`);
    const [e] = parseIndex(line, "tindex");
    expect(e!.digests).toEqual([{ name: "x-7.tgz", size: 1234, sha256: HEX }, { name: "x-5-to-7.tgz", size: 99, sha256: HEX2 }]);
    expect(e!.streamedAs).toBeUndefined();
  });

  test("stdout and digest items together; a bare old comment still read", () => {
    const line = formatIndexLine(3, 1795000000, "040CB6D200000000", indexComment({ streamedAs: "b-3.tgz.age", digests: [{ name: "b-3.tgz.age", size: 5, sha256: HEX }] }));
    expect(line).toBe(`3     1795000000   040CB6D200000000  # stdout b-3.tgz.age; sha256 b-3.tgz.age 5 ${HEX}\n`);
    const [e] = parseIndex(line, "tindex");
    expect(e!.streamedAs).toBe("b-3.tgz.age");
    expect(e!.digests).toHaveLength(1);
    const [old] = parseIndex("4     1795000000   040CB6D200000000  # stdout b-4.tgz\n", "tindex");
    expect(old!.streamedAs).toBe("b-4.tgz");
    expect(indexComment({})).toBeUndefined();
  });

  test("a malformed digest item is ignored as any other note (the line stays valid)", () => {
    const [e] = parseIndex("4     1795000000   040CB6D200000000  # sha256 b-4.tgz 12 nothex\n", "tindex");
    expect(e!.digests).toBeUndefined();
  });
});
