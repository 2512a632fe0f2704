# shellcheck shell=bash
# shellcheck disable=SC2034  # PEER_*, SERVER_PID, status, verdict are for the tests
# helpers.bash - the grader's helper library, loaded by every lab's tests
# (`load ../lib/helpers`) and by the driver.
#
# The driver sets:
#   SL_BIN        the student's program, compiled
#   SL_PEERS      the folder of the grader's C peers (contain, porttool, ...)
#   SL_EVIDENCE   where each test leaves its evidence (one folder a test)
#   SL_SRC        the C file it was compiled from (a test may build it again)
#   SL_FILTER     the TEST= regex when only some tests run ("" for all)
#   SL_VALGRIND   "valgrind" if installed, empty if not
# and optionally TIMEOUT_SCALE (a number, default 1) to stretch every limit.
#
# A test reads like a sentence:
#   hint "step 3: keep calling recv() until it returns 0"
#   start_peer daytimed -m drip -o "$offset"
#   run_client 12 "$SL_BIN" 127.0.0.1 "$PEER_PORT"
#   expect_exit 0
# Every expect_* helper that fails writes what was sent, expected and
# received to the test's evidence folder (the driver prints it) and returns
# 1, which fails the test.

# ---- timing -----------------------------------------------------------

# The limits are computed in bash itself, in millionths of a second: a
# grading asks for a few thousand of them, and a fork of awk for each was
# a tenth of a lab's time.  (A number bash cannot read goes to awk.)

