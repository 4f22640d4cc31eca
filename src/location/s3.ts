// A backups location in an S3 bucket: s3://BUCKET/PATH. Bun.S3Client does
// the multipart upload and the listing; signed fetch requests (s3-sign.ts)
// do what it cannot: conditional writes of the index and the lock object,
// reads with a timeout, listing and aborting incomplete multipart uploads,
// the bucket check. Every call goes through s3Call (timeout, retries, one
// typed error line).
import { S3Client } from "bun";
import { createHash } from "node:crypto";
import { hostname } from "node:os";
import { processAlive } from "../fsutil/atomic.ts";
import { IndexConflictError, InterruptedError, LockedError, ObjectNotFoundError, S3Error, UsageError } from "../errors.ts";
import {
  checkObjectName,
  DEFAULT_LEASE_MS,
  INDEX_OBJECT,
  LOCK_OBJECT,
  WriteDigest,
  type IncompleteWrite,
  type IndexSnapshot,
  type Location,
  type LocationLock,
  type LockInfo,
  type LockOptions,
  type ObjectInfo,
  type ObjectWriter,
  type ReadRange,
  type WrittenObject,
} from "./location.ts";
import { s3Call, S3HttpError, type CallPolicy } from "./s3-call.ts";
import { signRequest, uriEncode, type S3Credentials } from "./s3-sign.ts";

export interface S3Config {
  credentials: S3Credentials;
  region: string;
  /** https://s3.REGION.amazonaws.com, or the custom endpoint (no trailing slash). */
  endpoint: string;
  /** Path-style addressing (ENDPOINT/BUCKET/KEY): used for every custom endpoint. */
  pathStyle: boolean;
  timeoutMs: number;
  retries: number;
  backoffMs: number;
  /** Multipart part size and parts in flight (measured: README, Performance). */
  partSize: number;
  queueSize: number;
}

export const DEFAULT_PART_SIZE = 16 * 1024 * 1024;
export const DEFAULT_QUEUE_SIZE = 4;
/** Upper bound of the timeout of clean-up calls (abort an upload, remove the lock). */
const CLEANUP_TIMEOUT_MS = 5000;

/** The S3 settings every S3 tool takes from the environment. Secrets stay in the returned object only. */
export function s3ConfigFromEnv(env: Record<string, string | undefined> = process.env): S3Config {
  const accessKeyId = env.AWS_ACCESS_KEY_ID ?? "";
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY ?? "";
  if (!accessKeyId || !secretAccessKey) throw new UsageError("an s3:// location needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment");
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || "us-east-1";
  const custom = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || "";
  if (custom && !/^https?:\/\/[^/]+/.test(custom)) throw new UsageError(`AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL must be an http:// or https:// URL, not ${JSON.stringify(custom)}`);
  const timeoutText = env.DSBACKUP_S3_TIMEOUT_MS ?? "60000";
  const timeoutMs = Number(timeoutText);
  if (!/^\d+$/.test(timeoutText) || timeoutMs < 1) throw new UsageError(`DSBACKUP_S3_TIMEOUT_MS must be a positive number of milliseconds, not ${JSON.stringify(timeoutText)}`);
  return {
    credentials: { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN || undefined },
    region,
    endpoint: (custom || `https://s3.${region}.amazonaws.com`).replace(/\/+$/, ""),
    pathStyle: custom !== "",
    timeoutMs,
    retries: 3,
    backoffMs: 200,
    partSize: DEFAULT_PART_SIZE,
    queueSize: DEFAULT_QUEUE_SIZE,
  };
}

interface Request {
  method: string;
  key?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
}

