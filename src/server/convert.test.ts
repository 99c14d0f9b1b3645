import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerRecord, ContainerState } from '../engine/index.ts';
import { healthStatusOf, healthcheckFrom, statusText, toContainerInspect } from './convert.ts';

const S = 1_000_000_000;
const started = '2024-01-01T00:00:00.000Z';
const now = Date.parse(started) + 5000;

function record(state: Partial<ContainerState>, healthcheck?: ContainerRecord['healthcheck']): ContainerRecord {
  return {
    id: 'a'.repeat(64), name: 'c', created: started, imageId: `sha256:${'b'.repeat(64)}`, imageRef: 'busybox', path: 'sleep', args: ['1'],
    entrypoint: [], cmd: ['sleep', '1'], exposedPorts: [], volumes: [], env: [], workingDir: '/', user: '', hostname: 'aaaaaaaaaaaa', labels: {},
    stopSignal: 'SIGTERM', restartCount: 0, mountPoints: [], snapshot: 'x', logPath: '', hostsPath: '', resolvConfPath: '', hostnamePath: '', cgroupsPath: '',
    ...(healthcheck ? { healthcheck } : {}),
    state: { status: 'running', pid: 1, exitCode: 0, error: '', oomKilled: false, startedAt: started, finishedAt: '0001-01-01T00:00:00Z', manuallyStopped: false, ...state },
    spec: { stopTimeout: null, stopSignal: '', domainname: '', attachStdin: false, attachStdout: false, attachStderr: false, tty: false, openStdin: false, stdinOnce: false, workingDir: '', host: { binds: [], mounts: [], tmpfs: {}, volumesFrom: [], networkMode: 'default', portBindings: {}, restartPolicy: { name: 'no', maximumRetryCount: 0 }, autoRemove: false, capAdd: [], capDrop: [], privileged: false, securityOpt: [], readonlyRootfs: false, init: false, resources: { memory: 0, memorySwap: 0, memoryReservation: 0, nanoCpus: 0, cpuShares: 0, cpuQuota: 0, cpuPeriod: 0, cpusetCpus: '', cpusetMems: '', pidsLimit: 0, blkioWeight: 0, oomKillDisable: false, ulimits: [] }, shmSize: 0, dns: [], dnsSearch: [], dnsOptions: [], extraHosts: [], links: [], pidMode: '', ipcMode: '', utsMode: '', sysctls: {}, groupAdd: [], logConfig: { type: 'json-file', config: {} }, consoleSize: null } } as unknown as ContainerRecord['spec'],
  };
}

describe('health in the wire views', () => {
  const hc = { test: ['CMD-SHELL', 'test -e /tmp/ok'], interval: S / 5, timeout: 0, startPeriod: 0, startInterval: 0, retries: 2 };
  const log = [{ start: started, end: started, exitCode: 1, output: '' }];

  it('ps Status: (health: starting), (healthy), (unhealthy); not while paused or stopped', () => {
    assert.equal(statusText(record({}), now), 'Up 5 seconds');
    assert.equal(statusText(record({ health: { status: 'starting', failingStreak: 0, log: [] } }, hc), now), 'Up 5 seconds (health: starting)');
    assert.equal(statusText(record({ health: { status: 'healthy', failingStreak: 0, log } }, hc), now), 'Up 5 seconds (healthy)');
    assert.equal(statusText(record({ health: { status: 'unhealthy', failingStreak: 2, log } }, hc), now), 'Up 5 seconds (unhealthy)');
    assert.equal(statusText(record({ status: 'paused', health: { status: 'healthy', failingStreak: 0, log } }, hc), now), 'Up 5 seconds (Paused)');
    assert.equal(statusText(record({ status: 'exited', finishedAt: started, health: { status: 'healthy', failingStreak: 0, log } }, hc), now), 'Exited (0) 5 seconds ago');
  });

  it('inspect: State.Health only once probed, Config.Healthcheck without zero fields', () => {
    const none = toContainerInspect(record({}), 'overlay2');
    assert.equal('Health' in (none.State ?? {}), false);
    assert.equal('Healthcheck' in (none.Config ?? {}), false);
    const r = toContainerInspect(record({ health: { status: 'unhealthy', failingStreak: 2, log } }, hc), 'overlay2');
    assert.deepEqual(r.State?.Health, { Status: 'unhealthy', FailingStreak: 2, Log: [{ Start: started, End: started, ExitCode: 1, Output: '' }] });
    assert.deepEqual(r.Config?.Healthcheck, { Test: ['CMD-SHELL', 'test -e /tmp/ok'], Interval: 200_000_000, Retries: 2 });
    assert.deepEqual(Object.keys(r.Config ?? {}).slice(Object.keys(r.Config ?? {}).indexOf('Cmd'), Object.keys(r.Config ?? {}).indexOf('Cmd') + 3), ['Cmd', 'Healthcheck', 'Image']);
  });

  it('ps --filter health: the status, `none` without State.Health', () => {
    assert.equal(healthStatusOf(record({})), 'none');
    assert.equal(healthStatusOf(record({ health: { status: 'starting', failingStreak: 0, log: [] } }, hc)), 'starting');
  });

  it('reads Config.Healthcheck of a create body', () => {
    assert.equal(healthcheckFrom(undefined), null);
    assert.deepEqual(healthcheckFrom({ Test: ['NONE'] }), { test: ['NONE'], interval: 0, timeout: 0, startPeriod: 0, startInterval: 0, retries: 0 });
    assert.deepEqual(healthcheckFrom({ Interval: 60 * S, Retries: 3 }), { test: [], interval: 60 * S, timeout: 0, startPeriod: 0, startInterval: 0, retries: 3 });
    assert.throws(() => healthcheckFrom({ Interval: 1.5 }), { message: 'invalid Healthcheck.Interval: expected an integer' });
    // compat: like moby's StrSlice, a string is a list of one
    assert.deepEqual(healthcheckFrom({ Test: 'CMD-SHELL' })?.test, ['CMD-SHELL']);
    assert.throws(() => healthcheckFrom({ Test: [1] }), { message: 'invalid Healthcheck.Test: expected a list of strings' });
  });
});
