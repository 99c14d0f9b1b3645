import { randomBytes } from 'node:crypto';
import { lstat, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import dockerignore from '@balena/dockerignore';

// the package is CommonJS (`module.exports = factory`): its default import is the factory itself
const ignore = ((dockerignore as unknown as { default?: typeof dockerignore }).default ?? dockerignore) as unknown as () => { add(p: string[]): { ignores(p: string): boolean } };
import { action, verb } from '../command.ts';
import type { CliContext } from '../context.ts';
import { StatusError } from '../errors.ts';
import { listOption, ramInBytes } from '../opts.ts';
import { formatProgress } from '../progress.ts';
import { packLocal } from '../local-tar.ts';

interface BuildFlags {
  file?: string; tag: string[]; buildArg: string[]; label: string[]; target?: string; quiet?: boolean; cache?: boolean; pull?: boolean;
  iidfile?: string; progress?: string; rm?: boolean; forceRm?: boolean; network?: string; addHost: string[]; platform?: string;
  cacheFrom: string[]; memory?: string; memorySwap?: string; cpuShares?: string; cpusetCpus?: string; cpuPeriod?: string; cpuQuota?: string;
  shmSize?: string; explainCache?: boolean;
}

/** `.dockerignore` patterns: comments and blank lines dropped. */
const patternsOf = (text: string): string[] => text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));

/**
 * The context directory as a tar stream, `.dockerignore` applied (the Dockerfile and
 * .dockerignore are always sent, as docker does). Links are sent as links, never followed, so
 * nothing outside the directory is read; owners are 0:0 as the docker CLI sends them.
 */
export function contextTar(dir: string, keep: string[], extra?: { name: string; data: Buffer }): Readable {
  return packLocal(async (w) => {
    const text = await readFile(join(dir, '.dockerignore'), 'utf8').catch(() => '');
    const ig = ignore().add(patternsOf(text));
    const always = new Set(['.dockerignore', ...keep]);
    const root = { uid: 0, gid: 0 };
    const walk = async (rel: string): Promise<void> => {
      for (const n of (await readdir(join(dir, rel))).sort()) {
        const p = rel ? `${rel}/${n}` : n;
        const st = await lstat(join(dir, p));
        const excluded = !always.has(p) && ig.ignores(p);
        if (!excluded) await w.add(p, join(dir, p), st, root);
        if (st.isDirectory()) await walk(p); // an excluded directory may hold re-included (`!`) files
      }
    };
    await walk('');
    if (extra) await w.addData(extra.name, extra.data, 0o600);
  });
}

async function readStdin(s: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}

