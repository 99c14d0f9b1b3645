#!/usr/bin/env bash
# Install what berth needs and run the whole test suite (typecheck, lint, unit, integration).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
npm test
