#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for the tests of `bn-repro sweep --slurm` (CI runs it
# as root, without systemd). Debian bookworm's Slurm 22.05 and munge.
#
#   scripts/slurm-one-node.sh install        apt packages (slurmctld slurmd slurm-client munge)
#   scripts/slurm-one-node.sh start DIR      config, state and logs under DIR; prints SLURM_CONF=...
#   scripts/slurm-one-node.sh stop DIR       scontrol shutdown, then the daemons by their pid files
#
# Ports 6817/6818 are fixed, so there is one such cluster per machine.
set -euo pipefail

cmd=${1:?usage: slurm-one-node.sh install|start DIR|stop DIR}

case "$cmd" in
install)
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
  ;;
start)
  dir=${2:?start needs a folder}
  if pgrep -x slurmctld >/dev/null; then
    echo "a Slurm controller is already running on this machine (ports 6817/6818 are fixed): stop it first" >&2
    exit 1
  fi
  mkdir -p "$dir"/{state,spool,log}
  chmod 755 "$dir"
  # munged refuses to start without its run folder owned by munge, and as root (insecure log file).
  mkdir -p /run/munge && chown munge:munge /run/munge
  if [ ! -S /run/munge/munge.socket.2 ]; then runuser -u munge -- /usr/sbin/munged; fi
  cat >"$dir/slurm.conf" <<EOF
ClusterName=bnrepro
SlurmctldHost=localhost
SlurmUser=root
AuthType=auth/munge
# A requeued job waits out its credential's lifetime before it may start again (slurmd refuses
# the revoked credential before that: "Job credential revoked"); 120 s by default, 10 s here.
AuthInfo=cred_expire=10
# The main scheduling loop every 2 s rather than every 60 s, so that it starts the job then.
SchedulerParameters=sched_interval=2
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
# Cores only: memory as a consumable would let one task hold the whole node.
SelectTypeParameters=CR_Core
ReturnToService=2
MailProg=/bin/true
# sbatch --wait polls every 2 s only if MinJobAge/2 exceeds that; at least 2, about 5.
MinJobAge=5
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
NodeName=localhost CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
  chmod 644 "$dir/slurm.conf"
  export SLURM_CONF="$dir/slurm.conf"
  /usr/sbin/slurmctld
  /usr/sbin/slurmd
  for _ in $(seq 1 60); do
    if [ "$(sinfo -h -o %T 2>/dev/null | head -n 1)" = "idle" ]; then
      echo "SLURM_CONF=$SLURM_CONF"
      exit 0
    fi
    sleep 0.5
  done
  echo "the one-node Slurm cluster did not come up; see $dir/log" >&2
  exit 1
  ;;
stop)
  dir=${2:?stop needs a folder}
  export SLURM_CONF="$dir/slurm.conf"
  pids=""
  for pidfile in "$dir/slurmd.pid" "$dir/slurmctld.pid" /run/munge/munged.pid; do
    if [ -f "$pidfile" ]; then pids="$pids $(cat "$pidfile")"; fi
  done
  scontrol shutdown >/dev/null 2>&1 || true
  for pid in $pids; do kill "$pid" 2>/dev/null || true; done
  # Wait for them to be gone, so that a cluster started next finds the ports and the socket free.
  for _ in $(seq 1 40); do
    alive=""
    for pid in $pids; do if kill -0 "$pid" 2>/dev/null; then alive=1; fi; done
    [ -z "$alive" ] && exit 0
    sleep 0.25
  done
  for pid in $pids; do kill -9 "$pid" 2>/dev/null || true; done
  ;;
*)
  echo "usage: slurm-one-node.sh install|start DIR|stop DIR" >&2
  exit 2
  ;;
esac
