import { DEFAULTS, DEFAULT_CONFIG_FILE, parseArgs, readConfigFile, type DaemonConfig } from './config.ts';
import { checkStore } from './check.ts';
import { startDaemon } from './wire.ts';

/** berthd entry point (also `berth daemon`). */
export async function main(argv: string[]): Promise<void> {
  if (argv[0] === '--check-store') {
    // offline consistency check of a data root (berthd must not be running on it)
    const root = argv[1] === '--data-root' ? argv[2] : DEFAULTS.dataRoot;
    const problems = await checkStore(root ?? DEFAULTS.dataRoot);
    for (const p of problems) process.stderr.write(`${p}\n`);
    process.stdout.write(problems.length ? `store is inconsistent: ${problems.length} problem(s)\n` : 'store is consistent\n');
    process.exit(problems.length ? 1 : 0);
  }
  let parsed;
  try {
    parsed = parseArgs(argv);
  } catch (err) {
    process.stderr.write(`berthd: ${(err as Error).message}\n`);
    process.exit(125);
  }
  const cfg: DaemonConfig = parsed.config;
  try {
    // compat: dockerd reads its default daemon.json when present, and a named one must exist
    const file = await readConfigFile(parsed.configFile ?? DEFAULT_CONFIG_FILE, !parsed.configFile);
    for (const [k, v] of Object.entries(file) as [keyof DaemonConfig, never][]) if (!parsed.set.has(k)) cfg[k] = v;
  } catch (err) {
    process.stderr.write(`berthd: ${(err as Error).message}\n`);
    process.exit(125);
  }
  const d = await startDaemon(cfg).catch((err: unknown) => {
    process.stderr.write(`berthd: failed to start: ${(err as Error).message}\n`);
    process.exit(1);
  });
  let closing = false;
  const stop = (sig: string): void => {
    if (closing) return;
    closing = true;
    d.log.info({ signal: sig }, 'shutting down; containers keep running');
    void d.close().then(() => process.exit(0));
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
