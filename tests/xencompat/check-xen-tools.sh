#!/usr/bin/env bash
# Debian's xenctx, xen-hvmctx and lsevtchn on altview: a vCPU's registers
# and the code at rip (a foreign mapping), the guest's save records, and
# the status of its event channels; and xenstore-utils' readers on the
# part of xenstore altview has (the domains and their names).
#
#   check-xen-tools.sh ALTVIEW_XEN DEMO_SPEC
# (SANITIZER_PRELOAD: the sanitizer runtimes a sanitizer build's libraries need first)
set -u
ALTVIEW_XEN=$1 SPEC=$2 BIN=/usr/lib/xen-4.17/bin
if [ ! -x "$BIN/xenctx" ]; then
	echo "1..0 # SKIP Debian's xen-utils-4.17 is not installed"
	exit 0
fi
PRELOAD=()
[ -z "${SANITIZER_PRELOAD:-}" ] || PRELOAD=(env LD_PRELOAD="$SANITIZER_PRELOAD")
n=0 failed=0
# expect WHAT REGEX OUTPUT
expect() {
	n=$((n + 1))
	if printf '%s\n' "$3" | grep -Eq -- "$2"; then
		echo "ok $n - $1"
	else
		echo "not ok $n - $1"; printf '%s\n' "$3" | head -n 12 | sed 's/^/#   /'
		failed=$((failed + 1))
	fi
}
run() { "$ALTVIEW_XEN" --spec "$SPEC" -- "${PRELOAD[@]}" "$BIN/$@" 2>&1; }
# no_failure WHAT OUTPUT: no call the tool made said it failed or is not served
no_failure() {
	n=$((n + 1))
	if printf '%s\n' "$2" | grep -Eq 'not supported|failed'; then
		echo "not ok $n - $1"; failed=$((failed + 1))
		printf '%s\n' "$2" | grep -E 'not supported|failed' | sed 's/^/#   /'
	else
		echo "ok $n - $1"
	fi
}

out=$(run xenctx 1 3)
# In long mode whether or not vCPU 3 ran yet: xenctx prints 64-bit registers.
expect "xenctx: vCPU 3's rip, 64-bit, in the guest's code" '^rip: 00000000001[0-9a-f]{5}' "$out"
expect "xenctx: the code at rip, mapped from the guest" '^Code \(instr addr 001[0-9a-f]{5}\)' "$out"
expect "xenctx: the code's bytes, the instruction at rip marked" '<[0-9a-f]{2}>' "$out"
no_failure "xenctx: no call failed" "$out"
out=$(run xenctx 1 4)
expect "xenctx: a vCPU the guest lacks is an error" 'xc_vcpu_getcontext|Invalid argument|failed' "$out"
out=$(run xen-hvmctx 1)
expect "xen-hvmctx: the save header" 'Header: magic 0x54381286, version 1' "$out"
expect "xen-hvmctx: a CPU record per vCPU" 'Entry 4: type 2 instance 3, length 1032' "$out"
expect "xen-hvmctx: and the end" 'type 0 instance 0, length 0|END' "$out"
out=$(run lsevtchn 1; echo "exit $?")
expect "lsevtchn: every port's status, to the end of the table, exit 0" '^exit 0$' "$out"
no_failure "lsevtchn: no call failed" "$out"
# xenstore-utils (its binaries live in /usr/bin).
xs() { "$ALTVIEW_XEN" --spec "$SPEC" -- "${PRELOAD[@]}" "/usr/bin/$@" 2>&1; }
if [ -x /usr/bin/xenstore-read ]; then
	expect "xenstore-read: the guest's name" '^x86-demo$' "$(xs xenstore-read /local/domain/1/name)"
	expect "xenstore-list: dom0 and the guest" '^0 1$' "$(xs xenstore-list /local/domain | tr '\n' ' ' | sed 's/ $//')"
	expect "xenstore-ls: each with its name and domid" 'name = "x86-demo"' "$(xs xenstore-ls /local/domain)"
	out=$(xs xenstore-read /local/domain/9/name; echo "exit $?")
	expect "xenstore-read: a domain that is not there fails" '^exit 1$' "$out"
	out=$(xs xenstore-write /local/domain/1/name other; echo "exit $?")
	expect "xenstore-write: the store is read-only here" '^exit 1$' "$out"
	expect "and the name stays" '^x86-demo$' "$(xs xenstore-read /local/domain/1/name)"
else
	n=$((n + 1)); echo "ok $n - xenstore-utils # SKIP not installed"
fi
echo "1..$n"
exit $((failed > 0))
