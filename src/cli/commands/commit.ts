import type { Command } from 'commander';
import { action, verb } from '../command.ts';
import type { CliContext } from '../context.ts';
import { listOption } from '../opts.ts';
import { splitRef } from '../progress.ts';

interface CommitFlags {
  author?: string;
  change: string[];
  message?: string;
  pause: boolean;
}

/** `commit [-a] [-c] [-m] [-p] CONTAINER [REPOSITORY[:TAG]]`: prints the new image ID. */
export function registerCommit(parent: Command, ctx: CliContext, name = 'commit'): Command {
  const cmd = verb(parent, name, '[OPTIONS] CONTAINER [REPOSITORY[:TAG]]', "Create a new image from a container's changes", { min: 1, max: 2 });
  cmd
    .option('-a, --author <string>', 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")')
    .option('-m, --message <string>', 'Commit message')
    .option('-p, --pause', 'Pause container during commit', true)
    .option('--no-pause', 'Do not pause container during commit');
  listOption(cmd, '-c, --change <list>', 'Apply Dockerfile instruction to the created image');
  return action<CommitFlags>(cmd, async ([c = '', ref], o) => {
    let repo: string | undefined;
    let tag: string | undefined;
    if (ref) {
      const hasTag = ref.includes('@') || ref.lastIndexOf(':') > ref.lastIndexOf('/');
      const s = splitRef(ref);
      repo = s.fromImage;
      tag = hasTag ? s.tag : undefined;
    }
    const res = await ctx.client.containerCommit(c, { repo, tag, comment: o.message, author: o.author, pause: o.pause, changes: o.change });
    ctx.out(`${res.Id}\n`);
  });
}
