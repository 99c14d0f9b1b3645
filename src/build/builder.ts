// The builder: a Dockerfile's stages run step by step, each step cached by its inputs.
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { BerthError, invalid, messageOf, shortId } from '../common/index.ts';
import { hostArch, normalizedName, parseReference, withDefaultTag, type ImageConfig, type ImageRunConfig } from '../oci/index.ts';
import { archiveKind, download, head, unpackArchive } from './add.ts';
import type { BuildBackend, BuildImage, StepCommit } from './backend.ts';
import { unpackContext, type BuildContext } from './context.ts';
import { checksumSources, copyInto, matchSources, mkdirOwned, parseChmod } from './copy.ts';
import { HostFS, type SourceFS } from './source-fs.ts';
import { ShellLex, expandInstruction, parseDockerfile, parseInstruction, parseStages, DockerfileParseError, type Located, type Stage } from './dockerfile/index.ts';
import { resolveOwner } from './owner.ts';

export interface BuildOptions {
  /** Path of the Dockerfile in the context. */
  dockerfile: string;
  tags: string[];
  buildArgs: Record<string, string | null>;
  labels: Record<string, string>;
  target?: string;
  quiet: boolean;
  noCache: boolean;
  pull: boolean;
  /** Remove intermediate containers after a successful build (`rm`), and after a failed one (`forcerm`). */
  rm: boolean;
  forceRm: boolean;
  networkMode: string;
  extraHosts: string[];
  platform?: string;
  cacheFrom: string[];
  resources: { memory?: number; memorySwap?: number; cpuShares?: number; cpusetCpus?: string; cpuPeriod?: number; cpuQuota?: number; shmSize?: number };
  /** Send the reasons each rebuilt step missed the cache (berth's --explain-cache). */
  explainCache: boolean;
  /** Credentials for pulls, by registry host (from X-Registry-Config). */
  auth?: (registry: string) => unknown;
}

/** One message of the build's JSON stream, in the Engine API's shape. */
export type BuildMessage = { stream: string } | { aux: unknown } | { status: string; id?: string; progressDetail?: unknown };

/** A failed build: docker's text; `code` is a failed RUN's exit status (the CLI exits with it). */
export class BuildError extends BerthError {
  constructor(message: string, readonly code?: number) {
    super('invalid-argument', message);
  }
}

const PROXY_ARGS = new Set(['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy']);
const DEFAULT_SHELL = ['/bin/sh', '-c'];

interface StageState {
  index: number;
  name?: string;
  image: BuildImage;
  /** Declared ARGs and their values (undefined: declared without a value). */
  args: Map<string, string | undefined>;
  cmdSet: boolean;
  /** Whether the last step missed the cache (steps after a miss are misses too). */
  rebuilt: boolean;
}

const goQuote = (s: string): string => JSON.stringify(s);
const nop = (s: string): string => `/bin/sh -c #(nop) ${s}`;

const envKey = (e: string): string => (e.includes('=') ? e.slice(0, e.indexOf('=')) : e);

/** The env list with `name`'s value, docker's last-wins semantics. */
function envGet(env: readonly string[] | undefined, name: string): string | undefined {
  let v: string | undefined;
  for (const e of env ?? []) if (envKey(e) === name) v = e.includes('=') ? e.slice(e.indexOf('=') + 1) : '';
  return v;
}

/** `name=value` in place of the first entry of `name` (later ones dropped), or appended. */
function envSet(env: readonly string[] | undefined, name: string, value: string): string[] {
  const list = env ?? [];
  const i = list.findIndex((e) => envKey(e) === name);
  if (i < 0) return [...list, `${name}=${value}`];
  return list.flatMap((e, j) => (j === i ? [`${name}=${value}`] : envKey(e) === name ? [] : [e]));
}

function scratchImage(): BuildImage {
  return { id: '', config: { architecture: hostArch(), os: 'linux', config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] }, rootfs: { type: 'layers', diff_ids: [] }, history: [] } };
}

/** Docker's port spec normalisation for EXPOSE: `80` → `80/tcp`, ranges expanded. */
function exposedPorts(spec: string): string[] {
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(spec);
  if (!m) throw invalid(`invalid containerPort: ${spec}`);
  const lo = Number(m[1]);
  const hi = m[2] ? Number(m[2]) : lo;
  if (hi < lo || hi > 65535) throw invalid(`invalid containerPort: ${spec}`);
  const proto = (m[3] ?? 'tcp').toLowerCase();
  const out: string[] = [];
  for (let p = lo; p <= hi; p++) out.push(`${p}/${proto}`);
  return out;
}

