// Verifying an encrypted archive without its key: what the stored bytes
// alone can tell. The age header's syntax and recipients, whether the size
// is one an age file can have, and the size and sha256 the index recorded
// for it when it was written. The header MAC, the chunk tags, the tar stream,
// the records and the transaction chain all need the key.
import { createHash } from "node:crypto";
import { inspectAge, withoutLabel, type AgeReport, type ByteSource } from "../crypto/index.ts";
import type { ArchiveDigest } from "../index/tindex.ts";
import { ObjectNotFoundError, S3Error } from "../errors.ts";
import { archiveBytes, type ArchiveSource } from "./archive-stream.ts";
import type { Problem } from "./verify.ts";

/** What a keyless check leaves unchecked, said in verify's report. */
export const NOT_CHECKED_WITHOUT_KEY = ["payload authenticity", "the tar stream", "the records", "the transaction chain"];

export interface SealedCheck {
  archive: string;
  problems: Problem[];
  /** The header as read; undefined when it could not be read. */
  age?: AgeReport;
  /** The index recorded a size and sha256 for this archive, and they were compared. */
  digestChecked: boolean;
  notChecked: string[];
}

/** The index's record for `name` contradicting what was read, or undefined. */
export function digestProblem(recorded: ArchiveDigest, size: number, sha256: string): string | undefined {
  if (recorded.size !== size) return `${size} bytes, but the index recorded ${recorded.size} when it was written`;
  if (recorded.sha256 !== sha256) return `sha256 ${sha256} differs from the ${recorded.sha256} the index recorded: the archive was altered`;
  return undefined;
}

/** Read `source` once: the age report and the sha256 of every byte. */
async function inspectWithDigest(source: AsyncIterable<Uint8Array>, name: string): Promise<{ age: AgeReport; sha256: string }> {
  const hash = createHash("sha256");
  async function* tap(): AsyncIterable<Uint8Array> {
    for await (const piece of source) {
      hash.update(piece);
      yield piece;
    }
  }
  const age = await inspectAge(tap() as ByteSource, name);
  return { age, sha256: hash.digest("hex") };
}

/** Check the encrypted archive `source` without a key, against `recorded` (the index's digest line for it) when there is one. */
export async function checkSealedArchive(source: ArchiveSource, recorded?: ArchiveDigest): Promise<SealedCheck> {
  const name = source.name;
  const check: SealedCheck = { archive: name, problems: [], digestChecked: false, notChecked: NOT_CHECKED_WITHOUT_KEY };
  const problem = (message: string) => check.problems.push({ archive: name, message });
  try {
    const { age, sha256 } = await inspectWithDigest(archiveBytes(source), name);
    check.age = age;
    if (age.problem) problem(age.problem);
    if (recorded) {
      check.digestChecked = true;
      const wrong = digestProblem(recorded, age.fileSize, sha256);
      if (wrong) problem(wrong);
    }
  } catch (err) {
    if (err instanceof S3Error) throw err; // the location failing is no damage of the archive
    const e = err as NodeJS.ErrnoException;
    problem(err instanceof ObjectNotFoundError || e.code === "ENOENT" ? "archive file is missing" : `cannot read: ${withoutLabel(err, name)}`);
  }
  return check;
}
