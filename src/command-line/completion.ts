// Shell completion scripts for bash, zsh and fish, made from the
// command-line description (spec.ts): the command words, each command's
// options, what each option's value completes to, and the positional words.
// Values only the backups folder knows (--prefix, --seq, --skip, verify's
// ARCHIVE) are asked of `dsbackup __complete KIND` with the --storage,
// --backups and --prefix already on the line. The scripts carry the data as
// shell `case` tables; the logic around them is the same in each shell.
import { BACKUP_WORDS, COMMANDS, GLOBAL_OPTIONS, type CommandSpec, type Completion, type OptionSpec } from "./spec.ts";

export type Shell = "bash" | "zsh" | "fish";

/** What a value (or a positional word) completes to, in the scripts' terms. */
export type ValueKind = Exclude<Completion, readonly string[]> | { words: readonly string[] };

/** What the backup words do, for the shells that show descriptions. */
const BACKUP_WORD_SUMMARIES: Record<(typeof BACKUP_WORDS)[number], string> = {
  prefix: "archive name prefix for the words after it: prefix NAME",
  full: "write a complete copy",
  inc: "write the changes since the newest backup taken at or before WHEN",
};

/** Commands a person may complete to (the helper command is not one). */
export function completableCommands(): CommandSpec[] {
  return COMMANDS.filter((c) => !c.internal);
}

/** The words that may name a command: every command but backup, then the backup words. */
export function commandWords(): { word: string; summary: string }[] {
  return [
    ...completableCommands().filter((c) => c.name !== "backup").map((c) => ({ word: c.name, summary: c.summary })),
    ...BACKUP_WORDS.map((w) => ({ word: w, summary: BACKUP_WORD_SUMMARIES[w] })),
  ];
}

/** The spellings of an option on the line: `--quiet`, `-q`. */
export function optionTokens(o: OptionSpec): string[] {
  if (o.shortOnly) return [`-${o.short}`];
  return o.short ? [`--${o.name}`, `-${o.short}`] : [`--${o.name}`];
}

/** What the option's separate value completes to; undefined for a flag (and for -I[FMT], whose value is attached). */
export function valueKind(o: OptionSpec): ValueKind | undefined {
  if (o.value === undefined || o.value.startsWith("[")) return undefined;
  const c = o.complete ?? "file";
  return typeof c === "string" ? c : { words: c };
}

/** What a command's positional words complete to, and how many it takes. */
export function positionalKind(c: CommandSpec): { kind: ValueKind; max: number } | "backup-words" {
  const p = c.positionals;
  if (p.kind === "backup-words") return "backup-words";
  if (p.kind === "none") return { kind: "none", max: 0 };
  const complete = p.complete ?? "none";
  const kind: ValueKind = typeof complete === "string" ? complete : { words: complete };
  return { kind, max: p.kind === "own" ? Infinity : p.max };
}