const DURATION_FIELDS = ['interval', 'timeout', 'startPeriod', 'startInterval'] as const;

export class Builder {
  constructor(private readonly b: BuildBackend) {}

  /** Build from a context stream. Returns the final image id; messages go to `out`. */
  async build(input: Readable, opts: BuildOptions, out: (m: BuildMessage) => void, signal: AbortSignal): Promise<string> {
    for (const t of opts.tags) {
      try {
        parseReference(t);
      } catch {
        throw invalid(`invalid reference format: ${t}`);
      }
    }
    await mkdir(this.b.tmpDir, { recursive: true });
    const tmp = await mkdtemp(join(this.b.tmpDir, 'build-'));
    try {
      const ctx = await unpackContext(input, join(tmp, 'spill'), { dockerfile: opts.dockerfile, signal });
      return await new BuildRun(this.b, ctx, tmp, opts, out, signal).run();
    } finally {
      await rm(tmp, { recursive: true, force: true }).catch(() => {});
    }
  }
}

class BuildRun {
  readonly #stages = new Map<string, BuildImage>(); // by stage name and by index
  readonly #usedArgs = new Set<string>();
  #step = 0;
  #total = 0;
  /** Step containers not removed yet, and how to remove each. */
  readonly #stepContainers = new Map<string, () => Promise<void>>();
  #escape = '\\';

  constructor(
    private readonly b: BuildBackend,
    private readonly ctx: BuildContext,
    private readonly tmp: string,
    private readonly opts: BuildOptions,
    private readonly out: (m: BuildMessage) => void,
    private readonly signal: AbortSignal,
  ) {}

