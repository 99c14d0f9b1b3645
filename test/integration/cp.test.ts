// docker cp against a real berthd, with the real docker CLI and `berth`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { TestDaemon, daemonWithBusybox, randomSuffix, skipReason } from '../helpers/env.ts';
import { makeTar, readTar } from '../helpers/tar.ts';

describe('docker cp', { skip: skipReason() }, () => {
  const d = new TestDaemon();
  let local = '';
  before(async () => {
    await daemonWithBusybox(d);
    local = mkdtempSync('/tmp/berth-cp-');
    mkdirSync(join(local, 'dir/sub'), { recursive: true });
    writeFileSync(join(local, 'file.txt'), 'hello\n');
    writeFileSync(join(local, 'dir/sub/n'), 'nested\n');
  });
  after(async () => {
    rmSync(local, { recursive: true, force: true });
    await d.cleanup();
  });
  const ok = async (cli: 'docker' | 'berth', args: string[]): Promise<string> => {
    const r = await d[cli](args);
    assert.equal(r.code, 0, `${cli} ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  for (const cli of ['docker', 'berth'] as const) {
    test(`${cli}: files and trees both ways, into a volume, renames, contents with /., a stopped container`, async () => {
      const c = `cp${randomSuffix()}`;
      await ok('docker', ['run', '-d', '--name', c, '-v', `${c}vol:/data`, 'busybox', 'sleep', '300']);
      try {
        await ok(cli, ['cp', join(local, 'file.txt'), `${c}:/tmp/`]);
        await ok(cli, ['cp', join(local, 'dir'), `${c}:/tmp/dir2`]);
        await ok(cli, ['cp', join(local, 'file.txt'), `${c}:/data/renamed.txt`]);
        assert.equal(await ok('docker', ['exec', c, 'sh', '-c', 'cat /tmp/file.txt /tmp/dir2/sub/n /data/renamed.txt; stat -c "%u:%g %a" /tmp/file.txt']), 'hello\nnested\nhello\n0:0 644\n');
        const out = mkdtempSync('/tmp/berth-cpout-');
        try {
          await ok(cli, ['cp', `${c}:/etc/passwd`, `${out}/`]);
          await ok(cli, ['cp', `${c}:/tmp/dir2`, join(out, 'copy')]);
          await ok(cli, ['cp', `${c}:/data`, join(out, 'vol')]);
          mkdirSync(join(out, 'contents'));
          await ok(cli, ['cp', `${c}:/tmp/dir2/.`, join(out, 'contents')]);
          assert.match(readFileSync(join(out, 'passwd'), 'utf8'), /^root:/);
          assert.equal(readFileSync(join(out, 'copy/sub/n'), 'utf8'), 'nested\n');
          assert.deepEqual(readdirSync(join(out, 'vol')), ['renamed.txt']);
          assert.deepEqual(readdirSync(join(out, 'contents')), ['sub']);
          // a tar on stdout
          const tarOut = await d[cli](['cp', `${c}:/tmp/file.txt`, '-']);
          assert.equal(tarOut.code, 0);
          const entries = await readTar(Buffer.from(tarOut.stdout, 'latin1'));
          assert.equal(entries.get('file.txt')?.toString(), 'hello\n');
        } finally {
          rmSync(out, { recursive: true, force: true });
        }
        // a stopped container: its filesystem is mounted for the copy
        await ok('docker', ['stop', '-t', '0', c]);
        await ok(cli, ['cp', join(local, 'file.txt'), `${c}:/tmp/while-stopped.txt`]);
        await ok('docker', ['start', c]);
        assert.equal(await ok('docker', ['exec', c, 'cat', '/tmp/while-stopped.txt']), 'hello\n');
        // errors, as docker words them
        const missing = await d[cli](['cp', `${c}:/nosuch`, local]);
        assert.equal(missing.code, 1);
        assert.match(missing.stderr, new RegExp(`Error response from daemon: Could not find the file /nosuch in container ${c}`));
        const noDir = await d[cli](['cp', join(local, 'file.txt'), `${c}:/nosuchdir/x`]);
        assert.equal(noDir.code, 1);
        assert.match(noDir.stderr, /Could not find the file \/nosuchdir in container/);
      } finally {
        await d.docker(['rm', '-f', '-v', c]);
        await d.docker(['volume', 'rm', `${c}vol`]);
      }
    });
  }

  test('hostile archives and links stay inside the container', async () => {
    const c = `cph${randomSuffix()}`;
    await ok('docker', ['run', '-d', '--name', c, 'busybox', 'sh', '-c', 'ln -s / /tmp/root-link; ln -s /etc /tmp/etc-link; sleep 300']);
    const marker = `berth-cp-escape-${randomSuffix()}`;
    try {
      // a link to / inside the container is the container's /, not the host's
      writeFileSync(join(local, marker), 'x');
      await new Promise((r) => setTimeout(r, 300));
      await ok('docker', ['cp', join(local, marker), `${c}:/tmp/root-link/`]);
      assert.equal(existsSync(`/${marker}`), false, 'nothing written to the host\'s /');
      assert.equal((await ok('docker', ['exec', c, 'cat', `/${marker}`])), 'x');
      // a tar whose entries climb out is refused (as moby's breakout check does); nothing is written
      const up = await makeTar([{ name: 'fine', body: 'f' }, { name: `../../../../../../tmp/${marker}-up`, body: 'up' }]);
      assert.equal(await put(d.sock, c, '/tmp', up), 400);
      assert.equal(existsSync(`/tmp/${marker}-up`), false, 'nothing written to the host\'s /tmp');
      // a link in the archive to /etc resolves inside the container
      const viaLink = await makeTar([{ name: 'evil-link', type: 'symlink', linkname: '/etc' }, { name: 'evil-link/written', body: 'w' }]);
      assert.equal(await put(d.sock, c, '/tmp', viaLink), 200);
      assert.equal(existsSync('/etc/written'), false, 'nothing written through a link to the host\'s /etc');
      assert.equal(await ok('docker', ['exec', c, 'cat', '/etc/written']), 'w');
    } finally {
      rmSync(join(local, marker), { force: true });
      await d.docker(['rm', '-f', c]);
    }
  });
});

function put(sock: string, container: string, path: string, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: sock, method: 'PUT', path: `/v1.45/containers/${container}/archive?path=${encodeURIComponent(path)}`, headers: { 'Content-Type': 'application/x-tar' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}
