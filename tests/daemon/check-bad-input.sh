#!/usr/bin/env bash
# Every method with wrong types, out-of-range ids, oversize reads, unknown
# access names and malformed JSON: a D-Bus error with a name from
# org.altview1.Error (or sd-bus's InvalidArgs for a wrong signature) and a
# message that says what is wrong; the daemon stays up and keeps what it had.
#
#   check-bad-input.sh ALTVIEWD X86_SPEC(4 vCPUs)
. "$(dirname "$0")/lib.sh"
ALTVIEWD=$1 X86_SPEC=$2 SEND=$3

# The programs the daemon may load, and what a caller might try instead.
mkdir "$T/programs" "$T/programs/dir.elf"
cp "$(guests_dir)/workload.elf" "$T/programs/"
ln -s /etc/shadow "$T/programs/shadow.elf"
mkfifo "$T/programs/fifo.elf"
cat >"$T/altviewd.json" <<CONF
{ "program_dir": "$T/programs",
  "limits": { "max_domains": 2, "max_vcpus": 4, "max_memory_mib": 64, "max_read_bytes": 4096 } }
CONF
bus_start
daemon_start "$T/altviewd.json"

E=org.altview1.Error
M="org.altview1 /org/altview1 org.altview1.Manager"
D=org.altview1.Domain V=org.altview1.View
SIG=org.freedesktop.DBus.Error.InvalidArgs
UNKNOWN=org.freedesktop.DBus.Error.UnknownObject

# ---- Manager
expect_error "CreateDomain: wrong type" $SIG '' call $M CreateDomain u 5
expect_error "CreateDomain: no arguments" $SIG '' call $M CreateDomain
expect_error "CreateDomain: malformed JSON" $E.InvalidArgument 'line 1, column [0-9]+' \
	call $M CreateDomain s '{"name": "x", "vcpus": }'
expect_error "CreateDomain: not an object" $E.InvalidArgument 'spec' call $M CreateDomain s '[1, 2]'
expect_error "CreateDomain: unknown member" $E.InvalidArgument '"colour"' \
	call $M CreateDomain s '{"name": "x", "vcpus": 1, "memory_mib": 2, "colour": "red"}'
expect_error "CreateDomain: vcpus over the limit" $E.LimitReached '"vcpus": 64 exceeds the limit of 4' \
	call $M CreateDomain s "$(x86_spec | sed 's/"vcpus": 4/"vcpus": 64/')"
expect_error "CreateDomain: memory over the limit" $E.LimitReached '"memory_mib": 1024 MiB exceeds' \
	call $M CreateDomain s "$(x86_spec | sed 's/"memory_mib": 2/"memory_mib": 1024/')"
expect_error "CreateDomain: memory in bytes over the limit" $E.LimitReached '"memory_bytes": 1073741824 bytes exceeds the limit of 64 MiB' \
	call $M CreateDomain s "$(x86_spec | sed 's/"memory_mib": 2/"memory_bytes": 1073741824/')"
# program: prog NAME is the workload's spec with that program.
prog() { x86_spec | sed "s|\"program\": \".*\"|\"program\": \"$1\"|"; }
expect_error "CreateDomain: a program that is not there" $E.NotFound 'nonexistent.elf in .*/programs: No such file' \
	call $M CreateDomain s "$(prog nonexistent.elf)"
expect_error "CreateDomain: a program by path" $E.InvalidArgument '"/etc/shadow" is not a file name' \
	call $M CreateDomain s "$(prog /etc/shadow)"
expect_error "CreateDomain: a program out of program_dir" $E.InvalidArgument '"../programs/workload.elf" is not a file name' \
	call $M CreateDomain s "$(prog ../programs/workload.elf)"
expect_error "CreateDomain: a program by path in an object" $E.InvalidArgument '"/etc/shadow" is not a file name' \
	call $M CreateDomain s "$(x86_spec | sed 's|"program": ".*"|"program": {"elf": "/etc/shadow"}|')"
expect_error "CreateDomain: a symbolic link in program_dir" $E.InvalidArgument 'shadow.elf in .*: a symbolic link' \
	call $M CreateDomain s "$(prog shadow.elf)"
expect_error "CreateDomain: a FIFO in program_dir, refused at once" $E.InvalidArgument 'fifo.elf in .*: not a regular file' \
	call $M CreateDomain s "$(prog fifo.elf)"
expect_error "CreateDomain: a directory in program_dir" $E.InvalidArgument 'dir.elf in .*: not a regular file' \
	call $M CreateDomain s "$(prog dir.elf)"
chmod o+w "$T/programs"
expect_error "CreateDomain: program_dir writable by everyone" $E.PermissionDenied 'writable by everyone' \
	call $M CreateDomain s "$(prog workload.elf)"
