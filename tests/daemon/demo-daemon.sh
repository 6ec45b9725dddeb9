#!/usr/bin/env bash
# The main job's daemon part: altviewd on a private bus with the demo guest
# (real x86 code, 4 vCPUs), two monitoring clients on it at once through
# libaltview's altviewd: backend, a live report of what each sees, and
# another user's busctl looking on.
#
#   demo-daemon.sh BUILD_DIR
set -eo pipefail
B=$(cd "$1" && pwd)
# The tests' private bus and daemon helpers; everything lives in $T and goes on exit.
. "$(dirname "$0")/lib.sh"
ALTVIEWD=$B/altviewd/altviewd
say() { printf '\n--- %s\n' "$*"; }
bus_start

say "altviewd on a private bus ($ADDR), booting the demo guest"
daemon_start "$B/tests/daemon/demo.json"
CTL=("$B/altviewd/altviewctl" -A "$ADDR")
"${CTL[@]}" list

ACCESS=$B/libaltview/altview-access
say "client A: altview-access altp2m_write (a view with every page write-protected; each write is stepped in view 0)"
say "client B: altview-access breakpoint (the guest's own int3s), both with a thread per vCPU;"
echo "    inside its first 3 events B reads the vCPU's registers afresh and the trapped code from"
echo "    guest memory, through the daemon (GetRegisters, and a mapping or a copy)"
"$ACCESS" --uri "altviewd:$ADDR" --threads --count 40000 1 altp2m_write >"$T/a.log" 2>&1 &
A=$!
"$ACCESS" --uri "altviewd:$ADDR" --threads --count 10000 --inspect 3 1 breakpoint >"$T/b.log" 2>&1 &
B_PID=$!

sleep 0.5

say "live report (altviewctl top 1): events per second per client"
"${CTL[@]}" top 1 --interval=1 &
TOP=$!
sleep 1.5
say "meanwhile another user (nobody) looks on with busctl"
who=(setpriv --reuid=65534 --regid=65534 --clear-groups)
"${who[@]}" busctl --address="$ADDR" tree org.altview1 || true
for c in $(busctl --address="$ADDR" get-property org.altview1 /org/altview1/domain/1 \
		org.altview1.Domain Clients | grep -o '"[^"]*"' | tr -d '"'); do
	"${who[@]}" busctl --address="$ADDR" get-property org.altview1 "$c" org.altview1.Client \
		Sender Kinds Events Dropped || true
done
wait $A || echo "client A failed ($?)"
wait $B_PID || echo "client B failed ($?)"
sleep 1.2
kill $TOP 2>/dev/null; wait $TOP 2>/dev/null || true

say "what each client saw (first events, then its summary)"
echo "client A:"; head -n 3 "$T/a.log" | sed 's/^/  /'; tail -n 1 "$T/a.log" | sed 's/^/  /'
echo "client B (its first events, each with what it read while the vCPU waited):"
grep -B1 '^  inspect' "$T/b.log" | grep -v '^--' | head -n 6 | sed 's/^/  /'
tail -n 1 "$T/b.log" | sed 's/^/  /'
taken=$(busctl --address="$ADDR" get-property org.altview1 /org/altview1/domain/1 org.altview1.Domain EventsTaken | cut -d' ' -f2)
answered=$(busctl --address="$ADDR" get-property org.altview1 /org/altview1/domain/1 org.altview1.Domain EventsAnswered | cut -d' ' -f2)
echo "altviewd: $taken synchronous events taken from the guest, $answered merged answers given"
"${CTL[@]}" views 1
"${CTL[@]}" read 1 0x112000 64

say "SIGTERM: altviewd hands the guest back and exits"
daemon_stop TERM
[ "$DAEMON_STATUS" = 0 ] && echo "altviewd exited cleanly"
grep -v console "$T/daemon.log" | tail -n 3
