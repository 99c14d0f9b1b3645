// Health checks against berthd with the real docker CLI: the probe cycle in inspect, ps, its
// filter and events; the image's healthcheck and --no-healthcheck; timeouts; a berthd restart.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestDaemon, daemonWithBusybox, randomSuffix, skipReason } from '../helpers/env.ts';

const skip = skipReason();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Health {
  Status: string;
  FailingStreak: number;
  Log: { Start: string; End: string; ExitCode: number; Output: string }[];
}

describe('health checks', { skip }, () => {
  const d = new TestDaemon();
  before(() => daemonWithBusybox(d));
  after(() => d.cleanup());

  const ok = async (args: string[]): Promise<string> => {
    const r = await d.docker(args);
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };
  const health = async (name: string): Promise<Health | null> => JSON.parse(await ok(['inspect', '-f', '{{json .State.Health}}', name])) as Health | null;
  const waitFor = async (name: string, status: string, ms = 6000): Promise<Health> => {
    const t0 = Date.now();
    for (;;) {
      const h = await health(name);
      if (h?.Status === status) return h;
      if (Date.now() - t0 > ms) assert.fail(`${name} never became ${status}: ${JSON.stringify(h)}`);
      await sleep(50);
    }
  };
  const psNames = async (filter: string): Promise<string[]> => (await ok(['ps', '-a', '--filter', filter, '--format', '{{.Names}}'])).split('\n').filter(Boolean);
  const status = (name: string): Promise<string> => ok(['ps', '-a', '--filter', `name=^${name}$`, '--format', '{{.Status}}']);

  test('starting → unhealthy → healthy in inspect, ps, --filter health and events; paused and stopped containers are not probed', async () => {
    const name = `hc-${randomSuffix()}`;
    const since = (Date.now() / 1000).toFixed(3);
    // failures inside the start period do not count: it stays `starting` for a second whatever the timing
    await ok(['run', '-d', '--name', name, '--health-cmd', 'test -e /tmp/ok', '--health-interval', '200ms', '--health-retries', '2',
      '--health-start-period', '1s', '--health-start-interval', '100ms', 'busybox', 'sleep', '1000']);
    assert.equal((await health(name))?.Status, 'starting');
    assert.match(await status(name), /^Up .* \(health: starting\)$/);
    assert.ok((await psNames('health=starting')).includes(name));
    assert.deepEqual(JSON.parse(await ok(['inspect', '-f', '{{json .Config.Healthcheck}}', name])), {
      Test: ['CMD-SHELL', 'test -e /tmp/ok'], Interval: 200_000_000, StartPeriod: 1_000_000_000, StartInterval: 100_000_000, Retries: 2,
    });

    const sick = await waitFor(name, 'unhealthy');
    assert.ok(sick.FailingStreak >= 2, JSON.stringify(sick));
    assert.ok(sick.Log.length >= 2 && sick.Log.length <= 5, JSON.stringify(sick));
    for (const l of sick.Log) {
      assert.equal(l.ExitCode, 1);
      assert.ok(Date.parse(l.End) >= Date.parse(l.Start));
    }
    assert.match(await status(name), /^Up .* \(unhealthy\)$/);
    assert.ok((await psNames('health=unhealthy')).includes(name));
    assert.ok(!(await psNames('health=healthy')).includes(name));
    // finished probes leave no exec behind
    const execs = JSON.parse(await ok(['inspect', '-f', '{{json .ExecIDs}}', name])) as string[] | null;
    assert.ok((execs ?? []).length <= 1, `ExecIDs: ${JSON.stringify(execs)}`);

    await ok(['exec', name, 'touch', '/tmp/ok']);
    const well = await waitFor(name, 'healthy', 3000);
    assert.equal(well.FailingStreak, 0);
    assert.equal(well.Log.at(-1)?.ExitCode, 0);
    assert.match(await status(name), /^Up .* \(healthy\)$/);
    assert.ok((await psNames('health=healthy')).includes(name));
    assert.ok(!(await psNames('health=none')).includes(name));

    const actions = (await ok(['events', '--since', since, '--until', (Date.now() / 1000 + 0.2).toFixed(3), '--filter', `container=${name}`, '--format', '{{.Action}}'])).split('\n');
    const unhealthyAt = actions.indexOf('health_status: unhealthy');
    assert.ok(unhealthyAt >= 0 && actions.indexOf('health_status: healthy') > unhealthyAt, actions.join('\n'));
    for (const a of ['exec_create: /bin/sh -c test -e /tmp/ok', 'exec_start: /bin/sh -c test -e /tmp/ok', 'exec_die']) assert.ok(actions.includes(a), `${a} in ${actions.join('\n')}`);

    await ok(['pause', name]);
    const before = (await health(name))!.Log.at(-1)!.End;
    await sleep(600);
    assert.equal((await health(name))!.Log.at(-1)!.End, before, 'a paused container gets no probes');
    assert.match(await status(name), /\(Paused\)$/);
    await ok(['unpause', name]);
    await ok(['stop', '-t', '0', name]);
    const last = (await health(name))!;
    assert.equal(last.Status, 'healthy', 'the last status stays after a stop');
    assert.equal(await ok(['inspect', '-f', '{{json .ExecIDs}}', name]), 'null');
    await sleep(400);
    assert.deepEqual((await health(name))!.Log, last.Log, 'a stopped container gets no probes');
    assert.match(await status(name), /^Exited/);
  });

  test("an image's HEALTHCHECK (docker commit --change) applies, merges with the container's, and --no-healthcheck disables it", async () => {
    const s = randomSuffix();
    const image = `hcimg-${s}:1`;
    await ok(['create', '--name', `base-${s}`, 'busybox']);
    await ok(['commit', '--change', 'HEALTHCHECK --interval=100ms --retries=1 CMD ["true"]', `base-${s}`, image]);
    assert.deepEqual(JSON.parse(await ok(['image', 'inspect', '-f', '{{json .Config.Healthcheck}}', image])), { Test: ['CMD', 'true'], Interval: 100_000_000, Retries: 1 });

    await ok(['run', '-d', '--name', `off-${s}`, '--no-healthcheck', image, 'sleep', '100']);
    await ok(['run', '-d', '--name', `on-${s}`, image, 'sleep', '100']);
    await ok(['run', '-d', '--name', `mine-${s}`, '--health-cmd', 'exit 3', image, 'sleep', '100']);
    assert.deepEqual(JSON.parse(await ok(['inspect', '-f', '{{json .Config.Healthcheck}}', `off-${s}`])), { Test: ['NONE'], Interval: 100_000_000, Retries: 1 });
    assert.deepEqual(JSON.parse(await ok(['inspect', '-f', '{{json .Config.Healthcheck}}', `mine-${s}`])), { Test: ['CMD-SHELL', 'exit 3'], Interval: 100_000_000, Retries: 1 });

    await waitFor(`on-${s}`, 'healthy');
    const mine = await waitFor(`mine-${s}`, 'unhealthy');
    assert.equal(mine.Log[0]?.ExitCode, 3);
    assert.equal(await health(`off-${s}`), null);
    assert.match(await status(`off-${s}`), /^Up [^(]*$/);
    assert.ok((await psNames('health=none')).includes(`off-${s}`));
    assert.ok(!(await psNames('health=none')).includes(`on-${s}`));
    await ok(['rm', '-f', `off-${s}`, `on-${s}`, `mine-${s}`, `base-${s}`]);
    await ok(['rmi', image]);
  });

  test('a probe past its timeout is killed and counts as a failure', async () => {
    const name = `slow-${randomSuffix()}`;
    // through berth's own flags this time
    const r = await d.berth(['run', '-d', '--name', name, '--health-cmd', 'echo started; sleep 5', '--health-timeout', '200ms', '--health-interval', '100ms', '--health-retries', '1', 'busybox', 'sleep', '100']);
    assert.equal(r.code, 0, r.stderr);
    const h = await waitFor(name, 'unhealthy');
    const first = h.Log[0]!;
    assert.equal(first.ExitCode, -1);
    assert.equal(first.Output, 'Health check exceeded timeout (200ms): started\n');
    assert.ok(Date.parse(first.End) - Date.parse(first.Start) < 3000, 'killed at the timeout, not after the command ran');
    await ok(['rm', '-f', name]);
  });

  test('after a berthd restart running containers keep their health and are probed again', async () => {
    const name = `kept-${randomSuffix()}`;
    await ok(['run', '-d', '--name', name, '--health-cmd', 'true', '--health-interval', '100ms', 'busybox', 'sleep', '100']);
    await waitFor(name, 'healthy');
    await d.stop();
    const restarted = Date.now();
    await d.start();
    const kept = (await health(name))!;
    assert.equal(kept.Status, 'healthy');
    const t0 = Date.now();
    for (;;) {
      const h = (await health(name))!;
      if (h.Log.some((l) => Date.parse(l.Start) >= restarted)) break;
      if (Date.now() - t0 > 5000) assert.fail(`no probe after the restart: ${JSON.stringify(h)}`);
      await sleep(50);
    }
    assert.match(await status(name), /\(healthy\)$/);
    await ok(['rm', '-f', name]);
  });
});
