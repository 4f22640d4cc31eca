import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  lstatSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as zlib from "node:zlib";
import { DsError, FileError, InterruptedError } from "../../src/errors.ts";
import { BLOCK_SIZE, RECORD_SIZE, writeArchive, type ArchiveEntry, type ArchiveOptions } from "../../src/archive/writer.ts";
import { decodeHeader, decodePax } from "../../src/archive/ustar.ts";
import { listEntries, makeTree, rng } from "./tree.ts";

let dir: string;
let src: string;
let entries: ArchiveEntry[];
const LONG = "A/" + Array.from({ length: 30 }, (_, i) => `dir${i}`).join("/"); // > 100 chars, splittable
const VERY_LONG = "A/" + "p".repeat(120) + "/" + "q".repeat(150); // needs PAX

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "archive-test-"));
  src = join(dir, "src");
  makeTree(src, 3000, 7);
  writeFileSync(join(src, "config/empty"), "");
  mkdirSync(join(src, LONG), { recursive: true });
  writeFileSync(join(src, LONG, "0000000000000001.3f"), "long path content\n");
  mkdirSync(join(src, VERY_LONG), { recursive: true });
  writeFileSync(join(src, VERY_LONG, "f"), "pax path content\n");
  // A file bigger than a block, spanning several gzip members.
  const big = new Uint8Array(BLOCK_SIZE * 2 + 12345);
  const r = rng(3);
  for (let i = 0; i < big.length; i++) big[i] = r() < 0.5 ? 0x41 : Math.floor(r() * 256);
  writeFileSync(join(src, "A/big"), big);
  entries = listEntries(src);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function archive(name: string, ents: Iterable<ArchiveEntry>, opts: ArchiveOptions = {}) {
  const path = join(dir, name);
  const fd = openSync(path, "w");
  try {
    const result = await writeArchive(ents, fd, opts);
    return { path, result };
  } finally {
    closeSync(fd);
  }
}

interface TarItem {
  name: string;
  type: string;
  mode: number;
  data?: Buffer;
}

/** Our own reader: gunzip all members and walk the headers. */
function readTar(path: string): { items: TarItem[]; tarLength: number } {
  const tar = zlib.gunzipSync(readFileSync(path));
  const items: TarItem[] = [];
  let off = 0;
  let paxPath: string | undefined;
  for (;;) {
    const h = decodeHeader(tar, off);
    if (!h) break;
    expect(h.checksumOk).toBe(true);
    off += 512;
    const data = tar.subarray(off, off + h.size);
    off += Math.ceil(h.size / 512) * 512;
    if (h.type === "x") {
      paxPath = decodePax(data).path;
      continue;
    }
    items.push({ name: paxPath ?? h.name, type: h.type, mode: h.mode, data: h.type === "0" ? Buffer.from(data) : undefined });
    paxPath = undefined;
  }
  // Two zero blocks and zero padding to the end.
  for (let i = off; i < tar.length; i++) if (tar[i] !== 0) throw new Error(`non-zero byte after end at ${i}`);
  expect(tar.length - off).toBeGreaterThanOrEqual(1024);
  return { items, tarLength: tar.length };
}

/** Every file under `root` with its content, relative names. */
function snapshot(root: string): Map<string, string> {
  const m = new Map<string, string>();
  const walk = (rel: string) => {
    for (const n of readdirSync(join(root, rel))) {
      const r = rel ? `${rel}/${n}` : n;
      const st = lstatSync(join(root, r));
      if (st.isDirectory()) {
        m.set(r + "/", "");
        walk(r);
      } else m.set(r, readFileSync(join(root, r)).toString("base64"));
    }
  };
  walk("");
  return m;
}

/** A tool for a test, or null after a printed SKIP message (the test is then marked skipped). */
function tool(name: string, what: string): string | null {
  const bin = Bun.which(name);
  if (!bin) console.warn(`SKIP ${what}: ${name} not found on PATH`);
  return bin;
}
const GZIP = tool("gzip", "gzip -t check");
const GNU_TAR = tool("tar", "GNU tar extraction");
const BSDTAR = tool("bsdtar", "bsdtar extraction (apt-get install libarchive-tools)");
const PYTHON = tool("python3", "Python tarfile extraction");

