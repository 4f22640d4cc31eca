// snapshot.conf parsing and the XML-RPC codec (checked against Python's
// xmlrpc.client, the library the original snapshot tool used).
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { parseAccessLine, parseSnapshotConf, redactUrl } from "../../src/snapshot/conf.ts";
import { callXmlRpc, decodeMethodResponse, encodeMethodCall, XmlRpcError } from "../../src/snapshot/xmlrpc.ts";
import { tools } from "../helpers.ts";

describe("snapshot.conf", () => {
  test("methods in order, direct added as the last resort", () => {
    const conf = parseSnapshotConf(
      "# live backups\n\nhttp http://localhost:8080/Control_Panel/ds access\n  http https://zope.example/tk  ../secret \n",
      "snapshot.conf",
    );
    expect(conf.warnings).toEqual([]);
    expect(conf.methods).toEqual([
      { kind: "http", url: "http://localhost:8080/Control_Panel/ds", access: "access", line: 3 },
      { kind: "http", url: "https://zope.example/tk", access: "../secret", line: 4 },
      { kind: "direct", line: 0, implicit: true },
    ]);
  });

  test("nodirect anywhere disables the last resort; an explicit direct replaces it", () => {
    expect(parseSnapshotConf("http http://a/ x\nnodirect\n", "c").methods.map((m) => m.kind)).toEqual(["http"]);
    expect(parseSnapshotConf("direct\nhttp http://a/ x\n", "c").methods).toEqual([
      { kind: "direct", line: 1, implicit: false },
      { kind: "http", url: "http://a/", access: "x", line: 2 },
    ]);
    expect(parseSnapshotConf("", "c").methods).toEqual([{ kind: "direct", line: 0, implicit: true }]);
  });

  test("malformed lines: a warning naming file and line, then the next line", () => {
    const conf = parseSnapshotConf("htp http://a/ x\nhttp http://a/\nhttp ftp://a/ x\nhttp http://b/ y\nnodirect please\n", "/s.conf");
    expect(conf.warnings).toEqual([
      "/s.conf:1: malformed line (unknown method \"htp\"); skipped",
      "/s.conf:2: malformed line (expected: http URL ACCESS, with an http:// or https:// URL); skipped",
      "/s.conf:3: malformed line (expected: http URL ACCESS, with an http:// or https:// URL); skipped",
      "/s.conf:5: extra words after nodirect ignored",
    ]);
    // nodirect with extra words is still honoured: direct must never run against the user's wish.
    expect(conf.methods).toEqual([{ kind: "http", url: "http://b/", access: "y", line: 4 }]);
  });

  test("access files and redaction", () => {
    expect(parseAccessLine("admin:s3cr:et\nsecond:line\n")).toEqual({ user: "admin", password: "s3cr" });
    expect(parseAccessLine(" admin : pw \n")).toEqual({ user: "admin", password: "pw" });
    expect(parseAccessLine("no colon")).toBeUndefined();
    expect(redactUrl("http://admin:pw@host:8080/tk")).toBe("http://host:8080/tk");
  });
});

describe("XML-RPC codec", () => {
  test("methodCall encoding escapes text", () => {
    expect(encodeMethodCall("enterSnapshot", ["h<o>st&-42"])).toBe(
      '<?xml version="1.0"?>\n<methodCall><methodName>enterSnapshot</methodName><params><param><value><string>h&lt;o&gt;st&amp;-42</string></value></param></params></methodCall>\n',
    );
  });

  test("responses and faults decode", () => {
    expect(decodeMethodResponse("<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><int>1</int></value>\n</param>\n</params>\n</methodResponse>\n"))
      .toEqual({ ok: true, value: 1 });
    expect(decodeMethodResponse("<methodResponse><params><param><value>bare &amp; text</value></param></params></methodResponse>"))
      .toEqual({ ok: true, value: "bare & text" });
    expect(decodeMethodResponse("<methodResponse><params></params></methodResponse>")).toEqual({ ok: true, value: null });
    const fault = decodeMethodResponse(
      "<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>4</int></value></member>" +
        "<member><name>faultString</name><value><string>Too many &lt;parameters&gt;</string></value></member></struct></value></fault></methodResponse>",
    );
    expect(fault).toEqual({ ok: false, faultCode: 4, faultString: "Too many <parameters>" });
    for (const bad of ["", "<html>nope</html>", "<methodResponse><params><param><value><int>1</int>", "<methodResponse><params><param><value><bogus>1</bogus></value></param></params></methodResponse>"]) {
      expect(() => decodeMethodResponse(bad)).toThrow(XmlRpcError);
    }
  });

  test.skipIf(!tools.python)("agrees with Python's xmlrpc.client both ways", () => {
    const script = [
      "import sys, xmlrpc.client as x",
      "params, method = x.loads(sys.stdin.read())",
      "print(repr((method, params)))",
      "sys.stdout.write(x.dumps(({'a': [1, True, 2.5, None, 'é<'], 'b': {}},), methodresponse=True, allow_none=True))",
      "sys.stdout.write('\\x00')",
      "sys.stdout.write(x.dumps(x.Fault(7, 'bad code\\nsecond line')))",
    ].join("\n");
    const r = spawnSync("python3", ["-c", script], { input: encodeMethodCall("enterSnapshot", ["web1-1234"]), encoding: "utf8" });
    expect(r.status).toBe(0);
    const [first, response, fault] = r.stdout.split(/\n(?=<\?xml)|\x00/);
    expect(first!.trim()).toBe("('enterSnapshot', ('web1-1234',))");
    expect(decodeMethodResponse(response!)).toEqual({ ok: true, value: { a: [1, true, 2.5, null, "é<"], b: {} } });
    expect(decodeMethodResponse(fault!)).toEqual({ ok: false, faultCode: 7, faultString: "bad code\nsecond line" });
  });
  if (!tools.python) console.warn("SKIP: python3 not installed; XML-RPC codec not compared with xmlrpc.client");

  test("call: refused connection and timeout are XmlRpcErrors without credentials", async () => {
    // A port that was just free: nothing listens there.
    const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
    const port = probe.port;
    probe.stop(true);
    const refused = await callXmlRpc(`http://127.0.0.1:${port}/tk`, "enterSnapshot", ["c"], { user: "u", password: "hunter2", timeoutMs: 2000 }).catch((e) => e);
    expect(refused).toBeInstanceOf(XmlRpcError);
    expect(refused.kind).toBe("network");
    expect(refused.message).not.toContain("hunter2");

    const silent = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Promise<Response>(() => {}) });
    try {
      const timedOut = await callXmlRpc(`http://127.0.0.1:${silent.port}/tk`, "enterSnapshot", ["c"], { user: "u", password: "hunter2", timeoutMs: 300 }).catch((e) => e);
      expect(timedOut).toBeInstanceOf(XmlRpcError);
      expect(timedOut.kind).toBe("timeout");
    } finally {
      silent.stop(true);
    }
  });
});
