import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyChanges } from './changes.ts';

test('applyChanges: the --change instructions docker commit and import accept', () => {
  const c = applyChanges({ Env: ['A=1'] }, [
    'CMD ["echo", "hi"]',
    'ENTRYPOINT /bin/sh -c',
    'ENV A=2 B="x y"',
    'ENV C plain value',
    'EXPOSE 80 53/udp',
    'LABEL k=v',
    'USER nobody',
    'WORKDIR /w',
    'STOPSIGNAL SIGINT',
    'VOLUME ["/data"]',
  ]);
  assert.deepEqual(c.Cmd, ['echo', 'hi']);
  assert.deepEqual(c.Entrypoint, ['/bin/sh', '-c', '/bin/sh -c']);
  assert.deepEqual(c.Env, ['A=2', 'B=x y', 'C=plain value']);
  assert.deepEqual(c.ExposedPorts, { '80/tcp': {}, '53/udp': {} });
  assert.deepEqual(c.Labels, { k: 'v' });
  assert.equal(c.User, 'nobody');
  assert.equal(c.WorkingDir, '/w');
  assert.equal(c.StopSignal, 'SIGINT');
  assert.deepEqual(c.Volumes, { '/data': {} });
});

test('applyChanges: HEALTHCHECK, as docker commit --change takes it', () => {
  assert.deepEqual(applyChanges({}, ['HEALTHCHECK --interval=200ms --retries=2 CMD test -e /tmp/ok']).Healthcheck, { Test: ['CMD-SHELL', 'test -e /tmp/ok'], Interval: 200_000_000, Retries: 2 });
  assert.deepEqual(applyChanges({ Healthcheck: { Test: ['CMD', 'true'] } }, ['HEALTHCHECK NONE']).Healthcheck, { Test: ['NONE'] });
  assert.throws(() => applyChanges({}, ['HEALTHCHECK NONE x']), /HEALTHCHECK NONE takes no arguments/);
});

test('applyChanges refuses instructions docker refuses', () => {
  assert.throws(() => applyChanges({}, ['RUN echo']), /RUN is not a valid change command/);
  assert.throws(() => applyChanges({}, ['FROM busybox']), /FROM is not a valid change command/);
});
