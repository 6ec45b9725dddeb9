# Shared by the altviewd tests: a private dbus-daemon, altviewd on it, TAP.
#
#   . lib.sh; bus_start [policy]; daemon_start CONFIG [args...]; ...; (cleanup on exit)
#
# Everything lives in $T, a directory removed on exit; processes started
# here are killed on exit, so a failing test leaves nothing behind.
set -u

T=$(mktemp -d /tmp/altviewd-test.XXXXXX)
chmod 755 "$T"      # the second uid's busctl must reach the socket
ADDR="unix:path=$T/bus"
BUS_PID= DAEMON_PID=
TESTS=0 FAILURES=0

cleanup() {
	[ -n "$DAEMON_PID" ] && kill -KILL "$DAEMON_PID" 2>/dev/null
	[ -n "$BUS_PID" ] && kill "$BUS_PID" 2>/dev/null
	wait 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

ok() {
	TESTS=$((TESTS + 1))
	echo "ok $TESTS - $*"
}

not_ok() {
	TESTS=$((TESTS + 1))
	FAILURES=$((FAILURES + 1))
	echo "not ok $TESTS - $*"
}

# check "description" command...: ok when the command succeeds.
check() {
	local what=$1; shift
	if "$@" >"$T/out" 2>&1; then ok "$what"; else not_ok "$what"; sed 's/^/# /' "$T/out"; fi
}

# expect_eq "description" expected actual
expect_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; echo "# expected: $2"; echo "#      got: $3"; fi
}

# expect_match "description" regex text
expect_match() {
	if printf '%s' "$3" | grep -Eq -- "$2"; then ok "$1"; else not_ok "$1"; echo "# expected /$2/ in:"; printf '%s\n' "$3" | sed 's/^/#   /'; fi
}

finish() {
	echo "1..$TESTS"
	[ "$FAILURES" -eq 0 ]
}

