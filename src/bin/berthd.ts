import { reexecTuned } from '../daemon/tune.ts';

// First, before the daemon's modules are even loaded: the process may be replaced (same pid) by one
// running with berthd's Node flags (daemon/tune.ts). `--check-store` is a one-shot: no need.
if (process.argv[2] !== '--check-store') reexecTuned();
const { main } = await import('../daemon/main.ts');
void main(process.argv.slice(2));
