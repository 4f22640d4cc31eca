// `dsbackup copy --to LOCATION (--storage DIR | --backups LOCATION)`: give a
// folder or bucket every archive it lacks, checked, then their index lines;
// with --recipient / --recipients-file / --passphrase-file, plain archives
// arrive encrypted (NAME.tgz.age); with --decrypt and --identity /
// --passphrase-file, encrypted ones arrive plain (NAME.tgz).
import { mkdirSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { UsageError } from "../errors.ts";
import { humanRate, humanSize } from "../human-size.ts";
import { validatePrefix } from "../backup/plan.ts";
import { backupsDirectory } from "../backup/run.ts";
import { copyBackups, type CopyReport } from "../copy/run.ts";
import { otherForm } from "../copy/plan.ts";
import { parseLocation, type Location } from "../location/location.ts";
import { openLocation } from "../location/open.ts";
import { S3Location } from "../location/s3.ts";
import { count } from "../plural.ts";
import { decryptionKeys, encryptionKey, hasKeys, IDENTITY_ENV, type EncryptOptions } from "./keys.ts";
import { resolveHome, type SnapshotEnvironment } from "../snapshot/session.ts";
import { json } from "./backups-folder.ts";
import type { CommandContext } from "./context.ts";

/**
 * The encryption options are backup's (EncryptOptions): `--recipient AGE1...`
 * (repeatable), `--recipients-file FILE` (repeatable), `--passphrase-file FILE`:
 * each plain NAME.tgz the destination lacks is encrypted on the way to
 * NAME.tgz.age; archives already encrypted are copied byte for byte. Default: none.
 */
export interface CopyCommandOptions extends EncryptOptions {
  /** `--decrypt`: each NAME.tgz.age the destination lacks arrives decrypted as NAME.tgz, with the keys of --identity / DSBACKUP_IDENTITY_FILE or --passphrase-file (then the decryption passphrase). Not with --recipient / --recipients-file. Default: off, nothing is decrypted. */
  decrypt?: boolean;
  /** `--identity FILE` (repeatable, only with --decrypt): the age-keygen identities to decrypt with; also DSBACKUP_IDENTITY_FILE. */
  identity?: string | string[];
  /** `--to LOCATION`: the folder or s3://BUCKET/PATH to copy to (a missing folder is created). Required. */
  to?: string;
  /** `--storage DIR`: copy from this storage home's backups/ folder. */
  storage?: string;
  /** `--backups LOCATION`: copy from this backups folder or s3://BUCKET/PATH. */
  backups?: string;
  /** `--prefix NAME`: copy only archives of this prefix (and the reference lines their incrementals need). Default: every prefix. */
  prefix?: string;
  /** `--dry-run`: only print what would be copied; nothing is locked, written or aborted. */
  dryRun?: boolean;
  /** `--json`: print the report as one JSON document on stdout (keys: README, JSON output). */
  json?: boolean;
  /** `-q, --quiet`: no per-archive lines; only warnings, errors and the closing line. */
  quiet?: boolean;
}

/** Location text of the source: `--backups LOCATION`, or `--storage DIR`'s backups/ folder. */
function sourceText(options: CopyCommandOptions, ctx: CommandContext): string {
  if (options.backups !== undefined && options.storage !== undefined) throw new UsageError("give --backups LOCATION or --storage DIR to copy from, not both");
  if (options.backups !== undefined) return options.backups;
  if (options.storage === undefined && ctx.env.SNAPSHOT_VERSION === undefined) {
    throw new UsageError("copy needs a source: --storage DIR (its backups/ folder) or --backups LOCATION (a folder or s3://BUCKET/PATH)");
  }
  return backupsDirectory(resolveHome(options.storage, ctx.env as SnapshotEnvironment));
}

/** The same place named twice (two spellings of one folder, or one bucket path). */
function samePlace(a: string, b: string): boolean {
  const pa = parseLocation(a);
  const pb = parseLocation(b);
  if (pa.kind === "folder" && pb.kind === "folder") {
    const real = (p: string) => statSync(p, { throwIfNoEntry: false });
    const sa = real(pa.path);
    const sb = real(pb.path);
    return resolve(pa.path) === resolve(pb.path) || (sa !== undefined && sb !== undefined && sa.dev === sb.dev && sa.ino === sb.ino);
  }
  return pa.kind === "s3" && pb.kind === "s3" && pa.bucket === pb.bucket && pa.prefix === pb.prefix;
}

/** A destination folder that does not exist yet, as a dry run sees it: empty, and never created. */
function notYetCreated(loc: Location): Location {
  return Object.assign(Object.create(loc) as Location, {
    list: async () => [],
    readIndex: async () => ({ content: undefined, token: null }),
    listIncompleteWrites: async () => [],
  });
}

async function open(text: string, ctx: CommandContext, signal: AbortSignal | undefined, destination?: { dryRun: boolean }): Promise<Location> {
  const parsed = parseLocation(text);
  if (parsed.kind === "folder" && destination && !statSync(parsed.path, { throwIfNoEntry: false })) {
    if (destination.dryRun) return notYetCreated(openLocation(text));
    mkdirSync(parsed.path, { recursive: true, mode: 0o750 });
    ctx.log(`Created ${parsed.path}`);
  }
  const loc = openLocation(text, { env: ctx.env, signal });
  if (loc instanceof S3Location) await loc.checkBucket();
  return loc;
}

/** ` as NAME.tgz.age, encrypted` (` as NAME.tgz, decrypted`) for an archive this copy encrypts (decrypts). */
const asEncrypted = (a: { encrypt: boolean; decrypt: boolean; destName: string }) => (a.encrypt || a.decrypt ? ` as ${a.destName}, ${a.encrypt ? "encrypted" : "decrypted"}` : "");

/**
 * The keys of --decrypt, or null without it. Copy never decrypts unasked, and
 * never decrypts and encrypts at once: both are usage errors, before anything is opened.
 */
async function decryption(options: CopyCommandOptions, ctx: CommandContext) {
  if (!options.decrypt) {
    if (options.identity !== undefined) throw new UsageError("copy never decrypts unless --decrypt is given: --identity FILE is for copy --decrypt");
    return null;
  }
  if (options.recipient !== undefined || options.recipientsFile !== undefined) {
    throw new UsageError("--decrypt cannot be combined with --recipient or --recipients-file: copy decrypts or encrypts, not both");
  }
  const keys = await decryptionKeys(options, ctx);
  if (!hasKeys(keys)) throw new UsageError(`--decrypt needs the keys: --identity FILE, ${IDENTITY_ENV} or --passphrase-file FILE`);
  return keys;
}

export function copyJson(report: CopyReport, source: Location, destination: Location, dryRun: boolean) {
  const { plan } = report;
  return {
    source: source.display,
    destination: destination.display,
    dryRun,
    copied: dryRun ? [] : report.copied.map((c) => ({ name: c.name, from: c.from, encrypted: c.encrypted, decrypted: c.decrypted, size: c.size, sha256: c.sha256, seconds: Number(c.seconds.toFixed(3)) })),
    wouldCopy: dryRun ? plan.toCopy.map((a) => ({ name: a.destName, from: a.archive.name, encrypt: a.encrypt, decrypt: a.decrypt, size: a.size, sha256: a.encrypt || a.decrypt ? null : (a.recorded?.sha256 ?? null) })) : [],
    alreadyPresent: plan.present.map((p) => ({
      name: p.archive.name,
      as: p.destName,
      size: p.destSize,
      sha256: (p.destRecorded ?? report.checked.find((c) => c.name === p.destName))?.sha256 ?? null,
    })),
    notIndexed: plan.unindexed,
    shadowed: plan.shadowed,
    referenceLines: plan.referenceLines.map((e) => e.seq),
    indexLines: report.changes.map((c) => ({ seq: c.seq, kind: c.kind, line: c.line })),
    indexWritten: report.indexWritten,
    abortedIncompleteWrites: dryRun ? [] : report.incompleteWrites.map((w) => w.name),
    bytesCopied: report.copied.reduce((n, c) => n + c.size, 0),
  };
}

export async function copyCommand(options: CopyCommandOptions, ctx: CommandContext): Promise<number> {
  if (options.to === undefined) throw new UsageError("copy needs --to LOCATION (a folder or s3://BUCKET/PATH)");
  if (options.prefix !== undefined) validatePrefix(options.prefix);
  const from = sourceText(options, ctx);
  if (samePlace(from, options.to)) throw new UsageError(`--to ${options.to} is the location copied from`);
  const dryRun = Boolean(options.dryRun);
  // Read (and checked) before anything is opened: a bad recipient costs nothing.
  const decryptWith = await decryption(options, ctx);
  // With --decrypt, --passphrase-file is the passphrase to decrypt with.
  const encryption = decryptWith ? null : await encryptionKey(options);
  const log = options.quiet ? () => {} : ctx.log;
  const out = options.json ? () => {} : ctx.stdout;
  // The source reads stop at a signal; the destination is opened without it, so that
  // aborting the upload, removing this run's objects and releasing the lock still work after one.
  const source = await open(from, ctx, ctx.signal);
  const destination = await open(options.to, ctx, undefined, { dryRun });
  const started = performance.now();
  const report = await copyBackups({
    source,
    destination,
    prefix: options.prefix,
    encryption,
    decryption: decryptWith,
    dryRun,
    signal: ctx.signal,
    warn: ctx.warn,
    onIncompleteWrites: (writes, aborted) =>
      ctx.warn(
        `${destination.display}: ${aborted ? "aborted" : "would abort"} ${count(writes.length, "incomplete write")} of a killed run: ${writes.map((w) => w.name).join(", ")}`,
      ),
    onPlan: (plan) => {
      for (const name of plan.unindexed) ctx.warn(`${name} is not in the index of ${source.display}; not copied (dsbackup rebuild-index gives it a line)`);
      for (const name of plan.shadowed) ctx.warn(`${name} is left out: ${source.display} also holds ${otherForm(name)}, which is copied as it is`);
      for (const p of plan.present) {
        if (p.otherForm && p.archive.encrypted && !decryptWith) {
          ctx.warn(`${p.archive.name}: ${destination.display} holds it as the plain ${p.destName}; left as it is (copy never overwrites an archive, nor decrypts one)`);
        }
      }
    },
    onChecking: (name) => log(`Checking ${name}: already in ${destination.display}, its sha256 not recorded there`),
    onArchiveStart: (a, i, total) => log(`Copying ${a.archive.name}${asEncrypted(a)} (${humanSize(a.size)}, ${i + 1} of ${total})`),
    onArchiveCopied: (c) =>
      out(
        `copied ${c.name === c.from ? c.name : `${c.from}${asEncrypted({ encrypt: c.encrypted, decrypt: c.decrypted, destName: c.name })}`} (${humanSize(c.size)}, sha256 ${c.sha256}) ` +
          `in ${c.seconds.toFixed(1)} s, ${humanRate(c.seconds > 0 ? c.readSize / c.seconds : 0)}\n`,
      ),
  });
  const scope = options.prefix === undefined ? source.display : `prefix ${options.prefix} of ${source.display}`;
  if (options.json) {
    ctx.stdout(json({ ...copyJson(report, source, destination, dryRun), prefix: options.prefix ?? null, seconds: Number(((performance.now() - started) / 1000).toFixed(3)) }));
    return 0;
  }
  const lines: string[] = [];
  const indexNote = (verb: string) => (report.changes.length > 0 ? `; ${verb} ${count(report.changes.length, "index line")} of ${destination.display}` : "");
  if (dryRun) {
    for (const a of report.plan.toCopy) lines.push(`would copy ${a.archive.name}${asEncrypted(a)} (${humanSize(a.size)})`);
    for (const c of report.changes) lines.push(`would ${c.kind === "added" ? "add" : "update"} index line ${c.line}`);
  }
  const copiedBytes = report.copied.reduce((n, c) => n + c.size, 0);
  const heldEncrypted = report.plan.present.filter((p) => p.otherForm && !p.archive.encrypted).length;
  const encrypting = report.plan.toCopy.filter((a) => a.encrypt).length;
  const decrypting = report.plan.toCopy.filter((a) => a.decrypt).length;
  const encryptedNote = (n: number, how: string) => (n > 0 ? `, ${n} ${how}` : "");
  if (report.plan.toCopy.length === 0) {
    const held = heldEncrypted > 0 ? ` (${heldEncrypted} of them as NAME.tgz.age)` : "";
    lines.push(`nothing to copy: ${destination.display} already has every archive of ${scope}${held}${indexNote(dryRun ? "would write" : "wrote")}`);
  } else if (dryRun) {
    const bytes = humanSize(report.plan.toCopy.reduce((n, a) => n + a.size, 0));
    lines.push(`Would copy ${count(report.plan.toCopy.length, "archive")} (${bytes}${encryptedNote(encrypting, "to be encrypted")}${encryptedNote(decrypting, "to be decrypted")}) from ${scope} to ${destination.display}`);
  } else {
    lines.push(`Copied ${count(report.copied.length, "archive")} (${humanSize(copiedBytes)}${encryptedNote(encrypting, "encrypted on the way")}${encryptedNote(decrypting, "decrypted on the way")}) from ${scope} to ${destination.display}${indexNote("wrote")}`);
  }
  ctx.stdout(`${lines.join("\n")}\n`);
  return 0;
}
