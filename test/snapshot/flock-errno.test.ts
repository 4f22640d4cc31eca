// tryLockExclusive's answer when errno, read by a second FFI call, may have
// been overwritten in between: fakes of flock/errno drive the loop.
import { expect, test } from "bun:test";
import { tryLockWith } from "../../src/fsutil/flock.ts";
import { platformFacts } from "../../src/platform.ts";

const facts = platformFacts();
const { EWOULDBLOCK, EINTR } = facts.errno;
const EIO = 5;

/** flock fails (or succeeds) per `results`; errno gives `errnos` in turn. */
function fake(results: number[], errnos: number[]) {
  let calls = 0;
  let e = 0;
  return {
    lib: { facts, flock: () => results[Math.min(calls++, results.length - 1)]!, errno: () => errnos[Math.min(e++, errnos.length - 1)]! },
    calls: () => calls,
  };
}

test("a clobbered errno followed by EWOULDBLOCK on a retry is busy, not a failure", () => {
  const f = fake([-1], [EIO, EWOULDBLOCK]);
  expect(tryLockWith(f.lib, 3)).toBe("busy");
  expect(f.calls()).toBe(2);
});

test("a clobbered errno, then the lock is free on a retry: locked", () => {
  expect(tryLockWith(fake([-1, 0], [EIO]).lib, 3)).toBe("locked");
});

test("the same strange errno every time is reported after a bounded number of tries", () => {
  const f = fake([-1], [EIO]);
  expect(() => tryLockWith(f.lib, 3)).toThrow(`flock failed with errno ${EIO}`);
  expect(f.calls()).toBe(4);
});

test("EINTR is retried without counting; EWOULDBLOCK is busy at once", () => {
  expect(tryLockWith(fake([-1], [EINTR, EINTR, EINTR, EINTR, EINTR, EWOULDBLOCK]).lib, 3)).toBe("busy");
  const f = fake([-1], [EWOULDBLOCK]);
  expect(tryLockWith(f.lib, 3)).toBe("busy");
  expect(f.calls()).toBe(1);
});
