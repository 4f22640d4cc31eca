// The manual's positional command language: `[prefix NAME] full|inc WHEN ...`,
// applied left to right. Parsed and validated completely before anything is
// locked or written.
import { UsageError } from "../errors.ts";
import { InvalidDateError } from "../time/parse.ts";
import { parseWhen } from "../time/when.ts";

export type BackupStep =
  | { kind: "full"; prefix: string }
  | { kind: "inc"; prefix: string; when: string; whenSeconds: number; /** "resolved to ... (... UTC)", to echo */ resolved: string };

export const DEFAULT_PREFIX = "backup";

export function validatePrefix(prefix: string): string {
  if (!/^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(prefix) || prefix.length > 100) {
    throw new UsageError(
      `bad prefix ${JSON.stringify(prefix)}: use letters, digits, '.', '_' and '-' (not starting with '.' or '-')`,
    );
  }
  // `db-1-to` would name its full backup 2 `db-1-to-2.tgz`: the incremental 1-to-2 of prefix `db`.
  if (/-\d+-to$/.test(prefix)) {
    throw new UsageError(`bad prefix ${JSON.stringify(prefix)}: a prefix ending in -N-to would make archive names read as incremental backups`);
  }
  return prefix;
}

/** A user's string for an error message: quoted, and cut short if huge. */
export function quoteInput(text: string, max = 80): string {
  if (text.length <= max) return `'${text}'`;
  return `'${text.slice(0, max)}...' (${text.length} characters)`;
}

export function parseBackupWords(words: string[], now: Date, zone?: string): BackupStep[] {
  const steps: BackupStep[] = [];
  let prefix = DEFAULT_PREFIX;
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    switch (word) {
      case "prefix": {
        const value = words[++i];
        if (value === undefined) throw new UsageError("prefix needs a NAME");
        prefix = validatePrefix(value);
        break;
      }
      case "full":
        steps.push({ kind: "full", prefix });
        break;
      case "inc": {
        const when = words[++i];
        if (when === undefined) throw new UsageError('inc needs a time, e.g. inc "36 hours ago" or inc 1700000000');
        let instant: ReturnType<typeof parseWhen>;
        try {
          instant = parseWhen(when, { now, zone });
        } catch (err) {
          const detail = err instanceof InvalidDateError ? `invalid date ${quoteInput(when)}${err.suggestion ? `; ${err.suggestion}` : ""}` : (err as Error).message;
          throw new UsageError(`inc: ${detail}`, { cause: err });
        }
        steps.push({ kind: "inc", prefix, when, whenSeconds: Math.floor(instant.date.getTime() / 1000), resolved: instant.description });
        break;
      }
      default:
        throw new UsageError(`unknown command ${JSON.stringify(word)} (expected prefix NAME, full or inc WHEN)`);
    }
  }
  if (steps.length === 0) throw new UsageError("nothing to do: give full or inc WHEN (see dsbackup --help)");
  return steps;
}
