// Binary-safe PAX records on top of tar-stream.
//
// tar-stream decodes every PAX record value as UTF-8 (and encodes them from JS strings), which
// corrupts binary `SCHILY.xattr.*` values such as `security.capability`. It does not expose the raw
// PAX header either, so we hook one private method on each instance:
//   - extract: `_decodeLongHeader(buf)` sees the raw body of every long header; we copy PAX ones.
//   - pack:    `_encodePax(header)` writes the PAX header; we write our own raw record body instead.
// Both hooks check that the method exists and fail loudly otherwise; apply-layer.test.ts and the
// export round trip in the layer-store suite break if tar-stream's internals change (pinned ^3).
import tar from 'tar-stream';
import { BerthError, internal } from '../common/index.ts';

export const XATTR_PREFIX = 'SCHILY.xattr.';

/** Parse a PAX extended header body ("<len> <key>=<value>\n"...) keeping values as raw bytes. */
export function parsePaxRecords(buf: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let off = 0;
  while (off < buf.length && buf[off] !== 0) {
    const sp = buf.indexOf(0x20, off);
    const len = sp < 0 ? NaN : Number(buf.toString('latin1', off, sp));
    const end = off + len;
    if (!Number.isSafeInteger(len) || sp < 0 || end <= sp + 1 || end > buf.length || buf[end - 1] !== 0x0a) {
      throw new BerthError('invalid-argument', 'invalid layer: malformed PAX header');
    }
    const rec = buf.subarray(sp + 1, end - 1);
    const eq = rec.indexOf(0x3d);
    if (eq <= 0) throw new BerthError('invalid-argument', 'invalid layer: malformed PAX header');
    out.set(rec.toString('utf8', 0, eq), Buffer.from(rec.subarray(eq + 1)));
    off = end;
  }
  return out;
}

/** The `SCHILY.xattr.*` records of a parsed PAX header, by xattr name. */
export function xattrsOf(records: Map<string, Buffer> | undefined): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [k, v] of records ?? []) if (k.startsWith(XATTR_PREFIX)) out.set(k.slice(XATTR_PREFIX.length), v);
  return out;
}

/** Encode PAX records; the length prefix counts itself, so it may need one more digit. */
export function encodePaxRecords(records: [string, Buffer | string][]): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of records) {
    const body = Buffer.concat([Buffer.from(` ${key}=`), Buffer.isBuffer(value) ? value : Buffer.from(value), Buffer.from('\n')]);
    let len = body.length + String(body.length).length;
    if (String(len).length !== String(body.length).length) len = body.length + String(len).length;
    parts.push(Buffer.from(String(len)), body);
  }
  return Buffer.concat(parts);
}

interface ExtractInternals {
  _decodeLongHeader?: (this: ExtractInternals, buf: Buffer) => void;
  _header?: { type?: string | null } | null;
}

/** Call `onPax` with the raw body of each per-entry PAX header, just before its entry is emitted. */
export function captureRawPax(extract: tar.Extract, onPax: (raw: Buffer) => void): void {
  const ex = extract as unknown as ExtractInternals;
  const orig = ex._decodeLongHeader;
  if (typeof orig !== 'function') throw internal('tar-stream internals changed: cannot read raw PAX headers (storage/tar-pax.ts)');
  ex._decodeLongHeader = function (buf) {
    if (this._header?.type === 'pax-header') onPax(Buffer.from(buf));
    orig.call(this, buf);
  };
}

/** Header property carrying raw PAX records for `packWithRawPax`. */
export const RAW_PAX = Symbol('rawPax');
export type RawPaxHeaders = Omit<Partial<tar.Header>, 'type'> & { name: string; type?: tar.Header['type'] | 'pax-header'; [RAW_PAX]?: Buffer };

interface PackInternals {
  _encodePax?: (this: PackInternals, header: RawPaxHeaders) => void;
  _encode: (header: RawPaxHeaders) => void;
  push: (b: Buffer) => boolean;
}

/**
 * A tar-stream pack whose entries may carry a raw PAX body in `header[RAW_PAX]` (set `pax: {}` too,
 * so tar-stream takes its PAX path). The raw body must include `path` (and `linkpath` when the link
 * name is long); the ustar header then gets the short names the caller put in `name`/`linkname`.
 */
export function packWithRawPax(): tar.Pack {
  const pack = tar.pack();
  const p = pack as unknown as PackInternals;
  const orig = p._encodePax;
  if (typeof orig !== 'function' || typeof p._encode !== 'function') {
    throw internal('tar-stream internals changed: cannot write raw PAX headers (storage/tar-pax.ts)');
  }
  p._encodePax = function (header) {
    const raw = header[RAW_PAX];
    if (!raw) return orig.call(this, header);
    this._encode({ name: 'PaxHeader', type: 'pax-header', size: raw.length, mode: 0o644, uid: 0, gid: 0, mtime: header.mtime ?? new Date(0) });
    this.push(raw);
    if (raw.length % 512) this.push(Buffer.alloc(512 - (raw.length % 512)));
    const { [RAW_PAX]: _raw, pax: _pax, ...plain } = header;
    this._encode(plain);
  };
  return pack;
}
