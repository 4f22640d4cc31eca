// The restore tree writer never follows a link and never writes through a
// non-folder, even if something planted one in its folder.
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync, closeSync, writeSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { TreeWriter, treeWriterSink } from "../../src/restore/tree-writer.ts";
import { tempDir, tools } from "../helpers.ts";

describe("TreeWriter", () => {
  test("creates nested folders once and writes files", () => {
    const root = tempDir("tw");
    const tree = new TreeWriter(root);
    const fd = tree.openFile("A/o0/12/def/c", 0o644);
    writeSync(fd, "x");
    closeSync(fd);
    expect(readFileSync(join(root, "A/o0/12/def/c"), "utf8")).toBe("x");
  });

  test("a planted symlink folder is refused, its target untouched", () => {
    const root = tempDir("tw-link");
    const outside = tempDir("tw-outside");
    symlinkSync(outside, join(root, "A"));
    const tree = new TreeWriter(root);
    expect(() => tree.openFile("A/x/serial", 0o640)).toThrow(/not a folder/);
    expect(existsSync(join(outside, "x"))).toBe(false);
  });

  test("a planted symlink file is not followed (O_NOFOLLOW)", () => {
    const root = tempDir("tw-flink");
    const outside = join(tempDir("tw-outside2"), "victim");
    writeFileSync(outside, "keep");
    mkdirSync(join(root, "A"));
    symlinkSync(outside, join(root, "A", "serial"));
    const tree = new TreeWriter(root);
    expect(() => tree.openFile("A/serial", 0o640)).toThrow(/Cannot create/);
    expect(readFileSync(outside, "utf8")).toBe("keep");
  });

  test("a file where a folder should be is refused", () => {
    const root = tempDir("tw-file");
    writeFileSync(join(root, "A"), "");
    expect(() => new TreeWriter(root).folder("A/x")).toThrow(/not a folder/);
  });
});

describe.skipIf(!tools.python)("treeWriterSink", () => {
  test("writes allowed entries and refuses a symlink entry without creating it", async () => {
    const dir = tempDir("tws");
    const archive = join(dir, "a.tar");
    const py = spawnSync("python3", ["-c", `
import tarfile, io, sys
with tarfile.open(sys.argv[1], "w", format=tarfile.USTAR_FORMAT) as t:
    d = tarfile.TarInfo("A"); d.type = tarfile.DIRTYPE; t.addfile(d)
    l = tarfile.TarInfo("A/evil"); l.type = tarfile.SYMTYPE; l.linkname = "/etc"; t.addfile(l)
    f = tarfile.TarInfo("A/x/serial"); data = b"12345678"; f.size = len(data); t.addfile(f, io.BytesIO(data))
`, archive]);
    expect(py.status).toBe(0);
    const root = join(dir, "root");
    mkdirSync(root);
    const refused: string[] = [];
    const sink = treeWriterSink(root, (entry) => refused.push(entry));
    sink.write(new Uint8Array(readFileSync(archive)));
    await sink.end();
    expect(refused).toEqual(["A/evil"]);
    expect(existsSync(join(root, "A/evil"))).toBe(false);
    expect(readFileSync(join(root, "A/x/serial"), "utf8")).toBe("12345678");
  });
});
