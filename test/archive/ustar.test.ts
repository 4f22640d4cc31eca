import { describe, expect, test } from "bun:test";
import { mkdtempSync, mkdirSync, rmSync, utimesSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  decodeHeader,
  decodePax,
  encodeHeader,
  encodeHeaderGeneral,
  headerSize,
  paxRecord,
  splitName,
  PAX_HEADER_NAME,
  type HeaderFields,
} from "../../src/archive/ustar.ts";
import { bigSizeField, golden } from "./golden.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

// Python >= 3.12 leaves devmajor/devminor empty for non-device entries where GNU
// tar writes "0000000\0"; we follow GNU tar (checked byte for byte below), so
// those two fields and the checksum that covers them are masked here.
function maskDev(b: Uint8Array, headerOffsets: number[]): string {
  const c = new Uint8Array(b);
  for (const h of headerOffsets) {
    expect(decodeHeader(c, h)!.checksumOk).toBe(true);
    c.fill(0, h + 148, h + 156);
    c.fill(0, h + 329, h + 345);
  }
  return hex(c);
}

describe("ustar golden bytes (Python tarfile)", () => {
  for (const g of golden) {
    test(g.label, () => {
      const want = Buffer.from(g.b64, "base64");
      const f: HeaderFields = { name: g.name, mode: g.mode, uid: g.uid, gid: g.gid, size: g.size, mtime: g.mtime, type: g.type };
      expect(headerSize(f)).toBe(want.length);
      const buf = new Uint8Array(want.length + 16).fill(0xee);
      const n = encodeHeader(f, buf, 8);
      expect(n).toBe(want.length);
      const heads = n === 512 ? [0] : [0, n - 512];
      expect(maskDev(buf.subarray(8, 8 + n), heads)).toBe(maskDev(want, heads));
      expect(buf[7]).toBe(0xee);
      expect(buf[8 + n]).toBe(0xee);
    });
  }

  test("base-256 size for > 8 GiB", () => {
    const buf = new Uint8Array(512);
    encodeHeader({ name: "big", mode: 0o644, uid: 0, gid: 0, size: 10 * 2 ** 30, mtime: 1700000000, type: "0" }, buf, 0);
    expect(hex(buf.subarray(124, 136))).toBe(bigSizeField);
    const d = decodeHeader(buf, 0)!;
    expect(d.size).toBe(10 * 2 ** 30);
    expect(d.checksumOk).toBe(true);
  });

  test("largest octal size stays octal", () => {
    const buf = new Uint8Array(512);
    encodeHeader({ name: "f", mode: 0o644, uid: 0, gid: 0, size: 8 ** 11 - 1, mtime: 0, type: "0" }, buf, 0);
    expect(Buffer.from(buf.subarray(124, 136)).toString("latin1")).toBe("77777777777\0");
  });
});

