/** An endpoint: one container's attachment to one network. */
export interface Endpoint {
  /** Host-side interface (veth) name; '' when the driver makes none. */
  hostIf: string;
  /** Interface name inside the container. */
  containerIf: string;
  /** IPv4 address and prefix length, gateway; '' / 0 when the network has no addresses. */
  ip: string;
  prefixLen: number;
  gateway: string;
  macAddress: string;
  mtu: number;
}

/**
 * Connects network namespaces to one network. `join` and `leave` take the path of a netns
 * (`/proc/<pid>/ns/net`); the engine decides when. Neither allocates addresses: the endpoint
 * arrives complete.
 */
export interface NetworkDriver {
  readonly name: string;
  /** Create or repair the network's host side (idempotent). internal when the host refuses. */
  setup(): Promise<void>;
  /**
   * Plug `ep` into the namespace at `netnsPath`; interfaces are up when it resolves, with the
   * default route through `ep.gateway` unless `defaultRoute` is false.
   */
  join(ep: Endpoint, netnsPath: string, opts?: { defaultRoute?: boolean }): Promise<void>;
  /**
   * Unplug `ep` (idempotent: an endpoint whose namespace is gone is fine). Without `wait` the
   * deletion may finish after it resolves (a dying namespace takes the pair with it anyway).
   */
  leave(ep: Endpoint, opts?: { wait?: boolean }): Promise<void>;
  /** Remove host-side interfaces of this network that are not in `keep` (after a crash). */
  prune(keep: ReadonlySet<string>): Promise<string[]>;
}
