// Build a busybox:latest image offline from Debian's busybox-static, as a docker-save archive.
// Usage: busybox-image [--busybox /bin/busybox] [--tag busybox:latest] -o busybox.tar   (or to stdout)
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { createWriteStream, readFileSync, statSync } from 'node:fs';
import tar, { type Header } from 'tar-stream';

const EPOCH = new Date('2024-01-01T00:00:00Z');

function args(): { busybox: string; tag: string; out?: string } {
  const a = process.argv.slice(2);
  const o: { busybox: string; tag: string; out?: string } = { busybox: '/bin/busybox', tag: 'busybox:latest' };
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '--busybox') o.busybox = a[++i]!;
    else if (a[i] === '--tag') o.tag = a[++i]!;
    else if (a[i] === '-o' || a[i] === '--output') o.out = a[++i]!;
    else throw new Error(`unknown argument ${a[i]}`);
  }
  return o;
}

const PASSWD = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
`;
const GROUP = `root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
kmem:x:9:
wheel:x:10:root
cdrom:x:11:
dialout:x:18:
floppy:x:19:
video:x:28:
audio:x:29:
tape:x:32:
www-data:x:33:
operator:x:37:
utmp:x:43:
plugdev:x:46:
staff:x:50:
lock:x:54:
netdev:x:82:
users:x:100:
nogroup:x:65534:
`;

/** The layer: /bin/busybox, one symlink per applet, the base directories and account files. */
async function layerTar(busybox: string): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((r) => pack.on('end', () => r()));
  const entry = (h: Partial<Header> & { name: string }, body?: Buffer): Promise<void> =>
    new Promise((res, rej) => pack.entry({ uid: 0, gid: 0, mtime: EPOCH, ...h }, body ?? null as unknown as Buffer, (e) => (e ? rej(e) : res())));
  const dirs: [string, number][] = [['bin', 0o755], ['dev', 0o755], ['etc', 0o755], ['home', 0o755], ['proc', 0o755], ['root', 0o700], ['sbin', 0o755], ['sys', 0o755], ['tmp', 0o1777], ['usr', 0o755], ['usr/bin', 0o755], ['usr/sbin', 0o755], ['var', 0o755], ['var/spool', 0o755], ['var/spool/mail', 0o755], ['var/www', 0o755]];
  for (const [d, mode] of dirs) await entry({ name: `${d}/`, type: 'directory', mode });
  const bin = readFileSync(busybox);
  await entry({ name: 'bin/busybox', type: 'file', mode: statSync(busybox).mode & 0o7777 || 0o755, size: bin.length }, bin);
  const applets = execFileSync(busybox, ['--list-full'], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
  for (const a of applets) {
    if (a === 'bin/busybox') continue;
    const depth = a.split('/').length - 1;
    await entry({ name: a, type: 'symlink', linkname: `${'../'.repeat(depth)}bin/busybox`, mode: 0o777 });
  }
  await entry({ name: 'etc/passwd', type: 'file', mode: 0o644, size: PASSWD.length }, Buffer.from(PASSWD));
  await entry({ name: 'etc/group', type: 'file', mode: 0o644, size: GROUP.length }, Buffer.from(GROUP));
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

async function main(): Promise<void> {
  const o = args();
  const layer = await layerTar(o.busybox);
  const diffId = `sha256:${createHash('sha256').update(layer).digest('hex')}`;
  const version = execFileSync(o.busybox, [], { encoding: 'utf8' }).split('\n')[0] ?? 'BusyBox';
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const config = {
    architecture: arch, os: 'linux', created: EPOCH.toISOString(),
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'] },
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [
      { created: EPOCH.toISOString(), created_by: `/bin/sh -c #(nop) ADD file:busybox-static in / # ${version.trim()}` },
      { created: EPOCH.toISOString(), created_by: '/bin/sh -c #(nop)  CMD ["sh"]', empty_layer: true },
    ],
  };
  const cfgRaw = Buffer.from(JSON.stringify(config));
  const cfgHex = createHash('sha256').update(cfgRaw).digest('hex');
  const layerHex = diffId.slice(7);
  const manifest = [{ Config: `blobs/sha256/${cfgHex}`, RepoTags: [o.tag], Layers: [`blobs/sha256/${layerHex}`] }];
  const out = tar.pack();
  const sink = o.out ? createWriteStream(o.out) : process.stdout;
  out.pipe(sink);
  const add = (name: string, data: Buffer): Promise<void> =>
    new Promise((res, rej) => out.entry({ name, mtime: EPOCH, mode: 0o644, size: data.length }, data, (e) => (e ? rej(e) : res())));
  await add(`blobs/sha256/${layerHex}`, layer);
  await add(`blobs/sha256/${cfgHex}`, cfgRaw);
  await add('manifest.json', Buffer.from(JSON.stringify(manifest)));
  out.finalize();
  await new Promise<void>((r) => sink.on('finish', () => r()).on('close', () => r()));
  process.stderr.write(`built ${o.tag} (image sha256:${cfgHex.slice(0, 12)}, ${layer.length} bytes layer)\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`busybox-image: ${(err as Error).message}\n`);
  process.exit(1);
});