describe("ustar encode/decode", () => {
  test("round trip", () => {
    const f: Required<HeaderFields> = { name: "config/settings", mode: 0o640, uid: 12, gid: 34, size: 99, mtime: 1234567890, type: "0", uname: "", gname: "" };
    const buf = new Uint8Array(512);
    encodeHeader(f, buf, 0);
    expect(decodeHeader(buf, 0)).toEqual({ ...f, checksumOk: true });
  });

  test("fast path writes the same bytes as the general path", () => {
    let seed = 12345;
    const r = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const pick = (xs: number[]) => xs[Math.floor(r() * xs.length)]!;
    for (let i = 0; i < 3000; i++) {
      const len = Math.floor(r() * 110) + 1;
      let name = "";
      for (let j = 0; j < len; j++) name += r() < 0.1 ? "/" : String.fromCharCode(0x21 + Math.floor(r() * 94));
      if (r() < 0.05) name = "é" + name;
      const f: HeaderFields = {
        name,
        mode: Math.floor(r() * 0o10000),
        uid: pick([0, 1, 1000, 65534, 2 ** 21 - 1, 2 ** 31 - 2, 2 ** 31 + 5, Math.floor(r() * 1e6)]),
        gid: pick([0, 100, 2 ** 21 - 1, Math.floor(r() * 1e6)]),
        size: pick([0, 1, 511, 512, 513, 2 ** 31 - 2, 2 ** 31, 2 ** 33 - 1, 2 ** 33, 2 ** 40, Math.floor(r() * 1e7)]),
        mtime: pick([0, 1, 1700000000, 2 ** 31, 2 ** 32 + 7, 8 ** 11 - 1, 8 ** 11, 1700000000.7, -5]),
        type: r() < 0.5 ? "0" : "5",
      };
      const a = new Uint8Array(2048).fill(7);
      const b = new Uint8Array(2048).fill(7);
      let na: number, nb: number;
      try {
        na = encodeHeader(f, a, 3);
      } catch {
        na = -1;
      }
      try {
        nb = encodeHeaderGeneral(f, b, 3);
      } catch {
        nb = -1;
      }
      expect(na).toBe(nb);
      if (hex(a) !== hex(b)) expect({ f, a: hex(a.subarray(3, 515)) }).toEqual({ f, a: hex(b.subarray(3, 515)) });
    }
  });

  test("zero block decodes to null", () => {
    expect(decodeHeader(new Uint8Array(512), 0)).toBeNull();
  });

  test("corrupt checksum is reported", () => {
    const buf = new Uint8Array(512);
    encodeHeader({ name: "a", mode: 0o644, uid: 0, gid: 0, size: 1, mtime: 0, type: "0" }, buf, 0);
    buf[0] = 0x62;
    expect(decodeHeader(buf, 0)!.checksumOk).toBe(false);
  });

  test("name/prefix split", () => {
    const enc = new TextEncoder();
    const exactly100 = "a".repeat(100);
    expect(splitName(enc.encode(exactly100))!.prefix.length).toBe(0);
    const p = "p".repeat(155) + "/" + "n".repeat(100);
    const s = splitName(enc.encode(p))!;
    expect(s.prefix.length).toBe(155);
    expect(s.name.length).toBe(100);
    expect(splitName(enc.encode("p".repeat(156) + "/" + "n"))).toBeNull(); // prefix too long
    expect(splitName(enc.encode("p/" + "n".repeat(101)))).toBeNull(); // name too long
    expect(splitName(enc.encode("/" + "n".repeat(100)))).toBeNull(); // empty prefix
    const buf = new Uint8Array(512);
    encodeHeader({ name: p, mode: 0o644, uid: 0, gid: 0, size: 0, mtime: 0, type: "0" }, buf, 0);
    expect(decodeHeader(buf, 0)!.name).toBe(p);
  });

  test("PAX header for a path that cannot be split", () => {
    const name = "A/" + "z".repeat(400);
    const f: HeaderFields = { name, mode: 0o644, uid: 0, gid: 0, size: 3, mtime: 5, type: "0" };
    const size = headerSize(f);
    const buf = new Uint8Array(size);
    expect(encodeHeader(f, buf, 0)).toBe(size);
    const x = decodeHeader(buf, 0)!;
    expect(x.type).toBe("x");
    expect(x.name).toBe(PAX_HEADER_NAME);
    expect(decodePax(buf.subarray(512, 512 + x.size))).toEqual({ path: name });
    const real = decodeHeader(buf, size - 512)!;
    expect(real.size).toBe(3);
    expect(real.checksumOk).toBe(true);
  });

  test("PAX record length counts its own digits", () => {
    for (const len of [1, 5, 80, 89, 90, 91, 95, 96, 97, 98, 99, 990, 993, 994, 995, 996, 997, 1000]) {
      const r = paxRecord("path", "v".repeat(len));
      expect(Number(new TextDecoder().decode(r).split(" ")[0])).toBe(r.length);
    }
  });
});

describe("ustar vs GNU tar --format=ustar", () => {
  const gnuTar = Bun.which("tar");
  test.skipIf(!gnuTar)("same header bytes for a file and a directory", async () => {
    if (!gnuTar) return;
    const dir = mkdtempSync(join(tmpdir(), "ustar-gnu-"));
    try {
      mkdirSync(join(dir, "A/x"), { recursive: true });
      writeFileSync(join(dir, "A/x/serial"), "hello world\n");
      const long = "A/x/" + Array.from({ length: 40 }, (_, i) => `d${i}`).join("/");
      expect(long.length).toBeGreaterThan(100);
      mkdirSync(join(dir, long), { recursive: true });
      chmodSync(join(dir, long), 0o700);
      utimesSync(join(dir, long), 1, 1);
      chmodSync(join(dir, "A/x/serial"), 0o640);
      chmodSync(join(dir, "A"), 0o755);
      utimesSync(join(dir, "A/x/serial"), 1700000000, 1700000000);
      utimesSync(join(dir, "A"), 1600000000, 1600000000);
      const p = Bun.spawnSync([gnuTar, "--format=ustar", "--numeric-owner", "--owner=1000", "--group=1001", "--no-recursion", "-cf", "-", "A", "A/x/serial", long], { cwd: dir });
      expect(p.exitCode).toBe(0);
      const out = new Uint8Array(p.stdout);
      const want = [
        { name: "A/", mode: 0o755, size: 0, mtime: 1600000000, type: "5" as const },
        { name: "A/x/serial", mode: 0o640, size: 12, mtime: 1700000000, type: "0" as const },
        { name: long + "/", mode: 0o700, size: 0, mtime: 1, type: "5" as const }, // > 100 bytes: prefix split as GNU does
      ];
      let off = 0;
      for (const w of want) {
        const buf = new Uint8Array(512);
        encodeHeader({ ...w, uid: 1000, gid: 1001 }, buf, 0);
        expect(hex(buf)).toBe(hex(out.subarray(off, off + 512)));
        off += 512 + Math.ceil(w.size / 512) * 512;
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  if (!gnuTar) console.warn("SKIP: GNU tar not found, header cross-check not run");
});