chmod o-w "$T/programs"
# Names go into D-Bus strings and logs whole, or not at all.
named() { local spec; spec=$(x86_spec); printf '%s' "${spec/\"x86-workload\"/\"$1\"}"; }
expect_error "CreateDomain: a name of more than 63 bytes" $E.InvalidArgument '"name": 80 bytes, at most 63' \
	call $M CreateDomain s "$(named "$(printf '\xc3\xa9%.0s' $(seq 40))")"
expect_error "CreateDomain: a name with a newline" $E.InvalidArgument '"name": control characters' \
	call $M CreateDomain s "$(named 'forged\n<0>altviewd: emergency')"
expect_error "CreateDomain: a name with a NUL" $E.InvalidArgument '"name": not valid UTF-8' \
	call $M CreateDomain s "$(named 'cut\u0000here')"
expect_error "CreateDomain: an error message longer than a reply's buffer, of multibyte characters" \
	$E.InvalidArgument 'domain spec: "' \
	call $M CreateDomain s "{\"$(printf '\xc3\xa9%.0s' $(seq 300))\": 1, \"memory_mib\": 2}"
expect_eq "CreateDomain: a spec of more than 1 MiB is refused before it is parsed" \
	"org.altview1.Error.TooLarge: domain spec: longer than 1048576 bytes" \
	"$(head -c 2000000 /dev/zero | tr '\0' ' ' | "$SEND" "$ADDR" /org/altview1 org.altview1.Manager CreateDomain)"
check "the daemon still answers after all that" bctl call org.altview1 /org/altview1 org.freedesktop.DBus.Peer Ping 
expect_error "DestroyDomain: no such domain" $E.NoSuchDomain 'no domain 99' call $M DestroyDomain u 99
expect_error "DestroyDomain: wrong type" $SIG '' call $M DestroyDomain s one
expect_eq "nothing was created by the failures" 'a(uso) 0' "$(bctl call $M ListDomains)"

bctl call $M CreateDomain s "$(x86_spec one)" >/dev/null
bctl call $M CreateDomain s "$(x86_spec two)" >/dev/null
expect_error "CreateDomain: max_domains reached" $E.LimitReached 'limits.max_domains' \
	call $M CreateDomain s "$(x86_spec three)"

# ---- object paths
expect_error "a domain that does not exist" $UNKNOWN '' call org.altview1 /org/altview1/domain/99 $D Pause
expect_error "a domain id with a leading zero" $UNKNOWN '' call org.altview1 /org/altview1/domain/01 $D Pause
expect_error "a domain id beyond 32 bits" $UNKNOWN '' call org.altview1 /org/altview1/domain/4294967297 $D Pause
expect_error "a view other than the host's before views are enabled" $UNKNOWN '' call org.altview1 /org/altview1/domain/1/view/1 $V Switch
expect_error "the host view cannot be destroyed, enabled or not" $E.InvalidArgument 'host view' \
	call org.altview1 /org/altview1/domain/1/view/0 $V Destroy
expect_error "a view path with junk" $UNKNOWN '' call org.altview1 /org/altview1/domain/1/views/0 $V Switch

# ---- Domain
P=$(dom_path 1)
expect_error "EnableViews: 1 view" $E.InvalidArgument 'from 2' call org.altview1 $P $D EnableViews u 1
expect_error "EnableViews: over max_views" $E.InvalidArgument 'limits.max_views' call org.altview1 $P $D EnableViews u 100000
expect_error "EnableViews: wrong type" $SIG '' call org.altview1 $P $D EnableViews s four
expect_error "CreateView: views not enabled" $E.NotSupported 'EnableViews first' call org.altview1 $P $D CreateView s rwx
expect_error "DisableViews: not enabled" $E.Already 'not enabled' call org.altview1 $P $D DisableViews
bctl call org.altview1 $P $D EnableViews u 3 >/dev/null
expect_error "EnableViews: twice" $E.Already 'already enabled' call org.altview1 $P $D EnableViews u 3
expect_error "CreateView: unknown access" $E.InvalidArgument 'unknown access "rwxx"' call org.altview1 $P $D CreateView s rwxx
expect_error "CreateView: 'default' is no default" $E.InvalidArgument 'unknown access' call org.altview1 $P $D CreateView s default
bctl call org.altview1 $P $D CreateView s rwx >/dev/null
bctl call org.altview1 $P $D CreateView s rwx >/dev/null
expect_error "CreateView: no free view" $E.LimitReached '' call org.altview1 $P $D CreateView s rwx
expect_error "ReadMemory: over max_read_bytes" $E.TooLarge 'at most 4096' call org.altview1 $P $D ReadMemory tu 0 4097
expect_error "ReadMemory: past the end of memory" $E.BadAddress 'outside' call org.altview1 $P $D ReadMemory tu 0x1fffff 2
expect_error "ReadMemory: address wraps around" $E.BadAddress 'outside' call org.altview1 $P $D ReadMemory tu 0xffffffffffffffff 2
expect_error "ReadMemory: wrong types" $SIG '' call org.altview1 $P $D ReadMemory ss a b
check "Unpause: starts the domain created paused" bctl call org.altview1 $(dom_path 2) $D Unpause
expect_error "Unpause: not paused by altviewd" $E.Already 'not paused' call org.altview1 $(dom_path 2) $D Unpause
bctl call org.altview1 $(dom_path 2) $D Pause >/dev/null
expect_error "Pause: twice" $E.Already 'already paused' call org.altview1 $(dom_path 2) $D Pause

