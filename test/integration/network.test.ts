// The default bridge and published ports, with real traffic: only to loopback, to this daemon's
// own bridge address and to containers on it (each TestDaemon has its own bridge and 10.213.x.0/24).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { get, freePort } from '../helpers/http.ts';
import { createServer } from 'node:net';
import { TestDaemon, daemonWithBusybox, skipReason, randomSuffix } from '../helpers/env.ts';

/** The IPv4 address of the interface that carries the default route, if there is one. */
function primaryAddress(): string | undefined {
  const dev = /\bdev (\S+)/.exec(spawnSync('ip', ['-4', 'route', 'show', 'default'], { encoding: 'utf8' }).stdout ?? '')?.[1];
  if (!dev) return undefined;
  return /inet (\d+\.\d+\.\d+\.\d+)/.exec(spawnSync('ip', ['-4', '-o', 'addr', 'show', 'dev', dev, 'scope', 'global'], { encoding: 'utf8' }).stdout ?? '')?.[1];
}

function networkSkipReason(): string | undefined {
  const base = skipReason();
  if (base) return base;
  for (const bin of ['ip', 'iptables', 'iptables-restore', 'nsenter']) {
    if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0) return `needs ${bin} (apt-get install iptables iproute2 util-linux)`;
  }
  return undefined;
}

const skip = networkSkipReason();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const HTTPD = (page: string): string[] => ['sh', '-c', `mkdir -p /www && echo ${page} > /www/index.html && exec httpd -f -p 80 -h /www`];



