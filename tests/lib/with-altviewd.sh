#!/usr/bin/env bash
# with-altviewd.sh ALTVIEWD GUESTS_DIR TEST: runs a libaltview test against
# altviewd: a private dbus-daemon, the daemon on it (64 MiB of machine
# memory, as the tests' hv: handle has, and the test guests as its
# programs), and the test with ALTVIEW_TEST_URI pointing there.  Its TAP
# is the test's; a daemon that does not exit cleanly afterwards fails it.
. "$(dirname "$0")/../daemon/lib.sh"
ALTVIEWD=$1 GUESTS=$2 TEST=$3
cat >"$T/altviewd.json" <<JSON
{ "program_dir": "$GUESTS", "machine_mib": 64,
  "limits": { "max_read_bytes": 16777216 } }
JSON
bus_start
daemon_start "$T/altviewd.json"
ALTVIEW_TEST_URI="altviewd:$ADDR" "$TEST"
status=$?
daemon_stop TERM
if [ "$DAEMON_STATUS" -ne 0 ]; then
	echo "# altviewd exited $DAEMON_STATUS:"; sed 's/^/#   /' "$T/daemon.log"
	exit 1
fi
exit $status