# sl_micro NUMBER: NUMBER ("1.5", "60", ".25") in millionths, into
# SL_MICRO; false if NUMBER is not a plain decimal.
sl_micro() {
	local int frac
	[[ $1 =~ ^([0-9]*)(\.([0-9]*))?$ && -n $1 && $1 != . ]] || return 1
	int=${BASH_REMATCH[1]:-0} frac="${BASH_REMATCH[3]}000000"
	SL_MICRO=$((10#$int * 1000000 + 10#${frac:0:6}))
}

# scaled_into VAR SECONDS [FACTOR [FLOOR]]: as scaled, into VAR (a name
# of the caller's: this function's own all begin with _sl_).
scaled_into() {
	local _sl_t _sl_f _sl_m _sl_k _sl_frac
	if sl_micro "$2" && _sl_t=$SL_MICRO && sl_micro "${3:-1}" && _sl_f=$SL_MICRO &&
		sl_micro "${4:-0}" && _sl_m=$SL_MICRO && sl_micro "${TIMEOUT_SCALE:-1}" && _sl_k=$SL_MICRO; then
		_sl_t=$((_sl_t * _sl_f / 1000000))
		((_sl_t < _sl_m)) && _sl_t=$_sl_m
		_sl_t=$((_sl_t * _sl_k / 1000000))
		printf -v _sl_frac '%06d' $((_sl_t % 1000000))
		while [[ $_sl_frac == *0 ]]; do _sl_frac=${_sl_frac%0}; done
		printf -v "$1" '%s' "$((_sl_t / 1000000))${_sl_frac:+.$_sl_frac}"
	else
		printf -v "$1" '%s' "$(awk -v s="$2" -v f="${3:-1}" -v m="${4:-0}" -v k="${TIMEOUT_SCALE:-1}" \
			'BEGIN { t = s * f; if (t < m) t = m; printf "%g\n", t * k }')"
	fi
}

# scaled SECONDS [FACTOR [FLOOR]]: SECONDS stretched by TIMEOUT_SCALE and
# FACTOR, and at least FLOOR (itself stretched by TIMEOUT_SCALE).
scaled() {
	local _sl_scaled
	scaled_into _sl_scaled "$@"
	printf '%s\n' "$_sl_scaled"
}

# ms SECONDS [FACTOR]: SECONDS stretched like every limit, in whole ms.
ms() {
	local _sl_scaled
	scaled_into _sl_scaled "$1" "${2:-1}"
	if sl_micro "$_sl_scaled"; then
		echo $((SL_MICRO / 1000))
	else
		awk -v t="$_sl_scaled" 'BEGIN { printf "%d\n", t * 1000 }'
	fi
}

# sl_test_timeout SECONDS: bats' limit for each test, SECONDS stretched by
# TIMEOUT_SCALE, in whole seconds (BATS_TEST_TIMEOUT).
sl_test_timeout() {
	local _sl_scaled
	scaled_into _sl_scaled "$1"
	# shellcheck disable=SC2034 # read by bats
	BATS_TEST_TIMEOUT=${_sl_scaled%%.*}
}

# random_number LO HI: a random whole number from LO to HI (HI - LO < 2^32),
# for seeds, offsets and paths that a student's program cannot guess
# (bash 5.1's SRANDOM comes from the kernel's generator; older bash, as on
# macOS, from three RANDOMs).
random_number() {
	local r=${SRANDOM:-}
	[[ -n $r ]] || r=$(((RANDOM << 30 | RANDOM << 15 | RANDOM) & 0xffffffff))
	echo $(($1 + r % ($2 - $1 + 1)))
}

# How much slower a program runs under valgrind than on its own, and how
# it is run there (each process, forked children too, logs to its own
# valgrind.PID.log in the evidence folder).
SL_VALGRIND_FACTOR=3
SL_VALGRIND_FLOOR=10 # and never less than this many seconds there
SL_VALGRIND_CMD=(valgrind --leak-check=full --errors-for-leak-kinds=definite
	--error-exitcode=99 --track-fds=yes --track-origins=yes)
# valgrind's race detector, for a threaded server (start_server --helgrind:
# each process logs to helgrind.PID.log in the evidence folder)
SL_HELGRIND_CMD=(valgrind --tool=helgrind)

# The most a program under test may write to any one file (stdout
# included), in MiB: a program that floods its output is stopped there.
SL_CLIENT_MIB=32
SL_SERVER_MIB=64

# ---- evidence and verdicts --------------------------------------------

# slug TEXT: the test's folder name, "[5] Echoes 4 MiB!" -> echoes-4-mib
# (In bash itself, no tr: it runs several times a test.  The letters are
# listed, as a range [a-z] depends on the locale.)
slug() {
	local s="${1#\[*\] }"
	s=${s,,}
	s=${s//[^abcdefghijklmnopqrstuvwxyz0123456789]/-}
	while [[ $s == *--* ]]; do s=${s//--/-}; done
	s="${s#-}"
	s="${s%-}"
	printf '%s\n' "${s:0:60}"
}

# Called before every test: a clean evidence folder, no servers yet.
sl_setup() {
	sl_fast_traps
	EVID="${SL_EVIDENCE:-$BATS_TEST_TMPDIR}/$(slug "$BATS_TEST_DESCRIPTION")"
	[[ -e $EVID ]] && rm -rf "$EVID"
	mkdir -p "$EVID"
	SL_SERVERS=()
	SL_HINT=""
}

# sl_fast_traps: bats 1.8 runs a DEBUG trap before every command of a
# test, to know the line of the one that fails; with the grader's helpers
# that costs a third of a lab's grading time.  Instead the stack is taken
# once, when a command fails (the ERR trap), which is all bats reports.
sl_fast_traps() {
	declare -F bats_capture_stack_trace >/dev/null || return 0
	trap - DEBUG
	trap 'sl_err_trap' ERR
}
sl_err_trap() {
	local rc=$?
	bats_capture_stack_trace
	# bats' own ERR trap, given the failed command's status as its $?
	sl_return "$rc" || bats_error_trap
}
sl_return() { return "$1"; }

# Called after every test: stop every server the test started, all told
# at once (then each waited for, and killed if it lingers), so that a test
# with many servers waits about once.
sl_teardown() {
	local pid
	for pid in "${SL_SERVERS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || :
	done
	for pid in "${SL_SERVERS[@]}"; do
		stop_process "$pid"
	done
	SL_SERVERS=()
	return 0
}

setup() { sl_setup; }
teardown() { sl_teardown; }

# sl_will_run NAME...: true if a test named NAME (as its @test line writes
# it) runs this time: all do, unless TEST= picked some (SL_FILTER).  A
# setup_file starts background work only for the tests that will use it.
sl_will_run() {
	local name
	[[ -z ${SL_FILTER:-} ]] && return 0
	for name in "$@"; do
		[[ $name =~ $SL_FILTER ]] && return 0
	done
	return 1
}

# hint TEXT: where in the handout a student should look if this test fails.
hint() {
	SL_HINT="$1"
	printf '%s\n' "$1" >"$EVID/hint"
}

# cause TEXT: the root cause this test's evidence shows, in one short
# line of a student's words naming the handout step ("the saved file
# holds the chunk-size lines: decode the chunked body (step 6)").  The first cause a test
# names is kept.  The report shows it in place of the test's hint, and
# when one cause fails several tests, names it first and once.
cause() {
	[[ -s $EVID/cause ]] && return 0
	# a starter's placeholder, still there, comes before whatever else
	sl_stub_cause && return 0
	printf '%s\n' "$1" >"$EVID/cause"
}

# sl_stub_cause: if the program said that a step of the starter is not
# written yet, and that step can be why this test failed, that is the
# cause (recorded); else false.
sl_stub_cause() {
	local f stub
	for f in "$EVID/stderr" "$EVID/server.stderr"; do
		[[ -f $f ]] || continue
		stub=$(grep -oE '([A-Za-z_][A-Za-z0-9_]*\(\) is not written yet \(steps? [0-9-]+\)|step [0-9]+ is not written yet(: [^|]*)?)' "$f" | head -1)
		if [[ -n $stub ]] && sl_stub_applies "$(grep -oE 'step[s]? [0-9]+' <<<"$stub" | grep -oE '[0-9]+' | head -1)"; then
			printf '%s\n' "$stub" >"$EVID/cause"
			return 0
		fi
	done
	return 1
}

# sl_stub_applies STEP: whether a step not written yet can explain this
# test's failure.  Always, unless the lab sets SL_STUB_BY_STEP=1: then
# only if the test's hint names no step, or names STEP or a later one, or
# STEP is one of SL_STUB_ALWAYS (the steps every reply needs).  An early
# step missing breaks every later one; a later step, say the log of
# step 11, does not explain a test of step 4, and its stub must not hide
# that test's own cause.
sl_stub_applies() {
	local step="${1:-}" s steps
	[[ ${SL_STUB_BY_STEP:-0} == 1 && $step =~ ^[0-9]+$ ]] || return 0
	[[ " ${SL_STUB_ALWAYS:-} " == *" $step "* ]] && return 0
	steps=$(grep -oE 'steps? [0-9]+(( |, |,)(and |to |or )?[0-9]+)*' <<<"${SL_HINT:-}" | grep -oE '[0-9]+')
	[[ -z $steps ]] && return 0
	for s in $steps; do
		((step <= s)) && return 0
	done
	return 1
}

# sl_diagnose: find the root cause in the evidence, where it shows: a
# starter's stub that is still there ("send_all() is not written yet
# (step 3)"), or what the lab's own lab_diagnose finds (each lab's tests
# may define one).  Called by fail.
sl_diagnose() {
	sl_stub_cause && return 0
	if declare -F lab_diagnose >/dev/null; then
		lab_diagnose || true
	fi
	return 0
}

# fail VERDICT LINE...: record a failure and return 1 (failing the test).
# VERDICT is FAIL (wrong output), TIME (timeout), CRASH or MEM.
fail() {
	# not "verdict": lab_diagnose may read run_client's $verdict
	local kind="$1"
	shift
	[[ -s $EVID/cause ]] || sl_diagnose
	printf '%s\n' "$kind" >"$EVID/verdict"
	printf '%s\n' "$@" >>"$EVID/message"
	printf '%s\n' "$@" >&2
	[[ -n "$SL_HINT" ]] && printf 'hint: %s\n' "$SL_HINT" >&2
	return 1
}

# ---- showing bytes to a student ---------------------------------------

# is_text FILE: true if FILE holds printable text (tabs and newlines ok).
is_text() {
	! LC_ALL=C grep -q '[^[:print:][:space:]]' "$1" 2>/dev/null
}

# show FILE [MAX]: FILE's first MAX bytes (default 600), as text with
# \r and other control bytes made visible, or as a hexdump if binary.
show() {
	local file="$1" max="${2:-600}" size
	if [[ ! -e $file ]]; then
		echo "  (nothing: no such file)"
		return
	fi
	size=$(wc -c <"$file" | tr -d ' ')
	if [[ $size -eq 0 ]]; then
		echo "  (nothing: 0 bytes)"
	elif is_text "$file"; then
		head -c "$max" "$file" | LC_ALL=C sed -e 's/\r/\\r/g' \
			-e 's/\t/\\t/g' -e 's/^/  | /'
		[[ -n $(tail -c 1 "$file") ]] && echo "  (no newline at the end)"
	else
		max=$((max / 4 < 256 ? 256 : max / 4))
		head -c "$max" "$file" | od -Ax -tx1z -v | sed -e 's/^/  /'
	fi
	if [[ $size -gt $max ]]; then
		show_cut "$file" "$size" "$max"
	fi
	return 0
}

# show_cut FILE SIZE SHOWN: the line that says a listing was cut, and
# where all of it is (the evidence folder keeps files up to 1 MiB whole).
show_cut() {
	local where=""
	if [[ -n ${EVID:-} && $1 == "$EVID"/* ]]; then
		if (($2 <= 1048576)); then
			where="; all of it is in the evidence folder: ${1#"$EVID"/}"
		else
			where="; its first 64 KiB are in the evidence folder: ${1#"$EVID"/}"
		fi
	fi
	echo "  ... (the first $3 of $2 bytes shown$where)"
}

# first_difference EXPECTED ACTUAL: one line naming the first byte where
# the two files differ ("" if they are equal).
first_difference() {
	local expected="$1" actual="$2" out at esize asize
	out=$(cmp -- "$expected" "$actual" 2>&1) && return 0
	esize=$(wc -c <"$expected" | tr -d ' ')
	asize=$(wc -c <"$actual" | tr -d ' ')
	if [[ $out == *"EOF on"* ]]; then
		if [[ $asize -lt $esize ]]; then
			printf 'first difference at byte %d: expected 0x%s, got end of data\n' \
				"$asize" "$(od -An -tx1 -j "$asize" -N1 "$expected" | tr -d ' ')"
		else
			printf 'first difference at byte %d: expected end of data, got 0x%s\n' \
				"$esize" "$(od -An -tx1 -j "$esize" -N1 "$actual" | tr -d ' ')"
		fi
		return 0
	fi
	# "a b differ: byte N, line M" (GNU) or "char N" (BSD); N counts from 1
	at=$(printf '%s\n' "$out" | sed -En 's/.*(byte|char) ([0-9]+).*/\2/p')
	at=$((at - 1))
	printf 'first difference at byte %d: expected 0x%s, got 0x%s\n' "$at" \
		"$(od -An -tx1 -j "$at" -N1 "$expected" | tr -d ' ')" \
		"$(od -An -tx1 -j "$at" -N1 "$actual" | tr -d ' ')"
}

# hexdump_at FILE AT: 48 bytes of FILE around byte AT, as a hexdump (and
# where FILE ends, if it ends there).
hexdump_at() {
	local from=$(($2 / 16 * 16 - 16)) total
	((from < 0)) && from=0
	total=$(wc -c <"$1" | tr -d ' ')
	((total > from)) && od -Ax -tx1z -v -j "$from" -N 48 "$1" | sed -e 's/^/  /'
	((total < from + 48)) && echo "  (the data ends there: $total bytes in all)"
	return 0
}

# shell_word WORD: WORD as it must be typed in a shell ('quoted' where
# needed), for "to try it yourself" lines.
shell_word() {
	if [[ $1 =~ ^[A-Za-z0-9_./:=,+-]+$ ]]; then
		printf '%s' "$1"
	else
		printf "'%s'" "${1//\'/\'\\\'\'}"
	fi
}

# shell_words WORD...: each WORD as shell_word types it, after a space.
shell_words() {
	local w
	for w in "$@"; do
		printf ' %s' "$(shell_word "$w")"
	done
}

# ---- processes ----------------------------------------------------------

# The C launcher that contains a program under test (see contain.c).
# Background jobs call the binary itself, never this function: "f &"
# would fork a subshell, and $! would name the subshell, not contain.
contain() { "${SL_PEERS:?}/contain" "$@"; }

# stop_process PID: stop a contained program (and all it started).
stop_process() {
	local pid="$1" i
	kill -TERM "$pid" 2>/dev/null || true # it may have ended already: then only reaped
	for ((i = 0; i < 500; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.01
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# background SECONDS NAME PROGRAM [ARGS...]: run one of the grader's own
# programs in the background for at most SECONDS (scaled), contained like
# a program under test; its stdout, stderr and exit go to $EVID/NAME.out,
# NAME.err and NAME.status.  Teardown stops it.  Sets BG_PID.
background() {
	local limit="$1" name="$2"
	shift 2
	"${SL_PEERS:?}/contain" -t "$(scaled "$limit")" -s "$EVID/$name.status" -- "$@" \
		</dev/null >"$EVID/$name.out" 2>"$EVID/$name.err" 3>&- 4>&- &
	BG_PID=$!
	SL_SERVERS+=("$BG_PID")
}

# start_peer PEER [ARGS...]: start one of the grader's peers in the
# background, on a free port it picks itself; sets PEER_PORT, PEER_PID,
# PEER_LOG and PEER_ARGS (ARGS, for "to reproduce" lines).  The peer exits
# by itself after its lifetime (-l).
start_peer() {
	local peer="$1" i
	shift
	SL_PEER_N=$((${SL_PEER_N:-0} + 1))
	local name="$peer-$SL_PEER_N"
	PEER_LOG="$EVID/$name.log"
	rm -f "$EVID/$name.port"
	background 60 "$name" "$SL_PEERS/$peer" -P "$EVID/$name.port" -L "$PEER_LOG" -l 60 "$@"
	PEER_PID=$BG_PID
	PEER_ARGS="$*"
	for ((i = 0; i < 300; i++)); do
		if [[ -s "$EVID/$name.port" ]]; then
			PEER_PORT=$(cat "$EVID/$name.port")
			return 0
		fi
		kill -0 "$PEER_PID" 2>/dev/null || break
		sleep 0.01
	done
	fail FAIL "the grader's test server ($peer $*) did not start; it said:" \
		"$(show "$EVID/$name.err")" \
		"(this is the grader's problem, not your program's: tell your instructor)"
}

# need_ipv6: skip the test, with a notice, where this machine has no IPv6
# loopback (some containers): it cannot run there.
need_ipv6() {
	"${SL_PEERS:?}/porttool" free ::1 >/dev/null 2>&1 && return 0
	skip "this machine has no IPv6 loopback (::1), so this test cannot run here (0 points); grade on a machine with IPv6"
}

# free_port [HOST]: a port free on HOST (default 127.0.0.1) right now.
free_port() { "$SL_PEERS/porttool" free "${1:-127.0.0.1}"; }

# start_server [--valgrind|--helgrind] [--nofile N] [--no-wait] [--shortio SPEC]
# [--hosts FILE] SECONDS PORT [HOST] -- PROGRAM [ARGS...]: start the
# program under test as a server, for at most SECONDS (under valgrind's
# memcheck or its race detector; with at most N open
# descriptors; with the partial-I/O shim; with FILE as /etc/hosts), and
# wait until HOST:PORT accepts.  Sets SERVER_PID; its output goes to $EVID/server.stdout and
# server.stderr.  Fails the test, showing the server's output, if it dies
# or does not accept within 3 s.  With --no-wait it returns at once, for
# a test that must not connect first (the check is a connection).
start_server() {
	local vg=() limit port host=127.0.0.1 factor=1 floor=0 nofile=0 wait=1 wrap=() spec="" hosts=""
	while [[ $1 == --* ]]; do
		case $1 in
		--no-wait) wait=0; shift ;;
		--shortio) spec="$2"; shift 2 ;;
		--hosts) hosts="$2"; shift 2 ;;
		--valgrind)
			vg=("${SL_VALGRIND_CMD[@]}" "--log-file=$EVID/valgrind.%p.log")
			factor=$SL_VALGRIND_FACTOR floor=$SL_VALGRIND_FLOOR
			shift ;;
		--helgrind)
			vg=("${SL_HELGRIND_CMD[@]}" "--log-file=$EVID/helgrind.%p.log")
			factor=$SL_VALGRIND_FACTOR floor=$SL_VALGRIND_FLOOR
			shift ;;
		--nofile) nofile="$2"; shift 2 ;;
		*) echo "start_server: unknown option $1" >&2; return 2 ;;
		esac
	done
	mapfile -t wrap < <(sl_wrap "$hosts" "$spec")
	limit=$(scaled "$1" "$factor" "$floor")
	port="$2"
	shift 2
	if [[ $1 != -- ]]; then
		host="$1"
		shift
	fi
	shift # --
	printf '%s\n' "$*" >"$EVID/server.command"
	"${SL_PEERS:?}/contain" -t "$limit" -F "$SL_SERVER_MIB" -n "$nofile" \
		-s "$EVID/server.status" -- "${wrap[@]}" "${vg[@]}" "$@" \
		</dev/null >"$EVID/server.stdout" 2>"$EVID/server.stderr" 3>&- 4>&- &
	SERVER_PID=$!
	SL_SERVERS+=("$SERVER_PID")
	((wait)) || return 0
	"$SL_PEERS/porttool" wait "$host" "$port" "$(ms 3 "$factor")" "$SERVER_PID"
	case $? in
	0) return 0 ;;
	3) sleep 0.1
	   fail FAIL "the server exited before it accepted connections on $host:$port" \
		"command: $*" "it said on stderr:" "$(show "$EVID/server.stderr")" \
		"exit: $(cat "$EVID/server.status" 2>/dev/null)" ;;
	*) fail TIME "the server did not accept connections on $host:$port within $(scaled 3 "$factor") s" \
		"command: $*" "it said on stderr:" "$(show "$EVID/server.stderr")" ;;
	esac
}

