// Folder location streams: @isaacs/fs-minipass against node:fs streams and
// Bun.file, reading and writing SIZE MiB (default 300) in 64 KiB chunks. Run
// twice and take the second (warm page cache for reads, as restore sees it).
import { ReadStream, WriteStream } from "@isaacs/fs-minipass";
import { createReadStream, createWriteStream, closeSync, fsyncSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const mib = Number(process.argv[2] ?? 300);
const path = join(tmpdir(), `dsbackup-streams-${process.pid}`);
const chunk = new Uint8Array(64 * 1024).map((_, i) => (i * 7919) & 255);
const chunks = (mib * 1024 * 1024) / chunk.length;

async function timed(label: string, fn: () => Promise<void>) {
  const t0 = performance.now();
  await fn();
  const s = (performance.now() - t0) / 1000;
  console.log(`${label.padEnd(34)} ${(mib / s).toFixed(0).padStart(6)} MiB/s`);
}
const finished = (s: any, ev = "finish") =>
  new Promise<void>((res, rej) => {
    const ok = () => { s.off("error", bad); res(); };
    const bad = (e: unknown) => { s.off(ev, ok); rej(e); };
    s.once(ev, ok); s.once("error", bad);
  });

async function writeMinipass() {
  const fd = openSync(path, "w");
  const ws = new WriteStream(path, { fd, autoClose: false });
  for (let i = 0; i < chunks; i++) if (!ws.write(Buffer.from(chunk))) await finished(ws, "drain");
  // fs-minipass may emit finish inside end(): listen first.
  const done = finished(ws);
  ws.end(); await done; fsyncSync(fd); closeSync(fd);
}
async function writeNode() {
  const fd = openSync(path, "w");
  const ws = createWriteStream(path, { fd, autoClose: false });
  for (let i = 0; i < chunks; i++) if (!ws.write(chunk)) await finished(ws, "drain");
  ws.end(); await finished(ws); fsyncSync(fd); closeSync(fd);
}
async function writeSyncLoop() {
  const fd = openSync(path, "w");
  for (let i = 0; i < chunks; i++) writeSync(fd, chunk);
  fsyncSync(fd); closeSync(fd);
}
async function drain(it: AsyncIterable<Uint8Array>) { let n = 0; for await (const c of it) n += c.length; if (n !== mib * 1024 * 1024) throw new Error(`read ${n}`); }

for (let round = 1; round <= 2; round++) {
  console.log(`round ${round}`);
  await timed("write fs-minipass WriteStream", writeMinipass);
  await timed("write node:fs createWriteStream", writeNode);
  await timed("write writeSync loop", writeSyncLoop);
  await timed("read fs-minipass ReadStream", () => drain(new ReadStream(path, { readSize: 1 << 20 }) as any));
  await timed("read node:fs createReadStream", () => drain(createReadStream(path, { highWaterMark: 1 << 20 })));
  await timed("read Bun.file().stream()", () => drain(Bun.file(path).stream()));
}
rmSync(path, { force: true });
