#!/usr/bin/env bash
# Every Debian Xen binary that links only libraries altview provides
# starts under altview-xen: no "version not found", no "undefined symbol",
# and none of Debian's own Xen libraries is loaded (loaded-only.so ends
# each one before its main).
#
#   check-loader.sh ALTVIEW_XEN LOADED_ONLY
# (SANITIZER_PRELOAD: the sanitizer runtimes a sanitizer build's libraries need first)
set -u
ALTVIEW_XEN=$1 LOADED_ONLY=$2
BIN=/usr/lib/xen-4.17/bin
provided="libxenctrl.so.4.17 libxenevtchn.so.1 libxentoollog.so.1 libxenforeignmemory.so.1 libxenguest.so.4.17 libxenstore.so.4 libxengnttab.so.1"
if [ ! -d "$BIN" ]; then
	echo "1..0 # SKIP Debian's xen-utils-4.17 is not installed"
	exit 0
fi
n=0 failed=0
for b in "$BIN"/*; do
	[ "$(head -c 4 "$b" | od -An -c | tr -d ' ')" = '177ELF' ] || continue
	needed=$(readelf -d "$b" | sed -n 's/.*(NEEDED).*\[\(libxen[^]]*\)\]/\1/p')
	[ -n "$needed" ] || continue
	ours=1
	for lib in $needed; do
		case " $provided " in *" $lib "*) ;; *) ours=0 ;; esac
	done
	[ $ours -eq 1 ] || continue
	n=$((n + 1))
	out=$("$ALTVIEW_XEN" -- env LD_BIND_NOW=1 \
		LD_PRELOAD="${SANITIZER_PRELOAD:+$SANITIZER_PRELOAD:}$LOADED_ONLY" "$b" 2>&1)
	rc=$?
	if [ $rc -eq 0 ] && ! printf '%s' "$out" | grep -qE 'version .* not found|undefined symbol|symbol lookup error'; then
		echo "ok $n - $(basename "$b") loads (${needed//$'\n'/ })"
	else
		echo "not ok $n - $(basename "$b") loads"
		printf '%s\n' "$out" | sed 's/^/# /'
		failed=$((failed + 1))
	fi
done
echo "1..$n"
[ $n -ge 5 ] || { echo "# only $n binaries found"; exit 1; }
exit $((failed > 0))