# server_alive: true if the server under test is still running.
server_alive() { kill -0 "$SERVER_PID" 2>/dev/null; }

# How many runs of the program may time out before its quick runs get
# SL_SHORT_LIMIT seconds; sl_hangs counts them (in one grading: the file
# is in the grading's evidence folder, one line a run that timed out).
SL_HANGS_BEFORE_SHORT=3
SL_SHORT_LIMIT=0.5
sl_hang_noted() { echo x >>"${SL_EVIDENCE:-${BATS_RUN_TMPDIR:-${BATS_TEST_TMPDIR:-/tmp}}}/.sl-hangs"; }
sl_hangs() {
	local lines=()
	{ mapfile -t lines <"${SL_EVIDENCE:-${BATS_RUN_TMPDIR:-${BATS_TEST_TMPDIR:-/tmp}}}/.sl-hangs"; } 2>/dev/null || : # none yet
	echo "${#lines[@]}"
}

# run_client [--valgrind] [--stdin FILE] [--shortio SPEC] [--hosts FILE]
# SECONDS PROGRAM [ARGS...]: run the program under test to completion, for
# at most SECONDS (--shortio: with the partial-I/O shim; --hosts: with a
# private /etc/hosts, see below).  Sets status (its exit status), verdict
# (ok, timeout or "signal SIGSEGV"), and leaves $EVID/stdout and
# $EVID/stderr.  Never fails by itself: follow it with expect_exit or
# expect_finished.
run_client() {
	local vg=() factor=1 floor=0 input=/dev/null limit wrap=() spec="" hosts=""
	SL_CLIENT_VALGRIND=""
	while [[ $1 == --* ]]; do
		case $1 in
		--valgrind)
			vg=("${SL_VALGRIND_CMD[@]}" "--log-file=$EVID/valgrind.%p.log")
			factor=$SL_VALGRIND_FACTOR floor=$SL_VALGRIND_FLOOR
			SL_CLIENT_VALGRIND=1
			shift ;;
		--stdin) input="$2"; shift 2 ;;
		--shortio) spec="$2"; shift 2 ;;
		--hosts) hosts="$2"; shift 2 ;;
		*) echo "run_client: unknown option $1" >&2; return 2 ;;
		esac
	done
	mapfile -t wrap < <(sl_wrap "$hosts" "$spec")
	limit=$(scaled "$1" "$factor" "$floor")
	SL_CLIENT_SHORTENED=""
	# A program that has hung in earlier runs gets short limits for the
	# quick ones (2 s or less: a correct program needs milliseconds there),
	# so that it cannot make a lab take more than a minute (SPEC 4).
	if [[ -z $SL_CLIENT_VALGRIND ]] && (($(sl_hangs) >= SL_HANGS_BEFORE_SHORT)) &&
		awk -v s="$1" 'BEGIN { exit !(s <= 2) }'; then
		limit=$(scaled "$SL_SHORT_LIMIT")
		SL_CLIENT_SHORTENED=1
	fi
	shift
	SL_CLIENT_LIMIT=$limit
	printf '%s\n' "$*" >"$EVID/command"
	status=0
	# -k 0.2: a client gets no grace after its deadline (a server does)
	contain -t "$limit" -k 0.2 -F "$SL_CLIENT_MIB" -s "$EVID/status" -- "${wrap[@]}" "${vg[@]}" "$@" \
		<"$input" >"$EVID/stdout" 2>"$EVID/stderr" 3>&- 4>&- || status=$?
	verdict=""
	{ read -r verdict <"$EVID/status"; } 2>/dev/null || : # no status: it did not run
	case $verdict in
	timeout) verdict=timeout
		sl_hang_noted ;;
	signal*) ;;
	*) verdict=ok ;;
	esac
}

