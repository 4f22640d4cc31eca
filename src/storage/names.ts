// Mapping of flat database names (`o<OID>.c`, `t<HHHHHH>.<HHHHHHHHHH>`, `x.oid`)
// to paths under A/, one rule per [structure] format. Pure; vectors in the spec.

export const formats = ["bushy", "chunky", "lawn", "flat"] as const;
export type Format = (typeof formats)[number];

export function isFormat(value: string): value is Format {
  return (formats as readonly string[]).includes(value);
}

/** Path of a flat database name relative to A/, with "/" separators. */
export function databasePath(format: Format, flatName: string): string {
  switch (format) {
    case "flat":
      return flatName;
    case "lawn":
      return flatName.replace(".", "/");
    case "bushy":
      return bushyPath(flatName);
    case "chunky":
      return chunkyPath(flatName);
  }
}

function splitAtFirstDot(name: string): [string, string | undefined] {
  const dot = name.indexOf(".");
  return dot < 0 ? [name, undefined] : [name.slice(0, dot), name.slice(dot + 1)];
}

// Two-character folders while more than three characters remain; the part
// after the dot (if any) is the file inside the last folder.
function bushyPath(name: string): string {
  let [stem, suffix] = splitAtFirstDot(name);
  const pieces: string[] = [];
  while (stem.length > 3) {
    pieces.push(stem.slice(0, 2));
    stem = stem.slice(2);
  }
  pieces.push(stem);
  if (suffix !== undefined) pieces.push(suffix);
  return pieces.join("/");
}

// Short stems (x.oid) become a folder; longer ones are cut into 3-character
// folders (4 for the first piece of oids and tids) while more than four
// characters remain, and the last piece keeps the dot and suffix.
function chunkyPath(name: string): string {
  let [stem, suffix] = splitAtFirstDot(name);
  if (stem.length < 3) return suffix === undefined ? stem : `${stem}/${suffix}`;
  const pieces: string[] = [];
  let first = true;
  while (stem.length > 4) {
    const width = first && (stem[0] === "o" || stem[0] === "t") ? 4 : 3;
    pieces.push(stem.slice(0, width));
    stem = stem.slice(width);
    first = false;
  }
  pieces.push(suffix === undefined ? stem : `${stem}.${suffix}`);
  return pieces.join("/");
}

/** 16 upper-case hex digits: the form of oids and tids in names and the index. */
export const hex16 = /^[0-9A-F]{16}$/;

/** Flat name of the transaction file: `t` + tid hex with a dot after the third byte. */
export function transactionName(tidHex: string): string {
  return `t${tidHex.slice(0, 6)}.${tidHex.slice(6)}`;
}

export function revisionName(oidHex: string, tidHex: string): string {
  return `o${oidHex}.${tidHex}`;
}

export function pointerName(oidHex: string): string {
  return `o${oidHex}.c`;
}
