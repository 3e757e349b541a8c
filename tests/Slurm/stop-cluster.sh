#!/bin/bash
# Stops the cluster that start-cluster.sh DIR started, and only that:
#   stop-cluster.sh DIR
# 1. cancels its jobs (scancel with DIR/slurm.conf; bounded), 2. stops slurmd, slurmctld and munged by the PIDs
# recorded in DIR/pids (SIGTERM, up to 15 s, then SIGKILL), after checking that each PID still runs that
# program, 3. kills whatever is left of the cluster: a process whose environment has SLURM_CONF=DIR/slurm.conf
# (job steps and their jobs; start-cluster.sh gives it to the daemons, the tests give it to sbatch).
# Safe to run twice and after a failed start. Exit 0 when nothing of the cluster runs any more, 1 otherwise.
set -u

[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
[ -d "$1" ] || exit 0
DIR=$(realpath "$1")
CONF="$DIR/slurm.conf"
PIDS="$DIR/pids"
[ -f "$PIDS" ] || exit 0

alive() {
    # The process exists and is not a zombie (an orphan whose parent does not reap it stays a zombie).
    [ -r "/proc/$1/stat" ] || return 1
    local state
    state=$(sed -E 's/^.*\) ([A-Za-z]).*$/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

is_program() {
    # PID $1 still runs the program named $2 (not a later process that reused the PID). By its name, not by
    # /proc/PID/exe: Debian's /usr/sbin/slurmd is an alternatives link to slurmd-wlm.
    [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ]
}

stop_pid() {
    # stop_pid PID NAME: SIGTERM, wait up to 15 s, then SIGKILL and wait up to 5 s.
    local pid=$1 name=$2 i
    alive "$pid" || return 0
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 75; i++)); do alive "$pid" || { echo "stopped $name (pid $pid)"; return 0; }; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null
    for ((i = 0; i < 25; i++)); do alive "$pid" || { echo "killed $name (pid $pid) after 15 s"; return 0; }; sleep 0.2; done
    echo "stop-cluster.sh: $name (pid $pid) is still running" >&2
    return 1
}

pid_of() { awk -v n="$1" '$1 == n { p = $2 } END { if (p) print p }' "$PIDS"; }

# 1. Cancel the cluster's jobs while slurmctld still runs, and give them a moment to end.
ctld=$(pid_of slurmctld)
if [ -n "$ctld" ] && alive "$ctld" && is_program "$ctld" slurmctld && [ -f "$CONF" ]; then
    if SLURM_CONF="$CONF" timeout 10 scancel --user=root >/dev/null 2>&1; then
        for ((i = 0; i < 50; i++)); do
            out=$(SLURM_CONF="$CONF" timeout 5 squeue -h -o %i 2>/dev/null) || break
            [ -z "$out" ] && break
            sleep 0.2
        done
    fi
fi

# 2. The daemons, in the reverse order of their start.
status=0
for name in slurmd slurmctld munged; do
    pid=$(pid_of "$name")
    [ -n "$pid" ] || continue
    if alive "$pid" && ! is_program "$pid" "$name"; then
        echo "not stopping pid $pid: it no longer runs $name"
        continue
    fi
    stop_pid "$pid" "$name" || status=1
done

# 3. Anything else of this cluster: job steps (slurmstepd) and the jobs' processes.
for environ in /proc/[0-9]*/environ; do
    pid=${environ#/proc/}
    pid=${pid%/environ}
    [ "$pid" = $$ ] && continue
    if { tr '\0' '\n' <"$environ"; } 2>/dev/null | grep -qxF "SLURM_CONF=$CONF"; then
        echo "stopping leftover pid $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-80))"
        stop_pid "$pid" "leftover process" || status=1
    fi
done
exit $status
