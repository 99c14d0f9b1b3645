// Docker image references: parsing, normalisation and the familiar (short) form.
// The grammar and messages are those of github.com/distribution/reference (Docker's own parser):
//
//   reference  := name [ ":" tag ] [ "@" digest ]
//   name       := [domain '/'] path-component ['/' path-component]*
//   domain     := host [':' port-number]
//   tag        := /[\w][\w.-]{0,127}/
//   digest     := algorithm ":" hex
import { BerthError } from '../common/index.ts';

/** A parsed, normalised reference: `docker.io/library/busybox:latest` is `{ domain: 'docker.io', path: 'library/busybox', tag: 'latest' }`. */
export interface ImageReference {
  domain: string;
  path: string;
  tag?: string;
  digest?: string;
}

export const DEFAULT_DOMAIN = 'docker.io';
export const DEFAULT_TAG = 'latest';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
const NAME_TOTAL_LENGTH_MAX = 255;

const ALPHANUMERIC = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALPHANUMERIC}(?:${SEPARATOR}${ALPHANUMERIC})*`;
const DOMAIN_NAME_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_NAME = `${DOMAIN_NAME_COMPONENT}(?:\\.${DOMAIN_NAME_COMPONENT})*`;
const IPV6_ADDRESS = '\\[(?:[a-fA-F0-9:]+)\\]';
const HOST = `(?:${DOMAIN_NAME}|${IPV6_ADDRESS})`;
const DOMAIN_AND_PORT = `${HOST}(?::[0-9]+)?`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';
const NAME = `(?:${DOMAIN_AND_PORT}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;

const REFERENCE_RE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
const TAG_RE = new RegExp(`^${TAG}$`);
const IDENTIFIER_RE = /^[a-f0-9]{64}$/;
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

const invalid = (message: string): BerthError => new BerthError('invalid-argument', message);

/**
 * Parses a reference as `docker pull` does (ParseNormalizedNamed): a name without a registry gets
 * `docker.io`, a single-component Docker Hub name gets `library/`, `index.docker.io` becomes `docker.io`.
 * The tag is left unset when absent (see withDefaultTag). Throws invalid-argument with Docker's messages:
 * `invalid reference format`, `invalid reference format: repository name (library/Busybox) must be lowercase`,
 * `repository name must have at least one component`, `repository name must not be more than 255 characters`,
 * `invalid repository name (<hex>), cannot specify 64-byte hexadecimal strings`, and digest errors.
 */
export function parseReference(s: string): ImageReference {
  if (IDENTIFIER_RE.test(s)) {
    throw invalid(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  }
  const [domain, remainder] = splitDockerDomain(s);
  const tagSep = remainder.indexOf(':');
  const remoteName = tagSep > -1 ? remainder.slice(0, tagSep) : remainder;
  if (remoteName.toLowerCase() !== remoteName) {
    throw invalid(`invalid reference format: repository name (${remoteName}) must be lowercase`);
  }
  const ref = parseAny(`${domain}/${remainder}`);
  const [d, path] = splitDomain(ref.name);
  const out: ImageReference = { domain: d, path };
  if (ref.tag !== undefined) out.tag = ref.tag;
  if (ref.digest !== undefined) out.digest = ref.digest;
  return out;
}

/** True when `s` parses as a reference. */
export function isValidReference(s: string): boolean {
  try {
    parseReference(s);
    return true;
  } catch {
    return false;
  }
}

/** Validates a tag on its own (`docker tag img repo:TAG`). Throws invalid-argument `invalid tag format`. */
export function assertValidTag(tag: string): string {
  if (!TAG_RE.test(tag)) throw invalid('invalid tag format');
  return tag;
}

/** Adds the `latest` tag when the reference has neither tag nor digest (TagNameOnly / WithDefaultTag). */
export function withDefaultTag(ref: ImageReference): ImageReference {
  return ref.tag === undefined && ref.digest === undefined ? { ...ref, tag: DEFAULT_TAG } : ref;
}

/** `docker.io/library/busybox`: the full repository name, without tag or digest. */
export function repositoryName(ref: ImageReference): string {
  return `${ref.domain}/${ref.path}`;
}

/** `busybox`, `user/app`, `localhost:5000/x`: the repository as Docker shows it. */
export function familiarRepository(ref: ImageReference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return `${ref.domain}/${ref.path}`;
  const rest = ref.path.startsWith(OFFICIAL_REPO_PREFIX) ? ref.path.slice(OFFICIAL_REPO_PREFIX.length) : undefined;
  // compat: only a single remaining component loses `library/` (docker.io/library/a/b stays library/a/b).
  return rest !== undefined && !rest.includes('/') ? rest : ref.path;
}

/** `busybox:latest` (the default tag is added when there is neither tag nor digest), `busybox@sha256:…`. */
export function familiarName(ref: ImageReference): string {
  return format(familiarRepository(ref), withDefaultTag(ref));
}

/** `docker.io/library/busybox:latest` (the default tag is added when there is neither tag nor digest). */
export function normalizedName(ref: ImageReference): string {
  return format(repositoryName(ref), withDefaultTag(ref));
}

/** The reference exactly as parsed, fully qualified, without adding a default tag. */
export function referenceString(ref: ImageReference): string {
  return format(repositoryName(ref), ref);
}

function format(name: string, ref: ImageReference): string {
  return name + (ref.tag !== undefined ? `:${ref.tag}` : '') + (ref.digest !== undefined ? `@${ref.digest}` : '');
}

function splitDockerDomain(name: string): [string, string] {
  const i = name.indexOf('/');
  let domain: string;
  let remainder: string;
  const first = i === -1 ? '' : name.slice(0, i);
  // compat: the first component is a registry only if it looks like one: it has a dot or a port, is
  // `localhost`, or has upper-case letters (which a path component cannot have).
  if (i === -1 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    domain = DEFAULT_DOMAIN;
    remainder = name;
  } else {
    domain = first;
    remainder = name.slice(i + 1);
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_REPO_PREFIX + remainder;
  return [domain, remainder];
}

/** Splits a matched name into domain and path, the way distribution/reference does after matching. */
function splitDomain(name: string): [string, string] {
  const m = new RegExp(`^(?:(${DOMAIN_AND_PORT})/)?(${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)$`).exec(name);
  if (!m) throw invalid('invalid reference format');
  return [m[1] ?? '', m[2]!];
}

function parseAny(s: string): { name: string; tag?: string; digest?: string } {
  const m = REFERENCE_RE.exec(s);
  if (!m) {
    if (s === '') throw invalid('repository name must have at least one component');
    if (REFERENCE_RE.test(s.toLowerCase())) throw invalid('repository name must be lowercase');
    throw invalid('invalid reference format');
  }
  const name = m[1]!;
  if (name.length > NAME_TOTAL_LENGTH_MAX) throw invalid(`repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`);
  const out: { name: string; tag?: string; digest?: string } = { name };
  if (m[2] !== undefined) out.tag = m[2];
  if (m[3] !== undefined) out.digest = validateDigest(m[3]);
  return out;
}

// go-digest's Validate: a known algorithm, lower-case hex of the algorithm's length.
function validateDigest(d: string): string {
  const i = d.indexOf(':');
  const alg = d.slice(0, i);
  const hex = d.slice(i + 1);
  const len = DIGEST_HEX_LENGTH[alg];
  if (len === undefined) {
    // compat: go-digest reports an invalid format for algorithm names it cannot parse, unsupported otherwise.
    throw invalid(/^[a-z0-9]+(?:[.+_-][a-z0-9]+)*$/.test(alg) ? 'unsupported digest algorithm' : 'invalid checksum digest format');
  }
  if (hex.length !== len) throw invalid('invalid checksum digest length');
  if (!/^[a-f0-9]*$/.test(hex)) throw invalid('invalid checksum digest format');
  return d;
}
