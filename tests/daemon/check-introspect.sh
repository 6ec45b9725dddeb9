#!/usr/bin/env bash
# The committed interface XML (altviewd/org.altview1.xml, what the man page
# and clients are written against) against what the running daemon
# introspects: any method, argument, property or annotation that differs
# fails here.
#
#   check-introspect.sh ALTVIEWD X86_SPEC COMMITTED_XML CHAN_CLIENT EVTCHN_CLIENT
. "$(dirname "$0")/lib.sh"
ALTVIEWD=$1 X86_SPEC=$2 COMMITTED=$3 CHAN=$4 EVC=$5
here=$(dirname "$0")

config '{}'
bus_start
daemon_start "$T/altviewd.json"
bctl call org.altview1 /org/altview1 org.altview1.Manager CreateDomain s "$(x86_spec)" >/dev/null
bctl call org.altview1 /org/altview1/domain/1 org.altview1.Domain EnableViews u 2 >/dev/null
# A subscription lives as long as its client: keep one connected meanwhile.
"$CHAN" "$ADDR" 1 answer breakpoint >"$T/client.out" 2>&1 &
CLIENT_PID=$!
# So does an event channel handle.
"$EVC" "$ADDR" 1 hold >"$T/evtchn.out" 2>&1 &
EVTCHN_PID=$!
for _ in $(seq 100); do [ -s "$T/client.out" ] && [ -s "$T/evtchn.out" ] && break; sleep 0.05; done
for p in /org/altview1 /org/altview1/domain/1 /org/altview1/domain/1/view/0 "$(head -1 "$T/client.out")" \
	"$(cut -d' ' -f1 "$T/evtchn.out")"; do
	bctl introspect --xml-interface org.altview1 "$p" >"$T/live-$(echo "$p" | tr / _).xml"
done
python3 "$here/introspect.py" "$T"/live-*.xml >"$T/live.txt"
python3 "$here/introspect.py" "$COMMITTED" >"$T/committed.txt"
kill "$CLIENT_PID" "$EVTCHN_PID"
expect_eq "the daemon introspects five org.altview1 interfaces" 5 "$(grep -c '^<interface' "$T/live.txt")"
if diff -u "$T/committed.txt" "$T/live.txt" >"$T/diff"; then
	ok "the committed interface XML is what the daemon introspects"
else
	not_ok "the committed interface XML is what the daemon introspects"
	sed 's/^/# /' "$T/diff"
fi
for iface in Manager Domain View Client EventChannel; do
	expect_match "org.altview1.$iface is in the committed XML" "^<interface name=\"org.altview1.$iface\">" "$(cat "$T/committed.txt")"
done
daemon_stop TERM
finish
