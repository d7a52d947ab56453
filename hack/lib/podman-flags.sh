#!/usr/bin/env bash
# podman-flags.sh prints the podman run/build flags that make containers
# start on hosts where podman's defaults do not: runc instead of crun (crun
# refuses cgroup v1 hybrid hierarchies), and the caller's own rlimits instead
# of podman's raised ones (raising needs CAP_SYS_RESOURCE, which sandboxed
# roots lack). The process limit is capped at the kernel's pid_max, above
# which some kernels refuse it and where it means nothing anyway.
set -euo pipefail
nproc=$(ulimit -u)
nproc_hard=$(ulimit -Hu)
pid_max=$(cat /proc/sys/kernel/pid_max 2>/dev/null || echo 32768)
cap() { if [ "$1" = unlimited ] || [ "$1" -gt "$pid_max" ]; then echo "$pid_max"; else echo "$1"; fi; }
nproc=$(cap "$nproc")
nproc_hard=$(cap "$nproc_hard")
[ "$nproc" -le "$nproc_hard" ] || nproc=$nproc_hard
nofile=$(ulimit -n)
nofile_hard=$(ulimit -Hn)
[ "$nofile_hard" != unlimited ] || nofile_hard=1048576
[ "$nofile" != unlimited ] || nofile=$nofile_hard
flags="--ulimit nofile=$nofile:$nofile_hard --ulimit nproc=$nproc:$nproc_hard"
if command -v runc >/dev/null 2>&1; then flags+=" --runtime runc"; fi
echo "$flags"
