#!/usr/bin/env bash
# libaltview's altviewd: backend, through altview-access unchanged: two
# monitors on the demo guest at once, each seeing its own kinds of event;
# one killed mid-run leaves no view, no subscription and no paused vCPU;
# single-threaded pollers woken only by the eventfd miss no event, not even
# when a post takes the wake-up flag back during their last look.
#
#   check-backend.sh ALTVIEWD DEMO_CONFIG ALTVIEW_ACCESS POLL_CLIENT WAKE_RACE
. "$(dirname "$0")/lib.sh"
ALTVIEWD=$1 DEMO=$2 ACCESS=$3 POLL_CLIENT=$4 WAKE_RACE=$5
D=/org/altview1/domain/1

bus_start
daemon_start "$DEMO"
URI="altviewd:$ADDR"

"$ACCESS" --uri "$URI" --threads --count 40 1 altp2m_write >"$T/a.out" 2>"$T/a.err" &
A=$!
"$ACCESS" --uri "$URI" --count 100 --inspect 3 1 breakpoint >"$T/b.out" 2>"$T/b.err" &
B=$!
wait $A; ra=$?
wait $B; rb=$?
expect_eq "altp2m_write through altviewd exits 0" 0 "$ra"
expect_eq "breakpoint through altviewd, at the same time, exits 0" 0 "$rb"
expect_match "altp2m_write saw writes and their single steps" \
	'^altp2m_write: 40 events .* mem_access [0-9]+ singlestep [0-9]+$' "$(tail -n 1 "$T/a.out")"
expect_match "breakpoint saw breakpoints only" '^breakpoint: 100 events .* breakpoint 100$' \
	"$(tail -n 1 "$T/b.out")"
# Inside each of its first 3 events B read the registers afresh and the code at rip: the int3.
inspected=$(grep -A1 '^breakpoint ' "$T/b.out" | awk '
	/^breakpoint / { rip = $7 }
	/^  inspect: / { gpa = $11; sub(/:$/, "", gpa)
		if ($3 == rip && gpa == rip && $12 == "cc") n++ }
	END { print n + 0 }')
expect_eq "B read registers and memory inside 3 events, rip as the event said, the int3 there" 3 "$inspected"
expect_match "writes were trapped in client A's view" '^mem_access +vcpu [0-3] view [1-9]' \
	"$(head -n 1 "$T/a.out")"
expect_eq "both cleaned up: no client left" "ao 0" "$(prop $D org.altview1.Domain Clients)"
expect_eq "both cleaned up: only view 0" "ao 1 \"$D/view/0\"" "$(prop $D org.altview1.Domain Views)"
expect_eq "nobody holds the domain paused" "b false" "$(prop $D org.altview1.Domain Paused)"
# av_views_disable() destroyed client A's view itself: nothing was left for the daemon to undo.
expect_eq "the clients undid their own views" "" "$(grep -E 'gone: [1-9][0-9]* views destroyed' "$T/daemon.log")"
expect_progress "the guest runs on" 1 4

"$ACCESS" --uri "$URI" --threads 1 altp2m_write >/dev/null 2>&1 &
A=$!
wait_for "a monitor that will be killed is in its view" 60 sh -c \
	"busctl --address=$ADDR get-property org.altview1 $D org.altview1.Domain ActiveViews | grep -q 'au 4 [1-9]'"
kill -KILL $A; wait $A 2>/dev/null
wait_for "killed: its subscription is gone" 5 sh -c \
	"busctl --address=$ADDR get-property org.altview1 $D org.altview1.Domain Clients | grep -qx 'ao 0'"
wait_for "killed: every vCPU is back in view 0" 5 sh -c \
	"busctl --address=$ADDR get-property org.altview1 $D org.altview1.Domain ActiveViews | grep -qx 'au 4 0 0 0 0'"
expect_eq "killed: its view is destroyed" "ao 1 \"$D/view/0\"" "$(prop $D org.altview1.Domain Views)"
expect_eq "killed: its hold is released" "b false" "$(prop $D org.altview1.Domain Paused)"
# The x86 engine re-maps a view change page by page: slow under TSan, so a generous deadline.
PROGRESS_WAIT=30 expect_progress "killed: the guest runs on" 1 4

out=$("$POLL_CLIENT" "$URI" 4 500 3 2>&1); rc=$?
expect_eq "three pollers, one thread each, on a new 4-vCPU guest: exit 0" 0 "$rc"
expect_eq "each answered all 2000 events, woken by the eventfd alone" \
	"$(printf 'client %s: answered 2000 of 2000\n' 0 1 2)" "$out"
expect_eq "their guest is gone, and its subscriptions with it" "" \
	"$(busctl --address="$ADDR" tree --list org.altview1 | grep '/domain/2')"

out=$("$WAKE_RACE" "$URI" 2>&1); rc=$?
expect_eq "a post that takes the flag back during a poller's last look still wakes it" 0 "$rc"
[ "$rc" -eq 0 ] || printf '%s\n' "$out" | sed 's/^/# /'

out=$("$ACCESS" --uri "altviewd:unix:path=$T/nobody-here" 1 breakpoint 2>&1); rc=$?
expect_eq "no daemon at the address: exit 1" 1 "$rc"
expect_match "and says so" 'cannot connect to the bus' "$out"
out=$("$ACCESS" --uri "$URI" 7 breakpoint 2>&1); rc=$?
expect_eq "no such domain: exit 1" 1 "$rc"
expect_match "and says so" 'No such process|no domain' "$out"

daemon_stop TERM
expect_eq "a clean exit" 0 "$DAEMON_STATUS"
finish
