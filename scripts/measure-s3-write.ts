// Streamed write of SIZE MiB (default 300) to the local RGW (test/s3/rgw.sh
// must be running) through the S3 location: MiB/s and this process's peak
// RSS, for a part size and parts in flight. One warm-up write first.
//   bun scripts/measure-s3-write.ts [MiB] [partMiB] [queueSize]
import { newBucket, rgw } from "../test/s3/rgw.ts";
import { S3Location, s3ConfigFromEnv } from "../src/location/s3.ts";

const [mib, partMib, queue] = [Number(process.argv[2] ?? 300), Number(process.argv[3] ?? 16), Number(process.argv[4] ?? 2)];
const r = rgw();
if (!r) throw new Error("RGW is not running: test/s3/rgw.sh start");
const loc = new S3Location(await newBucket(r, "bench"), "", { ...s3ConfigFromEnv(r.env), partSize: partMib << 20, queueSize: queue });
const chunk = new Uint8Array(256 * 1024).map((_, i) => (i * 7919) & 255);

async function upload(name: string, total: number) {
  const w = await loc.write(name);
  for (let done = 0; done < total; done += chunk.length) await w.write(chunk);
  return w.commit();
}
await upload("warm-up", 32 << 20);
await loc.delete("warm-up");
const t0 = performance.now();
const written = await upload("big", mib << 20);
const s = (performance.now() - t0) / 1000;
await loc.delete("big");
console.log(`${mib} MiB, part ${partMib} MiB x ${queue}: ${(mib / s).toFixed(0)} MiB/s, peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB, sha256 ${written.sha256.slice(0, 12)}`);
