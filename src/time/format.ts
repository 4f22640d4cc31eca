// GNU strftime in the C locale (the subset `date +FORMAT` users rely on),
// including GNU's flags (- _ 0 ^ # +), field widths and %N / %:z extensions.
import { toTimeSpec, type TimeSpec } from "./parse.ts";
import { daysFromCivil, localtime, resolveZone, type LocalTime } from "./zone.ts";

export interface FormatOptions {
  zone?: string;
  utc?: boolean;
}

const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];


/** ISO 8601 week-based year and week number. */
function isoWeek(tm: LocalTime): { year: number; week: number } {
  const wdayMon = (tm.wday + 6) % 7; // Monday = 0
  const thursday = daysFromCivil(tm.year, tm.month, tm.day) - wdayMon + 3;
  const y = new Date(thursday * 86400000).getUTCFullYear();
  const week = Math.floor((thursday - daysFromCivil(y, 1, 1)) / 7) + 1;
  return { year: y, week };
}

function offsetString(offset: number, colons: number): string {
  const sign = offset < 0 ? "-" : "+";
  const a = Math.abs(offset);
  const hh = String(Math.floor(a / 3600)).padStart(2, "0");
  const mm = String(Math.floor((a % 3600) / 60)).padStart(2, "0");
  const ss = String(a % 60).padStart(2, "0");
  switch (colons) {
    case 0: return sign + hh + mm;
    case 1: return `${sign}${hh}:${mm}`;
    case 2: return `${sign}${hh}:${mm}:${ss}`;
    default: return a % 60 ? `${sign}${hh}:${mm}:${ss}` : a % 3600 ? `${sign}${hh}:${mm}` : sign + hh;
  }
}

/** Pad a (possibly signed) number: zeros go after the sign, spaces before it. */
function padNumber(n: number, width: number, pad: string, plusFlag = false, defaultDigits = 0): string {
  const neg = n < 0;
  let digits = String(Math.abs(n));
  let sign = neg ? "-" : "";
  if (plusFlag && !neg && (digits.length > defaultDigits || width > defaultDigits)) sign = "+";
  if (pad === "-") return sign + digits;
  const room = width - sign.length;
  if (pad === "0") return sign + digits.padStart(room, "0");
  return (sign + digits).padStart(width, " ");
}

export function formatTime(date: Date | TimeSpec, format: string, opts: FormatOptions = {}): string {
  const spec = toTimeSpec(date);
  const zone = resolveZone(opts.utc ? "UTC0" : opts.zone);
  const tm = localtime(zone, spec.sec);
  let out = "";
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    if (c !== "%") {
      out += c;
      continue;
    }
    const start = i;
    let pad = "";
    let upper = false;
    let swapCase = false;
    let plus = false;
    for (;;) {
      const f = format[i + 1];
      if (f === "-" || f === "_" || f === "0") pad = f;
      else if (f === "+") { pad = "0"; plus = true; }
      else if (f === "^") upper = true;
      else if (f === "#") swapCase = true;
      else break;
      i++;
    }
    let widthText = "";
    while (format[i + 1] !== undefined && /[0-9]/.test(format[i + 1]!)) widthText += format[++i];
    const width = widthText ? Number(widthText) : -1;
    let colons = 0;
    while (format[i + 1] === ":") { colons++; i++; }
    const conv = format[++i];
    if (conv === undefined || (colons && conv !== "z")) {
      out += format.slice(start, i + 1);
      if (conv === undefined) break;
      continue;
    }

    // num: numeric conversion with its default width and padding.
    const num = (n: number, w: number, defPad = "0", defaultDigits = w) =>
      padNumber(n, Math.max(width < 0 ? w : width, 0), pad || defPad, plus, defaultDigits);
    const str = (s: string, lowerOnSwap = false) => {
      let v = s;
      if (upper) v = v.toUpperCase();
      else if (swapCase) v = lowerOnSwap ? v.toLowerCase() : v.toUpperCase();
      if (width > v.length) v = v.padStart(width, pad === "0" || pad === "+" ? "0" : " ");
      return v;
    };
    const sub = (f: string) => str(formatTime(spec, f, opts));
    const hour12 = tm.hour % 12 === 0 ? 12 : tm.hour % 12;

    switch (conv) {
      case "%": out += str("%"); break;
      case "a": out += str(DAYS[tm.wday]!.slice(0, 3)); break;
      case "A": out += str(DAYS[tm.wday]!); break;
      case "b": case "h": out += str(MONTHS[tm.month - 1]!.slice(0, 3)); break;
      case "B": out += str(MONTHS[tm.month - 1]!); break;
      case "c": out += sub("%a %b %e %H:%M:%S %Y"); break;
      case "C": out += num(Math.floor(tm.year / 100), 2, "0", 2); break;
      case "d": out += num(tm.day, 2); break;
      case "D": out += sub("%m/%d/%y"); break;
      case "e": out += num(tm.day, 2, " "); break;
      case "F": out += sub("%+4Y-%m-%d"); break;
      case "g": out += num(((isoWeek(tm).year % 100) + 100) % 100, 2); break;
      case "G": out += num(isoWeek(tm).year, 1, "0", 4); break;
      case "H": out += num(tm.hour, 2); break;
      case "I": out += num(hour12, 2); break;
      case "j": out += num(tm.yday + 1, 3); break;
      case "k": out += num(tm.hour, 2, " "); break;
      case "l": out += num(hour12, 2, " "); break;
      case "m": out += num(tm.month, 2); break;
      case "M": out += num(tm.minute, 2); break;
      case "n": out += "\n"; break;
      case "N": {
        // Width selects how many digits of the nanoseconds to show.
        const digits = String(spec.nsec).padStart(9, "0");
        out += width > 0 ? digits.slice(0, width).padEnd(width, "0") : digits;
        break;
      }
      case "p": out += str(tm.hour < 12 ? "AM" : "PM", true); break;
      case "P": out += str(tm.hour < 12 ? "am" : "pm"); break;
      case "q": out += num(Math.floor((tm.month - 1) / 3) + 1, 1); break;
      case "r": out += sub("%I:%M:%S %p"); break;
      case "R": out += sub("%H:%M"); break;
      case "s": out += num(spec.sec, 1); break;
      case "S": out += num(tm.second, 2); break;
      case "t": out += "\t"; break;
      case "T": out += sub("%H:%M:%S"); break;
      case "u": out += num(tm.wday === 0 ? 7 : tm.wday, 1); break;
      case "U": out += num(Math.floor((tm.yday + 7 - tm.wday) / 7), 2); break;
      case "V": out += num(isoWeek(tm).week, 2); break;
      case "w": out += num(tm.wday, 1); break;
      case "W": out += num(Math.floor((tm.yday + 7 - ((tm.wday + 6) % 7)) / 7), 2); break;
      case "x": out += sub("%m/%d/%y"); break;
      case "X": out += sub("%H:%M:%S"); break;
      case "y": out += num(((tm.year % 100) + 100) % 100, 2); break;
      case "Y": out += num(tm.year, 1, "0", 4); break;
      case "z": {
        const text = offsetString(tm.offset, colons);
        // A width pads the hour digits with zeros after the sign (GNU: %8:z -> -0000:01).
        out += width > text.length ? text[0] + text.slice(1).padStart(width - 1, pad === "_" ? " " : "0") : text;
        break;
      }
      case "Z": out += str(tm.abbr, true); break;
      default: out += format.slice(start, i + 1); // unknown: printed as written
    }
  }
  return out;
}
