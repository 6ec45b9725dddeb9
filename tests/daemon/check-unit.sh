#!/usr/bin/env bash
# The installation files: systemd accepts the unit, its sandbox scores what
# the README says, and `meson install` puts unit, policy, activation and
# sysusers files where systemd and dbus-daemon look (their pkg-config paths).
#
#   check-unit.sh UNIT(build copy) BUILD_DIR UNITDIR DBUS_DATADIR DBUS_SERVICES_DIR SYSUSERSDIR SBINDIR
#                 TOP_UNIT(the source tree's) ALTVIEWD
. "$(dirname "$0")/lib.sh"
UNIT=$1 BUILD=$2 UNITDIR=$3 DBUS_DATADIR=$4 SERVICES=$5 SYSUSERS=$6 SBINDIR=$7 TOP=$8 ALTVIEWD=$9

# verify UNIT: systemd-analyze accepts it without a word (a directive it cannot
# parse is only a warning, with exit status 0).  --man=no: the man pages it
# names are in the build tree, not installed.
verify() {
	local out
	out=$(systemd-analyze verify --man=no "$1" 2>&1) && [ -z "$out" ] || { echo "$out"; return 1; }
}
cp "$UNIT" "$T/altviewd.service"
check "systemd-analyze verify" verify "$T/altviewd.service"
# The top-level unit as it stands, for /usr/sbin/altviewd: verified where that
# path holds the daemon, in a mount namespace of its own.
if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null; then
	mkdir "$T/top" && cp "$TOP" "$T/top/"
	check "systemd-analyze verify on the top-level altviewd.service as it stands" \
		unshare -m bash -c 'mount -t tmpfs tmpfs /usr/sbin && cp "$1" /usr/sbin/altviewd &&
			. "$3" && verify "$2"' sh "$ALTVIEWD" "$T/top/altviewd.service" <(declare -f verify)
else
	ok "the top-level altviewd.service # SKIP needs root for a mount namespace"
fi
out=$(systemd-analyze security --offline=true --threshold=20 "$T/altviewd.service" 2>&1); rc=$?
score=$(printf '%s\n' "$out" | grep -o 'Overall exposure level for altviewd.service: [0-9.]* [A-Z]*')
echo "# $score"
expect_eq "systemd-analyze security: exposure at most 2.0" 0 "$rc"
expect_match "the unit is Type=notify with BusName=org.altview1" 'Type=notify.*BusName=org.altview1' "$(tr '\n' ' ' <"$UNIT")"

meson install -C "$BUILD" --no-rebuild --quiet --destdir "$T/root" >"$T/install.log" 2>&1
check "meson install" test -x "$T/root$SBINDIR/altviewd"
for f in "$UNITDIR/altviewd.service" "$DBUS_DATADIR/dbus-1/system.d/org.altview1.conf" \
	"$SERVICES/org.altview1.service" "$SYSUSERS/altview.conf"; do
	check "installed: $f" test -s "$T/root$f"
done
expect_match "the installed unit starts the installed daemon" "^ExecStart=$SBINDIR/altviewd\$" \
	"$(grep ^ExecStart= "$T/root$UNITDIR/altviewd.service")"
expect_match "activation hands over to the unit" '^SystemdService=altviewd.service$' \
	"$(cat "$T/root$SERVICES/org.altview1.service")"
check "the policy file is well-formed XML" python3 -c "import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])" \
	"$T/root$DBUS_DATADIR/dbus-1/system.d/org.altview1.conf"
finish
