#!/usr/bin/env bash
# Network benchmark, vmsup vs QEMU on the same guest (see bench/README.md):
# a 32 MiB HTTP transfer guest<-host through --nat vs `-netdev user`, through
# -L vs QEMU on a tap (root only: inside a network namespace), and ping RTTs.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec node bench/net/net.mjs "$@"
