// User-defined bridge networks and the embedded DNS, with real traffic and the real docker CLI.
// Traffic goes only to loopback (the test's own DNS server) and to containers of this daemon;
// every network gets its own bridge name (derived from the daemon's) and a 10.214.x.0/24.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { TestDaemon, daemonWithBusybox, randomSuffix, skipReason } from '../helpers/env.ts';
import { TinyDns } from '../helpers/dns.ts';
import { get, freePort } from '../helpers/http.ts';


function networkSkipReason(): string | undefined {
  const base = skipReason();
  if (base) return base;
  for (const bin of ['ip', 'iptables', 'iptables-restore', 'iptables-save', 'nsenter', 'docker']) {
    if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0) return `needs ${bin}`;
  }
  return undefined;
}

const skip = networkSkipReason();
const HTTPD = (page: string): string[] => ['sh', '-c', `mkdir -p /www && echo ${page} > /www/index.html && exec httpd -f -p 80 -h /www`];
const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const iptablesSave = (): string => spawnSync('iptables-save', [], { encoding: 'utf8' }).stdout ?? '';
const linkExists = (name: string): boolean => spawnSync('ip', ['link', 'show', name], { stdio: 'ignore' }).status === 0;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const bridgePorts = (br: string): string[] => (spawnSync('ls', [`/sys/class/net/${br}/brif`], { encoding: 'utf8' }).stdout ?? '').split('\n').filter(Boolean);

