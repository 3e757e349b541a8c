#!/bin/bash
# Installs Debian's Slurm (slurmctld, slurmd, the client commands) and MUNGE when any of them is missing.
#   install-slurm.sh LOGFILE
# Exit 0: everything is installed (nothing is done when it already was). Exit 3: it cannot be installed here
# (not root, no apt-get, apt-get failed or timed out); the last line on stdout says why. apt-get's output goes to
# LOGFILE. Packages are never removed, and no service is started.
set -u
log="${1:-/dev/null}"

commands=(slurmctld slurmd sbatch squeue sinfo scontrol scancel munged munge unmunge)
missing() {
    local c
    for c in "${commands[@]}"; do
        command -v "$c" >/dev/null 2>&1 || { echo "$c"; return 0; }
    done
    return 1
}

absent=$(missing) || { echo "Slurm and MUNGE are already installed."; exit 0; }
[ "$(id -u)" -eq 0 ] || { echo "not root ($absent is missing)"; exit 3; }
command -v apt-get >/dev/null 2>&1 || { echo "no apt-get ($absent is missing)"; exit 3; }

export DEBIAN_FRONTEND=noninteractive
# The packages' postinst would start munged (and try slurmctld, slurmd) through invoke-rc.d: a system daemon
# that nothing stops. Where no policy-rc.d forbids that already (Docker images ship one), one does for the
# length of the install.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# Written by tests/Slurm/install-slurm.sh for the length of an install: start no service.\nexit 101\n' >"$policy"
    chmod 0755 "$policy"
    trap 'rm -f "$policy"' EXIT
fi
why() {
    # why EXIT_CODE SECONDS: the reason apt-get failed, from its exit code and the last error in the log.
    if [ "$1" -eq 124 ]; then echo "took more than $2 s"; return; fi
    local last
    last=$(grep -E '^(E|Err):' "$log" 2>/dev/null | tail -n 1)
    echo "exit code $1${last:+: $last}"
}
timeout 90 apt-get -o DPkg::Lock::Timeout=20 update >>"$log" 2>&1 || {
    rc=$?
    echo "apt-get update failed ($(why $rc 90))"
    exit 3
}
timeout 150 apt-get -o DPkg::Lock::Timeout=20 install -y --no-install-recommends \
        slurmctld slurmd slurm-client munge >>"$log" 2>&1 || {
    rc=$?
    echo "apt-get install slurmctld slurmd slurm-client munge failed ($(why $rc 150))"
    exit 3
}
if absent=$(missing); then
    echo "$absent is still missing after apt-get install"
    exit 3
fi
echo "Installed Slurm $(slurmctld -V 2>/dev/null) and MUNGE."
