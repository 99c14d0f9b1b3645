// The few parts of the DNS wire format (RFC 1035) the embedded server needs: read a query's
// question, write an answer to it, and (for tests and tools) write a query and read an answer.
import { invalid } from '../common/index.ts';

export const DNS_TYPE = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33, OPT: 41, ANY: 255 } as const;
export const DNS_RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

export interface DnsQuestion {
  /** Lower-case, without the trailing dot. */
  name: string;
  type: number;
  class: number;
}

export interface DnsQuery {
  id: number;
  flags: number;
  /** The first question (DNS servers in practice never get more than one). */
  question: DnsQuestion;
  /** The question section as it arrived (from byte 12), copied into the answer. */
  questionBytes: Buffer;
}

export type DnsAnswer = { type: 'A'; ttl: number; ip: string } | { type: 'PTR'; ttl: number; target: string };

/** Read a name at `off` (labels and compression pointers). */
function readName(buf: Buffer, off: number): { name: string; end: number } {
  const labels: string[] = [];
  let end = -1;
  for (let hops = 0; hops < 64; hops++) {
    if (off >= buf.length) throw invalid('dns: truncated name');
    const len = buf[off]!;
    if ((len & 0xc0) === 0xc0) {
      if (off + 1 >= buf.length) throw invalid('dns: truncated pointer');
      if (end < 0) end = off + 2;
      off = ((len & 0x3f) << 8) | buf[off + 1]!;
      continue;
    }
    if (len & 0xc0) throw invalid('dns: bad label');
    if (len === 0) return { name: labels.join('.'), end: end < 0 ? off + 1 : end };
    if (off + 1 + len > buf.length) throw invalid('dns: truncated label');
    labels.push(buf.toString('latin1', off + 1, off + 1 + len));
    off += 1 + len;
  }
  throw invalid('dns: name loop');
}

/** A query's header and first question. invalid-argument when it is not a well-formed query. */
export function parseQuery(buf: Buffer): DnsQuery {
  if (buf.length < 12) throw invalid('dns: short message');
  const id = buf.readUInt16BE(0);
  const flags = buf.readUInt16BE(2);
  if (flags & 0x8000) throw invalid('dns: not a query');
  if (buf.readUInt16BE(4) < 1) throw invalid('dns: no question');
  const { name, end } = readName(buf, 12);
  if (end + 4 > buf.length) throw invalid('dns: truncated question');
  return {
    id, flags,
    question: { name: name.toLowerCase(), type: buf.readUInt16BE(end), class: buf.readUInt16BE(end + 2) },
    questionBytes: buf.subarray(12, end + 4),
  };
}

function writeName(name: string): Buffer {
  const parts = name.replace(/\.$/, '').split('.').filter(Boolean);
  return Buffer.concat([...parts.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p, 'latin1')])), Buffer.from([0])]);
}

/** The answer to `q`: its question echoed, then `answers` named by a pointer to the question. */
export function encodeResponse(q: DnsQuery, rcode: number, answers: readonly DnsAnswer[]): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16BE(q.id, 0);
  // QR, the query's opcode and RD, AA (we are the authority for container names), RA
  head.writeUInt16BE(0x8000 | (q.flags & 0x7800) | 0x0400 | (q.flags & 0x0100) | 0x0080 | (rcode & 0xf), 2);
  head.writeUInt16BE(1, 4);
  head.writeUInt16BE(answers.length, 6);
  const rrs = answers.map((a) => {
    const rdata = a.type === 'A' ? Buffer.from(a.ip.split('.').map(Number)) : writeName(a.target);
    const rr = Buffer.alloc(12);
    rr.writeUInt16BE(0xc00c, 0); // the name of the question, at offset 12
    rr.writeUInt16BE(a.type === 'A' ? DNS_TYPE.A : DNS_TYPE.PTR, 2);
    rr.writeUInt16BE(1, 4);
    rr.writeUInt32BE(a.ttl, 6);
    rr.writeUInt16BE(rdata.length, 10);
    return Buffer.concat([rr, rdata]);
  });
  return Buffer.concat([head, q.questionBytes, ...rrs]);
}

/** An error answer made from whatever header arrived (FORMERR for garbage), or undefined when not even that. */
export function encodeError(buf: Buffer, rcode: number): Buffer | undefined {
  if (buf.length < 12) return undefined;
  const head = Buffer.from(buf.subarray(0, 12));
  head.writeUInt16BE(0x8000 | (buf.readUInt16BE(2) & 0x7900) | 0x0080 | rcode, 2);
  head.writeUInt32BE(0, 4);
  head.writeUInt32BE(0, 8);
  return head;
}

/** A recursive query for `name` (tests and tools). */
export function encodeQuery(id: number, name: string, type: number): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16BE(id, 0);
  head.writeUInt16BE(0x0100, 2);
  head.writeUInt16BE(1, 4);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(type, 0);
  tail.writeUInt16BE(1, 2);
  return Buffer.concat([head, writeName(name), tail]);
}

/** An answer's rcode and its A and PTR records (tests and tools). */
export function parseResponse(buf: Buffer): { id: number; rcode: number; answers: { name: string; type: number; data: string }[] } {
  if (buf.length < 12) throw invalid('dns: short message');
  const qd = buf.readUInt16BE(4);
  const an = buf.readUInt16BE(6);
  let off = 12;
  for (let i = 0; i < qd; i++) off = readName(buf, off).end + 4;
  const answers: { name: string; type: number; data: string }[] = [];
  for (let i = 0; i < an; i++) {
    const n = readName(buf, off);
    const type = buf.readUInt16BE(n.end);
    const len = buf.readUInt16BE(n.end + 8);
    const rd = n.end + 10;
    let data = buf.subarray(rd, rd + len).toString('hex');
    if (type === DNS_TYPE.A && len === 4) data = [...buf.subarray(rd, rd + 4)].join('.');
    else if (type === DNS_TYPE.PTR || type === DNS_TYPE.CNAME) data = readName(buf, rd).name;
    answers.push({ name: n.name, type, data });
    off = rd + len;
  }
  return { id: buf.readUInt16BE(0), rcode: buf.readUInt16BE(2) & 0xf, answers };
}