describe('user-defined networks and embedded DNS', { skip }, () => {
  const dns = new TinyDns({ 'external.test': '192.0.2.123' });
  const tmp = mkdtempSync('/tmp/berth-netdns-');
  const resolvConf = join(tmp, 'resolv.conf');
  const d = new TestDaemon(['--resolv-conf', resolvConf, '-D']);
  let nextBridge = 0;

  before(async () => {
    await dns.start();
    writeFileSync(resolvConf, `nameserver ${dns.address}\n`);
    await daemonWithBusybox(d);
  });
  after(async () => {
    await d.cleanup();
    dns.close();
    await rm(tmp, { recursive: true, force: true });
    // nothing of this daemon is left: bridges, veths, rules
    const links = spawnSync('ip', ['-o', 'link'], { encoding: 'utf8' }).stdout ?? '';
    assert.ok(!links.includes(d.bridge), `links left:\n${links.split('\n').filter((l) => l.includes(d.bridge)).join('\n')}`);
    assert.ok(!iptablesSave().includes(d.bridge), 'iptables rules left');
  });

  const docker = async (args: string[]): Promise<string> => {
    const r = await d.docker(args);
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };
  /** A network with its own bridge and subnet; returns its name, bridge and subnet. */
  const network = async (extra: string[] = []): Promise<{ name: string; bridge: string; subnet: string; gateway: string; prefix: string }> => {
    const name = `net-${randomSuffix()}`;
    const bridge = d.userBridge(nextBridge++);
    const s = d.userSubnet();
    await docker(['network', 'create', '--subnet', s.subnet, '-o', `com.docker.network.bridge.name=${bridge}`, ...extra, name]);
    return { name, bridge, ...s };
  };
  const ipOn = (ctr: string, net: string): Promise<string> => docker(['inspect', '-f', `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`, ctr]);

  test('create, ls, inspect and filters as dockerd shows them; docker\'s errors', async () => {
    const name = `cfg-${randomSuffix()}`;
    const bridge = d.userBridge(nextBridge++);
    const s = d.userSubnet();
    const id = await docker(['network', 'create', '--subnet', s.subnet, '--gateway', `${s.prefix}254`, '--ip-range', `${s.prefix}128/25`,
      '--label', 'team=blue', '-o', `com.docker.network.bridge.name=${bridge}`, name]);
    assert.match(id, /^[0-9a-f]{64}$/);
    const [n] = JSON.parse(await docker(['network', 'inspect', name])) as { Id: string; Driver: string; Internal: boolean; IPAM: { Config: { Subnet: string; Gateway: string; IPRange: string }[] }; Labels: Record<string, string>; Options: Record<string, string> }[];
    assert.equal(n!.Id, id);
    assert.equal(n!.Driver, 'bridge');
    assert.deepEqual(n!.IPAM.Config, [{ Subnet: s.subnet, Gateway: `${s.prefix}254`, IPRange: `${s.prefix}128/25` }]);
    assert.deepEqual(n!.Labels, { team: 'blue' });
    assert.equal(n!.Options['com.docker.network.bridge.name'], bridge);
    assert.ok(linkExists(bridge));
    assert.match(spawnSync('ip', ['-4', 'addr', 'show', bridge], { encoding: 'utf8' }).stdout, new RegExp(`inet ${esc(s.prefix)}254/24`));
    // addresses come from the ip-range
    const ip = (await docker(['run', '--rm', '--network', name, 'busybox', 'sh', '-c', 'ip -4 addr show eth0'])).match(/inet ([\d.]+)/)?.[1] ?? '';
    assert.ok(Number(ip.split('.')[3]) >= 128, ip);
    const ls = await docker(['network', 'ls', '--filter', 'label=team=blue', '--format', '{{.Name}} {{.Driver}} {{.Scope}}']);
    assert.equal(ls, `${name} bridge local`);
    assert.ok((await docker(['network', 'ls', '--filter', 'type=custom', '-q'])).split('\n').includes(id.slice(0, 12)));
    assert.ok(!(await docker(['network', 'ls', '--filter', 'type=builtin', '--format', '{{.Name}}'])).split('\n').includes(name));
    assert.ok((await docker(['network', 'ls', '--filter', 'dangling=true', '--format', '{{.Name}}'])).split('\n').includes(name));
    assert.equal(await docker(['network', 'ls', '--filter', `id=${id.slice(0, 10)}`, '--format', '{{.Name}}']), name);
    // docker's errors
    const dup = await d.docker(['network', 'create', name]);
    assert.equal(dup.code, 1);
    assert.equal(dup.stderr.trim(), `Error response from daemon: network with name ${name} already exists`);
    const pre = await d.docker(['network', 'create', 'bridge']);
    assert.match(pre.stderr, /operation is not permitted on predefined bridge network/);
    const overlap = await d.docker(['network', 'create', '--subnet', s.subnet, `o-${randomSuffix()}`]);
    assert.match(overlap.stderr, /Pool overlaps with other one on this address space/);
    const rmBuiltin = await d.docker(['network', 'rm', 'host']);
    assert.match(rmBuiltin.stderr, /host is a pre-defined network and cannot be removed/);
    assert.equal(await docker(['network', 'rm', name]), name);
    assert.ok(!linkExists(bridge));
    assert.ok(!iptablesSave().includes(`BERTH-${bridge}`));
  });

  test('containers reach each other by name, alias and short id; other names do not resolve; the rest is forwarded', async () => {
    const a = await network();
    const b = await network();
    const web = `web-${randomSuffix()}`;
    const other = `other-${randomSuffix()}`;
    const hostPort = await freePort();
    const id = await docker(['run', '-d', '--name', web, '--network', a.name, '--network-alias', 'www', '-p', `127.0.0.1:${hostPort}:80`, 'busybox', ...HTTPD('hi')]);
    // a published port of a user network answers on loopback; ps filters by network
    assert.equal(await get('127.0.0.1', hostPort), 'hi');
    assert.equal(await docker(['ps', '--filter', `network=${a.name}`, '--format', '{{.Names}} {{.Networks}}']), `${web} ${a.name}`);
    await docker(['run', '-d', '--name', other, '--network', b.name, 'busybox', 'sleep', '300']);
    const ip = await ipOn(web, a.name);
    assert.ok(ip.startsWith(a.prefix), ip);
    const short = id.slice(0, 12);
    const out = await docker(['run', '--rm', '--network', a.name, 'busybox', 'sh', '-c',
      `cat /etc/resolv.conf; for n in ${web} www ${short} ${web}.${a.name}; do nslookup $n | grep -A1 "^Name:"; done; wget -qO- http://${web}/; wget -qO- http://www/; ping -c1 -W2 ${short}`]);
    assert.match(out, new RegExp(`^nameserver ${esc(a.gateway)}$`, 'm'));
    for (const n of [web, 'www', short, `${web}.${a.name}`]) assert.match(out, new RegExp(`Name:\\s+${esc(n)}\\nAddress: ${esc(ip)}`), `${n}:\n${out}`);
    assert.match(out, /^hi\nhi$/m);
    assert.match(out, /1 packets received/);
    // a container of another network is unknown here: the query goes to the host's resolver, which says NXDOMAIN
    const miss = await d.docker(['run', '--rm', '--network', a.name, 'busybox', 'nslookup', other]);
    assert.match(miss.stdout + miss.stderr, /NXDOMAIN/);
    assert.ok(dns.queries.includes(other), `forwarded: ${dns.queries.join(' ')}`);
    // external names: forwarded to the host's resolver (the test's server on loopback), over UDP
    const ext = await docker(['run', '--rm', '--network', a.name, 'busybox', 'nslookup', 'external.test']);
    assert.match(ext, /Name:\s+external\.test\nAddress: 192\.0\.2\.123/);
    // inspect shows the endpoint as dockerd does
    const eps = JSON.parse(await docker(['inspect', '-f', '{{json .NetworkSettings.Networks}}', web])) as Record<string, { Aliases: string[]; DNSNames: string[]; IPAddress: string; Gateway: string }>;
    assert.deepEqual(eps[a.name]!.Aliases, ['www']);
    assert.deepEqual(eps[a.name]!.DNSNames, [web, 'www', short]);
    assert.equal(eps[a.name]!.Gateway, a.gateway);
    const net = JSON.parse(await docker(['network', 'inspect', a.name])) as { Containers: Record<string, { Name: string; IPv4Address: string }> }[];
    assert.deepEqual(net[0]!.Containers[id], { ...net[0]!.Containers[id], Name: web, IPv4Address: `${ip}/24` });
    // isolation: nothing crosses from one network to another, nor to the default bridge
    const otherIp = await ipOn(other, b.name);
    const isolated = await d.docker(['run', '--rm', '--network', a.name, 'busybox', 'ping', '-c1', '-W1', otherIp]);
    assert.notEqual(isolated.code, 0, isolated.stdout);
    const def = `def-${randomSuffix()}`;
    await docker(['run', '-d', '--name', def, 'busybox', 'sleep', '300']);
    const defIp = await docker(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', def]);
    assert.notEqual((await d.docker(['run', '--rm', '--network', a.name, 'busybox', 'ping', '-c1', '-W1', defIp])).code, 0);
    assert.notEqual((await d.docker(['exec', def, 'ping', '-c1', '-W1', ip])).code, 0);
    await docker(['rm', '-f', web, other, def]);
    await docker(['network', 'rm', a.name, b.name]);
  });

  test('--internal: containers talk to each other and have no route out', async () => {
    const n = await network(['--internal']);
    const peer = `peer-${randomSuffix()}`;
    await docker(['run', '-d', '--name', peer, '--network', n.name, 'busybox', 'sleep', '300']);
    const out = await d.docker(['run', '--rm', '--network', n.name, 'busybox', 'sh', '-c', `ip route; ping -c1 -W2 ${peer} && echo PEER-OK; ping -c1 -W1 ${d.gateway} || echo NO-ROUTE`]);
    assert.doesNotMatch(out.stdout, /default/);
    assert.match(out.stdout, /PEER-OK/);
    assert.match(out.stdout, /NO-ROUTE/);
    assert.equal(JSON.parse(await docker(['network', 'inspect', '-f', '{{json .Internal}}', n.name])), true);
    assert.match(iptablesSave(), new RegExp(`-A BERTH-${esc(d.bridge)}-ISO -i ${esc(n.bridge)} ! -o ${esc(n.bridge)} -j DROP`));
    await docker(['rm', '-f', peer]);
    await docker(['network', 'rm', n.name]);
  });

  test('connect and disconnect at runtime: eth1 comes and goes, names follow', async () => {
    const n = await network();
    const box = `box-${randomSuffix()}`;
    const asker = `asker-${randomSuffix()}`;
    await docker(['run', '-d', '--name', box, 'busybox', 'sleep', '300']);
    await docker(['run', '-d', '--name', asker, '--network', n.name, 'busybox', 'sleep', '300']);
    await docker(['network', 'connect', '--alias', 'boxy', n.name, box]);
    const ip = await ipOn(box, n.name);
    assert.ok(ip.startsWith(n.prefix), ip);
    const inside = await docker(['exec', box, 'sh', '-c', 'ip -4 addr show eth1; ip route; head -1 /etc/resolv.conf']);
    assert.match(inside, new RegExp(`inet ${esc(ip)}/24`));
    assert.match(inside, new RegExp(`default via ${esc(d.gateway)} dev eth0`), 'the default route stays on the first network');
    assert.match(inside, new RegExp(`nameserver ${esc(n.gateway)}`));
    assert.match(await docker(['exec', asker, 'nslookup', 'boxy']), new RegExp(`Address: ${esc(ip)}`));
    assert.match(await docker(['exec', box, 'nslookup', asker]), /Name:/);
    const again = await d.docker(['network', 'connect', n.name, box]);
    assert.match(again.stderr, new RegExp(`endpoint with name ${esc(box)} already exists in network ${esc(n.name)}`));
    await docker(['network', 'disconnect', n.name, box]);
    const gone = await docker(['exec', box, 'sh', '-c', 'ip -4 addr; ip route']);
    assert.doesNotMatch(gone, /eth1/);
    assert.match(gone, /default via/);
    const miss = await d.docker(['exec', asker, 'nslookup', 'boxy']);
    assert.match(miss.stdout + miss.stderr, /NXDOMAIN/, `${miss.stdout}\n${d.log.split('\n').filter((l) => /dns/i.test(l)).slice(-12).join('\n')}`);
    assert.deepEqual(bridgePorts(n.bridge).length, 1, 'only the asker\'s veth');
    const notConn = await d.docker(['network', 'disconnect', n.name, box]);
    assert.match(notConn.stderr, /is not connected to network/);
    // a stopped container: connect is remembered for its next start
    const later = `later-${randomSuffix()}`;
    await docker(['create', '--name', later, 'busybox', 'sh', '-c', 'ip -4 addr | grep -c "inet 10.214"']);
    await docker(['network', 'connect', n.name, later]);
    await docker(['start', later]);
    assert.equal(await docker(['wait', later]), '0');
    await docker(['rm', '-f', box, asker, later]);
    await docker(['network', 'rm', n.name]);
  });

  test('--ip, --mac-address, two --network flags; rm of a network in use fails, then nothing is left', async () => {
    const a = await network();
    const b = await network();
    const c = `multi-${randomSuffix()}`;
    await docker(['run', '-d', '--name', c, '--network', a.name, '--network', b.name, '--ip', `${a.prefix}77`, '--mac-address', '02:aa:bb:cc:dd:ee', '-h', 'multi', '--domainname', 'example.test', 'busybox', 'sleep', '300']);
    const out = await docker(['exec', c, 'sh', '-c', 'ip addr show eth0; ip -4 addr show eth1; ip route; hostname; cat /etc/hosts']);
    assert.match(out, new RegExp(`inet ${esc(a.prefix)}77/24`));
    assert.match(out, /link\/ether 02:aa:bb:cc:dd:ee/);
    assert.match(out, new RegExp(`inet ${esc(b.prefix)}\\d+/24`));
    assert.match(out, new RegExp(`default via ${esc(a.gateway)} dev eth0`));
    assert.match(out, /^multi$/m);
    assert.match(out, new RegExp(`^${esc(a.prefix)}77\\tmulti\\.example\\.test multi$`, 'm'));
    const busy = await d.docker(['network', 'rm', a.name]);
    assert.equal(busy.code, 1);
    assert.match(busy.stderr, new RegExp(`Error response from daemon: error while removing network: network ${esc(a.name)} has active endpoints \\(name:"${esc(c)}" id:"[0-9a-f]{12}"\\)`));
    const taken = await d.docker(['run', '--rm', '--network', a.name, '--ip', `${a.prefix}77`, 'busybox', 'true']);
    assert.match(taken.stderr, /Address already in use/);
    await docker(['rm', '-f', c]);
    await docker(['network', 'rm', a.name, b.name]);
    for (const n of [a, b]) {
      assert.ok(!linkExists(n.bridge), `${n.bridge} left`);
      assert.ok(!iptablesSave().includes(n.bridge), `rules of ${n.bridge} left`);
    }
    // veths of removed containers go in the background
    for (let i = 0; i < 20 && bridgePorts(d.bridge).length; i++) await sleep(100);
    assert.deepEqual(bridgePorts(d.bridge), []);
  });

  test('a restart of berthd brings user networks back (bridge, rules, DNS) and prune removes unused ones', async () => {
    const n = await network();
    const keep = `keep-${randomSuffix()}`;
    await docker(['run', '-d', '--name', keep, '--network', n.name, 'busybox', 'sleep', '300']);
    await d.stop();
    await d.start();
    // the surviving container still answers to its name; a new one joins the network
    assert.match(await docker(['run', '--rm', '--network', n.name, 'busybox', 'nslookup', keep]), /Name:/);
    await docker(['rm', '-f', keep]);
    // as after a reboot: the bridge and its rules are gone, berthd recreates them
    await d.stop();
    spawnSync('ip', ['link', 'del', n.bridge]);
    await d.start();
    assert.ok(linkExists(n.bridge));
    assert.match(iptablesSave(), new RegExp(`BERTH-${esc(n.bridge)}-POST`));
    const pr = await network();
    const pruned = await docker(['network', 'prune', '-f']);
    assert.match(pruned, new RegExp(`^Deleted Networks:\\n(${esc(n.name)}|${esc(pr.name)})\\n(${esc(n.name)}|${esc(pr.name)})$`));
    assert.ok(!linkExists(n.bridge) && !linkExists(pr.bridge));
  });

  test('berth network verbs print what the docker CLI prints', async () => {
    const n = await network(['--label', 'x=y']);
    for (const args of [['network', 'ls'], ['network', 'ls', '--no-trunc'], ['network', 'ls', '-q'], ['network', 'ls', '--filter', 'label=x', '--format', '{{.Name}}\t{{.Labels}}'],
      ['network', 'inspect', n.name], ['network', 'inspect', '-f', '{{.Name}} {{.Driver}} {{.Internal}}', n.name], ['network', 'rm', 'nope'], ['network', 'inspect', 'nope'],
      ['network', 'create', 'bridge'], ['network', 'connect', n.name, 'nope'], ['network', 'create', '--gateway', '10.0.0.1', 'x'],
      ['network', 'ls', '--format', 'json', '--filter', `name=${n.name}`], ['network', 'ls', '--format', 'table {{.ID}}\t{{.CreatedAt}}\t{{.Internal}}\t{{.IPv6}}'],
      ['network', 'disconnect', n.name, 'nope'], ['network', 'rm', '-f', 'nope'], ['network', 'prune', '-f', '--filter', 'label=nothing-has-this']]) {
      const [want, got] = [await d.docker(args), await d.berth(args)];
      assert.deepEqual({ code: got.code, stdout: got.stdout, stderr: got.stderr }, { code: want.code, stdout: want.stdout, stderr: want.stderr }, args.join(' '));
    }
    const c = `cli-${randomSuffix()}`;
    const created = await d.berth(['run', '-d', '--name', c, '--network', n.name, '--network-alias', 'cli-alias', '--ip', `${n.prefix}9`, 'busybox', 'sleep', '300']);
    assert.equal(created.code, 0, created.stderr);
    assert.equal(await ipOn(c, n.name), `${n.prefix}9`);
    assert.equal((await d.berth(['network', 'disconnect', n.name, c])).code, 0);
    assert.equal((await d.berth(['network', 'connect', '--alias', 'again', n.name, c])).code, 0);
    assert.deepEqual(JSON.parse(await docker(['inspect', '-f', `{{json (index .NetworkSettings.Networks "${n.name}").Aliases}}`, c])), ['again']);
    await docker(['rm', '-f', c]);
    const rmOut = await d.berth(['network', 'rm', n.name]);
    assert.deepEqual([rmOut.code, rmOut.stdout], [0, `${n.name}\n`]);
  });
});