/** Options of a command as completed: its own, and --help; before the command word: those of every command. */
function optionsFor(c: CommandSpec | undefined): OptionSpec[] {
  const all = c ? [...c.options, ...GLOBAL_OPTIONS.filter((g) => g.name === "help" && !c.options.some((o) => o.name === "help"))] : [...GLOBAL_OPTIONS, ...completableCommands().flatMap((x) => x.options)];
  const seen = new Set<string>();
  return all.filter((o) => {
    const key = optionTokens(o).join(" ");
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * What each option token's value completes to, for every command at once:
 * the scripts find the command word by skipping option values before it, so
 * a token must mean the same wherever it stands. Throws if two commands
 * disagree (the description would then need a per-command table).
 */
export function valueTable(): Map<string, ValueKind | undefined> {
  const table = new Map<string, ValueKind | undefined>();
  for (const o of optionsFor(undefined)) {
    for (const token of optionTokens(o)) {
      const kind = valueKind(o);
      if (table.has(token) && JSON.stringify(table.get(token)) !== JSON.stringify(kind)) {
        throw new TypeError(`option ${token} completes differently in two commands`);
      }
      table.set(token, kind);
    }
  }
  return table;
}

const kindWord = (k: ValueKind) => (typeof k === "string" ? k : `words ${k.words.join(" ")}`);

/** Quote for sh/bash/zsh single quotes. */
const sq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
/** Quote for fish single quotes (\\ and \' are its only escapes there). */
const fq = (s: string) => `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;

/** A `case` over command names, for bash and zsh. */
function caseTable(indent: string, rows: [string, string][], fallback?: string): string {
  const lines = rows.map(([pattern, body]) => `${indent}  ${pattern}) ${body} ;;`);
  if (fallback) lines.push(`${indent}  *) ${fallback} ;;`);
  return lines.join("\n");
}

function valueCases(indent: string): string {
  const rows: [string, string][] = [];
  for (const [token, kind] of valueTable()) if (kind) rows.push([token, `echo ${sq(kindWord(kind))}`]);
  return caseTable(indent, rows);
}

function positionalCases(indent: string): string {
  const rows: [string, string][] = completableCommands().map((c) => {
    const p = positionalKind(c);
    return [c.name, p === "backup-words" ? "echo backup-words" : `echo ${sq(`${p.max === Infinity ? "many" : p.max} ${kindWord(p.kind)}`)}`];
  });
  return caseTable(indent, rows);
}

/** The two shell functions bash and zsh share: an option's value kind, a command's positional words. */
function kindFunctions(): string {
  return `# What the value of option $1 completes to; nothing for a flag.
_dsbackup_value() {
  case $1 in
${valueCases("  ")}
  esac
}

# "MAX KIND" for the positional words of command $1.
_dsbackup_positional() {
  case $1 in
${positionalCases("  ")}
  esac
}
`;
}

const HEADER = (shell: Shell) => `dsbackup completion for ${shell}, generated by \`dsbackup completion ${shell}\` from its command-line description.`;

export function bashScript(): string {
  const tokens = (c: CommandSpec | undefined) => sq([...new Set(optionsFor(c).flatMap(optionTokens))].join(" "));
  const optionRows: [string, string][] = completableCommands().map((c) => [c.name, `echo ${tokens(c)}`]);
  return `# ${HEADER("bash")}
# Works with or without the bash-completion package.

_dsbackup_commands=${sq(commandWords().map((w) => w.word).join(" "))}

# The options of command $1 (before the command word: of every command).
_dsbackup_options() {
  case $1 in
${caseTable("  ", optionRows, `echo ${tokens(undefined)}`)}
  esac
}

${kindFunctions()}
# Values only the backups folder knows: ask dsbackup, with the folder on the line.
_dsbackup_values() {
  local kind=$1 i w v
  local -a args=()
  for ((i = 1; i < \${#COMP_WORDS[@]}; i++)); do
    w=\${COMP_WORDS[i]}
    case $w in
      --storage|--backups|--prefix)
        [[ $w == --prefix && $kind == prefix ]] && continue
        v=\${COMP_WORDS[i+1]}
        [[ $v == = ]] && v=\${COMP_WORDS[i+2]}
        [[ -n $v && $i -ne $COMP_CWORD ]] && args+=("$w=\${v/#\\~/$HOME}")
        ;;
      --storage=?*|--backups=?*|--prefix=?*)
        [[ $w == --prefix=* && $kind == prefix ]] && continue
        v=\${w#*=}
        args+=("\${w%%=*}=\${v/#\\~/$HOME}")
        ;;
    esac
  done
  local program=\${COMP_WORDS[0]/#\\~/$HOME}
  "$program" __complete "$kind" "\${args[@]}" 2>/dev/null | while IFS=$'\\t' read -r v _; do printf '%s\\n' "$v"; done
}

# Fill COMPREPLY with what kind $1 (and words $2...) offers for the word $cur.
_dsbackup_complete() {
  case $1 in
    file) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
    dir) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -d -- "$cur") ;;
    words) shift; mapfile -t COMPREPLY < <(compgen -W "$*" -- "$cur") ;;
    command) mapfile -t COMPREPLY < <(compgen -W "$_dsbackup_commands" -- "$cur") ;;
    program) mapfile -t COMPREPLY < <(compgen -c -- "$cur") ;;
    prefix|seq|archive) mapfile -t COMPREPLY < <(compgen -W "$(_dsbackup_values "$1")" -- "$cur") ;;
  esac
}

_dsbackup() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} cmd= option= i w
  local -a positionals=()
  COMPREPLY=()
  # Find the command word and the positional words before the cursor, skipping option values.
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=\${COMP_WORDS[i]}
    if [[ $cmd == snapshot && $w != -?* ]]; then
      # snapshot's COMMAND: the rest of the line is its own; complete it as COMMAND would.
      if declare -F _command_offset >/dev/null; then _command_offset $i; else _dsbackup_complete file; fi
      return 0
    fi
    if [[ $w == -?* ]]; then
      if [[ \${COMP_WORDS[i+1]} == = ]]; then ((i += 2)); elif [[ -n $(_dsbackup_value "$w") ]]; then ((i++)); fi
      continue
    fi
    if [[ -z $cmd ]]; then
      case $w in prefix|full|inc) cmd=backup; positionals+=("$w") ;; *) cmd=$w ;; esac
    else
      positionals+=("$w")
    fi
  done

  # The value of an option: --opt VALUE, or --opt=VALUE (bash splits the word at '=').
  if [[ $cur == = ]]; then option=$prev; cur=
  elif [[ $prev == = ]]; then option=\${COMP_WORDS[COMP_CWORD-2]}
  elif [[ $prev == -?* ]]; then option=$prev
  fi
  if [[ -n $option ]]; then
    local kind
    kind=$(_dsbackup_value "$option")
    if [[ -n $kind ]]; then _dsbackup_complete $kind; return 0; fi
  fi

  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$(_dsbackup_options "$cmd")" -- "$cur")
    return 0
  fi
  if [[ -z $cmd ]]; then _dsbackup_complete command; return 0; fi
  local spec
  spec=$(_dsbackup_positional "$cmd")
  if [[ $spec == backup-words ]]; then
    case $prev in
      prefix) _dsbackup_complete prefix ;;
      inc) ;;
      *) _dsbackup_complete words prefix full inc ;;
    esac
    return 0
  fi
  local max=\${spec%% *}
  if [[ $max == many || \${#positionals[@]} -lt $max ]]; then _dsbackup_complete \${spec#* }; fi
  if [[ \${#COMPREPLY[@]} -eq 0 && $max == 0 ]]; then mapfile -t COMPREPLY < <(compgen -W "$(_dsbackup_options "$cmd")" -- "$cur"); fi
  return 0
}

complete -F _dsbackup dsbackup
`;
}

/** zsh `_describe` items: `word:description`, colons in the word escaped. */
const describeItem = (word: string, text: string) => sq(`${word.replace(/:/g, "\\:")}:${text}`);

export function zshScript(): string {
  const optionItems = (c: CommandSpec | undefined) => optionsFor(c).flatMap((o) => optionTokens(o).map((t) => describeItem(t, o.description))).join(" ");
  const optionRows: [string, string][] = completableCommands().map((c) => [c.name, `reply=(${optionItems(c)})`]);
  return `#compdef dsbackup
# ${HEADER("zsh")}

# The options of command $1, as _describe items (before the command word: of every command).
_dsbackup_options() {
  case $1 in
${caseTable("  ", optionRows, `reply=(${optionItems(undefined)})`)}
  esac
}

${kindFunctions()}
_dsbackup_commands=(${commandWords().map((w) => describeItem(w.word, w.summary)).join(" ")})

# Values only the backups folder knows: ask dsbackup, with the folder on the line.
_dsbackup_values() {
  local kind=$1 i w v line
  local -a args items
  for (( i = 2; i <= $#words; i++ )); do
    w=$words[i]
    case $w in
      --storage|--backups|--prefix)
        [[ $w == --prefix && $kind == prefix ]] && continue
        v=$words[i+1]
        (( i + 1 != CURRENT )) && [[ -n $v ]] && args+=("$w=\${v/#\\~/$HOME}")
        ;;
      --storage=*|--backups=*|--prefix=*)
        [[ $w == --prefix=* && $kind == prefix ]] && continue
        v=\${w#*=}
        (( i != CURRENT )) && args+=("\${w%%=*}=\${v/#\\~/$HOME}")
        ;;
    esac
  done
  for line in "\${(@f)$(\${words[1]/#\\~/$HOME} __complete $kind "\${args[@]}" 2>/dev/null)}"; do
    [[ -n $line ]] && items+=("\${\${line%%$'\\t'*}//:/\\\\:}:\${line#*$'\\t'}")
  done
  _describe -t $kind $kind items
}

# Complete kind $1 (and words $2...).
_dsbackup_complete() {
  case $1 in
    file) _files ;;
    dir) _files -/ ;;
    words) shift; compadd -- "$@" ;;
    command) _describe -t commands command _dsbackup_commands ;;
    program) _command_names -e ;;
    prefix|seq|archive) _dsbackup_values $1 ;;
    *) return 1 ;;
  esac
}

_dsbackup() {
  local cmd= option= kind spec max i w
  local -a positionals reply
  for (( i = 2; i < CURRENT; i++ )); do
    w=$words[i]
    if [[ $cmd == snapshot && $w != -?* ]]; then
      # snapshot's COMMAND: the rest of the line is its own; complete it as COMMAND would.
      words=("\${(@)words[i,-1]}")
      (( CURRENT -= i - 1 ))
      _normal
      return
    fi
    if [[ $w == -?* ]]; then
      [[ $w != *=* && -n $(_dsbackup_value $w) ]] && (( i++ ))
      continue
    fi
    if [[ -z $cmd ]]; then
      case $w in prefix|full|inc) cmd=backup; positionals+=($w) ;; *) cmd=$w ;; esac
    else
      positionals+=($w)
    fi
  done

  local cur=$words[CURRENT] prev=$words[CURRENT-1]
  if [[ $cur == -?*=* ]]; then
    option=\${cur%%=*}
    compset -P '*='
  elif [[ $prev == -?* && $prev != *=* ]]; then
    option=$prev
  fi
  if [[ -n $option ]]; then
    kind=$(_dsbackup_value $option)
    if [[ -n $kind ]]; then _dsbackup_complete \${=kind}; return; fi
  fi

  if [[ $cur == -* ]]; then
    _dsbackup_options "$cmd"
    _describe -t options option reply
    return
  fi
  if [[ -z $cmd ]]; then _dsbackup_complete command; return; fi
  spec=$(_dsbackup_positional $cmd)
  if [[ $spec == backup-words ]]; then
    case $prev in
      prefix) _dsbackup_complete prefix ;;
      inc) _message 'a time string (WHEN), e.g. "36 hours ago"' ;;
      *) local -a bw=(${BACKUP_WORDS.map((w) => describeItem(w, BACKUP_WORD_SUMMARIES[w])).join(" ")}); _describe -t words 'backup word' bw ;;
    esac
    return
  fi
  max=\${spec%% *}
  if [[ $max == many ]] || (( $#positionals < max )); then
    _dsbackup_complete \${=\${spec#* }}
  else
    _dsbackup_options "$cmd"
    _describe -t options option reply
  fi
}

if [[ $funcstack[1] == _dsbackup ]]; then
  _dsbackup "$@"
else
  compdef _dsbackup dsbackup
fi
`;
}

export function fishScript(): string {
  const lines: string[] = [
    `# ${HEADER("fish")}`,
    "",
    "# What the value of option $argv[1] completes to; nothing for a flag.",
    "function __dsbackup_value",
    "    switch $argv[1]",
  ];
  for (const [token, kind] of valueTable()) if (kind) lines.push(`        case ${fq(token)}`, `            echo ${fq(kindWord(kind))}`);
  lines.push(
    "    end",
    "end",
    "",
    "# The command on the line (backup for the backup words; snapshot-args after snapshot's COMMAND) and how many positional words it has.",
    "function __dsbackup_command",
    "    set -l tokens (commandline -opc)",
    "    set -l cmd -",
    "    set -l count 0",
    "    set -l skip 0",
    "    for w in $tokens[2..-1]",
    "        if test $skip -eq 1",
    "            set skip 0",
    "            continue",
    "        end",
    "        if test \"$cmd\" = snapshot -a $count -gt 0",
    "            set cmd snapshot-args",
    "            break",
    "        end",
    "        if string match -q -- '-?*' $w",
    "            if not string match -q -- '*=*' $w; and test -n \"$(__dsbackup_value $w)\"",
    "                set skip 1",
    "            end",
    "            continue",
    "        end",
    "        if test \"$cmd\" = -",
    "            switch $w",
    "                case prefix full inc",
    "                    set cmd backup",
    "                    set count 1",
    "                case '*'",
    "                    set cmd $w",
    "            end",
    "        else",
    "            set count (math $count + 1)",
    "        end",
    "    end",
    "    if test \"$cmd\" = snapshot -a $count -gt 0",
    "        set cmd snapshot-args",
    "    end",
    "    echo $cmd $count",
    "end",
    "",
    "function __dsbackup_needs_command",
    "    set -l state (string split ' ' -- (__dsbackup_command))",
    "    test \"$state[1]\" = -",
    "end",
    "",
    "# True when the command is $argv[1] (and it has fewer than $argv[2] positional words, if given).",
    "function __dsbackup_using",
    "    set -l state (string split ' ' -- (__dsbackup_command))",
    "    test \"$state[1]\" = $argv[1]; or return 1",
    "    test (count $argv) -lt 2; or test $state[2] -lt $argv[2]",
    "end",
    "",
    "# True when the word before the cursor is $argv[1].",
    "function __dsbackup_after",
    "    set -l tokens (commandline -opc)",
    "    test (count $tokens) -gt 1; and test \"$tokens[-1]\" = $argv[1]",
    "end",
    "",
    "# Values only the backups folder knows: ask dsbackup, with the folder on the line.",
    "function __dsbackup_values",
    "    set -l kind $argv[1]",
    "    set -l tokens (commandline -opc)",
    "    set -l args",
    "    for i in (seq 2 (count $tokens))",
    "        set -l w $tokens[$i]",
    "        if test $kind = prefix; and string match -q -- '--prefix*' $w",
    "            continue",
    "        end",
    "        switch $w",
    "            case --storage --backups --prefix",
    "                if test $i -lt (count $tokens)",
    "                    set -a args $w=(string replace -r '^~' $HOME -- $tokens[(math $i + 1)])",
    "                end",
    "            case '--storage=*' '--backups=*' '--prefix=*'",
    "                set -a args (string replace -r '=~' =$HOME -- $w)",
    "        end",
    "    end",
    "    set -l program (string replace -r '^~' $HOME -- $tokens[1])",
    "    $program __complete $kind $args 2>/dev/null",
    "end",
    "",
    "complete -c dsbackup -f",
  );
  const argument = (kind: ValueKind): string => {
    if (typeof kind !== "string") return `-x -a ${fq(kind.words.join(" "))}`;
    switch (kind) {
      case "file": return "-r -F";
      case "dir": return `-x -a ${fq("(__fish_complete_directories (commandline -ct) '')")}`;
      case "prefix": case "seq": case "archive": return `-x -a ${fq(`(__dsbackup_values ${kind})`)}`;
      case "command": return `-x -a ${fq("(__dsbackup_commands)")}`;
      case "program": return `-x -a ${fq("(__fish_complete_command)")}`;
      case "none": return "-x";
    }
  };
  const optionLine = (condition: string, o: OptionSpec) => {
    const forms = o.shortOnly ? `-s ${o.short}` : `-l ${o.name}${o.short ? ` -s ${o.short}` : ""}`;
    const kind = valueKind(o);
    return `complete -c dsbackup -n ${fq(condition)} ${forms}${kind ? ` ${argument(kind)}` : ""} -d ${fq(o.description)}`;
  };
  lines.push("", "# Command words and the options that may stand before them.");
  lines.push("function __dsbackup_commands", ...commandWords().map((w) => `    printf '%s\\t%s\\n' ${fq(w.word)} ${fq(w.summary)}`), "end");
  lines.push(`complete -c dsbackup -n __dsbackup_needs_command -a ${fq("(__dsbackup_commands)")}`);
  for (const o of optionsFor(undefined)) lines.push(optionLine("__dsbackup_needs_command", o));
  for (const c of completableCommands()) {
    lines.push("", `# ${c.name}`);
    for (const o of optionsFor(c)) lines.push(optionLine(`__dsbackup_using ${c.name}`, o));
    const p = positionalKind(c);
    if (p === "backup-words") {
      lines.push(`complete -c dsbackup -n ${fq("__dsbackup_using backup; and not __dsbackup_after prefix; and not __dsbackup_after inc")} -a ${fq(BACKUP_WORDS.join(" "))}`);
      lines.push(`complete -c dsbackup -n ${fq("__dsbackup_using backup; and __dsbackup_after prefix")} -a ${fq("(__dsbackup_values prefix)")}`);
    } else if (p.max > 0 && p.kind !== "none") {
      const condition = `__dsbackup_using ${c.name}${p.max === Infinity ? "" : ` ${p.max}`}`;
      const arg = argument(p.kind).replace(/^-[rx] /, "");
      lines.push(`complete -c dsbackup -n ${fq(condition)} ${arg === "-F" ? "-F" : arg}`);
    }
  }
  lines.push("", "# snapshot's COMMAND and its arguments", "complete -c dsbackup -n '__dsbackup_using snapshot-args' -F");
  return `${lines.join("\n")}\n`;
}

export function completionScript(shell: Shell): string {
  switch (shell) {
    case "bash": return bashScript();
    case "zsh": return zshScript();
    case "fish": return fishScript();
  }
}
