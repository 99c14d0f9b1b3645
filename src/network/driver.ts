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
  /** Plug `ep` into the namespace at `netnsPath`; interfaces are up and routed when it resolves. */
  join(ep: Endpoint, netnsPath: string): Promise<void>;
  /** Unplug `ep` (idempotent: an endpoint whose namespace is gone is fine). */
  leave(ep: Endpoint): Promise<void>;
  /** Remove host-side interfaces of this network that are not in `keep` (after a crash). */
  prune(keep: ReadonlySet<string>): Promise<string[]>;
}
