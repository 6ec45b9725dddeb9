#!/usr/bin/env bash
# The daemon's life: a bad configuration stops it before it starts and names
# the key; systemd hears READY, STATUS, WATCHDOG, RELOADING and STOPPING;
# SIGHUP reloads (and a broken file changes nothing); SIGTERM hands every
# guest back unpaused and without views, and under valgrind nothing leaks:
# no memory, no file descriptor (the guests' memfds included).
#
#   check-lifecycle.sh ALTVIEWD X86_SPEC SCRIPT_SPEC [VALGRIND]
. "$(dirname "$0")/lib.sh"
ALTVIEWD=$1 X86_SPEC=$2 SCRIPT_SPEC=$3 VALGRIND=${4:-}
M="org.altview1 /org/altview1 org.altview1.Manager"
D=org.altview1.Domain V=org.altview1.View

# ---- configuration errors: no start, the key named, exit status 1
bad_config() {
	local what=$1 text=$2 re=$3 out rc=0
	printf '%s\n' "$text" >"$T/bad.json"
	out=$("$ALTVIEWD" --bus-address="$ADDR" --config="$T/bad.json" 2>&1) || rc=$?
	if [ $rc -ne 1 ]; then
		not_ok "bad config refused: $what"; echo "# exit status $rc"; printf '%s\n' "$out" | sed 's/^/#   /'
	else
		expect_match "bad config refused: $what" "$re" "$out"
	fi
}
bus_start
bad_config "syntax" '{"backend": "hv:",' 'bad.json: line 2, column 1: '
bad_config "trailing text" '{} {}' 'text after the JSON value'
bad_config "top level not an object" '[]' '\(top level\): expected an object'
bad_config "unknown key" '{"colour": "red"}' 'colour: unknown key'
bad_config "backend type" '{"backend": 5}' 'backend: expected a string'
bad_config "unknown backend" '{"backend": "vmware:"}' 'Failed to open backend vmware:'
bad_config "machine_mib range" '{"machine_mib": 1}' 'machine_mib: 1 is out of range 16\.\.'
bad_config "limit below range" '{"limits": {"max_views": 1}}' 'limits.max_views: 1 is out of range 2\.\.512'
bad_config "limit not a number" '{"limits": {"max_domains": "lots"}}' 'limits.max_domains: expected an integer'
bad_config "limit beyond int64" '{"limits": {"max_read_bytes": 99999999999999999999}}' 'limits.max_read_bytes'
bad_config "unknown limit" '{"limits": {"max_cats": 3}}' 'limits.max_cats: unknown key'
bad_config "group that does not exist" '{"group": "no-such-group-here"}' 'group: no group "no-such-group-here"'
bad_config "domains not an array" '{"domains": {}}' 'domains: expected an array'
bad_config "domain without a name" '{"domains": [{"vcpus": 1}]}' 'domains\[0\]: needs a "name"'
bad_config "two domains, one name" '{"domains": [{"name": "a"}, {"name": "a"}]}' 'domains\[1\]: name "a" is already used by domains\[0\]'
bad_config "a domain that cannot boot" '{"program_dir": "/", "domains": [{"name": "b", "vcpus": 1, "memory_mib": 2, "engine": "x86", "program": "nonexistent.elf"}]}' 'domains\[0\] "b": .*nonexistent.elf in /: No such file'
bad_config "a program by path, even in the configuration" '{"domains": [{"name": "b", "vcpus": 1, "memory_mib": 2, "engine": "x86", "program": "/etc/passwd"}]}' 'domains\[0\] "b": .*"/etc/passwd" is not a file name'
# A file that fills the whole buffer and ends inside a comment: nothing read past it.
bad_config "a full-size file ending inside a comment" "$(printf '%*s{} /*' $((1048576 - 6)) '')" \
	'line 2, column 1: unexpected end of file'
bad_config "a name with a newline is one log line, escaped" \
	'{"domains": [{"name": "x\n<0>forged", "vcpus": 0, "memory_mib": 2}]}' \
	'domains\[0\] "x\\x0a<0>forged": domain spec: "name": control characters'
bad_config "program_dir not absolute" '{"program_dir": "guests"}' 'program_dir: must be an absolute path'
out=$("$ALTVIEWD" --config="$T/none.json" 2>&1); rc=$?
expect_match "a config path given must exist" 'none.json: No such file' "$rc $out"
out=$("$ALTVIEWD" --bogus 2>&1); rc=$?
expect_eq "an unknown option: exit status 1" 1 "$rc"
echo '{"group": null, "limits": {"max_domains": 3}}' >"$T/good.json"
expect_eq "--check-config on a good file" "$T/good.json: ok" "$("$ALTVIEWD" --config="$T/good.json" --check-config)"

# ---- systemd notification, the watchdog, SIGHUP
python3 - "$T/notify" >"$T/notify.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
while True:
    print(s.recv(4096).decode().replace("\n", " ").strip(), flush=True)
