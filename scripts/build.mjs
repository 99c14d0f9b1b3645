// Bundle each entry point into one ESM file with esbuild (berthd: two, see below). Native modules stay external.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
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

async function bundle(options) {
  const result = await build({ ...common, ...options });
  for (const f of result.outputFiles) {
    await mkdir(dirname(f.path), { recursive: true });
    await writeFile(f.path, f.path.endsWith('.mjs') ? asciiOnly(f.path, f.text) : f.contents);
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
  bundle({ entryPoints: ['src/bin/berth.ts'], outfile: 'dist/berth.mjs', banner: { js: '#!/usr/bin/env node\n' + common.banner.js } }),
  bundle({ entryPoints: ['src/bin/busybox-image.ts'], outfile: 'dist/busybox-image.mjs' }),
]);
