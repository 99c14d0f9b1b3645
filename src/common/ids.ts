import { createHash, randomBytes } from 'node:crypto';

export type Digest = `sha256:${string}`;
/** A full 64-hex container or exec id. */
export type ContainerId = string & { readonly __brand: 'ContainerId' };

export const newId = (): string => randomBytes(32).toString('hex');
export const shortId = (id: string): string => id.replace(/^sha256:/, '').slice(0, 12);
export const sha256 = (data: string | Uint8Array): Digest => `sha256:${createHash('sha256').update(data).digest('hex')}`;
export const isDigest = (s: string): s is Digest => /^sha256:[a-f0-9]{64}$/.test(s);
export const hexOf = (d: Digest): string => d.slice(7);

export function assertDigest(s: unknown): Digest {
  if (typeof s !== 'string' || !isDigest(s)) throw new Error(`invalid digest: ${String(s)}`);
  return s;
}

/** Docker-style random container names: adjective_surname. */
const LEFT = ['admiring', 'bold', 'brave', 'clever', 'dazzling', 'eager', 'elegant', 'festive', 'focused', 'gallant', 'happy', 'jolly', 'keen', 'kind', 'lucid', 'nifty', 'quirky', 'serene', 'sharp', 'vibrant', 'wizardly', 'zealous'];
const RIGHT = ['albattani', 'babbage', 'bell', 'curie', 'darwin', 'einstein', 'euler', 'fermat', 'galileo', 'hopper', 'hypatia', 'kepler', 'lovelace', 'meitner', 'newton', 'noether', 'pascal', 'ritchie', 'shannon', 'tesla', 'turing', 'wozniak'];
export function randomName(): string {
  const b = randomBytes(2);
  return `${LEFT[b[0]! % LEFT.length]}_${RIGHT[b[1]! % RIGHT.length]}`;
}
