// One line on a terminal that is rewritten in place (progress of backup,
// restore and verify): at most five updates a second, erased before any
// other message.

/** m:ss, for an ETA. */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

export interface TerminalLine {
  /** Show `text()` unless the line was rewritten less than 200 ms ago; `text` gets the seconds since the start. */
  show(text: (elapsedSeconds: number) => string): void;
  /** Erase the line, if shown. */
  clear(): void;
}

export function terminalLine(write: (s: string) => void, now = () => performance.now()): TerminalLine {
  const start = now();
  let last = -Infinity;
  let shown = false;
  return {
    show(text) {
      const t = now();
      if (t - last < 200) return;
      last = t;
      shown = true;
      write(`\r\x1b[K${text((t - start) / 1000)}`);
    },
    clear() {
      if (shown) write("\r\x1b[K");
      shown = false;
    },
  };
}
