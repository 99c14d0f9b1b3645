/**
 * Ends the command with `status`, printing `message` (if any) to stderr as is. Docker's codes:
 * 125 for errors of the CLI or daemon in run/create and for bad flags, 126/127 when the command
 * in the container cannot be run, 1 for other failures, else the container's own exit code.
 */
export class StatusError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'StatusError';
  }
}

/**
 * A bad flag value or flag combination, found while parsing. main prints it with the verb's
 * usage line and exits 125, as the docker CLI does for flag errors.
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** `invalid argument "x" for "-m, --memory" flag: <reason>` — pflag's wording. */
export function invalidFlag(value: string, flag: string, reason: string): UsageError {
  return new UsageError(`invalid argument ${JSON.stringify(value)} for ${JSON.stringify(flag)} flag: ${reason}`);
}
