export type { Change, LayerStore, Mount } from './layer-store.ts';
export { applyLayer, compressionOf, zstdDecompress, type ApplyResult, type Compression, type LayerFormat } from './apply-layer.ts';
export { OverlayLayerStore } from './overlay-layer-store.ts';
export { VfsLayerStore } from './vfs-layer-store.ts';
export { exportChanges, exportPath, exportTree } from './diff-tar.ts';
export { mountAll, unmount } from './mount.ts';
