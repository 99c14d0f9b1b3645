import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, readConfigFile } from './config.ts';

test('registry flags: mirrors for Docker Hub or any registry, add-registry, chunk size', () => {
  const { config, set } = parseArgs(['--registry-mirror', 'https://mirror.example', '--registry-mirror=127.0.0.1:5000=http://127.0.0.1:6000/', '--add-registry', 'reg.example:5000', '--add-registry=quay.example', '--registry-chunk-size', '1048576']);
  assert.deepEqual(config.registryMirrors, ['https://mirror.example/', '127.0.0.1:5000=http://127.0.0.1:6000/']);
  assert.deepEqual(config.addRegistries, ['reg.example:5000', 'quay.example']);
  assert.equal(config.registryChunkSize, 1048576);
  assert.ok(set.has('addRegistries') && set.has('registryMirrors'));
  assert.throws(() => parseArgs(['--registry-mirror', 'https://m.example/path']), /path, query, or fragment/);
  assert.throws(() => parseArgs(['--add-registry', 'https://x']), /should not contain/);
  assert.throws(() => parseArgs(['--registry-chunk-size', '0']), /invalid --registry-chunk-size/);
});

test('daemon.json: the same settings; a missing default file is fine, a missing named one is not', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-cfg-'));
  t.after(() => rm(dir, { recursive: true }));
  const p = join(dir, 'daemon.json');
  writeFileSync(p, JSON.stringify({ 'insecure-registries': ['10.0.0.0/8', 'reg.lan:5000'], 'registry-mirrors': ['reg.lan:5000=https://mirror.lan'], 'add-registry': ['reg.lan:5000'], 'registry-chunk-size': 4096 }));
  assert.deepEqual(await readConfigFile(p), {
    insecureRegistries: ['10.0.0.0/8', 'reg.lan:5000'], registryMirrors: ['reg.lan:5000=https://mirror.lan/'], addRegistries: ['reg.lan:5000'], registryChunkSize: 4096,
  });
  assert.deepEqual(await readConfigFile(join(dir, 'absent.json'), true), {});
  await assert.rejects(readConfigFile(join(dir, 'absent.json')), /unable to configure the daemon with file/);
  writeFileSync(p, JSON.stringify({ 'add-registry': 'x' }));
  await assert.rejects(readConfigFile(p), /add-registry must be a list of strings/);
});
