// Filled in by scripts/build.ts with --define; "dev" when run from source.
declare const __DSBACKUP_VERSION__: string | undefined;
declare const __DSBACKUP_COMMIT__: string | undefined;

export const version: string = typeof __DSBACKUP_VERSION__ === "string" ? __DSBACKUP_VERSION__ : "dev";
export const commit: string = typeof __DSBACKUP_COMMIT__ === "string" ? __DSBACKUP_COMMIT__ : "unknown";

/** What `dsbackup --version` prints: "dsbackup 0.1.0 (commit 0123abcd4567) linux-arm64". */
export function versionLine(platform: string = process.platform, arch: string = process.arch): string {
  return `dsbackup ${version} (commit ${commit}) ${platform}-${arch}`;
}
