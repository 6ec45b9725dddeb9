#!/usr/bin/env bash
# Runs bench-memory against altviewd on a private bus, with machine memory
# for its guest.  As root: MapMemory is root's.
#   bench-memory.sh ALTVIEWD BENCH_MEMORY [MIB [ROUNDS]]
. "$(dirname "$0")/../daemon/lib.sh"
ALTVIEWD=$1 BENCH=$2; shift 2
mib=${1:-256}
printf '{ "machine_mib": %d, "limits": { "max_memory_mib": %d } }\n' $((mib + 64)) "$mib" >"$T/altviewd.json"
bus_start
daemon_start "$T/altviewd.json"
"$BENCH" "$ADDR" "$@"
rc=$?
daemon_stop TERM
exit $rc
