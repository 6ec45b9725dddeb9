#!/usr/bin/env bash
# The D-Bus fuzzer: random method calls to every interface of a daemon
# serving a running guest, as root and as a group member, with a fixed seed
# and count (bus-fuzz.c).  Every call is answered, the daemon stays up and
# can still send every domain and object it has, and stops cleanly.  Under
# ASan and UBSan in the sanitizer suites.
#
#   check-bus-fuzz.sh ALTVIEWD DEMO_CONFIG BUS_FUZZ [CALLS]
. "$(dirname "$0")/lib.sh"
ALTVIEWD=$1 DEMO=$2 FUZZ=$3 CALLS=${4:-3000}

sed -e 's/"response_timeout_ms": [0-9]*/"response_timeout_ms": 100/' \
	-e '0,/{/s//{ "group": "nogroup", "limits": { "max_domains": 8, "max_read_bytes": 65536 },/' \
	"$DEMO" >"$T/altviewd.json"
bus_start
daemon_start "$T/altviewd.json"

# fuzz NAME SEED [AS...]: the driver's TAP lines, renumbered into this test's.
fuzz() {
	local name=$1 seed=$2 line
	shift 2
	"$@" "$FUZZ" "$ADDR" "$seed" "$CALLS" >"$T/fuzz.out" 2>&1
	while IFS= read -r line; do
		case $line in
		"ok "*) ok "$name: ${line#ok [0-9] - }" ;;
		"not ok "*) not_ok "$name: ${line#not ok [0-9] - }" ;;
		"#"*) echo "$line" ;;
		"Bail"*) echo "# $line" ;;
		esac
	done <"$T/fuzz.out"
}

fuzz "root" 1
if command -v setpriv >/dev/null && [ "$(id -u)" -eq 0 ]; then
	fuzz "group member" 2 setpriv --reuid=65534 --regid=65534 --clear-groups
	fuzz "outsider" 3 setpriv --reuid=1 --regid=1 --clear-groups
fi
daemon_stop TERM
expect_eq "SIGTERM after the fuzzing: a clean exit" 0 "$DAEMON_STATUS"
finish