# split_run_options ARGS...: a lab's wrapper of run_client takes the same
# leading options (--valgrind, and --NAME VALUE for the others): they go to
# RUN_OPTS, the rest of ARGS to RUN_REST.
split_run_options() {
	RUN_OPTS=() RUN_REST=()
	while [[ ${1:-} == --* ]]; do
		if [[ $1 == --valgrind ]]; then
			RUN_OPTS+=("$1")
			shift
		else
			RUN_OPTS+=("$1" "$2")
			shift 2
		fi
	done
	RUN_REST=("$@")
}

# fail_no_ready_line EXPECTED: the server under test never printed the
# ready line EXPECTED: say why, as far as the evidence shows (it exited;
# its stdout is empty, so the line sits in stdio's buffer), and fail.
fail_no_ready_line() {
	local why="the ready line is missing or different"
	if ! server_alive; then
		why="the server exited ($(cat "$EVID/server.status" 2>/dev/null)) without its ready line"
	elif [[ ! -s $EVID/server.stdout ]]; then
		why="nothing on stdout: into a file or a pipe, stdout is block-buffered, and printf's line waits in the buffer until fflush(stdout)"
		cause "nothing on stdout while the server runs: fflush(stdout) right after printing the ready line (step 2)"
	fi
	fail FAIL "$why" "command:  $(cat "$EVID/server.command")" \
		"expected on stdout: $1" \
		"got on stdout:" "$(show "$EVID/server.stdout")" \
		"on stderr:" "$(show "$EVID/server.stderr")"
}

