// The one description of dsbackup's command line: every command, option,
// value, default, example and where each may stand. The parser, --help, the
// man page and the shell completions are all made from this data, so they
// cannot drift apart. Nothing here runs anything.

/** How a value is checked by the parser (before any command runs). */
export type ValueKind =
  | { type: "string" }
  /** `words`: a few words also accepted, passed on as given (`unlimited`). */
  | { type: "int"; min: number; max: number; words?: readonly string[] }
  | { type: "choice"; choices: readonly string[] };

/** What a shell completion offers for a value. */
export type Completion =
  | "file"
  | "dir"
  /** Archive name prefixes, restore points and archive names of the backups folder on the line. */
  | "prefix"
  | "seq"
  | "archive"
  /** A dsbackup command word. */
  | "command"
  /** A program on PATH (snapshot's COMMAND). */
  | "program"
  | "none"
  | readonly string[];

export interface OptionSpec {
  /** Long name without dashes, kebab-case: `dry-run`. */
  name: string;
  /** One-letter form without the dash: `q`. */
  short?: string;
  /** Value placeholder (`DIR`); absent for a flag. */
  value?: string;
  kind?: ValueKind;
  /** May be given more than once (values collected in order). */
  repeatable?: boolean;
  description: string;
  default?: string;
  complete?: Completion;
  /** Only the one-letter form exists (snapshot's -t, as the original tool spelt it); `name` is then just the key. */
  shortOnly?: boolean;
}

/** How the words after the command word are read. */
export type Positionals =
  | { kind: "none" }
  /** The manual's backup language: `[prefix NAME] full | inc WHEN ...`. */
  | { kind: "backup-words" }
  | { kind: "list"; name: string; min: number; max: number; complete?: Completion; hint?: string }
  /**
   * The command parses its own arguments (getopt style, e.g. `snapshot`'s
   * COMMAND must reach it untouched); the options listed are what it accepts,
   * and those given before the command word are handed to it first.
   */
  | { kind: "own"; name: string; complete?: Completion };

export interface CommandSpec {
  /** The command word; `backup` is the default command, named by its words. */
  name: string;
  summary: string;
  /** Synopsis lines without the program name. */
  usage: string[];
  /** Paragraphs for --help and the man page. */
  description: string[];
  options: OptionSpec[];
  positionals: Positionals;
  examples: { command: string; comment?: string }[];
  /** Left out of the command list in help (e.g. `help`). */
  hidden?: boolean;
  /** For the completion scripts only: in no help, man page or completion. */
  internal?: boolean;
}

// Options shared by several commands, defined once.
const storage: OptionSpec = { name: "storage", value: "DIR", description: "storage home directory", complete: "dir" };
const storageFolder: OptionSpec = { ...storage, description: "storage home: use its backups/ folder" };
const backups: OptionSpec = {
  name: "backups",
  value: "LOCATION",
  description: "where the backups are: a folder (tindex and archives, e.g. a copy elsewhere) or s3://BUCKET/PATH (credentials from AWS_*)",
  complete: "dir",
};
const prefix: OptionSpec = {
  name: "prefix",
  value: "NAME",
  description: "restore points of this archive name prefix (default: the only one in the folder)",
  complete: "prefix",
};
const quiet: OptionSpec = { name: "quiet", short: "q", description: "only warnings and errors on stderr" };
const json: OptionSpec = { name: "json", description: "machine-readable output on stdout (see README, JSON output)" };
const dryRun: OptionSpec = { name: "dry-run", description: "only print what would be done" };
const help: OptionSpec = { name: "help", short: "h", description: "show this help" };
const folderOptions = [storageFolder, backups, prefix, quiet];
const metricsFile: OptionSpec = {
  name: "metrics-file",
  value: "FILE",
  description: "merge this run's metrics into FILE (Prometheus text format, for node_exporter's textfile collector), replaced atomically; a failure to write it is only a warning",
  complete: "file",
};
/** prune's restic count rules: `--keep-daily N`, N a whole number or `unlimited`. */
function keepCount(rule: string, description: string): OptionSpec {
  return { name: `keep-${rule}`, value: "N", kind: { type: "int", min: 0, max: 999_999_999, words: ["unlimited"] }, description: `keep ${description} (N or unlimited)`, complete: "none" };
}
/** prune's restic duration rules: `--keep-within 2y5m7d3h`. */
function keepWithin(rule: string, description: string): OptionSpec {
  return { name: `keep-${rule}`, value: "DURATION", description: `keep ${description}`, complete: "none" };
}
// age encryption (issue 13): backup encrypts, restore, verify and rebuild-index decrypt.
const encryptOptions: OptionSpec[] = [
  { name: "recipient", value: "AGE1...", repeatable: true, description: "encrypt each archive to this age X25519 recipient (NAME.tgz.age); repeatable", complete: "none" },
  { name: "recipients-file", value: "FILE", repeatable: true, description: "encrypt to every recipient in FILE (one per line, # comments, as age -R); repeatable", complete: "file" },
  { name: "passphrase-file", value: "FILE", description: "encrypt with the passphrase on FILE's first line (scrypt, as age -p); not with recipients", complete: "file" },
];
const decryptOptions: OptionSpec[] = [
  { name: "identity", value: "FILE", repeatable: true, description: "decrypt .tgz.age archives with the age-keygen identities in FILE (also $DSBACKUP_IDENTITY_FILE); repeatable", complete: "file" },
  { name: "passphrase-file", value: "FILE", description: "decrypt .tgz.age archives with the passphrase on FILE's first line", complete: "file" },
];

