// End-to-end: the compiled binary reads natural phrases, warns about GNU's
// traps in `date`, and refuses them (exit 2, with advice) where it acts on a time.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { createStorage } from "../fixtures/generator.ts";
import { dsbackup, tempDir } from "../helpers.ts";

describe("time strings in dist/dsbackup", () => {
  test('date -d "in 2 hours" is two hours from now', () => {
    const before = Math.floor(Date.now() / 1000);
    const r = dsbackup(["date", "-d", "in 2 hours", "+%s"]);
    const after = Math.floor(Date.now() / 1000);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const t = Number(r.stdout.trim());
    expect(t).toBeGreaterThanOrEqual(before + 7200);
    expect(t).toBeLessThanOrEqual(after + 7200);
  });

  test("date prints GNU's value for a trap string and warns on stderr", () => {
    const r = dsbackup(["date", "-u", "-d", "2026-03-01 12:00 b", "+%F %T"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe("2026-03-01 10:00:00\n");
    expect(r.stderr).toBe(
      `dsbackup: warning: "2026-03-01 12:00 b" means 2026-03-01 10:00:00 UTC in GNU date ('b' is the military time zone Bravo, UTC+02:00); write "2026-03-01 12:00" or "2026-03-01 12:00 +02:00"\n`,
    );
  });

  test("date suggests a spelling for what only chrono-node reads, exit 1", () => {
    const r = dsbackup(["date", "-d", "5pm on friday"]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^dsbackup: invalid date '5pm on friday'; did you mean "\d{4}-\d\d-\d\d 17:00" \(Friday\)\? write it that way to use it\n$/);
  });

  test('inc "1 hour 30 minutes ago" is refused with exit 2 and advice, nothing written', () => {
    const home = join(tempDir("when"), "storage");
    createStorage(home, { format: "lawn", transactions: 3, objectsPerTransaction: 2, seed: 5 });
    expect(dsbackup(["--storage", home, "full"]).status).toBe(0);
    const r = dsbackup(["--storage", home, "inc", "1 hour 30 minutes ago"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      `dsbackup: inc: "1 hour 30 minutes ago" means 30 minutes from now in GNU date ('ago' applies only to the item just before it); write "90 minutes ago" or "1 hour ago 30 minutes ago"\n`,
    );
    const ok = dsbackup(["--storage", home, "inc", "in 1 hour"]);
    expect(ok.stderr).toContain("nothing changed since backup 1"); // the reference WHEN found
    expect(ok.status).toBe(0);
  });
});
