// Forcing a storage into snapshot mode with the methods of snapshot.conf,
// tried in order until one works. The result says how to leave again.
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, resolve } from "node:path";
import { DsError } from "../errors.ts";
import type { Format } from "../storage/names.ts";
import { MISSING_CONF, describeMethod, parseAccessLine, parseSnapshotConf, redactUrl, type SnapshotConf, type SnapshotMethod } from "./conf.ts";
import { rollForward } from "./direct.ts";
import { mainLockPath, sublockPath, tryLockFile, type HeldLock } from "./lock.ts";
import { XmlRpcError, callXmlRpc } from "./xmlrpc.ts";

/** How long one XML-RPC call may take before the method counts as failed. */
export const DEFAULT_HTTP_TIMEOUT_MS = 30_000;
/** The most the best-effort leaveSnapshot after an uncertain enterSnapshot may take. */
/** Pause between leaveSnapshot attempts owed after an uncertain enterSnapshot. */
const LEAVE_RETRY_MS = 1000;
const CLEANUP_TIMEOUT_MS = 10_000;

/**
 * The XML-RPC timeout: the option, else DSBACKUP_XMLRPC_TIMEOUT_MS when set
 * (positive milliseconds; for tests and very slow Zopes), else 30 s.
 */
export function httpTimeoutMs(option: number | undefined, env: Record<string, string | undefined> = process.env): number {
  if (option !== undefined) return option;
  const text = env.DSBACKUP_XMLRPC_TIMEOUT_MS;
  if (text !== undefined && /^\d+$/.test(text) && Number(text) > 0) return Number(text);
  return DEFAULT_HTTP_TIMEOUT_MS;
}

export interface EnterOptions {
  /** Path of snapshot.conf; relative ACCESS paths are relative to its folder. */
  confPath: string;
  /** The path was given on the command line: warn if it cannot be read. */
  confExplicit?: boolean;
  /** The storage's [structure] format, for rolling forward in direct mode. */
  format: Format;
  /** Progress (hidden by -q). */
  log: (message: string) => void;
  /** Why each method failed (shown with -v). */
  detail: (message: string) => void;
  warn: (message: string) => void;
  httpTimeoutMs?: number;
  /** Identifies this client to the toolkit; default `hostname-pid`. */
  code?: string;
}

export interface EnteredSnapshot {
  /** What forced snapshot mode, for messages. */
  via: string;
  /** Set by direct mode: misc/sublock, already held, handed to the caller. */
  sublock?: HeldLock;
  /** Leave snapshot mode (after the caller released misc/sublock). Throws DsError. */
  leave(): Promise<void>;
}

export interface EnterResult {
  entered: EnteredSnapshot | null;
  /** One line per method that was tried and failed. */
  failures: string[];
  /**
   * Best-effort leaveSnapshot calls still owed: an enterSnapshot that may have
   * worked after we stopped waiting, whose immediate leaveSnapshot did not
   * get an answer either. Call them when done with the storage; they never throw.
   */
  owedLeaves: (() => Promise<void>)[];
  /** No direct method was tried (nodirect, or only http lines). */
  directDisabled: boolean;
}

