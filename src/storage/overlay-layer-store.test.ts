import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { OverlayLayerStore } from './overlay-layer-store.ts';
import { layerStoreSuite } from './testsuite.ts';

layerStoreSuite('overlay', async (root) => new OverlayLayerStore(root));

test('isSupported mounts a real overlay and cleans up', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'berth-ovl-check-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  assert.equal(await OverlayLayerStore.isSupported(root), true);
});

test('a chain too long for one page of mount options is refused', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'berth-ovl-long-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const store = new OverlayLayerStore(root);
  let parent: string | null = null;
  let refused: unknown;
  for (let i = 0; i < 300 && refused === undefined; i++) {
    try {
      await store.prepare(`a${i}`, parent);
    } catch (err) {
      refused = err;
      break;
    }
    await store.commit(`c${i}`, `a${i}`);
    parent = `c${i}`;
  }
  assert.match(String((refused as Error | undefined)?.message), /too many layers/);
});
