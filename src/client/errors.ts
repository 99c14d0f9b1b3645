import { BerthError, type ErrorKind } from '../common/index.ts';

const KIND_BY_STATUS: Record<number, ErrorKind> = {
  304: 'not-modified',
  400: 'invalid-argument',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  409: 'conflict',
  501: 'not-implemented',
  503: 'unavailable',
};

/** The error kind a daemon's HTTP status stands for (the inverse of server/errors.ts). */
export function kindOfStatus(status: number): ErrorKind {
  return KIND_BY_STATUS[status] ?? (status >= 400 && status < 500 ? 'invalid-argument' : 'internal');
}

/**
 * A request the daemon answered with an error status. `message` is the daemon's own `message`
 * (Docker's `{"message": …}` body), verbatim: the CLI prints it after `Error response from daemon: `.
 */
export class ClientError extends BerthError {
  constructor(
    readonly status: number,
    message: string,
    options?: ErrorOptions,
  ) {
    super(kindOfStatus(status), message, options);
    this.name = 'ClientError';
  }
}

/** The daemon could not be reached at all (no socket, refused, reset before a reply). */
export class ConnectionError extends BerthError {
  constructor(
    readonly host: string,
    options?: ErrorOptions,
  ) {
    // compat: the docker CLI's wording; scripts grep for it.
    super('unavailable', `Cannot connect to the Docker daemon at ${host}. Is the docker daemon running?`, options);
    this.name = 'ConnectionError';
  }
}

/** True when `err` came from the daemon (as opposed to a connection or client-side failure). */
export function isDaemonError(err: unknown): err is ClientError {
  return err instanceof ClientError;
}

/** Extracts Docker's `{"message": …}` from an error body; falls back to the raw text. */
export function messageFromBody(status: number, body: string): string {
  const text = body.trim();
  if (text.startsWith('{')) {
    try {
      const parsed = JSON.parse(text) as unknown;
      if (typeof parsed === 'object' && parsed !== null) {
        const m = (parsed as { message?: unknown }).message;
        // compat: the docker client trims the daemon's message (strings.TrimSpace)
        if (typeof m === 'string') return m.trim();
      }
    } catch {
      // not JSON after all: use the text
    }
  }
  if (text) return text;
  return `request returned ${status} ${statusText(status)}`;
}

function statusText(status: number): string {
  const texts: Record<number, string> = {
    400: 'Bad Request',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'Not Found',
    409: 'Conflict',
    500: 'Internal Server Error',
    501: 'Not Implemented',
    503: 'Service Unavailable',
  };
  return texts[status] ?? '';
}
