export * from './engine-client.ts';
export * from './errors.ts';
export * from './streams.ts';
export * from './transport.ts';
// For tests of client users (cli/): a recording fake daemon on a temporary unix socket.
export { FakeDaemon, type RecordedRequest, type Reply, type Route } from './fake-daemon.ts';
