// Syscalls Node lacks, called through koffi (synchronous: koffi's async mode is slow and capped).
import koffi from 'koffi';

const lib = koffi.load('libc.so.6');
const errnoLoc = lib.func('int *__errno_location(void)');
const strerror = lib.func('const char *strerror(int errnum)');

const _mount = lib.func('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)');
const _umount2 = lib.func('int umount2(const char *target, int flags)');
const _mknod = lib.func('int mknod(const char *path, uint32_t mode, uint64_t dev)');
const _lsetxattr = lib.func('int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)');
const _lgetxattr = lib.func('intptr_t lgetxattr(const char *path, const char *name, _Out_ void *value, size_t size)');
const _llistxattr = lib.func('intptr_t llistxattr(const char *path, _Out_ void *list, size_t size)');
const _lchown = lib.func('int lchown(const char *path, uint32_t owner, uint32_t group)');
const _execve = lib.func('int execve(const char *path, const char **argv, const char **envp)');
const _fcntl = lib.func('int fcntl(int fd, int cmd, ...)');
const _mallocTrim = lib.func('int malloc_trim(size_t pad)');

export class SysError extends Error {
  constructor(
    readonly call: string,
    readonly errno: number,
    readonly code: string,
    path: string,
  ) {
    super(`${call} ${path}: ${strerror(errno) as string}`);
  }
}

const CODES: Record<number, string> = { 1: 'EPERM', 2: 'ENOENT', 13: 'EACCES', 16: 'EBUSY', 17: 'EEXIST', 20: 'ENOTDIR', 22: 'EINVAL', 61: 'ENODATA', 95: 'EOPNOTSUPP', 18: 'EXDEV', 40: 'ELOOP' };
function errno(): number {
  return koffi.decode(errnoLoc(), 'int') as number;
}
function check(ret: number | bigint, call: string, path: string): number {
  const n = Number(ret);
  if (n < 0) {
    const e = errno();
    throw new SysError(call, e, CODES[e] ?? `E${e}`, path);
  }
  return n;
}

export const MS_RDONLY = 1;
export const MS_NOSUID = 2;
export const MS_NODEV = 4;
export const MS_NOEXEC = 8;
export const MS_REMOUNT = 32;
export const MS_BIND = 4096;
export const MS_REC = 16384;
export const MS_PRIVATE = 1 << 18;
export const MNT_DETACH = 2;

export function mount(source: string, target: string, fstype: string | null, flags: number, data: string | null): void {
  check(_mount(source, target, fstype, flags, data) as number, 'mount', target);
}
export function umount(target: string, flags = 0): void {
  check(_umount2(target, flags) as number, 'umount', target);
}
/**
 * umount2(2) on a worker thread. Unmounting an overlay syncs its whole upper filesystem (300 ms
 * and more with a log file's worth of dirty pages): on the main thread that froze berthd. errno
 * is the worker's, so a failure is called again synchronously to learn it (failures are cheap:
 * nothing was unmounted, nothing synced).
 */
export function umountAsync(target: string, flags = 0): Promise<void> {
  return new Promise((resolve, reject) => {
    _umount2.async(target, flags, (err: unknown, ret: number) => {
      if (err) reject(err instanceof Error ? err : new Error(String(err)));
      else if (ret >= 0) resolve();
      else {
        try {
          umount(target, flags);
          resolve();
        } catch (e) {
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      }
    });
  });
}
/** mknod(2); for overlay whiteouts use mode S_IFCHR (0o020000) and dev 0. */
export function mknod(path: string, mode: number, major: number, minor: number): void {
  // glibc makedev encoding
  const dev = (BigInt(major & 0xfff) << 8n) | BigInt(minor & 0xff) | (BigInt(minor & ~0xff) << 12n) | (BigInt(major & ~0xfff) << 32n);
  check(_mknod(path, mode, dev) as number, 'mknod', path);
}
export function lsetxattr(path: string, name: string, value: Buffer): void {
  check(_lsetxattr(path, name, value, value.length, 0) as number, 'lsetxattr', path);
}
/** The xattr's value, or undefined when it is not set. */
// One scratch buffer for every call (the largest value Linux allows): a fresh 64 KiB zero-filled
// buffer per call cost more than the syscall itself when walking a layer.
const XATTR_SCRATCH = Buffer.allocUnsafe(65536);

export function lgetxattr(path: string, name: string): Buffer | undefined {
  const n = Number(_lgetxattr(path, name, XATTR_SCRATCH, XATTR_SCRATCH.length));
  if (n < 0) {
    const e = errno();
    if (e === 61 || e === 95) return undefined;
    throw new SysError('lgetxattr', e, CODES[e] ?? `E${e}`, path);
  }
  return Buffer.from(XATTR_SCRATCH.subarray(0, n));
}
export function llistxattr(path: string): string[] {
  const buf = Buffer.alloc(65536);
  const n = Number(_llistxattr(path, buf, buf.length));
  if (n < 0) {
    const e = errno();
    if (e === 95) return [];
    throw new SysError('llistxattr', e, CODES[e] ?? `E${e}`, path);
  }
  return buf.subarray(0, n).toString('latin1').split('\0').filter(Boolean);
}
export function lchown(path: string, uid: number, gid: number): void {
  check(_lchown(path, uid, gid) as number, 'lchown', path);
}
/** execve(2): replace this process's image (same pid). Returns only by throwing, when the exec fails. */
export function execve(path: string, argv: string[], env: Record<string, string>): never {
  const envp = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  check(_execve(path, [...argv, null], [...envp, null]) as number, 'execve', path);
  throw new SysError('execve', 0, 'EUNKNOWN', path); // not reached: a successful execve does not return
}
/** Clear FD_CLOEXEC so `fd` survives an execve (Node marks even fds 0–2 close-on-exec). */
export function clearCloexec(fd: number): void {
  const F_SETFD = 2;
  check(_fcntl(fd, F_SETFD, 'int', 0) as number, 'fcntl', `fd ${fd}`);
}
/** malloc_trim(3): hand free malloc memory back to the kernel, in every arena. True if any was released. */
export function mallocTrim(): boolean {
  return (_mallocTrim(0) as number) === 1;
}
