// A storage-like tree for the archive writer's own tests, independent of the
// storage format (the end-to-end tests use test/fixtures/generator.ts): bushy
// directories of small (200 B - 2 KB) pickle-like, moderately
// compressible files, plus an entry list in the order dsbackup would archive.
import { mkdirSync, writeFileSync, readdirSync, lstatSync } from "node:fs";
import { join } from "node:path";
import type { ArchiveEntry } from "../../src/archive/writer.ts";

/** Deterministic PRNG: the fixture generator's. */
export { random as rng } from "../fixtures/generator.ts";
import { random as rng } from "../fixtures/generator.ts";

const WORDS = [
  "persistent.mapping", "PersistentMapping", "OFS.Folder", "Folder", "_objects", "title", "description",
  "Products.CMFCore", "PortalContent", "id", "meta_type", "_properties", "creation_date", "modification_date",
  "BTrees.OOBTree", "OOBTree", "OOBucket", "data", "_p_jar", "__ac_local_roles__", "Owner", "Manager",
  "workflow_history", "review_state", "published", "private", "text/html", "utf-8", "subject", "creators",
  "DateTime.DateTime", "DateTime", "_micros", "_timezone_naive", "GMT+1", "effective", "expires", "language",
];

/** One pickle-like record of `size` bytes. */
export function pickleLike(r: () => number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let i = 0;
  const put = (b: number) => {
    if (i < size) out[i++] = b;
  };
  put(0x80); put(0x03); // protocol 3
  while (i < size) {
    const k = r();
    if (k < 0.55) {
      const w = WORDS[Math.floor(r() * WORDS.length)]!;
      put(0x58); put(w.length); put(0); put(0); put(0);
      for (let j = 0; j < w.length; j++) put(w.charCodeAt(j));
      put(0x71); put(Math.floor(r() * 64));
    } else if (k < 0.75) {
      put(0x55); put(8); // short binstring: an oid
      for (let j = 0; j < 8; j++) put(j < 5 ? 0 : Math.floor(r() * 256));
    } else if (k < 0.9) {
      put(0x4a); // BININT
      for (let j = 0; j < 4; j++) put(Math.floor(r() * 256));
    } else {
      // some free text
      const n = 8 + Math.floor(r() * 40);
      for (let j = 0; j < n; j++) put(0x61 + Math.floor(r() * 26));
    }
  }
  out[size - 1] = 0x2e; // STOP
  return out;
}

export interface TreeInfo {
  files: number;
  bytes: number;
}

/**
 * Make a storage-like tree under `root`: config/settings, A/<xx>/<yy>/<oid>.<serial>
 * files, about `files` files in total. Returns counts.
 */
export function makeTree(root: string, files: number, seed = 1): TreeInfo {
  const r = rng(seed);
  mkdirSync(join(root, "config"), { recursive: true });
  writeFileSync(join(root, "config/settings"), "[structure]\nformat = A\n[filesystem]\nsync = 1\n");
  let bytes = 0;
  let n = 1;
  const perDir = 22;
  const dirs = Math.max(1, Math.ceil(files / perDir));
  const top = Math.max(1, Math.ceil(Math.sqrt(dirs)));
  for (let d = 0; d < dirs && n < files; d++) {
    const dir = join(root, "A", (d % top).toString(16).padStart(2, "0"), Math.floor(d / top).toString(16).padStart(2, "0"));
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < perDir && n < files; f++, n++) {
      const size = 200 + Math.floor(r() * 1800);
      writeFileSync(join(dir, `${(d * perDir + f).toString(16).padStart(16, "0")}.${Math.floor(r() * 1e9).toString(16)}`), pickleLike(r, size));
      bytes += size;
    }
  }
  return { files: n, bytes };
}

/** Depth-first, sorted entry list of a tree (directories before their contents). */
export function listEntries(root: string, rel = ""): ArchiveEntry[] {
  const out: ArchiveEntry[] = [];
  const walk = (relDir: string) => {
    const names = readdirSync(join(root, relDir)).sort();
    for (const name of names) {
      const rel = relDir ? `${relDir}/${name}` : name;
      const abs = join(root, rel);
      const st = lstatSync(abs);
      if (st.isDirectory()) {
        out.push({ kind: "directory", name: rel, sourcePath: abs });
        walk(rel);
      } else {
        out.push({ kind: "file", name: rel, sourcePath: abs });
      }
    }
  };
  walk(rel);
  return out;
}
