// The snapshot tool's core: hold the storage in snapshot mode (retrying while
// it is locked), run one command with SNAPSHOT_* in its environment, forward
// SIGINT/SIGTERM to it, then unlock and leave snapshot mode whatever happened.
import { spawn } from "node:child_process";
import { constants } from "node:os";
import { DsError, ExitCode, LockedError } from "../errors.ts";
import type { Format } from "../storage/names.ts";
import { holdSnapshot, type SnapshotEnvironment, type SnapshotHold } from "./session.ts";

export class CommandNotRunError extends DsError {
  constructor(
    message: string,
    override readonly exitCode: number,
  ) {
    super(message);
  }
}

export interface RunUnderSnapshotOptions {
  home: string;
  format: Format;
  env: Record<string, string | undefined>;
  /** COMMAND and its arguments; empty: only enter and leave snapshot mode. */
  command: string[];
  confPath?: string;
  /** Keep retrying for this many seconds while the storage is locked. */
  retrySeconds: number;
  /** Seconds to sleep between tries. */
  sleepSeconds: number;
  nowMs: () => number;
  signal: AbortSignal;
  /** While COMMAND runs, signals go to this handler instead of aborting. */
  interceptSignals?: (handler: (signal: NodeJS.Signals) => void) => () => void;
  log: (message: string) => void;
  detail: (message: string) => void;
  warn: (message: string) => void;
  httpTimeoutMs?: number;
}

/** Resolve after `ms`, or reject with the signal's reason when it aborts first. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Call `attempt` until it does not throw LockedError or the deadline has passed. */
export async function retryWhileLocked<T>(
  attempt: () => Promise<T>,
  opts: { deadlineMs: number; sleepMs: number; nowMs: () => number; signal: AbortSignal; onRetry: (err: LockedError) => void },
): Promise<T> {
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof LockedError) || opts.nowMs() + opts.sleepMs > opts.deadlineMs) throw err;
      opts.onRetry(err);
      await sleep(opts.sleepMs, opts.signal);
    }
  }
}

function exitStatusOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const number = signal ? (constants.signals as Record<string, number>)[signal] : undefined;
  return 128 + (number ?? 0);
}

/** Spawn COMMAND with ENV and wait for it; signals are forwarded while it runs. */
function runChild(command: string[], env: Record<string, string | undefined>, opts: RunUnderSnapshotOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    let child;
    try {
      child = spawn(command[0]!, command.slice(1), { env, stdio: "inherit" });
    } catch (err) {
      reject(spawnError(command[0]!, err));
      return;
    }
    const stopIntercepting = opts.interceptSignals?.((signal) => {
      opts.log(`Passing ${signal} to ${command[0]}`);
      child.kill(signal);
    });
    child.once("error", (err) => {
      stopIntercepting?.();
      reject(spawnError(command[0]!, err));
    });
    child.once("close", (code, signal) => {
      stopIntercepting?.();
      resolve(exitStatusOf(code, signal));
    });
  });
}

function spawnError(name: string, err: unknown): DsError {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === "ENOENT") return new CommandNotRunError(`${name}: command not found`, ExitCode.commandNotFound);
  if (code === "EACCES") return new CommandNotRunError(`${name}: permission denied`, ExitCode.commandNotExecutable);
  return new CommandNotRunError(`${name}: cannot run: ${code ?? (err as Error)?.message ?? err}`, ExitCode.commandNotExecutable);
}

/** Returns COMMAND's exit status; throws DsError when it never ran. */
export async function runUnderSnapshot(opts: RunUnderSnapshotOptions): Promise<number> {
  const snapshotEnv = opts.env as SnapshotEnvironment;
  const hold: SnapshotHold = await retryWhileLocked(
    () =>
      holdSnapshot(opts.home, snapshotEnv, {
        nowSeconds: () => Math.floor(opts.nowMs() / 1000),
        format: opts.format,
        confPath: opts.confPath,
        log: opts.log,
        detail: opts.detail,
        warn: opts.warn,
        httpTimeoutMs: opts.httpTimeoutMs,
        signal: opts.signal,
      }),
    {
      deadlineMs: opts.nowMs() + opts.retrySeconds * 1000,
      sleepMs: opts.sleepSeconds * 1000,
      nowMs: opts.nowMs,
      signal: opts.signal,
      onRetry: (err) => opts.log(`Retrying snapshot in ${opts.sleepSeconds} s (${err.message})`),
    },
  );
  let status = 0;
  let failure: unknown;
  try {
    if (opts.command.length > 0) {
      const env = {
        ...opts.env,
        SNAPSHOT_VERSION: "2",
        SNAPSHOT_DIRECTORY: hold.home,
        SNAPSHOT_TIMESTAMP: String(hold.timestamp),
      };
      status = await runChild(opts.command, env, opts);
    }
  } catch (err) {
    failure = err;
  }
  try {
    await hold.release();
  } catch (err) {
    // The command's own result matters more; but never report success when
    // the storage was left stuck in snapshot mode.
    if (failure === undefined && status === 0) throw err;
    opts.warn((err as Error).message);
  }
  if (failure !== undefined) throw failure;
  return status;
}
