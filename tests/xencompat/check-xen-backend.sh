#!/usr/bin/env bash
# altviewd as the one monitor of a Xen domain ("backend": "xen:"), on
# altview's Xen-compatible libraries first on the library path over a demo
# guest in the daemon's process: libaltview links Xen's sonames, two
# clients monitor the guest at once, every event Xen's ring gave is
# answered once, a SIGKILLed client leaves the other and the guest
# running, and a ring the hypervisor scribbles on is given back to Xen
# with the daemon up and the next client served from a new ring.
#
#   check-xen-backend.sh ALTVIEWD ALTVIEW_ACCESS XENCOMPAT_DIR LIBALTVIEW_DIR DEMO_SPEC
. "$(dirname "$0")/../daemon/lib.sh"
ALTVIEWD=$1 ACCESS=$2 XENCOMPAT=$3 LIBALTVIEW=$4 SPEC=$5
D=/org/altview1/domain/1

needed=$(readelf -d "$LIBALTVIEW/libaltview.so.1" | sed -n 's/.*(NEEDED).*\[\(libxen.*\)\]/\1/p' | sort | tr '\n' ' ')
expect_eq "libaltview links Xen's own sonames" \
	"libxenctrl.so.4.17 libxenevtchn.so.1 libxenforeignmemory.so.1 libxengnttab.so.1 libxenstore.so.4 " "$needed"
expect_match "which are Debian's, without altview's on the path" \
	'libxenctrl.so.4.17 => /(usr/)?lib/x86_64-linux-gnu/libxenctrl.so.4.17' \
	"$(LD_LIBRARY_PATH="$LIBALTVIEW" ldd "$ACCESS")"

echo '{ "backend": "xen:", "monitor": { "response_timeout_ms": 1000 } }' >"$T/xen.json"
export ALTVIEW_XEN_URI=hv: ALTVIEW_XEN_SPECS=$SPEC ALTVIEW_XEN_MACHINE_MIB=64
export LD_LIBRARY_PATH="$XENCOMPAT:$LIBALTVIEW${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
bus_start
daemon_start "$T/xen.json"
expect_eq "the daemon's backend is Xen" 's "xen:"' "$(prop /org/altview1 org.altview1.Manager Backend)"
wait_for "it finds the Xen domain" 10 \
	sh -c "busctl --address='$ADDR' call org.altview1 /org/altview1 org.altview1.Manager ListDomains | grep -q '$D'"

URI="altviewd:$ADDR"
"$ACCESS" --uri "$URI" --count 100 1 breakpoint >"$T/b.out" 2>"$T/b.err" &
B=$!
"$ACCESS" --uri "$URI" --threads --count 100 1 cpuid >"$T/c.out" 2>"$T/c.err" &
C=$!
wait $B; rb=$?
wait $C; rc=$?
expect_eq "breakpoint and cpuid clients, at once, both exit 0" "0 0" "$rb $rc"
expect_match "the breakpoint client saw its 100" '^breakpoint: 100 events .* breakpoint 100$' \
	"$(tail -n 1 "$T/b.out")"
expect_match "the cpuid client its 100" '^cpuid: 100 events .* cpuid 100$' \
	"$(tail -n 1 "$T/c.out")"
taken=$(prop $D org.altview1.Domain EventsTaken | cut -d' ' -f2)
answered=$(prop $D org.altview1.Domain EventsAnswered | cut -d' ' -f2)
expect_eq "every event taken from Xen's ring was answered once" "$taken" "$answered"
expect_eq "no client is left" "ao 0" "$(prop $D org.altview1.Domain Clients)"

# A client's own view, entered domain-wide and left in answers, as Xen allows; gone after it.
"$ACCESS" --uri "$URI" --threads --count 40 1 altp2m_write >"$T/a.out" 2>"$T/a.err"
expect_eq "altp2m_write through the daemon on Xen exits 0, quietly" "0 " "$? $(cat "$T/a.err")"
expect_match "it saw writes in its view and the single steps back" \
	'^altp2m_write: 40 events .* mem_access [0-9]+ singlestep [0-9]+$' "$(tail -n 1 "$T/a.out")"
