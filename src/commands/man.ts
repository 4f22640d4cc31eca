// `dsbackup man`: print the manual page dsbackup(1).
import { manPage } from "../command-line/man.ts";
import { version } from "../version.ts";
import type { CommandContext } from "./context.ts";

export async function manCommand(ctx: CommandContext): Promise<number> {
  ctx.stdout(manPage({ version }));
  return 0;
}
