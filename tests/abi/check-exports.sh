#!/bin/sh
# check-exports.sh LIBRARY MAP HEADERS_DIR VERSION
#
# What the shared object exports is exactly what the version script lists,
# every symbol is versioned and prefixed av_, every one is declared in a
# public header, and the versions tell one story: the project's VERSION
# (meson.build) is the file's (libaltview.so.VERSION), its major the SONAME's,
# AV_VERSION_* in the header say the same, and no symbol sits in a node
# newer than the release.
set -eu
lib=$1 map=$2 headers=$3 version=$4
fail=0
major=${version%%.*} minor=${version#*.}; minor=${minor%%.*}

soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "libaltview.so.$major" ] || { echo "FAIL: SONAME is '$soname'"; fail=1; }
real=$(basename "$(readlink -f "$lib")")
[ "$real" = "libaltview.so.$version" ] || { echo "FAIL: the file is $real, not libaltview.so.$version"; fail=1; }
header=$(sed -n 's/^#define AV_VERSION_\(MAJOR\|MINOR\|MICRO\) \([0-9]*\)$/\2/p' "$headers/common.h" | paste -sd.)
[ "$header" = "$version" ] || { echo "FAIL: AV_VERSION_* say $header, meson.build $version"; fail=1; }

exports=$(nm -D --defined-only "$lib" | awk '{print $3}')
for sym in $exports; do
	case $sym in
	ALTVIEW_[0-9]*.[0-9]*) ;;                                   # the version nodes
	av_*@@ALTVIEW_[0-9]*.[0-9]*) ;;
	*) echo "FAIL: unversioned or unprefixed export: $sym"; fail=1 ;;
	esac
done
for node in $(printf '%s\n' $exports | sed -n 's/.*@@ALTVIEW_//p' | sort -u); do
	n_major=${node%%.*} n_minor=${node#*.}
	if [ "$n_major" -gt "$major" ] || { [ "$n_major" -eq "$major" ] && [ "$n_minor" -gt "$minor" ]; }; then
		echo "FAIL: node ALTVIEW_$node is newer than release $version"; fail=1
	fi
done

names=$(printf '%s\n' $exports | sed -n 's/@@.*//p' | sort)
listed=$(sed -n 's/^[[:space:]]*\(av_[a-z0-9_]*\);.*/\1/p' "$map" | sort)
if [ "$names" != "$listed" ]; then
	echo "FAIL: the version script and the exports differ (- listed only, + exported only):"
	tmp=$(mktemp -d)
	printf '%s\n' "$listed" > "$tmp/listed"
	printf '%s\n' "$names" > "$tmp/exported"
	diff "$tmp/listed" "$tmp/exported" | sed -n 's/^</-/p;s/^>/+/p'
	rm -r "$tmp"
	fail=1
fi

for name in $names; do
	grep -q "AV_API .*[ *]$name(" "$headers"/*.h ||
		{ echo "FAIL: $name is exported but no public header declares it"; fail=1; }
done

[ $fail -eq 0 ] && echo "$(printf '%s\n' $names | wc -l) exports, all av_*@@ALTVIEW_*, SONAME $soname, release $version"
exit $fail
