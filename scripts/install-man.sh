#!/usr/bin/env bash
# Installs the manual pages vmsup(8), vmsupd(8), vmsup.conf(5) and vm.conf(5) from man/ into
# MANDIR (default /usr/local/share/man), then refreshes the man database when
# the host has a tool for it. Used by `npm run boot` and the systemd install steps.
set -euo pipefail
cd "$(dirname "$0")/.."
MANDIR=${MANDIR:-/usr/local/share/man}
SUDO=""
[ "$(id -u)" = 0 ] || [ -w "$MANDIR" ] || SUDO=sudo
for page in man/*.[1-9]; do
  sec=${page##*.}
  $SUDO install -d "$MANDIR/man$sec"
  $SUDO install -m 644 "$page" "$MANDIR/man$sec/"
done
if command -v mandb >/dev/null; then $SUDO mandb -q "$MANDIR" >/dev/null 2>&1 || true
elif command -v makewhatis >/dev/null; then $SUDO makewhatis "$MANDIR" >/dev/null 2>&1 || true
fi
echo "install-man: man pages installed under $MANDIR" >&2
