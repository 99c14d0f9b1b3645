// `berthd --check-store`: open a data root offline and verify that metadata, layers and blobs agree.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { ContentStore, MetadataStore } from '../store/index.ts';
import { OverlayLayerStore, VfsLayerStore, type LayerStore } from '../storage/index.ts';
import { chainIds } from '../engine/index.ts';
import type { ImageConfig } from '../oci/index.ts';

/** Problems found (empty when the store is consistent). */
export async function checkStore(dataRoot: string): Promise<string[]> {
  const meta = MetadataStore.open(dataRoot);
  const blobs = await ContentStore.open(dataRoot);
  const problems = meta.check();
  try {
    const drivers: LayerStore[] = [new OverlayLayerStore(join(dataRoot, 'overlay')), new VfsLayerStore(join(dataRoot, 'vfs'))];
    const snapshots = new Map<string, string>();
    for (const d of drivers) for (const s of await d.list().catch(() => [])) snapshots.set(s.key, s.kind);
    for (const l of meta.listLayers()) {
      if (snapshots.get(l.chainId) !== 'committed') problems.push(`layer ${l.chainId} has no committed snapshot`);
      if (!(await blobs.has(l.blob))) problems.push(`layer ${l.chainId}: blob ${l.blob} missing`);
    }
    for (const img of meta.listImages()) {
      let cfg: ImageConfig;
      try {
        cfg = JSON.parse((await blobs.get(img.id)).toString()) as ImageConfig;
      } catch {
        problems.push(`image ${img.id}: config blob missing or unreadable`);
        continue;
      }
      for (const c of chainIds(cfg.rootfs.diff_ids)) if (!meta.getLayer(c)) problems.push(`image ${img.id}: layer ${c} missing`);
    }
    for (const c of meta.listContainers<{ id: string; snapshot: string; imageId: string }>()) {
      if (!snapshots.has(c.snapshot)) problems.push(`container ${c.id}: snapshot missing`);
      if (!meta.getImage(c.imageId)) problems.push(`container ${c.id}: image ${c.imageId} missing`);
    }
    for (const d of await blobs.list()) {
      const h = createHash('sha256');
      for await (const chunk of createReadStream(blobs.path(d))) h.update(chunk as Buffer);
      if (`sha256:${h.digest('hex')}` !== d) problems.push(`blob ${d}: content does not match its digest`);
    }
  } finally {
    meta.close();
  }
  return problems;
}
