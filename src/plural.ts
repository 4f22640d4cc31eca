/** "1 entry", "2 entries", "0 archives": a count with its noun, singular only for exactly one. */
export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n.toLocaleString("en-US")} ${n === 1 ? singular : plural}`;
}
