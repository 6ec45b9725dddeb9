#!/usr/bin/env bash
# The channel fuzzer: clients that write random values into every field of
# their channel (header, slots, ring) while synchronous and asynchronous
# events flow, and disconnect in the middle of it.  Nothing in a channel
# may decide where the daemon reads or writes: the daemon stays up, every
# vCPU goes on, and a well-behaved client alongside sees only what the
# daemon wrote to it.  Under ASan and UBSan in the sanitizer suites.
#
#   check-channel-fuzz.sh ALTVIEWD DEMO_CONFIG CHAN_CLIENT [ROUNDS] [SECONDS]
. "$(dirname "$0")/lib.sh"
ALTVIEWD=$1 DEMO=$2 CHAN=$3 ROUNDS=${4:-3} SECS=${5:-2}
D=/org/altview1/domain/1

sed -e 's/"response_timeout_ms": [0-9]*/"response_timeout_ms": 250/' "$DEMO" >"$T/altviewd.json"
# Every event of a scribbling client times out, and TSan slows the engine's
# remapping tenfold: progress is measured over longer than elsewhere.
PROGRESS_WAIT=${PROGRESS_WAIT:-30}
bus_start
daemon_start "$T/altviewd.json"
expect_progress "the demo guest runs" 1 4

# client NAME MODE KINDS [SEED]: a chan-client in the background; its path in $NAME.
client() {
	local name=$1 i
	: >"$T/$name.out"
	CHAN_SEED=${4:-1} "$CHAN" "$ADDR" 1 "$2" "$3" >"$T/$name.out" 2>"$T/$name.err" &
	eval "${name}_PID=$!"
	for i in $(seq 100); do
		[ -s "$T/$name.out" ] && { eval "$name=\$(head -1 \"\$T/\$name.out\")"; return 0; }
		sleep 0.05
	done
	echo "# chan-client $2 did not start:"; sed 's/^/# /' "$T/$name.err"
}
gone() { ! bctl introspect org.altview1 "$1" >/dev/null 2>&1; }
views() { prop $D org.altview1.Domain Views; }

client good answer breakpoint
expect_progress "a well-behaved client: every vCPU goes on" 1 4
fds_before=$(ls /proc/"$DAEMON_PID"/fd | wc -l)

for round in $(seq "$ROUNDS"); do
	good_events=$(client_prop "$good" Events)
	client bad scribble breakpoint,mem_access,guest_request "$round"
	sleep "$SECS"
	check "round $round: the daemon answers while its channel is scribbled on" \
		bctl call org.altview1 /org/altview1 org.freedesktop.DBus.Peer Ping
	expect_match "round $round: the scribbler's events flowed (Events)" '^[1-9]' \
		"$(client_prop "$bad" Events)"
	expect_progress "round $round: every vCPU goes on" 1 4
	# Killed mid-scribble: the daemon walks the channel one last time as it closes it.
	kill -KILL "$bad_PID"; wait "$bad_PID" 2>/dev/null
	wait_for "round $round: the scribbler's subscription goes with it" 10 gone "$bad"
	wait_for "round $round: and its view" 10 eval '! views | grep -q "view/[1-9]"'
	check "round $round: the daemon is still there" \
		bctl call org.altview1 /org/altview1 org.freedesktop.DBus.Peer Ping
	expect_match "round $round: the well-behaved client still gets events" '^[1-9]' \
		"$(( $(client_prop "$good" Events) - good_events ))"
done

if kill -0 "$good_PID" 2>/dev/null; then
	ok "the well-behaved client's channel held only what the daemon wrote"
else
	wait "$good_PID"; not_ok "the well-behaved client exited ($?)"; sed 's/^/# /' "$T/good.out"
fi
expect_eq "and none of its answers was refused" 0 "$(client_prop "$good" BadAnswers)"
kill -KILL "$good_PID"; wait "$good_PID" 2>/dev/null
wait_for "its subscription goes too" 10 gone "$good"
# A vCPU's dispatcher may hold the last reference to a sink for one more event.
fds_back() { [ "$(ls /proc/"$DAEMON_PID"/fd | wc -l)" -eq $((fds_before - 1)) ]; }
wait_for "no descriptor left open in the daemon" 10 fds_back
daemon_stop TERM
expect_eq "SIGTERM: a clean exit" 0 "$DAEMON_STATUS"
finish
