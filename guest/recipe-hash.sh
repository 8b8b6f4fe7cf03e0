#!/usr/bin/env bash
# Prints one sha256 over everything guest/build.sh builds from in this folder (the script, the
# benchmark source, the /etc files). guest/build.sh stores it in out/RECIPE; guest/get.sh rebuilds
# guest/out when the two differ.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
find build.sh cpubench.c rootfs -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1
