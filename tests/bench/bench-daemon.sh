#!/usr/bin/env bash
# Runs bench-daemon against altviewd on a private bus.
#   bench-daemon.sh ALTVIEWD BENCH_DAEMON [EVENTS [ROUNDS]]
. "$(dirname "$0")/../daemon/lib.sh"
ALTVIEWD=$1 BENCH=$2; shift 2
echo '{}' >"$T/altviewd.json"
bus_start
daemon_start "$T/altviewd.json"
"$BENCH" "$ADDR" "$@"
rc=$?
daemon_stop TERM
exit $rc
