// Filled in by scripts/build.ts with --define; "dev" when run from source.
declare const __DSBACKUP_VERSION__: string | undefined;
declare const __DSBACKUP_COMMIT__: string | undefined;

export const version: string = typeof __DSBACKUP_VERSION__ === "string" ? __DSBACKUP_VERSION__ : "dev";
export const commit: string = typeof __DSBACKUP_COMMIT__ === "string" ? __DSBACKUP_COMMIT__ : "unknown";
