# shellcheck shell=bash
# shellcheck disable=SC2034  # L01_*, PEER_LOG, ... are for the tests
# shellcheck disable=SC2154  # status and verdict are set by run_client
# shellcheck disable=SC2119,SC2120  # tolerance's FACTOR is optional
# lab01.bash - helpers for lab 01's tests (gettime, a daytime client), on
# top of helpers.bash; loaded by grader/tests/01-gettime.bats and by any
# hidden lab 01 tests (`load ../lib/lab01`).
#
# A test reads:
#   start_peer daytimed -o "$offset"
#   run_client "$QUICK" "$SL_BIN" 127.0.0.1 "$PEER_PORT"
#   expect_exit 0 || explain_run || return 1
#   expect_time_output "$offset" "$(tolerance)"
# and for replies a correct gettime must refuse, one peer serves them all:
#   refuse_each "a reply with a tenth field" "$line extra" ...
# L01_CASE names what a test is checking, so that lab_diagnose (called by
# fail) can name the root cause the evidence shows.

# Time limits for one run, in seconds (TIMEOUT_SCALE and valgrind stretch
# them).  A correct gettime finishes in a few milliseconds on loopback;
# the limits are short because a program that never ends waits out one of
# them in every test, and the whole lab must grade within 20 s.
QUICK=1.5
DRIP=2.5     # the reply dripped a byte every 10 ms: about 0.5 s
DEADLINE=12  # gettime's own deadline is 10 s

# refuse_each's WHY -> the root cause a failure on that reply shows (a
# test fills it; lab_diagnose reads it).  L01_PROBE: see lab01_hung_socket.
declare -gA L01_CAUSE_OF=()
L01_PROBE=()

# Files shared by the tests of one run (in the grader's evidence folder).
lab01_run_file() { printf '%s/.lab01-%s\n' "${SL_EVIDENCE:-$BATS_RUN_TMPDIR}" "$1"; }

# random_offset ahead|behind|after-2038|in-1999|in-2100: seconds to move
# the server's clock: ahead (1000 s to the end of 2037), behind (back as
# far as 2001), landing in 2040-2098 (past the 32-bit time_t limit), or
# in 1999 or 2100 (a day away from the year's ends: the years 2000 + YY
# gets wrong).
random_offset() {
	local now lo hi
	now=$(date +%s)
	case $1 in
	ahead) lo=1000 hi=$((2145916800 - now)) ;;                       # .. 2038-01-01
	behind) lo=$((978307200 - now)) hi=-1000 ;;                      # 2001-01-01 ..
	after-2038) lo=$((2208988800 - now)) hi=$((4070908800 - now)) ;; # 2040 .. 2099
	in-1999) lo=$((915148800 + 86400 - now)) hi=$((946684800 - 86400 - now)) ;;
	in-2100) lo=$((4102444800 + 86400 - now)) hi=$((4133980800 - 86400 - now)) ;;
	esac
	random_number "$lo" "$hi"
}

# tolerance [FACTOR]: how far the offset may be from the server's, in
# seconds (the server's second may tick over before the client reads
# its clock).
tolerance() { awk -v k="${TIMEOUT_SCALE:-1}" -v f="${1:-1}" 'BEGIN { print int(k * f + 0.99) }'; }

# sent: what the daytime peer sent last, as its log shows it; for a
# flood, how much it sent before the client hung up.
sent() {
	local flood
	flood=$(sed -n 's/^\[.*\] flooded: //p' "$PEER_LOG" | tail -1)
	if [[ -n $flood ]]; then
		printf '%s: "%s" back to back\n' "$flood" \
			"$(sed -n 's/^\[.*\] flood of: //p' "$PEER_LOG" | tail -1)"
		return
	fi
	flood=$(sed -n 's/^\[.*\] flood of: //p' "$PEER_LOG" | tail -1)
	if [[ -n $flood ]]; then
		if grep -q "flood: the pause is over" "$PEER_LOG"; then
			printf '"%s", then the same reply back to back (up to 100000 bytes; the grader stopped the server before it said how many went out)\n' "$flood"
		else
			printf '"%s" (one reply; 300 ms later NIST lines were to follow, up to 100000 bytes, but the program had already ended)\n' "$flood"
		fi
		return
	fi
	printf '"%s"\n' "$(sed -n 's/^\[.*\] sent[^:]*: //p' "$PEER_LOG" | tail -1)"
}

# reproduce [HOST]: a line telling the student how to replay this test
# by hand.
reproduce() {
	echo "to try it yourself: ./build/peers/daytimed -p 1313 $PEER_ARGS &"
	echo "                    ./build/labs/01-gettime/gettime ${1:-127.0.0.1} 1313"
}

