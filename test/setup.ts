// Preloaded by bun test (bunfig.toml). bun runs every test file in one
// process and evaluates test/helpers.ts once, so per-module hooks there would
// belong to the first file only; a top-level hook here is global.
import { afterAll } from "bun:test";
import { removeTempDirs } from "./helpers.ts";

// Restore tests leave many small files; on a busy disk removal takes a while.
afterAll(removeTempDirs, 120_000);
