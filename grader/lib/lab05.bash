# shellcheck shell=bash
# shellcheck disable=SC2154,SC2030,SC2031,SC2153,SC2034,SC2012 # SL_PEERS, status, verdict, EVID are set by helpers.bash and the tests; CLASS_* are read by the tests
# lab05.bash - helpers of lab 05's tests (grader/tests/05-class-exchange.bats
# loads it after helpers.bash): a class of the grader's HTTP servers, each
# a classmate on its own loopback address, the roster that lists them, the
# run of the student's exchange in a sandbox folder, the table it printed
# read back by whitespace-separated fields, and the root causes the
# evidence shows.

# How the student runs things by hand, for the "to reproduce" lines.
L05_HAND=./build/labs/05-class-exchange/exchange

# ---- the class ------------------------------------------------------------

# l05_aliases: true where 127.0.0.x (x > 1) can be bound (Linux: all of
# 127.0.0.0/8 is loopback); elsewhere every classmate is 127.0.0.1 on a
# port of its own.
l05_aliases() {
	if [[ -z ${L05_ALIASES:-} ]]; then
		if "$SL_PEERS/porttool" free 127.0.0.23 >/dev/null 2>&1; then
			L05_ALIASES=1
		else
			L05_ALIASES=0
		fi
	fi
	((L05_ALIASES))
}

# class_reset: an empty class.
class_reset() {
	CLASS_N=0
	CLASS_NAMES=() CLASS_HOSTS=() CLASS_PORTS=() CLASS_WANT=() CLASS_ARGS=()
	CLASS_LENS=() CLASS_SEEDS=() CLASS_LOGS=() CLASS_PIDS=() CLASS_PFILES=()
	CLASS_LINES=() CLASS_WHAT=() CLASS_AS=()
	L05_MKDIRS=() L05_WRAP=() L05_ROOM=""
}

# l05_next_host: the next classmate's address (127.0.0.20, .21, ... where
# aliases exist).
l05_next_host() {
	if l05_aliases; then
		echo "127.0.0.$((20 + CLASS_N % 230))"
	else
		echo 127.0.0.1
	fi
}

# member [-a HOST] NAME WANT LEN [HTTPD OPTIONS...]: add a classmate NAME
# to the class.  WANT is the STATUS its table row must show (ok, refused,
# timeout, http-404, ...; "a|b" accepts either).  refused: an address
# where nothing listens (absent).  Otherwise the grader's httpd serves
# /myData.txt there (any other path: 404): LEN bytes from a new random
# seed (datagen makes them again into $EVID/expected-NAME), with the
# OPTIONS (-m stall, -F chunked, ...).  The servers start at once;
# class_ready waits for them.
member() {
	local host name want len i=$CLASS_N d
	host=$(l05_next_host)
	if [[ $1 == -a ]]; then
		host="$2"
		shift 2
	fi
	name="$1" want="$2" len="$3"
	shift 3
	CLASS_NAMES+=("$name") CLASS_HOSTS+=("$host") CLASS_WANT+=("$want")
	CLASS_LENS+=("$len") CLASS_ARGS+=("$*") CLASS_LINES+=("") CLASS_AS+=("")
	CLASS_LOGS+=("$EVID/httpd-$name.log") CLASS_PFILES+=("$EVID/httpd-$name.port")
	if [[ $want == refused ]]; then
		CLASS_SEEDS+=("") CLASS_PIDS+=("")
		CLASS_PORTS+=("$(free_port "$host")")
		CLASS_WHAT+=("absent: nothing listens there")
	else
		CLASS_SEEDS+=("$(random_number 1 2147483646)")
		CLASS_PORTS+=("")
		d="httpd -s ${CLASS_SEEDS[i]} -n $len -u /myData.txt${*:+ $*}"
		CLASS_WHAT+=("$d")
		if [[ $want == ok ]]; then
			"$SL_PEERS/datagen" "${CLASS_SEEDS[i]}" "$len" >"$EVID/expected-$name"
		fi
		rm -f "${CLASS_PFILES[i]}"
		background 40 "httpd-$name" "$SL_PEERS/httpd" -a "$host" -p 0 \
			-P "${CLASS_PFILES[i]}" -L "${CLASS_LOGS[i]}" -Q "$EVID/request-$name" -l 40 \
			-s "${CLASS_SEEDS[i]}" -n "$len" -u /myData.txt "$@"
		CLASS_PIDS+=("$BG_PID")
	fi
	CLASS_N=$((CLASS_N + 1))
}

