#!/bin/bash
# Starts a one-node Slurm cluster without systemd, every file of it under DIR (which it creates):
#   start-cluster.sh DIR
# It runs its own munged (as the munge user: munged refuses root) on a socket in DIR with a fresh key, then
# slurmctld and slurmd as root on two free ports, with DIR/slurm.conf. Nothing is written outside DIR, so it
# neither needs nor disturbs a system MUNGE or Slurm. Each daemon's "name pid" is appended to DIR/pids as soon
# as it starts, so that stop-cluster.sh DIR can stop what did start even when this script fails. It waits
# (bounded) until sinfo shows the node idle. Client commands must be run with SLURM_CONF=DIR/slurm.conf.
# Exit 0 when the node is idle; otherwise exit 1 after printing the daemons' logs.
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
mkdir -p "$1"
DIR=$(realpath "$1")
CONF="$DIR/slurm.conf"
PIDS="$DIR/pids"
HOST=$(hostname -s)
SBIN=/usr/sbin
# The daemons and every job inherit SLURM_CONF: stop-cluster.sh finds what is left of the cluster by it.
export SLURM_CONF="$CONF"

mkdir -p "$DIR/munge" "$DIR/state" "$DIR/spool" "$DIR/log" "$DIR/run"
: >"$PIDS"
# munged (the munge user) must reach its directory; its socket must be reachable by every client.
chmod 0755 "$DIR"

fail() {
    echo "start-cluster.sh: $*" >&2
    local f
    for f in "$DIR"/log/* "$DIR"/munge/munged.log; do
        [ -f "$f" ] && { echo "----- $f (last 40 lines)" >&2; tail -n 40 "$f" >&2; }
    done
    exit 1
}

alive() {
    # The process exists and is not a zombie (an orphan whose parent does not reap it stays a zombie).
    [ -r "/proc/$1/stat" ] || return 1
    local state
    state=$(sed -E 's/^.*\) ([A-Za-z]).*$/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
    [ "$state" != Z ] && [ "$state" != X ]
}

wait_for() {
    # wait_for SECONDS NAME PID COMMAND...: polls COMMAND every 0.2 s until it succeeds; fails when the daemon dies.
    local seconds=$1 name=$2 pid=$3 i
    shift 3
    for ((i = 0; i < seconds * 5; i++)); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        alive "$pid" || fail "$name (pid $pid) exited while starting."
        sleep 0.2
    done
    fail "$name (pid $pid) was not ready within $seconds s."
}

free_port() {
    # A TCP port in 20000-39999 that nothing listens on, different from $1.
    local port i
    for ((i = 0; i < 100; i++)); do
        port=$((20000 + RANDOM % 20000))
        [ "$port" = "${1:-}" ] && continue
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return 0; fi
    done
    fail "found no free TCP port."
}

# --- MUNGE: a private key, socket, seed, pid and log file in DIR/munge.
id munge >/dev/null 2>&1 || fail "there is no munge user (is the munge package installed?)."
dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 status=none
chown -R munge:munge "$DIR/munge"
chmod 0755 "$DIR/munge"
chmod 0400 "$DIR/munge/munge.key"
SOCKET="$DIR/munge/munge.socket.2"
setpriv --reuid=munge --regid=munge --init-groups "$SBIN/munged" --foreground \
    --key-file="$DIR/munge/munge.key" --socket="$SOCKET" --pid-file="$DIR/munge/munged.pid" \
    --seed-file="$DIR/munge/munged.seed" --log-file="$DIR/munge/munged.log" \
    </dev/null >>"$DIR/log/munged.out" 2>&1 &
MUNGED=$!
echo "munged $MUNGED" >>"$PIDS"
munge_works() { munge -n -S "$SOCKET" | unmunge -S "$SOCKET"; }
wait_for 15 munged "$MUNGED" munge_works

# --- slurm.conf
CTLD_PORT=$(free_port)
SLURMD_PORT=$(free_port "$CTLD_PORT")
cat >"$CONF" <<CONF
# A one-node test cluster written by tests/Slurm/start-cluster.sh; every file lives under $DIR.
ClusterName=checkpointtest
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SOCKET
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerParameters=batch_sched_delay=0
SlurmdParameters=config_overrides
ReturnToService=2
MailProg=/bin/true
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
NodeName=$HOST NodeAddr=127.0.0.1 NodeHostname=$HOST CPUs=8 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF

# --- slurmctld and slurmd, in the foreground (-D) of a background job, so that $! is the daemon.
"$SBIN/slurmctld" -D -f "$CONF" </dev/null >>"$DIR/log/slurmctld.out" 2>&1 &
SLURMCTLD=$!
echo "slurmctld $SLURMCTLD" >>"$PIDS"
ctld_up() { [[ "$(scontrol ping)" == *" is UP"* ]]; }
wait_for 30 slurmctld "$SLURMCTLD" ctld_up

"$SBIN/slurmd" -D -f "$CONF" -N "$HOST" </dev/null >>"$DIR/log/slurmd.out" 2>&1 &
SLURMD=$!
echo "slurmd $SLURMD" >>"$PIDS"
node_idle() { [ "$(sinfo -h -N -n "$HOST" -o %T)" = idle ]; }
wait_for 30 slurmd "$SLURMD" node_idle

echo "Slurm $(sinfo -V | cut -d' ' -f2) is up: node $HOST idle; munged $MUNGED, slurmctld $SLURMCTLD, slurmd $SLURMD; SLURM_CONF=$CONF"