  #say(text: string): void {
    if (!this.opts.quiet) this.out({ stream: text });
  }

  async #dockerfile(): Promise<string> {
    const name = this.opts.dockerfile || 'Dockerfile';
    const rel = posix.normalize('/' + name).slice(1);
    const text = (await this.ctx.fs.read(rel))?.toString('utf8');
    if (text === undefined) {
      // compat: dockerd also tries the lower-case name
      const alt = name === 'Dockerfile' ? (await this.ctx.fs.read('dockerfile'))?.toString('utf8') : undefined;
      if (alt !== undefined) return alt;
      throw invalid(`Cannot locate specified Dockerfile: ${name}`);
    }
    return text;
  }

  async run(): Promise<string> {
    const text = await this.#dockerfile();
    let parsed: ReturnType<typeof parseStages>;
    try {
      parsed = parseStages(text);
    } catch (err) {
      if (err instanceof DockerfileParseError) throw new BuildError(err.message);
      throw err;
    }
    this.#escape = parsed.escapeToken;
    const { stages } = parsed;
    if (!stages.length) throw new BuildError('dockerfile parse error: no build stage in current context');
    // global ARGs: usable in FROM lines, and redeclared inside stages
    const meta = new Map<string, string | undefined>();
    const lex = new ShellLex(this.#escape as '\\' | '`');
    for (const a of parsed.metaArgs) {
      for (const { key, value } of a.args) {
        const given = this.opts.buildArgs[key];
        this.#usedArgs.add(key);
        const def = value === undefined ? undefined : lex.processWord(value, (n: string) => meta.get(n));
        meta.set(key, given !== undefined && given !== null ? given : def);
      }
    }
    const targetIndex = this.#targetIndex(stages);
    const needed = this.#neededStages(stages, targetIndex, meta);
    this.#total = stages.reduce((n, s, i) => n + (needed.has(i) ? s.instructions.length + 1 : 0), 0);
    let final: BuildImage | undefined;
    try {
      for (let i = 0; i <= targetIndex; i++) {
        if (!needed.has(i)) continue;
        final = await this.#buildStage(stages[i]!, i, meta);
        this.#stages.set(String(i), final);
        if (stages[i]!.name) this.#stages.set(stages[i]!.name!.toLowerCase(), final);
      }
    } catch (err) {
      if (this.opts.forceRm) await this.#removeContainers();
      throw err;
    }
    if (this.opts.rm || this.opts.forceRm) await this.#removeContainers();
    let image = final!;
    if (Object.keys(this.opts.labels).length) {
      const runConfig = { ...image.config.config, Labels: { ...(image.config.config?.Labels ?? {}), ...this.opts.labels } };
      const id = await this.b.commitConfig(image.id || null, { runConfig, history: { created_by: nop(` LABEL ${Object.entries(this.opts.labels).map(([k, v]) => `${k}=${v}`).join(' ')}`), empty_layer: true } });
      image = { id, config: image.config };
    }
    if (!image.id) image = { id: await this.b.commitConfig(null, { runConfig: image.config.config ?? {}, history: { created_by: '', empty_layer: true } }), config: image.config };
    const unused = Object.keys(this.opts.buildArgs).filter((k) => !this.#usedArgs.has(k) && !PROXY_ARGS.has(k)).sort();
    if (unused.length) this.#say(`[Warning] One or more build-args [${unused.join(' ')}] were not consumed\n`);
    this.out({ aux: { ID: image.id } });
    this.#say(`Successfully built ${shortId(image.id)}\n`);
    const refs = this.opts.tags.map((t) => normalizedName(withDefaultTag(parseReference(t))));
    if (refs.length) await this.b.tag(image.id, refs);
    for (const t of this.opts.tags) this.#say(`Successfully tagged ${withDefaultTagText(t)}\n`);
    return image.id;
  }

  async #removeContainers(): Promise<void> {
    for (const id of [...this.#stepContainers.keys()]) await this.#removeStepContainer(id);
  }

  async #removeStepContainer(id: string): Promise<void> {
    await this.#stepContainers.get(id)?.().catch(() => {});
    this.#stepContainers.delete(id);
    this.#say(` ---> Removed intermediate container ${shortId(id)}\n`);
  }

  #targetIndex(stages: Stage[]): number {
    if (!this.opts.target) return stages.length - 1;
    const i = stages.findIndex((s) => s.name?.toLowerCase() === this.opts.target!.toLowerCase());
    if (i < 0) throw new BuildError(`failed to reach build target ${this.opts.target} in Dockerfile`);
    return i;
  }

  /** The stages `target` needs: itself, the stages it starts FROM and those it copies --from. */
  #neededStages(stages: Stage[], target: number, meta: Map<string, string | undefined>): Set<number> {
    const byName = (ref: string, before: number): number | undefined => {
      if (/^\d+$/.test(ref) && Number(ref) < before) return Number(ref);
      const i = stages.findIndex((s, j) => j < before && s.name?.toLowerCase() === ref.toLowerCase());
      return i < 0 ? undefined : i;
    };
    const lex = new ShellLex(this.#escape as '\\' | '`');
    const need = new Set<number>();
    const visit = (i: number): void => {
      if (need.has(i)) return;
      need.add(i);
      const s = stages[i]!;
      const base = byName(safeExpand(lex, s.image, (n) => meta.get(n)), i);
      if (base !== undefined) visit(base);
      for (const inst of s.instructions) {
        if ((inst.kind === 'copy' || inst.kind === 'add') && inst.from) {
          const f = byName(inst.from, i);
          if (f !== undefined) visit(f);
        }
      }
    };
    visit(target);
    return need;
  }

  #stepHeader(text: string): void {
    this.#step++;
    this.#say(`Step ${this.#step}/${this.#total} : ${text}\n`);
  }

  async #buildStage(stage: Stage, index: number, meta: Map<string, string | undefined>): Promise<BuildImage> {
    const lex = new ShellLex(this.#escape as '\\' | '`');
    const fromRef = lex.processWord(stage.image, (n: string) => meta.get(n));
    this.#stepHeader(`FROM ${stage.image}${stage.name ? ` AS ${stage.name}` : ''}`);
    let image: BuildImage;
    if (fromRef.toLowerCase() === 'scratch') image = scratchImage();
    else {
      const prior = this.#stages.get(fromRef.toLowerCase());
      if (prior && !fromRef.includes('/') && !fromRef.includes(':')) image = prior;
      else {
        const platform = stage.platform ? lex.processWord(stage.platform, (n: string) => meta.get(n)) : this.opts.platform;
        image = await this.b.image(fromRef, { pull: this.opts.pull, platform, auth: this.opts.auth, progress: (e) => this.out({ status: e.status, ...(e.id ? { id: e.id } : {}) }), signal: this.signal });
      }
    }
    this.#say(` ---> ${image.id ? shortId(image.id) : 'scratch'}\n`);
    const st: StageState = { index, name: stage.name, image, args: new Map(), cmdSet: false, rebuilt: false };
    // ONBUILD triggers of the base image run first; the new image does not inherit them
    const triggers = image.config.config?.OnBuild ?? [];
    if (triggers.length) {
      this.#say(` # Executing ${triggers.length} build trigger${triggers.length === 1 ? '' : 's'}\n`);
      const cleared = { ...image.config, config: { ...image.config.config, OnBuild: null } };
      st.image = { id: image.id, config: cleared };
      for (const t of triggers) {
        let inst: Located;
        try {
          const node = parseDockerfile(t).ast.children[0];
          if (!node) continue;
          inst = parseInstruction(node);
        } catch (err) {
          throw new BuildError(`failed to process ONBUILD trigger ${t}: ${messageOf(err)}`);
        }
        if (inst.kind === 'onbuild') throw new BuildError('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
        if (inst.kind === 'from' || inst.kind === 'maintainer') throw new BuildError(`${inst.kind.toUpperCase()} isn't allowed as an ONBUILD trigger`);
        await this.#dispatch(st, inst, lex, meta, `onbuild:${t}`);
      }
    }
    let n = 0;
    for (const inst of stage.instructions) {
      this.#stepHeader(inst.original.replace(/^\s+/, ''));
      await this.#dispatch(st, inst, lex, meta, `${index}:${n++}`);
      if (this.signal.aborted) throw new BuildError('build cancelled');
    }
    return st.image;
  }

  /** The environment words expand in: declared ARGs, overridden by ENV. */
  #lookup(st: StageState): (name: string) => string | undefined {
    return (name) => {
      const e = envGet(st.image.config.config?.Env, name);
      if (e !== undefined) return e;
      return st.args.get(name);
    };
  }

  /** ARGs with values that ENV does not shadow: what RUN sees (and what its cache key names). */
  #argEnv(st: StageState): string[] {
    const out: string[] = [];
    for (const [k, v] of st.args) if (v !== undefined && envGet(st.image.config.config?.Env, k) === undefined) out.push(`${k}=${v}`);
    return out.sort();
  }

  async #dispatch(st: StageState, raw: Located, lex: ShellLex, meta: Map<string, string | undefined>, slot: string): Promise<void> {
    let inst: Located;
    try {
      inst = expandInstruction(raw, (w: string) => lex.processWord(w, this.#lookup(st)));
    } catch (err) {
      throw new BuildError(`failed to process "${raw.original.trim()}": ${messageOf(err)}`);
    }
    const rc: ImageRunConfig = { ...(st.image.config.config ?? {}) };
    const configStep = async (createdBy: string, extra: Record<string, unknown> = {}): Promise<void> => {
      await this.#cached(st, slot, raw.original, nop(createdBy), { ...extra }, async () =>
        this.b.commitConfig(st.image.id || null, { runConfig: rc, history: { created_by: nop(createdBy), empty_layer: true } }), rc);
    };
    switch (inst.kind) {
      case 'env': {
        let env = rc.Env ?? [];
        for (const { key, value } of inst.pairs) env = envSet(env, key, value);
        rc.Env = env;
        return configStep(` ENV ${inst.pairs.map((p) => `${p.key}=${p.value}`).join(' ')}`);
      }
      case 'label':
        rc.Labels = { ...(rc.Labels ?? {}) };
        for (const { key, value } of inst.pairs) rc.Labels[key] = value;
        return configStep(` LABEL ${inst.pairs.map((p) => `${p.key}=${p.value}`).join(' ')}`);
      case 'maintainer':
        return this.#cached(st, slot, raw.original, nop(` MAINTAINER ${inst.value}`), {}, async () =>
          this.b.commitConfig(st.image.id || null, { runConfig: rc, author: inst.value, history: { created_by: nop(` MAINTAINER ${inst.value}`), empty_layer: true } }), rc, inst.value);
      case 'arg': {
        for (const { key, value } of inst.args) {
          this.#usedArgs.add(key);
          const given = this.opts.buildArgs[key];
          let v = value;
          if (v === undefined && meta.has(key)) v = meta.get(key);
          if (given !== undefined && given !== null) v = given;
          st.args.set(key, v);
        }
        // compat: the classic builder records ARG as a step of its own
        return configStep(` ARG ${inst.args.map((a) => (a.value === undefined ? a.key : `${a.key}=${a.value}`)).join(' ')}`, { args: this.#argEnv(st) });
      }
      case 'expose': {
        rc.ExposedPorts = { ...(rc.ExposedPorts ?? {}) };
        const ports = inst.ports.flatMap(exposedPorts);
        for (const p of ports) rc.ExposedPorts[p] = {};
        return configStep(` EXPOSE ${ports.join(' ')}`);
      }
      case 'volume': {
        rc.Volumes = { ...(rc.Volumes ?? {}) };
        for (const v of inst.paths) {
          if (!v.trim()) throw new BuildError('VOLUME specified can not be an empty string');
          rc.Volumes[v] = {};
        }
        return configStep(` VOLUME [${inst.paths.join(' ')}]`);
      }
      case 'user':
        rc.User = inst.value;
        return configStep(` USER ${inst.value}`);
      case 'stopsignal':
        rc.StopSignal = inst.value;
        return configStep(` STOPSIGNAL ${inst.value}`);
      case 'shell':
        rc.Shell = inst.shell;
        return configStep(` SHELL [${inst.shell.map(goQuote).join(' ')}]`);
      case 'onbuild':
        rc.OnBuild = [...(rc.OnBuild ?? []), inst.expression];
        return configStep(` ONBUILD ${inst.expression}`);
      case 'cmd': {
        rc.Cmd = inst.prependShell ? [...(rc.Shell ?? DEFAULT_SHELL), inst.cmd.join(' ')] : inst.cmd;
        st.cmdSet = true;
        return configStep(` CMD [${(rc.Cmd ?? []).map(goQuote).join(' ')}]`);
      }
      case 'entrypoint': {
        rc.Entrypoint = inst.prependShell ? [...(rc.Shell ?? DEFAULT_SHELL), inst.cmd.join(' ')] : inst.cmd;
        // compat: ENTRYPOINT resets a CMD inherited from the base image
        if (!st.cmdSet) rc.Cmd = null;
        return configStep(` ENTRYPOINT [${(rc.Entrypoint ?? []).map(goQuote).join(' ')}]`);
      }
      case 'healthcheck': {
        if (inst.none) rc.Healthcheck = { Test: ['NONE'] };
        else {
          const hc: Record<string, unknown> = { Test: inst.test };
          for (const f of DURATION_FIELDS) if (inst[f] !== undefined) hc[f[0]!.toUpperCase() + f.slice(1)] = inst[f];
          if (inst.retries !== undefined) hc.Retries = inst.retries;
          rc.Healthcheck = hc;
        }
        return configStep(` HEALTHCHECK ${JSON.stringify(rc.Healthcheck)}`);
      }
      case 'workdir': {
        const dir = posix.resolve(rc.WorkingDir || '/', inst.value);
        rc.WorkingDir = dir;
        const createdBy = nop(` WORKDIR ${dir}`);
        return this.#cached(st, slot, raw.original, createdBy, {}, async () => {
          if (!st.image.id) return this.b.commitConfig(null, { runConfig: rc, history: { created_by: createdBy, empty_layer: true } });
          // one mount: mkdir -p when missing; nothing changed → a config-only step
          return this.b.addLayer(st.image.id, async (root) => mkdirOwned(root, dir, { uid: 0, gid: 0 }), { runConfig: rc, history: { created_by: createdBy } }, { emptyAsConfig: true });
        }, rc);
      }
      case 'run':
        return this.#run(st, inst, rc, slot, raw.original);
      case 'copy':
      case 'add':
        return this.#copy(st, inst, rc, slot, raw.original, lex);
      case 'from':
        throw new BuildError('FROM inside a stage is not allowed');
      default:
        throw new BuildError(`unknown instruction: ${(inst as { kind: string }).kind.toUpperCase()}`);
    }
  }

  /**
   * Look the step up in the cache; on a miss run `make` and remember its image. Either way the
   * stage moves on to the step's image. `extra` are the inputs that are not in `createdBy`.
   */
  async #cached(st: StageState, slot: string, original: string, createdBy: string, extra: Record<string, unknown>, make: () => Promise<string>, rc: ImageRunConfig, author?: string, files?: Record<string, string>): Promise<void> {
    const parent = st.image.id;
    const key = createHash('sha256').update(JSON.stringify([parent, createdBy, extra])).digest('hex');
    const slotKey = `${this.opts.tags[0] ?? '<untagged>'}|${this.opts.dockerfile}|${slot}`;
    const prev = this.b.slotGet(slotKey) as SlotRecord | undefined;
    const now: SlotRecord = { original: original.trim(), parent, createdBy, extra, files: files ?? {} };
    let id = this.opts.noCache ? undefined : this.b.cacheGet(key);
    if (id && this.opts.cacheFrom.length) {
      const allowed = new Set(this.opts.cacheFrom.flatMap((c) => this.b.ancestors(c)));
      if (!allowed.has(id)) id = undefined;
    }
    if (id) {
      this.#say(' ---> Using cache\n');
    } else {
      if (this.opts.explainCache) this.out({ aux: { 'berth.cacheMiss': { step: this.#step, instruction: original.trim(), reasons: explain(prev, now, st.rebuilt, this.opts.noCache) } } });
      id = await make();
      this.b.cachePut(key, id);
      st.rebuilt = true;
    }
    this.b.slotPut(slotKey, now);
    const config: ImageConfig = { ...st.image.config, config: rc, ...(author !== undefined ? { author } : {}) };
    st.image = { id, config };
    this.#say(` ---> ${shortId(id)}\n`);
  }

  async #run(st: StageState, inst: Extract<Located, { kind: 'run' }>, rc: ImageRunConfig, slot: string, original: string): Promise<void> {
    if (!st.image.id) throw new BuildError('no image to run the command in: a RUN step needs a base image with a shell, not scratch');
    let argv: string[];
    if (inst.prependShell) {
      let script = inst.cmd.join(' ');
      const docs = inst.heredocs ?? [];
      if (docs.length === 1 && /^<<-?(["']?)([^"'\s]+)\1$/.test(script.trim())) script = docs[0]!.content; // RUN <<EOF: the heredoc is the script
      else if (docs.length) script = [script, ...docs.map((d) => `${d.content}${d.name}`)].join('\n');
      argv = [...(rc.Shell ?? DEFAULT_SHELL), script];
    } else argv = inst.cmd;
    const argEnv = this.#argEnv(st);
    // compat: the classic builder names the build args a RUN sees in its history (`|N K=v … cmd`)
    const createdBy = (argEnv.length ? `|${argEnv.length} ${argEnv.join(' ')} ` : '') + argv.join(' ');
    const proxies = Object.entries(this.opts.buildArgs).filter(([k, v]) => PROXY_ARGS.has(k) && v !== null && !st.args.has(k)).map(([k, v]) => `${k}=${v}`);
    await this.#cached(st, slot, original, createdBy, { network: inst.network ?? '' }, async () => {
      const ran = await this.b.run({
        image: st.image.id, argv, env: [...(rc.Env ?? []), ...argEnv.filter((a) => envGet(rc.Env, a.slice(0, a.indexOf('='))) === undefined), ...proxies],
        user: rc.User ?? '', workingDir: rc.WorkingDir ?? '', networkMode: inst.network === 'none' ? 'none' : this.opts.networkMode,
        extraHosts: this.opts.extraHosts, resources: this.opts.resources,
      }, (data) => this.#say(data.toString()), (id) => this.#say(` ---> Running in ${shortId(id)}\n`), this.signal);
      this.#stepContainers.set(ran.containerId, () => ran.remove());
      if (ran.exitCode !== 0) {
        throw new BuildError(`The command '${argv.join(' ')}' returned a non-zero code: ${ran.exitCode}`, ran.exitCode);
      }
      const id = await ran.commit({ runConfig: rc, history: { created_by: createdBy } }, { keepContainer: !this.opts.rm && !this.opts.forceRm });
      if (this.opts.rm || this.opts.forceRm) await this.#removeStepContainer(ran.containerId);
      return id;
    }, rc);
  }

  async #copy(st: StageState, inst: Extract<Located, { kind: 'copy' | 'add' }>, rc: ImageRunConfig, slot: string, original: string, lex: ShellLex): Promise<void> {
    const verb = inst.kind.toUpperCase();
    const workdir = rc.WorkingDir || '/';
    const destRaw = inst.dest;
    let dest = posix.isAbsolute(destRaw) ? destRaw : posix.join(workdir, destRaw);
    if (destRaw.endsWith('/') || destRaw === '.' || destRaw.endsWith('/.')) dest = dest.replace(/\/?$/, '/');
    const mode = parseChmod(inst.chmod);
    // sources: heredocs become files, URLs (ADD) are downloaded, the rest come from the context or --from
    // the front end keeps heredoc sources (`COPY <<EOF /dest`) apart from the paths
    const docSources = inst.heredocs ?? [];
    const urls = inst.sources.filter((s) => inst.kind === 'add' && /^https?:\/\//.test(s));
    const local = inst.sources.filter((s) => !urls.includes(s));
    if (urls.length && inst.from) throw new BuildError(`${verb} failed: source can't be a URL for COPY --from`);
    if (inst.kind === 'copy' && inst.sources.some((s) => /^https?:\/\//.test(s))) throw new BuildError('COPY failed: source can\'t be a URL for COPY');
    if (inst.checksum && !urls.length) throw new BuildError('checksum can\'t be specified for non-HTTP(S) sources');
    const multi = inst.sources.length + docSources.length > 1 || local.some((s) => /[*?[]/.test(s));
    if (multi && !dest.endsWith('/')) throw new BuildError(`When using ${verb} with more than one source file, the destination must be a directory and end with a /`);

    const run = async (src: SourceFS): Promise<void> => {
      let paths: string[] = [];
      try {
        paths = local.length ? matchSources(src, local, verb) : [];
      } catch (err) {
        throw new BuildError(messageOf(err));
      }
      const files: Record<string, string> = {};
      const fileMap = new Map<string, string>();
      const sum = paths.length ? await checksumSources(src, paths, fileMap) : '';
      for (const [k, v] of fileMap) files[k] = v;
      const downloads: import('./add.ts').Download[] = [];
      for (const u of urls) {
        const d = await download(u, join(this.tmp, `download-${this.#step}-${downloads.length}`), { checksum: inst.checksum, signal: this.signal }).catch((err: unknown) => {
          throw new BuildError(messageOf(err));
        });
        downloads.push(d);
        files[u] = d.digest;
      }
      const docFiles: { name: string; content: string }[] = [];
      for (const d of docSources) {
        // compat: buildkit expands an unquoted heredoc's body but keeps its quotes
        const content = d.expand ? new ShellLex(this.#escape as '\\' | '`', { skipProcessQuotes: true }).processWord(d.content, this.#lookup(st)) : d.content;
        docFiles.push({ name: d.name, content });
        files[`<<${d.name}`] = createHash('sha256').update(content).digest('hex').slice(0, 16);
      }
      const kind = paths.length > 1 || urls.length + docFiles.length + paths.length > 1 ? 'multi' : paths.length === 1 ? 'file' : urls.length ? 'url' : 'heredoc';
      const contentSum = createHash('sha256').update(JSON.stringify([sum, downloads.map((d) => d.digest), docFiles])).digest('hex');
      const createdBy = nop(`${verb} ${kind}:${contentSum} in ${dest} `);
      await this.#cached(st, slot, original, createdBy, { chown: inst.chown ?? '', chmod: inst.chmod ?? '', from: inst.from ?? '' }, async () =>
        this.b.addLayer(st.image.id || null, async (rootfs) => {
          const owner = inst.chown ? await resolveOwner(rootfs, inst.chown) : { uid: 0, gid: 0 };
          const plain: string[] = [];
          for (const p of paths) {
            const k = inst.kind === 'add' && !inst.from && src.lstat(p)?.type === 'file' ? archiveKind(await head(src.open(p))) : null;
            if (k) {
              mkdirOwned(rootfs, dest, owner);
              await unpackArchive(src.open(p), posix.basename(p), k, rootfs, dest, inst.chown ? owner : undefined);
            } else plain.push(p);
          }
          if (plain.length) await copyInto(src, plain, rootfs, dest, { owner, mode });
          if (downloads.length || docFiles.length) {
            const extraDir = await mkdtemp(join(this.tmp, 'files-'));
            const names: string[] = [];
            for (const d of downloads) {
              await rm(join(extraDir, d.name), { force: true });
              const { rename, utimes, chmod } = await import('node:fs/promises');
              await rename(d.path, join(extraDir, d.name));
              await chmod(join(extraDir, d.name), 0o600);
              if (d.mtime) await utimes(join(extraDir, d.name), d.mtime, d.mtime);
              names.push(d.name);
            }
            for (const f of docFiles) {
              await writeFile(join(extraDir, f.name), f.content, { mode: 0o644 });
              names.push(f.name);
            }
            await copyInto(new HostFS(extraDir, 'build context', 'strict'), names, rootfs, multi || names.length > 1 ? dest.replace(/\/?$/, '/') : dest, { owner, mode });
          }
        }, { runConfig: rc, history: { created_by: createdBy } }), rc, undefined, files);
    };

    if (inst.from) {
      const ref = inst.from;
      let image = this.#stages.get(ref.toLowerCase());
      if (!image) {
        image = await this.b.image(ref, { pull: false, platform: this.opts.platform, progress: () => {}, signal: this.signal }).catch(async () =>
          this.b.image(ref, { pull: true, platform: this.opts.platform, auth: this.opts.auth, progress: () => {}, signal: this.signal }));
      }
      const from = image;
      await this.b.withRootfs(from.id || null, (root) => run(new HostFS(root, `image ${ref}`)));
    } else {
      await run(this.ctx.fs);
    }
  }
}

interface SlotRecord { original: string; parent: string; createdBy: string; extra: Record<string, unknown>; files: Record<string, string> }

/** Why a step missed the cache, compared with what the same step saw in the last build. */
function explain(prev: SlotRecord | undefined, now: SlotRecord, parentRebuilt: boolean, noCache: boolean): string[] {
  if (noCache) return ['--no-cache was given'];
  if (!prev) return ['no earlier build of this step is recorded'];
  const reasons: string[] = [];
  if (prev.original !== now.original) reasons.push(`the instruction changed: was \`${prev.original}\``);
  if (prev.parent !== now.parent) reasons.push(parentRebuilt ? 'its parent changed: an earlier step was rebuilt' : `its base image changed: ${shortId(prev.parent) || 'scratch'} → ${shortId(now.parent) || 'scratch'}`);
  const pa = (prev.extra.args ?? []) as string[];
  const na = (now.extra.args ?? []) as string[];
  const argNames = new Set([...pa, ...na].map((a) => a.slice(0, a.indexOf('='))));
  for (const n of argNames) {
    const a = pa.find((x) => x.startsWith(`${n}=`));
    const b = na.find((x) => x.startsWith(`${n}=`));
    if (a !== b) reasons.push(`build arg ${n} changed: ${a ? a.slice(n.length + 1) : '(unset)'} → ${b ? b.slice(n.length + 1) : '(unset)'}`);
  }
  const runArgs = (c: string): string => (/^\|\d+ /.test(c) ? c.slice(0, c.indexOf(' /')) : '');
  if (runArgs(prev.createdBy) !== runArgs(now.createdBy)) reasons.push(`build args seen by RUN changed: ${runArgs(prev.createdBy) || '(none)'} → ${runArgs(now.createdBy) || '(none)'}`);
  for (const [f, d] of Object.entries(now.files)) {
    if (!(f in prev.files)) reasons.push(`file added: ${f}`);
    else if (prev.files[f] !== d) reasons.push(`file changed: ${f}`);
  }
  for (const f of Object.keys(prev.files)) if (!(f in now.files)) reasons.push(`file removed: ${f}`);
  for (const k of ['chown', 'chmod', 'from', 'network']) {
    if ((prev.extra[k] ?? '') !== (now.extra[k] ?? '')) reasons.push(`--${k} changed: ${String(prev.extra[k] || '(none)')} → ${String(now.extra[k] || '(none)')}`);
  }
  if (!reasons.length) reasons.push('the cached image is gone (removed or pruned)');
  return reasons;
}

function safeExpand(lex: ShellLex, word: string, env: (n: string) => string | undefined): string {
  try {
    return lex.processWord(word, env);
  } catch {
    return word;
  }
}

/** `busybox` → `busybox:latest`, as docker prints "Successfully tagged". */
function withDefaultTagText(t: string): string {
  const r = parseReference(t);
  return r.tag || r.digest ? t : `${t}:latest`;
}
