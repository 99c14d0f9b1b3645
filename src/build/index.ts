export { Builder, BuildError, type BuildOptions, type BuildMessage } from './builder.ts';
export type { BuildBackend, BuildImage, RunStep, RanStep, StepCommit } from './backend.ts';
export { archiveKind, unpackArchive } from './add.ts';
export { resolveInRoot } from './scoped-path.ts';
export { peek } from './context.ts';
