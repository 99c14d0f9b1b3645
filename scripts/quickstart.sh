#!/usr/bin/env bash
# Quick start: install, start berthd in the background, load an offline busybox image, run a container.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh

SOCK=${BERTH_SOCK:-/run/berth/berth.sock}
export BERTH_HOST="unix://$SOCK"
if ! node dist/berth.mjs version >/dev/null 2>&1; then
  mkdir -p /var/log
  nohup node dist/berthd.mjs -H "$SOCK" >>/var/log/berthd.log 2>&1 &
  for _ in $(seq 1 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
  echo "berthd started (pid $!, log /var/log/berthd.log, socket $SOCK)"
fi
if ! node dist/berth.mjs image inspect busybox:latest >/dev/null 2>&1; then
  node dist/busybox-image.mjs -o /tmp/berth-busybox.tar
  node dist/berth.mjs load -i /tmp/berth-busybox.tar
  rm -f /tmp/berth-busybox.tar
fi
node dist/berth.mjs run --rm busybox echo "hello from a berth container"
echo "The docker CLI works too: DOCKER_HOST=$BERTH_HOST docker ps -a"