/** Options accepted before or without any command. */
export const GLOBAL_OPTIONS: OptionSpec[] = [
  help,
  { name: "version", short: "V", description: "print the version and commit, then exit (alone: no command)" },
];

/** Shells `dsbackup completion` writes scripts for. */
export const SHELLS = ["bash", "zsh", "fish"] as const;

export const COMMANDS: CommandSpec[] = [
  {
    name: "backup",
    summary: "take backups: [prefix NAME] full | inc WHEN ... (one sequence number per run)",
    usage: ["--storage DIR [--backups LOCATION] [OPTIONS] [--recipient AGE1... | --recipients-file FILE | --passphrase-file FILE] [prefix NAME] full|inc WHEN ..."],
    description: [
      "The original tool's command language: the words are applied left to right in one run and share one backup sequence number. " +
        "prefix NAME sets the archive name prefix for the words after it (default backup); full writes a complete copy; " +
        "inc WHEN writes the changes since the newest backup taken at or before WHEN (quote WHEN when it has spaces).",
      "Options may stand anywhere among the words. The index line in backups/tindex is the commit point, written after every archive of the run is complete.",
    ],
    options: [
      storage,
      { ...backups, description: "write the archives and the index here: a folder or s3://BUCKET/PATH (credentials from AWS_*)", default: "HOME/backups" },
      { name: "or-full", description: "for inc: take a full backup when there is no usable reference backup" },
      { name: "output", value: "-", kind: { type: "choice", choices: ["-"] }, description: "write the single archive to standard output", complete: ["-"] },
      { name: "level", value: "N", kind: { type: "int", min: 1, max: 9 }, description: "gzip compression level", default: "6", complete: ["1", "2", "3", "4", "5", "6", "7", "8", "9"] },
      { name: "jobs", value: "N", kind: { type: "int", min: 1, max: 64 }, description: "compression workers", default: "the number of cores", complete: "none" },
      { name: "wait", value: "SECONDS", kind: { type: "int", min: 0, max: 999_999_999 }, description: "keep retrying this long while the storage or the backups location is locked or busy (recombining after snapshot mode)", default: "0", complete: "none" },
      { ...json, description: "print the run's summary as one JSON document on stdout, also for refusals (not with --output -)" },
      metricsFile,
      ...encryptOptions,
      quiet,
      help,
    ],
    positionals: { kind: "backup-words" },
    examples: [
      { command: "dsbackup --storage /var/zope/storage full", comment: "backups/backup-7.tgz" },
      { command: 'dsbackup --storage /var/zope/storage prefix mystorage inc "36 hours ago"', comment: "backups/mystorage-5-to-7.tgz" },
      { command: 'dsbackup --storage /var/zope/storage prefix x full inc "36 hours ago"', comment: "two archives, one index line" },
      { command: "dsbackup --storage /var/zope/storage --output - full | ssh host 'cat > x.tgz'" },
      { command: "dsbackup --storage /var/zope/storage --recipients-file /etc/dsbackup/recipients full", comment: "backups/backup-8.tgz.age" },
      { command: "dsbackup --storage /var/zope/storage --backups s3://backups/zope full", comment: "straight to a bucket" },
    ],
  },
  {
    name: "list",
    summary: "list the index entries, their archives and what restoring each needs",
    usage: ["list (--storage DIR | --backups LOCATION) [--prefix NAME] [--json]"],
    description: ["Every index entry with its archives and the chain a restore to it needs; archives the index does not know and entries whose archives are gone."],
    options: [...folderOptions, json, help],
    positionals: { kind: "none" },
    examples: [{ command: "dsbackup --storage /var/zope/storage list" }, { command: "dsbackup list --backups /mnt/tape/backups --json" }],
  },
  {
    name: "restore",
    summary: "restore a storage from its backups into an empty or new folder",
    usage: ["restore (--backups LOCATION | --storage DIR) --to TARGET [--at WHEN | --seq N] [--skip ARCHIVE]... [--prefix NAME] [--verify] [--dry-run] [--json] [--identity FILE]... [--passphrase-file FILE]"],
    description: [
      "Plans the shortest chain of archives to the restore point (the newest, or the one named by --at or --seq), prints it, and extracts it into a temporary folder beside TARGET that is renamed to TARGET only when complete.",
    ],
    options: [
      ...folderOptions,
      { name: "to", value: "TARGET", description: "folder to create the restored storage in (must be empty or absent)", complete: "dir" },
      { name: "at", value: "WHEN", description: "restore the newest backup taken at or before WHEN (a time string, as for inc)", complete: "none" },
      { name: "seq", value: "N", kind: { type: "int", min: 1, max: 999_999_999 }, description: "restore backup sequence number N", complete: "seq" },
      { name: "skip", value: "ARCHIVE", repeatable: true, description: "leave this archive out of the plan (a damaged one); repeatable", complete: "archive" },
      { name: "verify", description: "also check every record and the transaction chain before TARGET appears" },
      { ...dryRun, description: "only print the plan (with --verify: and verify its archives)" },
      { ...json, description: "print the plan (and result) as JSON" },
      ...decryptOptions,
      help,
    ],
    positionals: {
      kind: "list",
      name: "",
      min: 0,
      max: 0,
      hint: "restore takes no archive names: choose the restore point with --seq N or --at WHEN",
    },
    examples: [
      { command: "dsbackup restore --backups /var/zope/storage/backups --to /var/zope/restored" },
      { command: 'dsbackup restore --backups /mnt/backups --to /tmp/s --at "2026-11-20 12:00" --verify' },
    ],
  },
  {
    name: "verify",
    summary: "read archives completely and check every record; exit 1 on any problem",
    usage: ["verify (--backups LOCATION | --storage DIR) [--prefix NAME] [--json] [--identity FILE]... [--passphrase-file FILE] [--metrics-file FILE] [ARCHIVE...]"],
    description: ["Reads every indexed archive (or the ARCHIVEs named) completely: gzip members, tar stream, every record, and the transaction chain against the index."],
    options: [...folderOptions, { ...json, description: "machine-readable report (see README)" }, ...decryptOptions, metricsFile, help],
    positionals: { kind: "list", name: "ARCHIVE", min: 0, max: Infinity, complete: "archive" },
    examples: [{ command: "dsbackup verify --backups /var/zope/storage/backups" }, { command: "dsbackup --storage /var/zope/storage verify backup-12.tgz" }],
  },
  {
    name: "prune",
    summary: "keep the restore points a retention policy names (restic's rules, or the N newest full backups) and delete the rest",
    usage: ["prune (--storage DIR | --backups LOCATION) RULE... [--prefix NAME] [--dry-run] [--json] [--metrics-file FILE]"],
    description: [
      "RULE is one or more of --keep-last N, --keep-hourly N, --keep-daily N, --keep-weekly N, --keep-monthly N, --keep-yearly N, --keep-within DURATION, --keep-within-hourly DURATION (-daily, -weekly, -monthly, -yearly) and --keep-full N; at least one is required.",
      "restic's forget rules with restic's meaning, combinable (a point is kept when any rule keeps it): each calendar rule keeps the newest restore point of each of the N newest hours, days, ISO weeks, months or years (in TZ) that have one, counting back from the newest backup; --keep-within DURATION keeps every point within DURATION (2y5m7d3h) of the newest. N may be unlimited.",
      "A kept point keeps every archive of its shortest chain, whatever their prefix; restore points of other prefixes keep their chains whole. The index lines go first, the archives after. Prints every restore point, kept or removed and by which rules (restic's forget --dry-run table), then the archives deleted. --keep-full N alone keeps the N newest full backups and every restore point from the oldest of them on, as before.",
    ],
    options: [
      ...folderOptions,
      keepCount("last", "the N newest restore points"),
      keepCount("hourly", "the newest point of each of the N newest hours that have one"),
      keepCount("daily", "the newest point of each of the N newest days that have one"),
      keepCount("weekly", "the newest point of each of the N newest ISO weeks (Monday to Sunday) that have one"),
      keepCount("monthly", "the newest point of each of the N newest months that have one"),
      keepCount("yearly", "the newest point of each of the N newest years that have one"),
      keepWithin("within", "every restore point within DURATION of the newest (restic's 2y5m7d3h)"),
      ...(["hourly", "daily", "weekly", "monthly", "yearly"] as const).map((b) =>
        keepWithin(`within-${b}`, `the newest point of each ${b === "daily" ? "day" : b.replace(/ly$/, "")} within DURATION of the newest`),
      ),
      { name: "keep-full", value: "N", kind: { type: "int", min: 1, max: 999_999_999 }, description: "keep every restore point whose chain starts from one of the N newest full backups (alone: and every point after the oldest of them)", complete: "none" },
      { ...dryRun, description: "only show what would be kept and deleted" },
      { ...json, description: "print the restore points, their reasons and the deletions as one JSON document (see README)" },
      metricsFile,
      help,
    ],
    positionals: { kind: "none" },
    examples: [
      { command: "dsbackup --storage /var/zope/storage prune --keep-daily 7 --keep-weekly 5 --keep-monthly 12 --keep-yearly 3 --dry-run" },
      { command: "dsbackup prune --backups /mnt/backups --prefix daily --keep-within 2y5m7d3h --keep-last 3" },
      { command: "dsbackup --storage /var/zope/storage prune --keep-full 2" },
    ],
  },
  {
    name: "copy",
    summary: "copy every archive a folder or bucket lacks to it, checked, then their index lines",
    usage: [
      "copy --to LOCATION (--storage DIR | --backups LOCATION) [--prefix NAME] [--recipient AGE1... | --recipients-file FILE | --passphrase-file FILE] [--dry-run] [--json] [-q]",
      "copy --to LOCATION (--storage DIR | --backups LOCATION) --decrypt (--identity FILE... | --passphrase-file FILE) [--prefix NAME] [--dry-run] [--json] [-q]",
    ],
    description: [
      "LOCATION is a folder or s3://BUCKET/PATH, either way round. Each archive the destination lacks is streamed across (never staged on local disk), " +
        "its size and sha256 checked against what the source's index records and what the destination reports; then the source's index lines for them, " +
        "with their sha256 comments, are merged into the destination's tindex in sequence order by one conditional write. A second run copies nothing.",
      "With --recipient, --recipients-file or --passphrase-file, each plain NAME.tgz the destination lacks is encrypted in the stream and arrives as NAME.tgz.age " +
        "(its index line records the encrypted object's size and sha256); archives already encrypted are copied byte for byte. " +
        "An archive the destination holds in either form (NAME.tgz or NAME.tgz.age) is not copied again.",
      "Nothing is decrypted unless --decrypt is given: then each NAME.tgz.age the destination lacks is decrypted in the stream with the keys of --identity " +
        "(or $DSBACKUP_IDENTITY_FILE) or --passphrase-file and arrives as NAME.tgz, its recorded sha256 checked on the bytes read and its index line recording the plain archive; " +
        "plain archives are copied as they are. Every header is opened first: a wrong or missing key is exit 21 before anything is copied.",
      "Refuses (exit 13) before copying anything when the two indexes disagree about a sequence number, or when an archive in both differs; archives are never overwritten.",
    ],
    options: [
      { name: "to", value: "LOCATION", description: "where to copy to: a folder (created if missing) or s3://BUCKET/PATH", complete: "dir" },
      { ...storageFolder, description: "copy from this storage home's backups/ folder" },
      { ...backups, value: "LOCATION", description: "copy from this backups folder or s3://BUCKET/PATH" },
      { ...prefix, description: "copy only archives of this prefix (and the reference lines their incrementals need)" },
      { ...dryRun, description: "only print what would be copied (nothing is locked, written or aborted)" },
      { ...json, description: "print the report as one JSON document on stdout" },
      { ...quiet, description: "no per-archive messages on stderr; only warnings and errors" },
      // Copy encrypts only the plain archives; those already .tgz.age go as they are.
      ...encryptOptions.map((o) =>
        o.name === "passphrase-file"
          ? { ...o, description: "encrypt plain archives with the passphrase on FILE's first line (scrypt, as age -p); with --decrypt, decrypt with it" }
          : { ...o, description: o.description.replace("each archive", "each plain archive") },
      ),
      { name: "decrypt", description: "decrypt each NAME.tgz.age on the way (arrives as NAME.tgz) with --identity or --passphrase-file; not with --recipient" },
      { ...decryptOptions[0]!, description: "with --decrypt: decrypt with the age-keygen identities in FILE (also $DSBACKUP_IDENTITY_FILE); repeatable" },
      help,
    ],
    positionals: { kind: "none" },
    examples: [
      { command: "dsbackup copy --storage /var/zope/storage --to s3://backups/zope", comment: "off-site, after each backup" },
      { command: "dsbackup copy --storage /var/zope/storage --to s3://backups/zope --recipients-file /etc/dsbackup/recipients", comment: "plain archives arrive as NAME.tgz.age" },
      { command: "dsbackup copy --backups s3://backups/zope --to /mnt/restore/backups", comment: "back down on a new machine" },
      { command: "dsbackup copy --backups s3://backups/zope --to /mnt/plain --decrypt --identity /root/backup-key.txt", comment: "NAME.tgz.age arrives as NAME.tgz" },
    ],
  },
  {
    name: "status",
    summary: "the newest and oldest restorable points, the newest one's age and chain; exit 15 when older than --max-age",
    usage: ["status (--storage DIR | --backups LOCATION) [--prefix NAME] [--max-age DURATION] [--json | --nagios] [--metrics-file FILE]"],
    description: [
      "What a monitoring system needs: the newest and oldest restorable points (sequence, snapshot time, tid), the newest one's age, the chain it needs and its size, archives that are unindexed or missing, how far the newest backup lags behind the storage (with --storage), and whether the newest point verified last time.",
      "With --max-age, exit 15 when the newest restorable point is older, so that dsbackup status --max-age 26h || alert works in any monitoring system.",
    ],
    options: [
      ...folderOptions,
      { name: "max-age", value: "DURATION", description: "exit 15 when the newest restorable point is older than DURATION (restic's units: 26h, 1d12h, 2y5m7d3h)", complete: "none" },
      { ...json, description: "print the report as one JSON document" },
      { name: "nagios", description: "print one Nagios plugin line and exit as a plugin does (0 OK, 1 WARNING, 2 CRITICAL)" },
      metricsFile,
      help,
    ],
    positionals: { kind: "none" },
    examples: [{ command: "dsbackup --storage /var/zope/storage status --max-age 26h || alert" }, { command: "dsbackup status --backups /mnt/backups --nagios" }],
  },
  {
    name: "rebuild-index",
    summary: "write a new tindex from the archives alone (a tape or bucket copy without its index)",
    usage: ["rebuild-index (--backups LOCATION | --storage DIR) [--force] [-q] [--identity FILE]... [--passphrase-file FILE]"],
    description: [
      "Each line takes the sequence number and reference from the archive's name and the tid from the archive's A/x.serial; the snapshot time is the archive's newest transaction time, said in a # comment on the line. Refuses (exit 13) while a tindex exists, unless --force, which keeps the old one as tindex.old-TIMESTAMP.",
    ],
    options: [
      storageFolder,
      backups,
      { name: "force", description: "replace an existing tindex, keeping it as tindex.old-TIMESTAMP (UTC)" },
      { ...quiet, description: "no progress line and no messages but warnings and errors" },
      ...decryptOptions,
      help,
    ],
    positionals: { kind: "none" },
    examples: [{ command: "dsbackup rebuild-index --backups /mnt/tape/backups" }],
  },
  {
    name: "snapshot",
    summary: "run COMMAND with the storage held in snapshot mode",
    usage: [
      "snapshot --storage DIR [-v] [-q] [-t SECONDS] [-s SECONDS] [--snapshot-conf FILE] [--] COMMAND [ARGS...]",
      "snapshot DIRECTORY CONF COMMAND [ARGS...]        (old form; CONF '-' is the default)",
    ],
    description: [
      "Forces the storage into snapshot mode with the methods of config/snapshot.conf, locks it, runs COMMAND with SNAPSHOT_VERSION=2, SNAPSHOT_DIRECTORY and SNAPSHOT_TIMESTAMP in its environment, then unlocks and leaves snapshot mode, also after SIGINT/SIGTERM, which are passed on to COMMAND.",
      "Options end at the first word that is not one (or at --): COMMAND's own arguments are never read. Options of snapshot may also stand before the word snapshot. The exit status is COMMAND's; if COMMAND never ran it is dsbackup's own.",
      "snapshot.conf lines, tried in order until one works: http URL ACCESS (XML-RPC enterSnapshot/leaveSnapshot at a DirectoryStorageToolkit, Basic auth from the first line of file ACCESS); direct (open the stopped storage directly and roll it forward); nodirect (do not try direct as the last resort).",
    ],
    options: [
      storage,
      { name: "verbose", short: "v", shortOnly: true, repeatable: true, description: "say why each snapshot method failed" },
      { name: "quiet", short: "q", repeatable: true, shortOnly: true, description: "no progress lines" },
      { name: "retry", short: "t", shortOnly: true, value: "SECONDS", kind: { type: "int", min: 0, max: 999_999_999 }, description: "keep retrying this long while the storage is locked", default: "0", complete: "none" },
      { name: "sleep", short: "s", shortOnly: true, value: "SECONDS", kind: { type: "int", min: 0, max: 999_999_999 }, description: "sleep between retries", default: "10", complete: "none" },
      { name: "snapshot-conf", value: "FILE", description: "snapshot.conf to use ('-': DIR/config/snapshot.conf)", complete: "file" },
      help,
    ],
    positionals: { kind: "own", name: "COMMAND [ARGS...]", complete: "program" },
    examples: [
      { command: 'dsbackup snapshot --storage /var/zope/storage -- dsbackup prefix mystorage inc "36 hours ago"' },
      { command: "dsbackup snapshot --storage /var/zope/storage -t 600 -s 30 -- /usr/local/bin/my-backup-script" },
    ],
  },
  {
    name: "date",
    summary: "print a time like GNU date, with dsbackup's own time parser",
    usage: ["date [-d STRING] [-u] [-I[FMT]] [-R] [--rfc-3339=FMT] [+FORMAT]"],
    description: [
      "A drop-in for GNU date's printing (no GNU date needed): the same output for every string GNU date accepts, and also the phrases GNU refuses (in 2 hours, yesterday at 5pm, noon, 36h ago). Strings GNU misreads (a day ago, 1 hour 30 minutes ago, 20260301T1200) print GNU's value and a warning on stderr. The TZ environment variable is honoured as glibc does. An invalid date exits 1, as GNU date does.",
    ],
    options: [
      { name: "date", short: "d", value: "STRING", description: "the time described by STRING (GNU date -d grammar; a bare integer is epoch seconds)", complete: "none" },
      { name: "utc", short: "u", description: "print in UTC (also --universal)" },
      { name: "iso-8601", short: "I", value: "[FMT]", description: "ISO 8601: FMT is date (default), hours, minutes, seconds or ns", complete: ["date", "hours", "minutes", "seconds", "ns"] },
      { name: "rfc-email", short: "R", description: 'RFC 5322 form, e.g. "Thu, 26 Nov 2026 11:13:45 +0000"' },
      { name: "rfc-3339", value: "FMT", description: "RFC 3339: date, seconds or ns", complete: ["date", "seconds", "ns"] },
      help,
    ],
    positionals: { kind: "own", name: "[+FORMAT]", complete: "none" },
    examples: [{ command: 'dsbackup date -d "36 hours ago" +%s' }, { command: 'dsbackup date -d "last friday 18:00" -Iseconds' }],
  },
  {
    name: "man",
    summary: "print the manual page dsbackup(1) (roff) on standard output",
    usage: ["man"],
    description: ["The page installed as dsbackup(1) by the Debian package, made from the same description as --help; read it with dsbackup man | man -l -."],
    options: [help],
    positionals: { kind: "none" },
    examples: [{ command: "dsbackup man | man -l -" }],
  },
  {
    name: "completion",
    summary: "print a completion script for bash, zsh or fish",
    usage: ["completion bash|zsh|fish"],
    description: [
      "Completes commands, each command's options, option values where they are known (--prefix from the archive names of the backups folder on the line, --seq from its index, files and folders for paths) and the backup words. " +
        "The Debian package installs the three scripts where bash-completion, zsh and fish look for them.",
    ],
    options: [help],
    positionals: { kind: "list", name: "SHELL", min: 1, max: 1, complete: [...SHELLS] },
    examples: [
      { command: 'source <(dsbackup completion bash)', comment: "in ~/.bashrc" },
      { command: "dsbackup completion fish > ~/.config/fish/completions/dsbackup.fish" },
    ],
  },
  {
    // Called by the completion scripts: the values --prefix, --seq and --skip may take.
    name: "__complete",
    summary: "print completion candidates: VALUE<TAB>DESCRIPTION lines",
    usage: ["__complete prefix|seq|archive (--storage DIR | --backups DIR) [--prefix NAME]"],
    description: ["For the completion scripts."],
    options: [storageFolder, backups, { ...prefix, description: "only archives and restore points of this prefix" }, help],
    // The kind is checked by the command, so that the parser's own tests can call it with options alone.
    positionals: { kind: "list", name: "KIND", min: 0, max: 1 },
    examples: [],
    hidden: true,
    internal: true,
  },
  {
    name: "help",
    summary: "show the help of dsbackup or of one command",
    usage: ["help [COMMAND]"],
    description: ["The same as dsbackup --help, or COMMAND --help."],
    options: [help],
    positionals: { kind: "list", name: "COMMAND", min: 0, max: 1, complete: "command" },
    examples: [{ command: "dsbackup help restore" }],
    hidden: true,
  },
];

