/** Sizes as the original tool printed them: "12 M", "340 K". */
export function humanSize(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${Math.round(bytes / (1024 * 1024))} M`;
  return `${Math.max(1, Math.round(bytes / 1024))} K`;
}
