// Interim parser (epoch seconds and "N units ago"); replaced by the full GNU
// date grammar on the time branch.
export class InvalidDateError extends SyntaxError {
  constructor(readonly input: string) {
    super(`invalid date '${input}'`);
    this.name = "InvalidDateError";
  }
}

const unitSeconds: Record<string, number> = { second: 1, minute: 60, hour: 3600, day: 86400, week: 604800 };

export function parseTime(input: string, opts: { now: Date; zone?: string }): Date {
  const text = input.trim();
  if (/^[+-]?\d+$/.test(text)) return new Date(Number(text) * 1000);
  if (text === "now") return opts.now;
  const m = /^(\d+)\s+(second|minute|hour|day|week)s?\s+ago$/i.exec(text);
  if (m) return new Date(opts.now.getTime() - Number(m[1]) * unitSeconds[m[2]!.toLowerCase()]! * 1000);
  throw new InvalidDateError(input);
}
