#!/usr/bin/env bash
# A reload governs what already runs, not only the next call: a client
# whose uid lost access (the group changed) loses its subscription, its
# views and their hold on the vCPUs; a limit raised applies to monitors
# that exist already.
#
#   check-reload.sh ALTVIEWD DEMO_CONFIG CHAN_CLIENT
. "$(dirname "$0")/lib.sh"
ALTVIEWD=$1 DEMO=$2 CHAN=$3
D=/org/altview1/domain/1

if ! command -v setpriv >/dev/null || [ "$(id -u)" -ne 0 ]; then
	echo "1..0 # SKIP needs root and setpriv to act as another uid"
	exit 0
fi
MEMBER="setpriv --reuid=65534 --regid=65534 --clear-groups"
sed -e 's/"response_timeout_ms": [0-9]*/"response_timeout_ms": 250/' \
	-e '0,/{/s//{ "group": "nogroup", "limits": { "max_subscriptions": 1 },/' "$DEMO" >"$T/altviewd.json"
bus_start
daemon_start "$T/altviewd.json"

# reload: SIGHUP, then wait until the daemon says the new file is in use.
reload() {
	local before
	before=$(grep -c 'reload: configuration' "$T/daemon.log")
	kill -HUP "$DAEMON_PID"
	wait_for "$1" 10 eval "[ \$(grep -c 'reload: configuration' \"\$T/daemon.log\") -gt $before ]"
}
active() { prop $D org.altview1.Domain ActiveViews; }
in_view() { active | grep -Eq "^au [0-9]+ (.* )?$1( |\$)"; }
view_gone() { ! prop $D org.altview1.Domain Views | grep -q "view/$1\""; }

# A member's client that makes a view and answers every event with a switch into it.
$MEMBER "$CHAN" "$ADDR" 1 switch=own breakpoint >"$T/member.out" 2>"$T/member.err" &
member_pid=$!
wait_for "a group member subscribes and makes a view" 10 grep -q '^view ' "$T/member.out"
client=$(head -1 "$T/member.out") view=$(sed -n 's/^view //p' "$T/member.out")
wait_for "its answers move the vCPUs into its view" 10 in_view "$view"

expect_error "a second subscription, over limits.max_subscriptions 1" org.altview1.Error.LimitReached \
	'limits.max_subscriptions' call org.altview1 $D org.altview1.Domain Subscribe 'a{sv}' 0
# Raised under the old name, which still works and is named deprecated.
sed -i 's/"max_subscriptions": 1/"max_clients": 2/' "$T/altviewd.json"
reload "max_clients (the old name) raised to 2"
expect_match "the old name is logged as deprecated" 'limits.max_clients is deprecated: it is called limits.max_subscriptions now' \
	"$(cat "$T/daemon.log")"
check "the monitor running since before takes a second subscription" \
	bctl call org.altview1 $D org.altview1.Domain Subscribe 'a{sv}' 0

sed -i 's/"group": "nogroup"/"group": null/' "$T/altviewd.json"
reload "the group taken away"
wait_for "the member's subscription is gone" 10 eval "! bctl introspect org.altview1 $client"
wait_for "and its view" 10 view_gone "$view"
expect_eq "no vCPU is left in it" "au 4 0 0 0 0" "$(active)"
expect_progress "every vCPU goes on" 1 4
AS=$MEMBER expect_error "and the member's calls are refused" org.altview1.Error.PermissionDenied \
	'uid 65534 may not do this: only root$' call org.altview1 $D org.altview1.Domain Subscribe 'a{sv}' 0
kill "$member_pid"; wait "$member_pid" 2>/dev/null
daemon_stop TERM
expect_eq "SIGTERM: a clean exit" 0 "$DAEMON_STATUS"
finish