expect_eq "and its view is gone" "ao 1 \"$D/view/0\"" "$(prop $D org.altview1.Domain Views)"
# Killed inside its view, it cleans nothing up: the daemon frees the view, the whole domain
# back to view 0 (Xen moves one vCPU only in an answer).
"$ACCESS" --uri "$URI" --threads 1 altp2m_write >"$T/v.out" 2>"$T/v.err" &
V=$!
wait_for "an altp2m_write client sees writes in its view" 20 grep -q '^mem_access .* view 1 ' "$T/v.out"
kill -KILL $V
wait $V 2>/dev/null
wait_for "SIGKILLed in its view: the daemon destroys the view" 20 \
	sh -c "[ \"\$(busctl --address='$ADDR' get-property org.altview1 $D org.altview1.Domain Views)\" = 'ao 1 \"$D/view/0\"' ]"
expect_eq "and every vCPU is back in view 0" "au 4 0 0 0 0" "$(prop $D org.altview1.Domain ActiveViews)"
expect_eq "Xen destroyed it: no view was left busy" "" "$(grep 'failed to destroy view' "$T/daemon.log")"

"$ACCESS" --uri "$URI" 1 breakpoint >"$T/k.out" 2>"$T/k.err" &
K=$!
"$ACCESS" --uri "$URI" 1 breakpoint >"$T/s.out" 2>"$T/s.err" &
S=$!
wait_for "two more clients see breakpoints" 20 \
	sh -c "grep -q '^breakpoint ' '$T/k.out' && grep -q '^breakpoint ' '$T/s.out'"
kill -KILL $K
wait $K 2>/dev/null
before=$(grep -c '^breakpoint ' "$T/s.out")
wait_for "SIGKILL of one: the other goes on seeing events" 20 \
	sh -c "[ \$(grep -c '^breakpoint ' '$T/s.out') -gt $((before + 5)) ]"
expect_progress "and the guest runs" 1 4
kill -INT $S
wait $S
expect_eq "the survivor exits 0" 0 "$?"

# A hypervisor that scribbles the ring under the daemon (root writing into the daemon's
# mapping of the ring page, as only Xen could): a request index no ring could have.
# The daemon says so, gives the ring back to Xen and stays up, the guest runs on
# unmonitored, and the next client gets a ring of its own and its events.
scribble() {
	python3 - "$DAEMON_PID" <<'PY'
import mmap, os, struct, sys
pid = sys.argv[1]
at = next(l.split()[0] for l in open(f"/proc/{pid}/maps") if "altview-xen-ring" in l)
ring = mmap.mmap(os.open(f"/proc/{pid}/map_files/{at}", os.O_RDWR), 4096)
struct.pack_into("<I", ring, 0, (struct.unpack_from("<I", ring, 0)[0] + 1000) & 0xffffffff)
PY
}
"$ACCESS" --uri "$URI" 1 breakpoint >"$T/h.out" 2>"$T/h.err" &
H=$!
wait_for "a client sees breakpoints" 20 grep -q '^breakpoint ' "$T/h.out"
# The hypervisor's own pushes overwrite the index: scribble until the daemon saw it.
for _ in $(seq 100); do
	grep -q 'given back to Xen' "$T/daemon.log" && break
	scribble
	sleep 0.05
done
expect_match "a ring gone mad: the daemon says so" \
	"domain 1's ring: request index [0-9]+, [0-9]+ consumed: not a ring's" "$(cat "$T/daemon.log")"
expect_match "and gives it back to Xen" "domain 1's ring given back to Xen" "$(cat "$T/daemon.log")"
wait_for "and says its monitor failed" 10 grep -q 'domain 1: its monitor failed' "$T/daemon.log"
expect_eq "the daemon stays up" 's "xen:"' "$(prop /org/altview1 org.altview1.Manager Backend)"
expect_progress "the guest runs on, unmonitored" 1 4
kill -INT $H
wait $H
expect_eq "the client on the broken ring exits 0" 0 "$?"
timeout 60 "$ACCESS" --uri "$URI" --count 20 1 breakpoint >"$T/n.out" 2>"$T/n.err"
expect_eq "a client after it exits 0" 0 "$?"
expect_match "with its 20 breakpoints, from a new ring" '^breakpoint: 20 events .* breakpoint 20$' \
	"$(tail -n 1 "$T/n.out")"
daemon_stop TERM
expect_eq "altviewd exits 0" 0 "$DAEMON_STATUS"
expect_match "and left Xen's domain running" 'domain 1 .*left running' "$(cat "$T/daemon.log")"
finish
