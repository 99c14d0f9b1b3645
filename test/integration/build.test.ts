// The builder against a real berthd: the real docker CLI (classic POST /build) and `berth build`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { TestDaemon, daemonWithBusybox, skipReason, randomSuffix } from '../helpers/env.ts';
import { get } from '../helpers/http.ts';
import { makeTar } from '../helpers/tar.ts';

/** A context directory from a map of relative paths to contents. */
function context(files: Record<string, string>): string {
  const dir = mkdtempSync('/tmp/berth-ctx-');
  for (const [p, c] of Object.entries(files)) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), c);
  }
  return dir;
}

describe('builder', { skip: skipReason() }, () => {
  const d = new TestDaemon();
  const dirs: string[] = [];
  const ctx = (files: Record<string, string>): string => {
    const dir = context(files);
    dirs.push(dir);
    return dir;
  };
  const ok = async (args: string[], input?: string | Buffer): Promise<string> => {
    const r = await d.docker(args, { input, timeout: 60_000 });
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}\n${r.stdout}`);
    return r.stdout;
  };
  const bok = async (args: string[], input?: string | Buffer): Promise<string> => {
    const r = await d.berth(args, { input, timeout: 60_000 });
    assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}\n${r.stdout}`);
    return r.stdout;
  };
  const inspect = async (fmt: string, ref: string): Promise<string> => (await ok(['inspect', '-f', fmt, ref])).trim();
  const runOut = async (ref: string, ...cmd: string[]): Promise<string> => ok(['run', '--rm', ref, ...cmd]);

  before(async () => {
    await daemonWithBusybox(d);
  });
  after(async () => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    await d.cleanup();
  });

  test('the seed example: test.dockerfile built with -f/-t, run -d -P, page fetched through the published port', async () => {
    const dir = ctx({
      'index.html': 'test page\n',
      'test.dockerfile': '# liu2lin600\nFROM busybox:latest\nMAINTAINER liu2lin600 liu2lin600@163.com\nCOPY index.html /web/index.html\nEXPOSE 80/tcp\nCMD ["httpd","-f","-h","/web"]\n',
    });
    const out = await ok(['build', '-f', join(dir, 'test.dockerfile'), '-t', 'busybox:test', dir]);
    assert.match(out, /Step 1\/5 : FROM busybox:latest/);
    assert.match(out, /Step 3\/5 : COPY index.html \/web\/index.html/);
    assert.match(out, /Successfully built [0-9a-f]{12}\nSuccessfully tagged busybox:test\n/);
    assert.match(await ok(['images']), /busybox\s+test\s/);
    assert.equal(await inspect('{{.Author}}|{{json .Config.ExposedPorts}}|{{json .Config.Cmd}}', 'busybox:test'), 'liu2lin600 liu2lin600@163.com|{"80/tcp":{}}|["httpd","-f","-h","/web"]');
    const name = `web${randomSuffix()}`;
    await ok(['run', '-d', '--name', name, '-P', 'busybox:test']);
    try {
      const port = Number((await ok(['port', name, '80'])).trim().split('\n')[0]!.split(':').pop());
      assert.equal(await get('127.0.0.1', port), 'test page');
    } finally {
      await ok(['rm', '-f', name]);
    }
    // history names every step, as docker's classic builder does
    const hist = await ok(['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'busybox:test']);
    assert.match(hist, /#\(nop\)\s+CMD \["httpd" "-f" "-h" "\/web"\]/);
    assert.match(hist, /#\(nop\) COPY file:[0-9a-f]{64} in \/web\/index.html/);
  });

  test('the seed\'s httpd/php example adapted to busybox, with berth build', async () => {
    const dir = ctx({
      'aliyun7.repo': '[base]\nname=aliyun\n',
      'Dockerfile': [
        '# 安装httpd', 'FROM busybox:latest', 'MAINTAINER liu2lin600 liu2lin60@163.com', '',
        'ADD aliyun7.repo /etc/yum.repos.d/',
        'RUN mv /etc/yum.repos.d/aliyun7.repo /etc/yum.repos.d/aliyun7.repo.bak && \\',
        '        mkdir -p /var/www/html && \\',
        '        echo -e "<?php\\n\\tphpinfo();?>" > /var/www/html/info.php',
        'EXPOSE 80', 'CMD ["httpd","-f","-h","/var/www/html"]', '',
      ].join('\n'),
    });
    const out = await bok(['build', '-t', 'php:test', dir]);
    assert.match(out, / ---> Running in [0-9a-f]{12}\n/);
    assert.match(out, /Successfully tagged php:test/);
    assert.equal(await runOut('php:test', 'ls', '/etc/yum.repos.d'), 'aliyun7.repo.bak\n');
    const name = `php${randomSuffix()}`;
    await ok(['run', '-d', '--name', name, '-P', 'php:test']);
    try {
      const port = Number((await ok(['port', name, '80/tcp'])).trim().split('\n')[0]!.split(':').pop());
      assert.equal(await get('127.0.0.1', port, 40, '/info.php'), '<?php\n\tphpinfo();?>');
    } finally {
      await ok(['rm', '-f', name]);
    }
  });

  test('metadata instructions: ENV, ARG, LABEL, WORKDIR, USER, VOLUME, STOPSIGNAL, SHELL, HEALTHCHECK, ENTRYPOINT/CMD', async () => {
    const dir = ctx({
      Dockerfile: [
        'ARG BASE=busybox',
        'FROM ${BASE}',
        'ARG VERSION=1.0',
        'ARG FROMCLI',
        'ENV APP_HOME=/srv/app',
        'ENV LEGACY legacy value',
        'ENV PATH_COPY=$APP_HOME/bin',
        'LABEL version="${VERSION}" "multi word"=yes',
        'WORKDIR $APP_HOME',
        'WORKDIR sub',
        'RUN echo "v=$VERSION cli=$FROMCLI home=$APP_HOME pwd=$(pwd)" > /seen',
        'USER nobody',
        'VOLUME ["/data"]',
        'STOPSIGNAL SIGUSR1',
        'SHELL ["/bin/sh", "-ec"]',
        'HEALTHCHECK --interval=5s --retries=2 CMD test -e /seen',
        'ENTRYPOINT ["echo", "entry"]',
        'CMD ["default-arg"]',
      ].join('\n'),
    });
    await ok(['build', '--build-arg', 'FROMCLI=given', '--build-arg', 'UNUSED=x', '-t', 'meta:1', dir]);
    assert.equal(await inspect('{{json .Config.Env}}', 'meta:1'), '["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","APP_HOME=/srv/app","LEGACY=legacy value","PATH_COPY=/srv/app/bin"]');
    assert.equal(await inspect('{{json .Config.Labels}}', 'meta:1'), '{"multi word":"yes","version":"1.0"}');
    assert.equal(await inspect('{{.Config.WorkingDir}} {{.Config.User}} {{json .Config.Volumes}} {{.Config.StopSignal}}', 'meta:1'), '/srv/app/sub nobody {"/data":{}} SIGUSR1');
    assert.equal(await inspect('{{json .Config.Shell}} {{json .Config.Healthcheck}}', 'meta:1'), '["/bin/sh","-ec"] {"Test":["CMD-SHELL","test -e /seen"],"Interval":5000000000,"Retries":2}');
    assert.equal(await inspect('{{json .Config.Entrypoint}} {{json .Config.Cmd}}', 'meta:1'), '["echo","entry"] ["default-arg"]');
    assert.equal(await ok(['run', '--rm', '--entrypoint', 'cat', 'meta:1', '/seen']), 'v=1.0 cli=given home=/srv/app pwd=/srv/app/sub\n');
    assert.equal(await runOut('meta:1'), 'entry default-arg\n');
    // build args are not in the image's environment
    assert.doesNotMatch(await inspect('{{json .Config.Env}}', 'meta:1'), /VERSION|FROMCLI/);
    // ENTRYPOINT resets a CMD inherited from the base; shell form wraps in the SHELL
    const dir2 = ctx({ Dockerfile: 'FROM meta:1\nENTRYPOINT echo shell-form $APP_HOME\n' });
    await ok(['build', '-t', 'meta:2', dir2]);
    assert.equal(await inspect('{{json .Config.Entrypoint}} {{json .Config.Cmd}}', 'meta:2'), '["/bin/sh","-ec","echo shell-form $APP_HOME"] null');
  });

  test('COPY: globs, directories, --chown by name, --chmod, .dockerignore with exceptions, heredocs', async () => {
    const dir = ctx({
      'a.txt': 'a', 'b.txt': 'b', 'c.md': 'c',
      'tree/x/1': 'one', 'tree/2': 'two',
      'secret/key': 'k', 'secret/public': 'p',
      'logs/app.log': 'l',
      '.dockerignore': '# comment\nsecret\n!secret/public\n*.log\nlogs\n',
      Dockerfile: [
        'FROM busybox',
        'COPY *.txt /glob/',
        'COPY tree /tree',
        'COPY tree/ /tree2/',
        'COPY --chown=nobody:nogroup --chmod=0750 c.md /owned/c.md',
        'COPY . /all/',
        'COPY <<EOF /heredoc.txt',
        'hello $HOSTNAME_UNSET from heredoc',
        'EOF',
        'RUN <<EOS',
        'echo ran-heredoc > /ran',
        'EOS',
      ].join('\n'),
    });
    await ok(['build', '-t', 'copy:1', dir]);
    const ls = await runOut('copy:1', 'sh', '-c', 'ls /glob; ls -R /tree /tree2; stat -c "%U:%G %a" /owned/c.md; ls -A /all /all/secret; cat /heredoc.txt /ran; ls /all/logs 2>&1 || true');
    assert.equal(ls, [
      'a.txt', 'b.txt',
      '/tree:', '2', 'x', '', '/tree/x:', '1', '',
      '/tree2:', '2', 'x', '', '/tree2/x:', '1',
      'nobody:nogroup 750',
      '/all:', '.dockerignore', 'Dockerfile', 'a.txt', 'b.txt', 'c.md', 'secret', 'tree', '', '/all/secret:', 'public',
      'hello  from heredoc', 'ran-heredoc',
      'ls: /all/logs: No such file or directory', '',
    ].join('\n'));
    // several sources need a directory destination
    const bad = ctx({ 'a.txt': 'a', 'b.txt': 'b', Dockerfile: 'FROM busybox\nCOPY a.txt b.txt /notadir\n' });
    const r = await d.docker(['build', bad]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /When using COPY with more than one source file, the destination must be a directory and end with a \//);
  });

  test('cache: hits on rebuild, a changed file rebuilds from its COPY on, --no-cache, hits survive a berthd restart, --explain-cache says why', async () => {
    const dir = ctx({
      'app/one.txt': '1', 'app/two.txt': '2',
      Dockerfile: 'FROM busybox\nARG V=1\nRUN echo base-$V > /base\nCOPY app /app\nRUN cat /app/*.txt > /joined\nCMD ["cat", "/joined"]\n',
    });
    const first = await bok(['build', '-t', 'cache:1', dir]);
    assert.doesNotMatch(first, /Using cache/);
    const id1 = await inspect('{{.Id}}', 'cache:1');
    const second = await bok(['build', '-t', 'cache:1', dir]);
    assert.equal(second.match(/Using cache/g)?.length, 5, second);
    assert.equal(await inspect('{{.Id}}', 'cache:1'), id1);
    // restart: the cache is in the store
    await d.stop();
    await d.start();
    const third = await bok(['build', '-t', 'cache:1', dir]);
    assert.equal(third.match(/Using cache/g)?.length, 5, third);
    writeFileSync(join(dir, 'app/two.txt'), '2b');
    const fourth = await bok(['build', '--explain-cache', '-t', 'cache:1', dir]);
    assert.equal(fourth.match(/Using cache/g)?.length, 2, fourth); // ARG and the first RUN
    assert.match(fourth, /Cache miss: file changed: app\/two.txt/);
    assert.match(fourth, /Cache miss: its parent changed: an earlier step was rebuilt/);
    assert.equal(await runOut('cache:1'), '12b');
    const argChange = await bok(['build', '--explain-cache', '--build-arg', 'V=2', '-t', 'cache:1', dir]);
    assert.match(argChange, /Cache miss: build arg V changed: 1 → 2/);
    const nocache = await bok(['build', '--no-cache', '-t', 'cache:1', dir]);
    assert.doesNotMatch(nocache, /Using cache/);
    // builder prune forgets every cached step
    assert.match(await ok(['builder', 'prune', '-a', '-f']), /Total reclaimed space/);
    assert.doesNotMatch(await bok(['build', '-t', 'cache:1', dir]), /Using cache/);
  });

  test('multi-stage: COPY --from by name and index, --target, stages the target does not need are skipped', async () => {
    const dir = ctx({
      Dockerfile: [
        'FROM busybox AS build',
        'RUN echo artifact > /out.txt',
        'FROM busybox AS broken',
        'RUN echo this stage must not run; exit 1',
        'FROM busybox',
        'COPY --from=build /out.txt /from-name.txt',
        'COPY --from=0 /out.txt /from-index.txt',
        'COPY --from=busybox /bin/busybox /copied-busybox',
        'CMD cat /from-name.txt /from-index.txt',
      ].join('\n'),
    });
    const out = await ok(['build', '-t', 'multi:1', dir]);
    assert.doesNotMatch(out, /must not run/);
    assert.equal(await runOut('multi:1'), 'artifact\nartifact\n');
    await ok(['build', '--target', 'build', '-t', 'multi:build', dir]);
    assert.equal(await runOut('multi:build', 'cat', '/out.txt'), 'artifact\n');
    const r = await d.docker(['build', '--target', 'nosuch', dir]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /failed to reach build target nosuch in Dockerfile/);
  });

  test('ONBUILD triggers are recorded and fire in a child build', async () => {
    const parent = ctx({ Dockerfile: 'FROM busybox\nONBUILD COPY marker /marker\nONBUILD RUN echo triggered > /triggered\n' });
    await ok(['build', '-t', 'onbuild:parent', parent]);
    assert.equal(await inspect('{{json .Config.OnBuild}}', 'onbuild:parent'), '["COPY marker /marker","RUN echo triggered > /triggered"]');
    const child = ctx({ marker: 'm', Dockerfile: 'FROM onbuild:parent\nRUN cat /triggered /marker\n' });
    const out = await ok(['build', '-t', 'onbuild:child', child]);
    assert.match(out, /# Executing 2 build triggers/);
    assert.match(out, /triggered\nm/);
    assert.equal(await inspect('{{json .Config.OnBuild}}', 'onbuild:child'), 'null');
  });

  test('ADD: local gzip, bzip2 and xz tars are unpacked; a URL from a loopback server is downloaded, --checksum verified', async () => {
    const src = mkdtempSync('/tmp/berth-addsrc-');
    dirs.push(src);
    mkdirSync(join(src, 'pkg/sub'), { recursive: true });
    writeFileSync(join(src, 'pkg/sub/file'), 'packed');
    const dir = ctx({});
    execFileSync('tar', ['-C', src, '-czf', join(dir, 'a.tar.gz'), 'pkg']);
    execFileSync('tar', ['-C', src, '-cjf', join(dir, 'b.tar.bz2'), 'pkg']);
    execFileSync('tar', ['-C', src, '-cJf', join(dir, 'c.tar.xz'), 'pkg']);
    const payload = 'downloaded content\n';
    const server: Server = createServer((req, res) => {
      if (req.url === '/files/remote.txt') res.writeHead(200, { 'Last-Modified': 'Wed, 21 Oct 2015 07:28:00 GMT' }).end(payload);
      else res.writeHead(404).end('no');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const sum = `sha256:${createHash('sha256').update(payload).digest('hex')}`;
      writeFileSync(join(dir, 'Dockerfile'), [
        'FROM busybox',
        'ADD a.tar.gz /gz/', 'ADD b.tar.bz2 /bz/', 'ADD c.tar.xz /xz/',
        `ADD --checksum=${sum} http://127.0.0.1:${port}/files/remote.txt /dl/`,
      ].join('\n'));
      await ok(['build', '--network', 'host', '-t', 'add:1', dir]);
      assert.equal(await runOut('add:1', 'sh', '-c', 'cat /gz/pkg/sub/file /bz/pkg/sub/file /xz/pkg/sub/file; echo; cat /dl/remote.txt; stat -c %a /dl/remote.txt'), `packedpackedpacked\n${payload}600\n`);
      writeFileSync(join(dir, 'Dockerfile'), `FROM busybox\nADD --checksum=sha256:${'0'.repeat(64)} http://127.0.0.1:${port}/files/remote.txt /dl/\n`);
      const r = await d.docker(['build', dir]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /digest mismatch/);
    } finally {
      server.close();
    }
  });

  test('hostile contexts are refused: COPY ../x, a symlink out of the context, an escaping .dockerignore, a tar with ../', async () => {
    const up = await d.docker(['build', ctx({ Dockerfile: 'FROM busybox\nCOPY ../etc/passwd /x\n' })]);
    assert.notEqual(up.code, 0);
    assert.match(up.stderr, /forbidden path outside the build context: \.\.\/etc\/passwd/);
    const linkDir = ctx({ Dockerfile: 'FROM busybox\nCOPY link /x\n' });
    symlinkSync('/etc/shadow', join(linkDir, 'link'));
    const sl = await d.docker(['build', linkDir]);
    assert.notEqual(sl.code, 0);
    assert.match(sl.stderr, /forbidden path outside the build context/);
    const relLink = ctx({ Dockerfile: 'FROM busybox\nCOPY sub/link /x\n' });
    mkdirSync(join(relLink, 'sub'));
    symlinkSync('../../../../../etc/shadow', join(relLink, 'sub/link'));
    const rl = await d.docker(['build', relLink]);
    assert.notEqual(rl.code, 0);
    assert.match(rl.stderr, /forbidden path outside the build context/);
    // a .dockerignore cannot re-include what is outside the context
    const ign = ctx({ '.dockerignore': '*\n!../../../etc/passwd\n!Dockerfile\n', Dockerfile: 'FROM busybox\nCOPY . /ctx/\n' });
    await ok(['build', '-t', 'ign:1', ign]);
    assert.equal(await runOut('ign:1', 'ls', '-A', '/ctx'), '.dockerignore\nDockerfile\n');
    // a tar context whose entries climb out: refused before anything is written
    const marker = `/tmp/berth-escape-${randomSuffix()}`;
    const body = await makeTar([{ name: 'Dockerfile', body: 'FROM busybox\n' }, { name: `../../../../..${marker}`, body: 'pwned' }]);
    const res = await rawBuild(d.sock, body);
    assert.match(res, /path escapes the context/);
    assert.equal(existsSync(marker), false);
  });

  test('a failed RUN shows the command, its exit code and output; no image is tagged and no container is left', async () => {
    const dir = ctx({ Dockerfile: 'FROM busybox\nRUN echo before-failure && exit 7\n' });
    const before = (await ok(['ps', '-aq'])).trim();
    const r = await d.docker(['build', '--force-rm', '-t', 'fail:1', dir]);
    assert.equal(r.code, 7);
    assert.match(r.stdout, /before-failure/);
    assert.match(r.stderr, /The command '\/bin\/sh -c echo before-failure && exit 7' returned a non-zero code: 7/);
    assert.equal((await d.docker(['image', 'inspect', 'fail:1'])).code, 1);
    assert.equal((await ok(['ps', '-aq'])).trim(), before);
    // compat: without --force-rm the classic builder keeps the failed step's container for debugging
    const kept = await d.docker(['build', '-t', 'fail:1', dir]);
    assert.equal(kept.code, 7);
    const left = (await ok(['ps', '-aq', '--filter', 'status=exited'])).trim().split('\n').filter(Boolean);
    assert.equal(left.length, before.split('\n').filter(Boolean).length + 1);
    await ok(['rm', left[0]!]);
    // a broken Dockerfile: a clear error, nothing built
    const broken = await d.docker(['build', ctx({ Dockerfile: 'FROM busybox\nENV\n' })]);
    assert.notEqual(broken.code, 0);
    assert.match(broken.stderr, /ENV/);
  });

  test('the docker CLI with build args and a target; -f - and a tar context on stdin', async () => {
    const dir = ctx({ Dockerfile: 'FROM busybox AS base\nARG MSG=default\nRUN echo $MSG > /msg\nFROM base AS final\nRUN echo final >> /msg\n' });
    await ok(['build', '--build-arg', 'MSG=from-cli', '--target', 'base', '-t', 'args:base', dir]);
    assert.equal(await runOut('args:base', 'cat', '/msg'), 'from-cli\n');
    const stdinDf = await bok(['build', '-q', '-f', '-', '-t', 'stdin:df', ctx({ 'f.txt': 'via stdin dockerfile' })], 'FROM busybox\nCOPY f.txt /f.txt\n');
    assert.match(stdinDf, /^sha256:[0-9a-f]{64}\n$/);
    assert.equal(await runOut('stdin:df', 'cat', '/f.txt'), 'via stdin dockerfile');
    const tarBody = await makeTar([{ name: 'Dockerfile', body: 'FROM busybox\nCOPY hello /hello\n' }, { name: 'hello', body: 'from a tar' }]);
    await ok(['build', '-t', 'stdin:tar', '-'], tarBody);
    assert.equal(await runOut('stdin:tar', 'cat', '/hello'), 'from a tar');
    const iid = join(ctx({}), 'iid');
    await bok(['build', '--iidfile', iid, '-t', 'stdin:iid', '-'], tarBody);
    assert.equal(readFileSync(iid, 'utf8'), await inspect('{{.Id}}', 'stdin:iid'));
    assert.ok(readdirSync(d.dataRoot).includes('tmp') ? readdirSync(join(d.dataRoot, 'tmp')).filter((f) => f.startsWith('build-')).length === 0 : true, 'build temp dirs are removed');
  });
});

/** POST /build with a raw tar body; the response text. */
function rawBuild(sock: string, body: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: sock, path: '/v1.45/build', method: 'POST', headers: { 'Content-Type': 'application/x-tar' } }, (res) => {
      let s = '';
      res.on('data', (c: Buffer) => (s += c.toString()));
      res.on('end', () => resolve(`${res.statusCode} ${s}`));
    });
    req.on('error', reject);
    req.end(body);
  });
}
