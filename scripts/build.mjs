// Bundle each entry point into one ESM file with esbuild. Native modules stay external.
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
};

await Promise.all([
  build({ ...common, entryPoints: ['src/bin/berthd.ts'], outfile: 'dist/berthd.mjs' }),
  build({ ...common, entryPoints: ['src/bin/berth.ts'], outfile: 'dist/berth.mjs', banner: { js: '#!/usr/bin/env node\n' + common.banner.js } }),
  build({ ...common, entryPoints: ['src/bin/busybox-image.ts'], outfile: 'dist/busybox-image.mjs' }),
]);