PY
NOTIFY_PID=$!
for _ in $(seq 100); do [ -S "$T/notify" ] && break; sleep 0.05; done
spec=$(x86_spec booted)
config "$(printf '{"domains": [%s]}' "$spec")"
NOTIFY_SOCKET="$T/notify" WATCHDOG_USEC=200000 daemon_start "$T/altviewd.json"
expect_eq "the configured domain runs" 'a(uso) 1 1 "booted" "/org/altview1/domain/1"' "$(bctl call $M ListDomains)"
expect_eq "a configured domain is started" 'b false' "$(prop $(dom_path 1) $D Paused)"
sleep 0.5
log=$(tr '\n' ' ' <"$T/notify.log")
expect_match "READY=1" '(^| )READY=1' "$log"
expect_match "STATUS= names the domains and the backend" 'STATUS=1 domain on hv:' "$log"
expect_match "WATCHDOG=1, more than once in 0.5 s with a 0.2 s watchdog" 'WATCHDOG=1 .*WATCHDOG=1' "$log"

config "$(printf '{"limits": {"max_domains": 5}, "domains": [%s, %s]}' "$spec" "$(x86_spec added)")"
kill -HUP "$DAEMON_PID"
for _ in $(seq 100); do
	[ "$(bctl call $M ListDomains)" = 'a(uso) 2 1 "booted" "/org/altview1/domain/1" 2 "added" "/org/altview1/domain/2"' ] && break
	sleep 0.05
done
expect_eq "SIGHUP: a domain added to the file boots" \
	'a(uso) 2 1 "booted" "/org/altview1/domain/1" 2 "added" "/org/altview1/domain/2"' "$(bctl call $M ListDomains)"
expect_match "SIGHUP: RELOADING=1 then READY=1" 'RELOADING=1 .*READY=1' "$(tr '\n' ' ' <"$T/notify.log")"
config '{"limits": {"max_domains": 0}}'
kill -HUP "$DAEMON_PID"
sleep 0.5
expect_match "SIGHUP with a broken file: the error is logged" 'limits.max_domains: 0 is out of range' "$(cat "$T/daemon.log")"
expect_match "SIGHUP with a broken file: the old configuration stays" 'keeping the configuration in use' "$(cat "$T/daemon.log")"
check "SIGHUP with a broken file: the daemon still answers" bctl call $M ListDomains
expect_match "SIGHUP with a broken file: limits unchanged" 'LimitReached|created' \
	"$(bctl call $M CreateDomain s "$(x86_spec third)" 2>&1; tail -1 "$T/daemon.log")"

# ---- SIGTERM with a paused domain, views and vCPUs in them
P=$(dom_path 1)
bctl call org.altview1 $P $D EnableViews u 3 >/dev/null
bctl call org.altview1 $P $D CreateView s rx >/dev/null
bctl call org.altview1 $(view_path 1 1) $V Switch >/dev/null
bctl call org.altview1 $P $D Pause >/dev/null
daemon_stop TERM
expect_eq "SIGTERM: exit status 0" 0 "$DAEMON_STATUS"
expect_match "SIGTERM: STOPPING=1" 'STOPPING=1' "$(cat "$T/notify.log")"
expect_match "SIGTERM: the paused domain with views is handed back, then destroyed" \
	'domain 1 "booted": views dropped, unpaused, destroyed' "$(cat "$T/daemon.log")"
kill "$NOTIFY_PID"

# ---- the same under valgrind: no leak, no descriptor left open
if [ -n "$VALGRIND" ]; then
	config "$(printf '{"domains": [%s]}' "$(cat "$SCRIPT_SPEC")")"
	: >"$T/daemon.log"
	DAEMON_WRAPPER="$VALGRIND -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect --track-fds=yes --log-file=$T/valgrind.log" \
		daemon_start "$T/altviewd.json"
	P=$(dom_path 1)
	bctl call $M CreateDomain s "$(cat "$SCRIPT_SPEC" | sed 's/"access-1"/"second"/')" >/dev/null
	bctl call org.altview1 $P $D EnableViews u 3 >/dev/null
	bctl call org.altview1 $P $D CreateView s rx >/dev/null
	bctl call org.altview1 $(view_path 1 1) $V Switch >/dev/null
	bctl call org.altview1 $P $D Pause >/dev/null
	bctl call org.altview1 $P $D ReadMemory tu 0 4096 >/dev/null
	daemon_stop TERM
	expect_eq "valgrind: exit status 0 (no error, no leak)" 0 "$DAEMON_STATUS"
	# Descriptors the test harness passed in are "<inherited from parent>"; any other was opened here.
	fds=$(awk '/Open file descriptor [0-9]+:/ { fd = $0; getline; if ($0 !~ /inherited from parent/) print fd }' "$T/valgrind.log")
	expect_eq "valgrind: no descriptor opened by altviewd is open at exit" "" "$fds"
	grep -q 'FILE DESCRIPTORS' "$T/valgrind.log" || not_ok "valgrind tracked no descriptors"
fi
finish
