// prune's table, from a plan: columns aligned over both groups, reasons of
// kept points, the still-restorable note, empty groups left out.
import { expect, test } from "bun:test";
import type { RetentionPlan } from "../../src/retention/plan.ts";
import { retentionTable } from "../../src/retention/report.ts";

const point = (seq: number, keep: boolean, reasons: string[], chain: string[], stillRestorable = false) => ({ seq, timestamp: seq * 86400, keep, reasons, chain, stillRestorable });

test("the table: kept then removed, newest first, aligned, with reasons", () => {
  const plan: RetentionPlan<never> = {
    prefix: "b",
    policy: "keep 1 daily snapshots",
    points: [point(12, true, ["daily snapshot", "full backup"], ["b-10.tgz", "b-10-to-12.tgz"]), point(11, false, [], ["b-10.tgz"], true), point(9, false, [], ["b-1.tgz", "b-1-to-9.tgz"])],
    keptForOthers: [],
  };
  expect(retentionTable(plan, (t) => `day ${t / 86400}`)).toEqual([
    "Applying policy: keep 1 daily snapshots",
    "keep 1 restore point:",
    "seq  time    archives                 reasons",
    "-".repeat(89), // the widest row: the still-restorable note
    "12   day 12  b-10.tgz b-10-to-12.tgz  daily snapshot, full backup",
    "",
    "remove 2 restore points:",
    "seq  time    archives                 reasons",
    "-".repeat(89), // the widest row: the still-restorable note
    "11   day 11  b-10.tgz                 still restorable (kept points need its whole chain)",
    "9    day 9   b-1.tgz b-1-to-9.tgz",
  ]);
  expect(retentionTable({ ...plan, points: plan.points.slice(0, 1) }, String).filter((l) => l.startsWith("remove"))).toEqual([]);
  expect(retentionTable({ ...plan, points: [] }, String)).toEqual(["Applying policy: keep 1 daily snapshots", "no restorable point with prefix b: nothing to prune"]);
});
