// status core: points, chain and size, verify record, lag, --max-age, Nagios line.
import { describe, expect, test } from "bun:test";
import type { IndexEntry } from "../../src/index/tindex.ts";
import { computeStatus, formatAge, formatNagios } from "../../src/monitoring/status.ts";
import { parseVerifyRecord, updateVerifyRecord, VerifyRecordError } from "../../src/monitoring/verify-record.ts";
import { chainTo, parseArchiveName } from "../../src/restore/plan.ts";
import { tidFromDate } from "../../src/storage/records.ts";
import { UTC_ZONE } from "../../src/time/zone.ts";

const T0 = Date.parse("2026-11-01T02:00:00Z") / 1000;
const entries: IndexEntry[] = [1, 2, 3, 4].map((seq) => ({ seq, timestamp: T0 + (seq - 1) * 86400, tid: tidFromDate(new Date((T0 + (seq - 1) * 86400 - 60) * 1000)), line: seq }));
const archives = ["s-1.tgz", "s-1-to-2.tgz", "s-1-to-3.tgz", "s-2-to-4.tgz"].map((n, i) => ({ ...parseArchiveName(n)!, size: 1000 * (i + 1) }));
const base = {
  prefix: "s",
  entries,
  archives,
  unindexed: [],
  missing: [],
  chainOf: (p: string, seq: number) => chainTo(archives.filter((a) => a.prefix === p), seq),
  zone: UTC_ZONE,
};

describe("computeStatus", () => {
  test("newest and oldest points, the newest chain and its size, age", () => {
    const r = computeStatus({ ...base, now: T0 + 3 * 86400 + 3600 });
    expect(r.restorablePoints).toBe(4);
    expect(r.oldest!.seq).toBe(1);
    expect(r.newest).toMatchObject({ seq: 4, ageSeconds: 3600, chain: ["s-1.tgz", "s-1-to-3.tgz", "s-2-to-4.tgz"], chainBytes: 1000 + 3000 + 4000 });
    expect(r.newest!.tidTimestamp).toBe(T0 + 3 * 86400 - 60);
    expect(r.storage).toBeNull();
    expect(r.verify).toBeNull();
  });
  test("--max-age: calendar units from now, the boundary itself is not too old", () => {
    const now = T0 + 3 * 86400 + 26 * 3600;
    expect(computeStatus({ ...base, now, maxAge: { years: 0, months: 0, days: 0, hours: 26 } }).maxAge).toMatchObject({ limit: "26h", tooOld: false, seconds: 93600 });
    expect(computeStatus({ ...base, now: now + 1, maxAge: { years: 0, months: 0, days: 0, hours: 26 } }).maxAge!.tooOld).toBe(true);
    expect(computeStatus({ ...base, archives: [], now, maxAge: { years: 0, months: 0, days: 1, hours: 0 } }).maxAge!.tooOld).toBe(true);
  });
  test("lag: seconds of commits the newest backup lacks", () => {
    const now = T0 + 4 * 86400;
    const storageTid = tidFromDate(new Date((T0 + 3 * 86400 + 600) * 1000));
    expect(computeStatus({ ...base, now, storageTid }).storage!.lagSeconds).toBe(660);
    expect(computeStatus({ ...base, now, storageTid: entries[3]!.tid }).storage!.lagSeconds).toBe(0);
  });
  test("verify record: ok only when every chain archive verified clean at its present size", () => {
    const present = new Set(archives.map((a) => a.name));
    const all = updateVerifyRecord(undefined, archives.map((a) => ({ name: a.name, size: a.size, ok: true })), T0 + 99, present);
    const now = T0 + 4 * 86400;
    expect(computeStatus({ ...base, now, verified: all }).verify).toEqual({ ok: true, oldestCheck: T0 + 99, failed: [], unverified: [] });
    const bad = updateVerifyRecord(all, [{ name: "s-1-to-3.tgz", size: 3000, ok: false }], T0 + 200, present);
    expect(computeStatus({ ...base, now, verified: bad }).verify).toMatchObject({ ok: false, failed: ["s-1-to-3.tgz"] });
    const resized = updateVerifyRecord(all, [{ name: "s-2-to-4.tgz", size: 1, ok: true }], T0 + 200, present);
    expect(computeStatus({ ...base, now, verified: resized }).verify).toMatchObject({ ok: null, unverified: ["s-2-to-4.tgz"] });
    expect(Object.keys(updateVerifyRecord(all, [], 0, new Set(["s-1.tgz"])).archives)).toEqual(["s-1.tgz"]);
    expect(parseVerifyRecord(JSON.stringify(all), "x")).toEqual(all);
    expect(() => parseVerifyRecord('{"version":2,"archives":{}}', "x")).toThrow(VerifyRecordError);
  });
});

describe("Nagios line", () => {
  test("OK, CRITICAL when too old or none, WARNING when verify failed", () => {
    const ok = formatNagios(computeStatus({ ...base, now: T0 + 3 * 86400 + 3600, maxAge: { years: 0, months: 0, days: 0, hours: 26 } }));
    expect(ok).toEqual({ status: 0, line: "DSBACKUP OK - s: newest point 4 is 1h 0m old, 4 restorable points | age=3600s;;93600 points=4 chain_bytes=8000B" });
    const old = formatNagios(computeStatus({ ...base, now: T0 + 5 * 86400, maxAge: { years: 0, months: 0, days: 0, hours: 26 } }));
    expect(old.status).toBe(2);
    expect(old.line).toStartWith("DSBACKUP CRITICAL - s: newest point 4 is 2d 0h old, older than 26h |");
    expect(formatNagios(computeStatus({ ...base, archives: [], now: T0 })).line).toBe("DSBACKUP CRITICAL - s: no restorable point with prefix s");
    const verified = updateVerifyRecord(undefined, [{ name: "s-1.tgz", size: 1000, ok: false }], T0, new Set(["s-1.tgz"]));
    expect(formatNagios(computeStatus({ ...base, now: T0 + 3 * 86400, verified })).status).toBe(1);
  });
  test("ages", () => {
    expect([42, 125, 3 * 3600 + 60, 2 * 86400 + 7200].map(formatAge)).toEqual(["42s", "2m 5s", "3h 1m", "2d 2h"]);
  });
});
