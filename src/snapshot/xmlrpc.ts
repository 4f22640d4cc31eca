// A tiny XML-RPC client: enough to call DirectoryStorageToolkit's
// enterSnapshot(code) and leaveSnapshot(code) with HTTP Basic auth.
// Encoding and decoding are pure; call() does the one HTTP request.

export type XmlRpcValue = string | number | boolean | null | XmlRpcValue[] | { [key: string]: XmlRpcValue };

/** The call did not succeed: a fault, an HTTP error, a connection error or a timeout. */
export class XmlRpcError extends Error {
  constructor(
    message: string,
    readonly kind: "fault" | "http" | "network" | "timeout" | "response",
    readonly faultCode?: number,
    /**
     * The server may have received and acted on the call (a timeout, a
     * connection lost after sending, an answer we could not read); false when
     * it certainly did not (refused connection, unknown host, a fault, an
     * HTTP 4xx).
     */
    readonly mayHaveArrived = kind === "timeout" || kind === "response",
  ) {
    super(message);
    this.name = "XmlRpcError";
  }
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function unescapeXml(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|lt|gt|amp|quot|apos);/g, (_, e: string) => {
    switch (e) {
      case "lt": return "<";
      case "gt": return ">";
      case "amp": return "&";
      case "quot": return '"';
      case "apos": return "'";
      default: return String.fromCodePoint(e[1] === "x" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    }
  });
}

function encodeValue(v: XmlRpcValue): string {
  if (v === null) return "<nil/>";
  if (typeof v === "string") return `<string>${escapeXml(v)}</string>`;
  if (typeof v === "boolean") return `<boolean>${v ? 1 : 0}</boolean>`;
  if (typeof v === "number") return Number.isInteger(v) ? `<int>${v}</int>` : `<double>${v}</double>`;
  if (Array.isArray(v)) return `<array><data>${v.map((x) => `<value>${encodeValue(x)}</value>`).join("")}</data></array>`;
  const members = Object.entries(v).map(([k, x]) => `<member><name>${escapeXml(k)}</name><value>${encodeValue(x)}</value></member>`);
  return `<struct>${members.join("")}</struct>`;
}

export function encodeMethodCall(method: string, params: XmlRpcValue[]): string {
  const body = params.map((p) => `<param><value>${encodeValue(p)}</value></param>`).join("");
  return `<?xml version="1.0"?>\n<methodCall><methodName>${escapeXml(method)}</methodName><params>${body}</params></methodCall>\n`;
}

/** Tags and text of an XML document, without attributes, comments or declarations. */
function tokenize(xml: string): string[] {
  const cleaned = xml.replace(/<\?[\s\S]*?\?>/g, "").replace(/<!--[\s\S]*?-->/g, "");
  const tokens: string[] = [];
  const re = /<[^>]*>|[^<]+/g;
  for (let m = re.exec(cleaned); m; m = re.exec(cleaned)) {
    const t = m[0];
    if (t.startsWith("<")) tokens.push(t.replace(/\s+[^>]*?(\/?)>$/, "$1>").replace(/\s+/g, ""));
    else tokens.push(t);
  }
  return tokens;
}

class Reader {
  private i = 0;
  constructor(private readonly tokens: string[]) {}
  /** Skip whitespace-only text. */
  private skip(): void {
    while (this.i < this.tokens.length && !this.tokens[this.i]!.startsWith("<") && this.tokens[this.i]!.trim() === "") this.i++;
  }
  peek(): string | undefined {
    this.skip();
    return this.tokens[this.i];
  }
  next(): string {
    this.skip();
    const t = this.tokens[this.i++];
    if (t === undefined) throw new XmlRpcError("truncated XML-RPC response", "response");
    return t;
  }
  expect(tag: string): void {
    const t = this.next();
    if (t !== tag) throw new XmlRpcError(`unexpected ${JSON.stringify(t)} in XML-RPC response (expected ${tag})`, "response");
  }
  /** Raw text up to the closing tag (may be empty). */
  text(close: string): string {
    let out = "";
    while (this.i < this.tokens.length && this.tokens[this.i] !== close) {
      const t = this.tokens[this.i++]!;
      if (t.startsWith("<")) throw new XmlRpcError(`unexpected ${JSON.stringify(t)} in XML-RPC response`, "response");
      out += t;
    }
    this.expect(close);
    return unescapeXml(out);
  }
}

