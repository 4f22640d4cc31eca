// Opening a storage home directory: the checks every command needs before it
// reads anything under A/, and the helpers that read its small files.
import { readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { StorageError, describeErrno, fileError } from "../errors.ts";
import { databasePath, isFormat, formats, type Format } from "./names.ts";
import { decodeU64Hex } from "./records.ts";
import { getSetting, parseSettings } from "./settings.ts";

export interface Storage {
  home: string;
  format: Format;
  classname: string;
  /** Absolute path of a flat database name under A/. */
  pathOf(flatName: string): string;
  /** Path of a flat database name relative to HOME, as stored in archives. */
  archiveNameOf(flatName: string): string;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Validate HOME as a DirectoryStorage home and read its settings. */
export function openStorage(homeArg: string, opts: { requireFull?: boolean } = {}): Storage {
  const home = resolve(homeArg);
  let st;
  try {
    st = statSync(home);
  } catch (err) {
    throw new StorageError(`Not a storage: ${home}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such directory" : (err as Error).message}`);
  }
  if (!st.isDirectory()) throw new StorageError(`Not a storage: ${home} is not a directory`);
  if (!isDirectory(join(home, "A"))) throw new StorageError(`Not a storage: ${home} has no A/ directory`);
  const settingsPath = join(home, "config", "settings");
  let text: string;
  try {
    text = readFileSync(settingsPath, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // Missing or not a file: not a storage. Anything else (EIO, EACCES...) is a failure to read it.
    if (code !== "ENOENT" && code !== "EISDIR" && code !== "ENOTDIR") throw fileError("read", settingsPath, err);
    throw new StorageError(`Not a storage: cannot read ${settingsPath}: ${describeErrno(err as NodeJS.ErrnoException)}`);
  }
  const settings = parseSettings(text, settingsPath);
  const classname = getSetting(settings, "storage", "classname");
  if (classname === undefined) throw new StorageError(`${settingsPath}: no [storage] classname`);
  if (opts.requireFull !== false && classname !== "Full") {
    throw new StorageError(
      `${settingsPath}: classname is ${JSON.stringify(classname)}; backups need a Full storage (only Full keeps the history incremental backups are made from)`,
    );
  }
  const format = getSetting(settings, "structure", "format");
  if (format === undefined) throw new StorageError(`${settingsPath}: no [structure] format`);
  if (!isFormat(format)) {
    throw new StorageError(`${settingsPath}: unknown format ${JSON.stringify(format)} (expected one of ${formats.join(", ")})`);
  }
  return {
    home,
    format,
    classname,
    pathOf: (flat) => join(home, "A", databasePath(format, flat)),
    archiveNameOf: (flat) => `A/${databasePath(format, flat)}`,
  };
}

export function readDatabaseFile(storage: Storage, flatName: string): Uint8Array {
  const path = storage.pathOf(flatName);
  try {
    return new Uint8Array(readFileSync(path));
  } catch (err) {
    throw fileError("read", path, err);
  }
}

/** An 8-byte value file (x.serial, x.oid, x.packed) as 16 hex digits; undefined if absent. */
export function readU64File(storage: Storage, flatName: string, required = true): string | undefined {
  const path = storage.pathOf(flatName);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (err) {
    if (!required && (err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw fileError("read", path, err);
  }
  return decodeU64Hex(bytes, path);
}
