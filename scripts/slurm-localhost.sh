#!/usr/bin/env bash
# A single-node SLURM on this machine, for testing the workflow's SLURM profile for real.
#
#   bash scripts/slurm-localhost.sh start    # install (Debian slurm-wlm + munge), configure, start, wait
#   bash scripts/slurm-localhost.sh status   # sinfo and squeue; fails naming jobs that can never start
#   bash scripts/slurm-localhost.sh stop     # stops exactly the daemons `start` started (pid files)
#
# Everything lives in $CLUSTERDEFECTS_SLURM_DIR (default /tmp/clusterdefects-slurm): slurm.conf, the
# munge socket, pid files, logs, spool and state. Slurm's commands, also inside jobs, read
# /etc/slurm/slurm.conf, so `start` links it to our slurm.conf; it refuses to replace a file of another
# SLURM there, and `stop` removes only its own link. No accounting database:
# the profile asks squeue for job states, and finished jobs are kept visible for MinJobAge=3600 s and
# recorded one line each by jobcomp/filetxt in $DIR/jobcomp.log. Needs root (or sudo) and apt.
set -euo pipefail
DIR=${CLUSTERDEFECTS_SLURM_DIR:-/tmp/clusterdefects-slurm}
CONF=$DIR/slurm.conf
ETC_CONF=/etc/slurm/slurm.conf
NODE=$(hostname -s)
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo

die() { echo "slurm-localhost: $*" >&2; exit 1; }

install_packages() {
    command -v slurmctld >/dev/null && command -v munged >/dev/null && return 0
    command -v apt-get >/dev/null || die "no apt-get here. Fix: install slurm-wlm and munge by hand."
    echo "slurm-localhost: installing slurm-wlm and munge (Debian packages)"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends slurm-wlm munge \
        >/dev/null
}

write_config() {
    local cpus mem
    # The node's real core count: plain `nproc` honours OMP_NUM_THREADS (1 in most HPC shells), and a
    # node with fewer CPUs than a job asks for leaves that job PENDING for ever.
    cpus=$(nproc --all)
    mem=$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)  # MiB, leave 10% to the system
    $SUDO mkdir -p "$DIR"/{state,spool,log}
    $SUDO chmod 0755 "$DIR"
    if [ -e "$ETC_CONF" ] && [ "$(readlink "$ETC_CONF")" != "$CONF" ]; then
        die "$ETC_CONF belongs to another SLURM set-up. Fix: stop it and move that file away, or run there."
    fi
    $SUDO tee "$CONF" >/dev/null <<EOF
# Written by scripts/slurm-localhost.sh: one node ($NODE), root, no accounting database.
ClusterName=clusterdefects
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$DIR/munge.socket
CredType=cred/munge
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=pmix
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/jobcomp.log
MinJobAge=3600
KillWait=10
ReturnToService=2
SchedulerType=sched/backfill
# Refuse at submission a job no node can ever run (more CPUs or memory than the node has), so the run
# fails at once with SLURM's reason instead of waiting on a job PENDING for ever.
EnforcePartLimits=ALL
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
    $SUDO mkdir -p "$(dirname "$ETC_CONF")"
    $SUDO ln -sfn "$CONF" "$ETC_CONF"
}

start_daemon() {  # name pidfile command...
    local name=$1 pidfile=$2; shift 2
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        echo "slurm-localhost: $name already running (pid $(cat "$pidfile"))"; return 0
    fi
    $SUDO "$@" || die "$name did not start; see $DIR/log/. Fix: read the log, then run stop and start."
}

wait_idle() {
    local i state
    for i in $(seq 1 60); do
        state=$(sinfo -h -N -n "$NODE" -o %t 2>/dev/null || true)
        case $state in idle*|mix*|alloc*) echo "slurm-localhost: node $NODE is $state"; return 0;; esac
        [ "$i" -eq 10 ] && $SUDO scontrol update nodename="$NODE" state=resume 2>/dev/null || true
        sleep 1
    done
    tail -5 "$DIR/log/slurmctld.log" "$DIR/log/slurmd.log" >&2 || true
    die "node $NODE never became idle (state: '${state:-none}'). Fix: read $DIR/log/*.log."
}

start() {
    install_packages
    write_config
    [ -f /etc/munge/munge.key ] || $SUDO /usr/sbin/mungekey --create 2>/dev/null || $SUDO create-munge-key
    start_daemon munged "$DIR/munged.pid" munged --force --socket="$DIR/munge.socket" \
        --pid-file="$DIR/munged.pid" --log-file="$DIR/log/munged.log" --seed-file="$DIR/munged.seed"
    start_daemon slurmctld "$DIR/slurmctld.pid" slurmctld -f "$CONF"
    start_daemon slurmd "$DIR/slurmd.pid" slurmd -f "$CONF" -N "$NODE"
    wait_idle
    echo "slurm-localhost: up ($ETC_CONF -> $CONF)"
}

stop() {
    local name pidfile pid
    for name in slurmd slurmctld munged; do
        pidfile=$DIR/$name.pid
        [ -f "$pidfile" ] || continue
        pid=$(cat "$pidfile")
        if kill -0 "$pid" 2>/dev/null; then
            $SUDO kill "$pid"
            for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
            kill -0 "$pid" 2>/dev/null && $SUDO kill -9 "$pid"
            echo "slurm-localhost: stopped $name (pid $pid)"
        fi
        $SUDO rm -f "$pidfile"
    done
    [ "$(readlink "$ETC_CONF" 2>/dev/null)" = "$CONF" ] && $SUDO rm -f "$ETC_CONF"
    return 0
}

# Reasons for which a pending job will never start without a change to the job or the node.
NEVER_STARTS="PartitionConfig|ReqNodeNotAvail|BadConstraints|PartitionNodeLimit|PartitionTimeLimit|InvalidQOS"

status() {
    sinfo
    squeue
    local stuck
    stuck=$(squeue -h -t PENDING -o "%i %j %C %m %r" | grep -E " ($NEVER_STARTS)" || true)
    [ -z "$stuck" ] && return 0
    echo "slurm-localhost: these jobs can never start on this node ($(nproc --all) CPUs):" >&2
    echo "  jobid name cpus memory reason" >&2
    echo "$stuck" | sed 's/^/  /' >&2
    echo "Fix: scancel them and ask for what the node has, e.g. snakemake ... --set-resources" \
         "relax:tasks=$(nproc --all) relax:mem_mb=<MiB> (or a preset's resources: in the config)." >&2
    return 1
}

case ${1:-} in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) echo "usage: $0 start|stop|status   (state in $DIR)" >&2; exit 2 ;;
esac