describe('bridge networking and published ports', { skip }, () => {
  const d = new TestDaemon();
  before(() => daemonWithBusybox(d));
  after(() => d.cleanup());

  const docker = async (args: string[]): Promise<string> => {
    const r = await d.docker(args);
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };
  const ipOf = (name: string): Promise<string> => docker(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', name]);
  const prefix = (): string => d.subnet.replace(/0\/24$/, '');
  const natRules = (): string[] => (spawnSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' }).stdout ?? '').split('\n').filter((l) => l.includes('DNAT') && l.includes(`BERTH-${d.bridge}`));
  const veths = (): string[] => (existsSync(`/sys/class/net/${d.bridge}/brif`) ? readdirSync(`/sys/class/net/${d.bridge}/brif`) : []);

  test('a container gets eth0 with an address in the daemon\'s subnet, a default route and /etc/hosts, and reaches the gateway', async () => {
    const out = await docker(['run', '--rm', '--hostname', 'box', 'busybox', 'sh', '-c', 'ip -4 addr show eth0; ip route; grep box /etc/hosts; cat /sys/class/net/eth0/mtu; ping -c1 -W2 ' + d.gateway]);
    const ip = /inet (\d+\.\d+\.\d+\.\d+)\/24/.exec(out)?.[1] ?? '';
    assert.ok(ip.startsWith(prefix()), `${ip} in ${d.subnet}: ${out}`);
    assert.match(out, new RegExp(`default via ${d.gateway.replace(/\./g, '\\.')} dev eth0`));
    assert.match(out, new RegExp(`^${ip.replace(/\./g, '\\.')}\\tbox$`, 'm'));
    assert.match(out, /^1500$/m);
    assert.match(out, /1 packets received/);
  });

  test('two containers reach each other by address; inspect shows the endpoint as docker does', async () => {
    const a = `a-${randomSuffix()}`;
    await docker(['run', '-d', '--name', a, 'busybox', 'sleep', '60']);
    const ipA = await ipOf(a);
    const fmt = '{{.NetworkSettings.Gateway}} {{.NetworkSettings.IPPrefixLen}} {{.NetworkSettings.MacAddress}} {{.NetworkSettings.Networks.bridge.IPAddress}} {{.NetworkSettings.Networks.bridge.Gateway}}';
    const [gw, len, mac, netIp, netGw] = (await docker(['inspect', '-f', fmt, a])).split(' ');
    assert.equal(gw, d.gateway);
    assert.equal(len, '24');
    assert.equal(netIp, ipA);
    assert.equal(netGw, d.gateway);
    assert.equal(mac, `02:42:${ipA.split('.').map((x) => Number(x).toString(16).padStart(2, '0')).join(':')}`);
    const out = await docker(['run', '--rm', 'busybox', 'ping', '-c1', '-W2', ipA]);
    assert.match(out, /1 packets received/);
    const net = JSON.parse(await docker(['network', 'inspect', 'bridge'])) as { IPAM: { Config: { Subnet: string }[] }; Containers: Record<string, { IPv4Address: string }> }[];
    assert.equal(net[0]!.IPAM.Config[0]!.Subnet, d.subnet);
    assert.ok(Object.values(net[0]!.Containers).some((c) => c.IPv4Address === `${ipA}/24`));
    await docker(['rm', '-f', a]);
  });

  test('-p in every form answers on 127.0.0.1, the bridge\'s address and the host\'s primary address; port, ps and inspect show it', async () => {
    const [p1, p2] = [await freePort(), await freePort()];
    const web = `web-${randomSuffix()}`;
    await docker(['run', '-d', '--name', web, '-p', `${p1}:80`, '-p', '80', '-p', '127.0.0.1::80', '-p', `127.0.0.1:${p2}:80`, '-p', '5353:53/udp', 'busybox', ...HTTPD('page')]);
    assert.equal(await get('127.0.0.1', p1), 'page');
    assert.equal(await get(d.gateway, p1), 'page', 'the host\'s bridge-facing address');
    // the host's primary address (of the default route's interface): local delivery, never leaves the host
    const primary = primaryAddress();
    if (primary) assert.equal(await get(primary, p1), 'page', `the host's primary address ${primary}`);
    assert.equal(await get('127.0.0.1', p2), 'page');
    const lines = (await docker(['port', web])).split('\n');
    const random = lines.find((l) => l.startsWith('80/tcp -> 0.0.0.0:') && !l.endsWith(`:${p1}`));
    const localRandom = lines.find((l) => l.startsWith('80/tcp -> 127.0.0.1:') && !l.endsWith(`:${p2}`));
    assert.ok(random && localRandom, lines.join('\n'));
    const rp = Number(random.split(':').pop());
    assert.ok(rp >= 32768 && rp <= 60999, `ephemeral: ${rp}`);
    assert.equal(await get('127.0.0.1', rp), 'page');
    assert.equal(await get('127.0.0.1', Number(localRandom.split(':').pop())), 'page');
    assert.ok(lines.includes('53/udp -> 0.0.0.0:5353'), lines.join('\n'));
    const ps = await docker(['ps', '--filter', `name=${web}`, '--format', '{{.Ports}}']);
    assert.match(ps, new RegExp(`0\\.0\\.0\\.0:${p1}->80/tcp`));
    assert.match(ps, /0\.0\.0\.0:5353->53\/udp/);
    const ports = JSON.parse(await docker(['inspect', '-f', '{{json .NetworkSettings.Ports}}', web])) as Record<string, { HostIp: string; HostPort: string }[]>;
    assert.ok(ports['80/tcp']!.some((b) => b.HostIp === '127.0.0.1' && b.HostPort === String(p2)));
    // a container reaches a published port through the bridge's address as well
    const viaGw = await docker(['run', '--rm', 'busybox', 'sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w3 ${d.gateway} ${p1} | tail -1`]);
    assert.equal(viaGw, 'page');
    // a port that is taken: a clear error, before the container runs
    const clash = await d.docker(['run', '-d', '--name', `clash-${randomSuffix()}`, '-p', `${p1}:80`, 'busybox', 'true']);
    assert.notEqual(clash.code, 0);
    assert.match(clash.stderr, new RegExp(`Bind for 0\\.0\\.0\\.0:${p1} failed: port is already allocated`));
    const host = createServer();
    const p3 = await freePort();
    await new Promise<void>((r) => host.listen(p3, '0.0.0.0', () => r()));
    const busy = await d.docker(['run', '-d', '-p', `${p3}:80`, 'busybox', 'true']);
    host.close();
    assert.notEqual(busy.code, 0);
    assert.match(busy.stderr, /address already in use/);
    // rm takes the rules and the veth with it
    assert.ok(natRules().length >= 5);
    await docker(['rm', '-f', web]);
    await sleep(200);
    assert.deepEqual(natRules(), []);
    assert.deepEqual(veths(), []);
    assert.match(await get('127.0.0.1', p1, 1), /unreachable/);
  });

  test('-P publishes the image\'s EXPOSEd ports on ephemeral host ports', async () => {
    const base = `base-${randomSuffix()}`;
    await docker(['create', '--name', base, 'busybox', 'true']);
    const img = `exposer:${randomSuffix()}`;
    await docker(['commit', '--change', 'EXPOSE 80', '--change', `CMD ${JSON.stringify(HTTPD('exposed'))}`, base, img]);
    const name = `pub-${randomSuffix()}`;
    await docker(['run', '-d', '--name', name, '-P', img]);
    const line = await docker(['port', name, '80']);
    const port = Number(line.split('\n')[0]!.split(':').pop());
    assert.ok(port >= 32768, line);
    assert.equal(await get('127.0.0.1', port), 'exposed');
    await docker(['rm', '-f', name, base]);
    await docker(['rmi', img]);
  });

  test('--net container:web reaches web on 127.0.0.1', async () => {
    const web = `web${randomSuffix()}`;
    await docker(['run', '-d', '--name', web, 'busybox', ...HTTPD('shared-stack')]);
    try {
      let out = '';
      for (let i = 0; i < 20 && !out.includes('shared-stack'); i++) {
        out = await docker(['run', '--rm', '--net', `container:${web}`, 'busybox', 'sh', '-c', 'wget -qO- http://127.0.0.1/ 2>/dev/null || true']);
        if (!out.includes('shared-stack')) await sleep(100);
      }
      assert.equal(out.trim(), 'shared-stack');
    } finally {
      await docker(['rm', '-f', web]);
    }
  });

  test('--link writes the alias to /etc/hosts and sets docker\'s link variables', async () => {
    const db = `db-${randomSuffix()}`;
    await docker(['run', '-d', '--name', db, '--expose', '5432', '-e', 'SECRET=x', 'busybox', 'sleep', '60']);
    const ip = await ipOf(db);
    const out = await docker(['run', '--rm', '--link', `${db}:store`, 'busybox', 'sh', '-c', 'grep store /etc/hosts; env | grep ^STORE_ | sort; ping -c1 -W2 store']);
    assert.match(out, new RegExp(`^${ip.replace(/\./g, '\\.')}\\tstore [0-9a-f]{12} ${db}$`, 'm'));
    assert.match(out, new RegExp(`^STORE_PORT_5432_TCP_ADDR=${ip.replace(/\./g, '\\.')}$`, 'm'));
    assert.match(out, /^STORE_ENV_SECRET=x$/m);
    assert.match(out, /1 packets received/);
    await docker(['rm', '-f', db]);
  });

  test('kill -9 of berthd: running containers keep address and ports, dead ones lose them, nothing is reused or left', async () => {
    const p = await freePort();
    const keep = `keep-${randomSuffix()}`;
    const die = `die-${randomSuffix()}`;
    await docker(['run', '-d', '--name', keep, '-p', `${p}:80`, 'busybox', ...HTTPD('kept')]);
    await docker(['run', '-d', '--name', die, '-p', '80', 'busybox', 'sleep', '600']);
    const keepIp = await ipOf(keep);
    const diePid = await docker(['inspect', '-f', '{{.State.Pid}}', die]);
    assert.equal(await get('127.0.0.1', p), 'kept');
    await d.kill9();
    process.kill(Number(diePid), 'SIGKILL');
    await sleep(300);
    await d.start();
    assert.equal(await get('127.0.0.1', p), 'kept', 'the survivor still answers');
    assert.equal(natRules().length, 1, natRules().join('\n'));
    assert.equal(veths().length, 1);
    // the survivor's address is still taken: a new container gets another one
    const others = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const ip = (await docker(['run', '--rm', 'busybox', 'sh', '-c', 'ip -4 addr show eth0'])).match(/inet ([\d.]+)/)?.[1] ?? '';
      others.add(ip);
    }
    assert.ok(!others.has(keepIp), `${keepIp} was handed out again: ${[...others].join(' ')}`);
    await docker(['rm', '-f', keep, die]);
    await sleep(200);
    assert.deepEqual(natRules(), []);
    assert.deepEqual(veths(), []);
  });
});
