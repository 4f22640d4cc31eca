// config/settings: an INI file as Python's ConfigParser reads it with
// case-sensitive keys. Pure parse; errors carry the line number.
import { StorageError } from "../errors.ts";

export type Settings = Map<string, Map<string, string>>;

export function parseSettings(text: string, path: string): Settings {
  const sections: Settings = new Map();
  let current: Map<string, string> | undefined;
  let lastKey: string | undefined;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#") || trimmed.startsWith(";")) continue;
    const header = /^\[([^\]]+)\]\s*$/.exec(trimmed);
    if (header) {
      const name = header[1]!.trim();
      current = sections.get(name) ?? new Map();
      sections.set(name, current);
      lastKey = undefined;
      continue;
    }
    // An indented line continues the previous value, as in ConfigParser.
    if (/^\s/.test(line) && current && lastKey !== undefined) {
      current.set(lastKey, `${current.get(lastKey)}\n${trimmed}`);
      continue;
    }
    const pair = /^([^:=\s][^:=]*?)\s*[:=]\s*(.*)$/.exec(trimmed);
    if (!pair) throw new StorageError(`${path}:${i + 1}: cannot parse line: ${JSON.stringify(trimmed.slice(0, 60))}`);
    if (!current) throw new StorageError(`${path}:${i + 1}: setting outside any [section]`);
    lastKey = pair[1]!;
    current.set(lastKey, pair[2]!.replace(/\s+[#;].*$/, "").trim());
  }
  return sections;
}

export function getSetting(settings: Settings, section: string, key: string): string | undefined {
  return settings.get(section)?.get(key);
}