# httpd_8080 NAME ADDR ARGS...: the kit's httpd, as background job NAME,
# on ADDR port 8080 (ARGS: its other options; its log NAME.log).  True
# once it listens (it writes NAME.port), false if it ended first or did
# not within 2 s (the port taken there, say).
httpd_8080() {
	local name="$1" addr="$2" i
	shift 2
	rm -f "$EVID/$name.port"
	background 30 "$name" "$SL_PEERS/httpd" -a "$addr" -p 8080 -P "$EVID/$name.port" \
		-L "$EVID/$name.log" "$@"
	for ((i = 0; i < 200; i++)); do
		[[ -s $EVID/$name.port ]] && return 0
		kill -0 "$BG_PID" 2>/dev/null || break
		sleep 0.01
	done
	[[ -s $EVID/$name.port ]]
}

# member_on NAME WANT HOST PORT WHAT: a classmate whose server the test
# started itself (or none, WANT refused), at HOST:PORT.
member_on() {
	CLASS_NAMES+=("$1") CLASS_WANT+=("$2") CLASS_HOSTS+=("$3") CLASS_PORTS+=("$4")
	CLASS_WHAT+=("$5") CLASS_LENS+=("${6:-0}") CLASS_ARGS+=("") CLASS_SEEDS+=("")
	CLASS_LOGS+=("${7:-}") CLASS_PIDS+=("") CLASS_PFILES+=("") CLASS_LINES+=("") CLASS_AS+=("")
	CLASS_N=$((CLASS_N + 1))
}

