// Preloaded by bun test (bunfig.toml). bun runs every test file in one
// process and evaluates test/helpers.ts once, so per-module hooks there would
// belong to the first file only; a top-level hook here is global.
import { afterAll } from "bun:test";
import { removeTempDirs } from "./helpers.ts";
import { stopRgwIfStarted } from "./s3/rgw.ts";

// Restore tests leave many small files; on a busy disk removal takes a while.
afterAll(removeTempDirs, 120_000);

// The S3 tests share one RGW cluster (test/s3/rgw.ts); stopped after every file has run.
afterAll(stopRgwIfStarted, 60_000);
