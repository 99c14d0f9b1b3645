/** The closed set of error kinds. `server/errors.ts` is the only place that maps them to HTTP status. */
export type ErrorKind =
  | 'invalid-argument'
  | 'not-found'
  | 'conflict'
  | 'not-modified'
  | 'unauthorized'
  | 'forbidden'
  | 'unavailable'
  | 'not-implemented'
  | 'internal';

export class BerthError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'BerthError';
  }
}

export const notFound = (what: string, id: string): BerthError => new BerthError('not-found', `No such ${what}: ${id}`);
export const invalid = (message: string): BerthError => new BerthError('invalid-argument', message);
export const conflict = (message: string): BerthError => new BerthError('conflict', message);
export const internal = (message: string, cause?: unknown): BerthError =>
  new BerthError('internal', message, cause === undefined ? undefined : { cause });

/** The kind of an error: the first BerthError found walking `cause`, else 'internal'. */
export function kindOf(err: unknown): ErrorKind {
  let e: unknown = err;
  for (let i = 0; i < 16 && e; i++) {
    if (e instanceof BerthError) return e.kind;
    e = (e as { cause?: unknown }).cause;
  }
  return 'internal';
}

export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** Adds context and keeps the kind of what failed. */
export const wrap = (err: unknown, context: string): BerthError =>
  new BerthError(kindOf(err), `${context}: ${messageOf(err)}`, { cause: err });

/** True when `err` is a Node system error with this code (ENOENT, EEXIST, …). */
export function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}