const xmlText = (xml: string, tag: string) => new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml)?.[1];
const xmlUnescape = (s: string) => s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, "&");
const unquote = (etag: string) => etag.replace(/^W\//, "").replace(/^"|"$/g, "");

export class S3Location implements Location {
  readonly display: string;
  private readonly client: S3Client;
  private readonly keyPrefix: string;

  constructor(
    readonly bucket: string,
    prefix: string,
    readonly config: S3Config,
    private readonly signal?: AbortSignal,
  ) {
    this.display = `s3://${bucket}${prefix ? `/${prefix}` : ""}`;
    this.keyPrefix = prefix ? `${prefix}/` : "";
    this.client = new S3Client({
      ...config.credentials,
      region: config.region,
      endpoint: config.endpoint,
      bucket,
      virtualHostedStyle: !config.pathStyle,
    });
  }

  private key(name: string): string {
    checkObjectName(this.display, name);
    return this.keyPrefix + name;
  }

  private policy(): CallPolicy {
    return { timeoutMs: this.config.timeoutMs, retries: this.config.retries, backoffMs: this.config.backoffMs, signal: this.signal };
  }

  private call<T>(operation: string, attempt: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return s3Call(this.display, operation, this.policy(), attempt);
  }

  private url(key: string | undefined, query: Record<string, string> = {}): URL {
    const base = new URL(this.config.endpoint);
    const path = key === undefined ? "" : `/${uriEncode(key, true)}`;
    const url = this.config.pathStyle
      ? new URL(`${base.origin}${base.pathname.replace(/\/$/, "")}/${this.bucket}${path}`)
      : new URL(`${base.protocol}//${this.bucket}.${base.host}${path || "/"}`);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    return url;
  }

  /** One signed request; a non-2xx answer (other than those in `accept`) throws S3HttpError. */
  private async send(req: Request, signal: AbortSignal, accept: number[] = []): Promise<Response> {
    const url = this.url(req.key, req.query);
    const body = typeof req.body === "string" ? new TextEncoder().encode(req.body) : req.body;
    const headers = signRequest({
      method: req.method,
      url,
      headers: { ...(req.headers ?? {}), ...(body ? { "content-length": String(body.length) } : {}) },
      payloadHash: body ? createHash("sha256").update(body).digest("hex") : undefined,
      region: this.config.region,
      credentials: this.config.credentials,
      now: new Date(),
    });
    delete headers.host;
    const res = await fetch(url, { method: req.method, headers, body, signal, redirect: "manual" });
    if (res.ok) return res;
    // A 404 is "no such key" to callers that accept it, unless the bucket is what is missing
    // (HEAD has no body to tell: checkBucket() at the start tells instead).
    if (accept.includes(res.status) && (res.status !== 404 || req.method === "HEAD" || req.method === "DELETE")) return res;
    const text = req.method === "HEAD" ? "" : await res.text().catch(() => "");
    if (accept.includes(res.status) && xmlText(text, "Code") !== "NoSuchBucket") return new Response(text, { status: res.status, headers: res.headers });
    const code = xmlText(text, "Code") ?? (res.status === 404 && !req.key ? "NoSuchBucket" : "");
    throw new S3HttpError(res.status, code);
  }

  /** Fails with the missing-bucket or credentials error before anything else is tried. */
  async checkBucket(): Promise<void> {
    await this.call("check the bucket", (signal) => this.send({ method: "HEAD" }, signal));
  }

  async list(): Promise<ObjectInfo[]> {
    const out: ObjectInfo[] = [];
    let continuationToken: string | undefined;
    do {
      const page = await this.call("list objects", () => this.client.list({ prefix: this.keyPrefix, delimiter: "/", continuationToken }));
      for (const o of page.contents ?? []) {
        const name = o.key.slice(this.keyPrefix.length);
        if (name && !name.includes("/")) out.push({ name, size: o.size ?? 0 });
      }
      continuationToken = page.isTruncated ? page.nextContinuationToken : undefined;
    } while (continuationToken);
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async stat(name: string): Promise<ObjectInfo | undefined> {
    const key = this.key(name);
    const res = await this.call(`stat ${name}`, (signal) => this.send({ method: "HEAD", key }, signal, [404]));
    if (res.status === 404) return undefined;
    return { name, size: Number(res.headers.get("content-length") ?? 0) };
  }

  async read(name: string, range?: ReadRange): Promise<AsyncIterable<Uint8Array>> {
    const key = this.key(name);
    const headers: Record<string, string> = {};
    if (range) headers.range = `bytes=${range.start}-${range.end === undefined ? "" : range.end - 1}`;
    // The timeout covers the answer here and every chunk below: a stalled body fails too.
    const controller = new AbortController();
    const res = await this.call(`read ${name}`, async (signal) => {
      signal.addEventListener("abort", () => controller.abort(signal.reason), { once: true });
      return this.send({ method: "GET", key, headers }, controller.signal, [404]);
    });
    if (res.status === 404) throw new ObjectNotFoundError(this.display, name);
    return this.guardedBody(res, controller, `read ${name}`);
  }

  private async *guardedBody(res: Response, controller: AbortController, operation: string): AsyncIterable<Uint8Array> {
    const reader = res.body!.getReader();
    const onAbort = () => controller.abort(new InterruptedError(`${this.display}: ${operation} interrupted`));
    this.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      for (;;) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const next = await Promise.race([
          reader.read(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => {
              controller.abort();
              reject(new S3Error(`${this.display}: cannot ${operation}: no data from the S3 server for ${this.config.timeoutMs} ms (DSBACKUP_S3_TIMEOUT_MS)`));
            }, this.config.timeoutMs);
          }),
        ]).catch((err) => {
          if (controller.signal.reason instanceof InterruptedError) throw controller.signal.reason;
          if (err instanceof S3Error) throw err;
          throw new S3Error(`${this.display}: cannot ${operation}: the connection failed while reading (${(err as Error).message})`, { cause: err });
        }).finally(() => clearTimeout(timer));
        if (next.done) return;
        yield next.value;
      }
    } finally {
      this.signal?.removeEventListener("abort", onAbort);
      reader.releaseLock();
      controller.abort();
    }
  }

  async write(name: string, opts: { signal?: AbortSignal } = {}): Promise<ObjectWriter> {
    const key = this.key(name);
    const file = this.client.file(key);
    // retry: 0: our wrapper decides about retries; Bun's own would hide how long a part takes.
    const sink = file.writer({ partSize: this.config.partSize, queueSize: this.config.queueSize, retry: 0 });
    const digest = new WriteDigest();
    let sinceFlush = 0;
    let state: "open" | "sealed" | "committed" | "aborted" = "open";
    let written: WrittenObject | undefined;
    const signal = opts.signal;
    const policy = { ...this.policy(), retries: 0, signal: signal ?? this.signal };
    const self = this;
    const abort = async () => {
      if (state === "committed" || state === "aborted") return;
      const was = state;
      state = "aborted";
      try {
        if (was === "sealed") {
          // Complete but not (or no longer) wanted: the index does not name it.
          await self.cleanup(`delete ${name}`, (s) => self.send({ method: "DELETE", key }, s, [404]));
          return;
        }
        // Bun's sink has no abort, and end(error) COMPLETES the upload (measured): the sink is
        // dropped unended (Bun then never completes it), and the server's multipart upload aborted.
        const leftovers = (await self.listUploads(true)).filter((w) => w.name === name);
        for (const w of leftovers) await self.abortUpload(w, true);
      } catch { /* the next run lists and aborts them */ }
    };
    const fail = async (err: unknown): Promise<never> => {
      await abort();
      throw err;
    };
    const seal = async () => {
      if (state === "sealed") return written!;
      if (state !== "open") throw new S3Error(`${self.display}: seal of ${name} after it was ${state}`);
      try {
        await s3Call(self.display, `upload ${name}`, policy, () => Promise.resolve(sink.end()));
      } catch (err) {
        return fail(err);
      }
      state = "sealed";
      return (written = digest.finish(name));
    };
    return {
      label: this.where(name),
      async write(chunk) {
        if (state !== "open") throw new S3Error(`${self.display}: write of ${name} after it was ${state}`);
        digest.update(chunk);
        try {
          sink.write(chunk);
          sinceFlush += chunk.length;
          // Bun's writer applies no back-pressure: wait for each part to leave.
          if (sinceFlush >= self.config.partSize) {
            sinceFlush = 0;
            await s3Call(self.display, `upload ${name}`, policy, () => Promise.resolve(sink.flush()));
          }
        } catch (err) {
          await fail(err);
        }
      },
      seal,
      async commit() {
        const done = await seal();
        state = "committed"; // a completed upload is already visible
        return done;
      },
      abort,
    };
  }

  /**
   * A clean-up call (abort an upload, drop a lock): not cut short by the
   * run's interruption signal, which is often why it is made, and with a
   * short timeout so that a frozen server does not hold the exit for long.
   */
  private cleanup<T>(operation: string, attempt: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const policy = { timeoutMs: Math.min(this.config.timeoutMs, CLEANUP_TIMEOUT_MS), retries: 1, backoffMs: this.config.backoffMs };
    return s3Call(this.display, operation, policy, attempt);
  }

  where(name: string): string {
    return `${this.display}/${name}`;
  }

  /** Nothing to complete: a sealed upload is complete and visible already. */
  async completeCommittedWrites(): Promise<void> {}

  async delete(name: string): Promise<void> {
    const key = this.key(name);
    await this.call(`delete ${name}`, (signal) => this.send({ method: "DELETE", key }, signal, [404]));
  }

  /** GET returning text and ETag, or undefined if the object is missing. */
  private async getWithTag(name: string): Promise<{ text: string; etag: string; age: number } | undefined> {
    const key = this.key(name);
    return this.call(`read ${name}`, async (signal) => {
      const res = await this.send({ method: "GET", key }, signal, [404]);
      if (res.status === 404) return undefined;
      const text = await res.text();
      // Age by the server's own clock (Date minus Last-Modified): no clock skew between machines.
      const date = Date.parse(res.headers.get("date") ?? "");
      const modified = Date.parse(res.headers.get("last-modified") ?? "");
      const age = Number.isFinite(date) && Number.isFinite(modified) ? date - modified : 0;
      return { text, etag: unquote(res.headers.get("etag") ?? ""), age };
    });
  }

  /**
   * PUT `name` if it is still version `etag` (null: only if missing); the
   * new ETag, or undefined if the condition failed.
   */
  private async putIf(name: string, content: string, etag: string | null): Promise<string | undefined> {
    const key = this.key(name);
    const body = new TextEncoder().encode(content);
    const md5 = createHash("md5").update(body).digest("base64");
    const put = (condition: Record<string, string>) =>
      this.call(`write ${name}`, (signal) => this.send({ method: "PUT", key, body, headers: { ...condition, "content-md5": md5 } }, signal, [412, 409]));
    if (etag === null) {
      const res = await put({ "if-none-match": "*" });
      return res.ok ? unquote(res.headers.get("etag") ?? "") : undefined;
    }
    let res = await put({ "if-match": `"${etag}"` });
    if (!res.ok) {
      // RGW 16.2 matches only the unquoted ETag: retry so if the object is still the one read.
      const now = await this.headTag(name);
      if (now !== etag) return undefined;
      res = await put({ "if-match": etag });
    }
    return res.ok ? unquote(res.headers.get("etag") ?? "") : undefined;
  }

  private async headTag(name: string): Promise<string | undefined> {
    const key = this.key(name);
    const res = await this.call(`stat ${name}`, (signal) => this.send({ method: "HEAD", key }, signal, [404]));
    return res.status === 404 ? undefined : unquote(res.headers.get("etag") ?? "");
  }

  async readIndex(): Promise<IndexSnapshot> {
    const got = await this.getWithTag(INDEX_OBJECT);
    return got ? { content: got.text, token: got.etag } : { content: undefined, token: null };
  }

  async replaceIndex(content: string, token: string | null): Promise<string> {
    const etag = await this.putIf(INDEX_OBJECT, content, token);
    if (etag === undefined) {
      throw new IndexConflictError(`${this.display}/${INDEX_OBJECT} was changed by another dsbackup since this run read it; this run's index line was not written`);
    }
    return etag;
  }

  async lock(opts: LockOptions): Promise<LocationLock> {
    const leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
    const info: LockInfo = { host: hostname(), pid: process.pid, startedAt: Date.now() };
    const body = () => `${JSON.stringify({ ...info, purpose: opts.purpose, refreshedAt: new Date().toISOString() })}\n`;
    let etag = await this.putIf(LOCK_OBJECT, body(), null);
    if (etag === undefined) {
      const held = await this.getWithTag(LOCK_OBJECT);
      if (held === undefined) {
        etag = await this.putIf(LOCK_OBJECT, body(), null); // released in between
      } else {
        let other: Partial<LockInfo & { purpose: string }> = {};
        try { other = JSON.parse(held.text); } catch { /* unreadable: named as unknown */ }
        const who = `${other.purpose ?? "a run"} on host ${other.host ?? "?"} pid ${other.pid ?? "?"}, started ${other.startedAt ? new Date(other.startedAt).toISOString() : "?"}`;
        // A lock of this host whose process is gone is stale whatever its age (a killed run).
        const deadHere = other.host === hostname() && typeof other.pid === "number" && !processAlive(other.pid) && other.pid !== process.pid;
        if (held.age < leaseMs && !deadHere) {
          throw new LockedError(`${this.display} is locked by ${who} (refreshed ${Math.round(held.age / 1000)} s ago); ${opts.purpose} not started`);
        }
        etag = await this.putIf(LOCK_OBJECT, body(), held.etag);
        const why = deadHere ? "its process is no longer running" : `not refreshed for ${Math.round(held.age / 1000)} s (lease ${Math.round(leaseMs / 1000)} s)`;
        if (etag !== undefined) opts.warn(`${this.display}: took over the lock of ${who}: ${why}`);
      }
    }
    if (etag === undefined) throw new LockedError(`${this.display} was locked by another dsbackup at the same moment; ${opts.purpose} not started`);

    let current: string = etag;
    let released = false;
    const refresh = async () => {
      if (released) return;
      const next = await this.putIf(LOCK_OBJECT, body(), current);
      if (next === undefined) throw new LockedError(`${this.display}: the lock of this ${opts.purpose} was taken over by another dsbackup`);
      current = next;
    };
    const every = opts.refreshEveryMs ?? leaseMs / 3;
    const timer = every > 0 ? setInterval(() => refresh().catch((err) => opts.warn((err as Error).message)), every) : undefined;
    timer?.unref?.();
    return {
      info,
      refresh,
      release: async () => {
        if (released) return;
        released = true;
        clearInterval(timer);
        try {
          // Delete only our own lock (not one taken over from us).
          // Clean-up calls: a run stopped by SIGINT still frees the location.
          const key = this.key(LOCK_OBJECT);
          const now = await this.cleanup(`stat ${LOCK_OBJECT}`, (signal) => this.send({ method: "HEAD", key }, signal, [404]));
          if (now.status !== 404 && unquote(now.headers.get("etag") ?? "") === current) {
            await this.cleanup(`delete ${LOCK_OBJECT}`, (signal) => this.send({ method: "DELETE", key }, signal, [404]));
          }
        } catch (err) {
          opts.warn(`${this.display}: could not remove the lock object: ${(err as Error).message}`);
        }
      },
    };
  }

  async listIncompleteWrites(): Promise<IncompleteWrite[]> {
    return this.listUploads(false);
  }

  private async listUploads(cleanup: boolean): Promise<IncompleteWrite[]> {
    const call = (cleanup ? this.cleanup : this.call).bind(this);
    const out: IncompleteWrite[] = [];
    let keyMarker = "";
    let uploadMarker = "";
    for (;;) {
      const query: Record<string, string> = { uploads: "", prefix: this.keyPrefix };
      if (keyMarker) Object.assign(query, { "key-marker": keyMarker, "upload-id-marker": uploadMarker });
      const xml = await call("list incomplete uploads", async (signal) => (await this.send({ method: "GET", query }, signal)).text());
      for (const m of xml.matchAll(/<Upload>([\s\S]*?)<\/Upload>/g)) {
        const key = xmlUnescape(xmlText(m[1]!, "Key") ?? "");
        const name = key.slice(this.keyPrefix.length);
        if (!key.startsWith(this.keyPrefix) || !name || name.includes("/")) continue;
        const initiated = Date.parse(xmlText(m[1]!, "Initiated") ?? "");
        out.push({ name, id: xmlUnescape(xmlText(m[1]!, "UploadId") ?? ""), startedAt: Number.isFinite(initiated) ? initiated : undefined });
      }
      if (xmlText(xml, "IsTruncated") !== "true") break;
      keyMarker = xmlUnescape(xmlText(xml, "NextKeyMarker") ?? "");
      uploadMarker = xmlUnescape(xmlText(xml, "NextUploadIdMarker") ?? "");
      if (!keyMarker) break;
    }
    return out;
  }

  private async abortUpload(w: IncompleteWrite, cleanup: boolean): Promise<void> {
    const key = this.key(w.name);
    const call = (cleanup ? this.cleanup : this.call).bind(this);
    await call(`abort the incomplete upload of ${w.name}`, (signal) => this.send({ method: "DELETE", key, query: { uploadId: w.id } }, signal, [404]));
  }

  async abortIncompleteWrites(writes: IncompleteWrite[]): Promise<number> {
    for (const w of writes) await this.abortUpload(w, false);
    return writes.length;
  }
}
