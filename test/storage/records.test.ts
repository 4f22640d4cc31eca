import { describe, expect, test } from "bun:test";
import { CorruptRecordError } from "../../src/errors.ts";
import {
  dateFromTid, decodePointer, decodeRevision, decodeTransaction, encodePointer, encodeRevision, encodeTransaction,
  formatTid, hexToBytes, bytesToHex, tidFromDate,
} from "../../src/storage/records.ts";

// Golden bytes computed independently with Python's struct and hashlib.
const GOLDEN_TRANSACTION =
  "474007760000005503C5A1B2C3D4E5F6000000000000000003C5A1B2000000019E13C8E97E1A6822CC590D2FD339679800050004000000000010000061646D696E65646974000000000000000100000000000000FF";
const GOLDEN_REVISION =
  "BDB82A710000004E000000000000000100000000000000000000000000000000000000000000000035A182A55A2C2E6E3B8F0F012D38DCD303C5A1B20000000103C5A1B2C3D4E5F680027D71012E";
const enc = new TextEncoder();

describe("transaction records", () => {
  const fields = {
    tid: "03C5A1B2C3D4E5F6",
    previousTid: "03C5A1B200000001",
    user: enc.encode("admin"),
    description: enc.encode("edit"),
    extension: new Uint8Array(0),
    oids: ["0000000000000001", "00000000000000FF"],
  };
  test("encode equals the golden bytes", () => {
    expect(bytesToHex(encodeTransaction(fields))).toBe(GOLDEN_TRANSACTION);
  });
  test("decode gives the fields and a valid md5", () => {
    const t = decodeTransaction(hexToBytes(GOLDEN_TRANSACTION), "t");
    expect(t.tid).toBe(fields.tid);
    expect(t.previousTid).toBe(fields.previousTid);
    expect(new TextDecoder().decode(t.user)).toBe("admin");
    expect(t.oids).toEqual(fields.oids);
    expect(t.md5Valid).toBe(true);
  });
  test("an all-zero md5 means absent", () => {
    expect(decodeTransaction(encodeTransaction(fields, false), "t").md5Valid).toBeNull();
  });
  test("a flipped byte fails the md5", () => {
    const bytes = hexToBytes(GOLDEN_TRANSACTION);
    bytes[62]! ^= 1;
    expect(decodeTransaction(bytes, "t").md5Valid).toBe(false);
  });
  test("malformed input throws CorruptRecordError", () => {
    const bytes = hexToBytes(GOLDEN_TRANSACTION);
    expect(() => decodeTransaction(bytes.subarray(0, 40), "t")).toThrow(CorruptRecordError);
    expect(() => decodeTransaction(bytes.subarray(0, bytes.length - 1), "t")).toThrow(/length field/);
    const badMagic = bytes.slice();
    badMagic[0] = 0;
    expect(() => decodeTransaction(badMagic, "t")).toThrow(/magic/);
  });
});

describe("object revision records", () => {
  const fields = {
    oid: "0000000000000001",
    undoneFrom: "0000000000000000",
    previousSerial: "03C5A1B200000001",
    serial: "03C5A1B2C3D4E5F6",
    pickle: hexToBytes("80027D71012E"),
  };
  test("encode equals the golden bytes", () => {
    expect(bytesToHex(encodeRevision(fields))).toBe(GOLDEN_REVISION);
  });
  test("decode gives the fields", () => {
    const r = decodeRevision(hexToBytes(GOLDEN_REVISION), "o");
    expect(r).toMatchObject({ oid: fields.oid, previousSerial: fields.previousSerial, serial: fields.serial, md5Valid: true });
    expect(bytesToHex(r.pickle)).toBe("80027D71012E");
  });
  test("malformed input throws", () => {
    expect(() => decodeRevision(hexToBytes(GOLDEN_REVISION).subarray(0, 71), "o")).toThrow(CorruptRecordError);
    expect(() => decodeRevision(hexToBytes(GOLDEN_TRANSACTION), "o")).toThrow(/magic/);
  });
});

describe("pointers", () => {
  test("8-byte and old 12-byte forms", () => {
    expect(decodePointer(encodePointer("03C5A1B2C3D4E5F6"), "c")).toBe("03C5A1B2C3D4E5F6");
    expect(decodePointer(hexToBytes("0BFEE8EC03C5A1B2C3D4E5F6"), "c")).toBe("03C5A1B2C3D4E5F6");
    expect(() => decodePointer(hexToBytes("0BFEE8ED03C5A1B2C3D4E5F6"), "c")).toThrow(CorruptRecordError);
    expect(() => decodePointer(hexToBytes("0102"), "c")).toThrow(/8 or 12 bytes/);
  });
});

describe("tids as ZODB TimeStamps", () => {
  test("golden value computed with Python", () => {
    expect(tidFromDate(new Date(Date.UTC(2026, 10, 26, 11, 13, 45, 500)))).toBe("040D4601C2222222");
  });
  test("round trip to the millisecond and human form", () => {
    const d = new Date(Date.UTC(2026, 0, 31, 23, 59, 59, 250));
    expect(dateFromTid(tidFromDate(d)).getTime()).toBe(d.getTime());
    expect(formatTid(tidFromDate(d))).toBe("2026-01-31 23:59:59 UTC");
  });
});
