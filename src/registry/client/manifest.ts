// Manifests as they come from a registry: validated once, here, where they enter.
import { BerthError, isDigest, type Digest } from '../../common/index.ts';
import { MediaType, hostArch, type Descriptor } from '../../oci/index.ts';

/** The most manifest bytes we read (the distribution spec lets registries refuse more than 4 MiB). */
export const MAX_MANIFEST = 4 * 1024 * 1024;
/** The most config bytes we read. */
export const MAX_CONFIG = 8 * 1024 * 1024;

/** What a manifest GET asks for, best first. Schema1 is not asked for, and is refused if sent. */
export const MANIFEST_ACCEPT = [MediaType.OciIndex, MediaType.DockerManifestList, MediaType.OciManifest, MediaType.DockerManifest].join(', ');

const SCHEMA1 = ['application/vnd.docker.distribution.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v1+prettyjws'];
const INDEX_TYPES: string[] = [MediaType.OciIndex, MediaType.DockerManifestList];
const MANIFEST_TYPES: string[] = [MediaType.OciManifest, MediaType.DockerManifest];
const CONFIG_TYPES: string[] = [MediaType.DockerConfig, MediaType.OciConfig];
export const GZIP_LAYERS: string[] = [MediaType.DockerLayer, MediaType.OciLayerGzip, 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip', 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip'];
const TAR_LAYERS: string[] = [MediaType.OciLayer, 'application/vnd.docker.image.rootfs.diff.tar', 'application/vnd.oci.image.layer.nondistributable.v1.tar'];
const ZSTD_LAYERS: string[] = [MediaType.OciLayerZstd, 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd'];

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export type ParsedManifest =
  | { kind: 'index'; mediaType: string; manifests: Descriptor[] }
  | { kind: 'manifest'; mediaType: string; config: Descriptor; layers: Descriptor[] };

const bad = (what: string): BerthError => new BerthError('invalid-argument', `invalid manifest: ${what}`);

/** `schema1 … has been removed`, as dockerd 28 words it. */
export function schema1Error(ref: string): BerthError {
  return new BerthError('invalid-argument', `[DEPRECATION NOTICE] Docker Image Format v1 and Docker Image manifest version 2, schema 1 support has been removed. Suggest the author of ${ref} to upgrade the image to the OCI Format or Docker Image manifest v2, schema 2. More information at https://docs.docker.com/go/deprecated-image-specs/`);
}

function descriptor(d: unknown, where: string): Descriptor {
  if (typeof d !== 'object' || d === null) throw bad(`${where} is not a descriptor`);
  const o = d as Record<string, unknown>;
  if (typeof o.digest !== 'string' || !isDigest(o.digest)) throw bad(`${where} has an invalid or unsupported digest ${JSON.stringify(o.digest)}`);
  if (typeof o.size !== 'number' || !Number.isSafeInteger(o.size) || o.size < 0) throw bad(`${where} has an invalid size`);
  if (o.mediaType !== undefined && typeof o.mediaType !== 'string') throw bad(`${where} has an invalid mediaType`);
  const out: Descriptor = { mediaType: (o.mediaType as string | undefined) ?? '', digest: o.digest, size: o.size };
  if (typeof o.platform === 'object' && o.platform !== null) {
    const p = o.platform as Record<string, unknown>;
    if (typeof p.os === 'string' && typeof p.architecture === 'string') {
      out.platform = { os: p.os, architecture: p.architecture, ...(typeof p.variant === 'string' ? { variant: p.variant } : {}) };
    }
  }
  if (typeof o.annotations === 'object' && o.annotations !== null) out.annotations = o.annotations as Record<string, string>;
  return out;
}

/**
 * Parse a manifest or index. `contentType` is the answer's Content-Type. invalid-argument for
 * malformed JSON, a schema1 manifest, or a mediaType (in the body or the header) that contradicts
 * the body's shape; not-implemented for zstd layers is left to the caller (see layerCompression).
 */
export function parseManifest(raw: Buffer, contentType: string | undefined, ref: string): ParsedManifest {
  if (raw.length > MAX_MANIFEST) throw bad(`${raw.length} bytes is over the ${MAX_MANIFEST}-byte limit`);
  let j: unknown;
  try {
    j = JSON.parse(raw.toString('utf8'));
  } catch {
    throw bad('not JSON');
  }
  if (typeof j !== 'object' || j === null || Array.isArray(j)) throw bad('not a JSON object');
  const o = j as Record<string, unknown>;
  const ct = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (o.schemaVersion === 1 || SCHEMA1.includes(ct)) throw schema1Error(ref);
  if (o.schemaVersion !== 2) throw bad(`unsupported schemaVersion ${JSON.stringify(o.schemaVersion)}`);
  const declared = o.mediaType;
  if (declared !== undefined && typeof declared !== 'string') throw bad('mediaType is not a string');
  const isIndex = Array.isArray(o.manifests);
  const isManifest = o.config !== undefined || o.layers !== undefined;
  if (isIndex && isManifest) throw bad('it has both manifests and config/layers');
  if (!isIndex && !isManifest) throw bad('it has neither manifests nor config and layers');
  // A body must be what it says it is, and what the registry says it is: a manifest that claims
  // to be an index (or the reverse) is refused rather than guessed at.
  for (const [claim, source] of [[declared, 'its mediaType'], [ct, 'the Content-Type']] as const) {
    if (!claim) continue;
    if (isIndex && MANIFEST_TYPES.includes(claim)) throw bad(`${source} ${claim} contradicts its content (an index)`);
    if (isManifest && INDEX_TYPES.includes(claim)) throw bad(`${source} ${claim} contradicts its content (an image manifest)`);
    if (SCHEMA1.includes(claim)) throw schema1Error(ref);
  }
  if (declared && !INDEX_TYPES.includes(declared) && !MANIFEST_TYPES.includes(declared)) throw bad(`unsupported mediaType ${declared}`);
  if (isIndex) {
    const manifests = (o.manifests as unknown[]).map((d, i) => descriptor(d, `manifests[${i}]`));
    return { kind: 'index', mediaType: declared || (INDEX_TYPES.includes(ct) ? ct : MediaType.OciIndex), manifests };
  }
  if (!Array.isArray(o.layers)) throw bad('layers is not a list');
  const config = descriptor(o.config, 'config');
  if (config.mediaType && !CONFIG_TYPES.includes(config.mediaType)) {
    throw new BerthError('invalid-argument', `unsupported config media type ${config.mediaType}: this is not a container image`);
  }
  if (config.size > MAX_CONFIG) throw bad(`config is ${config.size} bytes, over the ${MAX_CONFIG}-byte limit`);
  const layers = o.layers.map((d, i) => descriptor(d, `layers[${i}]`));
  return { kind: 'manifest', mediaType: declared || (MANIFEST_TYPES.includes(ct) ? ct : MediaType.OciManifest), config, layers };
}

/** How a layer blob is compressed, from its media type. invalid-argument for a type that is not a layer. */
export function layerCompression(d: Descriptor): 'gzip' | 'none' | 'zstd' {
  if (GZIP_LAYERS.includes(d.mediaType)) return 'gzip';
  if (TAR_LAYERS.includes(d.mediaType)) return 'none';
  if (ZSTD_LAYERS.includes(d.mediaType)) return 'zstd';
  throw new BerthError('invalid-argument', `unsupported layer media type ${JSON.stringify(d.mediaType)} for ${d.digest}`);
}

/** `linux/amd64`, `linux/arm64/v8`, `amd64`; default the host's. invalid-argument when malformed. */
export function parsePlatform(s: string | undefined): Platform {
  if (!s) return { os: 'linux', architecture: hostArch() };
  const parts = s.toLowerCase().split('/');
  if (parts.some((p) => !/^[a-z0-9_.-]+$/.test(p)) || parts.length > 3) throw new BerthError('invalid-argument', `"${s}": unknown operating system or architecture: invalid argument`);
  if (parts.length === 1) return { os: 'linux', architecture: normalizeArch(parts[0]!) };
  const [os, arch, variant] = parts as [string, string, string | undefined];
  return { os, architecture: normalizeArch(arch), ...(variant ? { variant } : {}) };
}

function normalizeArch(a: string): string {
  return ({ x86_64: 'amd64', x86: '386', aarch64: 'arm64', armhf: 'arm', armel: 'arm' } as Record<string, string>)[a] ?? a;
}

export const platformString = (p: Platform): string => [p.os, p.architecture, p.variant].filter(Boolean).join('/');

/**
 * The index entry for `want`: same os and architecture, and the variant if one is asked for
 * (arm64's `v8` counts as none). Attestation entries (`unknown/unknown`) never match.
 * not-found with dockerd's text when nothing matches.
 */
export function selectPlatform(manifests: Descriptor[], want: Platform): Descriptor {
  const v = (x: string | undefined, arch: string): string => (arch === 'arm64' && (x === 'v8' || x === undefined) ? '' : (x ?? ''));
  const candidates = manifests.filter((m) => m.platform && m.platform.os !== 'unknown' && m.platform.os === want.os && m.platform.architecture === want.architecture && MANIFEST_TYPES.concat(INDEX_TYPES, ['']).includes(m.mediaType));
  const exact = candidates.find((m) => v(m.platform!.variant, want.architecture) === v(want.variant, want.architecture));
  const pick = exact ?? (want.variant ? undefined : candidates[0]);
  if (!pick) throw new BerthError('not-found', `no matching manifest for ${platformString(want)} in the manifest list entries`);
  return pick;
}

/** The manifest digest a reference names, or undefined for a tag. */
export function digestOfRef(tagOrDigest: string): Digest | undefined {
  return isDigest(tagOrDigest) ? tagOrDigest : undefined;
}
