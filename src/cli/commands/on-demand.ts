// The module of each top-level verb, imported only when that verb runs: a run of `berth exec`
// loads (and, bundled, parses) exec's code alone. The full program (help, unknown verbs) is
// registered by index.ts, in docker's order; on-demand.test.ts checks that both agree.
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
// Not on demand: it finds berthd.mjs beside its own bundle file, which must be berth.mjs.
import { registerDaemon } from './daemon.ts';

export type Register = (program: Command, ctx: CliContext) => unknown;

/** Loads the registration of the top-level verb `name` (none has a top-level alias). */
export const VERB_LOADERS: ReadonlyMap<string, () => Promise<Register>> = new Map<string, () => Promise<Register>>([
  ['run', async () => (await import('./run.ts')).registerRun],
  ['exec', async () => (await import('./exec.ts')).registerExec],
  ['ps', async () => (await import('./ps.ts')).registerPs],
  ['pull', async () => (await import('./pull.ts')).registerPull],
  ['push', async () => (await import('./push.ts')).registerPush],
  ['build', async () => (await import('./build.ts')).registerBuild],
  ['images', async () => (await import('./images.ts')).registerImages],
  ['info', async () => (await import('./info.ts')).registerInfo],
  ['version', async () => (await import('./version.ts')).registerVersion],
  ['container', async () => (await import('./container.ts')).registerContainer],
  ['image', async () => (await import('./image.ts')).registerImage],
  ['network', async () => (await import('./network.ts')).registerNetwork],
  ['volume', async () => (await import('./volume.ts')).registerVolume],
  ['system', async () => (await import('./system.ts')).registerSystem],
  ['attach', async () => (await import('./attach.ts')).registerAttach],
  ['commit', async () => (await import('./commit.ts')).registerCommit],
  ['cp', async () => (await import('./cp.ts')).registerCp],
  ['create', async () => (await import('./create.ts')).registerCreate],
  ['diff', async () => (await import('./diff.ts')).registerDiff],
  ['events', async () => (await import('./events.ts')).registerEvents],
  ['export', async () => (await import('./export.ts')).registerExport],
  ['history', async () => (await import('./history.ts')).registerHistory],
  ['import', async () => (await import('./import.ts')).registerImport],
  ['inspect', async () => (await import('./inspect.ts')).registerInspect],
  ['kill', async () => (await import('./kill.ts')).registerKill],
  ['load', async () => (await import('./load.ts')).registerLoad],
  ['login', async () => (await import('./login.ts')).registerLogin],
  ['logout', async () => (await import('./login.ts')).registerLogout],
  ['logs', async () => (await import('./logs.ts')).registerLogs],
  ['pause', async () => (await import('./pause.ts')).registerPause],
  ['port', async () => (await import('./port.ts')).registerPort],
  ['rename', async () => (await import('./rename.ts')).registerRename],
  ['restart', async () => (await import('./restart.ts')).registerRestart],
  ['rm', async () => (await import('./rm.ts')).registerRm],
  ['rmi', async () => (await import('./rmi.ts')).registerRmi],
  ['search', async () => (await import('./search.ts')).registerSearch],
  ['save', async () => (await import('./save.ts')).registerSave],
  ['start', async () => (await import('./start.ts')).registerStart],
  ['stats', async () => (await import('./stats.ts')).registerStats],
  ['stop', async () => (await import('./stop.ts')).registerStop],
  ['tag', async () => (await import('./tag.ts')).registerTag],
  ['top', async () => (await import('./top.ts')).registerTop],
  ['unpause', async () => (await import('./unpause.ts')).registerUnpause],
  ['update', async () => (await import('./update.ts')).registerUpdate],
  ['wait', async () => (await import('./wait.ts')).registerWait],
  ['daemon', () => Promise.resolve(registerDaemon)],
]);
