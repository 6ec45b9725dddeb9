#!/usr/bin/env bash
# Monitoring clients that misbehave: nonsense filters, answers for events
# never sent, garbage in their slots, no answers at all, SIGKILL with an
# event pending, and the daemon's SIGTERM with events pending.  Each time:
# a clear error or the default answer, every vCPU keeps running, and
# nothing stays behind (subscriptions, views, descriptors).
#
#   check-monitor-faults.sh ALTVIEWD DEMO_CONFIG CHAN_CLIENT
. "$(dirname "$0")/lib.sh"
ALTVIEWD=$1 DEMO=$2 CHAN=$3
D=/org/altview1/domain/1

# A short timeout, so that a client that never answers costs the guest little,
# but long enough for a client that answers at once on a loaded machine;
# nobody (nogroup) may monitor too.
sed -e 's/"response_timeout_ms": [0-9]*/"response_timeout_ms": 250/' \
	-e '0,/{/s//{ "group": "nogroup",/' "$DEMO" >"$T/altviewd.json"
bus_start
daemon_start "$T/altviewd.json"
expect_progress "the demo guest runs" 1 4

# ---- filters ----
sub() { bctl call org.altview1 $D org.altview1.Domain Subscribe 'a{sv}' "$@"; }
expect_error "an unknown kind" org.altview1.Error.InvalidArgument 'unknown kind "pagefault"' \
	call org.altview1 $D org.altview1.Domain Subscribe 'a{sv}' 1 kinds as 1 pagefault
expect_error "a vCPU the domain lacks" org.altview1.Error.InvalidArgument '"vcpus": 4 is out of range' \
	call org.altview1 $D org.altview1.Domain Subscribe 'a{sv}' 1 vcpus au 2 0 4
expect_error "an empty vCPU list" org.altview1.Error.InvalidArgument 'selects nothing' \
	call org.altview1 $D org.altview1.Domain Subscribe 'a{sv}' 1 vcpus au 0
expect_error "a view index past the hypervisor's" org.altview1.Error.InvalidArgument '"views": 512' \
	call org.altview1 $D org.altview1.Domain Subscribe 'a{sv}' 1 views au 1 512
expect_error "a gfn range backwards" org.altview1.Error.InvalidArgument 'not a range' \
	call org.altview1 $D org.altview1.Domain Subscribe 'a{sv}' 1 gfns 'a(tt)' 1 0x20 0x10
expect_error "a gfn range past the guest's memory" org.altview1.Error.InvalidArgument 'not a range' \
	call org.altview1 $D org.altview1.Domain Subscribe 'a{sv}' 1 gfns 'a(tt)' 1 0 0x100000
expect_error "seventeen gfn ranges" org.altview1.Error.TooLarge 'more than 16' \
	call org.altview1 $D org.altview1.Domain Subscribe 'a{sv}' 1 gfns 'a(tt)' 17 \
	$(for i in $(seq 17); do echo "$i $i"; done)
expect_error "a ring that is not a power of two" org.altview1.Error.InvalidArgument 'power of two' \
	call org.altview1 $D org.altview1.Domain Subscribe 'a{sv}' 1 ring_entries u 100
expect_error "a key of the wrong type" org.altview1.Error.InvalidArgument '"kinds": expected a value of type as' \
	call org.altview1 $D org.altview1.Domain Subscribe 'a{sv}' 1 kinds s breakpoint
expect_error "an unknown key" org.altview1.Error.InvalidArgument 'unknown filter key "colour"' \
	call org.altview1 $D org.altview1.Domain Subscribe 'a{sv}' 1 colour s red
expect_error "ring_entries on Observe" org.altview1.Error.InvalidArgument 'unknown filter key "ring_entries"' \
	call org.altview1 $D org.altview1.Domain Observe 'a{sv}' 1 ring_entries u 8
expect_error "a domain that is not there" org.freedesktop.DBus.Error.UnknownObject '' \
	call org.altview1 /org/altview1/domain/9 org.altview1.Domain Subscribe 'a{sv}' 0
expect_error "Close of another client's subscription" org.freedesktop.DBus.Error.UnknownObject '' \
	call org.altview1 $D/client/99 org.altview1.Client Close

# start_client MODE KINDS: a chan-client in the background (as $AS_CLIENT if set);
# its path in CLIENT.
start_client() {
	# Emptied here: the child's own redirection may come after the first look below,
	# which would then take the previous client's path for this one's.
	: >"$T/client.out"
	${AS_CLIENT:-} "$CHAN" "$ADDR" 1 "$1" "$2" >"$T/client.out" 2>"$T/client.err" &
	CLIENT_PID=$!
	for _ in $(seq 100); do
		CLIENT=$(head -1 "$T/client.out")
		[ -n "$CLIENT" ] && return 0
		sleep 0.05
	done
	echo "# chan-client $1 did not start:"; sed 's/^/# /' "$T/client.err"
}
stop_client() { kill -KILL "$CLIENT_PID"; wait "$CLIENT_PID" 2>/dev/null; }
client_gone() { ! bctl introspect org.altview1 "$CLIENT" >/dev/null 2>&1; }
# view_gone N: the domain lists no view N.
view_gone() { ! prop $D org.altview1.Domain Views | grep -q "view/$1\""; }

# ---- a client that never answers ----
start_client never breakpoint
expect_progress "never answered: every vCPU goes on after the timeout" 1 4
expect_match "the timeouts are counted (Expired)" '^[1-9]' "$(client_prop "$CLIENT" Expired)"
expect_match "the events were delivered (Events)" '^[1-9]' "$(client_prop "$CLIENT" Events)"
stop_client
wait_for "its subscription goes with it" 5 client_gone
# The domain's monitor stays once made: count from here.
fds_before=$(ls /proc/"$DAEMON_PID"/fd | wc -l)

