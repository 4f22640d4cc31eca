// Entry point compiled by compiled.test.ts with `bun build --compile`, to
// check the compression worker inside a standalone executable.
// Usage: harness SOURCE_DIR OUT_FILE JOBS
import { closeSync, openSync } from "node:fs";
import { gzipWorkerUrl, writeArchive } from "../../src/archive/writer.ts";
import { listEntries } from "./tree.ts";

const [root, outPath, jobs] = process.argv.slice(2);
const fd = openSync(outPath!, "w");
try {
  const result = await writeArchive(listEntries(root!), fd, { jobs: Number(jobs) });
  console.log(JSON.stringify({ workerUrl: gzipWorkerUrl(), result }));
} finally {
  closeSync(fd);
}