# ---- View
V0=$(view_path 1 0) V1=$(view_path 1 1)
expect_error "a view index that was never created" $UNKNOWN '' call org.altview1 $(view_path 1 7) $V Switch
expect_error "SetAccess: unknown access" $E.InvalidArgument 'unknown access "rwz"' call org.altview1 $V1 $V SetAccess tts 0x100 1 rwz
expect_error "SetAccess: no pages" $E.InvalidArgument 'at least 1' call org.altview1 $V1 $V SetAccess tts 0x100 0 r
expect_error "SetAccess: beyond the guest's memory" $E.NotFound 'gfn 0x100000 is outside the domain.s 512 pages' call org.altview1 $V1 $V SetAccess tts 0x100000 1 r
expect_error "SetAccess: a range that wraps around" $E.NotFound 'outside' call org.altview1 $V1 $V SetAccess tts 0x10 18446744073709551615 r
expect_error "SetAccess: wrong types" $SIG '' call org.altview1 $V1 $V SetAccess sss a b c
expect_error "SetAccessMulti: fewer names than gfns" $E.InvalidArgument '2 gfns but 1 access' call org.altview1 $V1 $V SetAccessMulti atas 2 1 2 1 r
expect_error "SetAccessMulti: more names than gfns" $E.InvalidArgument 'more access names' call org.altview1 $V1 $V SetAccessMulti atas 1 1 2 r w
expect_error "SetAccessMulti: an unknown name" $E.InvalidArgument 'entry 1: unknown access "q"' call org.altview1 $V1 $V SetAccessMulti atas 2 1 2 2 r q
expect_error "SetAccessMulti: a gfn beyond memory" $E.NotFound 'entry 1: gfn 0x100000 is outside' call org.altview1 $V1 $V SetAccessMulti atas 2 1 0x100000 2 r r
expect_eq "a failed SetAccessMulti changed nothing" 's "rwx"' "$(bctl call org.altview1 $V1 $V GetAccess t 1)"
expect_error "GetAccess: beyond the guest's memory" $E.NotFound 'gfn 0x100000 is outside' call org.altview1 $V1 $V GetAccess t 0x100000
expect_error "SetDefaultAccess: 'default'" $E.InvalidArgument 'unknown access' call org.altview1 $V1 $V SetDefaultAccess s default
expect_error "ChangeGfn: the host view" $E.InvalidArgument 'host view' call org.altview1 $V0 $V ChangeGfn tt 1 2
expect_error "ChangeGfn: beyond memory" $E.NotFound 'gfn 0x100000 is outside' call org.altview1 $V1 $V ChangeGfn tt 0x100000 2
expect_error "ChangeGfn: to a gfn beyond memory" $E.NotFound 'gfn 0x200000 is outside' call org.altview1 $V1 $V ChangeGfn tt 2 0x200000
expect_error "SwitchVcpu: no such vCPU" $E.InvalidArgument 'vCPU 9: domain 1 has 4' call org.altview1 $V1 $V SwitchVcpu u 9
expect_error "SetVisible: the host view" $E.InvalidArgument 'host view' call org.altview1 $V0 $V SetVisible b false
expect_error "Destroy: the host view" $E.InvalidArgument 'host view' call org.altview1 $V0 $V Destroy
expect_error "Properties.Set on a read-only property" org.freedesktop.DBus.Error.PropertyReadOnly '' \
	set-property org.altview1 $P $D MaxViews u 9

expect_eq "the domains are all still there" 'a(uso) 2 1 "one" "/org/altview1/domain/1" 2 "two" "/org/altview1/domain/2"' \
	"$(bctl call $M ListDomains)"
daemon_stop TERM
expect_eq "SIGTERM after all that: exit status 0" 0 "$DAEMON_STATUS"
finish