# explain_run [CORRECT [HOST]]: append what the server sent and what a
# correct gettime prints to a failure already reported (for failures on
# the exit status); returns 1.
explain_run() {
	{
		if grep -q "connection accepted" "$PEER_LOG"; then
			echo "the server sent: $(sent)"
		else
			echo "the program never connected to the test server (port $PEER_PORT)"
		fi
		[[ -n ${1:-} ]] && echo "a correct gettime prints: $1"
		reproduce "${2:-}"
	} >>"$EVID/message"
	return 1
}

# expect_peer_contacted: the program connected to the daytime peer.
expect_peer_contacted() {
	grep -q "connection accepted" "$PEER_LOG" && return 0
	fail FAIL "the program never connected to the test server (port $PEER_PORT)" \
		"command: $(cat "$EVID/command")" "stderr:" "$(show "$EVID/stderr")"
}

# expect_time_output OFFSET TOLERANCE [HOST]: stdout is exactly the two
# lines a correct gettime prints for the peer's last reply.
expect_time_output() {
	local offset="$1" tol="$2" expect line1 line2 lines got diff sign
	expect_peer_contacted || return 1
	expect=$(sed -n 's/^\[.*\] expect: //p' "$PEER_LOG" | tail -1)
	sign=$(printf '%+d' "$offset")
	lines=$(wc -l <"$EVID/stdout" | tr -d ' ')
	line1=$(sed -n 1p "$EVID/stdout")
	line2=$(sed -n 2p "$EVID/stdout")
	local want=("sent:     $(sent)"
		"expected: $expect"
		"          local clock offset: $sign s (give or take $tol)"
		"got:" "$(show "$EVID/stdout")" "$(reproduce "${3:-}")")
	if [[ $lines -ne 2 ]]; then
		hint "the handout's Background section: exactly two lines on stdout; debug output belongs on stderr"
		fail FAIL "stdout should hold exactly two lines, it holds $lines" "${want[@]}"
		return 1
	fi
	if [[ $line1 != "$expect" ]]; then
		hint "handout step 4: the full date (2026, not 26) comes from the MJD; the time is the reply's, in UTC"
		fail FAIL "the first line should be the server's date and time" "${want[@]}"
		return 1
	fi
	if [[ ! $line2 =~ ^local\ clock\ offset:\ ([+-])([0-9]+)\ s$ ]]; then
		hint "handout step 5: print the offset with %+ld, which always shows the sign"
		fail FAIL "the second line should read 'local clock offset: +N s' or '-N s' (the sign always shown)" \
			"${want[@]}"
		return 1
	fi
	got=$((10#${BASH_REMATCH[2]}))
	[[ ${BASH_REMATCH[1]} == - ]] && got=$((-got))
	if ((got < offset - tol || got > offset + tol)); then
		diff=$((got - offset))
		hint "handout step 5: offset = the server's time (from the MJD) minus time(NULL)"
		if ((diff % 1800 == 0 && diff != 0 && diff > -86400 && diff < 86400)); then
			hint "handout step 5: the offset is off by a whole number of half hours: a time zone? mktime() and localtime() use local time; the MJD arithmetic of step 5 needs none"
		elif ((got == -offset)); then
			hint "handout step 5: the sign is flipped: it is the server's time minus this machine's"
		fi
		fail FAIL "the clock offset is wrong: expected about $sign s, got $got s" \
			"(offset = the server's time minus this machine's clock)" "${want[@]}"
		return 1
	fi
}

# a_correct_run OFFSET HOST [DAYTIMED OPTIONS...]: start the peer with its
# clock OFFSET seconds away, run gettime against HOST and check it all.
a_correct_run() {
	local offset="$1" host="$2"
	shift 2
	start_peer daytimed -o "$offset" "$@" || return 1
	run_client "$QUICK" "$SL_BIN" "$host" "$PEER_PORT"
	expect_exit 0 || explain_run "" "$host" || return 1
	expect_time_output "$offset" "$(tolerance)" "$host"
}

# ---- NIST lines, right and wrong ---------------------------------------

# nist_now: sets NOW_MJD, NOW_DATE (YY-MM-DD), NOW_TIME (HH:MM:SS) and
# NOW_ADV (msADV) and NOW_LINE (the NIST line a server would send now, without its newlines),
# all from one reading of the clock.
nist_now() {
	local now
	now=$(date -u +%s)
	NOW_MJD=$((now / 86400 + 40587))
	NOW_DATE=$(date -u -d "@$now" +%y-%m-%d 2>/dev/null || date -u -r "$now" +%y-%m-%d)
	NOW_TIME=$(date -u -d "@$now" +%H:%M:%S 2>/dev/null || date -u -r "$now" +%H:%M:%S)
	NOW_ADV="$(random_number 10 999).$(random_number 0 9)"
	NOW_LINE="$NOW_MJD $NOW_DATE $NOW_TIME 00 0 0 $NOW_ADV UTC(NIST) *"
}

# date_of_mjd MJD: the date of day MJD, YYYY-MM-DD.
date_of_mjd() {
	local s=$((($1 - 40587) * 86400))
	date -u -d "@$s" +%Y-%m-%d 2>/dev/null || date -u -r "$s" +%Y-%m-%d
}

# visible TEXT: TEXT with newlines, returns and tabs as \n \r \t.
visible() {
	local s="$1"
	s=${s//$'\n'/\\n}
	s=${s//$'\r'/\\r}
	s=${s//$'\t'/\\t}
	printf '%s' "$s"
}

# refuse_each WHY TEXT [WHY TEXT]...: one daytime peer sends each TEXT in
# turn (as it is, plus a newline); for each, gettime must exit 1 with
# nothing on stdout.  WHY says what is wrong with TEXT ("the marker is
# X, not * or #").  Sets L01_WHY to the WHY of a failure.
refuse_each() {
	local args=() whys=() texts=() i
	while (($# >= 2)); do
		whys+=("$1")
		texts+=("$2")
		args+=(-T "$2")
		shift 2
	done
	start_peer daytimed "${args[@]}" || return 1
	for i in "${!texts[@]}"; do
		L01_WHY="${whys[i]}"
		run_client "$QUICK" "$SL_BIN" 127.0.0.1 "$PEER_PORT"
		expect_peer_contacted || return 1
		expect_finished || return 1
		if [[ $status -ne 1 || -s $EVID/stdout ]]; then
			fail FAIL "gettime should refuse this reply (exit 1, nothing on stdout): ${whys[i]}" \
				"sent:     \"$(visible "${texts[i]}")\\n\" (reply $((i + 1)) of ${#texts[@]} in this test)" \
				"got:      exit status $status; stdout:" "$(show "$EVID/stdout")" \
				"stderr:" "$(show "$EVID/stderr")" \
				"to try it yourself: ./build/peers/daytimed -p 1313 -T $(printf '%q' "${texts[i]}") &" \
				"                    ./build/labs/01-gettime/gettime 127.0.0.1 1313"
			return 1
		fi
		mv "$EVID/stdout" "$EVID/reply-$((i + 1)).stdout"
		mv "$EVID/stderr" "$EVID/reply-$((i + 1)).stderr"
	done
}

# ---- an AddressSanitizer build of the submission ------------------------

# (need_sanitizer_build, helpers.bash, makes it.)
# asan_run WHAT DAYTIMED-OPTIONS...: run the AddressSanitizer build
# against a daytime peer started with the OPTIONS; fails (MEM) if it
# reports an error.  WHAT says what the reply was.
asan_run() {
	local what="$1" report
	shift
	start_peer daytimed "$@" || return 1
	rm -f "$EVID"/asan.*[0-9]
	run_client "$QUICK" env "ASAN_OPTIONS=log_path=$EVID/asan:detect_leaks=0:exitcode=86" \
		"UBSAN_OPTIONS=log_path=$EVID/asan:print_stacktrace=1" \
		"$SAN_BIN" 127.0.0.1 "$PEER_PORT"
	report=$(cat "$EVID"/asan.*[0-9] 2>/dev/null)
	if [[ -n $report ]]; then
		fail MEM "AddressSanitizer found a memory error, with $what as the reply:" \
			"$(printf '%s\n' "$report" | grep -v '^ *$' | head -14 | sed -e 's/^/  /')" \
			"(the whole report is asan.* in the evidence folder; it names the line of your file)" \
			"the server sent: $(sent)" \
			"to try it yourself: cc -std=c11 -g -fsanitize=address -o gettime-asan labs/01-gettime/starter.c" \
			"                    ./build/peers/daytimed -p 1313 $PEER_ARGS &" \
			"                    ./gettime-asan 127.0.0.1 1313"
		return 1
	fi
	expect_finished || return 1
	expect_peer_contacted
}

# ---- valgrind, one run at a time ---------------------------------------

# vg_run N WHAT ARGS...: run gettime under valgrind (run N of the test,
# WHAT in words) and check its memory; on a failure the message starts
# with which run it was, its command, exit status and stderr.  Each run's
# files are kept apart in the evidence folder (run-N.*).
vg_run() {
	local n="$1" what="$2" log
	shift 2
	run_client --valgrind "$QUICK" "$SL_BIN" "$@"
	L01_VG_RUN="$n"
	if [[ $n == 1 && $verdict == ok && $status -ne 0 && $status -ne 99 ]]; then
		fail MEM "gettime worked without valgrind, but under valgrind it exited $status: what it does depends on memory it never set (a field of *t left unfilled, a reply not ended with a '\\0')" \
			"its stdout:" "$(show "$EVID/stdout")"
	fi
	if [[ -s $EVID/verdict ]] || ! expect_finished || ! expect_valgrind_clean; then
		{
			echo "this was run $n of the test: $what"
			echo "command:  gettime$(shell_words "$@") (under valgrind); exit status $status"
			echo "its stderr:"
			show "$EVID/stderr"
			cat "$EVID/message"
		} >"$EVID/message.new"
		mv "$EVID/message.new" "$EVID/message"
		L01_VG_KEEP=1
	fi
	for log in "$EVID"/valgrind*.log; do
		[[ -f $log ]] && mv "$log" "$EVID/run-$n.${log##*/}"
	done
	cp "$EVID/stdout" "$EVID/run-$n.stdout"
	cp "$EVID/stderr" "$EVID/run-$n.stderr"
	cp "$EVID/command" "$EVID/run-$n.command"
	[[ -z ${L01_VG_KEEP:-} ]]
}

# unconnected_sockets LOG: valgrind's "Open ... socket" entries (with the
# line that made them) for sockets that never connected: what a client
# leaves when it does not close the socket of an address that refused.
unconnected_sockets() {
	sed -e 's/^==[0-9]*== //' "$1" | awk '
		/^Open .*socket/ && /<-> unbound|<unknown>/ { held = $0; next }
		held != "" && /^ *at / { print "  " held; print "  " $0; next }
		held != "" && /^ *by / { print "  " $0; next }
		{ held = "" }'
}

# ---- the deadline, in the background -------------------------------------

# The deadline tests need 10-11 s of the client's own time (its deadline
# is 10 s).  Their three runs start in setup_file and go on while the
# other tests run; their tests, the last two of the file, wait for them
# and judge what they left in $(lab01_run_file deadline)/RUN/.  In the
# first two runs the daytime peer sends the reply's first 20 bytes, one
# every 300 ms (6 s in all), then falls silent.
#   silent   nothing more.  A correct client gives up at 10 s; one that
#            waits 10 s again after every piece, or has no deadline, is
#            still waiting when the grader ends it at 12 s; one that
#            gives up early did not wait for a reply still coming.
#   stopped  one more byte 9.5 s after the peer accepted.  The grader stops
#            the client (SIGSTOP) 8.5 s after it started and lets it go on
#            (SIGCONT) at 11 s: its deadline passed while it was stopped,
#            and a byte came meanwhile.  A correct client finds the time
#            left <= 0 and gives up at once; one that hands poll() a
#            negative time left waits forever.
#   slow     no stall: the peer drips a whole reply, its first byte to its
#            last over 9.4 s, then closes.  The grader starts the client
#            0.9 s into a second of the wall clock, so a deadline of
#            time(NULL) + 10, which counts whole seconds, comes 9.1 s
#            after the start, before the reply is complete; a deadline in
#            milliseconds (now_ms() + DEADLINE_MS) comes at 10 s.
L01_STOP_AT=8.5
L01_CONT_AT=11
L01_LATE_MS=9500
L01_SLOW_MS=9400
L01_SLOW_FRACTION=900000 # microseconds into a second
L01_RUNS=(silent stopped slow)

lab01_deadline_start() {
	local run d i mode
	rm -f "$(lab01_run_file sockets-probe)" "$(lab01_run_file fields-failed)"
	for run in "${L01_RUNS[@]}"; do
		d="$(lab01_run_file deadline)/$run"
		rm -rf "$d"
		mkdir -p "$d"
		mode=(-m stall -k 20 -d 300)
		[[ $run == stopped ]] && mode+=(-w "$L01_LATE_MS")
		[[ $run == slow ]] && mode=(-m drip -t "$L01_SLOW_MS" -o "$(random_offset ahead)")
		printf '%s\n' "${mode[*]}" >"$d/peer.args"
		"$SL_PEERS/contain" -t "$(scaled 40)" -- "$SL_PEERS/daytimed" -P "$d/peer.port" \
			-L "$d/daytimed.log" -l 40 "${mode[@]}" \
			</dev/null >"$d/daytimed.out" 2>"$d/daytimed.err" 3>&- 4>&- &
		echo $! >"$d/peer.pid"
	done
	for run in "${L01_RUNS[@]}"; do
		d="$(lab01_run_file deadline)/$run"
		for ((i = 0; i < 100; i++)); do
			[[ -s $d/peer.port ]] && break
			sleep 0.03
		done
		if [[ ! -s $d/peer.port ]]; then
			echo "the daytime peer did not start: $(head -3 "$d/daytimed.err")" >"$d/driver.log"
			: >"$d/done"
			continue
		fi
		lab01_deadline_drive "$d" "$run" </dev/null >/dev/null 2>>"$d/driver.err" 3>&- 4>&- &
		echo $! >"$d/driver.pid"
	done
}

# lab01_deadline_drive DIR RUN: run the client (and in the stopped run,
# stop it and let it go on); writes DIR/status, rc, stdout, stderr,
# driver.log (when each thing happened, in seconds since the client
# started) and last DIR/done.
lab01_deadline_drive() {
	set +e # a background subshell of setup_file (errexit): it must reach DIR/done
	local d="$1" run="$2" port start cpid child="" st=0
	port=$(cat "$d/peer.port")
	printf '%s\n' "$SL_BIN 127.0.0.1 $port" >"$d/command"
	if [[ $run == slow ]]; then # start 0.9 s into a second of the wall clock
		local us=$((10#${EPOCHREALTIME#*[.,]}))
		sleep "$(awk -v w=$(((1000000 + L01_SLOW_FRACTION - us) % 1000000)) 'BEGIN { printf "%.6f\n", w / 1e6 }')"
		echo "started at second fraction 0.${EPOCHREALTIME#*[.,]}" >>"$d/driver.log"
	fi
	start=${EPOCHREALTIME/[.,]/} # microseconds
	"$SL_PEERS/contain" -t "$(scaled "$DEADLINE")" -k 0.2 -F "$SL_CLIENT_MIB" -s "$d/status" -- \
		"$SL_BIN" 127.0.0.1 "$port" </dev/null >"$d/stdout" 2>"$d/stderr" &
	cpid=$!
	since() { awk -v us=$((${EPOCHREALTIME/[.,]/} - start)) 'BEGIN { printf "%.2f\n", us / 1e6 }'; }
	until_at() { # sleep until SECONDS after the start, or the client ends
		local at
		at=$(awk -v s="$1" 'BEGIN { printf "%d\n", s * 1e6 }')
		while kill -0 "$cpid" 2>/dev/null; do
			((${EPOCHREALTIME/[.,]/} - start >= at)) && return 0
			sleep 0.05
		done
		return 1
	}
	if [[ $run == stopped ]] && until_at "$L01_STOP_AT"; then
		child=$(ps -A -o pid=,ppid= | awk -v p="$cpid" '$2 == p { print $1; exit }')
		if [[ -n $child ]] && kill -STOP "$child" 2>/dev/null; then
			echo "stopped $(since)" >>"$d/driver.log"
			until_at "$L01_CONT_AT" || true
			kill -CONT "$child" 2>/dev/null
			echo "continued $(since)" >>"$d/driver.log"
		fi
	fi
	wait "$cpid" || st=$?
	echo "ended $(since)" >>"$d/driver.log"
	echo "$st" >"$d/rc"
	: >"$d/done"
}

# lab01_deadline_stop: end the background deadline runs (teardown_file).
lab01_deadline_stop() {
	local run d pid f
	for run in "${L01_RUNS[@]}"; do
		d="$(lab01_run_file deadline)/$run"
		for f in driver.pid peer.pid; do
			[[ -s $d/$f ]] || continue
			pid=$(cat "$d/$f")
			[[ $f == driver.pid ]] && stop_children_of "$pid"
			kill -TERM "$pid" 2>/dev/null || true
		done
	done
	rm -rf "$(lab01_run_file deadline)"
	return 0
}

# stop_children_of PID: SIGTERM the children of PID (contain, which then
# ends everything its program started).
stop_children_of() {
	local c
	for c in $(ps -A -o pid=,ppid= | awk -v p="$1" '$2 == p { print $1 }'); do
		kill -TERM "$c" 2>/dev/null || true
	done
}

# deadline_collect RUN: wait for the background run RUN, then copy what it
# left into $EVID/RUN/ and set status, verdict, PEER_LOG, PEER_PORT,
# PEER_ARGS and DRIVER (its driver log) as run_client and start_peer would.
deadline_collect() {
	local d i limit
	d="$(lab01_run_file deadline)/$1"
	limit=$(awk -v s="$(scaled "$DEADLINE")" 'BEGIN { print int(s * 20) + 100 }')
	for ((i = 0; i < limit; i++)); do
		[[ -e $d/done ]] && break
		sleep 0.05
	done
	mkdir -p "$EVID/$1"
	cp -r "$d"/. "$EVID/$1"/ 2>/dev/null
	if [[ ! -e $d/done || ! -s $d/rc ]]; then
		fail FAIL "the grader's background run of this test did not finish (this is the grader's problem: tell your instructor)" \
			"$(cat "$d"/driver.* 2>/dev/null)"
		return 1
	fi
	cp "$d/stdout" "$d/stderr" "$d/command" "$EVID"/
	PEER_LOG="$EVID/$1/daytimed.log" PEER_PORT=$(cat "$d/peer.port") PEER_ARGS=$(cat "$d/peer.args")
	DRIVER="$EVID/$1/driver.log"
	status=$(cat "$d/rc")
	SL_CLIENT_LIMIT=$(scaled "$DEADLINE")
	verdict=$(cat "$d/status" 2>/dev/null)
	case $verdict in timeout | signal*) ;; *) verdict=ok ;; esac
}

# driver_said WHAT: the time (s since the client started) of WHAT in the
# last collected run's driver log ("" if it did not happen).
driver_said() { sed -n "s/^$1 //p" "$DRIVER" 2>/dev/null | tail -1; }

# ---- root causes ---------------------------------------------------------

# lab01_socket_kinds [--hosts FILE] [--shortio SPEC] ARGS...: run gettime
# ARGS once more, for 0.3 s, and list the kinds of the sockets it
# holds then, a word each (tcp, udp, raw; Linux's /proc/net), "" where
# this cannot be seen.  For a root cause only: the run a test judged is
# over, this one tells why it hung (a client left waiting with nothing
# listening holds a socket that is not TCP: hints.ai_socktype unset).
lab01_socket_kinds() {
	local hosts="" spec="" wrap cpid pid fd inode f kinds=""
	while [[ ${1:-} == --* ]]; do
		case $1 in
		--hosts) hosts="$2" ;;
		--shortio) spec="$2" ;;
		esac
		shift 2
	done
	[[ -r /proc/net/udp && -d /proc/self/fd ]] || return 0
	mapfile -t wrap < <(sl_wrap "$hosts" "$spec")
	contain -t 2 -k 0.2 -- "${wrap[@]}" "$SL_BIN" "$@" </dev/null >/dev/null 2>&1 3>&- 4>&- &
	cpid=$!
	sleep 0.3
	pid=$(lab01_program_under "$cpid")
	for fd in ${pid:+/proc/$pid/fd/*}; do
		inode=$(readlink "$fd" 2>/dev/null) || continue
		[[ $inode == socket:* ]] || continue
		inode=${inode#socket:[}
		inode=${inode%]}
		for f in tcp tcp6 udp udp6 raw raw6; do
			[[ -r /proc/net/$f ]] || continue
			awk -v i="$inode" 'NR > 1 && $10 == i { hit = 1 } END { exit !hit }' "/proc/net/$f" &&
				kinds+="${f%6} "
		done
	done
	kill -TERM "$cpid" 2>/dev/null
	wait "$cpid" 2>/dev/null
	printf '%s\n' "${kinds% }"
}

# lab01_program_under PID: the process below PID (contain) that runs
# $SL_BIN, if any.
lab01_program_under() {
	local want p pids=("$1") all
	want=$(readlink -f "$SL_BIN")
	all=$(ps -A -o pid=,ppid=)
	while ((${#pids[@]} > 0)); do
		p=${pids[0]}
		pids=("${pids[@]:1}")
		if [[ $p != "$1" && $(readlink "/proc/$p/exe" 2>/dev/null) == "$want" ]]; then
			echo "$p"
			return 0
		fi
		mapfile -t -O "${#pids[@]}" pids < <(awk -v p="$p" '$2 == p { print $1 }' <<<"$all")
	done
	return 1
}

# lab01_hung_socket: when the run timed out and the test set L01_PROBE
# (the arguments of lab01_socket_kinds), name a socket that is not TCP.
lab01_hung_socket() {
	# (inside fail, verdict is fail's own: TIME for a run that timed out)
	[[ ${verdict:-} == timeout || ${verdict:-} == TIME ]] || return 1
	((${#L01_PROBE[@]} > 0)) || return 1
	# One look a grading run: a program that hangs hangs the same way on
	# every refused path, and each look costs half a second.
	local kinds cache
	cache=$(lab01_run_file sockets-probe)
	if [[ -f $cache ]]; then
		kinds=$(cat "$cache")
	else
		kinds=$(lab01_socket_kinds "${L01_PROBE[@]}")
		printf '%s\n' "$kinds" >"$cache"
	fi
	echo "sockets gettime held 0.3 s into a run like this one (/proc; looked at once a grading run): ${kinds:-none seen}" >"$EVID/sockets.probe"
	[[ $kinds == *udp* || $kinds == *raw* ]] || return 1
	local kind=${kinds##*udp*}
	cause "gettime waited on a connected ${kind:+raw}${kind:-UDP} socket: without hints.ai_socktype = SOCK_STREAM, getaddrinfo() gives UDP and raw entries too, and their connect() \"succeeds\" where TCP was refused; set hints.ai_socktype = SOCK_STREAM (step 1)"
}

# lab_diagnose: the root cause the evidence of a failed test shows, for
# the report (called by fail, after the starter's stubs were looked for).
# L01_CASE says what the test checks.
lab_diagnose() {
	local err="$EVID/stderr" out="$EVID/stdout"
	lab01_hung_socket && return 0
	if [[ $(sed -n 2p "$out" 2>/dev/null) == "local clock offset: 0 s" ]]; then
		cause "the offset was printed as \"0 s\": the sign is always shown, %+ld (or %+lld) prints +0 for zero (step 5)"
		return 0
	fi
	if [[ -n ${L01_WHY:-} && -n ${L01_CAUSE_OF[$L01_WHY]:-} && -s $out ]]; then
		cause "${L01_CAUSE_OF[$L01_WHY]}"
		return 0
	fi
	if grep -qi "interrupted system call" "$err" 2>/dev/null; then
		cause "recv() (or poll()) failed with EINTR, which only means a signal came: call it again (step 3)"
		return 0
	fi
	case ${L01_CASE:-} in
	multi)
		if ! grep -q "connection accepted" "$PEER_LOG" 2>/dev/null && grep -qi "refused" "$err"; then
			cause "only the first address was tried: when connect() fails, close that socket and go on to the next address of the list (step 2)"
		fi ;;
	fds)
		[[ -n ${L01_LEAKED:-} ]] &&
			cause "the socket of an address that refused is left open: close() it before trying the next address (step 2)" ;;
	resolve | refused)
		local what="the name did not resolve" step=1
		[[ $L01_CASE == refused ]] && what="the connection was refused" step=2
		if [[ ${status:-} == 2 ]]; then
			cause "it exited 2 when $what: exit status 1 is for a failure at run time, 2 only for bad usage (the handout's Background); return -1, and main() returns 1 (step $step)"
		elif [[ ! -s $err && -s $out ]]; then
			cause "your message went to stdout: errors go to stderr, fprintf(stderr, ...) (step $step)"
		elif [[ $L01_CASE == resolve ]] && grep -qiE ": (success|undefined error: 0)$" "$err"; then
			cause "getaddrinfo()'s error was printed with strerror(errno), which says \"Success\": getaddrinfo() returns an error code and leaves errno alone; print gai_strerror(code) (step 1)"
		elif [[ -s $err ]] && ! grep -q "^gettime: " "$err"; then
			cause "the message does not begin with \"gettime: \": errors read gettime: what failed: why, the reason last (the handout's Background; step $step)"
		fi ;;
	once)
		[[ -n ${L01_CONNECTIONS:-} ]] &&
			cause "after a connect() that worked, the loop went on to the next address: stop at the first socket that connects (break) (step 2)" ;;
	dst)
		local line2 got d
		line2=$(sed -n 2p "$out" 2>/dev/null)
		if [[ $line2 =~ ^local\ clock\ offset:\ ([+-]?)([0-9]+)\ s$ ]]; then
			got=$((10#${BASH_REMATCH[2]}))
			[[ ${BASH_REMATCH[1]} == - ]] && got=$((-got))
			d=$((got - ${L01_OFFSET:-0}))
			if ((d >= 3590 && d <= 3610 || d <= -3590 && d >= -3610)); then
				cause "the offset is an hour off in a zone with daylight saving: the server's time was converted as local time (mktime() and a correction for the zone's standard offset miss daylight saving); compute it from the MJD by arithmetic, no time zone (step 5)"
			fi
		fi ;;
	health)
		if [[ ${status:-} -ne 0 && ${L01_HEALTH:-0} -gt 2 ]]; then
			cause "a reply with health digit H = ${L01_HEALTH} was refused: H is any digit 0-9 (0 healthy, any other a warning), its range is not L's (step 4)"
		elif [[ ${status:-} -eq 0 && -s $err ]] && ! grep -q "^gettime: ." "$err"; then
			cause "the health warning does not begin with \"gettime: \": everything but the two lines goes to stderr as gettime: what failed: why (the handout's Background)"
		fi ;;
	year)
		local got
		got=$(sed -n '1s/^\([0-9]*\)-.*/\1/p' "$out")
		if [[ -n $got && -n ${L01_YEAR:-} && $got != "$L01_YEAR" && ${got: -2} == "${L01_YEAR: -2}" ]]; then
			cause "the full year was made from YY (the century guessed, as in 2000 + YY): take it from the MJD with date_from_mjd() (step 4)"
		fi ;;
	separators)
		if [[ $status -ne 0 ]]; then
			cause "the reply was split on spaces and newlines only: a tab and a carriage return (\\r) separate fields too; strtok_r(reply, \" \\t\\r\\n\", ...) (step 4)"
		fi ;;
	slow)
		if [[ $status -ne 0 ]] && awk -v e="${L01_ENDED:-99}" 'BEGIN { exit !(e >= 8.9 && e < 9.9) }'; then
			cause "the deadline came early, ${L01_ENDED} s after the start: it counts whole seconds (time(NULL) + 10 comes 9 to 10 s later); fix it in milliseconds on a clock that never jumps: now_ms() + DEADLINE_MS (step 3)"
		fi ;;
	errno-close)
		if grep -qi "inappropriate ioctl" "$err"; then
			cause "errno was read after close() had changed it: save errno right after connect() fails, before close() (step 2)"
		elif grep -qiE ": success$|: undefined error: 0" "$err"; then
			cause "errno was read after another call had reset it: save errno right after connect() fails (step 2)"
		fi ;;
	socket)
		if grep -qi "bad file descriptor" "$err"; then
			cause "socket() failed (it returned -1) and the program called connect(-1) anyway: check socket()'s return, save errno, and try the next address (step 2)"
		elif grep -qiE ": success$|: undefined error: 0" "$err"; then
			cause "when socket() fails, errno is not saved: the message says \"Success\"; save errno after socket() fails too (step 2)"
		fi ;;
	shim)
		if [[ $status -ne 0 ]] && grep -qi "not a NIST\|field\|format" "$err"; then
			cause "the reply was judged before it was complete: recv() returns whatever has arrived, keep calling it until it returns 0 (step 3)"
		fi ;;
	deadline-early)
		cause "it gave up before the reply was complete and before its deadline: keep calling recv() until it returns 0 or 10 s have passed (step 3)" ;;
	fill-exact)
		[[ $status -eq 0 ]] &&
			cause "a reply that fills the 4096-byte buffer was parsed: when len reaches size - 1 and the server goes on, set errno = EMSGSIZE and return -1 (step 3)" ;;
	fill-flood)
		# the server logs how much went out once the client hung up
		local i flooded=""
		for ((i = 0; i < 25 && status == 0; i++)); do
			grep -q "flood: the pause is over" "$PEER_LOG" 2>/dev/null || break
			flooded=$(sed -n 's/^\[.*\] flooded: sent \([0-9]*\) bytes.*/\1/p' "$PEER_LOG" | tail -1)
			[[ -n $flooded ]] && break
			sleep 0.02
		done
		if [[ $status -eq 0 ]] && { ! grep -q "flood: the pause is over" "$PEER_LOG" 2>/dev/null ||
			[[ -n $flooded && $flooded -lt 4095 ]]; }; then
			cause "it stopped reading before recv() returned 0: the server sent one NIST line, paused 300 ms, then more, and gettime had printed the first line and hung up by then; keep calling recv() until it returns 0 (step 3)"
		elif [[ $status -eq 0 && -s $(lab01_run_file fields-failed) ]]; then
			cause "NIST lines back to back were accepted as one reply: there must be exactly 9 fields (step 4), see \"$(head -1 "$(lab01_run_file fields-failed)")\""
		elif [[ $status -eq 0 ]]; then
			cause "a reply that fills the 4096-byte buffer was parsed: when len reaches size - 1 and the server goes on, set errno = EMSGSIZE and return -1 (step 3)"
		fi ;;
	fields)
		[[ -s $out && -n ${L01_FIELD_CAUSE:-} ]] && cause "$L01_FIELD_CAUSE" ;;
	valgrind)
		if [[ ${L01_VG_RUN:-} == 2 ]] && grep -q "definitely lost" "$EVID"/valgrind*.log 2>/dev/null &&
			grep -q "getaddrinfo" "$EVID"/valgrind*.log 2>/dev/null; then
			cause "the address list is not freed when no address connects: freeaddrinfo() on that path too (step 2)"
		fi ;;
	esac
	return 0
}
