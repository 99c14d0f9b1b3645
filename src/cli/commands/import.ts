import { createReadStream } from 'node:fs';
import type { Command } from 'commander';
import { action, verb } from '../command.ts';
import type { CliContext } from '../context.ts';
import { listOption } from '../opts.ts';
import { displayProgress, splitRef } from '../progress.ts';

/** `import [-c] [-m] [--platform] file|URL|- [REPOSITORY[:TAG]]`: prints the new image ID. */
export function registerImport(parent: Command, ctx: CliContext, name = 'import'): Command {
  const cmd = verb(parent, name, '[OPTIONS] file|URL|- [REPOSITORY[:TAG]]', 'Import the contents from a tarball to create a filesystem image', { min: 1, max: 2 });
  cmd.option('-m, --message <string>', 'Set commit message for imported image').option('--platform <string>', 'Set platform if server is multi-platform capable');
  listOption(cmd, '-c, --change <list>', 'Apply Dockerfile instruction to the created image');
  return action<{ message?: string; platform?: string; change: string[] }>(cmd, async ([source = '', ref], o) => {
    let repo: string | undefined;
    let tag: string | undefined;
    if (ref) {
      const hasTag = ref.lastIndexOf(':') > ref.lastIndexOf('/');
      const s = splitRef(ref);
      repo = s.fromImage;
      tag = hasTag ? s.tag : undefined;
    }
    const isUrl = /^(https?:\/\/)/.test(source);
    const body = source === '-' ? ctx.io.stdin : isUrl ? Buffer.alloc(0) : createReadStream(source);
    const progress = await ctx.client.imageImport(body as never, {
      fromSrc: isUrl ? source : '-',
      repo,
      tag,
      message: o.message,
      changes: o.change,
      platform: o.platform,
    });
    await displayProgress(progress, ctx.io.stdout);
  });
}