# bus_start [POLICY_FILE]: a dbus-daemon where everyone may connect and, unless
# POLICY_FILE is included, send to anyone (the daemon's own checks are then
# all that guards it).
bus_start() {
	local include=""
	[ $# -gt 0 ] && include="<include>$1</include>"
	cat >"$T/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>$ADDR</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus"/>
  </policy>
  $include
</busconfig>
CONF
	dbus-daemon --config-file="$T/bus.conf" --nofork --nopidfile --nosyslog 2>"$T/bus.log" &
	BUS_PID=$!
	for _ in $(seq 100); do
		[ -S "$T/bus" ] && return 0
		sleep 0.05
	done
	echo "Bail out! dbus-daemon did not start"; cat "$T/bus.log"; exit 1
}

# daemon_start CONFIG [ARGS...]: altviewd on the bus, waits until it owns org.altview1.
daemon_start() {
	local config=$1; shift
	${DAEMON_WRAPPER:-} "$ALTVIEWD" --bus-address="$ADDR" --config="$config" "$@" \
		>>"$T/daemon.log" 2>&1 &
	DAEMON_PID=$!
	for _ in $(seq 600); do
		busctl --address="$ADDR" status org.altview1 >/dev/null 2>&1 && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "Bail out! altviewd did not start"; cat "$T/daemon.log"; exit 1
}

# daemon_stop [SIGNAL]: stops it and waits; its exit status in DAEMON_STATUS.
daemon_stop() {
	kill -"${1:-TERM}" "$DAEMON_PID"
	DAEMON_STATUS=0
	wait "$DAEMON_PID" || DAEMON_STATUS=$?
	DAEMON_PID=
}

bctl() {
	busctl --address="$ADDR" "$@"
}

dom_path() { echo "/org/altview1/domain/$1"; }
view_path() { echo "/org/altview1/domain/$1/view/$2"; }

# prop PATH IFACE NAME: a property's value as busctl prints it (type first).
prop() {
	bctl get-property org.altview1 "$1" "$2" "$3"
}

# Where the test guests are: altviewd loads programs by name from its program_dir.
guests_dir() {
	sed -n 's|.*"program": "\(.*\)/[^/]*".*|\1|p' "$X86_SPEC"
}

# config JSON: $T/altviewd.json, the object given with program_dir set to the guests.
config() {
	local body=${1#\{} sep=,
	[ -z "${body//[ \}]/}" ] && sep=
	printf '{ "program_dir": "%s"%s%s\n' "$(guests_dir)" "$sep" "$body" >"$T/altviewd.json"
}

# The x86 workload of tests/guests as a spec for altviewd, with a name: its program by name.
x86_spec() {
	sed -e "s/\"x86-workload\"/\"${1:-x86-workload}\"/" -e 's|"program": ".*/|"program": "|' "$X86_SPEC"
}

# expect_error "description" ERROR_NAME MESSAGE_REGEX busctl-arguments...: the
# call fails with that D-Bus error, and the daemon is still there after it.
# $AS, when set, runs busctl as someone else (setpriv ...).
expect_error() {
	local what=$1 name=$2 re=$3 out got
	shift 3
	out=$(SYSTEMD_LOG_LEVEL=debug ${AS:-} busctl --address="$ADDR" "$@" 2>&1)
	got=$(printf '%s\n' "$out" | grep -o 'type=error .*error-name=[^ ]*' | grep -o 'error-name=[^ ]*' | tail -1)
	got=${got#error-name=}
	if [ "$got" != "$name" ]; then
		not_ok "$what"; echo "# expected error $name, got '${got:-none}'"
		printf '%s\n' "$out" | grep -E 'Call failed|error-name' | sed 's/^/#   /'
	elif [ -n "$re" ] && ! printf '%s\n' "$out" | grep -E 'Call failed: ' | grep -Eq -- "$re"; then
		not_ok "$what"; echo "# the message does not match /$re/:"
		printf '%s\n' "$out" | grep 'Call failed' | sed 's/^/#   /'
	elif ! busctl --address="$ADDR" call org.altview1 /org/altview1 org.freedesktop.DBus.Peer Ping >/dev/null 2>&1; then
		not_ok "$what: the daemon is gone"
	else
		ok "$what"
	fi
}

# guest_u64 DOMID GPA: a little-endian 64-bit word of guest memory, in decimal.
guest_u64() {
	bctl call org.altview1 "$(dom_path "$1")" org.altview1.Domain ReadMemory tu "$2" 8 |
		awk '{ v = 0; for (i = 10; i >= 3; i--) v = v * 256 + $i; printf "%.0f\n", v }'
}

# The demo guest's round counter of vCPU $2 (result[vcpu * 4 + 1] at 0x112000).
demo_round() {
	guest_u64 "$1" $((0x112000 + ($2 * 4 + 1) * 8))
}

# expect_progress "description" DOMID NR_VCPUS: every vCPU's round counter
# moves within PROGRESS_WAIT seconds (default 10: sanitizer builds run the
# engine's view changes slowly; a stuck vCPU never moves).
expect_progress() {
	local what=$1 dom=$2 n=$3 v before=() moved=() left deadline
	for ((v = 0; v < n; v++)); do before[v]=$(demo_round "$dom" "$v"); moved[v]=0; done
	deadline=$((SECONDS + ${PROGRESS_WAIT:-10}))
	while :; do
		sleep 0.2
		left=""
		for ((v = 0; v < n; v++)); do
			[ "${moved[v]}" = 1 ] && continue
			if [ "$(demo_round "$dom" "$v")" -gt "${before[v]}" ]; then moved[v]=1; else left="$left $v"; fi
		done
		[ -z "$left" ] && { ok "$what"; return; }
		[ $SECONDS -ge $deadline ] && break
	done
	not_ok "$what"; echo "# vCPUs that did not move:$left"
}

# client_prop PATH NAME: a number-valued org.altview1.Client property.
client_prop() {
	prop "$1" org.altview1.Client "$2" | awk '{print $2}'
}

# wait_for "description" SECONDS command...: ok once the command succeeds.
wait_for() {
	local what=$1 secs=$2 i; shift 2
	for ((i = 0; i < secs * 20; i++)); do
		if "$@" >/dev/null 2>&1; then ok "$what"; return; fi
		sleep 0.05
	done
	not_ok "$what (still not after ${secs}s)"
}
