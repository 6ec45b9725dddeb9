#!/usr/bin/env bash
# Event signals carry guest state (rip, gfn): they reach their subscriber
# and nobody else.  Someone else on the bus who matches on them, by an
# ordinary match or by eavesdropping, receives none, on an open bus and
# under altview's bus policy.
#
#   check-signals.sh ALTVIEWD DEMO_CONFIG CHAN_CLIENT POLICY_FILE
. "$(dirname "$0")/lib.sh"
ALTVIEWD=$1 DEMO=$2 CHAN=$3 POLICY=$4

if ! command -v setpriv >/dev/null || [ "$(id -u)" -ne 0 ]; then
	echo "1..0 # SKIP needs root and setpriv to act as other uids"
	exit 0
fi
MEMBER="setpriv --reuid=65534 --regid=65534 --clear-groups"
STRANGER="setpriv --reuid=1 --regid=1 --clear-groups"
sed -e '0,/{/s//{ "group": "nogroup",/' "$DEMO" >"$T/altviewd.json"

# round NAME OBSERVER [POLICY]
round() {
	local name=$1 observer=$2 mon obs
	shift 2
	bus_start "$@"
	daemon_start "$T/altviewd.json"
	# Listening before the subscription exists: its PropertiesChanged shows it was.
	$STRANGER dbus-monitor --address "$ADDR" \
		"type='signal',interface='org.altview1.Client'" \
		"type='signal',interface='org.freedesktop.DBus.Properties'" >"$T/stranger.out" 2>&1 &
	mon=$!
	sleep 0.5
	$observer "$CHAN" "$ADDR" 1 observe breakpoint,guest_request >"$T/observer.out" 2>"$T/observer.err" &
	obs=$!
	wait_for "$name: the subscriber receives its Event signals" 10 \
		grep -q '^events [0-9][0-9]' "$T/observer.out"
	sleep 0.5
	kill "$obs" "$mon"; wait "$obs" "$mon" 2>/dev/null
	expect_match "$name: the stranger's monitor was listening" 'PropertiesChanged' "$(cat "$T/stranger.out")"
	expect_eq "$name: and received no Event signal" 0 "$(grep -c 'member=Event' "$T/stranger.out")"
	daemon_stop TERM
	kill "$BUS_PID"; wait "$BUS_PID" 2>/dev/null; rm -f "$T/bus"
}

round "open bus, group member subscribed" "$MEMBER"
round "altview's policy, root subscribed" "" "$POLICY"
finish
