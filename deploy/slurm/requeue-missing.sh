#!/usr/bin/env bash
# Requeue the tasks of an array job whose shards are missing (failed transiently, killed, lost), by
# <array>_<task>, never by the plain job id (the last task of an array carries the array's own id: requeueing it
# requeues every task, finished ones included). Shards that failed permanently are not requeued.
#   deploy/slurm/requeue-missing.sh ARRAY_JOB_ID FLEET_DIR [OFFSET]
set -euo pipefail
job=${1:?usage: requeue-missing.sh ARRAY_JOB_ID FLEET_DIR [OFFSET]}
fleet=${2:?usage: requeue-missing.sh ARRAY_JOB_ID FLEET_DIR [OFFSET]}
offset=${3:-0}
SACAM=${SACAM:-sacam}
unsubmitted=0
missing=$("$SACAM" fleet status --plan "$fleet" | sed -n 's/^missing: \([0-9,-]*\).*/\1/p')
[ -n "$missing" ] || { echo "no missing shards"; exit 0; }
for range in ${missing//,/ }; do
  first=${range%-*}; last=${range#*-}
  for shard in $(seq "$first" "$last"); do
    task=$((shard - offset))
    if ! scontrol -o show job "${job}_${task}" >/dev/null 2>&1; then
      echo "shard $shard is not a task of job $job (never submitted, or forgotten after MinJobAge): sbatch --array=$task ..."
      unsubmitted=1
      continue
    fi
    # A requeued task waits ~120 s by default (BeginTime); StartTime=now+2 brings it back at once (now itself
    # was refused with "Job credential revoked" 2 times in 5 here).
    scontrol requeue "${job}_${task}" && scontrol update JobId="${job}_${task}" StartTime=now+2 && echo "requeued ${job}_${task} (shard $shard)"
  done
done
exit $unsubmitted
