import { VfsLayerStore } from './vfs-layer-store.ts';
import { layerStoreSuite } from './testsuite.ts';

layerStoreSuite('vfs', async (root) => new VfsLayerStore(root));
