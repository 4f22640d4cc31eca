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

async function tryHttp(method: Extract<SnapshotMethod, { kind: "http" }>, opts: EnterOptions, code: string): Promise<EnteredSnapshot | string> {
  const accessPath = resolve(dirname(opts.confPath), method.access);
  let credentials;
  try {
    credentials = parseAccessLine(readFileSync(accessPath, "utf8"));
  } catch (err) {
    return `cannot read access file ${accessPath} (${(err as NodeJS.ErrnoException).code ?? err})`;
  }
  if (!credentials) return `access file ${accessPath}: first line is not user:password`;
  const url = redactUrl(method.url);
  const call = (name: string) =>
    callXmlRpc(method.url, name, [code], { ...credentials, timeoutMs: opts.httpTimeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS });
  try {
    await call("enterSnapshot");
  } catch (err) {
    if (err instanceof XmlRpcError) return `enterSnapshot at ${url}: ${err.message}`;
    throw err;
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
  let directTried = false;
  for (const method of conf.methods) {
    const name = describeMethod(method, opts.confPath);
    opts.detail(`Trying ${name}`);
    let outcome: EnteredSnapshot | string;
    if (method.kind === "http") {
      outcome = await tryHttp(method, opts, code);
    } else {
      directTried = true;
      outcome = tryDirect(home, opts);
    }
    if (typeof outcome !== "string") return { entered: outcome, failures, directDisabled: false };
    failures.push(`${name}: ${outcome}`);
    opts.detail(`Failed: ${name}: ${outcome}`);
  }
  return { entered: null, failures, directDisabled: !directTried };
}
