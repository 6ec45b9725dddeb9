#!/usr/bin/env bash
# Runs bench-daemon against altviewd on a private bus.
#   bench-daemon.sh ALTVIEWD BENCH_DAEMON [EVENTS [ROUNDS]]
#
# Then, on a machine of more than one CPU, the throughput rounds once more
# with altviewd and every client confined to one CPU: what the clients'
# wake-ups cost when none of them has to cross to another CPU.
. "$(dirname "$0")/../daemon/lib.sh"
ALTVIEWD=$1 BENCH=$2; shift 2
echo '{}' >"$T/altviewd.json"
bus_start
daemon_start "$T/altviewd.json"
"$BENCH" "$ADDR" "$@"
rc=$?
daemon_stop TERM
[ $rc -eq 0 ] && [ "$(nproc)" -gt 1 ] || exit $rc
DAEMON_WRAPPER="taskset -c 0" daemon_start "$T/altviewd.json"
taskset -c 0 "$BENCH" "$ADDR" throughput "$@"
rc=$?
daemon_stop TERM
exit $rc
