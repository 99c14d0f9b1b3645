#!/usr/bin/env bash
# Install everything berth needs on a fresh Debian machine: OS packages, npm dependencies, the build.
set -euo pipefail
cd "$(dirname "$0")/.."

# docker-registry, apache2-utils (htpasswd -B), openssl and skopeo serve the registry tests; zstd decompresses zstd layers
PKGS=(runc conmon crun iptables iproute2 busybox-static tini util-linux procps docker-registry apache2-utils openssl bzip2 xz-utils python3-docker docker-compose zstd skopeo)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # not `npm ci`: node-unix-socket lists optional per-platform packages (darwin, arm) that the
  # registry here does not serve, so the lock cannot name them and `npm ci` refuses the lock;
  # `npm install` follows the lock for everything it names and skips the missing optionals
  npm install --no-audit --no-fund
fi
npm run build
