/** An engine event (docker's events: container, image, volume, network). */
export interface EngineEvent {
  type: 'container' | 'image' | 'volume' | 'network' | 'daemon';
  action: string;
  actor: { id: string; attributes: Record<string, string> };
  /** Nanoseconds since the epoch. */
  timeNano: bigint;
}

export interface EventFilter {
  since?: bigint;
  until?: bigint;
  match?: (e: EngineEvent) => boolean;
}

/** Publishes events to live subscribers and keeps the last `capacity` for `--since`. */
export class EventBus {
  #ring: EngineEvent[] = [];
  #subs = new Set<(e: EngineEvent) => void>();
  constructor(private readonly capacity = 1024) {}

  emit(type: EngineEvent['type'], action: string, id: string, attributes: Record<string, string> = {}): void {
    const ms = BigInt(Date.now());
    const e: EngineEvent = { type, action, actor: { id, attributes }, timeNano: ms * 1_000_000n + (process.hrtime.bigint() % 1_000_000n) };
    this.#ring.push(e);
    if (this.#ring.length > this.capacity) this.#ring.shift();
    for (const s of this.#subs) s(e);
  }

  /** Past events in [since, until], then live ones until `signal` aborts or `until` passes. */
  subscribe(filter: EventFilter, onEvent: (e: EngineEvent) => void, signal: AbortSignal): void {
    const ok = (e: EngineEvent): boolean =>
      (filter.since === undefined || e.timeNano >= filter.since) && (filter.until === undefined || e.timeNano <= filter.until) && (filter.match?.(e) ?? true);
    if (filter.since !== undefined) for (const e of this.#ring) if (ok(e)) onEvent(e);
    const sub = (e: EngineEvent): void => {
      if (ok(e)) onEvent(e);
    };
    this.#subs.add(sub);
    signal.addEventListener('abort', () => this.#subs.delete(sub), { once: true });
  }
}
