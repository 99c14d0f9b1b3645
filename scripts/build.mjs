// Bundle each entry point into one ESM file with esbuild (berthd: two, berth: one and the files it loads lazily;
// see below). Native modules stay external.
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { build } from 'esbuild';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: 'linked',
  external: ['better-sqlite3', 'koffi', 'node-unix-socket'],
  // CJS dependencies call require(); give the ESM bundle one
  banner: { js: "import { createRequire as __berthCreateRequire } from 'node:module'; const require = __berthCreateRequire(import.meta.url);" },
  logLevel: 'warning',
  write: false,
};

/**
 * esbuild escapes non-ASCII characters in strings but keeps them in regular expressions and in the
 * comments it preserves; one such character makes V8 hold the whole bundle's source as a two-byte
 * string (berthd: 1.7 MiB of idle RSS instead of 0.9). Escape them as \uXXXX, which means the same
 * in comments, strings and regular expressions (with or without the u flag), but not in a template
 * literal that may be raw: such lines are left alone, with a warning.
 */
function asciiOnly(path, text) {
  let left = 0;
  const out = text.split('\n').map((line) => {
    if (!/[^\x00-\x7f]/.test(line)) return line;
    if (line.includes('`') && !/^\s*(\/\/|\/\*|\*)/.test(line)) {
      left++;
      return line;
    }
    return line.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  });
  if (left) console.warn(`build: ${path}: ${left} line(s) keep non-ASCII characters in template literals: the bundle's source will take twice the memory`);
  return out.join('\n');
}

async function writeOutputs(outputFiles, rewrite = (text) => text) {
  for (const f of outputFiles) {
    await mkdir(dirname(f.path), { recursive: true });
    await writeFile(f.path, f.path.endsWith('.mjs') ? asciiOnly(f.path, rewrite(f.text)) : f.contents);
  }
}

async function bundle(options) {
  const result = await build({ ...common, ...options });
  await writeOutputs(result.outputFiles);
}

/**
 * berth is dist/berth.mjs, the core (src/bin/berth.ts and what it imports statically: the program,
 * commander, the client), plus a file in dist/berth-lazy/ for each module that the CLI loads with a
 * relative import() (each verb's registration, index.ts with every verb, ...): a run loads and parses
 * the core and its verb's file, not the code of every verb.
 *
 * A lazy file does not bundle the core's modules: it imports them from ../berth.mjs, the same module
 * instance (one commander, one set of classes for instanceof, one command.ts registry), which exports
 * what lazy files import. Every other module is bundled into each lazy file that uses it (a run loads
 * one verb's file). The build fails rather than let a module end up both in the core and in a lazy
 * file. commander's node:child_process is loaded on first use (berth never spawns through it).
 */
