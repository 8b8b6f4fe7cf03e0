#!/usr/bin/env bash
# The main job (`npm run boot`): from a fresh clone, install what is needed, build vmsup, get a
# riscv64 Linux guest, and boot it with `vmsup run`, its console on this terminal.
#
#   npm run boot               boot, print VMSUP-GUEST-READY, power off; exits with vmsup's status
#   npm run boot -- --shell    boot to the guest's interactive shell instead
#                              (after a newline: ~. quits, ~p sends Ctrl-Alt-Del, as `vmsup run`)
#   npm run boot -- --bios     boot through OpenSBI's fw_jump.bin instead of vmsup's own SBI
#
# The guest is ../shared/guest when it is there and its checksums hold, else the project's own,
# built once by guest/build.sh into guest/out (see guest/README.md). VMSUP_GUEST_DIR overrides.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2; }
mode=poweroff
bios=()
for arg in "$@"; do
  case "$arg" in
    --shell) mode=shell ;;
    --bios) bios=(yes) ;;
    -h|--help) usage; exit 0 ;;
    *) echo "boot.sh: unknown option: $arg" >&2; usage; exit 2 ;;
  esac
done

note() { printf 'boot: %s\n' "$*" >&2; }

note "installing packages (scripts/install-deps.sh)"
bash scripts/install-deps.sh
if [ ! -d node_modules ]; then
  note "npm ci"
  if ! npm ci --no-audit --no-fund; then
    # npm ci refuses a package-lock.json that is out of step with package.json; npm install
    # resolves the difference (and updates the lock file) so the main job still runs.
    note "npm ci failed; trying npm install (package-lock.json needs refreshing)"
    npm install --no-audit --no-fund
  fi
fi
note "building (scripts/build.sh)"
bash scripts/build.sh
note "installing the man pages (scripts/install-man.sh)"
bash scripts/install-man.sh || note "could not install the man pages; man -l man/vmsup.8 reads them in place"

GUEST=$(bash guest/get.sh)
note "guest: $GUEST"

args=(run -m 256M -b "$GUEST/Image" --initrd "$GUEST/initramfs.cpio.gz")
[ ${#bios[@]} -eq 0 ] || args+=(--bios "$GUEST/fw_jump.bin")
if [ "$mode" = shell ]; then
  note "booting to the guest shell: bin/vmsup ${args[*]} --cmdline \"console=ttyS0\""
  exec bin/vmsup "${args[@]}" --cmdline "console=ttyS0"
fi
note "booting: bin/vmsup ${args[*]} --cmdline \"console=ttyS0 vmsup.test=poweroff\""
# --foreground: vmsup may put the terminal in raw mode, which a background process group
# may not do. A guest that never powers off is stopped after BOOT_TIMEOUT seconds (exit 124).
exec timeout --foreground -k 5 "${BOOT_TIMEOUT:-600}" \
  bin/vmsup "${args[@]}" --cmdline "console=ttyS0 vmsup.test=poweroff"
