// What copy's end-to-end tests look at in a backups folder: its archives,
// its files, its index and the digests that index records.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseIndex } from "../../src/index/tindex.ts";

export const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
export const archives = (dir: string) => readdirSync(dir).filter((n) => /\.tgz(\.age)?$/.test(n)).sort();
/** Everything but the lock file every index writer leaves. */
export const visible = (dir: string) => readdirSync(dir).filter((n) => n !== ".tindex.lock").sort();
export const indexOf = (dir: string) => readFileSync(join(dir, "tindex"), "utf8");
/** Every recorded digest of a folder's index, by archive name. */
export const recorded = (dir: string) => new Map(parseIndex(indexOf(dir), dir).flatMap((e) => e.digests ?? []).map((d) => [d.name, d]));
