// Imports point down only (see ../shared/STYLE.md). Each zone lists the folders a layer may import from;
// the lint message names them, so a violation says what is allowed instead.
import tseslint from 'typescript-eslint';

const LAYERS = {
  common: [],
  api: [],
  sys: [],
  oci: ['common'],
  store: ['common', 'oci', 'sys'],
  storage: ['common', 'oci', 'sys'],
  runtime: ['common', 'oci', 'sys'],
  network: ['common', 'oci', 'sys'],
  registry: ['common', 'oci', 'sys', 'store'],
  build: ['common', 'oci', 'sys', 'store', 'storage', 'runtime', 'network', 'registry'],
  engine: ['common', 'oci', 'sys', 'store', 'storage', 'runtime', 'network', 'registry', 'build'],
  server: ['common', 'api', 'engine'],
  client: ['common', 'api'],
  cli: ['common', 'api', 'client'],
  daemon: ['common', 'api', 'oci', 'sys', 'store', 'storage', 'runtime', 'network', 'registry', 'build', 'engine', 'server'],
};
const ALL = Object.keys(LAYERS);

function zone(layer) {
  const allowed = LAYERS[layer];
  const forbidden = ALL.filter((l) => l !== layer && !allowed.includes(l));
  const message = `src/${layer} may import only from: ${allowed.length ? allowed.map((l) => `src/${l}`).join(', ') : 'nothing of ours'} (imports point down; see STYLE.md)`;
  const patterns = forbidden.map((l) => ({ group: [`../${l}`, `../${l}/*`, `../../${l}`, `../../${l}/*`, `../../../${l}/*`], message }));
  // Another layer is imported only through its index.ts.
  if (allowed.length) {
    patterns.push({ group: allowed.flatMap((l) => [`../${l}/*`, `../../${l}/*`, `!../${l}/index.ts`, `!../../${l}/index.ts`]), message: 'import another folder only through its index.ts' });
  }
  const rules = { 'no-restricted-imports': ['error', { patterns }] };
  if (layer === 'engine') rules['no-restricted-imports'][1].paths = [{ name: 'node:http', message: 'engine never imports node:http' }];
  return { files: [`src/${layer}/**/*.ts`], ignores: ['**/*.test.ts'], rules };
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**'] },
  { files: ['src/**/*.ts'], languageOptions: { parser: tseslint.parser }, plugins: { '@typescript-eslint': tseslint.plugin } },
  ...ALL.map(zone),
);