# expect_kernel_port PORT_SED WANTED -- SERVER ARGS...: start the server
# with "-p 0" among ARGS (the kernel picks a free port, which only the
# socket knows), read the port its ready line names (PORT_SED: a sed -n
# script printing it) and check that it accepts; else fail, WANTED being
# the ready line expected.
expect_kernel_port() {
	local port_sed="$1" wanted="$2" i line="" got
	shift 3 # and the --
	start_server --no-wait 10 0 -- "$@"
	for ((i = 0; i < 60; i++)); do
		line=$(grep -m1 "Server is ready on" "$EVID/server.stdout" 2>/dev/null || true)
		[[ -n $line ]] && break
		server_alive || break
		sleep "$(scaled 0.05)"
	done
	got=$(sed -n "$port_sed" <<<"$line")
	if [[ -n $got && $got != 0 ]] && "$SL_PEERS/porttool" wait 127.0.0.1 "$got" "$(ms 1)" "$SERVER_PID"; then
		return 0
	fi
	cause "the ready line must show the port the socket is bound to: ask it with getsockname() (step 2)"
	fail FAIL "started with -p 0 (the kernel picks a free port), the server's ready line says '${line:-nothing}': no port that accepts connections" \
		"expected: $wanted, N the port the kernel chose (getsockname() tells it)" \
		"command:  $(cat "$EVID/server.command")" "its stderr:" "$(show "$EVID/server.stderr")"
}

