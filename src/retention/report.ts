// prune's table of restore points, modelled on restic's `forget --dry-run`:
// the policy, then the kept points and the removed ones, each with its
// sequence, snapshot time, the archives of its chain and the rules that
// kept it. Pure: a plan and a time formatter in, lines out.
import type { ArchiveName } from "../restore/plan.ts";
import type { PointVerdict, RetentionPlan } from "./plan.ts";

export const STILL_RESTORABLE = "still restorable (kept points need its whole chain)";

export function retentionTable(plan: RetentionPlan<ArchiveName>, show: (epochSeconds: number) => string): string[] {
  const lines = [`Applying policy: ${plan.policy}`];
  if (plan.points.length === 0) return [...lines, `no restorable point with prefix ${plan.prefix}: nothing to prune`];
  const rows = plan.points.map((p) => ({ p, cells: [String(p.seq), show(p.timestamp), p.chain.join(" "), reasonText(p)] }));
  const head = ["seq", "time", "archives", "reasons"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r.cells[i]!.length)));
  const row = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join("  ").trimEnd();
  const rule = "-".repeat(widths.reduce((n, w) => n + w, 0) + 2 * (widths.length - 1));
  for (const [keep, verb] of [[true, "keep"], [false, "remove"]] as const) {
    const group = rows.filter((r) => r.p.keep === keep);
    if (group.length === 0) continue;
    lines.push(`${verb} ${group.length} restore point${group.length === 1 ? "" : "s"}:`, row(head), rule, ...group.map((r) => row(r.cells)), "");
  }
  lines.pop();
  return lines;
}

function reasonText(p: PointVerdict): string {
  return p.keep ? p.reasons.join(", ") : p.stillRestorable ? STILL_RESTORABLE : "";
}
