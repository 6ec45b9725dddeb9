#!/usr/bin/env bash
# 16 vCPUs, 4 monitoring clients at once (three through libaltview's
# altviewd: backend, one speaking the channel by hand), one of them killed
# with SIGKILL and restarted at random over and over, until the daemon has
# taken a fixed number of synchronous events.  Then: every event taken got
# exactly one merged answer, the hypervisor refused none, and every vCPU
# still runs.
#
#   check-monitor-stress.sh ALTVIEWD DEMO16_CONFIG ALTVIEW_ACCESS CHAN_CLIENT [EVENTS]
. "$(dirname "$0")/lib.sh"
ALTVIEWD=$1 DEMO=$2 ACCESS=$3 CHAN=$4 EVENTS=${5:-8000}
D=/org/altview1/domain/1
RANDOM=42

sed 's/"response_timeout_ms": [0-9]*/"response_timeout_ms": 200/' "$DEMO" >"$T/altviewd.json"
bus_start
daemon_start "$T/altviewd.json"
expect_progress "16 vCPUs run" 1 16

declare -a PIDS
start() {
	case $1 in
	0 | 1) "$ACCESS" --uri "altviewd:$ADDR" --threads 1 breakpoint >/dev/null 2>>"$T/clients.err" & ;;
	2) "$ACCESS" --uri "altviewd:$ADDR" 1 breakpoint >/dev/null 2>>"$T/clients.err" & ;;
	3) "$CHAN" "$ADDR" 1 answer breakpoint >/dev/null 2>>"$T/clients.err" & ;;
	esac
	PIDS[$1]=$!
}
for i in 0 1 2 3; do start $i; done

taken() { prop $D org.altview1.Domain EventsTaken | awk '{print $2}'; }
answered() { prop $D org.altview1.Domain EventsAnswered | awk '{print $2}'; }

kills=0
deadline=$((SECONDS + 120))
# Both: the events, and enough kills on the way (a fast machine takes the events in a few).
while { [ "$(taken)" -lt "$EVENTS" ] || [ $kills -lt 5 ]; } && [ $SECONDS -lt $deadline ]; do
	sleep "$(printf 0.%02d $((RANDOM % 15 + 5)))"
	victim=$((RANDOM % 4))
	kill -KILL "${PIDS[$victim]}" 2>/dev/null
	wait "${PIDS[$victim]}" 2>/dev/null
	kills=$((kills + 1))
	start $victim
done
n=$(taken)
if [ "$n" -ge "$EVENTS" ]; then ok "$n synchronous events taken, $kills clients killed on the way"
else not_ok "only $n of $EVENTS synchronous events in 120 s"; fi
expect_match "clients were killed along the way" '^([5-9]|[1-9][0-9]+)$' "$kills"

for i in 0 1 2 3; do kill -KILL "${PIDS[$i]}" 2>/dev/null; wait "${PIDS[$i]}" 2>/dev/null; done
wait_for "every client is gone" 5 sh -c "! busctl --address=$ADDR tree org.altview1 | grep -q client/"
# No client left: nothing waits for an answer, so the counts must meet.
settled() { [ "$(taken)" = "$(answered)" ]; }
wait_for "every synchronous event got its merged answer" 5 settled
expect_eq "no answer was refused or given twice" "" \
	"$(grep -E 'answering event|answered already' "$T/daemon.log")"
expect_progress "all 16 vCPUs still run" 1 16

daemon_stop TERM
expect_eq "a clean exit" 0 "$DAEMON_STATUS"
finish
