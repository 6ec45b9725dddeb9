#!/usr/bin/env bash
# altview developer entry point: installs what a fresh Debian 12 machine
# lacks, builds, then runs one job.
#
#   ./run.sh demo    the main job: two monitors on one guest through altviewd, then the benchmarks
#   ./run.sh test    the whole test suite: plain, ASan+UBSan, TSan, valgrind, fuzz
#
# Environment: CI=true adds -Dwerror=true; BUILD_ROOT (default: .) holds
# the build directories.
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(gcc g++ clang libclang-rt-14-dev meson ninja-build pkg-config libxen-dev libjson-c-dev
	libsystemd-dev libevent-dev libdbus-1-dev dbus-daemon dbus-bin systemd
	libunicorn-dev
	abigail-tools scdoc valgrind
	xen-utils-4.17 xenstore-utils)     # Xen's own tools, run on altview's Xen-compatible libraries
BUILD_ROOT=${BUILD_ROOT:-.}

log() { printf '==> %s\n' "$*" >&2; }

install_packages() {
	local missing=() p sudo=()
	for p in "${PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || sudo=(sudo)
	log "installing ${missing[*]}"
	"${sudo[@]}" apt-get update -qq
	DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >/dev/null
}

# build DIR [meson options...]  (CC from the environment applies at setup)
build() {
	local dir=$BUILD_ROOT/$1; shift
	local opts=("$@")
	[ "${CI:-}" = true ] && opts+=(-Dwerror=true)
	if [ -f "$dir/build.ninja" ]; then
		meson configure "$dir" "${opts[@]}" >/dev/null
	else
		meson setup "$dir" "${opts[@]}" >/dev/null
	fi
	log "building $dir"
	if ! ninja -C "$dir" > "$dir/build.log" 2>&1; then
		grep -E 'error|FAILED' "$dir/build.log" | head -40 >&2
		echo "build of $dir failed (full log: $dir/build.log)" >&2
		return 1
	fi
}

PASSED=0 FAILED=0 SKIPPED=0

# failed_tap_lines TESTLOG: what each failed TAP test said on stdout ("not ok"
# and its "#" diagnostics), which meson's failure summary leaves out.
failed_tap_lines() {
	[ -f "$1" ] || return 0
	awk '/^test: /{name=$0; sub(/^test: +/, "", name)}
	     /^result: /{bad = ($0 !~ /exit status 0$/ && $0 !~ /skipped/); shown=0}
	     /^-+ stdout -+$/{out=1; next} /^-+ stderr -+$/ || /^=+ [0-9]+\/[0-9]+ =+$/{out=0}
	     out && bad && /^(not ok|#)/ && shown < 60 {
		if (!shown) print "--- " name " (its own words)"; print; shown++ }' "$1"
}

# suite NAME DIR [meson test options...]: runs and adds to the totals.
suite() {
	local name=$1 dir=$BUILD_ROOT/$2; shift 2
	local out rc=0
	log "tests: $name"
	out=$(meson test -C "$dir" --print-errorlogs "$@" 2>&1) || rc=$?
	printf '%s\n' "$out" | grep -E '^ *[0-9]+/[0-9]+ ' | sed "s/^/[$name] /"
	if [ $rc -ne 0 ]; then
		printf '%s\n' "$out" | sed -n '/Summary of Failures/,$p;/――/,/――/p' | head -200
		failed_tap_lines "$dir/meson-logs/testlog.txt"
	fi
	local ok fail timeout unexpected skip
	ok=$(printf '%s\n' "$out" | awk '/^Ok:/{print $2}')
	fail=$(printf '%s\n' "$out" | awk '/^Fail:/{print $2}')
	timeout=$(printf '%s\n' "$out" | awk '/^Timeout:/{print $2}')
	unexpected=$(printf '%s\n' "$out" | awk '/^Unexpected Pass:/{print $3}')
	skip=$(printf '%s\n' "$out" | awk '/^Skipped:/{print $2}')
	if [ -z "$ok" ]; then
		# meson itself failed (no summary): count the suite as one failure.
		printf '%s\n' "$out" | tail -20
		FAILED=$((FAILED + 1))
		return
	fi
	PASSED=$((PASSED + ok))
	FAILED=$((FAILED + ${fail:-0} + ${timeout:-0} + ${unexpected:-0}))
	SKIPPED=$((SKIPPED + ${skip:-0}))
}

