#!/usr/bin/env bash
# guest/deps.sh — install what guest/build.sh needs on a Debian 12 host (run as root, or with sudo):
# the riscv64 cross compiler and static libc, the kernel source, OpenSBI, the kernel's build tools,
# e2fsprogs, and a deb-src entry so that `apt-get source busybox` works.
#
# The deb-src entry reuses the mirror of the host's existing `deb` entries for this release
# (deb822 files in /etc/apt/sources.list.d/ and one-line /etc/apt/sources.list), so it works
# behind whatever mirror or proxy the machine is set up for.
set -euo pipefail
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive

pkgs=(gcc-riscv64-linux-gnu libc6-dev-riscv64-cross linux-source-6.1 opensbi flex bison bc
      libssl-dev libelf-dev xz-utils e2fsprogs dpkg-dev make gcc)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ -z "$(apt-cache showsrc busybox 2>/dev/null)" ]; then
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
  # Print "URI<TAB>suite" for every enabled binary (deb) source of this release.
  deb_entries() {
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
      [ -r "$f" ] || continue
      # deb822: blank-line separated stanzas of "Field: value".
      awk 'BEGIN { RS = ""; FS = "\n" }
        {
          types = ""; uris = ""; suites = ""; enabled = "yes"
          for (i = 1; i <= NF; i++) {
            line = $i
            if (line ~ /^#/) continue
            split(line, kv, ":[ \t]*")
            key = tolower(kv[1]); val = substr(line, index(line, ":") + 1); gsub(/^[ \t]+/, "", val)
            if (key == "types") types = val; else if (key == "uris") uris = val
            else if (key == "suites") suites = val; else if (key == "enabled") enabled = tolower(val)
          }
          if (enabled == "no" || (" " types " ") !~ / deb /) next
          nu = split(uris, u, /[ \t]+/); ns = split(suites, s, /[ \t]+/)
          for (a = 1; a <= nu; a++) for (b = 1; b <= ns; b++) print u[a] "\t" s[b]
        }' "$f"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
      [ -r "$f" ] || continue
      # one-line form: deb [options] URI suite components...
      awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ } print $i "\t" $(i + 1) }' "$f"
    done
  }
  main_uri=$(deb_entries | awk -F'\t' -v c="$codename" '$2 == c { print $1; exit }')
  sec_uri=$(deb_entries | awk -F'\t' -v c="$codename-security" '$2 == c { print $1; exit }')
  [ -n "$main_uri" ] || { echo "guest/deps.sh: no 'deb' entry for $codename found; add a deb-src entry for busybox by hand" >&2; exit 1; }
  {
    echo "# Added by vmsup guest/deps.sh: source packages (apt-get source busybox), same mirror as the deb entries."
    printf 'Types: deb-src\nURIs: %s\nSuites: %s %s-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$main_uri" "$codename" "$codename"
    if [ -n "$sec_uri" ]; then
      printf '\nTypes: deb-src\nURIs: %s\nSuites: %s-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        "$sec_uri" "$codename"
    fi
  } | $SUDO tee /etc/apt/sources.list.d/vmsup-deb-src.sources >/dev/null
  $SUDO apt-get update -qq
fi
