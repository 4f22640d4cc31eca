// src/platform.ts: every branch's choices, checked on Linux; this machine's
// numbers checked against Python's fcntl and errno modules (its C headers).
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { RELEASE_TARGETS, UnsupportedPlatformError, platformFacts } from "../src/platform.ts";
import { versionLine } from "../src/version.ts";
import { tools } from "./helpers.ts";

describe("macOS", () => {
  for (const arch of ["x64", "arm64"]) {
    test(`darwin-${arch}: libSystem, __error, EWOULDBLOCK 35, F_FULLFSYNC 51`, () => {
      const f = platformFacts("darwin", arch);
      expect(f.os).toBe("darwin");
      expect(f.libcCandidates[0]).toBe("/usr/lib/libSystem.B.dylib");
      expect(f.libcCandidates.some((n) => n.includes("libc.so"))).toBe(false);
      expect(f.errnoSymbol).toBe("__error");
      expect(f.errno).toEqual({ EINTR: 4, EWOULDBLOCK: 35 });
      expect(f.flock).toEqual({ LOCK_SH: 1, LOCK_EX: 2, LOCK_NB: 4, LOCK_UN: 8 });
      expect(f.fullFsyncCommand).toBe(51);
    });
  }
});

describe("Linux", () => {
  test("glibc name first, then musl's names for the architecture", () => {
    expect(platformFacts("linux", "x64").libcCandidates).toEqual(["libc.so.6", "libc.musl-x86_64.so.1", "/lib/ld-musl-x86_64.so.1"]);
    expect(platformFacts("linux", "arm64").libcCandidates).toEqual(["libc.so.6", "libc.musl-aarch64.so.1", "/lib/ld-musl-aarch64.so.1"]);
  });

  test("__errno_location, EWOULDBLOCK 11, plain fsync", () => {
    for (const arch of ["x64", "arm64"]) {
      const f = platformFacts("linux", arch);
      expect(f.errnoSymbol).toBe("__errno_location");
      expect(f.errno).toEqual({ EINTR: 4, EWOULDBLOCK: 11 });
      expect(f.fullFsyncCommand).toBeNull();
    }
  });

  test.skipIf(!tools.python || process.platform !== "linux")("numbers equal this machine's C headers (via Python)", () => {
    const py = spawnSync("python3", ["-c", "import fcntl,errno\nprint(fcntl.LOCK_SH,fcntl.LOCK_EX,fcntl.LOCK_NB,fcntl.LOCK_UN,errno.EINTR,errno.EWOULDBLOCK)"], { encoding: "utf8" });
    const [sh, ex, nb, un, eintr, ewouldblock] = py.stdout.trim().split(" ").map(Number);
    const f = platformFacts();
    expect(f.flock).toEqual({ LOCK_SH: sh!, LOCK_EX: ex!, LOCK_NB: nb!, LOCK_UN: un! });
    expect(f.errno).toEqual({ EINTR: eintr!, EWOULDBLOCK: ewouldblock! });
  });
});
if (!tools.python) console.warn("SKIP: python3 not installed; platform numbers are not checked against the C headers");

test("FreeBSD: libc.so.7, __error, BSD errno, plain fsync", () => {
  const f = platformFacts("freebsd", "x64");
  expect(f.libcCandidates[0]).toBe("libc.so.7");
  expect(f.errnoSymbol).toBe("__error");
  expect(f.errno).toEqual({ EINTR: 4, EWOULDBLOCK: 35 });
  expect(f.fullFsyncCommand).toBeNull();
});

test("unsupported systems and architectures are refused by name", () => {
  expect(() => platformFacts("win32", "x64")).toThrow(UnsupportedPlatformError);
  expect(() => platformFacts("linux", "ia32")).toThrow("linux-ia32");
  expect(() => platformFacts("openbsd", "x64")).toThrow("openbsd-x64");
});

test("release matrix: the six required builds plus FreeBSD, each with its Bun target", () => {
  expect(RELEASE_TARGETS.map((t) => `${t.file} ${t.bunTarget}`)).toEqual([
    "dsbackup-linux-x64 bun-linux-x64",
    "dsbackup-linux-arm64 bun-linux-arm64",
    "dsbackup-linux-x64-musl bun-linux-x64-musl",
    "dsbackup-linux-arm64-musl bun-linux-arm64-musl",
    "dsbackup-darwin-x64 bun-darwin-x64",
    "dsbackup-darwin-arm64 bun-darwin-arm64",
    "dsbackup-freebsd-x64 bun-freebsd-x64",
  ]);
  // Every release target has platform facts.
  for (const t of RELEASE_TARGETS) expect(platformFacts(t.os, t.arch).os).toBe(t.os);
});

test("--version line names version, commit and platform", () => {
  expect(versionLine("darwin", "arm64")).toMatch(/^dsbackup \S+ \(commit \S+\) darwin-arm64$/);
});