/** Words of the backup language; any of them selects the backup command. */
export const BACKUP_WORDS = ["prefix", "full", "inc"] as const;

export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}

export function commandSpec(name: string): CommandSpec {
  const c = findCommand(name);
  if (!c) throw new TypeError(`no command ${name} in the command-line description`);
  return c;
}

/** The key a command's options object uses for an option: `dry-run` -> `dryRun`. */
export function optionKey(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Environment variables the tool reads (man page ENVIRONMENT). */
export const ENVIRONMENT: { name: string; description: string }[] = [
  { name: "TZ", description: "time zone for time strings and shown times, as glibc reads it (IANA names, POSIX rules)" },
  { name: "SNAPSHOT_VERSION, SNAPSHOT_DIRECTORY, SNAPSHOT_TIMESTAMP", description: "set by dsbackup snapshot (or the original snapshot tool) for COMMAND: the storage is in snapshot mode; --storage may then be omitted" },
  { name: "DSBACKUP_XMLRPC_TIMEOUT_MS", description: "timeout of each XML-RPC call of an http snapshot method (default 30000)" },
  { name: "DSBACKUP_DEBUG", description: "print the stack of an internal error" },
  { name: "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN", description: "credentials for an s3:// location (never printed)" },
  { name: "AWS_REGION", description: "the region of an s3:// location (default us-east-1)" },
  { name: "AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL", description: "the endpoint of an S3-compatible server (Ceph RGW, MinIO, Garage, Wasabi); path-style addressing is used for it" },
  { name: "DSBACKUP_S3_TIMEOUT_MS", description: "timeout of each S3 call (default 60000); calls that fail with 5xx, throttling or a dropped connection are retried a few times with backoff" },
  { name: "DSBACKUP_IDENTITY_FILE", description: "one more age identity file for restore, verify, rebuild-index and copy --decrypt (after those of --identity)" },
];

/** Files the tool reads and writes (man page FILES). */
export const FILES: { path: string; description: string }[] = [
  { path: "HOME/backups/tindex", description: "the index: one line per run, sequence, snapshot time, newest tid" },
  { path: "HOME/backups/PREFIX-N.tgz, PREFIX-R-to-N.tgz", description: "full and incremental archives (gzip-compressed ustar)" },
  { path: "HOME/backups/PREFIX-N.tgz.age, PREFIX-R-to-N.tgz.age", description: "the same, encrypted with age (age -d -i KEY FILE | tar tz reads them)" },
  { path: "HOME/config/snapshot.conf", description: "how to put the storage into snapshot mode" },
  { path: "HOME/misc/sublock, HOME/misc/lock", description: "the storage's flock(2) locks, shared with the Python storage" },
];

/** What the tool is, for the man page's DESCRIPTION. */
export const ABOUT: string[] = [
  "dsbackup takes full and incremental backups of a DirectoryStorage, the ZODB storage of Zope and Plone sites that keeps every object revision and transaction as a file in a directory tree. " +
    "It is a rebuild of the storage's own backup.py as one self-contained executable: it writes the same .tgz archives (gzip-compressed ustar) and the same backups/tindex index, and adds restore, verify, list and prune.",
  "A backup is taken while the storage is in snapshot mode: run it under dsbackup snapshot (or the original snapshot tool), which holds the storage there for the time of COMMAND. " +
    "Every file is written under a temporary name, synced and renamed into place; the index line is the commit point and is written last, so an interrupted run leaves nothing half done.",
  "The first word that is not an option names the command; the backup words prefix, full and inc name the backup command. Options may stand before or after the command word; a line is checked in full before anything runs.",
];

/** How WHEN is read (inc WHEN, restore --at, dsbackup date -d), for the man page. */
export const TIME_STRINGS: string[] = [
  "WHEN is parsed by dsbackup itself, with GNU date's grammar: any string that works in date -d means the same instant here. A bare integer is epoch seconds (the original tool's rule, checked first). " +
    "Anything not understood in full is an error, never a guess: a misread reference time would silently pick the wrong backup.",
  'Examples: 2026-11-20, "2026-11-20 10:00:00", 2026-11-20T10:00:00+02:00, "Nov 10 1996", "36 hours ago", "-36 hours", "+1 day", "2 days ago 12:00", yesterday, "next monday", "last friday", @1700000000, "2026-11-20 10:00 EST", \'TZ="Asia/Tokyo" 2026-01-01 09:00\'.',
  "The TZ environment variable is honoured as glibc does. Try a string with dsbackup date -d STRING before putting it into a cron job.",
];

/** Other manual pages worth reading, as `name(section)`. */
export const SEE_ALSO = ["date(1)", "tar(1)", "gzip(1)", "flock(2)", "crontab(5)", "systemd.timer(5)"];
