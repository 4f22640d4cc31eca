// Phrases people type that GNU date refuses ("in 2 hours", "yesterday at
// 5pm", "36h ago"), rewritten into the GNU spelling that means what they say,
// which the GNU grammar then evaluates. Only ever tried on strings GNU
// rejects, so every GNU-accepted string keeps GNU's value. Strict: a word
// this rewriter does not own is passed to the GNU grammar, which refuses
// anything it does not understand.

/** GNU unit words, and the compact letters (`m` is minutes, never months). */
const UNITS = new Set(["year", "years", "month", "months", "fortnight", "fortnights", "week", "weeks", "day", "days", "hour", "hours", "minute", "minutes", "min", "mins", "second", "seconds", "sec", "secs"]);
const SINGULAR_UNITS = new Set(["year", "month", "fortnight", "week", "day", "hour", "minute", "min", "second", "sec"]);
const COMPACT: Record<string, string> = { w: "weeks", d: "days", h: "hours", m: "minutes", s: "seconds" };
const NUMBER_WORDS: Record<string, number> = { one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10, eleven: 11, twelve: 12 };
const MONTH = /^(jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may|june?|july?|aug(ust)?|sept?(ember)?|oct(ober)?|nov(ember)?|dec(ember)?)\.?,?$/i;
const CLOCK = /^\d{1,2}(:\d{2}(:\d{2})?)?(am|pm|a\.m\.|p\.m\.)?$/i;
const MERIDIAN = /^(am|pm|a\.m\.|p\.m\.)$/i;

interface Item {
  n: number;
  unit: string;
}

/** `1st`, `2nd`, `3rd`, `4th` ... `31st`, with the suffix English gives the number. */
function ordinalDay(word: string): string | undefined {
  const m = /^(\d{1,2})(st|nd|rd|th)(,?)$/i.exec(word);
  if (!m) return undefined;
  const n = Number(m[1]);
  const suffix = n % 100 >= 11 && n % 100 <= 13 ? "th" : ({ 1: "st", 2: "nd", 3: "rd" } as Record<number, string>)[n % 10] ?? "th";
  if (n < 1 || n > 31 || m[2]!.toLowerCase() !== suffix) return undefined;
  return `${n}${m[3]}`;
}

const unitWord = (unit: string, n: number) => {
  const base = unit.endsWith("s") ? unit.slice(0, -1) : unit;
  return n === 1 ? base : `${base}s`;
};

/**
 * The GNU spelling of a natural phrase, or null when the phrase is not one
 * of ours (the caller then reports the original string as invalid). The
 * result still has to pass the GNU grammar.
 */
