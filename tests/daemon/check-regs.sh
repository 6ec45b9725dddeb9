#!/usr/bin/env bash
# A monitor's reach through altviewd: vCPU registers (Domain.GetRegisters/
# SetRegisters, and libaltview's altviewd: backend), read and written while
# the domain is paused or held, or inside an event sent to the caller; a
# running vCPU's are refused (Busy), and so are unknown names, values too
# wide, vCPUs the domain lacks, and callers who may not.  And guest memory
# written (WriteMemory, altviewctl write) and read through the backend,
# within limits.max_read_bytes and the guest's RAM.
#
#   check-regs.sh ALTVIEWD DEMO_CONFIG REGS_CLIENT CHAN_CLIENT
. "$(dirname "$0")/lib.sh"
ALTVIEWD=$1 DEMO=$2 REGS=$3 CHAN=$4
D=/org/altview1/domain/1 E=org.altview1.Error
M="org.altview1 $D org.altview1.Domain"

# Events wait long enough for another client's event to be seen waiting.
sed -e 's/"response_timeout_ms": [0-9]*/"response_timeout_ms": 4000/' \
	-e '0,/{/s//{ "group": "nogroup", "limits": { "max_read_bytes": 4096 },/' "$DEMO" >"$T/altviewd.json"
bus_start
daemon_start "$T/altviewd.json"
expect_progress "the demo guest runs" 1 4
reg() { bctl call $M GetRegisters u "$1" | grep -o "\"$2\" [0-9]*" | awk '{print $2}'; }

expect_error "a running vCPU's registers are refused" $E.Busy 'vCPU 0 of domain 1 runs' \
	call $M GetRegisters u 0
expect_error "and so is writing them" $E.Busy 'runs' call $M SetRegisters 'ua{st}' 0 1 rax 1
check "Pause" bctl call $M Pause
expect_match "paused: GetRegisters gives all 41, rip inside the guest" '^a\{st\} 41 .*"rip" [1-9]' \
	"$(bctl call $M GetRegisters u 1)"
expect_match "altviewctl regs prints them" '^rip +0x0000000000[0-9a-f]{6}$' \
	"$("$ALTVIEWCTL" -A "$ADDR" regs 1 1 | grep '^rip')"
expect_match "and as JSON" '"rsp": *[1-9]' "$("$ALTVIEWCTL" -A "$ADDR" --json regs 1 1)"
rax=$(reg 2 rax)
check "SetRegisters writes what it names" bctl call $M SetRegisters 'ua{st}' 2 2 rax 12345 cs_sel 8
expect_eq "and it reads back" "12345 8" "$(reg 2 rax) $(reg 2 cs_sel)"
check "and the rest is as it was (rax put back)" bctl call $M SetRegisters 'ua{st}' 2 1 rax "$rax"
rax0=$(reg 0 rax) cs0=$(reg 0 cs_sel)
expect_error "an unknown register, beside a good one" $E.InvalidArgument 'unknown register "eax"' \
	call $M SetRegisters 'ua{st}' 0 2 rax 7 eax 1
expect_error "a selector wider than 16 bits" $E.InvalidArgument 'cs_sel: 0x10000 does not fit in 16 bits' \
	call $M SetRegisters 'ua{st}' 0 1 cs_sel 65536
expect_error "a vCPU the domain lacks" $E.InvalidArgument 'no vCPU 4' call $M GetRegisters u 4
expect_eq "nothing a refused call named was written" "$rax0 $cs0" "$(reg 0 rax) $(reg 0 cs_sel)"
if command -v setpriv >/dev/null && [ "$(id -u)" -eq 0 ]; then
	AS="setpriv --reuid=1 --regid=1 --clear-groups" expect_error "an outsider" $E.PermissionDenied \
		'uid 1 may not' call $M GetRegisters u 0
else
	ok "an outsider # SKIP needs root and setpriv"
fi
# Guest memory: written, read back, put back; a write out of bounds changes nothing.
word() { bctl call $M ReadMemory tu "$1" 4 | cut -d' ' -f3-; }
before=$(word 0x1ff000)
check "WriteMemory" bctl call $M WriteMemory tay 0x1ff000 4 1 2 3 4
expect_eq "and ReadMemory sees it" "1 2 3 4" "$(word 0x1ff000)"
check "altviewctl write" "$ALTVIEWCTL" -A "$ADDR" write 1 0x1ff000 0a0b0c0d
expect_eq "and ReadMemory sees that" "10 11 12 13" "$(word 0x1ff000)"
tail_word=$(word 0x1ffffc)
expect_error "a write past the end of RAM" $E.BadAddress 'outside the domain' \
	call $M WriteMemory tay 0x1ffffe 4 1 2 3 4
expect_eq "changes nothing" "$tail_word" "$(word 0x1ffffc)"
expect_error "a write over limits.max_read_bytes" $E.TooLarge 'at most 4096' \
	call $M WriteMemory tay 0 4097 $(seq 4097 | sed 's/.*/0/')
check "put back" bctl call $M WriteMemory tay 0x1ff000 4 $before
if command -v setpriv >/dev/null && [ "$(id -u)" -eq 0 ]; then
	AS="setpriv --reuid=1 --regid=1 --clear-groups" expect_error "an outsider's write" \
		$E.PermissionDenied 'uid 1 may not' call $M WriteMemory tay 0x1ff000 1 0
else
	ok "an outsider's write # SKIP needs root and setpriv"
fi
check "Unpause" bctl call $M Unpause

# A vCPU waiting in another client's event is that client's, not everyone's.
"$CHAN" "$ADDR" 1 hang breakpoint >"$T/hang.out" 2>&1 &
hang=$!
wait_for "another client holds a breakpoint unanswered" 10 grep -q pending "$T/hang.out"
refused=0
for v in 0 1 2 3; do
	bctl call $M GetRegisters u $v >/dev/null 2>&1 || refused=$((refused + 1))
done
expect_eq "no vCPU's registers for a caller who was not sent its event" 4 "$refused"
kill -KILL "$hang"; wait "$hang" 2>/dev/null
check "a monitor through altviewd reads and writes the registers inside each event" \
	"$REGS" "altviewd:$ADDR" 1 50
expect_match "of 50 breakpoints" '^50 events' "$(cat "$T/out")"
expect_progress "the guest runs on" 1 4
daemon_stop TERM
expect_eq "SIGTERM: a clean exit" 0 "$DAEMON_STATUS"
finish
