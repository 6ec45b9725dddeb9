#!/usr/bin/env bash
# Debian's unmodified xen-access on altview (altview-xen, an in-process x86
# guest running the demo program: writes, code on two pages, an int3 and a
# CPUID every few rounds, on 4 vCPUs).  Each mode runs for a while, is
# stopped with SIGINT, and must have printed what it prints on Xen, cleaned
# up, and exited as on Xen: 0, or 255 in the altp2m modes (its last
# xc_domain_debug_control is for vCPU 31, which a 4-vCPU guest lacks).
#
#   check-xen-access.sh ALTVIEW_XEN DEMO_SPEC
# (SANITIZER_PRELOAD: the sanitizer runtimes a sanitizer build's libraries need first)
set -u
ALTVIEW_XEN=$1 SPEC=$2
XA=/usr/lib/xen-4.17/bin/xen-access
PRELOAD=()
[ -z "${SANITIZER_PRELOAD:-}" ] || PRELOAD=(env LD_PRELOAD="$SANITIZER_PRELOAD")
if [ ! -x "$XA" ]; then
	echo "1..0 # SKIP Debian's xen-utils-4.17 is not installed"
	exit 0
fi
T=$(mktemp -d /tmp/xen-access-test.XXXXXX)
trap 'rm -rf "$T"' EXIT
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }

# run MODE SECONDS [READY...]: xen-access's stdout in $T/MODE.out, stderr in .err, exit
# status in .rc.  It runs SECONDS, and on until each READY pattern is in its output
# (a loaded machine is slow to set a view up), at most 60 s, then gets SIGINT.
run() {
	local mode=$1 secs=$2 pid deadline re ready
	shift 2
	# stdout is block-buffered off a tty: line-buffer it, as the tests of Xen's own do.
	# exec all the way down: $! is xen-access itself.
	"$ALTVIEW_XEN" --spec "$SPEC" -- "${PRELOAD[@]}" stdbuf -oL "$XA" 1 "$mode" \
		>"$T/$mode.out" 2>"$T/$mode.err" &
	pid=$!
	sleep "$secs"
	deadline=$((SECONDS + 60))
	while [ $SECONDS -lt $deadline ] && kill -0 $pid 2>/dev/null; do
		ready=1
		for re in "$@"; do
			grep -qE -- "$re" "$T/$mode.out" || ready=0
		done
		[ $ready -eq 1 ] && break
		sleep 0.2
	done
	kill -INT $pid 2>/dev/null
	wait $pid
	echo $? >"$T/$mode.rc"
}

# expect MODE RC MIN PATTERN WHAT: exit status RC, at least MIN stdout lines matching PATTERN
expect() {
	local mode=$1 rc=$2 min=$3 re=$4 what=$5 got lines
	got=$(cat "$T/$mode.rc")
	lines=$(grep -cE -- "$re" "$T/$mode.out")
	if [ "$got" = "$rc" ] && [ "$lines" -ge "$min" ] &&
	   grep -q "xenaccess shut down on signal 2" "$T/$mode.err" &&
	   ! grep -q "Error" "$T/$mode.err"; then
		ok "$mode: $what ($lines lines), shut down on SIGINT, exit $rc"
	else
		not_ok "$mode: $what"
		echo "# exit $got (want $rc), $lines lines like /$re/"
		head -n 5 "$T/$mode.out" | sed 's/^/#   /'
		grep -v 'Got event' "$T/$mode.err" | head -n 12 | sed 's/^/#   /'
	fi
}

# Long enough to see events, and in the altp2m modes until a step back to view 0 came.
STEP='^Singlestep: rip=0000000000100[0-9a-f]{3}, vcpu [0-3], altp2m 0$'
for mode in breakpoint write exec cpuid altp2m_write_no_gpt; do
	run "$mode" "${XEN_ACCESS_SECONDS:-3}"
done
for mode in altp2m_write altp2m_exec; do
	run "$mode" "${XEN_ACCESS_SECONDS:-3}" "$STEP"
done
expect breakpoint 0 3 '^Breakpoint: rip=0000000000100[0-9a-f]{3}, gfn=100 \(vcpu [0-3]\)$' "the guest's int3s"
expect write 0 3 '^PAGE ACCESS: -w- for GFN [0-9a-f]+ .*fault with gla: y\) \(vcpu [0-3] \[p\], altp2m view 0\)$' \
	"writes, each page once"
# The demo's code is two pages (its loop, and the function alone on the target page).
expect exec 0 2 '^PAGE ACCESS: --x for GFN 1[01][0-9a-f] .*\[p\]' "code run, each page once"
# The event carries the result the guest gets (leaf 0: the highest leaf, not 0), as on Xen:
# xen-access answers SET_REGISTERS with it and moves rip past CPUID.
expect cpuid 0 3 '^CPUID executed: rip=0000000000100[0-9a-f]{3}, vcpu [0-3]\. Insn length: 2 0x0 0x0: EAX=0x[1-9a-f]' \
	"CPUIDs, with their results"
expect altp2m_write 255 1 '^PAGE ACCESS: -w- for GFN [0-9a-f]+ .*altp2m view 1\)$' "writes in view 1"
expect altp2m_exec 255 1 '^PAGE ACCESS: --x for GFN [0-9a-f]+ .*altp2m view 1\)$' "code run in view 1"
expect altp2m_write_no_gpt 255 1 '^PAGE ACCESS: --x for GFN [0-9a-f]+ .*altp2m view 1\)$' "view 1 (rw: code traps)"
for mode in altp2m_write altp2m_exec; do
	if grep -qE -- "$STEP" "$T/$mode.out" &&
	   grep -q 'Permissions set on 511 pages' "$T/$mode.err"; then
		ok "$mode: each access stepped in view 0, 511 pages set (max_gpfn 0x1ff)"
	else
		not_ok "$mode: each access stepped in view 0, 511 pages set"
	fi
done
# A mode altview has no events for fails at setup, as on Xen without the hardware.
timeout -s INT 5 "$ALTVIEW_XEN" --spec "$SPEC" -- "${PRELOAD[@]}" "$XA" 1 desc_access >"$T/desc.out" 2>"$T/desc.err"
rc=$?
if [ $rc -ne 0 ] && grep -q 'Error -1 setting descriptor access listener' "$T/desc.err" &&
   grep -q 'xenaccess exit code' "$T/desc.err"; then
	ok "desc_access: refused at setup (EOPNOTSUPP), exit $rc"
else
	not_ok "desc_access: refused at setup"
	sed 's/^/#   /' "$T/desc.err" | head
fi
echo "1..$n"
exit $((failed > 0))
