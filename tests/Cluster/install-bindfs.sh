#!/bin/bash
# Installs Debian's bindfs (a FUSE file system that mounts one directory again elsewhere) when it is missing.
# Two bindfs mounts of one directory stand for two cluster nodes: a flock through one is not seen through the
# other, as between two NFS clients mounted with local_lock=flock.
#   install-bindfs.sh LOGFILE
# Exit 0: bindfs is there. Exit 3: it cannot be installed here; the last line on stdout says why.
set -u
log="${1:-/dev/null}"
command -v bindfs >/dev/null 2>&1 && { echo "bindfs is already installed."; exit 0; }
[ "$(id -u)" -eq 0 ] || { echo "not root (bindfs is missing)"; exit 3; }
command -v apt-get >/dev/null 2>&1 || { echo "no apt-get (bindfs is missing)"; exit 3; }
export DEBIAN_FRONTEND=noninteractive
timeout 90 apt-get -o DPkg::Lock::Timeout=20 update >>"$log" 2>&1 || { echo "apt-get update failed (exit code $?)"; exit 3; }
timeout 150 apt-get -o DPkg::Lock::Timeout=20 install -y --no-install-recommends bindfs >>"$log" 2>&1 || {
    echo "apt-get install bindfs failed (exit code $?)"
    exit 3
}
command -v bindfs >/dev/null 2>&1 || { echo "bindfs is still missing after apt-get install"; exit 3; }
echo "Installed $(bindfs --version 2>/dev/null | head -n 1)."
