#!/usr/bin/env bash
# The installation files: systemd accepts the unit, its sandbox scores what
# the README says, and `meson install` puts unit, policy, activation and
# sysusers files where systemd and dbus-daemon look (their pkg-config paths).
#
#   check-unit.sh UNIT(build copy) BUILD_DIR UNITDIR DBUS_DATADIR DBUS_SERVICES_DIR SYSUSERSDIR SBINDIR
. "$(dirname "$0")/lib.sh"
UNIT=$1 BUILD=$2 UNITDIR=$3 DBUS_DATADIR=$4 SERVICES=$5 SYSUSERS=$6 SBINDIR=$7

cp "$UNIT" "$T/altviewd.service"
# --man=no: the man pages it names are in the build tree, not installed.
check "systemd-analyze verify" systemd-analyze verify --man=no "$T/altviewd.service"
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
