#!/usr/bin/env bash
# The main job's daemon part: altviewd on a private bus with the demo guest
# (real x86 code, 4 vCPUs), two monitoring clients on it at once through
# libaltview's altviewd: backend, a live report of what each sees, and
# another user's busctl looking on.
#
#   demo-daemon.sh BUILD_DIR
set -euo pipefail
B=$(cd "$1" && pwd)
T=$(mktemp -d /tmp/altview-demo.XXXXXX)
chmod 755 "$T"
ADDR="unix:path=$T/bus"
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
say() { printf '\n--- %s\n' "$*"; }

cat >"$T/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>$ADDR</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/> <allow own="*"/>
    <allow send_type="method_call"/> <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/> <allow receive_type="method_return"/>
    <allow receive_type="error"/> <allow receive_type="signal"/>
  </policy>
</busconfig>
CONF
dbus-daemon --config-file="$T/bus.conf" --nofork --nopidfile --nosyslog 2>"$T/bus.log" &
PIDS+=($!)
for _ in $(seq 100); do [ -S "$T/bus" ] && break; sleep 0.05; done

say "altviewd on a private bus ($ADDR), booting the demo guest"
"$B/daemon/altviewd" --bus-address="$ADDR" --config="$B/tests/daemon/demo.json" >"$T/altviewd.log" 2>&1 &
DAEMON=$!
for _ in $(seq 200); do busctl --address="$ADDR" status org.altview1 >/dev/null 2>&1 && break; sleep 0.05; done
CTL=("$B/tools/altviewctl" -A "$ADDR")
"${CTL[@]}" list

ACCESS=$B/tools/altview-access
say "client A: altview-access altp2m_write (a view with every page write-protected; each write is stepped in view 0)"
say "client B: altview-access breakpoint (the guest's own int3s), both with a thread per vCPU"
"$ACCESS" --uri "altviewd:$ADDR" --threads --count 40000 1 altp2m_write >"$T/a.log" 2>&1 &
A=$!
"$ACCESS" --uri "altviewd:$ADDR" --threads --count 10000 1 breakpoint >"$T/b.log" 2>&1 &
B_PID=$!
PIDS+=($A $B_PID)
sleep 0.5

say "live report (altviewctl top 1): events per second per client"
"${CTL[@]}" top 1 --interval=1 &
TOP=$!
PIDS+=($TOP)
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
echo "client B:"; head -n 3 "$T/b.log" | sed 's/^/  /'; tail -n 1 "$T/b.log" | sed 's/^/  /'
taken=$(busctl --address="$ADDR" get-property org.altview1 /org/altview1/domain/1 org.altview1.Domain EventsTaken | cut -d' ' -f2)
answered=$(busctl --address="$ADDR" get-property org.altview1 /org/altview1/domain/1 org.altview1.Domain EventsAnswered | cut -d' ' -f2)
echo "altviewd: $taken synchronous events taken from the guest, $answered merged answers given"
"${CTL[@]}" views 1
"${CTL[@]}" read 1 0x112000 64

say "SIGTERM: altviewd hands the guest back and exits"
kill -TERM $DAEMON
wait $DAEMON && echo "altviewd exited cleanly"
tail -n 4 "$T/altviewd.log"