# l05_full_queue HOST PORT [HOST PORT...]: make each HOST:PORT a listener
# that never accepts, its queue filled by 130 idle connections, so that
# the kernel drops every further SYN there, as an absent laptop does.
# Skips the test where that cannot be arranged.
l05_full_queue() {
	local args=("$@") k i pids=()
	for ((k = 0; k < ${#args[@]}; k += 2)); do
		background 20 "taken-$k" "$SL_PEERS/porttool" taken "${args[k]}" "${args[k + 1]}"
		pids+=("$BG_PID")
	done
	for ((k = 0; k < ${#args[@]}; k += 2)); do
		for ((i = 0; i < 300; i++)); do
			grep -q ready "$EVID/taken-$k.out" 2>/dev/null && break
			kill -0 "${pids[k / 2]}" 2>/dev/null || break
			sleep 0.01
		done
		grep -q ready "$EVID/taken-$k.out" 2>/dev/null ||
			skip "the grader could not listen on ${args[k]} port ${args[k + 1]}, so an unanswered SYN cannot be made there (0 points); run the test again"
		background 20 "filler-$k" "$SL_PEERS/tcpclient" -I 130 -C 15000 -t 15000 -l 18 "${args[k]}" "${args[k + 1]}"
	done
	for ((k = 0; k < ${#args[@]}; k += 2)); do
		for ((i = 0; i < 20; i++)); do
			sleep 0.05
			! "$SL_PEERS/porttool" wait "${args[k]}" "${args[k + 1]}" 100 >/dev/null 2>&1 && continue 2
		done
		skip "the grader could not fill the accept queue of ${args[k]}:${args[k + 1]} here, so an unanswered SYN cannot be made (0 points)"
	done
}

# class_ready: wait (at most 3 s) until every classmate's server listens.
class_ready() {
	local i j
	for ((i = 0; i < CLASS_N; i++)); do
		[[ -n ${CLASS_PIDS[i]} && -z ${CLASS_PORTS[i]} ]] || continue
		for ((j = 0; j < 600; j++)); do
			[[ -s ${CLASS_PFILES[i]} ]] && break
			kill -0 "${CLASS_PIDS[i]}" 2>/dev/null || break
			sleep 0.005
		done
		if [[ ! -s ${CLASS_PFILES[i]} ]]; then
			fail FAIL "the grader's test server for ${CLASS_NAMES[i]} (${CLASS_WHAT[i]}) did not start; it said:" \
				"$(show "$EVID/httpd-${CLASS_NAMES[i]}.err")" \
				"(this is the grader's problem, not your program's: tell your instructor)"
			return 1
		fi
		CLASS_PORTS[i]=$(<"${CLASS_PFILES[i]}")
	done
}

# address I: classmate I's HOST:PORT as the roster and the table write it
# (CLASS_AS[I], a host name say, in place of its address when set).
address() {
	local h="${CLASS_AS[$1]:-${CLASS_HOSTS[$1]}}"
	[[ $h == *:* ]] && h="[$h]"
	printf '%s:%s\n' "$h" "${CLASS_PORTS[$1]}"
}

# write_roster [FILE]: the class as a roster, one "NAME HOST:PORT" a line
# (CLASS_LINES[i], when set, replaces classmate i's line); sets ROSTER.
write_roster() {
	local i
	ROSTER="${1:-$EVID/roster.txt}"
	for ((i = 0; i < CLASS_N; i++)); do
		if [[ -n ${CLASS_LINES[i]} ]]; then
			printf '%s\n' "${CLASS_LINES[i]}"
		else
			printf '%-10s %s\n' "${CLASS_NAMES[i]}" "$(address "$i")"
		fi
	done >"$ROSTER"
}

# ---- a room of network namespaces (grader/lib/room.bash) -----------------

# l05_room N: a room of N seats and the instructor's (Linux, root), owned
# by this test (teardown removes it; a room an interrupted grading left is
# removed first); exchange then runs in the instructor's seat.  Skips,
# with a notice, where no room can be made.
l05_room() {
	local why
	why=$(room_can) ||
		skip "this test makes a room of network namespaces, and $why (0 points; the shim's test of unreachable still runs): sudo make grade LAB=05 TEST='in a room'"
	room_sweep >/dev/null
	room_make "$BASHPID" "$1" >"$EVID/room.err" ||
		skip "the room of network namespaces could not be made here (0 points): $(<"$EVID/room.err")"
	L05_WRAP=(ip netns exec "$(room_ns 0)") L05_ROOM=1
}

# room_member SEAT NAME WANT LEN ADDR: classmate NAME at seat SEAT of the
# room, in the roster by the seat's room address, port 8080; the grader's
# httpd serves LEN bytes of a new seed at /myData.txt there, listening on
# ADDR (0.0.0.0, or 127.0.0.1: the classic mistake).  WANT as for member.
room_member() {
	local seat="$1" name="$2" want="$3" len="$4" bind="$5" i=$CLASS_N
	CLASS_NAMES+=("$name") CLASS_HOSTS+=("$(room_addr "$seat")") CLASS_WANT+=("$want")
	CLASS_LENS+=("$len") CLASS_ARGS+=("") CLASS_LINES+=("") CLASS_AS+=("") CLASS_PORTS+=("")
	CLASS_LOGS+=("$EVID/httpd-$name.log") CLASS_PFILES+=("$EVID/httpd-$name.port")
	CLASS_SEEDS+=("$(random_number 1 2147483646)")
	CLASS_WHAT+=("seat $seat of the room: httpd on $bind:8080 -s ${CLASS_SEEDS[i]} -n $len")
	[[ $want == ok ]] && "$SL_PEERS/datagen" "${CLASS_SEEDS[i]}" "$len" >"$EVID/expected-$name"
	rm -f "${CLASS_PFILES[i]}"
	background 40 "httpd-$name" ip netns exec "$(room_ns "$seat")" "$SL_PEERS/httpd" -a "$bind" -p 8080 \
		-P "${CLASS_PFILES[i]}" -L "${CLASS_LOGS[i]}" -Q "$EVID/request-$name" -l 40 \
		-s "${CLASS_SEEDS[i]}" -n "$len" -u /myData.txt
	CLASS_PIDS+=("$BG_PID")
	CLASS_N=$((CLASS_N + 1))
}

# ---- running exchange -----------------------------------------------------

# sandbox: a fresh folder $EVID/sandbox/up/one/run to run exchange in
# (WORK), so that a path that climbs out of OUTDIR (../x.txt,
# ../../y.txt) still lands where the grader looks.
sandbox() {
	rm -rf "$EVID/sandbox"
	WORK="$EVID/sandbox/up/one/run"
	mkdir -p "$WORK"
	cd "$WORK" || return 1
}

# exchange [RUN_CLIENT OPTIONS] SECONDS ARGS...: run the student's exchange
# with ARGS in a fresh sandbox for at most SECONDS; sets ELAPSED (seconds,
# as a decimal), RUN_ARGS, and what run_client sets.
exchange() {
	local t0 t1
	split_run_options "$@"
	RUN_ARGS=("${RUN_REST[@]:1}")
	sandbox || return 1
	local d
	for d in "${L05_MKDIRS[@]}"; do
		mkdir -p "$WORK/$d"
	done
	t0=${EPOCHREALTIME/[.,]/}
	run_client "${RUN_OPTS[@]}" "${RUN_REST[0]}" "${L05_WRAP[@]}" "$SL_BIN" "${RUN_ARGS[@]}"
	t1=${EPOCHREALTIME/[.,]/}
	ELAPSED=$(awk -v us=$((t1 - t0)) 'BEGIN { printf "%.2f\n", us / 1e6 }')
	echo "$ELAPSED" >"$EVID/elapsed"
}

# l05_quick ARGS...: one quick run of exchange with ARGS in the sandbox
# folder that the last exchange made (WORK), for a test that makes dozens
# of runs that end at once (rosters with a bad line): no shim, no
# valgrind, a limit of 2 s; sets status and verdict as run_client does,
# and RUN_ARGS.
l05_quick() {
	local limit
	RUN_ARGS=("$@")
	limit=$(scaled 2)
	(($(sl_hangs) >= SL_HANGS_BEFORE_SHORT)) && limit=$(scaled "$SL_SHORT_LIMIT")
	SL_CLIENT_LIMIT=$limit SL_CLIENT_VALGRIND="" SL_CLIENT_SHORTENED=""
	printf '%s\n' "$SL_BIN $*" >"$EVID/command"
	status=0
	contain -t "$limit" -k 0.2 -F "$SL_CLIENT_MIB" -s "$EVID/status" -- "$SL_BIN" "$@" \
		</dev/null >"$EVID/stdout" 2>"$EVID/stderr" 3>&- 4>&- || status=$?
	verdict=$(<"$EVID/status")
	case $verdict in
	timeout) sl_hang_noted ;;
	signal*) ;;
	*) verdict=ok ;;
	esac
}

# reproduce: how to replay the last run by hand (the class's servers on
# their addresses, the roster in the evidence folder).
reproduce() {
	local i shown=0 words=() arg
	if [[ -n ${L05_ROOM:-} ]]; then
		echo "to reproduce: sudo make grade LAB=05 TEST='in a room' (the room is made again);"
		echo "  or the whole room, every fault of it: sudo make classroom EXCHANGE=$L05_HAND"
		return 0
	fi
	echo "to reproduce (roster.txt is in the evidence folder):"
	for ((i = 0; i < CLASS_N; i++)); do
		[[ -n ${CLASS_SEEDS[i]} ]] || continue
		if ((shown == 8)); then
			echo "  ... (one server a classmate, as the list of the class says)"
			break
		fi
		echo "  ./build/peers/httpd -a ${CLASS_HOSTS[i]} -p ${CLASS_PORTS[i]} -l 300 ${CLASS_WHAT[i]#httpd } &"
		shown=$((shown + 1))
	done
	for arg in "${RUN_ARGS[@]}"; do
		[[ $arg == "$EVID"/* ]] && arg=$(basename "$arg")
		words+=("$(shell_word "$arg")")
	done
	echo "  $L05_HAND ${words[*]}"
}

# the_class: the class, one line a classmate: name, address, what its
# server does, the status expected.
the_class() {
	local i
	echo "the class (roster order):"
	for ((i = 0; i < CLASS_N; i++)); do
		printf '  %-10s %-22s %s; expected %s\n' "${CLASS_NAMES[i]}" "$(address "$i")" \
			"${CLASS_WHAT[i]}" "${CLASS_WANT[i]//|/ or }"
	done
}

# story: what a failure message adds about the run: the command, the
# class, the roster, stdout and stderr, and how to reproduce.
story() {
	echo "command: exchange$(shell_words "${RUN_ARGS[@]}") (in a fresh folder; it took $ELAPSED s)"
	the_class
	echo "the roster:"
	show "$ROSTER" 1500
	echo "its stdout:"
	show "$EVID/stdout" 2500
	echo "its stderr:"
	show "$EVID/stderr" 1500
	reproduce
}

# failing VERDICT LINE...: fail with LINEs, then the story of the run.
failing() {
	local v="$1"
	shift
	fail "$v" "$@" "$(story)"
}

# ---- the table --------------------------------------------------------------

# table_rows: stdout's rows that are a classmate's (five fields, the first
# a name of the roster), "NAME HOST:PORT STATUS BYTES MS" one a line; a
# header line, if any, and the last line are not rows.
table_rows() {
	local names
	names=$(printf '%s\n' "${CLASS_NAMES[@]}")
	awk -v names="$names" 'BEGIN { n = split(names, a, "\n"); for (i = 1; i <= n; i++) want[a[i]] = 1 }
		NF == 5 && ($1 in want) { print $1, $2, $3, $4, $5 }' "$EVID/stdout"
}

# expected_rows: the rows expected, "NAME HOST:PORT STATUS" one a line.
expected_rows() {
	local i
	for ((i = 0; i < CLASS_N; i++)); do
		echo "${CLASS_NAMES[i]} $(address "$i") ${CLASS_WANT[i]//|/ or }"
	done
}

# delivered: how many classmates are expected ok.
delivered() {
	local i n=0
	for ((i = 0; i < CLASS_N; i++)); do
		[[ ${CLASS_WANT[i]} == ok ]] && n=$((n + 1))
	done
	echo "$n"
}

# expect_table SECONDS: stdout is a table of the class in roster order,
# each row NAME HOST:PORT STATUS BYTES MS with the status expected, BYTES
# the body's length for ok, MS a whole number no more than the deadline
# (SECONDS) allows and, for a timeout, about the deadline; then the last
# line "collected N of M".
expect_table() {
	local t="$1" rows=() i name addr st bytes ms problem="" last lo hi
	mapfile -t rows < <(table_rows)
	lo=$(awk -v t="$t" 'BEGIN { print int(t * 1000 - 250) }')
	hi=$(awk -v t="$t" -v k="${TIMEOUT_SCALE:-1}" -v v="${SL_CLIENT_VALGRIND:-}" \
		'BEGIN { print int(t * 1000 + 1000 * k * (v != "" ? 4 : 1)) }')
	if ((${#rows[@]} != CLASS_N)); then
		problem="expected $CLASS_N rows (one a classmate: NAME HOST:PORT STATUS BYTES MS), found ${#rows[@]}"
	fi
	for ((i = 0; i < CLASS_N && i < ${#rows[@]}; i++)); do
		[[ -z $problem ]] || break
		read -r name addr st bytes ms <<<"${rows[i]}"
		if [[ $name != "${CLASS_NAMES[i]}" ]]; then
			problem="row $((i + 1)) is $name's, expected ${CLASS_NAMES[i]}'s: the table must be in roster order (not the order the fetches finished in)"
		elif [[ $addr != "$(address "$i")" ]]; then
			problem="$name's HOST:PORT column is \"$addr\", expected \"$(address "$i")\" (the roster's address, the port always written)"
		elif [[ ! $st =~ ^(${CLASS_WANT[i]})$ ]]; then
			problem="$name's STATUS is \"$st\", expected \"${CLASS_WANT[i]//|/\" or \"}\" (its server: ${CLASS_WHAT[i]})"
			l05_status_cause "$i" "$st"
		elif [[ ! $bytes =~ ^[0-9]+$ || ! $ms =~ ^[0-9]+$ ]]; then
			problem="$name's BYTES and MS must be whole numbers, got \"$bytes\" and \"$ms\""
		elif [[ $st == ok && $bytes != "${CLASS_LENS[i]}" ]]; then
			problem="$name's BYTES is $bytes, but its body is ${CLASS_LENS[i]} bytes"
		elif ((10#$ms > hi)); then
			problem="$name's MS is $ms, more than the deadline (-t $t) allows ($hi at most)"
		elif [[ $st == timeout ]] && ((10#$ms < lo)); then
			problem="$name's STATUS is timeout but its MS is $ms: a timeout comes at the deadline, -t $t, about $((t * 1000)) ms"
		fi
	done
	if [[ -z $problem ]]; then
		last=$(awk 'NF { l = $0 } END { print l }' "$EVID/stdout")
		last=$(trim_line "$last")
		if [[ $last != "collected $(delivered) of $CLASS_N" ]]; then
			problem="the last line should be \"collected $(delivered) of $CLASS_N\", it is \"$last\""
		fi
	fi
	[[ -z $problem ]] && return 0
	failing FAIL "the table is wrong: $problem" \
		"expected these rows, in this order (NAME HOST:PORT STATUS, then BYTES and MS; columns split by blanks, a header line optional):" \
		"$(expected_rows | sed 's/^/  | /')" \
		"  | collected $(delivered) of $CLASS_N" \
		"the rows found:" "$(printf '%s\n' "${rows[@]}" | sed 's/^/  | /')"
}

trim_line() {
	local s="$1"
	s="${s#"${s%%[![:space:]]*}"}"
	printf '%s\n' "${s%"${s##*[![:space:]]}"}"
}

# l05_status_cause I GOT: name the root cause of classmate I's wrong
# status, where it shows.
l05_status_cause() {
	local i="$1" got="$2" want="${CLASS_WANT[$1]}" log="${CLASS_LOGS[$1]}"
	if [[ $want == unreachable && $got != unreachable ]]; then
		cause "connect() failing with EHOSTUNREACH (\"No route to host\") or ENETUNREACH is unreachable, not $got: the status comes from errno (fail_io(), step 2)"
	elif [[ $got == refused && $want != refused && -z ${L05_ROOM:-} ]] && [[ -n $log ]] &&
		! grep -q "accepted" "$log" 2>/dev/null && grep -q ":8080" "$EVID/stdout" 2>/dev/null; then
		cause "the roster's port was not used: \"NAME HOST:PORT\" means that port, 8080 only when none is written (parse_address(), step 1)"
	elif [[ $want == too-large ]]; then
		cause "a body over 64 KiB (65,536 bytes) must end as too-large, whatever its framing: save_bytes() checks every byte against BODY_MAX (step 5)"
	fi
}

# ---- the files --------------------------------------------------------------

# sandbox_files: every file and folder exchange made in the sandbox, one
# a line, relative to $EVID/sandbox.
sandbox_files() {
	(cd "$EVID/sandbox" && find . -mindepth 1 ! -path ./up ! -path ./up/one ! -path ./up/one/run | sed 's|^\./||' | sort)
}

# expect_nothing_outside OUTDIR: exchange wrote nothing in its sandbox
# but OUTDIR and what is inside it.
expect_nothing_outside() {
	local out="$1" outside rel
	rel="up/one/run/$out"
	outside=$(sandbox_files | awk -v o="$rel" '$0 != o && index($0, o "/") != 1')
	if [[ -n $outside ]]; then
		cause "a file was written outside OUTDIR: every file exchange writes is OUTDIR/NAME.txt (or its .part), with NAME checked first (name_ok(), step 1)"
		failing FAIL "exchange wrote outside OUTDIR ($out): it ran in $EVID/sandbox/up/one/run, and made:" \
			"$(printf '%s\n' "$outside" | sed 's/^/  /')"
		return 1
	fi
}

# expect_files OUTDIR: OUTDIR/NAME.txt holds each ok classmate's body,
# byte for byte; no other classmate has a NAME.txt there (files of other
# names may be there, a NAME.txt.part say); nothing is written outside
# OUTDIR.
expect_files() {
	local out="$1" i f name
	expect_nothing_outside "$out" || return 1
	for ((i = 0; i < CLASS_N; i++)); do
		name=${CLASS_NAMES[i]}
		f="$WORK/$out/$name.txt"
		if [[ ${CLASS_WANT[i]} == ok ]]; then
			if [[ ! -f $f ]]; then
				failing FAIL "$name delivered (${CLASS_WHAT[i]}), so $out/$name.txt should hold its body; there is no such file" \
					"files in $out: $(ls -A "$WORK/$out" 2>/dev/null | paste -sd ' ' -)"
				return 1
			fi
			expect_same "$EVID/expected-$name" "$f" "$out/$name.txt" "$i" || return 1
		elif [[ -e $f && ! -d $f ]]; then # a folder there is a test's own (L05_MKDIRS)
			l05_file_cause "$i" "$f"
			failing FAIL "$name did not deliver (expected ${CLASS_WANT[i]//|/ or }; its server: ${CLASS_WHAT[i]}), yet $out/$name.txt exists ($(wc -c <"$f" | tr -d ' ') bytes)" \
				"only a whole body is saved under the final name: write $name.txt.part and rename it when the body is complete"
			return 1
		fi
	done
}

# expect_no_part OUTDIR: no NAME.txt.part is left in OUTDIR after the run.
expect_no_part() {
	local left
	left=$(cd "$WORK/$1" 2>/dev/null && find . -name '*.part' | sed 's|^\./||' | sort | paste -sd ' ' -)
	[[ -z $left ]] && return 0
	cause "a failed fetch left its .part file: when a fetch fails, or rename() does, close the .part and unlink() it (output_finish(), step 5)"
	failing FAIL "after the run, $1 still holds $left: a fetch that failed (or whose rename() failed) must remove its .part" \
		"files in $1: $(ls -A "$WORK/$1" 2>/dev/null | paste -sd ' ' -)"
	return 1
}

# l05_file_cause I FILE: why classmate I, who failed, left FILE.
l05_file_cause() {
	local size
	size=$(wc -c <"$2" | tr -d ' ')
	if [[ ${CLASS_WANT[$1]} == too-large ]] && ((size > 65536)); then
		cause "no size cap: a body over 64 KiB must stop at 65,536 bytes and end as too-large (save_bytes(), step 5)"
	else
		cause "a failed fetch left NAME.txt: write NAME.txt.part and rename() it only when the body is whole (output_open(), output_finish(), step 5)"
	fi
}

# expect_same EXPECTED FILE WHAT I: FILE is EXPECTED, byte for byte.
expect_same() {
	local diff at
	cmp -s "$1" "$2" && return 0
	diff=$(first_difference "$1" "$2")
	at=$(sed -n 's/^first difference at byte \([0-9]*\).*/\1/p' <<<"$diff")
	if LC_ALL=C head -c 5 "$2" | grep -q '^HTTP/'; then
		cause "the saved file starts with the reply's header: only the bytes after the blank line are the body (recv_header() returns the header's length, step 4)"
	elif LC_ALL=C head -1 "$2" | LC_ALL=C grep -qE '^[0-9A-Fa-f]{1,8}(;[^\r]*)?'$'\r''$'; then
		cause "the saved file holds the chunk-size lines: a chunked body is decoded, only the chunks' data saved (copy_chunked(), step 5)"
	fi
	failing FAIL "$3 is not ${CLASS_NAMES[$4]}'s body byte for byte (its server: ${CLASS_WHAT[$4]})" \
		"expected $(wc -c <"$1" | tr -d ' ') bytes, $3 holds $(wc -c <"$2" | tr -d ' ')" "$diff" \
		"the body, around byte ${at:-0}:" "$(hexdump_at "$1" "${at:-0}")" \
		"$3, around byte ${at:-0}:" "$(hexdump_at "$2" "${at:-0}")"
}

# expect_run T CODE [OUTDIR]: the run finished with exit status CODE, and
# its table and files (in OUTDIR, default out) are right.
expect_run() {
	local t="$1" code="$2" out="${3:-out}" why
	if ! expect_finished; then
		story >>"$EVID/message"
		return 1
	fi
	if [[ $status -ne $code ]]; then
		case $code in
		0) why="every classmate delivered, so the exit status is 0" ;;
		1) why="some classmates did not deliver, so the exit status is 1 (0 only when all did)"
		   [[ $status == 0 ]] && cause "exit 0 although some classmates did not deliver: main() exits with what print_table() returns, so print_table() must return how many delivered, N of collected N of M (step 7)" ;;
		esac
		failing FAIL "expected exit status $code, got $status: $why"
		return 1
	fi
	expect_table "$t" || return 1
	expect_files "$out"
}

# ---- root causes ------------------------------------------------------------

# lab_diagnose: the root cause a failed test's evidence shows (called by
# fail, after the starter's stubs were looked for).
lab_diagnose() {
	local err="$EVID/stderr"
	if grep -q "Interrupted system call" "$err" 2>/dev/null; then
		# the EINTR test says which call its shim interrupted (L05_EINTR)
		if [[ ${L05_EINTR:-} == poll ]]; then
			cause "poll() failed with EINTR, which only means a signal came: look at the clock and poll() again for the time that is left (wait_ready(), step 2)"
		elif [[ ${L05_EINTR:-} == connect ]] || grep -q "connect.*Interrupted system call" "$err"; then
			cause "connect() failed with EINTR, which only means a signal came: the handshake goes on; wait for it with wait_ready(POLLOUT) as for EINPROGRESS (connect_one(), step 2)"
		elif grep -q "sending.*Interrupted system call" "$err"; then
			cause "send() failed with EINTR, which only means a signal came: send again (send_all(), step 3)"
		else
			cause "a call failed with EINTR, which only means a signal came: recv() again (recv_some(), step 4), poll() again (wait_ready(), step 2)"
		fi
		return 0
	fi
	if grep -qi "resource temporarily unavailable" "$err" 2>/dev/null; then
		cause "EAGAIN taken for an error: on a non-blocking socket it means \"not yet\": wait_ready(), then again (send_all() step 3, recv_some() step 4)"
		return 0
	fi
	return 0
}
