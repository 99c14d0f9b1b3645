// Firewall rules for one bridge, in berth's own chains. berth adds one jump per built-in chain it
// hooks and never edits any other rule, so rules it did not create are left alone.
import { run } from '../common/index.ts';
import type { PublishedPort } from './ports.ts';

/** Chain names for a bridge: `BERTH*` for the default `berth0`, `BERTH-<bridge>*` otherwise (≤ 28 chars). */
export function chainNames(bridge: string): { dnat: string; post: string; fwd: string } {
  const p = bridge === 'berth0' ? 'BERTH' : `BERTH-${bridge}`;
  return { dnat: p, post: `${p}-POST`, fwd: `${p}-FWD` };
}

/** A running container's published ports, as the rules need them. */
export interface PortForward {
  ip: string;
  ports: readonly PublishedPort[];
}

const JUMPS = (c: ReturnType<typeof chainNames>): [table: string, chain: string, rule: string[]][] => [
  ['nat', 'PREROUTING', ['-m', 'addrtype', '--dst-type', 'LOCAL', '-j', c.dnat]],
  ['nat', 'OUTPUT', ['-m', 'addrtype', '--dst-type', 'LOCAL', '-j', c.dnat]],
  ['nat', 'POSTROUTING', ['-j', c.post]],
  ['filter', 'FORWARD', ['-j', c.fwd]],
];

/**
 * NAT and forwarding for one bridge with iptables (iptables-nft on Debian 12), batched through
 * `iptables-restore --noflush`: one process per change, ~15 ms.
 */
export class IptablesFirewall {
  readonly chains: ReturnType<typeof chainNames>;
  /** `internal`: no NAT and no forwarding in or out of the bridge (`network create --internal`). */
  constructor(readonly bridge: string, readonly subnet: string, readonly opts: { internal?: boolean } = {}) {
    this.chains = chainNames(bridge);
  }

