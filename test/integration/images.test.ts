// The docker CLI against a real berthd: image verbs (load, save, import, images, inspect, tag, rmi,
// history, prune, system df). Archives are built here with tar-stream.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { TestDaemon, daemonWithBusybox, skipReason, randomSuffix, busyboxArchive } from '../helpers/env.ts';
import { digestOf, makeTar, readTar } from '../helpers/tar.ts';

const skip = skipReason();


/** Run the docker CLI keeping stdout as bytes (docker save to stdout). */
function dockerBin(d: TestDaemon, args: string[], input?: Buffer): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn('docker', args, { env: d.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => out.push(c));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out), stderr }));
    p.stdin.end(input);
  });
}

/** go-units HumanSizeWithPrecision(size, 3), as `docker images` prints SIZE. */
function humanSize(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${Number(n.toPrecision(3))}${units[i]}`;
}

describe('images through the docker CLI', { skip }, () => {
  const d = new TestDaemon();
  const tmp = mkdtempSync('/tmp/berth-img-');
  let bbId = '';
  let bbDiffId = '';
  let bbLayer: Buffer = Buffer.alloc(0);

  before(async () => {
    await daemonWithBusybox(d);
    bbId = (await d.docker(['image', 'inspect', '-f', '{{.Id}}', 'busybox'])).stdout.trim();
    bbDiffId = (await d.docker(['image', 'inspect', '-f', '{{index .RootFS.Layers 0}}', 'busybox'])).stdout.trim();
    const files = await readTar(readFileSync(busyboxArchive()));
    const manifest = JSON.parse(files.get('manifest.json')!.toString()) as { Layers: string[] }[];
    bbLayer = files.get(manifest[0]!.Layers[0]!)!;
    assert.equal(digestOf(bbLayer), bbDiffId);
  });
  after(async () => {
    await d.cleanup();
    await rm(tmp, { recursive: true, force: true });
  });

  /** A rootfs tarball for `docker import`: busybox's filesystem plus /hello (its own layer). */
  const rootfsTar = async (hello: string): Promise<Buffer> =>
    Buffer.concat([bbLayer.subarray(0, tarEnd(bbLayer)), await makeTar([{ name: 'hello', body: hello }])]);

  test('docker images: table header, columns and the SIZE human form', async () => {
    const size = Number((await d.docker(['image', 'inspect', '-f', '{{.Size}}', 'busybox'])).stdout.trim());
    const r = await d.docker(['images', 'busybox']);
    assert.equal(r.code, 0, r.stderr);
    const [header, row, ...rest] = r.stdout.trimEnd().split('\n');
    assert.equal(header, 'REPOSITORY   TAG       IMAGE ID       CREATED       SIZE');
    assert.deepEqual(rest, []);
    assert.match(row!, new RegExp(`^busybox {6}latest {4}${bbId.slice(7, 19)} {3}\\d+ (years|months) ago {3}${humanSize(size).replace('.', '\\.')}$`));
    const q = await d.docker(['images', '-q', 'busybox']);
    assert.equal(q.stdout, `${bbId.slice(7, 19)}\n`);
    const full = await d.docker(['images', '--no-trunc', '--digests', '--format', '{{.ID}} {{.Digest}}', 'busybox']);
    assert.equal(full.stdout, `${bbId} <none>\n`);
  });

  test('docker image inspect: docker\'s JSON shape, -f templates, LastTagTime', async () => {
    const r = await d.docker(['image', 'inspect', 'busybox']);
    assert.equal(r.code, 0, r.stderr);
    const [j] = JSON.parse(r.stdout) as Record<string, unknown>[];
    assert.deepEqual(Object.keys(j!), ['Id', 'RepoTags', 'RepoDigests', 'Parent', 'Comment', 'Created', 'DockerVersion', 'Author', 'Config', 'Architecture', 'Os', 'Size', 'GraphDriver', 'RootFS', 'Metadata']);
    assert.equal(j!.Id, bbId);
    assert.deepEqual(j!.RepoTags, ['busybox:latest']);
    assert.deepEqual(j!.RepoDigests, []);
    assert.equal(j!.Parent, '');
    assert.equal(j!.Created, '2024-01-01T00:00:00Z'); // Go's RFC3339Nano, no ".000"
    const cfg = j!.Config as Record<string, unknown>;
    assert.deepEqual(cfg.Cmd, ['sh']);
    assert.deepEqual(cfg.Env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
    assert.equal(j!.Os, 'linux');
    assert.equal(j!.Architecture, process.arch === 'x64' ? 'amd64' : process.arch);
    assert.deepEqual(j!.RootFS, { Type: 'layers', Layers: [bbDiffId] });
    assert.equal((j!.GraphDriver as { Name: string }).Name, 'overlay2');
    assert.deepEqual(j!.Metadata, { LastTagTime: '0001-01-01T00:00:00Z' }); // loaded, never tagged here
    assert.equal((await d.docker(['image', 'inspect', '-f', '{{.Config.Cmd}}', 'busybox'])).stdout, '[sh]\n');
    const tag = `insp-${randomSuffix()}:v1`;
    assert.equal((await d.docker(['tag', 'busybox', tag])).code, 0);
    const ltt = (await d.docker(['image', 'inspect', '-f', '{{.Metadata.LastTagTime}}', tag])).stdout.trim();
    assert.ok(Math.abs(Date.parse(ltt.replace(/ \+0000 UTC$/, 'Z').replace(' ', 'T')) - Date.now()) < 60_000, ltt);
    assert.match((await d.docker(['image', 'inspect', '-f', '{{json .RepoTags}}', tag])).stdout, new RegExp(`^\\["busybox:latest","${tag}"\\]`));
    const missing = await d.docker(['image', 'inspect', 'nope-nothing']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No such image: nope-nothing:latest/);
    assert.equal((await d.docker(['rmi', tag])).stdout, `Untagged: ${tag}\n`);
  });

  test('docker tag, then images --format and the reference filter', async () => {
    const s = randomSuffix();
    assert.equal((await d.docker(['tag', 'busybox', `busy-${s}:v1`])).code, 0);
    assert.equal((await d.docker(['tag', bbId.slice(7, 19), `other-${s}`])).code, 0);
    const fmt = await d.docker(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']);
    const lines = fmt.stdout.trim().split('\n');
    for (const n of ['busybox:latest', `busy-${s}:v1`, `other-${s}:latest`]) assert.ok(lines.includes(`${n} ${bbId.slice(7, 19)}`), fmt.stdout);
    const ref = await d.docker(['images', '--filter', 'reference=busy*', '--format', '{{.Repository}}:{{.Tag}}']);
    assert.deepEqual(ref.stdout.trim().split('\n').sort(), [`busy-${s}:v1`, 'busybox:latest'].sort());
    const bad = await d.docker(['tag', 'busybox', 'Bad:Name']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /invalid reference format/);
    assert.equal((await d.docker(['rmi', `busy-${s}:v1`, `other-${s}`])).stdout, `Untagged: busy-${s}:v1\nUntagged: other-${s}:latest\n`);
  });

  test('docker import from a file and from stdin, with --change and -m; the image runs', async () => {
    const s = randomSuffix();
    const rootfs = await rootfsTar(`hello-${s}\n`);
    const f = join(tmp, 'rootfs.tar');
    writeFileSync(f, rootfs);
    const imp = await d.docker(['import', '--change', 'CMD ["cat", "/hello"]', '--change', 'ENV A=b', '-m', 'from a file', f, `imp-${s}:1`]);
    assert.equal(imp.code, 0, imp.stderr);
    assert.match(imp.stdout, /^sha256:[a-f0-9]{64}\n$/);
    assert.equal((await d.docker(['run', '--rm', `imp-${s}:1`])).stdout, `hello-${s}\n`);
    assert.equal((await d.docker(['run', '--rm', `imp-${s}:1`, 'sh', '-c', 'echo $A'])).stdout, 'b\n');
    const insp = await d.docker(['image', 'inspect', '-f', '{{.Id}}|{{.Comment}}|{{json .Config.Cmd}}|{{json .Config.Env}}', `imp-${s}:1`]);
    assert.equal(insp.stdout.trim(), `${imp.stdout.trim()}|from a file|["cat","/hello"]|["A=b"]`);
    const hist = await d.docker(['history', '--format', '{{.CreatedBy}}|{{.Comment}}', `imp-${s}:1`]);
    assert.equal(hist.stdout, '|from a file\n');
    // stdin, no message: dockerd's default comment
    const imp2 = await d.docker(['import', '-', `imp-${s}:2`], { input: rootfs });
    assert.equal(imp2.code, 0, imp2.stderr);
    assert.equal((await d.docker(['image', 'inspect', '-f', '{{.Comment}}', `imp-${s}:2`])).stdout, 'Imported from -\n');
    assert.equal((await d.docker(['run', '--rm', `imp-${s}:2`, 'cat', '/hello'])).stdout, `hello-${s}\n`);
    const rmi = await d.docker(['rmi', `imp-${s}:1`, `imp-${s}:2`]);
    assert.equal(rmi.code, 0, rmi.stderr);
    // the two imports share their one layer: it goes with the second image
    assert.match(rmi.stdout, new RegExp(`^Untagged: imp-${s}:1\nDeleted: ${imp.stdout.trim()}\nUntagged: imp-${s}:2\nDeleted: ${imp2.stdout.trim()}\nDeleted: sha256:[a-f0-9]{64}\n$`));
  });

  test('docker save (to a file and to stdout) loads back into a fresh daemon with the same ids', async () => {
    const s = randomSuffix();
    const imp = (await d.docker(['import', '-c', 'CMD ["cat", "/hello"]', '-', `saved-${s}:1`], { input: await rootfsTar(`saved-${s}\n`) })).stdout.trim();
    const f = join(tmp, 'one.tar');
    const one = await d.docker(['save', '-o', f, 'busybox']);
    assert.equal(one.code, 0, one.stderr);
    const files = await readTar(readFileSync(f));
    const manifest = JSON.parse(files.get('manifest.json')!.toString()) as { Config: string; RepoTags: string[]; Layers: string[] }[];
    assert.deepEqual(manifest, [{ Config: `blobs/sha256/${bbId.slice(7)}`, RepoTags: ['busybox:latest'], Layers: [`blobs/sha256/${bbDiffId.slice(7)}`] }]);
    const index = JSON.parse(files.get('index.json')!.toString()) as { manifests: { digest: string; annotations: Record<string, string> }[] };
    assert.equal(index.manifests.length, 1);
    assert.deepEqual(index.manifests[0]!.annotations, { 'io.containerd.image.name': 'docker.io/library/busybox:latest', 'org.opencontainers.image.ref.name': 'latest' });
    assert.ok(files.has(`blobs/sha256/${index.manifests[0]!.digest.slice(7)}`));
    assert.ok(files.has('oci-layout'));
    assert.equal(digestOf(files.get(`blobs/sha256/${bbId.slice(7)}`)!), bbId);

    const many = await dockerBin(d, ['save', 'busybox', `saved-${s}:1`]);
    assert.equal(many.code, 0, many.stderr);
    const m2 = JSON.parse((await readTar(many.stdout)).get('manifest.json')!.toString()) as { RepoTags: string[] }[];
    assert.deepEqual(m2.map((m) => m.RepoTags), [['busybox:latest'], [`saved-${s}:1`]]);

    const fresh = new TestDaemon();
    try {
      await fresh.start();
      const load = await fresh.docker(['load'], { input: many.stdout }); // from stdin
      assert.equal(load.code, 0, load.stderr);
      assert.equal(load.stdout, `Loaded image: busybox:latest\nLoaded image: saved-${s}:1\n`);
      const ids = await fresh.docker(['images', '--no-trunc', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']);
      assert.deepEqual(ids.stdout.trim().split('\n').sort(), [`busybox:latest ${bbId}`, `saved-${s}:1 ${imp}`].sort());
      assert.equal((await fresh.docker(['run', '--rm', `saved-${s}:1`])).stdout, `saved-${s}\n`);
      // a second load of the same archive is a no-op with the same output
      const again = await fresh.docker(['load', '-i', f]);
      assert.equal(again.stdout, 'Loaded image: busybox:latest\n');
      // saved by id: no RepoTags, loaded untagged
      const byId = await dockerBin(d, ['save', imp.slice(7, 19)]);
      const m3 = JSON.parse((await readTar(byId.stdout)).get('manifest.json')!.toString()) as { RepoTags: unknown }[];
      assert.equal(m3[0]!.RepoTags, null);
      await fresh.docker(['rmi', `saved-${s}:1`]);
      const l3 = await fresh.docker(['load'], { input: byId.stdout });
      assert.equal(l3.stdout, `Loaded image ID: ${imp}\n`);
    } finally {
      await fresh.cleanup();
    }
    await d.docker(['rmi', `saved-${s}:1`]);
  });

  test('docker load: the legacy layout (<id>/layer.tar, <id>.json, a symlinked shared layer)', async () => {
    const s = randomSuffix();
    const layer2 = await makeTar([{ name: 'hello', body: `legacy-${s}\n` }]);
    const cfg = (cmd: string[], layers: string[]): Buffer => Buffer.from(JSON.stringify({
      architecture: process.arch === 'x64' ? 'amd64' : process.arch, os: 'linux', created: '2024-02-03T04:05:06.5Z',
      config: { Env: ['PATH=/bin'], Cmd: cmd }, rootfs: { type: 'layers', diff_ids: layers },
      history: [{ created: '2024-01-01T00:00:00Z', created_by: 'busybox' }, { created: '2024-02-03T04:05:06.5Z', created_by: 'add hello' }].slice(0, layers.length),
    }));
    const cfgA = cfg(['cat', '/hello'], [bbDiffId, digestOf(layer2)]);
    const cfgB = cfg(['echo', 'only-busybox'], [bbDiffId]);
    const [a, b, c] = ['a'.repeat(64), 'b'.repeat(64), 'c'.repeat(64)];
    const archive = await makeTar([
      { name: `${a}/`, type: 'directory' },
      { name: `${a}/layer.tar`, body: bbLayer },
      { name: `${a}/VERSION`, body: '1.0' },
      { name: `${b}/`, type: 'directory' },
      { name: `${b}/layer.tar`, body: layer2 },
      { name: `${c}/`, type: 'directory' },
      { name: `${c}/layer.tar`, type: 'symlink', linkname: `../${a}/layer.tar` },
      { name: `${digestOf(cfgA).slice(7)}.json`, body: cfgA },
      { name: `${digestOf(cfgB).slice(7)}.json`, body: cfgB },
      { name: 'manifest.json', body: JSON.stringify([
        { Config: `${digestOf(cfgA).slice(7)}.json`, RepoTags: [`legacy-${s}:1`], Layers: [`${a}/layer.tar`, `${b}/layer.tar`] },
        { Config: `${digestOf(cfgB).slice(7)}.json`, RepoTags: [`legacy-${s}:2`], Layers: [`${c}/layer.tar`] },
      ]) },
      { name: 'repositories', body: JSON.stringify({ [`legacy-${s}`]: { 1: b } }) },
    ]);
    const f = join(tmp, 'legacy.tar');
    writeFileSync(f, archive);
    const r = await d.docker(['load', '-i', f]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `Loaded image: legacy-${s}:1\nLoaded image: legacy-${s}:2\n`);
    assert.equal((await d.docker(['run', '--rm', `legacy-${s}:1`])).stdout, `legacy-${s}\n`);
    assert.equal((await d.docker(['run', '--rm', `legacy-${s}:2`])).stdout, 'only-busybox\n');
    assert.equal((await d.docker(['image', 'inspect', '-f', '{{.Id}} {{.Created}}', `legacy-${s}:1`])).stdout, `${digestOf(cfgA)} 2024-02-03T04:05:06.5Z\n`);
    // legacy-2 is busybox's layers under another config: rmi leaves the shared layer alone
    const rmi = await d.docker(['rmi', `legacy-${s}:1`, `legacy-${s}:2`]);
    assert.equal(rmi.stdout, `Untagged: legacy-${s}:1\nDeleted: ${digestOf(cfgA)}\nDeleted: ${chainId(bbDiffId, digestOf(layer2))}\nUntagged: legacy-${s}:2\nDeleted: ${digestOf(cfgB)}\n`);
    assert.equal((await d.docker(['run', '--rm', 'busybox', 'true'])).code, 0);
  });

  test('docker load: a bare OCI image layout (index.json, no manifest.json)', async () => {
    const s = randomSuffix();
    const layer2 = await makeTar([{ name: 'etc/', type: 'directory' }, { name: 'etc/oci', body: `oci-${s}\n` }]);
    const cfg = Buffer.from(JSON.stringify({ architecture: process.arch === 'x64' ? 'amd64' : process.arch, os: 'linux', config: { Cmd: ['cat', '/etc/oci'] }, rootfs: { type: 'layers', diff_ids: [bbDiffId, digestOf(layer2)] } }));
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(cfg), size: cfg.length },
      layers: [bbLayer, layer2].map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: digestOf(l), size: l.length })),
    }));
    const index = { schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: digestOf(manifest), size: manifest.length, annotations: { 'io.containerd.image.name': `docker.io/library/oci-${s}:1`, 'org.opencontainers.image.ref.name': '1' } }] };
    const archive = await makeTar([
      { name: 'oci-layout', body: '{"imageLayoutVersion":"1.0.0"}' },
      { name: 'index.json', body: JSON.stringify(index) },
      ...[cfg, manifest, bbLayer, layer2].map((b) => ({ name: `blobs/sha256/${digestOf(b).slice(7)}`, body: b })),
    ]);
    const r = await d.docker(['load'], { input: archive });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `Loaded image: oci-${s}:1\n`);
    assert.equal((await d.docker(['run', '--rm', `oci-${s}:1`])).stdout, `oci-${s}\n`);
    await d.docker(['rmi', `oci-${s}:1`]);
  });

  test('docker rmi: untag vs delete, -f, and dockerd\'s conflict texts', async () => {
    const s = randomSuffix();
    const id = (await d.docker(['import', '-c', 'CMD ["sh"]', '-', `rmi-${s}:1`], { input: await rootfsTar('x\n') })).stdout.trim();
    const short = id.slice(7, 19);
    await d.docker(['tag', `rmi-${s}:1`, `rmi-${s}:2`]);
    assert.equal((await d.docker(['rmi', `rmi-${s}:2`])).stdout, `Untagged: rmi-${s}:2\n`);
    const ctr = `rmi-c-${s}`;
    assert.equal((await d.docker(['create', '--name', ctr, `rmi-${s}:1`])).code, 0);
    const ctrShort = (await d.docker(['inspect', '-f', '{{.Id}}', ctr])).stdout.trim().slice(0, 12);
    let r = await d.docker(['rmi', `rmi-${s}:1`]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `Error response from daemon: conflict: unable to remove repository reference "rmi-${s}:1" (must force) - container ${ctrShort} is using its referenced image ${short}\n`);
    r = await d.docker(['rmi', short]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `Error response from daemon: conflict: unable to delete ${short} (must be forced) - image is being used by stopped container ${ctrShort}\n`);
    assert.equal((await d.docker(['rm', ctr])).code, 0);
    await d.docker(['run', '-d', '--name', ctr, `rmi-${s}:1`, 'sleep', '100']);
    const runShort = (await d.docker(['inspect', '-f', '{{.Id}}', ctr])).stdout.trim().slice(0, 12);
    r = await d.docker(['rmi', '-f', short]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `Error response from daemon: conflict: unable to delete ${short} (cannot be forced) - image is being used by running container ${runShort}\n`);
    // by name with force: the tag goes, the image stays for the running container
    r = await d.docker(['rmi', '-f', `rmi-${s}:1`]);
    assert.equal(r.stdout, `Untagged: rmi-${s}:1\n`);
    assert.equal((await d.docker(['image', 'inspect', '-f', '{{.Id}}', short])).stdout.trim(), id);
    await d.docker(['rm', '-f', ctr]);
    // by id, two tags: must be forced, then both go
    await d.docker(['tag', short, `rmi-${s}:3`]);
    await d.docker(['tag', short, `rmi2-${s}:4`]);
    r = await d.docker(['rmi', short]);
    assert.equal(r.stderr, `Error response from daemon: conflict: unable to delete ${short} (must be forced) - image is referenced in multiple repositories\n`);
    r = await d.docker(['rmi', '-f', short]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^Untagged: rmi-${s}:3\nUntagged: rmi2-${s}:4\nDeleted: ${id}\nDeleted: sha256:[a-f0-9]{64}\n$`));
    r = await d.docker(['rmi', `rmi-${s}:3`]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `Error response from daemon: No such image: rmi-${s}:3\n`);
  });

  test('docker history: columns, --no-trunc, -q, --format; parents of a commit get their ids', async () => {
    const r = await d.docker(['history', 'busybox']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines[0], 'IMAGE          CREATED       CREATED BY                                      SIZE      COMMENT');
    assert.match(lines[1]!, new RegExp(`^${bbId.slice(7, 19)}   \\d+ (years|months) ago   /bin/sh -c #\\(nop\\)  CMD \\["sh"\\]                   0B        $`));
    assert.match(lines[2]!, /^<missing>      \d+ (years|months) ago   \/bin\/sh -c #\(nop\) ADD file:busybox-static in… {3}\d+(\.\d+)?MB *$/);
    assert.equal(lines.length, 3);
    const nt = await d.docker(['history', '--no-trunc', '--format', '{{.ID}}', 'busybox']);
    assert.equal(nt.stdout, `${bbId}\n<missing>\n`);
    assert.equal((await d.docker(['history', '-q', 'busybox'])).stdout, `${bbId.slice(7, 19)}\n<missing>\n`);
    const s = randomSuffix();
    const ctr = `hist-${s}`;
    await d.docker(['run', '--name', ctr, 'busybox', 'sh', '-c', 'echo x > /x']);
    const commit = (await d.docker(['commit', ctr, `hist-${s}:1`])).stdout.trim();
    await d.docker(['rm', ctr]);
    const h = await d.docker(['history', '--format', '{{.ID}} {{.Size}}', `hist-${s}:1`]);
    const rows = h.stdout.trim().split('\n');
    assert.equal(rows.length, 3);
    assert.match(rows[0]!, new RegExp(`^${commit.slice(7, 19)} \\d+(\\.\\d+)?k?B$`));
    assert.equal(rows[1], `${bbId.slice(7, 19)} 0B`); // the local parent's id
    assert.match(rows[2]!, /^<missing> /);
    assert.equal((await d.docker(['image', 'inspect', '-f', '{{.Parent}}', `hist-${s}:1`])).stdout.trim(), bbId);
    // busybox now has a child: deleting it by id is a hard conflict
    const del = await d.docker(['rmi', '-f', bbId.slice(7, 19)]);
    assert.equal(del.stderr, `Error response from daemon: conflict: unable to delete ${bbId.slice(7, 19)} (cannot be forced) - image has dependent child images\n`);
    assert.match((await d.docker(['rmi', `hist-${s}:1`])).stdout, new RegExp(`^Untagged: hist-${s}:1\nDeleted: ${commit}\nDeleted: sha256:[a-f0-9]{64}\n$`));
  });

  test('docker images filters: dangling, label, before/since, -a with an untagged parent', async () => {
    const s = randomSuffix();
    const dangling = (await d.docker(['import', '-'], { input: await rootfsTar('d\n') })).stdout.trim();
    const ctr = `lab-${s}`;
    await d.docker(['run', '--name', ctr, 'busybox', 'true']);
    const mid = (await d.docker(['commit', '-c', 'LABEL k=v', ctr, `mid-${s}:1`])).stdout.trim();
    await d.docker(['rm', ctr]);
    await new Promise((res) => setTimeout(res, 1100)); // Created has whole seconds in the list
    await d.docker(['run', '--name', ctr, `mid-${s}:1`, 'true']);
    const top = (await d.docker(['commit', ctr, `top-${s}:1`])).stdout.trim();
    await d.docker(['rm', ctr]);
    const ids = async (...args: string[]): Promise<string[]> => (await d.docker(['images', '--no-trunc', '-q', ...args])).stdout.trim().split('\n').filter(Boolean).sort();
    assert.deepEqual(await ids('--filter', 'dangling=true'), [dangling]);
    const dRow = await d.docker(['images', '--filter', 'dangling=true', '--format', '{{.Repository}} {{.Tag}} {{.ID}}']);
    assert.equal(dRow.stdout, `<none> <none> ${dangling.slice(7, 19)}\n`);
    assert.deepEqual(await ids('--filter', 'label=k=v'), [mid, top].sort()); // top inherits the label
    assert.deepEqual(await ids('--filter', 'label=k=nope'), []);
    assert.deepEqual(await ids('--filter', `since=mid-${s}:1`), [top]);
    assert.ok((await ids('--filter', `before=top-${s}:1`)).includes(mid));
    assert.ok(!(await ids('--filter', `before=top-${s}:1`)).includes(top));
    // mid loses its tag but stays as top's parent: hidden without -a
    assert.equal((await d.docker(['rmi', `mid-${s}:1`])).stdout, `Untagged: mid-${s}:1\n`);
    assert.ok(!(await ids()).includes(mid));
    assert.ok((await ids('-a')).includes(mid));
    assert.deepEqual(await ids('--filter', 'dangling=true'), [dangling]); // not a head: not dangling
    // rmi of top prunes the untagged parent too
    const rmi = await d.docker(['rmi', `top-${s}:1`]);
    assert.match(rmi.stdout, new RegExp(`^Untagged: top-${s}:1\nDeleted: ${top}\nDeleted: sha256:[a-f0-9]{64}\nDeleted: ${mid}\nDeleted: sha256:[a-f0-9]{64}\n$`));
    assert.equal((await d.docker(['rmi', dangling])).code, 0);
  });

  test('docker image prune (-f, -a) and the image part of docker system df', async () => {
    const s = randomSuffix();
    const dangling = (await d.docker(['import', '-'], { input: await rootfsTar('p\n') })).stdout.trim();
    const kept = (await d.docker(['import', '-', `kept-${s}:1`], { input: await rootfsTar('k\n') })).stdout.trim();
    const ctr = `df-${s}`;
    await d.docker(['create', '--name', ctr, 'busybox']);
    const total = (await d.docker(['images', '-aq'])).stdout.trim().split('\n').length;
    const df = await d.docker(['system', 'df']);
    assert.equal(df.code, 0, df.stderr);
    const [head, images] = df.stdout.split('\n');
    assert.equal(head, 'TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE');
    assert.match(images!, new RegExp(`^Images {10}${total} +1 +\\S+ +\\S+ \\(\\d+%\\)$`));
    const dfv = await d.docker(['system', 'df', '-v']);
    assert.match(dfv.stdout, /REPOSITORY +TAG +IMAGE ID +CREATED +SIZE +SHARED SIZE +UNIQUE SIZE +CONTAINERS/);
    assert.match(dfv.stdout, new RegExp(`\\nbusybox +latest +${bbId.slice(7, 19)} .* 1\\n`));
    assert.match(dfv.stdout, new RegExp(`\\nkept-${s} +1 +${kept.slice(7, 19)} .* 0\\n`));

    const p = await d.docker(['image', 'prune', '-f']);
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, new RegExp(`^Deleted Images:\ndeleted: ${dangling}\ndeleted: sha256:[a-f0-9]{64}\n\nTotal reclaimed space: \\d+(\\.\\d+)?[kM]B\n$`));
    const none = await d.docker(['image', 'prune', '-f']);
    assert.equal(none.stdout, 'Total reclaimed space: 0B\n');
    const pa = await d.docker(['image', 'prune', '-a', '-f']);
    assert.equal(pa.code, 0, pa.stderr);
    assert.match(pa.stdout, new RegExp(`^Deleted Images:\nuntagged: kept-${s}:1\ndeleted: ${kept}\ndeleted: sha256:[a-f0-9]{64}\n\nTotal reclaimed space: `));
    // busybox is used by a container: kept
    assert.equal((await d.docker(['images', '-q'])).stdout, `${bbId.slice(7, 19)}\n`);
    await d.docker(['rm', ctr]);
  });
});

/** Length of a tar without its end-of-archive blocks (to append entries). */
function tarEnd(b: Buffer): number {
  let off = 0;
  while (off + 512 <= b.length) {
    const h = b.subarray(off, off + 512);
    if (h.every((x) => x === 0)) return off;
    const size = parseInt(h.subarray(124, 136).toString('latin1').replace(/\0.*$/, '').trim() || '0', 8);
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return off;
}

function chainId(parent: string, diff: string): string {
  return digestOf(`${parent} ${diff}`);
}
