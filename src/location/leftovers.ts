// What a killed run left under a location, settled at the start of every run
// that writes (backup, prune, rebuild-index), under the location's lock:
// first the writes the index already commits are completed (the folder's
// renames, backup/stale.ts), then every other incomplete write is aborted.
import type { IndexEntry } from "../index/tindex.ts";
import { count } from "../plural.ts";
import type { Location } from "./location.ts";

export async function settleLeftovers(location: Location, index: IndexEntry[], report: (message: string) => void): Promise<number> {
  await location.completeCommittedWrites(index, report);
  const left = await location.listIncompleteWrites();
  if (left.length === 0) return 0;
  const n = await location.abortIncompleteWrites(left);
  const names = [...new Set(left.map((w) => w.name))].join(", ");
  report(`Aborted ${count(n, "incomplete write")} under ${location.display} left by a run that did not finish (${names})`);
  return n;
}