# ---- garbage in the slots ----
start_client garbage breakpoint
expect_progress "garbage answers: every vCPU goes on" 1 4
expect_match "garbage is counted (BadAnswers)" '^[1-9]' "$(client_prop "$CLIENT" BadAnswers)"
stop_client

# ---- a switch to a view that does not exist (well-formed: only the hypervisor knows) ----
start_client switch=300 breakpoint
expect_progress "answers naming a missing view: every vCPU goes on" 1 4
stop_client

# ---- answers for events never sent, a ring tail from the future ----
start_client unsent breakpoint,guest_request
expect_progress "answers for unsent events: every vCPU goes on" 1 4
# One snapshot of the counters; up to one event per vCPU may be in flight.
counts=$(bctl call org.altview1 "$CLIENT" org.freedesktop.DBus.Properties GetAll s org.altview1.Client |
	grep -o '"\(Events\|Expired\|BadAnswers\)" t [0-9]*' | awk '{print $3}' | tr '\n' ' ')
read -r events expired bad <<<"$counts"
expect_match "none of them was taken for an answer (every event expired or was refused)" \
	'^[0-4]$' "$((events - expired - bad))"
stop_client

# ---- SIGKILL with an event pending, and a view of its own ----
start_client hang breakpoint
wait_for "the client holds an event" 5 grep -q pending "$T/client.out"
views=$(prop $D org.altview1.Domain Views)
expect_match "it made a view" 'view/1' "$views"
stop_client
wait_for "killed: its subscription is gone" 5 client_gone
wait_for "killed: its view is destroyed" 5 view_gone 1
expect_progress "killed mid-event: every vCPU goes on" 1 4

# ---- answers that switch into a view the client does not own ----
if command -v setpriv >/dev/null && [ "$(id -u)" -eq 0 ]; then
	MEMBER="setpriv --reuid=65534 --regid=65534 --clear-groups"
	active() { prop $D org.altview1.Domain ActiveViews; }
	# in_view N: some vCPU is in view N (after the count, "au 4 ...").
	in_view() { active | grep -Eq "^au [0-9]+ (.* )?$1( |\$)"; }
	root_view=$(bctl call org.altview1 $D org.altview1.Domain CreateView s rwx | awk '{print $2}')
	member_view=$($MEMBER busctl --address="$ADDR" call org.altview1 $D org.altview1.Domain \
		CreateView s rwx | awk '{print $2}')
	AS_CLIENT=$MEMBER start_client "switch=$root_view" breakpoint
	expect_progress "nobody's answers switching into root's view: every vCPU goes on" 1 4
	expect_match "they are refused (BadAnswers)" '^[1-9]' "$(client_prop "$CLIENT" BadAnswers)"
	expect_eq "no vCPU is in root's view" "au 4 0 0 0 0" "$(active)"
	stop_client
	AS_CLIENT=$MEMBER start_client "switch=$member_view" breakpoint
	wait_for "switching into its own view: the vCPUs go there" 10 in_view "$member_view"
	expect_eq "and nothing is refused" 0 "$(client_prop "$CLIENT" BadAnswers)"
	stop_client
	AS_CLIENT=$MEMBER start_client switch=own breakpoint
	wait_for "a client makes a view on its own connection" 5 grep -q '^view ' "$T/client.out"
	own_view=$(sed -n 's/^view //p' "$T/client.out")
	wait_for "switching into that view: the vCPUs go there" 10 in_view "$own_view"
	expect_eq "and nothing is refused" 0 "$(client_prop "$CLIENT" BadAnswers)"
	stop_client
	wait_for "killed: that view goes with its connection" 10 view_gone "$own_view"
	start_client "switch=$root_view" breakpoint
	wait_for "root's answers may use root's view" 10 in_view "$root_view"
	stop_client
	check "back to the host view" bctl call org.altview1 $D/view/0 org.altview1.View Switch
	check "root's view destroyed" bctl call org.altview1 $D/view/$root_view org.altview1.View Destroy
	check "nobody's view destroyed" bctl call org.altview1 $D/view/$member_view org.altview1.View Destroy
else
	ok "answers switching into others' views # SKIP needs root and setpriv to act as nobody"
fi

# ---- a well-behaved client alongside ----
start_client answer breakpoint
expect_progress "a client that answers: every vCPU goes on" 1 4
expect_match "it gets events" '^[1-9]' "$(client_prop "$CLIENT" Events)"
# A preempted client may miss a deadline now and then: at most 1 event in 100.
events=$(client_prop "$CLIENT" Events) expired=$(client_prop "$CLIENT" Expired)
expect_eq "and (nearly) no timeouts: $expired of $events" 1 "$((expired * 100 <= events))"
expect_eq "and no bad answers" 0 "$(client_prop "$CLIENT" BadAnswers)"
stop_client
wait_for "nothing left of four clients" 5 client_gone

# A vCPU's dispatcher may hold the last reference to a sink (its eventfd) for one more event.
fds_back() { [ "$(ls /proc/"$DAEMON_PID"/fd | wc -l)" -eq "$fds_before" ]; }
wait_for "no descriptor left open in the daemon (memfds, eventfds)" 10 fds_back

# ---- SIGTERM with events pending ----
start_client never breakpoint,mem_access
sleep 0.3
daemon_stop TERM
expect_eq "SIGTERM with events pending: a clean exit" 0 "$DAEMON_STATUS"
expect_match "the domain was handed back and destroyed" 'domain 1 "demo": .*destroyed' "$(cat "$T/daemon.log")"
stop_client
finish
