import type { Digest } from '../common/index.ts';
import type { Endpoint, PublishedPort } from '../network/index.ts';
import type { HealthConfig, HealthState } from './health.ts';

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface MountSpec {
  type: 'bind' | 'volume' | 'tmpfs';
  source: string; // host path (bind), volume name (volume; '' = anonymous), '' (tmpfs)
  target: string;
  readOnly: boolean;
  /** tmpfs options (size=…, mode=…), bind propagation, etc. */
  options: string[];
  /** volume: do not copy image content into a new volume */
  noCopy?: boolean;
}

export interface RestartPolicy {
  name: 'no' | 'always' | 'on-failure' | 'unless-stopped' | '';
  maximumRetryCount: number;
}

export interface Ulimit {
  name: string;
  soft: number;
  hard: number;
}

export interface Resources {
  memory: number;
  memorySwap: number;
  memoryReservation: number;
  nanoCpus: number;
  cpuShares: number;
  cpuQuota: number;
  cpuPeriod: number;
  cpusetCpus: string;
  cpusetMems: string;
  pidsLimit: number;
  blkioWeight: number;
  oomKillDisable: boolean;
  ulimits: Ulimit[];
}

/** What a client asks for when it creates a container (Docker's Config + HostConfig, camelCase). */
export interface ContainerSpec {
  image: string;
  cmd: string[] | null;
  /** null = the image's; [] = none (`--entrypoint ""`). */
  entrypoint: string[] | null;
  env: string[];
  workingDir: string;
  user: string;
  hostname: string;
  domainname: string;
  labels: Record<string, string>;
  tty: boolean;
  openStdin: boolean;
  stdinOnce: boolean;
  attachStdin: boolean;
  attachStdout: boolean;
  attachStderr: boolean;
  exposedPorts: string[];
  volumes: string[];
  stopSignal: string;
  stopTimeout: number | null;
  /** The request's healthcheck; null = none given (the image's applies). Absent in records made before health checks. */
  healthcheck?: HealthConfig | null;
  /** NetworkingConfig.EndpointsConfig by network name or id (`default` = the NetworkMode's). Absent in older records. */
  endpoints?: Record<string, EndpointConfig>;
  host: {
    binds: string[];
    mounts: MountSpec[];
    tmpfs: Record<string, string>;
    volumesFrom: string[];
    networkMode: string;
    portBindings: Record<string, { hostIp: string; hostPort: string }[]>;
    publishAllPorts: boolean;
    restartPolicy: RestartPolicy;
    autoRemove: boolean;
    capAdd: string[];
    capDrop: string[];
    privileged: boolean;
    securityOpt: string[];
    readonlyRootfs: boolean;
    init: boolean;
    resources: Resources;
    shmSize: number;
    dns: string[];
    dnsSearch: string[];
    dnsOptions: string[];
    extraHosts: string[];
    links: string[];
    pidMode: string;
    ipcMode: string;
    utsMode: string;
    sysctls: Record<string, string>;
    groupAdd: string[];
    logConfig: { type: string; config: Record<string, string> };
    /** [height, width] of the terminal the client had at create (`-t`). */
    consoleSize: [number, number] | null;
  };
}

export interface ContainerState {
  status: ContainerStatus;
  pid: number;
  exitCode: number;
  error: string;
  oomKilled: boolean;
  startedAt: string; // ISO, '0001-01-01T00:00:00Z' when never
  finishedAt: string;
  /** Stopped by a user (stop/kill): restart policies other than `always` do not restart it. */
  manuallyStopped: boolean;
  /** Set once a container whose healthcheck runs a probe has started; kept after it stops. */
  health?: HealthState;
}

export interface MountPoint {
  type: 'bind' | 'volume' | 'tmpfs';
  name: string; // volume name
  source: string; // host path
  destination: string;
  readOnly: boolean;
  mode: string;
  propagation: string;
  anonymous: boolean;
}

export interface ContainerRecord {
  id: string;
  name: string; // without leading '/'
  created: string;
  imageId: Digest;
  imageRef: string; // as the client gave it
  path: string;
  args: string[];
  spec: ContainerSpec;
  /** The effective config after merging the image's. */
  entrypoint: string[];
  cmd: string[];
  exposedPorts: string[];
  volumes: string[];
  env: string[];
  workingDir: string;
  user: string;
  hostname: string;
  labels: Record<string, string>;
  stopSignal: string;
  /** The effective healthcheck (the request's merged with the image's); absent when neither has one. */
  healthcheck?: HealthConfig;
  state: ContainerState;
  restartCount: number;
  mountPoints: MountPoint[];
  /** Snapshot key of the container's writable layer. */
  snapshot: string;
  logPath: string;
  hostsPath: string;
  resolvConfPath: string;
  hostnamePath: string;
  /** The cgroup path passed to the runtime. */
  cgroupsPath: string;
  /**
   * The networks the container joins when it starts, in order (eth0 first), by network name, with
   * what was asked for on each; `network connect`/`disconnect` change it. Absent in records made
   * before user-defined networks: then the NetworkMode's network alone.
   */
  netConfig?: { network: string; config: EndpointConfig }[];
  /** The container's endpoints while it runs (eth0 first); absent or empty otherwise. */
  networks?: NetworkAttachment[];
  /** @deprecated the one endpoint of records made before user-defined networks; read through attachmentsOf(). */
  network?: NetworkAttachment;
}

/** What a client asked for on one network (an EndpointsConfig entry: --network-alias, --ip, --mac-address). */
export interface EndpointConfig {
  aliases: string[];
  ipv4Address: string;
  macAddress: string;
}

/** A container's endpoint on a network and the host ports published to it. */
export interface NetworkAttachment {
  networkId: string;
  networkName: string;
  endpointId: string;
  endpoint: Endpoint;
  /** Host ports published to this endpoint (only the endpoint with the default route has any). */
  ports: PublishedPort[];
  /** Network-scoped aliases (user-defined networks). */
  aliases?: string[];
  /** The address was asked for (`--ip`): inspect shows it as IPAMConfig. */
  requestedIp?: string;
}

/** A container's endpoints, whatever the age of its record. */
export const attachmentsOf = (r: ContainerRecord): NetworkAttachment[] => r.networks ?? (r.network ? [r.network] : []);

/** A network as the engine keeps it (the default `bridge`, `host`, `none`, user networks). */
export interface NetworkRecord {
  id: string;
  name: string;
  driver: 'bridge' | 'host' | 'null';
  created: string;
  /** Bridge device ('' for host and none). */
  bridge: string;
  /** IPv4 subnet, gateway and allocation range ('' when the network has no addresses). */
  subnet: string;
  gateway: string;
  ipRange: string;
  mtu: number;
  internal: boolean;
  labels: Record<string, string>;
  options: Record<string, string>;
  /** The subnet came from the request (`--subnet`): only then may containers ask for an address. */
  userSubnet?: boolean;
}

export const ZERO_TIME = '0001-01-01T00:00:00Z';