export function naturalToGnu(input: string): string | null {
  // Commas separate duration items ("2 hours, 30 minutes"); elsewhere they stay on their word.
  const words = input.trim().split(/[ \t\n\v\f\r]+/).flatMap((w) => (/^[a-z0-9]+,$/i.test(w) && (UNITS.has(w.slice(0, -1).toLowerCase()) || /^\d+[wdhms]+,$/i.test(w)) ? [w.slice(0, -1), ","] : [w]));
  const lower = words.map((w) => w.toLowerCase());
  const out: string[] = [];
  let changed = false;
  let i = 0;

  /** One duration item at k: [items, next index], or null. */
  const item = (k: number): [Item[], number] | null => {
    const w = lower[k];
    if (w === undefined) return null;
    const compact = /^(?:\d{1,9}[wdhms])+$/.test(w) ? [...w.matchAll(/(\d+)([wdhms])/g)] : null;
    if (compact) return [compact.map((m) => ({ n: Number(m[1]), unit: COMPACT[m[2]!]! })), k + 1];
    if (w === "half" && lower[k + 1] === "an" && lower[k + 2] === "hour") return [[{ n: 30, unit: "minutes" }], k + 3];
    const next = lower[k + 1];
    if (next === undefined || !UNITS.has(next)) return null;
    if (/^\d{1,9}$/.test(w)) return [[{ n: Number(w), unit: next }], k + 2];
    if (w in NUMBER_WORDS) return [[{ n: NUMBER_WORDS[w]!, unit: next }], k + 2];
    // "a"/"an" is 1 only directly before a singular unit ("a day", "an hour").
    if ((w === "a" || w === "an") && SINGULAR_UNITS.has(next)) return [[{ n: 1, unit: next }], k + 2];
    return null;
  };

  /** A duration: item ((, | and | , and) item)*. */
  const duration = (k: number): [Item[], number] | null => {
    const first = item(k);
    if (!first) return null;
    const items = [...first[0]];
    let j = first[1];
    while (true) {
      let sep = j;
      if (lower[sep] === ",") sep++;
      if (lower[sep] === "and") sep++;
      if (sep === j) {
        const more = item(j); // items may also simply follow each other
        if (!more) break;
        items.push(...more[0]);
        j = more[1];
        continue;
      }
      const more = item(sep);
      if (!more) return null; // a dangling "and" or comma
      items.push(...more[0]);
      j = more[1];
    }
    return [items, j];
  };

  /** The direction after a duration: [sign, next index, words used]. */
  const direction = (k: number): [number, number] => {
    const w = lower[k];
    if (w === "ago" || w === "earlier") return [-1, k + 1];
    if (w === "before") return lower[k + 1] === "now" ? [-1, k + 2] : [-1, k + 1];
    if (w === "later" || w === "hence") return [1, k + 1];
    if (w === "from" && lower[k + 1] === "now") return [1, k + 2];
    return [0, k];
  };

  const isTime = (k: number): boolean => {
    const w = lower[k];
    if (w === undefined) return false;
    if (w === "noon" || w === "midday" || w === "midnight") return true;
    if (/^\d{1,2}$/.test(w)) return MERIDIAN.test(lower[k + 1] ?? "");
    return CLOCK.test(w) && (w.includes(":") || /[ap]/.test(w));
  };

  while (i < words.length) {
    const w = lower[i]!;
    const dayPhrase = lower.slice(w === "the" ? i + 1 : i, (w === "the" ? i + 1 : i) + 3).join(" ");
    if (dayPhrase === "day before yesterday" || dayPhrase === "day after tomorrow") {
      out.push(dayPhrase.endsWith("yesterday") ? "2 days ago" : "2 days");
      i += w === "the" ? 4 : 3;
      changed = true;
      continue;
    }
    if (w === "in") {
      const d = duration(i + 1);
      if (!d || direction(d[1])[0] !== 0) return null; // "in 3 days ago" is nonsense
      out.push(...d[0].map((x) => `${x.n} ${unitWord(x.unit, x.n)}`));
      i = d[1];
      changed = true;
      continue;
    }
    const d = duration(i);
    if (d) {
      const [sign, next] = direction(d[1]);
      if (UNITS.has(lower[next] ?? "")) return null; // "half an hour hour"
      // The sign applies to the whole duration: each GNU item gets its own "ago".
      out.push(...d[0].map((x) => `${x.n} ${unitWord(x.unit, x.n)}${sign < 0 ? " ago" : ""}`));
      const original = words.slice(i, next).join(" ");
      if (out.slice(-d[0].length).join(" ") !== original) changed = true;
      i = next;
      continue;
    }
    if (w === "at") {
      if (!isTime(i + 1)) return null;
      i++;
      changed = true;
      continue;
    }
    if (w === "noon" || w === "midday" || w === "midnight") {
      out.push(w === "midnight" ? "00:00" : "12:00");
      i++;
      changed = true;
      continue;
    }
    const ordinal = ordinalDay(w);
    if (ordinal !== undefined) {
      // Only as a day of a named month: "March 1st", "1st March 2026".
      if (!MONTH.test(words[i - 1] ?? "") && !MONTH.test(words[i + 1] ?? "")) return null;
      out.push(ordinal);
      i++;
      changed = true;
      continue;
    }
    // Words only this grammar owns must have been used above; "now" is GNU's,
    // but after "from now" a second one is a mistake, not a no-op.
    if (["and", "in", "half", "the", "from", "later", "earlier", "before", "an", "now", ","].includes(w) || w in NUMBER_WORDS) return null;
    out.push(words[i]!);
    i++;
  }
  return changed ? out.join(" ") : null;
}
