// Creating a container as `run` and `create` do: pull on a missing image, write --cidfile.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { ClientError } from '../client/index.ts';
import type { CliContext } from './context.ts';
import { StatusError } from './errors.ts';
import { ttySize } from './hijack.ts';
import { registryAuthHeader } from './docker-config.ts';
import { displayProgress, normalizeRef, splitRef } from './progress.ts';
import type { CreatePlan } from './run-flags.ts';

/** Pulls `ref` (every tag with allTags), writing progress to `out` (none when quiet), with the stored credentials. */
export async function pullImage(ctx: CliContext, ref: string, opts: { platform?: string; quiet?: boolean; out: NodeJS.WritableStream; allTags?: boolean }): Promise<void> {
  const { fromImage, tag } = opts.allTags ? { fromImage: ref, tag: '' } : splitRef(ref);
  const stream = await ctx.client.imagePull({ fromImage, tag, platform: opts.platform, auth: await registryAuthHeader(ctx, ref) });
  await displayProgress(stream, opts.quiet ? undefined : (opts.out as never));
}

/**
 * Creates the container of `plan`. On a 404 for the image (and --pull other than never) prints
 * docker's `Unable to find image 'x:latest' locally` on stderr, pulls, and tries once more.
 * Returns the new container's ID; daemon errors propagate as ClientError.
 */
export async function createContainer(ctx: CliContext, plan: CreatePlan, opts: { quiet?: boolean; cidfile?: string }): Promise<string> {
  const image = plan.body.Image ?? '';
  if (opts.cidfile && existsSync(opts.cidfile)) {
    throw new StatusError(`${ctx.programName}: container ID file found, make sure the other container isn't running or delete ${opts.cidfile}`, 125);
  }
  if (plan.pull === 'always') await pullImage(ctx, image, { platform: plan.platform, quiet: opts.quiet, out: ctx.io.stderr });
  // compat: docker sends the terminal's size as the initial console size (0x0 when not a terminal).
  const size = ttySize(ctx);
  if (size && plan.body.HostConfig) plan.body.HostConfig.ConsoleSize = size;
  let id: string;
  try {
    id = (await ctx.client.containerCreate(plan.body, { name: plan.name, platform: plan.platform })).Id;
  } catch (err) {
    if (!(err instanceof ClientError) || err.status !== 404 || !/image/i.test(err.message) || plan.pull === 'never') throw err;
    if (!opts.quiet) ctx.err(`Unable to find image '${normalizeRef(image)}' locally\n`);
    await pullImage(ctx, image, { platform: plan.platform, quiet: opts.quiet, out: ctx.io.stderr });
    id = (await ctx.client.containerCreate(plan.body, { name: plan.name, platform: plan.platform })).Id;
  }
  if (opts.cidfile) await writeFile(opts.cidfile, id, { flag: 'wx' });
  return id;
}

/** docker's toStatusError for run: 127 when the command is missing, 126 when it cannot run, else 125. */
export function runStatusError(ctx: CliContext, verbName: string, err: unknown): StatusError {
  if (err instanceof StatusError) return err;
  const msg = err instanceof ClientError ? `Error response from daemon: ${err.message}` : err instanceof Error ? err.message : String(err);
  const text = `${ctx.programName}: ${msg}\n\nRun '${ctx.programName} ${verbName} --help' for more information`;
  if (/executable file not found|no such file or directory|system cannot find the file specified/.test(msg)) return new StatusError(text, 127);
  if (/permission denied|is a directory/.test(msg)) return new StatusError(text, 126);
  return new StatusError(text, 125);
}
