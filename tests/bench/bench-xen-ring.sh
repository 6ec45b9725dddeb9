#!/usr/bin/env bash
# The Xen-ring round trip on altview's Xen-compatible libraries, in process
# and through altviewd, next to libaltview's channels: one JSON line each.
#   bench-xen-ring.sh ALTVIEWD ALTVIEW_XEN BENCH [EVENTS]
. "$(dirname "$0")/../daemon/lib.sh"
ALTVIEWD=$1 ALTVIEW_XEN=$2 BENCH=$3 EVENTS=${4:-20000}
# A guest that raises guest requests for as long as anyone looks.
spec='{"memory_mib": 2, "vcpus": 1, "engine": "script", "program": [{"op": "loop", "count": 4000000000, "body": [{"op": "guest_request"}]}]}'
printf '%s\n' "$spec" >"$T/guest.json"
"$BENCH" channels "$T/guest.json" "$EVENTS" || exit 1
"$ALTVIEW_XEN" --spec "$T/guest.json" -- "$BENCH" ring 1 "$EVENTS" xen-ring-in-process || exit 1
echo '{}' >"$T/altviewd.json"
bus_start
daemon_start "$T/altviewd.json"
bctl call org.altview1 /org/altview1 org.altview1.Manager CreateDomain s "$spec" >/dev/null
bctl call org.altview1 /org/altview1/domain/1 org.altview1.Domain Unpause >/dev/null
"$ALTVIEW_XEN" --uri "altviewd:$ADDR" -- "$BENCH" ring 1 "$EVENTS" xen-ring-altviewd
rc=$?
daemon_stop TERM
exit $rc