async function bundleCli() {
  const root = process.cwd();
  /** How lazy files name the core's modules until they are written (then: "../berth.mjs"). */
  const CORE = '@berth-core/';
  /** Marks the plugins' own resolve calls, left to esbuild. */
  const INNER = Symbol('inner');
  const resolveAside = (b, args) => b.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: INNER });
  /** The core's modules (absolute paths), and each one's export names, after the first builds. */
  let core = new Set();
  let exportsOf = new Map();
  /** Lazily imported module → the name of its file. */
  const lazy = new Map();

  const lazyImports = (fromCore) => ({
    name: 'berth-lazy-imports',
    setup(b) {
      b.onResolve({ filter: /^\./ }, async (args) => {
        if (args.kind !== 'dynamic-import' || args.pluginData === INNER) return undefined;
        const r = await resolveAside(b, args);
        if (r.errors.length) return { errors: r.errors };
        if (core.has(r.path)) return { errors: [{ text: `${relative(root, r.path)} is in dist/berth.mjs: import it statically` }] };
        const name = basename(r.path).replace(/\.[^.]+$/, '');
        const clash = [...lazy].find(([p, n]) => n === name && p !== r.path);
        if (clash) return { errors: [{ text: `lazy modules ${relative(root, clash[0])} and ${relative(root, r.path)} would both be ${name}.mjs` }] };
        lazy.set(r.path, name);
        return { path: fromCore ? `./berth-lazy/${name}.mjs` : `./${name}.mjs`, external: true };
      });
    },
  });
  // In lazy files a core module is a stand-in, `export { a, b } from "@berth-core/src/..."`: named,
  // so that esbuild sees through an index.ts that re-exports (`export *`) core and other modules.
  const coreStandIns = {
    name: 'berth-core-stand-ins',
    setup(b) {
      b.onResolve({ filter: /^@berth-core\// }, (args) => ({ path: args.path, external: true }));
      b.onResolve({ filter: /.*/ }, async (args) => {
        if (args.kind === 'entry-point' || args.pluginData === INNER) return undefined;
        const r = await resolveAside(b, args);
        return !r.errors.length && !r.external && core.has(r.path) ? { path: relative(root, r.path), namespace: 'berth-core' } : undefined;
      });
      b.onLoad({ filter: /.*/, namespace: 'berth-core' }, (args) => ({
        contents: `export { ${exportsOf.get(resolve(root, args.path)).join(', ')} } from ${JSON.stringify(CORE + args.path)};`,
        loader: 'js',
      }));
    },
  };
  // commander requires node:child_process as it loads, for executable subcommands (berth has none):
  // it gets a stand-in that loads the module on first use (~1 ms less for every run).
  const commanderChildProcess = {
    name: 'berth-commander-child-process',
    setup(b) {
      b.onResolve({ filter: /^node:child_process$/ }, (args) =>
        /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer) ? { path: 'child_process', namespace: 'berth-on-first-use' } : undefined,
      );
      b.onLoad({ filter: /.*/, namespace: 'berth-on-first-use' }, () => ({
        contents: "module.exports = new Proxy({}, { get: (_, key) => require('node:child_process')[key] });",
        loader: 'js',
      }));
    },
  };
  /** The files (not plugin-made modules, `namespace:path`) that `output` has code of. */
  const usedInputs = (result, output) =>
    Object.entries(result.metafile.outputs[output].inputs)
      .filter(([k, v]) => v.bytesInOutput > 0 && !/^[\w-]+:/.test(k))
      .map(([k]) => resolve(k));
  const probe = { ...common, sourcemap: false, metafile: true, plugins: [lazyImports(true), commanderChildProcess] };

  // The core: the modules the entry uses code of.
  const entryProbe = await build({ ...probe, entryPoints: ['src/bin/berth.ts'], outfile: 'dist/berth.mjs' });
  core = new Set(usedInputs(entryProbe, 'dist/berth.mjs'));
  const exportsProbe = await build({ ...probe, entryPoints: [...core], outdir: 'dist/berth-probe' });
  exportsOf = new Map(Object.values(exportsProbe.metafile.outputs).filter((o) => o.entryPoint).map((o) => [resolve(o.entryPoint), o.exports]));

  // The lazy files, built again while they import() modules not seen yet.
  let lazyResult;
  for (let seen = -1; seen !== lazy.size; ) {
    seen = lazy.size;
    lazyResult = await build({
      ...common,
      entryPoints: Object.fromEntries([...lazy].map(([p, name]) => [name, p])),
      outdir: 'dist/berth-lazy',
      outExtension: { '.js': '.mjs' },
      metafile: true,
      plugins: [lazyImports(false), coreStandIns],
    });
  }

  // berth.mjs exports what they import: the name itself, or name$n when two modules export it.
  const IMPORT = /^import\s*(?:\{([^}]*)\}\s*from\s*)?"@berth-core\/([^"]+)";$/gm;
  const specifiers = (list = '') => list.split(',').map((s) => s.trim().split(/\s+as\s+/)).filter(([name]) => name);
  /** Name → the core modules lazy files import it from. */
  const modulesOf = new Map();
  for (const f of lazyResult.outputFiles.filter((o) => o.path.endsWith('.mjs'))) {
    const imports = [...f.text.matchAll(IMPORT)];
    if (imports.length !== f.text.split(`"${CORE}`).length - 1) throw new Error(`build: ${f.path}: uses the core other than by \`import { ... }\``);
    for (const [, list, module] of imports) for (const [name] of specifiers(list)) modulesOf.set(name, new Set(modulesOf.get(name)).add(module));
  }
  const exportName = (name, module) => (modulesOf.get(name).size === 1 ? name : `${name}$${[...modulesOf.get(name)].sort().indexOf(module) + 1}`);
  const byModule = new Map();
  for (const [name, modules] of modulesOf) for (const m of modules) byModule.set(m, [...(byModule.get(m) ?? []), name]);
  const entry = [...byModule].map(([m, names]) => `export { ${names.sort().map((n) => (exportName(n, m) === n ? n : `${n} as ${exportName(n, m)}`)).join(', ')} } from ${JSON.stringify(`./${m}`)};`);
  entry.push("import './src/bin/berth.ts';");
  const toEntry = (text) =>
    text.replace(IMPORT, (_, list, module) => {
      if (list === undefined) return 'import "../berth.mjs";';
      const names = specifiers(list).map(([name, local = name]) => (exportName(name, module) === local ? local : `${exportName(name, module)} as ${local}`));
      return `import { ${names.join(', ')} } from "../berth.mjs";`;
    });
  const lazyCount = lazy.size;
  const coreResult = await build({
    ...common,
    stdin: { contents: entry.join('\n'), resolveDir: root, sourcefile: 'berth-entry.js', loader: 'js' },
    outfile: 'dist/berth.mjs',
    metafile: true,
    banner: { js: '#!/usr/bin/env node\n' + common.banner.js },
    plugins: [lazyImports(true), commanderChildProcess],
  });

  // No module in both the core and a lazy file (two instances of it in one run). A lazy module can be
  // in other lazy files too (exec.ts in index.mjs and container.mjs): a run loads one verb's file.
  if (lazy.size !== lazyCount) throw new Error('build: the core imports lazily a module the lazy files do not');
  const coreInputs = new Set(usedInputs(coreResult, 'dist/berth.mjs'));
  for (const p of lazy.keys()) if (coreInputs.has(p)) throw new Error(`build: ${relative(root, p)} is imported lazily but bundled into dist/berth.mjs`);
  for (const output of Object.keys(lazyResult.metafile.outputs).filter((o) => o.endsWith('.mjs'))) {
    for (const p of usedInputs(lazyResult, output)) {
      if (coreInputs.has(p)) throw new Error(`build: ${relative(root, p)} is bundled into both dist/berth.mjs and ${output}`);
    }
  }

  await writeOutputs(lazyResult.outputFiles, toEntry);
  await writeOutputs(coreResult.outputFiles);
  const written = new Set(lazyResult.outputFiles.map((f) => f.path));
  for (const name of await readdir('dist/berth-lazy')) {
    if (!written.has(resolve('dist/berth-lazy', name))) await rm(join('dist/berth-lazy', name));
  }
}

/**
 * berthd is two files: dist/berthd.mjs, small, may re-execute the process with berthd's Node flags
 * before anything else is loaded (daemon/tune.ts), then imports dist/berthd-main.mjs, the daemon.
 * Both load in full at start-up, so a rebuild never pulls code from under a running berthd.
 */
const daemonMainAside = {
  name: 'berthd-main-aside',
  setup(b) {
    b.onResolve({ filter: /\/daemon\/main\.ts$/ }, (args) => (args.kind === 'dynamic-import' ? { path: './berthd-main.mjs', external: true } : undefined));
  },
};

await Promise.all([
  bundle({ entryPoints: ['src/bin/berthd.ts'], outfile: 'dist/berthd.mjs', plugins: [daemonMainAside] }),
  bundle({ entryPoints: ['src/daemon/main.ts'], outfile: 'dist/berthd-main.mjs' }),
  bundleCli(),
  bundle({ entryPoints: ['src/bin/busybox-image.ts'], outfile: 'dist/busybox-image.mjs' }),
]);
