// `dsbackup completion bash|zsh|fish`: print a completion script, and the
// hidden `dsbackup __complete KIND` those scripts call for the values only
// the backups folder knows.
import { completionScript, type Shell } from "../command-line/completion.ts";
import { completionCandidates, formatCandidates, VALUE_KINDS, type ValueKindName } from "../command-line/complete-values.ts";
import { SHELLS } from "../command-line/spec.ts";
import { UsageError } from "../errors.ts";
import { openCatalog, showTime, type FolderOptions } from "./backups-folder.ts";
import type { CommandContext } from "./context.ts";

export async function completionCommand(words: string[], ctx: CommandContext): Promise<number> {
  const shell = words[0];
  if (!(SHELLS as readonly string[]).includes(shell ?? "")) throw new UsageError(`completion needs a SHELL: ${SHELLS.join(", ")}${shell ? `, not ${JSON.stringify(shell)}` : ""}`);
  ctx.stdout(completionScript(shell as Shell));
  return 0;
}

export interface CompleteOptions extends FolderOptions {}

export async function completeCommand(words: string[], options: CompleteOptions, ctx: CommandContext): Promise<number> {
  const kind = words[0];
  if (!(VALUE_KINDS as readonly string[]).includes(kind ?? "")) throw new UsageError(`__complete needs a KIND: ${VALUE_KINDS.join(", ")}`);
  const catalog = await openCatalog(options, ctx);
  ctx.stdout(formatCandidates(completionCandidates(catalog, kind as ValueKindName, options.prefix, (t) => showTime(t, ctx))));
  return 0;
}
