// The real `age` CLI for interop tests, and byte helpers. age reads a
// passphrase only from a terminal, so `script` gives it one.
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ByteReader, type ByteSource } from "../../src/crypto/byte-source.ts";

export const VECTORS = join(import.meta.dir, "vectors");

function has(cmd: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;
}
export const ageCli = has("age") && has("age-keygen") && has("script");
if (!ageCli) console.warn("SKIP: age CLI (Debian package age) or script not installed; age interop tests are skipped");

/** Deterministic test bytes: byte i = (i*7 + (i>>8)) & 255 (the vectors' plaintext). */
export function pattern(n: number): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + (i >> 8)) & 255;
  return b;
}

export function run(cmd: string, args: string[], input?: string | Uint8Array): { status: number; stdout: Buffer; stderr: string } {
  const r = spawnSync(cmd, args, { input, maxBuffer: 1 << 30 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr.toString() };
}

/** A fresh X25519 key file from age-keygen, and its recipient. */
export function keygen(dir: string, name = "key.txt"): { path: string; recipient: string } {
  const path = join(dir, name);
  const r = run("age-keygen", ["-o", path]);
  if (r.status !== 0) throw new Error(`age-keygen failed: ${r.stderr}`);
  return { path, recipient: run("age-keygen", ["-y", path]).stdout.toString().trim() };
}

/** `age -d -o out file` answering the passphrase prompt on a pseudo-terminal; exit status. */
export function ageDecryptPassphrase(file: string, out: string, passphrase: string): number {
  return run("script", ["-qec", `age -d -o ${out} ${file}`, "/dev/null"], `${passphrase}\n`).status;
}

/** `age -p -o out file`, passphrase typed twice on a pseudo-terminal. */
export function ageEncryptPassphrase(file: string, out: string, passphrase: string): number {
  return run("script", ["-qec", `age -p -o ${out} ${file}`, "/dev/null"], `${passphrase}\n${passphrase}\n`).status;
}

/** A stream of `data` in pieces of `piece` bytes (to cross chunk boundaries at odd places). */
export function streamOf(data: Uint8Array, piece = 100_000): ReadableStream<Uint8Array> {
  let off = 0;
  return new ReadableStream({
    pull(c) {
      if (off >= data.length) return c.close();
      c.enqueue(data.slice(off, off + piece));
      off += piece;
    },
  });
}

/** Everything a stream yields, as one array. */
export async function collect(source: ByteSource): Promise<Uint8Array> {
  const reader = new ByteReader(source);
  const parts: Uint8Array[] = [];
  for (let p = await reader.read(); p !== null; p = await reader.read()) parts.push(p);
  return new Uint8Array(Buffer.concat(parts));
}

export const readBytes = (path: string) => new Uint8Array(readFileSync(path));
export const writeBytes = (path: string, b: Uint8Array) => writeFileSync(path, b);

/** Lines of an `strace -xx -s 3` write trace that write a gzip member's magic: plaintext archive bytes. */
export function gzipMagicWrites(trace: string): string[] {
  return trace.split("\n").filter((l) => /(write|pwrite64)\(\d+, "\\x1f\\x8b\\x08/.test(l) || /writev\(\d+, \[\{iov_base="\\x1f\\x8b\\x08/.test(l));
}
