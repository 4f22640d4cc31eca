// A retention policy over one prefix's restore points, from decisions to
// deletions: applyPolicy judges the points, selectArchives turns the kept
// ones into archives and index lines. Pure; prune prints this plan (the
// dry-run table and --json) and carries it out, so what it shows is what it
// does.
import type { IndexEntry } from "../index/tindex.ts";
import type { ArchiveName } from "../restore/plan.ts";
import type { TimeZone } from "../time/zone.ts";
import { applyPolicy, describePolicy, type RetentionPolicy } from "./policy.ts";
import { restorablePoints, selectArchives, type ChainOf, type RetentionSelection } from "./select.ts";

/** One restore point of the prefix: kept or not, by which rules, and the archives restoring it needs. */
export interface PointVerdict {
  seq: number;
  /** Snapshot time, epoch seconds. */
  timestamp: number;
  keep: boolean;
  /** restic's reason texts ("daily snapshot", "within 7d", ...); empty for a point not kept. */
  reasons: string[];
  /** Archive names of its shortest chain, oldest first (any prefix). */
  chain: string[];
  /** Not kept, but every archive of its chain stays (kept points need them): still restorable after the prune. */
  stillRestorable: boolean;
}

export interface RetentionPlan<A extends ArchiveName> {
  prefix: string;
  /** restic's summary of the policy: "keep 7 daily, 5 weekly snapshots". */
  policy: string;
  /** Every restorable point of the prefix, newest first. */
  points: PointVerdict[];
  /** Undefined when the prefix has no restorable point (nothing to judge, nothing deleted). */
  selection?: RetentionSelection<A>;
  /** Archives of this prefix no kept point needs, kept because restore points of other prefixes (prefix, seqs) do. */
  keptForOthers: { archive: A; prefixes: string[]; points: number[] }[];
}

export interface RetentionPlanInput<A extends ArchiveName> {
  entries: IndexEntry[];
  archives: A[];
  prefix: string;
  policy: RetentionPolicy;
  zone: TimeZone;
  /** Epoch seconds. */
  now: number;
  chainOf: ChainOf;
}

export function planRetention<A extends ArchiveName>(input: RetentionPlanInput<A>): RetentionPlan<A> {
  const { entries, archives, prefix, chainOf } = input;
  const points = restorablePoints(entries, archives, prefix, chainOf);
  const chains = new Map(points.map((p) => [p.entry.seq, p.chain]));
  const decisions = applyPolicy(
    points.map((p) => ({ seq: p.entry.seq, timestamp: p.entry.timestamp, fullSeq: p.chain[0]!.seq })),
    input.policy,
    { zone: input.zone, now: input.now },
  );
  const policy = describePolicy(input.policy);
  if (points.length === 0) return { prefix, policy, points: [], keptForOthers: [] };
  const keep = decisions.filter((d) => d.keep).map((d) => d.seq);
  const selection = selectArchives({ entries, archives, prefix, keep, chainOf });
  const still = new Set(selection.stillRestorable);
  const verdicts = decisions.map((d) => ({ ...d, chain: chains.get(d.seq)!.map((a) => a.name), stillRestorable: still.has(d.seq) }));
  return { prefix, policy, points: verdicts, selection, keptForOthers: keptForOthers(input, selection, new Set(keep)) };
}

function keptForOthers<A extends ArchiveName>(input: RetentionPlanInput<A>, selection: RetentionSelection<A>, keep: Set<number>): RetentionPlan<A>["keptForOthers"] {
  const { entries, archives, prefix, chainOf } = input;
  const ownNeeds = new Set(restorablePoints(entries, archives, prefix, chainOf).flatMap((p) => (keep.has(p.entry.seq) ? p.chain.map((a) => a.name) : [])));
  const others = [...new Set(archives.map((a) => a.prefix))].filter((p) => p !== prefix).flatMap((p) => restorablePoints(entries, archives, p, chainOf).map((point) => ({ prefix: p, point })));
  return selection.keep
    .filter((a) => a.prefix === prefix && !ownNeeds.has(a.name))
    .flatMap((archive) => {
      const users = others.filter((o) => o.point.chain.some((c) => c.name === archive.name));
      return users.length === 0 ? [] : [{ archive, prefixes: [...new Set(users.map((u) => u.prefix))], points: users.map((u) => u.point.entry.seq) }];
    });
}
