// config/snapshot.conf: the ways to force a storage into snapshot mode, tried
// in order. Pure: text in, methods and warnings out; no file is read here.
//
//   http URL ACCESS   XML-RPC enterSnapshot/leaveSnapshot at URL, Basic auth
//                     from the first line of ACCESS (relative to the conf folder)
//   direct            roll the stopped storage forward and use it directly
//   nodirect          do not try `direct` as the implicit last resort
//
// Blank lines and lines starting with `#` are ignored; a malformed line gives
// a warning and is skipped.

export type SnapshotMethod =
  | { kind: "http"; url: string; access: string; line: number }
  /** `implicit`: the last resort added when no line said `direct` or `nodirect`. */
  | { kind: "direct"; line: number; implicit: boolean };

export interface SnapshotConf {
  methods: SnapshotMethod[];
  warnings: string[];
}

/** What a missing snapshot.conf means: `direct` only. */
export const MISSING_CONF: SnapshotConf = { methods: [{ kind: "direct", line: 0, implicit: true }], warnings: [] };

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}

/** Parse snapshot.conf text; `source` names the file in warnings. */
export function parseSnapshotConf(text: string, source: string): SnapshotConf {
  const methods: SnapshotMethod[] = [];
  const warnings: string[] = [];
  let lastResort = true;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    const words = lines[i]!.trim().split(/\s+/).filter(Boolean);
    if (words.length === 0 || words[0]!.startsWith("#")) continue;
    const [keyword, ...rest] = words;
    if (keyword === "http" && rest.length === 2 && isHttpUrl(rest[0]!)) {
      methods.push({ kind: "http", url: rest[0]!, access: rest[1]!, line });
    } else if (keyword === "http") {
      warnings.push(`${source}:${line}: malformed line (expected: http URL ACCESS, with an http:// or https:// URL); skipped`);
    } else if (keyword === "direct" || keyword === "nodirect") {
      // Extra words are ignored rather than dropping the line: skipping a
      // `nodirect` would let direct mode touch a storage the user protected.
      if (rest.length > 0) warnings.push(`${source}:${line}: extra words after ${keyword} ignored`);
      if (keyword === "direct") methods.push({ kind: "direct", line, implicit: false });
      lastResort = false;
    } else {
      warnings.push(`${source}:${line}: malformed line (unknown method ${JSON.stringify(keyword)}); skipped`);
    }
  }
  if (lastResort) methods.push({ kind: "direct", line: 0, implicit: true });
  return { methods, warnings };
}

/** A printable name of a method, never containing credentials. */
export function describeMethod(method: SnapshotMethod, source: string): string {
  if (method.kind === "direct") return method.implicit ? "direct access (last resort)" : `direct access (${source}:${method.line})`;
  return `${redactUrl(method.url)} (${source}:${method.line})`;
}

/** The URL without any user:password part. */
export function redactUrl(text: string): string {
  try {
    const url = new URL(text);
    url.username = "";
    url.password = "";
    return url.toString();
  } catch {
    return "(invalid URL)";
  }
}

/** `user:password` from the first line of an access file (Zope's `access` format, unencrypted). */
export function parseAccessLine(text: string): { user: string; password: string } | undefined {
  const first = text.split(/\r?\n/, 1)[0] ?? "";
  const colon = first.indexOf(":");
  if (colon < 0) return undefined;
  const user = first.slice(0, colon).trim();
  // Zope's access file may carry a third field (domains) after another colon.
  const rest = first.slice(colon + 1);
  const password = (rest.includes(":") ? rest.slice(0, rest.indexOf(":")) : rest).trim();
  if (!user) return undefined;
  return { user, password };
}