  #portRules(f: PortForward, op: '-A' | '-D' | '-I'): { nat: string[]; filter: string[] } {
    const { dnat, fwd } = this.chains;
    const nat: string[] = [];
    const filter: string[] = [];
    for (const p of f.ports) {
      const dst = p.hostIp === '0.0.0.0' ? '' : `-d ${p.hostIp}/32 `;
      nat.push(`${op === '-I' ? '-A' : op} ${dnat} ${dst}! -i ${this.bridge} -p ${p.proto} -m ${p.proto} --dport ${p.hostPort} -j DNAT --to-destination ${f.ip}:${p.containerPort}`);
      filter.push(`${op === '-I' ? '-I' : op} ${fwd}${op === '-I' ? ' 1' : ''} -d ${f.ip}/32 ! -i ${this.bridge} -o ${this.bridge} -p ${p.proto} -m ${p.proto} --dport ${p.containerPort} -j ACCEPT`);
    }
    // two host ports for one container port need one ACCEPT
    return { nat, filter: [...new Set(filter)] };
  }

  /**
   * Create (or flush and refill) berth's chains for this bridge with the static rules and the
   * given containers' port forwards, then make sure each built-in chain jumps to them once.
   */
  async rebuild(forwards: readonly PortForward[]): Promise<void> {
    const { dnat, post, fwd } = this.chains;
    const br = this.bridge;
    const nat = [`:${dnat} - [0:0]`, `:${post} - [0:0]`];
    const filter = [`:${fwd} - [0:0]`];
    if (this.opts.internal) {
      // compat: dockerd's internal network: containers talk to each other and to nothing else
      filter.push(`-A ${fwd} -i ${br} -o ${br} -j ACCEPT`, `-A ${fwd} -i ${br} -j DROP`, `-A ${fwd} -o ${br} -j DROP`);
      await restore(['*nat', ...nat, 'COMMIT', '*filter', ...filter, 'COMMIT']);
      await this.#jump();
      return;
    }
    nat.push(
      // outbound: the subnet leaves through the host's address
      `-A ${post} -s ${this.subnet} ! -o ${br} -j MASQUERADE`,
      // 127.0.0.1:port DNATed to a container (route_localnet on the bridge): the reply must come back to the host
      `-A ${post} -o ${br} -m addrtype --src-type LOCAL -j MASQUERADE`,
    );
    filter.push(
      `-A ${fwd} -o ${br} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
      `-A ${fwd} -i ${br} -j ACCEPT`,
    );
    const perPort = forwards.map((f) => this.#portRules(f, '-A'));
    nat.push(...perPort.flatMap((r) => r.nat));
    filter.push(...perPort.flatMap((r) => r.filter));
    // compat: like dockerd, only published ports of the bridge are reachable from outside
    filter.push(`-A ${fwd} ! -i ${br} -o ${br} -j DROP`);
    await restore(['*nat', ...nat, 'COMMIT', '*filter', ...filter, 'COMMIT']);
    await this.#jump();
  }

  /** Make sure each built-in chain jumps to this bridge's chains once. */
  async #jump(): Promise<void> {
    for (const [table, chain, rule] of JUMPS(this.chains)) {
      const has = await run('iptables', ['-w', '-t', table, '-C', chain, ...rule], { allowFail: true });
      if (has.code !== 0) await run('iptables', ['-w', '-t', table, '-I', chain, '1', ...rule]);
    }
  }

  /** Add one container's port forwards (one iptables-restore). */
  async add(f: PortForward): Promise<void> {
    if (!f.ports.length || this.opts.internal) return;
    const r = this.#portRules(f, '-I');
    await restore(['*nat', ...r.nat, 'COMMIT', '*filter', ...r.filter, 'COMMIT']);
  }

  /** Remove one container's port forwards; rules already gone are ignored. */
  async remove(f: PortForward): Promise<void> {
    if (!f.ports.length || this.opts.internal) return;
    const r = this.#portRules(f, '-D');
    try {
      await restore(['*nat', ...r.nat, 'COMMIT', '*filter', ...r.filter, 'COMMIT']);
    } catch {
      // some were missing (a crash between add and record): delete one by one
      for (const [table, lines] of [['nat', r.nat], ['filter', r.filter]] as const) {
        for (const l of lines) await restore([`*${table}`, l, 'COMMIT']).catch(() => {});
      }
    }
  }

  /** Remove the jumps and berth's chains for this bridge (tests, `--iptables=false` after use). */
  async teardown(): Promise<void> {
    for (const [table, chain, rule] of JUMPS(this.chains)) {
      for (let i = 0; i < 8; i++) {
        const r = await run('iptables', ['-w', '-t', table, '-D', chain, ...rule], { allowFail: true });
        if (r.code !== 0) break;
      }
    }
    for (const [table, chain] of [['nat', this.chains.dnat], ['nat', this.chains.post], ['filter', this.chains.fwd]] as const) {
      await run('iptables', ['-w', '-t', table, '-F', chain], { allowFail: true });
      await run('iptables', ['-w', '-t', table, '-X', chain], { allowFail: true });
    }
  }
}

/** One of this daemon's bridges, as isolation needs it. */
export interface IsolatedBridge {
  bridge: string;
  internal: boolean;
}

/**
 * Docker's DOCKER-ISOLATION chains, in one chain of berth's own per daemon: traffic from one of
 * its bridges to another is dropped, and nothing crosses the border of an internal network. It
 * holds only DROPs and sits first in FORWARD, before any bridge's ACCEPTs.
 */
export class IsolationFirewall {
  constructor(readonly chain: string) {}

  /** Refill the chain for `bridges` and put the jump to it first in FORWARD (one iptables-restore, ~15 ms). */
  async apply(bridges: readonly IsolatedBridge[]): Promise<void> {
    const c = this.chain;
    const lines = [`:${c} - [0:0]`];
    for (const a of bridges) {
      if (a.internal) lines.push(`-A ${c} -i ${a.bridge} ! -o ${a.bridge} -j DROP`, `-A ${c} ! -i ${a.bridge} -o ${a.bridge} -j DROP`);
      for (const b of bridges) if (b !== a && !a.internal && !b.internal) lines.push(`-A ${c} -i ${a.bridge} -o ${b.bridge} -j DROP`);
    }
    await restore(['*filter', ...lines, 'COMMIT']);
    const rules = (await run('iptables', ['-w', '-S', 'FORWARD'])).stdout.split('\n').filter((l) => l.startsWith('-A '));
    if (rules[0] === `-A FORWARD -j ${c}`) return;
    // it may sit lower (another bridge's jump went in first since): move it up
    for (let i = 0; i < 8; i++) if ((await run('iptables', ['-w', '-D', 'FORWARD', '-j', c], { allowFail: true })).code !== 0) break;
    await run('iptables', ['-w', '-I', 'FORWARD', '1', '-j', c]);
  }

  /** Remove the jump and the chain (idempotent). */
  async teardown(): Promise<void> {
    for (let i = 0; i < 8; i++) if ((await run('iptables', ['-w', '-D', 'FORWARD', '-j', this.chain], { allowFail: true })).code !== 0) break;
    await run('iptables', ['-w', '-F', this.chain], { allowFail: true });
    await run('iptables', ['-w', '-X', this.chain], { allowFail: true });
  }
}

function restore(lines: string[]): Promise<unknown> {
  return run('iptables-restore', ['-w', '--noflush'], { input: `${lines.join('\n')}\n` });
}
