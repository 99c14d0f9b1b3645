// Builder benchmarks: a 10-instruction Dockerfile with a 200-file context through the docker CLI →
// berthd, fully cached and with --no-cache, beside the same steps as one shell script in one
// container (the floor), all interleaved in the same invocation.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG, type Ctx } from './core.ts';
import { addRow, col, newVariant, runInterleaved, say, stats, timed, type Variant } from './lib.ts';

const verdict = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');
const retire = (v: Variant): string => `n/a (${(v.error ?? '').slice(0, 60)})`;

/** The steps, as a Dockerfile and as the equivalent script the floor runs. */
const DOCKERFILE = `FROM busybox
ENV APP=/app
WORKDIR /app
COPY files/ /app/files/
RUN cat /app/files/* | md5sum > /app/sum
RUN mkdir -p /app/out && cp -r /app/files /app/out/ && ls /app/out/files | wc -l > /app/count
LABEL bench=build
EXPOSE 8080
USER nobody
CMD ["cat", "/app/sum"]
`;
const SCRIPT = 'mkdir -p /app/files && cp -r /ctx/files/. /app/files/ && cat /app/files/* | md5sum > /app/sum && mkdir -p /app/out && cp -r /app/files /app/out/ && ls /app/out/files | wc -l > /app/count';

export async function benchBuild(ctx: Ctx): Promise<void> {
  const { d } = ctx;
  const { n, warmup } = CONFIG;
  const dir = mkdtempSync('/tmp/berth-bench-build-');
  try {
    mkdirSync(join(dir, 'files'));
    for (let i = 0; i < 200; i++) writeFileSync(join(dir, 'files', `f${String(i).padStart(3, '0')}.txt`), `file ${i}\n`.repeat(1 + (i % 50)));
    writeFileSync(join(dir, 'Dockerfile'), DOCKERFILE);
    say(`\n== build: 10-instruction Dockerfile, 200-file context; warm-up ${warmup}, then N=${n}; variants interleaved ==`);
    const first = await timed('docker', ['build', '-t', 'bench:build', dir], { env: d.env });
    if (first.code !== 0) throw new Error(`first build failed: ${first.stderr.trim()}`);
    const cached = newVariant('cached rebuild', async () => {
      const r = await timed('docker', ['build', '-t', 'bench:build', dir], { env: d.env });
      if (r.code === 0 && (r.stdout.match(/Using cache/g) ?? []).length !== 9) return { ...r, code: 99, stderr: `expected 9 cache hits:\n${r.stdout}` };
      return r;
    });
    const noCache = newVariant('--no-cache build', () => timed('docker', ['build', '--no-cache', '-t', 'bench:nocache', dir], { env: d.env }));
    const floor = newVariant('floor: one container, one script', () => timed('docker', ['run', '--rm', '-v', `${dir}:/ctx:ro`, 'busybox', 'sh', '-c', SCRIPT], { env: d.env }));
    await runInterleaved([cached, noCache, floor], warmup, n, retire);
    const med = (v: Variant): number | undefined => (v.samples.length && !v.na ? stats(v.samples).median : undefined);
    const fm = med(floor);
    const cm = med(cached);
    const nm = med(noCache);
    const nr = nm !== undefined && fm ? nm / fm : undefined;
    say(`cached rebuild ${col(cached)}   --no-cache ${col(noCache)}   floor ${col(floor)}   no-cache/floor ${nr?.toFixed(2) ?? '–'}×`);
    for (const v of [cached, noCache, floor]) if (v.error) say(`  ${v.name}: ${v.failures} failure(s), last: ${v.error}`);
    addRow({ section: 'build', metric: 'cached rebuild, docker CLI→berthd', value: col(cached), baseline: 'dockerd BuildKit 93 ms, classic 165 ms (issue)', goal: '≤ 100 ms', verdict: cm !== undefined ? verdict(cm <= 100) : '' });
    addRow({ section: 'build', metric: '--no-cache build, docker CLI→berthd', value: col(noCache), baseline: `floor (one container, same script) ${col(floor)}`, ratio: nr !== undefined ? `${nr.toFixed(2)}×` : '–', goal: '≤ 1.2× floor', verdict: nr !== undefined ? verdict(nr <= 1.2) : '' });
  } finally {
    await d.docker(['rmi', '-f', 'bench:build', 'bench:nocache']).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}
