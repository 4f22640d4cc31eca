// Which archive entries a restore accepts. DirectoryStorage archives hold only
// top-level directory entries and regular files (and directories) under
// config/ and A/; anything else is refused by name before a byte is written.

/** What an entry is, in words, from its ustar type flag. */
export function describeTypeFlag(flag: string): string {
  switch (flag) {
    case "0": case "\0": case "": return "file";
    case "5": return "directory";
    case "1": return "hard link";
    case "2": return "symbolic link";
    case "3": return "character device";
    case "4": return "block device";
    case "6": return "fifo";
    case "7": return "contiguous file";
    default: return `entry of type ${JSON.stringify(flag)}`;
  }
}

/** node-tar's type names in the same words. */
export function describeNodeTarType(type: string): string {
  switch (type) {
    case "File": case "OldFile": return "file";
    case "Directory": return "directory";
    case "Link": return "hard link";
    case "SymbolicLink": return "symbolic link";
    case "CharacterDevice": return "character device";
    case "BlockDevice": return "block device";
    case "FIFO": return "fifo";
    case "ContiguousFile": return "contiguous file";
    default: return `entry of type ${JSON.stringify(type)}`;
  }
}

const TOP_LEVEL_TREES = new Set(["config", "A"]);

/**
 * Why an entry must not be extracted, or undefined if it may be. `kind` is
 * "file", "directory" or another description (links, devices: always refused).
 */
export function entryProblem(name: string, kind: string): string | undefined {
  if (name === "") return "empty entry name";
  if (name.startsWith("/")) return "absolute path refused";
  if (/^[A-Za-z]:/.test(name)) return "drive-letter path refused";
  if (name.includes("\\")) return "backslash in path refused";
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(name)) return "control character in path refused";
  const trimmed = kind === "directory" && name.endsWith("/") ? name.slice(0, -1) : name;
  const parts = trimmed.split("/");
  if (parts.includes("..")) return "'..' in path refused (path traversal)";
  if (parts.some((p) => p === "" || p === ".")) return "empty or '.' path component refused";
  if (kind !== "file" && kind !== "directory") return `${kind} refused: restores hold only regular files and directories`;
  if (kind === "directory" && parts.length === 1) return undefined; // top-level directory entry
  if (!TOP_LEVEL_TREES.has(parts[0]!) || parts.length < 2) return "outside config/ and A/: refused";
  return undefined;
}
