import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  assertValidTag,
  familiarName,
  familiarRepository,
  isValidReference,
  normalizedName,
  parseReference,
  referenceString,
  repositoryName,
  withDefaultTag,
} from './reference.ts';

const HEX = 'b'.repeat(64);
const DIGEST = `sha256:${HEX}`;

describe('parseReference', () => {
  const ok: [string, { domain: string; path: string; tag?: string; digest?: string }, string, string][] = [
    // input, parsed, familiarName, normalizedName
    ['busybox', { domain: 'docker.io', path: 'library/busybox' }, 'busybox:latest', 'docker.io/library/busybox:latest'],
    ['busybox:1.36', { domain: 'docker.io', path: 'library/busybox', tag: '1.36' }, 'busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['library/busybox', { domain: 'docker.io', path: 'library/busybox' }, 'busybox:latest', 'docker.io/library/busybox:latest'],
    ['docker.io/library/busybox:latest', { domain: 'docker.io', path: 'library/busybox', tag: 'latest' }, 'busybox:latest', 'docker.io/library/busybox:latest'],
    ['index.docker.io/busybox', { domain: 'docker.io', path: 'library/busybox' }, 'busybox:latest', 'docker.io/library/busybox:latest'],
    ['docker.io/busybox', { domain: 'docker.io', path: 'library/busybox' }, 'busybox:latest', 'docker.io/library/busybox:latest'],
    ['user/app:v1', { domain: 'docker.io', path: 'user/app', tag: 'v1' }, 'user/app:v1', 'docker.io/user/app:v1'],
    ['docker.io/library/a/b', { domain: 'docker.io', path: 'library/a/b' }, 'library/a/b:latest', 'docker.io/library/a/b:latest'],
    ['localhost:5000/x', { domain: 'localhost:5000', path: 'x' }, 'localhost:5000/x:latest', 'localhost:5000/x:latest'],
    ['localhost/x', { domain: 'localhost', path: 'x' }, 'localhost/x:latest', 'localhost/x:latest'],
    ['127.0.0.1:5000/a/b:tag', { domain: '127.0.0.1:5000', path: 'a/b', tag: 'tag' }, '127.0.0.1:5000/a/b:tag', '127.0.0.1:5000/a/b:tag'],
    ['ghcr.io/org/img:1.0', { domain: 'ghcr.io', path: 'org/img', tag: '1.0' }, 'ghcr.io/org/img:1.0', 'ghcr.io/org/img:1.0'],
    ['[::1]:5000/x', { domain: '[::1]:5000', path: 'x' }, '[::1]:5000/x:latest', '[::1]:5000/x:latest'],
    ['Registry.Example.com/x', { domain: 'Registry.Example.com', path: 'x' }, 'Registry.Example.com/x:latest', 'Registry.Example.com/x:latest'],
    [`busybox@${DIGEST}`, { domain: 'docker.io', path: 'library/busybox', digest: DIGEST }, `busybox@${DIGEST}`, `docker.io/library/busybox@${DIGEST}`],
    [
      `localhost:5000/a:t@${DIGEST}`,
      { domain: 'localhost:5000', path: 'a', tag: 't', digest: DIGEST },
      `localhost:5000/a:t@${DIGEST}`,
      `localhost:5000/a:t@${DIGEST}`,
    ],
    ['a_b/c-d.e__f:TAG_1.x-y', { domain: 'docker.io', path: 'a_b/c-d.e__f', tag: 'TAG_1.x-y' }, 'a_b/c-d.e__f:TAG_1.x-y', 'docker.io/a_b/c-d.e__f:TAG_1.x-y'],
  ];
  for (const [input, parsed, familiar, normalized] of ok) {
    it(`parses ${input}`, () => {
      const ref = parseReference(input);
      assert.deepEqual(ref, parsed);
      assert.equal(familiarName(ref), familiar);
      assert.equal(normalizedName(ref), normalized);
    });
  }

  const bad: [string, string][] = [
    ['', 'invalid reference format'],
    ['Busybox', 'invalid reference format: repository name (library/Busybox) must be lowercase'],
    ['docker.io/Library/busybox', 'invalid reference format: repository name (Library/busybox) must be lowercase'],
    ['busybox:', 'invalid reference format'],
    ['busybox:-tag', 'invalid reference format'],
    ['-busybox', 'invalid reference format'],
    ['busy--box_', 'invalid reference format'],
    ['a//b', 'invalid reference format'],
    [`busybox:${'t'.repeat(129)}`, 'invalid reference format'],
    ['localhost:5000/x@sha256:abc', 'invalid reference format'],
    [`busybox@sha256:${'b'.repeat(63)}`, 'invalid checksum digest length'],
    [`busybox@sha256:${'B'.repeat(64)}`, 'invalid checksum digest format'],
    [`busybox@md5:${'b'.repeat(32)}`, 'unsupported digest algorithm'],
    [HEX, `invalid repository name (${HEX}), cannot specify 64-byte hexadecimal strings`],
    [`${'a'.repeat(250)}/bbbbbbb`, 'repository name must not be more than 255 characters'],
    ['localhost:port/x', 'invalid reference format'],
  ];
  for (const [input, message] of bad) {
    it(`rejects ${JSON.stringify(input.length > 40 ? `${input.slice(0, 40)}…` : input)}`, () => {
      assert.throws(() => parseReference(input), { name: 'BerthError', kind: 'invalid-argument', message });
      assert.equal(isValidReference(input), false);
    });
  }
});

describe('reference helpers', () => {
  it('names repositories with and without the default tag', () => {
    const ref = parseReference('busybox');
    assert.equal(repositoryName(ref), 'docker.io/library/busybox');
    assert.equal(familiarRepository(ref), 'busybox');
    assert.equal(referenceString(ref), 'docker.io/library/busybox');
    assert.deepEqual(withDefaultTag(ref), { ...ref, tag: 'latest' });
    const pinned = parseReference(`busybox@${DIGEST}`);
    assert.equal(withDefaultTag(pinned), pinned);
  });

  it('validates tags', () => {
    assert.equal(assertValidTag('v1.0_rc-1'), 'v1.0_rc-1');
    assert.throws(() => assertValidTag('.bad'), { kind: 'invalid-argument', message: 'invalid tag format' });
    assert.throws(() => assertValidTag('a'.repeat(129)), { kind: 'invalid-argument' });
  });
});