function run(cmd: string[], cwd?: string) {
  const p = Bun.spawnSync(cmd, { cwd, stderr: "pipe", stdout: "pipe" });
  return { code: p.exitCode, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

describe("writeArchive output", () => {
  let seqPath: string;
  let parPath: string;

  test("sequential (jobs 1) archive has every entry, in order, with the source content", async () => {
    const { path, result } = await archive("seq.tgz", entries, { jobs: 1 });
    seqPath = path;
    const files = entries.filter((e) => e.kind === "file");
    expect(result.entries).toBe(entries.length);
    expect(result.files).toBe(files.length);
    expect(result.inputBytes).toBe(files.reduce((s, e) => s + lstatSync(e.sourcePath).size, 0));
    expect(result.outputBytes).toBe(lstatSync(path).size);
    const { items, tarLength } = readTar(path);
    expect(result.tarBytes).toBe(tarLength);
    expect(tarLength % RECORD_SIZE).toBe(0);
    expect(items.map((i) => i.name)).toEqual(entries.map((e) => (e.kind === "directory" ? e.name + "/" : e.name)));
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      const st = lstatSync(e.sourcePath);
      expect(items[i]!.mode).toBe(st.mode & 0o7777);
      if (e.kind === "file") {
        expect(items[i]!.type).toBe("0");
        expect(items[i]!.data!.equals(readFileSync(e.sourcePath))).toBe(true);
      } else expect(items[i]!.type).toBe("5");
    }
    const names = items.map((i) => i.name);
    expect(names).toContain("config/empty");
    expect(names).toContain(`${LONG}/0000000000000001.3f`);
    expect(names).toContain(`${VERY_LONG}/f`);
    expect(items.find((i) => i.name === "config/empty")!.data!.length).toBe(0);
  });

  test("parallel archive is byte-for-byte the same as the sequential one", async () => {
    const { path, result } = await archive("par.tgz", entries, { jobs: 3 });
    parPath = path;
    expect(result.entries).toBe(entries.length);
    expect(readFileSync(path).equals(readFileSync(seqPath))).toBe(true);
    // several gzip members
    expect(result.outputBytes).toBeGreaterThan(0);
  });

  test("a generator gives the same archive as an array", async () => {
    function* gen() {
      yield* entries;
    }
    const { path } = await archive("generator.tgz", gen(), { jobs: 2 });
    expect(readFileSync(path).equals(readFileSync(seqPath))).toBe(true);
  });

  test.skipIf(!GZIP)("gzip -t passes", () => {
    expect(run([GZIP!, "-t", parPath]).code).toBe(0);
  });

  for (const [label, bin] of [["GNU tar", GNU_TAR], ["bsdtar", BSDTAR]] as const) {
    test.skipIf(!bin)(`extracts with ${label}`, () => {
      const out = join(dir, `x-${label.replace(" ", "")}`);
      mkdirSync(out);
      const r = run([bin!, "-xzf", parPath, "-C", out]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(snapshot(out)).toEqual(snapshot(src));
    });
  }

  test.skipIf(!PYTHON)("extracts with python3 tarfile", () => {
    const py = PYTHON!;
    const out = join(dir, "x-python");
    const script = `import sys, tarfile
with tarfile.open(sys.argv[1], "r:gz") as t:
    kw = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
    t.extractall(sys.argv[2], **kw)`;
    const r = run([py, "-c", script, parPath, out]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(snapshot(out)).toEqual(snapshot(src));
  });

  test("onProgress reports files and bytes, ending with the totals", async () => {
    const seen: { files: number; bytes: number }[] = [];
    const { result } = await archive("progress.tgz", entries, { jobs: 2, onProgress: (p) => seen.push(p) });
    expect(seen.length).toBeGreaterThan(1);
    expect(seen.at(-1)).toEqual({ files: result.files, bytes: result.inputBytes });
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.bytes).toBeGreaterThanOrEqual(seen[i - 1]!.bytes);
  });

  test("level 1 and 9 work and differ in size", async () => {
    const a = await archive("l1.tgz", entries, { jobs: 2, level: 1 });
    const b = await archive("l9.tgz", entries, { jobs: 2, level: 9 });
    expect(a.result.outputBytes).toBeGreaterThan(b.result.outputBytes);
    expect(readTar(b.path).items.length).toBe(entries.length);
    await expect(archive("l0.tgz", entries, { level: 0 })).rejects.toBeInstanceOf(DsError);
  });
});

describe("writeArchive edge cases", () => {
  test("an empty entry list gives a valid empty archive", async () => {
    for (const jobs of [1, 2]) {
      const { path, result } = await archive(`empty-${jobs}.tgz`, [], { jobs });
      expect(result).toEqual({ entries: 0, files: 0, inputBytes: 0, tarBytes: RECORD_SIZE, outputBytes: lstatSync(path).size });
      const tar = zlib.gunzipSync(readFileSync(path));
      expect(tar.length).toBe(RECORD_SIZE);
      expect(tar.every((b) => b === 0)).toBe(true);
      if (GNU_TAR) {
        const r = run([GNU_TAR, "-tzf", path]);
        expect(r.code).toBe(0);
        expect(r.stdout).toBe("");
      }
    }
  });

  test("a file much bigger than a block streams through in bounded memory", async () => {
    const big = join(dir, "sparse");
    const size = 48 * BLOCK_SIZE + 777;
    const fd = openSync(big, "w");
    writeSync(fd, "head", 0);
    writeSync(fd, "tail", size - 4);
    closeSync(fd);
    Bun.gc(true);
    const before = process.memoryUsage().rss;
    let peak = before;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    try {
      const { path, result } = await archive("sparse.tgz", [{ kind: "file", name: "A/sparse", sourcePath: big }], { jobs: 2 });
      expect(result.inputBytes).toBe(size);
      const { items } = readTar(path);
      expect(items[0]!.data!.length).toBe(size);
      expect(items[0]!.data!.subarray(0, 4).toString()).toBe("head");
      expect(items[0]!.data!.subarray(size - 4).toString()).toBe("tail");
    } finally {
      clearInterval(timer);
      rmSync(big);
    }
    // Without streaming the writer would hold all 48 blocks at once.
    expect(peak - before).toBeLessThan(32 * BLOCK_SIZE);
  });

  test("a single empty file", async () => {
    const { path } = await archive("one-empty.tgz", [{ kind: "file", name: "config/empty", sourcePath: join(src, "config/empty") }], { jobs: 2 });
    const { items } = readTar(path);
    expect(items).toHaveLength(1);
    expect(items[0]!.data!.length).toBe(0);
  });

  const errorCases: [string, () => ArchiveEntry[], RegExp][] = [
    ["missing file", () => [{ kind: "file", name: "A/gone", sourcePath: join(src, "A/gone") }], /Cannot read .*A\/gone: no such file or directory/],
    ["missing directory", () => [{ kind: "directory", name: "Z", sourcePath: join(src, "Z") }], /Cannot read .*\/Z: no such file or directory/],
    [
      "symlink",
      () => {
        const l = join(dir, "link");
        try {
          symlinkSync(join(src, "config/settings"), l);
        } catch {}
        return [{ kind: "file", name: "config/link", sourcePath: l }];
      },
      /Cannot read .*\/link: is a symbolic link/,
    ],
    ["directory given as a file", () => [{ kind: "file", name: "A", sourcePath: join(src, "A") }], /Cannot read .*\/A: not a regular file/],
    ["file given as a directory", () => [{ kind: "directory", name: "c", sourcePath: join(src, "config/settings") }], /Cannot read .*settings: not a directory/],
    [
      "FIFO",
      () => {
        const f = join(dir, "fifo");
        run(["mkfifo", f]);
        return [{ kind: "file", name: "fifo", sourcePath: f }];
      },
      /Cannot read .*\/fifo: not a regular file/,
    ],
    // /proc files say size 0 and then have content: the writer sees it grow.
    ["file grows while read", () => [{ kind: "file", name: "status", sourcePath: "/proc/self/status" }], /\/proc\/self\/status: file grew while being read/],
  ];
  for (const [label, make, re] of errorCases) {
    for (const jobs of [1, 2]) {
      test(`${label} (jobs ${jobs}) rejects with a DsError naming the path`, async () => {
        // Put the bad entry after enough good ones that workers are busy.
        const ents = [...entries.slice(0, 1500), ...make(), ...entries.slice(1500)];
        const err = await archive(`err-${jobs}.tgz`, ents, { jobs }).then(
          () => null,
          (e) => e,
        );
        expect(err).toBeInstanceOf(DsError);
        expect(String(err.message)).toMatch(re);
      });
    }
  }

  test("a missing file gives a FileError with ENOENT", async () => {
    const err = await archive("enoent.tgz", [{ kind: "file", name: "x", sourcePath: join(src, "nope") }]).catch((e) => e);
    expect(err).toBeInstanceOf(FileError);
    expect(err.cause.code).toBe("ENOENT");
    expect(err.path).toBe(join(src, "nope"));
  });

  test("bad names are refused", async () => {
    for (const name of ["", "/abs", "a/../b"]) {
      const err = await archive("badname.tgz", [{ kind: "file", name, sourcePath: join(src, "config/settings") }]).catch((e) => e);
      expect(err).toBeInstanceOf(DsError);
    }
  });

  test("an already aborted signal rejects with InterruptedError", async () => {
    const ac = new AbortController();
    ac.abort();
    const err = await archive("aborted.tgz", entries, { signal: ac.signal }).catch((e) => e);
    expect(err).toBeInstanceOf(InterruptedError);
  });

  for (const jobs of [1, 2]) {
    test(`aborting midway rejects with InterruptedError (jobs ${jobs})`, async () => {
      const ac = new AbortController();
      let calls = 0;
      const err = await archive(`abort-mid-${jobs}.tgz`, entries, {
        jobs,
        signal: ac.signal,
        onProgress: () => {
          if (++calls === 2) ac.abort();
        },
      }).catch((e) => e);
      expect(err).toBeInstanceOf(InterruptedError);
    });
  }

  test("abort between two entries of the source", async () => {
    const ac = new AbortController();
    function* source() {
      yield entries[0]!;
      ac.abort();
      yield entries[1]!;
    }
    const err = await archive("abort-source.tgz", source(), { jobs: 2, signal: ac.signal }).catch((e) => e);
    expect(err).toBeInstanceOf(InterruptedError);
  });

  test("an error from the entry source propagates", async () => {
    function* bad(): Generator<ArchiveEntry> {
      yield* entries.slice(0, 2000);
      throw new DsError("walk failed");
    }
    const err = await archive("walk-err.tgz", bad(), { jobs: 2 }).catch((e) => e);
    expect(err.message).toBe("walk failed");
  });

  test("a write error on outFd rejects with FileError(write)", async () => {
    for (const jobs of [1, 2]) {
      const fd = openSync(join(src, "config/settings"), "r"); // read-only: write fails with EBADF
      try {
        const err = await writeArchive(entries, fd, { jobs }).catch((e) => e);
        expect(err).toBeInstanceOf(FileError);
        expect(err.operation).toBe("write");
      } finally {
        closeSync(fd);
      }
    }
  });

  test("writing to a full device rejects with the no-space exit code", async () => {
    const fd = openSync("/dev/full", "w");
    try {
      const err = await writeArchive(entries, fd, { jobs: 2 }).catch((e) => e);
      expect(err).toBeInstanceOf(FileError);
      expect(err.exitCode).toBe(14);
    } finally {
      closeSync(fd);
    }
  });
});
