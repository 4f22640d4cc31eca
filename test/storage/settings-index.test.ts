import { describe, expect, test } from "bun:test";
import { parseSettings } from "../../src/storage/settings.ts";
import { chooseReference, formatIndexLine, nextSequence, parseIndex, IndexError } from "../../src/index/tindex.ts";
import { StorageError } from "../../src/errors.ts";

describe("settings", () => {
  test("colon and equals, comments, case-sensitive keys", () => {
    const s = parseSettings("# c\n[storage]\nclassname: Full\nClassName = x\n[structure]\nformat = bushy ; trailing\n", "s");
    expect(s.get("storage")?.get("classname")).toBe("Full");
    expect(s.get("storage")?.get("ClassName")).toBe("x");
    expect(s.get("structure")?.get("format")).toBe("bushy");
  });
  test("unparsable lines name the line", () => {
    expect(() => parseSettings("[storage]\nthis is not a setting\n", "cfg")).toThrow(/cfg:2/);
    expect(() => parseSettings("classname: Full\n", "cfg")).toThrow(StorageError);
  });
});

describe("tindex", () => {
  const text = "# header\n" + formatIndexLine(1, 1700000000, "03C5A1B2C3D4E5F6") + "\n" + formatIndexLine(2, 1700086400, "03C5A1B2C3D4E5F7") + "# x\n";
  test("line format is %-5d %-12d %s", () => {
    expect(formatIndexLine(7, 1700000000, "03C5A1B2C3D4E5F6")).toBe("7     1700000000   03C5A1B2C3D4E5F6\n");
  });
  test("parse, next sequence, reference choice", () => {
    const entries = parseIndex(text, "tindex");
    expect(entries.map((e) => e.seq)).toEqual([1, 2]);
    expect(nextSequence(entries)).toBe(3);
    expect(nextSequence([])).toBe(1);
    expect(chooseReference(entries, 1699999999)).toBeUndefined();
    expect(chooseReference(entries, 1700000000)?.seq).toBe(1);
    expect(chooseReference(entries, 1700086399)?.seq).toBe(1);
    expect(chooseReference(entries, 1800000000)?.seq).toBe(2);
  });
  test("damage is refused with the line number", () => {
    expect(() => parseIndex("1 2 3\n", "ti")).toThrow(/ti:1: bad transaction id/);
    expect(() => parseIndex("garbage\n", "ti")).toThrow(IndexError);
    expect(() => parseIndex(formatIndexLine(2, 1, "03C5A1B2C3D4E5F6") + formatIndexLine(2, 2, "03C5A1B2C3D4E5F6"), "ti")).toThrow(/ti:2: sequence number 2 is not greater/);
    expect(() => parseIndex(formatIndexLine(3, 1, "03C5A1B2C3D4E5F6") + formatIndexLine(1, 2, "03C5A1B2C3D4E5F6"), "ti")).toThrow(/not greater/);
    expect(() => parseIndex("1 1700000000 03c5a1b2c3d4e5f6\n", "ti")).toThrow(/bad transaction id/);
  });
});