# expect_finished: the client ended by itself (no timeout, no crash).
expect_finished() {
	case $verdict in
	ok) return 0 ;;
	timeout)
		fail TIME "the program did not finish within $SL_CLIENT_LIMIT s${SL_CLIENT_VALGRIND:+ under valgrind} (it was stopped)${SL_CLIENT_SHORTENED:+; a short limit, as the program had hung in $(sl_hangs) runs already}" \
			${SL_CLIENT_VALGRIND:+"(valgrind runs a program 10-50 times slower; on a slow or busy machine try TIMEOUT_SCALE=3)"} \
			"command: $(cat "$EVID/command")" \
			"its stdout so far:" "$(show "$EVID/stdout")" \
			"its stderr so far:" "$(show "$EVID/stderr")" ;;
	"signal SIGXFSZ")
		fail FAIL "the program wrote more than $SL_CLIENT_MIB MiB to one file (stdout?) and was stopped" \
			"command: $(cat "$EVID/command")" \
			"the start of its stdout:" "$(show "$EVID/stdout")" ;;
	*)
		fail CRASH "the program crashed: killed by ${verdict#signal }" \
			"command: $(cat "$EVID/command")" \
			"its stdout:" "$(show "$EVID/stdout")" \
			"its stderr:" "$(show "$EVID/stderr")" ;;
	esac
}

# expect_exit CODE: the client finished with exit status CODE.
expect_exit() {
	expect_finished || return 1
	[[ $status -eq $1 ]] && return 0
	# 99 is valgrind's "errors found": report those, not the exit status
	if [[ $status -eq 99 ]] && compgen -G "$EVID/valgrind*.log" >/dev/null; then
		expect_valgrind_clean "" || return 1
	fi
	fail FAIL "expected exit status $1, got $status" \
		"command: $(cat "$EVID/command")" \
		"stdout:" "$(show "$EVID/stdout")" \
		"stderr:" "$(show "$EVID/stderr")"
}

# expect_stderr_says: the client wrote something to stderr.
expect_stderr_says() {
	[[ -s $EVID/stderr ]] && return 0
	fail FAIL "expected a message on stderr ($1), got nothing" \
		"command: $(cat "$EVID/command")" \
		"stdout:" "$(show "$EVID/stdout")"
}

# ---- faults that loopback never makes -----------------------------------

# Loopback never cuts a send() short, never interrupts a call, and gives a
# name one address.  The grader makes these happen, and where it cannot,
# the test that needs them says SKIP (0 points), never passes.

# shortio_lib: the partial-I/O shim (grader/peers/shortio.c, built by make).
shortio_lib() {
	local f
	for f in "$SL_PEERS/libshortio.so" "$SL_PEERS/libshortio.dylib"; do
		[[ -f $f ]] && { printf '%s\n' "$f"; return 0; }
	done
	return 1
}

# shortio_env SPEC: the words "env VAR=VALUE..." that preload the shim,
# with SPEC (MAX[,eintr=N][,files][,seed=S], see shortio.c), into the
# program run after them; its log is $EVID/shortio.log.  env is the last
# thing before the program, so only the program gets the shim.
shortio_env() {
	local lib
	lib=$(shortio_lib) || lib=/nonexistent/libshortio
	printf '%s\n' env "LD_PRELOAD=$lib" "DYLD_INSERT_LIBRARIES=$lib" \
		"SL_SHORTIO=$1" "SL_SHORTIO_LOG=$EVID/shortio.log" \
		"ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
}

# need_shortio: skip the test, with a notice, where the shim is not built.
need_shortio() {
	shortio_lib >/dev/null && return 0
	skip "the grader's partial-I/O shim (build/peers/libshortio.*) is missing, so this test cannot run here (0 points); run make"
}

# expect_shortio_loaded: skip the test, with a notice, if the shim never
# got into the program (a statically linked program, say): what it was
# meant to show did not happen, so nothing can be judged.
expect_shortio_loaded() {
	grep -q "shortio loaded" "$EVID/shortio.log" 2>/dev/null && return 0
	skip "the grader's partial-I/O shim could not be loaded into your program (is it statically linked?), so this test cannot judge it (0 points)"
}

# shortio_count OP [moved|EINTR]: how many OP calls (send, recv, ...) the
# shim changed: cut short (moved) or failed with EINTR.
shortio_count() {
	local what="${2:-}"
	case $what in
	moved) what=" moved=" ;;
	EINTR) what=" EINTR" ;;
	esac
	grep -c -- " $1 fd=.*$what" "$EVID/shortio.log" 2>/dev/null || true
}

# shortio_first OP: "ASKED MOVED" of the first OP call the shim cut short.
shortio_first() {
	sed -n "s/^[0-9]* $1 fd=[0-9]* asked=\([0-9]*\) moved=\([0-9]*\)$/\1 \2/p" \
		"$EVID/shortio.log" 2>/dev/null | head -1
}

