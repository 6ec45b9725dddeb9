#!/usr/bin/env bash
# Guest memory at memory speed for root (Domain.MapMemory, libaltview's
# av_map through altviewd:, altviewctl read): one memory with what
# ReadMemory and WriteMemory copy, read-only where asked, refused to
# everyone but root and past the end of RAM.  And the frames' lifetime:
# while a process holds a mapping, its frames are never given to another
# domain, not even after its domain is destroyed; when the process dies,
# the daemon lets go of every frame, descriptor and mapping it held.
#
#   check-map.sh ALTVIEWD X86_SPEC MAP_CLIENT
. "$(dirname "$0")/lib.sh"
ALTVIEWD=$1 X86_SPEC=$2 MAPC=$3
E=org.altview1.Error MGR="org.altview1 /org/altview1 org.altview1.Manager"
URI="altviewd:$ADDR"

# ReadMemory's bound is small: a read past it can only have gone through a mapping.
config '{ "machine_mib": 24, "group": "nogroup", "limits": { "max_read_bytes": 4096 } }'
bus_start
daemon_start "$T/altviewd.json"
create() { bctl call $MGR CreateDomain s "{\"name\": \"$1\", \"memory_mib\": $2}"; }
mapped() { bctl get-property $MGR MappedPages | awk '{print $2}'; }
held_maps() { grep -c altview-machine "/proc/$DAEMON_PID/maps"; }
fds() { ls "/proc/$DAEMON_PID/fd" | wc -l; }
check "a domain of 8 MiB" create a 8
D="org.altview1 /org/altview1/domain/1 org.altview1.Domain"
maps0=$(held_maps) fds0=$(fds)

check "mapped and copied are one memory; read-only stays so; bad ranges refused" \
	"$MAPC" "$URI" 1 check
expect_eq "every mapping went with its unmap" 0 "$(mapped)"
expect_error "a range past the end of RAM" $E.BadAddress 'outside the domain' \
	call $D MapMemory ttb 2047 2 false
expect_error "no pages" $E.BadAddress 'outside the domain' call $D MapMemory ttb 0 0 false
expect_error "a range that wraps" $E.BadAddress 'outside the domain' \
	call $D MapMemory ttb 0xffffffffffffffff 2 false
expect_error "an unmap of what this connection never mapped" $E.NotFound 'no mapping 7' \
	call $MGR UnmapMemory t 7
if command -v setpriv >/dev/null && [ "$(id -u)" -eq 0 ]; then
	AS="setpriv --reuid=65534 --regid=65534 --groups=$(getent group nogroup | cut -d: -f3)" \
		expect_error "a group member may not map (ReadMemory is theirs)" $E.PermissionDenied \
		"mapping guest memory is root's" call $D MapMemory ttb 0 1 false
	AS="setpriv --reuid=1 --regid=1 --clear-groups" expect_error "nor an outsider" \
		$E.PermissionDenied 'uid 1 may not' call $D MapMemory ttb 0 1 false
else
	ok "a group member may not map # SKIP needs root and setpriv"
	ok "nor an outsider # SKIP needs root and setpriv"
fi
check "WriteMemory" bctl call $D WriteMemory tay 0x1234 4 0x41 0x42 0x43 0x44
expect_match "altviewctl read maps when run as root: 8 KiB, past ReadMemory's 4 KiB" \
	'00001230 .* 41 42 43 44 .*\|....ABCD' "$("$ALTVIEWCTL" -A "$ADDR" read 1 0x1000 8192 | grep '^0*1230 ')"
expect_eq "and lets go again" 0 "$(mapped)"
if command -v setpriv >/dev/null && [ "$(id -u)" -eq 0 ]; then
	out=$(setpriv --reuid=65534 --regid=65534 --groups="$(getent group nogroup | cut -d: -f3)" \
		"$ALTVIEWCTL" -A "$ADDR" read 1 0x1000 8192 2>&1)
	expect_match "a member's altviewctl read copies instead, within ReadMemory's bound" 'at most 4096' "$out"
	expect_match "and one within it works" '00001230 .* 41 42 43 44' "$(setpriv --reuid=65534 \
		--regid=65534 --groups="$(getent group nogroup | cut -d: -f3)" "$ALTVIEWCTL" -A "$ADDR" read 1 0x1230 8)"
else
	ok "a member's altviewctl read copies # SKIP needs root and setpriv"
	ok "and one within it works # SKIP needs root and setpriv"
fi

# A process holds all of domain 1; the domain is destroyed under it.
"$MAPC" "$URI" 1 hold >"$T/hold.out" 2>&1 &
holder=$!
wait_for "a process maps all 2048 pages of domain 1" 10 grep -q '^mapped' "$T/hold.out"
expect_eq "the daemon holds them" 2048 "$(mapped)"
check "domain 1 is destroyed" bctl call $MGR DestroyDomain u 1
check "another domain of 8 MiB fits beside the held frames" create b 8
expect_error "but not one of 12: the 8 MiB held are not free" org.freedesktop.DBus.Error.NoMemory \
	'cannot create a domain' call $MGR CreateDomain s '{"name": "c", "memory_mib": 12}'
kill -USR1 $holder
wait_for "the holder writes 'B' through its old mapping" 10 grep -q '^rewritten' "$T/hold.out"
D2="org.altview1 /org/altview1/domain/2 org.altview1.Domain"
seen=0
for ((off = 0; off < 8 << 20; off += 256 << 10)); do
	bctl call $D2 ReadMemory tu $off 16 | grep -q ' 66 66 66 66' && seen=$((seen + 1))
done
expect_eq "none of it lands in domain 2" 0 "$seen"
kill -KILL $holder
wait $holder 2>/dev/null
wait_for "the holder's death releases its frames" 10 test "$(mapped)" = 0
check "now 12 MiB fit" create c 12
expect_eq "no mapping of guest memory left in the daemon" "$maps0" "$(held_maps)"
expect_eq "no descriptor left open" "$fds0" "$(fds)"

daemon_stop TERM
expect_eq "altviewd exits 0" 0 "$DAEMON_STATUS"
finish
