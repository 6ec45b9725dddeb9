#!/bin/sh
# check-signal.sh TOOL SPEC SIGNAL
#
# A signal in the middle of a busy guest: altview-access stops taking
# events, undoes its set-up, prints its summary and exits 0.
set -u
tool=$1 spec=$2 sig=$3
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$tool" --json --spec "$spec" singlestep > "$out" &
pid=$!
# Wait (bounded) until events flow, so the signal lands mid-run.
i=0
while [ "$(grep -c '^{"event"' "$out")" -lt 100 ]; do
	i=$((i + 1))
	[ $i -le 600 ] || { echo "FAIL: no events after 30 s"; kill -9 $pid; exit 1; }
	kill -0 $pid 2>/dev/null || { echo "FAIL: exited early"; cat "$out"; exit 1; }
	sleep 0.05
done
kill -"$sig" $pid
wait $pid
rc=$?
[ $rc -eq 0 ] || { echo "FAIL: exit $rc after SIG$sig"; exit 1; }
tail -1 "$out" | grep -q '^{"summary"' || { echo "FAIL: no summary after SIG$sig"; tail -3 "$out"; exit 1; }
tail -1 "$out"
