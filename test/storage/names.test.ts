import { describe, expect, test } from "bun:test";
import { databasePath, transactionName, type Format } from "../../src/storage/names.ts";

// The spec's vectors, verbatim.
const vectors: Record<Format, Record<string, string>> = {
  flat: {
    "o0123456789abcdef.c": "o0123456789abcdef.c",
    "t01234567.89abcdef": "t01234567.89abcdef",
    "x.oid": "x.oid",
  },
  lawn: {
    "o0123456789abcdef.c": "o0123456789abcdef/c",
    "t01234567.89abcdef": "t01234567/89abcdef",
    "x.oid": "x/oid",
    o0123456789abcdef: "o0123456789abcdef",
  },
  bushy: {
    "o0123456789abcdef.c": "o0/12/34/56/78/9a/bc/def/c",
    "t01234567.89abcdef": "t0/12/34/567/89abcdef",
    "x.oid": "x/oid",
    o0123456789abcdef: "o0/12/34/56/78/9a/bc/def",
    "o0123456789abcdef.0123456789abcdef": "o0/12/34/56/78/9a/bc/def/0123456789abcdef",
  },
  chunky: {
    "o0123456789abcdef.c": "o012/345/678/9ab/cdef.c",
    "t01234567.89abcdef": "t012/345/67.89abcdef",
    "x.oid": "x/oid",
    o0123456789abcdef: "o012/345/678/9ab/cdef",
    "o0123456789abcdef.0123456789abcdef": "o012/345/678/9ab/cdef.0123456789abcdef",
  },
};

describe("databasePath", () => {
  for (const [format, table] of Object.entries(vectors)) {
    for (const [flat, path] of Object.entries(table)) {
      test(`${format}: ${flat} -> ${path}`, () => {
        expect(databasePath(format as Format, flat)).toBe(path);
      });
    }
  }
});

test("transactionName puts the dot after the third byte", () => {
  expect(transactionName("0123456789ABCDEF")).toBe("t012345.6789ABCDEF");
});
