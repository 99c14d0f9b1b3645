// The docker CLI against a real berthd: volume verbs, and containers using volumes, binds and tmpfs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { TestDaemon, daemonWithBusybox, skipReason, randomSuffix, runCmd } from '../helpers/env.ts';

const skip = skipReason();

describe('volumes through the docker CLI', { skip }, () => {
  const d = new TestDaemon();
  const tmp = mkdtempSync('/tmp/berth-vol-');
  before(() => daemonWithBusybox(d));
  after(async () => {
    await d.cleanup();
    await rm(tmp, { recursive: true, force: true });
  });

  const idOf = async (ctr: string): Promise<string> => (await d.docker(['inspect', '-f', '{{.Id}}', ctr])).stdout.trim();
  const volumes = async (...args: string[]): Promise<string[]> => (await d.docker(['volume', 'ls', '-q', ...args])).stdout.trim().split('\n').filter(Boolean).sort();

  test('volume create, ls (filters, --format), inspect, rm', async () => {
    const s = randomSuffix();
    const named = `vol-${s}`;
    assert.equal((await d.docker(['volume', 'create', named])).stdout, `${named}\n`);
    const lab = await d.docker(['volume', 'create', '--label', `team=${s}`, '-o', 'type=tmpfs', '-o', 'device=tmpfs', `lab-${s}`]);
    assert.equal(lab.code, 0, lab.stderr);
    const anon = (await d.docker(['volume', 'create'])).stdout.trim();
    assert.match(anon, /^[a-f0-9]{64}$/);

    const ls = await d.docker(['volume', 'ls']);
    const lines = ls.stdout.trimEnd().split('\n');
    assert.equal(lines[0], 'DRIVER    VOLUME NAME');
    assert.ok(lines.includes(`local     ${named}`), ls.stdout);
    assert.deepEqual(await volumes('--filter', `name=${s}`), [`lab-${s}`, named].sort());
    assert.deepEqual(await volumes('--filter', `name=^vol-${s}$`), [named]);
    assert.deepEqual(await volumes('--filter', `label=team=${s}`), [`lab-${s}`]);
    assert.deepEqual(await volumes('--filter', `label=team`, '--filter', `name=${s}`), [`lab-${s}`]);
    assert.ok((await volumes('--filter', 'dangling=true')).includes(named));
    const fmt = await d.docker(['volume', 'ls', '--filter', `name=lab-${s}`, '--format', '{{.Name}} {{.Driver}} {{.Labels}} {{.Scope}}']);
    assert.equal(fmt.stdout, `lab-${s} local team=${s} local\n`);

    const insp = await d.docker(['volume', 'inspect', `lab-${s}`]);
    assert.equal(insp.code, 0, insp.stderr);
    const [v] = JSON.parse(insp.stdout) as Record<string, unknown>[];
    assert.deepEqual(Object.keys(v!), ['CreatedAt', 'Driver', 'Labels', 'Mountpoint', 'Name', 'Options', 'Scope']);
    assert.match(v!.CreatedAt as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);
    assert.equal(v!.Driver, 'local');
    assert.deepEqual(v!.Labels, { team: s });
    assert.equal(v!.Mountpoint, join(d.dataRoot, 'volumes', `lab-${s}`, '_data'));
    assert.equal(v!.Name, `lab-${s}`);
    assert.deepEqual(v!.Options, { device: 'tmpfs', type: 'tmpfs' });
    assert.equal(v!.Scope, 'local');
    assert.ok(existsSync(v!.Mountpoint as string));
    assert.equal((await d.docker(['volume', 'inspect', '-f', '{{json .Labels}} {{json .Options}}', named])).stdout, '{} {}\n');
    assert.equal((await d.docker(['volume', 'inspect', '-f', '{{json .Labels}}', anon])).stdout, '{"com.docker.volume.anonymous":""}\n');

    assert.equal((await d.docker(['volume', 'rm', named, `lab-${s}`, anon])).stdout, `${named}\nlab-${s}\n${anon}\n`);
    const missing = await d.docker(['volume', 'rm', named]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, `Error response from daemon: get ${named}: no such volume\n`);
    const forced = await d.docker(['volume', 'rm', '-f', named]);
    assert.equal(forced.code, 0, forced.stderr);
    const ins2 = await d.docker(['volume', 'inspect', named]);
    assert.equal(ins2.code, 1);
    assert.match(ins2.stderr, new RegExp(`get ${named}: no such volume`));
    const bad = await d.docker(['volume', 'create', 'bad/name']);
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr, 'Error response from daemon: create bad/name: "bad/name" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path\n');
  });

  test('named volumes keep data across containers; rm of a volume in use is refused', async () => {
    const s = randomSuffix();
    const v = `data-${s}`;
    assert.equal((await d.docker(['run', '--rm', '-v', `${v}:/d`, 'busybox', 'sh', '-c', 'echo persisted > /d/f'])).code, 0);
    assert.equal((await d.docker(['run', '--rm', '-v', `${v}:/d`, 'busybox', 'cat', '/d/f'])).stdout, 'persisted\n');
    assert.equal((await d.docker(['run', '--rm', '--mount', `type=volume,src=${v},dst=/y`, 'busybox', 'cat', '/y/f'])).stdout, 'persisted\n');
    const ctr = `user-${s}`;
    await d.docker(['create', '--name', ctr, '-v', `${v}:/d`, 'busybox']);
    const r = await d.docker(['volume', 'rm', v]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `Error response from daemon: remove ${v}: volume is in use - [${await idOf(ctr)}]\n`);
    assert.ok(!(await volumes('--filter', 'dangling=true')).includes(v));
    assert.ok((await volumes('--filter', 'dangling=false')).includes(v));
    const mounts = await d.docker(['inspect', '-f', '{{range .Mounts}}{{.Type}} {{.Name}} {{.Destination}} {{.RW}}{{end}}', ctr]);
    assert.equal(mounts.stdout, `volume ${v} /d true\n`);
    await d.docker(['rm', ctr]);
    assert.equal((await d.docker(['volume', 'rm', v])).code, 0);
  });

  test('anonymous volumes, rm -v removes anonymous ones only, volume prune (-a)', async () => {
    const s = randomSuffix();
    const ctr = `anon-${s}`;
    const named = `keep-${s}`;
    assert.equal((await d.docker(['run', '--name', ctr, '-v', '/anon', '-v', `${named}:/named`, 'busybox', 'sh', '-c', 'echo a > /anon/f'])).code, 0);
    const anon = (await d.docker(['inspect', '-f', '{{range .Mounts}}{{if eq .Destination "/anon"}}{{.Name}}{{end}}{{end}}', ctr])).stdout.trim();
    assert.match(anon, /^[a-f0-9]{64}$/);
    assert.equal((await d.docker(['volume', 'inspect', '-f', '{{json .Labels}}', anon])).stdout, '{"com.docker.volume.anonymous":""}\n');
    assert.equal((await d.docker(['rm', '-v', ctr])).code, 0);
    const left = await volumes();
    assert.ok(!left.includes(anon), 'rm -v removed the anonymous volume');
    assert.ok(left.includes(named), 'rm -v kept the named volume');

    // prune: anonymous (and unnamed `volume create`) only; -a also named ones; in-use ones stay
    const loose = (await d.docker(['volume', 'create'])).stdout.trim();
    await d.docker(['run', '--name', ctr, '-v', '/anon2', 'busybox', 'true']);
    const anon2 = (await d.docker(['inspect', '-f', '{{range .Mounts}}{{.Name}}{{end}}', ctr])).stdout.trim();
    const p = await d.docker(['volume', 'prune', '-f']);
    assert.equal(p.code, 0, p.stderr);
    assert.equal(p.stdout, `Deleted Volumes:\n${loose}\n\nTotal reclaimed space: 0B\n`);
    assert.ok((await volumes()).includes(anon2), 'in use by a stopped container');
    await d.docker(['rm', ctr]); // without -v: the anonymous volume stays
    const pa = await d.docker(['volume', 'prune', '-a', '-f']);
    assert.equal(pa.code, 0, pa.stderr);
    assert.deepEqual(pa.stdout.split('\n').slice(1, -3).sort(), [anon2, named].sort());
    assert.match(pa.stdout, /^Deleted Volumes:\n[\s\S]*\n\nTotal reclaimed space: 0B\n$/);
    assert.deepEqual(await volumes(), []);
  });

  test('--mount bind/tmpfs, -v host:ctr:ro, file binds', async () => {
    const host = join(tmp, 'host');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(host);
    writeFileSync(join(host, 'h'), 'from host\n');
    assert.equal((await d.docker(['run', '--rm', '--mount', `type=bind,src=${host},dst=/h`, 'busybox', 'sh', '-c', 'cat /h/h; echo back > /h/w'])).stdout, 'from host\n');
    assert.equal(readFileSync(join(host, 'w'), 'utf8'), 'back\n');
    const tmpfs = await d.docker(['run', '--rm', '--mount', 'type=tmpfs,dst=/t', 'busybox', 'sh', '-c', 'grep " /t " /proc/mounts | cut -d" " -f1-3; echo x > /t/x && cat /t/x']);
    assert.equal(tmpfs.stdout, 'tmpfs /t tmpfs\nx\n');
    const ro = await d.docker(['run', '--rm', '-v', `${host}:/c:ro`, 'busybox', 'sh', '-c', 'cat /c/h; echo no > /c/n']);
    assert.equal(ro.code, 1);
    assert.equal(ro.stdout, 'from host\n');
    assert.match(ro.stderr, /can't create \/c\/n: Read-only file system/);
    assert.ok(!existsSync(join(host, 'n')));
    const file = join(tmp, 'f.conf');
    writeFileSync(file, 'file bind\n');
    assert.equal((await d.docker(['run', '--rm', '-v', `${file}:/etc/f.conf`, 'busybox', 'cat', '/etc/f.conf'])).stdout, 'file bind\n');
    const missing = await d.docker(['run', '--rm', '--mount', `type=bind,src=${join(tmp, 'nope')},dst=/x`, 'busybox', 'true']);
    assert.equal(missing.code, 125);
    assert.match(missing.stderr, /bind source path does not exist/);
  });

  test('an image VOLUME gets a new volume holding the image content; --volumes-from shares it', async () => {
    const s = randomSuffix();
    const src = `mk-${s}`;
    await d.docker(['run', '--name', src, 'busybox', 'sh', '-c', 'mkdir /data && echo from-image > /data/i']);
    assert.equal((await d.docker(['commit', '-c', 'VOLUME /data', src, `withvol-${s}:1`])).code, 0);
    await d.docker(['rm', src]);
    assert.equal((await d.docker(['image', 'inspect', '-f', '{{json .Config.Volumes}}', `withvol-${s}:1`])).stdout, '{"/data":{}}\n');
    const a = `va-${s}`;
    assert.equal((await d.docker(['run', '--name', a, `withvol-${s}:1`, 'sh', '-c', 'cat /data/i; echo added > /data/new'])).stdout, 'from-image\n');
    const vol = (await d.docker(['inspect', '-f', '{{range .Mounts}}{{.Type}}:{{.Name}}:{{.Destination}}{{end}}', a])).stdout.trim();
    assert.match(vol, /^volume:[a-f0-9]{64}:\/data$/);
    const b = await d.docker(['run', '--rm', '--volumes-from', a, 'busybox', 'sh', '-c', 'cat /data/i /data/new']);
    assert.equal(b.stdout, 'from-image\nadded\n');
    assert.equal((await d.docker(['rm', '-v', a])).code, 0);
    assert.ok(!(await volumes()).includes(vol.split(':')[1]!));
    await d.docker(['rmi', `withvol-${s}:1`]);
  });

  test('the backup/restore recipe with --volumes-from works as written', async () => {
    const dir = join(tmp, 'backup');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir);
    const sh = (cmd: string): Promise<{ code: number; stdout: string; stderr: string }> => runCmd('sh', ['-c', `cd ${dir} && ${cmd}`], { env: d.env });
    let r = await sh('docker run -v /vol --name bb1 busybox sh -c \'echo data > /vol/f\'');
    assert.equal(r.code, 0, r.stderr);
    r = await sh('docker run --volumes-from bb1 -v $(pwd):/backup busybox tar cvf /backup/bak.tar /vol');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'vol/\nvol/f\n');
    assert.ok(existsSync(join(dir, 'bak.tar')));
    r = await sh('docker run -v /vol --name bb2 busybox /bin/sh');
    assert.equal(r.code, 0, r.stderr);
    r = await sh('docker run --volumes-from bb2 -v $(pwd):/backup busybox tar xf /backup/bak.tar');
    assert.equal(r.code, 0, r.stderr);
    r = await sh('docker run --rm --volumes-from bb2 busybox cat /vol/f');
    assert.equal(r.stdout, 'data\n');
    const v1 = (await d.docker(['inspect', '-f', '{{range .Mounts}}{{.Name}}{{end}}', 'bb1'])).stdout.trim();
    const v2 = (await d.docker(['inspect', '-f', '{{range .Mounts}}{{.Name}}{{end}}', 'bb2'])).stdout.trim();
    assert.notEqual(v1, v2);
    const others = (await d.docker(['ps', '-aq', '--filter', 'ancestor=busybox'])).stdout.trim().split('\n').filter(Boolean);
    await d.docker(['rm', '-v', ...others]);
    assert.ok(!(await volumes()).some((v) => v === v1 || v === v2), 'rm -v removed both anonymous volumes');
  });
});
