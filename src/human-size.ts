// The one size format of every message and progress line: binary units, one
// decimal from KiB on ("512 B", "1.5 KiB", "26.5 MiB", "2.0 GiB"). What is
// measured (file content, compressed archive, tar stream) is said beside it.
const UNITS = ["KiB", "MiB", "GiB", "TiB"];

export function humanSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 - 0.05 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** A transfer rate in the same units: "12.3 MiB/s". */
export function humanRate(bytesPerSecond: number): string {
  return `${humanSize(Math.round(bytesPerSecond))}/s`;
}