cmd_demo() {
	install_packages
	# Figures come from a release build: no debug lock-order checks.
	build build-release -Dbuildtype=release
	local bench=$BUILD_ROOT/build-release/tests/bench
	log "altviewd: two monitoring clients on one x86 guest at once, a live report, busctl looking on"
	tests/daemon/demo-daemon.sh "$BUILD_ROOT/build-release"
	log "altview-access: a real x86 guest's writes trapped in a view and stepped in the host view"
	"$BUILD_ROOT/build-release/libaltview/altview-access" --spec "$BUILD_ROOT/build-release/tests/access/x86-one.json" altp2m_write
	log "altview-access: four x86 vCPUs, a thread each, breakpoints"
	"$BUILD_ROOT/build-release/libaltview/altview-access" --threads --spec "$BUILD_ROOT/build-release/tests/access/x86-four.json" breakpoint
	log "altview-access: a script guest under altp2m_write"
	"$BUILD_ROOT/build-release/libaltview/altview-access" --spec tests/access/one-vcpu.json altp2m_write
	log "superpage vs 4 KiB foreign mapping of 1 GiB (JSON lines)"
	"$bench/bench-superpage" 1 15
	log "accesses through the host p2m vs views, view switch, view memory (JSON lines)"
	"$bench/bench-views" 5
	log "vm_event round trip and throughput, channels vs ring; event channel sends (JSON lines)"
	"$bench/bench-vm-event" 20000
	log "grant copy and map/unmap under three table locks (JSON lines)"
	"$bench/bench-grant" 1
	log "monitor round trip: libaltview vs the core's consumer API (JSON lines)"
	"$bench/bench-libaltview" 20000 5
	log "x86 engine: guest MIPS, trap round trips, view switches (JSON lines)"
	"$bench/bench-x86" 1
	log "monitoring through altviewd (1, 2, 4 clients) vs in process; Event signals (JSON lines)"
	tests/bench/bench-daemon.sh "$BUILD_ROOT/build-release/altviewd/altviewd" "$bench/bench-daemon" 20000 3
	log "a monitor's reach: 256 MiB of guest memory and vCPU registers, in process vs through altviewd (JSON lines)"
	tests/bench/bench-memory.sh "$BUILD_ROOT/build-release/altviewd/altviewd" "$bench/bench-memory" 256 5
	log "Xen tools' vm_event ring on the Xen-compatible libraries: in process, through altviewd, vs libaltview's channels (JSON lines)"
	tests/bench/bench-xen-ring.sh "$BUILD_ROOT/build-release/altviewd/altviewd" \
		"$BUILD_ROOT/build-release/xencompat/altview-xen" "$bench/bench-xen-ring" 20000
}

cmd_test() {
	install_packages
	# Sanitizer reports must fail the test that triggered them.
	export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
	# Only leaks of the libraries altview uses, each with its bug named in the file.
	export LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0
	export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1

	build build
	build build-asan -Db_sanitize=address,undefined -Db_lundef=false
	build build-tsan -Db_sanitize=thread -Db_lundef=false
	CC=clang build build-fuzz -Dfuzz=enabled -Db_sanitize=address,undefined -Db_lundef=false

	suite plain build
	suite asan+ubsan build-asan
	suite tsan build-tsan
	suite fuzz build-fuzz --suite fuzz
	# valgrind runs one thread at a time; its default hand-over lets a
	# thread that yields take the CPU straight back, so a writer waiting for
	# a descheduled reader can spin for seconds. --fair-sched=yes queues.
	suite valgrind build --suite unit --suite lib \
		--wrapper 'valgrind -q --fair-sched=yes --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect --child-silent-after-fork=yes'

	local skipped=""
	[ "$SKIPPED" -eq 0 ] || skipped=", $SKIPPED skipped"
	echo "$PASSED passed, $FAILED failed$skipped"
	[ "$FAILED" -eq 0 ]
}

case "${1:-}" in
demo) cmd_demo ;;
test) cmd_test ;;
*) echo "usage: $0 demo|test" >&2; exit 2 ;;
esac
