#!/usr/bin/env bash
# A single-node Slurm under one folder, for trying deploy/slurm and for the tests: munged, slurmctld and slurmd
# started by hand (no systemd), configuration, state, sockets, logs and pid files all under BASE, /etc untouched.
#   deploy/slurm/local-cluster.sh start BASE   # prints: export SLURM_CONF=BASE/slurm.conf
#   deploy/slurm/local-cluster.sh stop BASE    # TERM each daemon by its pid file (after checking /proc/PID/comm)
# Needs root and: apt-get install --no-install-recommends slurmctld slurmd slurm-client munge
set -euo pipefail
action=${1:?usage: local-cluster.sh start|stop BASE}
base=$(mkdir -p "${2:?usage: local-cluster.sh start|stop BASE}" && cd "$2" && pwd)

stop_pid() { # name pidfile
  local pid
  [ -f "$2" ] || return 0
  pid=$(cat "$2")
  if [ -n "$pid" ] && [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = "$1" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$2"
}

if [ "$action" = stop ]; then
  stop_pid slurmd "$base/run/slurmd.pid"
  stop_pid slurmctld "$base/run/slurmctld.pid"
  stop_pid munged "$base/run/munged.pid"
  exit 0
fi
[ "$action" = start ] || { echo "usage: local-cluster.sh start|stop BASE" >&2; exit 2; }

mkdir -p "$base"/{run,log,state,spool,munge}
chmod 700 "$base/munge"
[ -f "$base/munge/munge.key" ] || { dd if=/dev/urandom of="$base/munge/munge.key" bs=1024 count=1 status=none; chmod 400 "$base/munge/munge.key"; }
munged --key-file="$base/munge/munge.key" --socket="$base/run/munge.socket" --pid-file="$base/run/munged.pid" \
  --log-file="$base/log/munged.log" --seed-file="$base/munge/seed" --force
host=$(hostname -s)
node=$(slurmd -C | head -n 1)
cat > "$base/slurm.conf" <<CONF
ClusterName=sacam-local
SlurmctldHost=${host}(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$base/run/munge.socket
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,bf_interval=2
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MinJobAge=3600
ReturnToService=2
StateSaveLocation=$base/state
SlurmdSpoolDir=$base/spool
SlurmctldPidFile=$base/run/slurmctld.pid
SlurmdPidFile=$base/run/slurmd.pid
SlurmctldLogFile=$base/log/slurmctld.log
SlurmdLogFile=$base/log/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$base/slurm.conf"
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 100); do
  sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)' && break
  sleep 0.2
done
sinfo -h -o %T | grep -qE '^(idle|mixed|allocated)' || { echo "slurm did not come up; see $base/log" >&2; exit 1; }
echo "export SLURM_CONF=$base/slurm.conf"
