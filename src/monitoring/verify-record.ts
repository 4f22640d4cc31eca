// `.dsbackup-verified.json` in the backups location: what verify found for
// each archive it read (time, size, clean or not), so status can say whether
// the newest point's chain verified without reading the archives again.
// Keyed by archive name with its size: an archive replaced since (another
// size) counts as never verified. Small, rewritten whole, atomically.
import { DsError } from "../errors.ts";
import { readSmallObject, writeSmallObject, type Location } from "../location/location.ts";

export const VERIFY_RECORD_NAME = ".dsbackup-verified.json";

export interface VerifyRecord {
  version: 1;
  archives: Record<string, { time: number; size: number; ok: boolean }>;
}

export class VerifyRecordError extends DsError {}

export function parseVerifyRecord(text: string, where: string): VerifyRecord {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new VerifyRecordError(`${where}: not JSON`);
  }
  const r = v as VerifyRecord;
  if (!r || typeof r !== "object" || r.version !== 1 || typeof r.archives !== "object" || r.archives === null) {
    throw new VerifyRecordError(`${where}: not a version 1 verify record`);
  }
  for (const [name, a] of Object.entries(r.archives)) {
    if (!a || typeof a.time !== "number" || typeof a.size !== "number" || typeof a.ok !== "boolean") throw new VerifyRecordError(`${where}: bad entry for ${name}`);
  }
  return { version: 1, archives: r.archives };
}

/** The record with this run's results added (replacing older ones), and entries of archives no longer present dropped. */
export function updateVerifyRecord(
  record: VerifyRecord | undefined,
  results: { name: string; size: number; ok: boolean }[],
  time: number,
  present: Set<string>,
): VerifyRecord {
  const archives: VerifyRecord["archives"] = {};
  for (const [name, a] of Object.entries(record?.archives ?? {})) if (present.has(name)) archives[name] = a;
  for (const r of results) archives[r.name] = { time, size: r.size, ok: r.ok };
  const sorted = Object.fromEntries(Object.entries(archives).sort(([a], [b]) => (a < b ? -1 : 1)));
  return { version: 1, archives: sorted };
}

export function formatVerifyRecord(r: VerifyRecord): string {
  return `${JSON.stringify(r, null, 1)}\n`;
}

/** The record in a backups location; undefined when there is none. A damaged one is reported through warn and ignored. */
export async function readVerifyRecord(location: Location, warn: (m: string) => void): Promise<VerifyRecord | undefined> {
  const text = await readSmallObject(location, VERIFY_RECORD_NAME);
  if (text === undefined) return undefined;
  try {
    return parseVerifyRecord(text, location.where(VERIFY_RECORD_NAME));
  } catch (err) {
    if (!(err instanceof VerifyRecordError)) throw err;
    warn(`${err.message}; ignoring it`);
    return undefined;
  }
}

export async function writeVerifyRecord(location: Location, r: VerifyRecord): Promise<void> {
  await writeSmallObject(location, VERIFY_RECORD_NAME, formatVerifyRecord(r));
}