# shortio_said: one line saying what the shim did to the program's calls.
shortio_said() {
	local op n e parts=()
	for op in send sendfile write recv read; do
		n=$(shortio_count "$op" moved)
		e=$(shortio_count "$op" EINTR)
		((n + e > 0)) && parts+=("$op() $n cut short, $e failed with EINTR")
	done
	if ((${#parts[@]} == 0)); then
		echo "the grader's partial-I/O shim changed none of the program's calls"
	else
		local IFS=';'
		echo "the grader's partial-I/O shim changed the program's calls (as a real network may): ${parts[*]}" | sed 's/;/; /g'
	fi
}

# Private /etc/hosts: a program runs in a mount namespace of its own (and a
# user namespace where the grader is not root) in which a file of the
# test's is mounted over /etc/hosts.  Linux only; elsewhere the test skips.
SL_UNSHARE=()
sl_find_unshare() {
	((${#SL_UNSHARE[@]})) && return 0
	command -v unshare >/dev/null || return 1
	local probe="${BATS_TEST_TMPDIR:-${TMPDIR:-/tmp}}/sl-hosts-probe.$$" try
	printf '127.0.0.1 sl-probe.test\n' >"$probe"
	for try in "-rm" "-m"; do
		# shellcheck disable=SC2016 # $0 is for the inner shell
		if unshare "$try" sh -c 'mount --bind "$0" /etc/hosts && grep -q sl-probe /etc/hosts' \
			"$probe" 2>/dev/null; then
			SL_UNSHARE=(unshare "$try")
			rm -f "$probe"
			return 0
		fi
	done
	rm -f "$probe"
	return 1
}

# hosts_wrap FILE: the words that run a program with FILE as /etc/hosts.
hosts_wrap() {
	sl_find_unshare || return 1
	# shellcheck disable=SC2016 # $0 and $@ are for the inner shell
	printf '%s\n' "${SL_UNSHARE[@]}" sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' "$1"
}

# sl_wrap HOSTS SPEC: the words that go before a program under test to
# give it HOSTS as /etc/hosts and the shim with SPEC (either may be "").
sl_wrap() {
	[[ -n $1 ]] && hosts_wrap "$1"
	[[ -n $2 ]] && shortio_env "$2"
	return 0
}

# in_hosts FILE COMMAND...: run one of the grader's own COMMANDs with FILE
# as /etc/hosts.
in_hosts() {
	local file="$1" wrap
	shift
	mapfile -t wrap < <(hosts_wrap "$file")
	"${wrap[@]}" "$@"
}

# two_address_name: a host name, sl-multi.test, with two loopback
# addresses in a private hosts file, $EVID/hosts (pass it with --hosts).
# Sets MULTI_NAME, MULTI_FIRST (the address getaddrinfo gives first: the
# test leaves it refusing) and MULTI_LAST (the one to listen on).  The pair
# is ::1 and 127.0.0.1 where this machine has IPv6 loopback, else
# 127.0.0.2 and 127.0.0.1.  Skips, with a notice, where a private hosts
# file cannot be arranged.
two_address_name() {
	local order
	MULTI_NAME=sl-multi.test
	HOSTS_FILE="$EVID/hosts"
	if ! sl_find_unshare; then
		skip "this machine cannot give a program a private /etc/hosts (Linux: unshare -m needs root or user namespaces), so a name with two addresses cannot be made and this test cannot run (0 points)"
	fi
	{
		echo "127.0.0.1 localhost"
		echo "::1 localhost ip6-localhost"
		if "${SL_PEERS:?}/porttool" free ::1 >/dev/null 2>&1; then
			echo "::1 $MULTI_NAME"
		else
			echo "127.0.0.2 $MULTI_NAME"
		fi
		echo "127.0.0.1 $MULTI_NAME"
	} >"$HOSTS_FILE"
	mapfile -t order < <(in_hosts "$HOSTS_FILE" "$SL_PEERS/porttool" resolve "$MULTI_NAME" 2>/dev/null)
	if ((${#order[@]} < 2)); then
		skip "getaddrinfo gave $MULTI_NAME ${#order[@]} address(es) from a private hosts file that lists two, so this test cannot run here (0 points)"
	fi
	MULTI_FIRST="${order[0]}"
	MULTI_LAST="${order[${#order[@]} - 1]}"
}

# refuses HOST PORT: true if nothing accepts on HOST:PORT now.
refuses() { ! "${SL_PEERS:?}/porttool" wait "$1" "$2" 200 >/dev/null 2>&1; }

# ---- a sanitizer build of the submission ----------------------------------

# valgrind cannot see a stack array overrun by one byte; AddressSanitizer
# can.  A test that needs it builds the student's file again (SL_SRC) with
# -fsanitize=address,undefined: started in the background from setup_file,
# so that the test rarely waits for the compiler.

# sanitizer_build_start [--now]: from setup_file, start that build into
# $BATS_FILE_TMPDIR/san/ (nothing to do when the program under test was
# built with the sanitizers already, or its source is not known).  The
# self-test, which grades several mutants in one run, gives each its own
# folder: SL_SAN_TAG is added to the name.
sanitizer_build_start() {
	local dir="$BATS_FILE_TMPDIR/san${SL_SAN_TAG:-}"
	mkdir -p "$dir"
	# when only some tests run (a mutant's, say), the test that needs the
	# build starts it itself
	[[ -n ${SL_FILTER:-} && ${1:-} != --now ]] && return 0
	LC_ALL=C nm "$SL_BIN" 2>/dev/null | grep -q '__asan_init' && return 0
	[[ -n ${SL_SRC:-} && -f $SL_SRC ]] || return 0
	printf '%s\n' "$SL_SRC" >"$dir/src"
	(
		rc=0
		"${CC:-cc}" -std=c11 -g -pthread -fsanitize=address,undefined -fno-omit-frame-pointer \
			-o "$dir/prog" "$SL_SRC" 2>"$dir/compile.log" || rc=$?
		echo "$rc" >"$dir/rc.new" && mv "$dir/rc.new" "$dir/rc"
	) </dev/null >/dev/null 2>&1 3>&- 4>&- &
	return 0
}

# need_sanitizer_build: set SAN_BIN to the program under test built with
# AddressSanitizer and UBSan (the program itself when it was built so
# already), waiting for the build setup_file began (or starting it now).
# Skips, with a notice, where that cannot be done.
need_sanitizer_build() {
	local i dir="$BATS_FILE_TMPDIR/san${SL_SAN_TAG:-}"
	if LC_ALL=C nm "$SL_BIN" 2>/dev/null | grep -q '__asan_init'; then
		SAN_BIN=$SL_BIN
		return 0
	fi
	[[ -s $dir/src ]] || sanitizer_build_start --now
	[[ -s $dir/src ]] ||
		skip "the grader does not know your program's C file (SL_SRC), so it cannot build it with AddressSanitizer and this test cannot run (0 points)"
	for ((i = 0; i < 1200; i++)); do
		[[ -s $dir/rc ]] && break
		sleep 0.05
	done
	cp "$dir/compile.log" "$EVID/sanitizer-compile.log" 2>/dev/null
	SAN_BIN="$dir/prog"
	if [[ $(cat "$dir/rc" 2>/dev/null) != 0 ]]; then
		skip "this compiler (${CC:-cc}) cannot build with -fsanitize=address,undefined here, so this test cannot run (0 points); its message is in sanitizer-compile.log"
	fi
	# does the build run at all?  The student's program, so contained like
	# every run of it: it may hang or crash.
	local rc=0
	ASAN_OPTIONS=detect_leaks=0 "${SL_PEERS:?}/contain" -t "$(scaled 2)" -k 0.2 -- \
		"$SAN_BIN" -h </dev/null >"$EVID/sanitizer-h.out" 2>&1 3>&- 4>&- || rc=$?
	if ((rc > 2)); then
		skip "your program built with AddressSanitizer did not run -h to an end within $(scaled 2) s (status $rc), so this test cannot judge it (0 points)"
	fi
}

# ---- valgrind -----------------------------------------------------------

# need_valgrind: skip the test (with a notice, scoring 0) if valgrind is
# missing; the report then says how to install it.
need_valgrind() {
	[[ -n ${SL_VALGRIND:-} ]] && return 0
	skip "valgrind is not installed, so this test cannot run (0 points); install it: sudo apt-get install valgrind"
}

# leaked_fds LOG [--listening-ok]: valgrind's "Open ..." entries for
# descriptors the program opened and never closed, leaving out those it
# inherited from the grader and, with --listening-ok, listening sockets (a
# server stopped by the grader still holds its listener): unconnected
# sockets made by socket(), never ones accept() returned.
leaked_fds() {
	awk -v ok="${2:-}" '
	     /== Open / { entry = $0; sub(/^==[0-9]+== /, "", entry); next }
	     entry != "" {
		if ($0 !~ /inherited from parent/ && !sl_own(entry) &&
		    !(ok == "--listening-ok" && entry ~ /<-> unbound/ && $0 ~ /: socket \(/))
			print "  " entry
		entry = ""
	     }
	     '"$SL_OWN_FDS_AWK" "$1"
}

# An awk function: whether a valgrind "Open ..." entry is a descriptor the
# grader itself put in the program (the partial-I/O shim's log), no leak.
SL_OWN_FDS_AWK='function sl_own(e) { return e ~ /shortio\.log$/ }'


# expect_valgrind_clean [--fds]: valgrind's logs (one a process) show no
# memory errors, no definitely lost blocks and (with --fds) no descriptors
# leaked.  In a test that started a server under test (start_server), its
# listening socket, still open when the grader stopped it, is no leak; a
# client must close every socket, even one that failed to connect.
expect_valgrind_clean() {
	local logs=("$EVID"/valgrind*.log) log problems="" fds="" errors=0 n said=""
	if [[ ! -s ${logs[0]:-} ]]; then
		fail FAIL "valgrind left no log: did the program run?"
		return 1
	fi
	for log in "${logs[@]}"; do
		n=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) error.*/\1/p' "$log" | tail -1)
		errors=$((errors + ${n:-0}))
		if [[ ${1:-} == --fds ]]; then
			fds+="${fds:+$'\n'}$(leaked_fds "$log" ${SERVER_PID:+--listening-ok})"
		fi
		if [[ ${n:-0} -gt 0 || -n $fds ]] && [[ -z $said ]]; then
			# each "Open ..." entry with its stack, unless it is no leak
			said=$(sed -e 's/^==[0-9]*== //' "$log" | awk '
				/^ *$/ { skip = 0 }
				/^ *$|Copyright|Using Valgrind|Memcheck, a memory|Parent PID|rerun with/ { next }
				/^Open / { held = $0; skip = 0; next }
				held != "" {
					if ($0 ~ /inherited from parent/ || sl_own(held)) skip = 1
					else { print held; print }
					held = ""; next
				}
				skip { next }
				{ print }
				'"$SL_OWN_FDS_AWK" | head -40 | sed -e 's/^/  /')
		fi
	done
	if grep -q "definitely lost: [1-9]" "${logs[@]}"; then
		problems="leaked memory (definitely lost)"
	elif ((errors > 0)); then
		problems="$errors memory error(s)"
	fi
	# forked children repeat their parent's list: show each entry once
	fds=$(printf '%s\n' "$fds" | awk 'NF && !seen[$0]++')
	[[ -n $fds ]] && problems="${problems:+$problems, }descriptors left open"
	[[ -z $problems ]] && return 0
	fail MEM "valgrind found $problems" \
		${fds:+"descriptors still open at exit:" "$fds"} \
		"valgrind said (the full logs are valgrind.*.log in the evidence folder):" \
		"$said"
}
