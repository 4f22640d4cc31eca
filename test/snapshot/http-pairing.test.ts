// Every enterSnapshot that worked, or may have worked, is paired with a
// leaveSnapshot: a slow Zope that enters after our timeout, and a failure
// between entering and returning the hold.
import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createStorage } from "../fixtures/generator.ts";
import { startToolkit, type Toolkit } from "../fixtures/toolkit.ts";
import { tempDir, tools } from "../helpers.ts";
import { httpTimeoutMs } from "../../src/snapshot/enter.ts";
import { holdSnapshot } from "../../src/snapshot/session.ts";
import { LockedError } from "../../src/errors.ts";

if (!tools.python) console.warn("SKIP: python3 not installed; enterSnapshot/leaveSnapshot pairing tests need the toolkit fixture's flock holder");

const running: Toolkit[] = [];
afterEach(async () => {
  for (const t of running.splice(0)) await t.stop();
});

async function live(label: string, conf: (url: string) => string) {
  const home = join(tempDir(label), "storage");
  createStorage(home, { format: "bushy", transactions: 2, objectsPerTransaction: 2, seed: 4 });
  writeFileSync(join(home, "config", "access"), "admin:pw\n");
  const toolkit = await startToolkit(home, { user: "admin", password: "pw" });
  running.push(toolkit);
  writeFileSync(join(home, "config", "snapshot.conf"), conf(toolkit.url));
  const details: string[] = [];
  const warnings: string[] = [];
  const hold = (timeoutMs?: number) =>
    holdSnapshot(home, {}, {
      nowSeconds: () => Math.floor(Date.now() / 1000),
      format: "bushy",
      detail: (m) => details.push(m),
      warn: (m) => warnings.push(m),
      httpTimeoutMs: timeoutMs,
      code: "test-code",
    });
  return { home, toolkit, hold, details, warnings };
}

test("DSBACKUP_XMLRPC_TIMEOUT_MS is used only when set to positive milliseconds", () => {
  expect(httpTimeoutMs(undefined, {})).toBe(30_000);
  expect(httpTimeoutMs(undefined, { DSBACKUP_XMLRPC_TIMEOUT_MS: "250" })).toBe(250);
  expect(httpTimeoutMs(undefined, { DSBACKUP_XMLRPC_TIMEOUT_MS: "0" })).toBe(30_000);
  expect(httpTimeoutMs(undefined, { DSBACKUP_XMLRPC_TIMEOUT_MS: "soon" })).toBe(30_000);
  expect(httpTimeoutMs(1000, { DSBACKUP_XMLRPC_TIMEOUT_MS: "250" })).toBe(1000);
});

describe.skipIf(!tools.python)("enterSnapshot paired with leaveSnapshot", () => {
  test("an enterSnapshot that times out is left again (the slow Zope entered after all)", async () => {
    const { toolkit, hold, details } = await live("slow-enter", (url) => `nodirect\nhttp ${url} access\n`);
    toolkit.enterDelayMs = 700;
    const err = await hold(500).catch((e) => e);
    expect(err).toBeInstanceOf(LockedError);
    expect(toolkit.calls.map((c) => [c.method, c.code])).toEqual([
      ["enterSnapshot", "test-code"],
      ["leaveSnapshot", "test-code"],
    ]);
    expect(toolkit.active.size).toBe(0);
    expect(details.join("\n")).toContain("no answer within");
  });

  test("when the leaveSnapshot after it gets no answer either, it is sent again once the hold ends", async () => {
    const { toolkit, hold } = await live("slower-enter", (url) => `nodirect\nhttp ${url} access\n`);
    toolkit.enterDelayMs = 1500;
    // Whether the hold succeeds depends on when the slow Zope got round to it; either way it ends left.
    const started = Date.now();
    const held = await hold(400).catch(() => null);
    await Bun.sleep(1800 - (Date.now() - started)); // the slow Zope has answered by now
    await held?.release();
    const methods = toolkit.calls.map((c) => c.method);
    expect(methods[0]).toBe("enterSnapshot");
    expect(methods.slice(1).length).toBeGreaterThanOrEqual(1);
    expect(methods.slice(1).every((m) => m === "leaveSnapshot")).toBe(true);
    expect(toolkit.active.size).toBe(0);
  });

  test("a leave refused while the slow enter is still running (bad code) is tried again until the enter has finished", async () => {
    const { toolkit, hold } = await live("real-ordering", (url) => `nodirect\nhttp ${url} access\n`);
    toolkit.enterDelayMs = 1200;
    toolkit.realOrdering = true;
    const held = await hold(400).catch(() => null);
    await held?.release();
    // The first leaveSnapshot came while Zope was still flushing and was refused; a later one left.
    const leaves = toolkit.calls.filter((c) => c.method === "leaveSnapshot");
    expect(leaves.length).toBeGreaterThanOrEqual(2);
    expect(toolkit.active.size).toBe(0);
  });

  test("a refused connection is certain: no leaveSnapshot is sent", async () => {
    const { toolkit, hold, details } = await live("refused", () => "nodirect\nhttp http://127.0.0.1:1/ access\n");
    expect(await hold(400).catch((e) => e)).toBeInstanceOf(LockedError);
    expect(toolkit.calls).toEqual([]);
    expect(details.join("\n")).not.toContain("leaveSnapshot");
  });

  test("a failure while locking after enterSnapshot still leaves snapshot mode", async () => {
    const { home, toolkit, hold } = await live("lock-throws", (url) => `nodirect\nhttp ${url} access\n`);
    // Once in snapshot mode, misc/sublock becomes a folder: opening it to lock fails (EISDIR).
    const sublock = join(home, "misc", "sublock");
    toolkit.onEnter = () => {
      renameSync(sublock, `${sublock}.old`);
      mkdirSync(sublock);
    };
    const err = await hold().catch((e) => e);
    expect(String(err?.message)).toContain(sublock);
    expect(toolkit.calls.map((c) => c.method)).toEqual(["enterSnapshot", "leaveSnapshot"]);
    expect(toolkit.active.size).toBe(0);
  });
});