/** `build [OPTIONS] PATH | -`: the classic builder's API, as the docker CLI without buildx uses it. */
export function registerBuild(parent: Command, ctx: CliContext, name = 'build'): Command {
  const cmd = verb(parent, name, '[OPTIONS] PATH | URL | -', 'Build an image from a Dockerfile', { min: 1, max: 1 });
  cmd.option('-f, --file <string>', 'Name of the Dockerfile (Default is \'PATH/Dockerfile\')');
  listOption(cmd, '-t, --tag <list>', 'Name and optionally a tag in the \'name:tag\' format');
  listOption(cmd, '--build-arg <list>', 'Set build-time variables');
  listOption(cmd, '--label <list>', 'Set metadata for an image');
  listOption(cmd, '--add-host <list>', 'Add a custom host-to-IP mapping (host:ip)');
  listOption(cmd, '--cache-from <strings>', 'Images to consider as cache sources');
  cmd.option('--target <string>', 'Set the target build stage to build.')
    .option('-q, --quiet', 'Suppress the build output and print image ID on success')
    .option('--no-cache', 'Do not use cache when building the image')
    .option('--pull', 'Always attempt to pull a newer version of the image')
    .option('--iidfile <string>', 'Write the image ID to the file')
    .option('--progress <string>', 'Set type of progress output (auto, plain, tty)', 'auto')
    .option('--rm', 'Remove intermediate containers after a successful build', true)
    .option('--no-rm', 'Keep intermediate containers after a successful build')
    .option('--force-rm', 'Always remove intermediate containers')
    .option('--network <string>', 'Set the networking mode for the RUN instructions during build', 'default')
    .option('--platform <string>', 'Set platform if server is multi-platform capable')
    .option('-m, --memory <bytes>', 'Memory limit')
    .option('--memory-swap <bytes>', 'Swap limit equal to memory plus swap: -1 to enable unlimited swap')
    .option('-c, --cpu-shares <int>', 'CPU shares (relative weight)')
    .option('--cpuset-cpus <string>', 'CPUs in which to allow execution (0-3, 0,1)')
    .option('--cpu-period <int>', 'Limit the CPU CFS (Completely Fair Scheduler) period')
    .option('--cpu-quota <int>', 'Limit the CPU CFS (Completely Fair Scheduler) quota')
    .option('--shm-size <bytes>', 'Size of /dev/shm')
    .option('--explain-cache', 'Print, for each rebuilt step, why it missed the cache (berth)');
  return action<BuildFlags>(cmd, async ([path = ''], o) => {
    const stdinCtx = path === '-';
    if (stdinCtx && o.file === '-') throw new StatusError('invalid argument: can\'t use stdin for both build context and dockerfile', 1);
    let body: Readable;
    let dockerfile = o.file ?? 'Dockerfile';
    if (stdinCtx) {
      body = ctx.io.stdin as Readable;
    } else {
      const dir = resolve(path);
      const st = await lstat(dir).catch(() => null);
      if (!st) throw new StatusError(`unable to prepare context: path "${path}" not found`, 1);
      if (!st.isDirectory()) throw new StatusError(`unable to prepare context: context must be a directory: ${dir}`, 1);
      let extra: { name: string; data: Buffer } | undefined;
      if (o.file === '-') {
        extra = { name: `.dockerfile.${randomBytes(10).toString('hex')}`, data: await readStdin(ctx.io.stdin) };
        dockerfile = extra.name;
      } else {
        const abs = o.file ? resolve(o.file) : join(dir, 'Dockerfile');
        const rel = relative(dir, abs);
        if (rel.startsWith('..') || rel.startsWith(sep)) {
          // compat: a Dockerfile outside the context is sent inside it under a random name
          const data = await readFile(abs).catch(() => {
            throw new StatusError(`unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${abs}: no such file or directory`, 1);
          });
          extra = { name: `.dockerfile.${randomBytes(10).toString('hex')}`, data };
          dockerfile = extra.name;
        } else {
          await lstat(abs).catch(() => {
            throw new StatusError(`unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${abs}: no such file or directory`, 1);
          });
          dockerfile = rel.split(sep).join('/');
        }
      }
      body = contextTar(dir, [dockerfile], extra);
    }
    const kv = (list: string[]): Record<string, string | null> => Object.fromEntries(list.map((a) => {
      const i = a.indexOf('=');
      if (i >= 0) return [a.slice(0, i), a.slice(i + 1)];
      // compat: `--build-arg NAME` takes NAME from the environment, or stays unset
      return [a, process.env[a] ?? null];
    }));
    const messages = await ctx.client.build(body, {
      dockerfile, t: o.tag, buildargs: JSON.stringify(kv(o.buildArg)), labels: JSON.stringify(Object.fromEntries(o.label.map((l) => {
        const i = l.indexOf('=');
        return i >= 0 ? [l.slice(0, i), l.slice(i + 1)] : [l, ''];
      }))),
      target: o.target, q: o.quiet || undefined, nocache: o.cache === false || undefined, pull: o.pull || undefined,
      rm: o.rm !== false, forcerm: o.forceRm || undefined, networkmode: o.network, extrahosts: o.addHost.length ? o.addHost.join(',') : undefined,
      platform: o.platform, cachefrom: JSON.stringify(o.cacheFrom),
      memory: o.memory ? ramInBytes(o.memory) : undefined, memswap: o.memorySwap ? (o.memorySwap === '-1' ? -1 : ramInBytes(o.memorySwap)) : undefined,
      cpushares: o.cpuShares, cpusetcpus: o.cpusetCpus, cpuperiod: o.cpuPeriod, cpuquota: o.cpuQuota, shmsize: o.shmSize ? ramInBytes(o.shmSize) : undefined,
      explaincache: o.explainCache || undefined,
    });
    let id = '';
    const shown: string[] = [];
    for await (const m of messages) {
      if (m.errorDetail?.message || m.error) {
        if (o.quiet) ctx.io.stderr.write(shown.join(''));
        const code = (m.errorDetail as { code?: number } | undefined)?.code;
        throw new StatusError(m.errorDetail?.message || m.error || 'build failed', code && code > 0 ? code : 1);
      }
      const aux = m.aux as { ID?: string; 'berth.cacheMiss'?: { step: number; instruction: string; reasons: string[] } } | undefined;
      if (aux?.ID) id = aux.ID;
      if (aux?.['berth.cacheMiss']) {
        const miss = aux['berth.cacheMiss'];
        if (o.explainCache) ctx.io.stdout.write(miss.reasons.map((r) => ` ---> Cache miss: ${r}\n`).join(''));
        continue;
      }
      const line = formatProgress(m);
      if (line === undefined) continue;
      if (o.quiet) shown.push(line);
      else ctx.io.stdout.write(line);
    }
    if (o.quiet && id) ctx.io.stdout.write(`${id}\n`);
    if (o.iidfile) await writeFile(o.iidfile, id);
  });
}
