#!/usr/bin/env bash
# The vm_event round trip on altview's Xen-compatible libraries, each line
# one consumer of the same kind of guest (guest requests in a loop,
# answered at once), in one run:
#   - libaltview's channels on hv: (1 and 4 vCPUs), the floor;
#   - a Xen tool's ring consumer (as xen-access consumes it), in process
#     and through altviewd on hv:;
#   - the xen: backend consuming that ring (1 and 4 vCPUs), with one
#     thread as the ring's consumer has (next) and a thread per vCPU
#     (monitor): what it adds over the ring; and altviewd on the xen:
#     backend with 1 and 2 clients.
#   bench-xen-ring.sh ALTVIEWD ALTVIEW_XEN BENCH [EVENTS]
. "$(dirname "$0")/../daemon/lib.sh"
ALTVIEWD=$1 ALTVIEW_XEN=$2 BENCH=$3 EVENTS=${4:-20000}
spec() {
	printf '{"memory_mib": 2, "vcpus": %s, "engine": "script", "program": [{"op": "loop", "count": 4000000000, "body": [{"op": "guest_request"}]}]}\n' "$1"
}
spec 1 >"$T/one.json"
spec 4 >"$T/four.json"
"$BENCH" monitor hv: "$T/one.json" "$EVENTS" libaltview-channels || exit 1
"$BENCH" monitor hv: "$T/four.json" "$EVENTS" libaltview-channels || exit 1
"$ALTVIEW_XEN" --spec "$T/one.json" -- "$BENCH" ring 1 "$EVENTS" xen-ring-in-process || exit 1
"$ALTVIEW_XEN" --spec "$T/four.json" -- "$BENCH" ring 1 "$EVENTS" xen-ring-in-process || exit 1
for how in next monitor; do
	"$ALTVIEW_XEN" --spec "$T/one.json" -- "$BENCH" $how xen: 1 "$EVENTS" xen-backend-$how || exit 1
	"$ALTVIEW_XEN" --spec "$T/four.json" -- "$BENCH" $how xen: 1 "$EVENTS" xen-backend-$how || exit 1
done

echo '{}' >"$T/altviewd.json"
bus_start
daemon_start "$T/altviewd.json"
bctl call org.altview1 /org/altview1 org.altview1.Manager CreateDomain s "$(spec 1)" >/dev/null
bctl call org.altview1 /org/altview1/domain/1 org.altview1.Domain Unpause >/dev/null
"$ALTVIEW_XEN" --uri "altviewd:$ADDR" -- "$BENCH" ring 1 "$EVENTS" xen-ring-altviewd || exit 1
daemon_stop TERM

# altviewd as the Xen domain's one monitor, its guest in the daemon's process.
echo '{"backend": "xen:"}' >"$T/xen.json"
DAEMON_WRAPPER="$ALTVIEW_XEN --spec $T/one.json --"
daemon_start "$T/xen.json"
wait_for "" 10 sh -c "busctl --address='$ADDR' call org.altview1 /org/altview1 org.altview1.Manager ListDomains | grep -q domain/1" >/dev/null
"$BENCH" monitor "altviewd:$ADDR" 1 "$EVENTS" xen-backend-altviewd-1-client || exit 1
"$BENCH" monitor "altviewd:$ADDR" 1 "$EVENTS" xen-backend-altviewd-2-clients &
first=$!
"$BENCH" monitor "altviewd:$ADDR" 1 "$EVENTS" xen-backend-altviewd-2-clients
rc=$?
wait $first || rc=1
daemon_stop TERM
exit $rc
