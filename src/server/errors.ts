import type { ServerResponse } from 'node:http';
import { kindOf, messageOf, type ErrorKind, type Logger } from '../common/index.ts';

// The only place where error kinds become HTTP status codes.
const STATUS: Record<ErrorKind, number> = {
  'invalid-argument': 400, 'not-found': 404, conflict: 409, 'not-modified': 304, unauthorized: 401,
  forbidden: 403, unavailable: 503, 'not-implemented': 501, internal: 500,
};

export const statusOf = (err: unknown): number => STATUS[kindOf(err)];

export function sendError(res: ServerResponse, err: unknown, log: Logger): void {
  const status = statusOf(err);
  if (status >= 500) log.error({ err }, 'request failed');
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (status === 304) {
    res.writeHead(304).end();
    return;
  }
  const body = JSON.stringify({ message: messageOf(err) });
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }).end(body);
}
