#!/usr/bin/env bash
# Two unmodified xen-access processes monitor one guest at once through
# altviewd (which Xen refuses: its second xc_monitor_enable is EBUSY), one
# for breakpoints, one for writes; both see their events, every event the
# daemon took is answered once, and a SIGKILLed one leaves the other and
# the guest running.
#
#   check-two-xen-access.sh ALTVIEWD DEMO_CONFIG ALTVIEW_XEN
# (SANITIZER_PRELOAD: the sanitizer runtimes a sanitizer build's libraries need first)
. "$(dirname "$0")/../daemon/lib.sh"
ALTVIEWD=$1 DEMO=$2 ALTVIEW_XEN=$3
XA=/usr/lib/xen-4.17/bin/xen-access
if [ ! -x "$XA" ]; then
	echo "1..0 # SKIP Debian's xen-utils-4.17 is not installed"
	exit 0
fi
PRELOAD=()
[ -z "${SANITIZER_PRELOAD:-}" ] || PRELOAD=(env LD_PRELOAD="$SANITIZER_PRELOAD")
D=/org/altview1/domain/1
bus_start
daemon_start "$DEMO"
# exec: the pid $! names is then xen-access itself (altview-xen, env and stdbuf exec too).
xa() { exec "$ALTVIEW_XEN" --uri "altviewd:$ADDR" -- "${PRELOAD[@]}" stdbuf -oL "$XA" 1 "$1"; }
xa breakpoint >"$T/bp.out" 2>"$T/bp.err" &
BP=$!
xa write >"$T/w.out" 2>"$T/w.err" &
W=$!
wait_for "the breakpoint monitor sees the guest's int3s" 20 \
	sh -c "[ \$(grep -c '^Breakpoint: rip=' '$T/bp.out') -ge 5 ]"
wait_for "the write monitor, at the same time, its writes" 20 \
	grep -q '^PAGE ACCESS: -w- for GFN ' "$T/w.out"
kill -INT $BP $W
wait $BP; rb=$?
wait $W; rw=$?
expect_eq "both stop on SIGINT and exit 0, as on Xen" "0 0" "$rb $rw"
taken=$(prop $D org.altview1.Domain EventsTaken | cut -d' ' -f2)
answered=$(prop $D org.altview1.Domain EventsAnswered | cut -d' ' -f2)
expect_eq "every event the daemon took was answered once" "$taken" "$answered"
expect_eq "no monitor is left" "ao 0" "$(prop $D org.altview1.Domain Clients)"

xa breakpoint >"$T/bp2.out" 2>"$T/bp2.err" &
BP=$!
xa breakpoint >"$T/bp3.out" 2>"$T/bp3.err" &
KEEP=$!
wait_for "two more breakpoint monitors run" 20 \
	sh -c "grep -q '^Breakpoint' '$T/bp2.out' && grep -q '^Breakpoint' '$T/bp3.out'"
kill -KILL $BP
wait $BP 2>/dev/null
before=$(grep -c '^Breakpoint' "$T/bp3.out")
wait_for "SIGKILL of one: the other goes on seeing events" 20 \
	sh -c "[ \$(grep -c '^Breakpoint' '$T/bp3.out') -gt $((before + 5)) ]"
expect_progress "and the guest runs" 1 4
kill -INT $KEEP
wait $KEEP
expect_eq "the survivor exits 0" 0 "$?"
# Guest memory through the daemon too (root's mapping, handed on): xenctx shows the code at rip.
expect_match "xenctx through altviewd: registers and the code at rip" '^Code \(instr addr 001' \
	"$("$ALTVIEW_XEN" --uri "altviewd:$ADDR" -- "${PRELOAD[@]}" /usr/lib/xen-4.17/bin/xenctx 1 2 2>&1)"
expect_eq "and it held nothing afterwards" "t 0" "$(prop /org/altview1 org.altview1.Manager MappedPages)"
daemon_stop TERM
expect_eq "altviewd exits 0" 0 "$DAEMON_STATUS"
finish