function readConf(opts: EnterOptions): SnapshotConf {
  let text: string;
  try {
    text = readFileSync(opts.confPath, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const message = `cannot read ${opts.confPath} (${code ?? err}); trying direct access only`;
    if (opts.confExplicit || code !== "ENOENT") opts.warn(message);
    else opts.detail(`no ${opts.confPath}: trying direct access only`);
    return MISSING_CONF;
  }
  const conf = parseSnapshotConf(text, opts.confPath);
  for (const w of conf.warnings) opts.warn(w);
  return conf;
}

async function tryHttp(
  method: Extract<SnapshotMethod, { kind: "http" }>,
  opts: EnterOptions,
  code: string,
  owedLeaves: (() => Promise<void>)[],
): Promise<EnteredSnapshot | string> {
  const accessPath = resolve(dirname(opts.confPath), method.access);
  let credentials;
  try {
    credentials = parseAccessLine(readFileSync(accessPath, "utf8"));
  } catch (err) {
    return `cannot read access file ${accessPath} (${(err as NodeJS.ErrnoException).code ?? err})`;
  }
  if (!credentials) return `access file ${accessPath}: first line is not user:password`;
  const url = redactUrl(method.url);
  const timeoutMs = httpTimeoutMs(opts.httpTimeoutMs);
  const call = (name: string, ms = timeoutMs) => callXmlRpc(method.url, name, [code], { ...credentials, timeoutMs: ms });
  try {
    await call("enterSnapshot");
  } catch (err) {
    if (!(err instanceof XmlRpcError)) throw err;
    if (err.mayHaveArrived) {
      // A slow Zope may still enter snapshot mode after we gave up waiting:
      // leave again with the same code, or the storage stays in snapshot
      // mode (and a retry with -t would enter it a second time). The storage
      // sets the code only when its enter finishes, so until then a leave is
      // refused ("bad code"): any failure keeps the leave owed.
      const leaveOnce = async (): Promise<boolean> => {
        try {
          await call("leaveSnapshot", Math.min(timeoutMs, CLEANUP_TIMEOUT_MS));
          opts.detail(`Left snapshot mode at ${url} after the uncertain enterSnapshot`);
          return true;
        } catch (leaveErr) {
          const reason = leaveErr instanceof XmlRpcError ? leaveErr.message : String((leaveErr as Error)?.message ?? leaveErr);
          opts.detail(`leaveSnapshot at ${url} after the uncertain enterSnapshot: ${reason}`);
          return false;
        }
      };
      if (!(await leaveOnce())) {
        // When we are done: keep trying, about once a second, for as long as
        // the enter itself was given (bounded; a signal does not cut it short,
        // a storage stuck in snapshot mode is worse than a late exit).
        owedLeaves.push(async () => {
          const deadline = Date.now() + timeoutMs;
          while (!(await leaveOnce()) && Date.now() < deadline) await Bun.sleep(LEAVE_RETRY_MS);
        });
      }
    }
    return `enterSnapshot at ${url}: ${err.message}`;
  }
  opts.log(`Entered snapshot mode using ${url}`);
  return {
    via: url,
    async leave() {
      try {
        await call("leaveSnapshot");
      } catch (err) {
        const reason = err instanceof XmlRpcError ? err.message : String((err as Error)?.message ?? err);
        throw new DsError(`Cannot leave snapshot mode: leaveSnapshot at ${url}: ${reason}; the storage stays in snapshot mode`);
      }
      opts.log(`Left snapshot mode (${url})`);
    },
  };
}

function tryDirect(home: string, opts: EnterOptions): EnteredSnapshot | string {
  const main = tryLockFile(mainLockPath(home));
  if (!main) return "misc/lock is held by another process (the storage is running)";
  const sub = tryLockFile(sublockPath(home));
  if (!sub) {
    main.release();
    return "misc/sublock is held by another process";
  }
  let report;
  try {
    report = rollForward(home, opts.format);
  } catch (err) {
    sub.release();
    main.release();
    throw err; // a journal we do not understand stops everything
  }
  const rolled = report.transactions + report.discarded > 0 || report.files > 0
    ? ` (rolled forward ${report.transactions} committed transaction(s), ${report.files} file(s); discarded ${report.discarded} incomplete)`
    : "";
  opts.log(`Entered snapshot mode using direct access${rolled}`);
  return {
    via: "direct access",
    sublock: sub,
    // misc/lock is held until then, so the storage cannot start meanwhile.
    async leave() {
      main.release();
    },
  };
}

/** Try the methods of snapshot.conf in order; the first that works wins. */
export async function enterSnapshotMode(home: string, opts: EnterOptions): Promise<EnterResult> {
  const conf = readConf(opts);
  const code = opts.code ?? `${hostname()}-${process.pid}`;
  const failures: string[] = [];
  const owedLeaves: (() => Promise<void>)[] = [];
  let directTried = false;
  for (const method of conf.methods) {
    const name = describeMethod(method, opts.confPath);
    opts.detail(`Trying ${name}`);
    let outcome: EnteredSnapshot | string;
    if (method.kind === "http") {
      outcome = await tryHttp(method, opts, code, owedLeaves);
    } else {
      directTried = true;
      outcome = tryDirect(home, opts);
    }
    if (typeof outcome !== "string") return { entered: outcome, failures, owedLeaves, directDisabled: false };
    failures.push(`${name}: ${outcome}`);
    opts.detail(`Failed: ${name}: ${outcome}`);
  }
  return { entered: null, failures, owedLeaves, directDisabled: !directTried };
}
