#!/usr/bin/env bash
# Event channels through altviewd (Manager.OpenEventChannel,
# org.altview1.EventChannel): a handle is its connection's alone, bounded
# (64 ports, 16 handles a uid over all its connections), refused to
# outsiders, and gone with its connection, ports and descriptors too.
#
#   check-evtchn.sh ALTVIEWD X86_SPEC EVTCHN_CLIENT
. "$(dirname "$0")/lib.sh"
ALTVIEWD=$1 X86_SPEC=$2 EVC=$3
E=org.altview1.Error MGR="org.altview1 /org/altview1 org.altview1.Manager"

config '{ "group": "nogroup" }'
bus_start
daemon_start "$T/altviewd.json"
fds() { ls "/proc/$DAEMON_PID/fd" | wc -l; }
check "a domain" bctl call $MGR CreateDomain s '{"name": "e", "memory_mib": 2}'
check "bound, notified, unbound; -ESRCH, -ENOENT; 64 ports a handle, 16 handles a uid" \
	"$EVC" "$ADDR" 1 check
expect_match "through libaltview's altviewd: backend" '^event channel checks passed' "$(cat "$T/out")"
# Counted from here: the core's notification service (an epoll and an eventfd) starts with the first handle.
fds0=$(fds)

"$EVC" "$ADDR" 1 hold >"$T/hold.out" 2>&1 &
holder=$!
wait_for "a client holds a handle with a port bound" 10 grep -q '^/org/altview1/evtchn/' "$T/hold.out"
read -r H port <"$T/hold.out"
expect_match "the handle is on the bus" 'BindInterdomain' "$(bctl introspect org.altview1 "$H" 2>&1)"
check "another connection of the same uid" "$EVC" "$ADDR" 1 fill
expect_eq "gets the 15 handles the uid has left" "15 handles" "$(cat "$T/out")"
expect_error "another connection cannot use it" $E.PermissionDenied "another connection's" \
	call org.altview1 "$H" $'org.altview1.EventChannel' BindUnbound u 1
expect_error "nor close it" $E.PermissionDenied "another connection's" \
	call org.altview1 "$H" org.altview1.EventChannel Close
if command -v setpriv >/dev/null && [ "$(id -u)" -eq 0 ]; then
	AS="setpriv --reuid=1 --regid=1 --clear-groups" expect_error "an outsider opens none" \
		$E.PermissionDenied 'uid 1 may not' call $MGR OpenEventChannel
else
	ok "an outsider opens none # SKIP needs root and setpriv"
fi
kill -KILL $holder
wait $holder 2>/dev/null
wait_for "its handle goes with its connection" 10 \
	sh -c "! busctl --address='$ADDR' introspect org.altview1 '$H' 2>/dev/null | grep -q BindInterdomain"
wait_for "and every descriptor it had" 10 test "$(fds)" = "$fds0"

daemon_stop TERM
expect_eq "altviewd exits 0" 0 "$DAEMON_STATUS"
finish