function readValue(r: Reader): XmlRpcValue {
  r.expect("<value>");
  const t = r.peek();
  // A value without a type tag is a string.
  if (t === undefined || !t.startsWith("<") || t === "</value>") return r.text("</value>");
  const tag = r.next();
  let v: XmlRpcValue;
  switch (tag) {
    case "<string>": v = r.text("</string>"); break;
    case "<string/>": v = ""; break;
    case "<int>": v = Number(r.text("</int>").trim()); break;
    case "<i4>": v = Number(r.text("</i4>").trim()); break;
    case "<i8>": v = Number(r.text("</i8>").trim()); break;
    case "<double>": v = Number(r.text("</double>").trim()); break;
    case "<boolean>": v = r.text("</boolean>").trim() === "1"; break;
    case "<nil/>": v = null; break;
    case "<dateTime.iso8601>": v = r.text("</dateTime.iso8601>").trim(); break;
    case "<base64>": v = r.text("</base64>").trim(); break;
    case "<array>": {
      r.expect("<data>");
      const items: XmlRpcValue[] = [];
      while (r.peek() === "<value>") items.push(readValue(r));
      r.expect("</data>");
      r.expect("</array>");
      v = items;
      break;
    }
    case "<struct>": {
      const obj: { [key: string]: XmlRpcValue } = {};
      while (r.peek() === "<member>") {
        r.expect("<member>");
        r.expect("<name>");
        const name = r.text("</name>");
        obj[name] = readValue(r);
        r.expect("</member>");
      }
      r.expect("</struct>");
      v = obj;
      break;
    }
    default:
      throw new XmlRpcError(`unsupported XML-RPC value ${JSON.stringify(tag)}`, "response");
  }
  r.expect("</value>");
  return v;
}

export type MethodResponse = { ok: true; value: XmlRpcValue } | { ok: false; faultCode: number; faultString: string };

/** Decode a methodResponse: its single value, or its fault. Throws XmlRpcError on anything else. */
export function decodeMethodResponse(xml: string): MethodResponse {
  const r = new Reader(tokenize(xml));
  r.expect("<methodResponse>");
  const t = r.next();
  if (t === "<fault>") {
    const fault = readValue(r);
    r.expect("</fault>");
    r.expect("</methodResponse>");
    const f = (fault && typeof fault === "object" && !Array.isArray(fault) ? fault : {}) as Record<string, XmlRpcValue>;
    return { ok: false, faultCode: Number(f.faultCode ?? 0), faultString: String(f.faultString ?? "") };
  }
  if (t !== "<params>") throw new XmlRpcError(`unexpected ${JSON.stringify(t)} in XML-RPC response`, "response");
  let value: XmlRpcValue = null;
  if (r.peek() === "<param>") {
    r.expect("<param>");
    value = readValue(r);
    r.expect("</param>");
  }
  r.expect("</params>");
  r.expect("</methodResponse>");
  return { ok: true, value };
}

export interface CallOptions {
  user?: string;
  password?: string;
  timeoutMs: number;
  userAgent?: string;
}

/**
 * Call METHOD at URL. Every failure becomes an XmlRpcError whose message
 * never contains the password (nor any user:password part of the URL).
 */
export async function callXmlRpc(url: string, method: string, params: XmlRpcValue[], opts: CallOptions): Promise<XmlRpcValue> {
  const headers: Record<string, string> = {
    "Content-Type": "text/xml",
    "User-Agent": opts.userAgent ?? "dsbackup snapshot tool",
  };
  if (opts.user !== undefined) {
    headers.Authorization = `Basic ${Buffer.from(`${opts.user}:${opts.password ?? ""}`).toString("base64")}`;
  }
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, {
      method: "POST",
      headers,
      body: encodeMethodCall(method, params),
      signal: AbortSignal.timeout(opts.timeoutMs),
      redirect: "manual",
    });
    text = await response.text();
  } catch (err) {
    const e = err as Error & { code?: string };
    if (e?.name === "TimeoutError" || e?.name === "AbortError") {
      throw new XmlRpcError(`no answer within ${Math.round(opts.timeoutMs / 1000)} s`, "timeout");
    }
    const code = e?.code;
    const refused = code === "ConnectionRefused" || code === "ECONNREFUSED";
    const unreachable = code === "ENOTFOUND" || code === "FailedToOpenSocket";
    const reason = refused ? "connection refused" : unreachable ? `cannot reach ${new URL(url).host}` : (code ?? "connection failed");
    // Any other network error may come after the request went out.
    throw new XmlRpcError(reason, "network", undefined, !refused && !unreachable);
  }
  if (response.status !== 200) {
    const hint = response.status === 401 ? " (wrong user or password?)" : "";
    // A 4xx is refused before the method runs; a 5xx (a proxy's gateway timeout) may hide a call that ran.
    throw new XmlRpcError(`HTTP ${response.status} ${response.statusText}${hint}`.trim(), "http", undefined, response.status >= 500);
  }
  const decoded = decodeMethodResponse(text);
  if (!decoded.ok) {
    throw new XmlRpcError(`fault ${decoded.faultCode}: ${decoded.faultString.split("\n")[0]}`, "fault", decoded.faultCode);
  }
  return decoded.value;
}
