# shellcheck shell=bash
# shellcheck disable=SC2034  # PORT, HOST, TALK, TALK_STATUS, ... are for the tests
# lab03.bash - helpers for lab 03's tests (the echo server), on top of
# helpers.bash; loaded by grader/tests/03-echoserver.bats and by any hidden
# lab 03 tests (`load ../lib/lab03`).
#
# A test reads:
#   start_echoserver 20                  # the program under test, on $PORT
#   talk 2 -e -m 'Hello, how are you?\r\n'
#   expect_echo "the line 'Hello, how are you?\r\n'" "the same line back"
# talk runs the grader's TCP client (grader/peers/tcpclient.c), which sends
# while it reads and checks the echo byte for byte; expect_echo turns its
# report (one line a connection) into a failure message for a student.



# start_echoserver [--valgrind] [--nofile N] [--shortio SPEC] [--hosts FILE]
# [--host HOST [--with-a] [--name NAME]] SECONDS: start the program under
# test for at most SECONDS on a free port of HOST (default 127.0.0.1,
# given as -a HOST unless it is that default, or always with --with-a;
# with --name, -a NAME, a name that resolves to HOST among others) and
# wait until it accepts (--shortio, --hosts: as start_server).  Sets PORT,
# HOST and SERVER_ARGS (its options).  Tries a second port if another
# program took the first one meanwhile ("in use" on stderr).
start_echoserver() {
	local opts=() args try with_a=0 name=""
	HOST=127.0.0.1
	while [[ $1 == --* ]]; do
		case $1 in
		--valgrind) opts+=(--valgrind); shift ;;
		--nofile | --shortio | --hosts) opts+=("$1" "$2"); shift 2 ;;
		--host) HOST="$2"; shift 2 ;;
		--with-a) with_a=1; shift ;;
		--name) name="$2"; shift 2 ;;
		*) echo "start_echoserver: unknown option $1" >&2; return 2 ;;
		esac
	done
	SERVER_PROBED=1 # start_server's readiness check is its first client
	for try in 1 2; do
		PORT=$(free_port "$HOST")
		args=(-p "$PORT")
		[[ $HOST == 127.0.0.1 && $with_a == 0 ]] || args=(-a "$HOST" -p "$PORT")
		[[ -n $name ]] && args=(-a "$name" -p "$PORT")
		SERVER_ARGS="${args[*]}"
		if start_server "${opts[@]}" "$1" "$PORT" "$HOST" -- "$SL_BIN" "${args[@]}"; then
			return 0
		fi
		if ((try == 2)) || ! grep -qi "in use" "$EVID/server.stderr" 2>/dev/null; then
			return 1
		fi
		rm -f "$EVID/message" "$EVID/verdict" # a race for the port: again
	done
}

# launch_echoserver SECONDS: start the program under test on a free
# port, as start_server does, but without connecting to it: wait (up to
# 3 s, scaled) until its ready line shows on stdout or it exits.  A test
# connection would make a forked child exit, and a child's exit() flushes
# its copy of an unflushed stdout: the line would show up for the wrong
# reason.  Sets PORT, HOST and SERVER_PID.
launch_echoserver() {
	local try i tries
	HOST=127.0.0.1
	SERVER_PROBED=0
	tries=$(awk -v s="$(scaled 3)" 'BEGIN { print int(s * 20) }')
	for try in 1 2; do
		PORT=$(free_port)
		SERVER_ARGS="-p $PORT"
		start_server --no-wait "$1" "$PORT" -- "$SL_BIN" -p "$PORT"
		for ((i = 0; i < tries; i++)); do
			grep -q "Server is ready" "$EVID/server.stdout" && return 0
			server_alive || break
			sleep 0.05
		done
		server_alive && return 0
		sleep 0.1 # contain has the exit status written by now
		((try == 1)) && grep -qi "in use" "$EVID/server.stderr" || return 0
	done
}


# hold_port [HOST [PORT]]: have another program listen on a free port
# (or PORT) of HOST (default 127.0.0.1) (porttool taken), for a test of
# the "port in use" error.  Sets HELD_PORT.
hold_port() {
	local i host="${1:-127.0.0.1}"
	for _ in 1 2; do
		HELD_PORT=${2:-$(free_port "$host")}
		background 20 porttool "$SL_PEERS/porttool" taken "$host" "$HELD_PORT"
		for ((i = 0; i < 40; i++)); do
			grep -q ready "$EVID/porttool.out" && return 0
			kill -0 "$BG_PID" 2>/dev/null || break
			sleep 0.05
		done
	done
	fail FAIL "the grader could not hold a port for this test; porttool said:" \
		"$(show "$EVID/porttool.err")" \
		"(this is the grader's problem, not your program's: tell your instructor)"
}


# How long the grader's client may take to connect, each round (seconds,
# scaled), apart from the round's own time: a server that accepts slowly
# and listen()s with a tiny backlog makes clients wait for a place in the
# queue, which is no echo bug.  (A correct server takes milliseconds.)
SL_CONNECT_LIMIT=5

# talk SECONDS [--total SECONDS] TCPCLIENT-OPTIONS...: run the grader's
# TCP client against HOST:PORT, each round limited to SECONDS (scaled)
# once its connections are connected (connecting has SL_CONNECT_LIMIT),
# the whole run to --total SECONDS (default: SECONDS + 3, and the
# connecting time).  Its report goes to $EVID/talk-N.out (N counting up),
# its event log to talk-N.log; sets TALK (the report's path) and
# TALK_STATUS (0: every connection ok).
talk() {
	local round="$1" total name
	shift
	total=$(awk -v r="$round" -v c="$SL_CONNECT_LIMIT" 'BEGIN { print r + c + 3 }')
	if [[ $1 == --total ]]; then
		total="$2"
		shift 2
	fi
	# A server that has echoed nothing at all in a test of the echo itself
	# costs each later test a short limit (0.5 s a round), one that has
	# left some client without a byte back a longer one (1.5 s), not the whole
	# of every round: SPEC §4, a lab grades within 60 s whatever the
	# program does.  (A correct server answers within milliseconds.)
	local cap
	cap=$(lab03_short_round)
	if [[ -n $cap ]]; then
		read -r round total < <(awk -v r="$round" -v t="$total" -v c="$cap" \
			'BEGIN { if (r > c) r = c; if (t > r + 3) t = r + 3; print r, t }')
	fi
	SL_TALK_N=$((${SL_TALK_N:-0} + 1))
	name="talk-$SL_TALK_N"
	TALK="$EVID/$name.out"
	TALK_CMD="build/peers/tcpclient -t $(ms "$round")$(shell_words "$@") $HOST $PORT"
	printf '%s\n' "$TALK_CMD" >"$EVID/$name.command"
	TALK_STATUS=0
	"$SL_PEERS/contain" -t "$(scaled "$total")" -s "$EVID/$name.status" -- \
		"$SL_PEERS/tcpclient" -C "$(ms "$SL_CONNECT_LIMIT")" -t "$(ms "$round")" \
		-l 300 -L "$EVID/$name.log" "$@" "$HOST" "$PORT" \
		</dev/null >"$TALK" 2>"$EVID/$name.err" 3>&- 4>&- || TALK_STATUS=$?
	lab03_note_unanswered "$TALK"
}

# lab03_short_round: the cap on every later round, in seconds, once this
# run has seen the server answer nothing (0.5) or leave a client that sent
# something without a byte back (1.5); nothing while it has not.
lab03_short_round() {
	if [[ -e $(lab03_run_file never-echoed) ]]; then
		echo 0.5
	elif [[ -e $(lab03_run_file unanswered) ]]; then
		echo 1.5
	fi
}

# lab03_note_unanswered REPORT: remember, for the later tests of this run,
# that a client of the report sent bytes and got none back before its
# deadline (lab03_short_round).
lab03_note_unanswered() {
	grep -qE '^conn [0-9]+: sent [1-9][0-9]* received 0 .*(got nothing before the deadline|not finished before the deadline)' "$1" 2>/dev/null &&
		: >"$(lab03_run_file unanswered)"
	return 0
}

# lab03_limit SECONDS [SHORT]: SECONDS, or SHORT (default 1) once this run
# has seen the server leave a client unanswered: for the tests that run
# the grader's client in the background, not through talk.
lab03_limit() {
	if [[ -n $(lab03_short_round) ]]; then
		echo "${2:-1}"
	else
		echo "$1"
	fi
}

# can_connect HOST [PORT]: true if a connection to HOST:PORT (default
# $PORT) is accepted within a second (false: refused, or no answer).
can_connect() {
	"$SL_PEERS/contain" -t "$(scaled 3)" -- "$SL_PEERS/tcpclient" \
		-C "$(ms 1)" -t "$(ms 1)" -l 10 "$1" "${2:-$PORT}" \
		</dev/null >>"$EVID/can-connect.out" 2>&1 3>&- 4>&-
}

# talk_report [MAX]: the client's report, indented: its failed
# connections first, at most MAX (default 8) lines of them, then its total.
talk_report() {
	local max="${1:-8}" lines bad err="${TALK%.out}.err"
	lines=$(grep -c '^conn ' "$TALK" 2>/dev/null || true)
	bad=$(grep '^conn ' "$TALK" 2>/dev/null | grep -c -v -E '; (echo |idle )?ok$' || true)
	{
		grep '^conn ' "$TALK" | grep -v -E '; (echo |idle )?ok$' || true
		grep '^conn ' "$TALK" | grep -E '; (echo |idle )?ok$' || true
	} | head -n "$max" | sed -e 's/^/  /'
	if ((lines > max)); then
		# with -q the report lists only the failed connections
		echo "  ... ($((lines - max)) more lines: $bad connections failed)"
	fi
	grep -v '^conn ' "$TALK" | sed -e 's/^/  /'
	[[ -s $err ]] && sed -e 's/^/  (the client said) /' "$err" | head -5
	[[ $(cat "${TALK%.out}.status" 2>/dev/null) == timeout ]] &&
		echo "  (the client had not finished when the grader stopped it)"
	return 0
}

# server_state: one line on how the server under test is doing.
server_state() {
	local st
	if server_alive; then
		echo "the server is still running"
		return
	fi
	st=$(cat "$EVID/server.status" 2>/dev/null)
	case $st in
	signal*) echo "the server is gone: it was killed by ${st#signal }" ;;
	exit*) echo "the server is gone: it exited (${st})" ;;
	timeout) echo "the server is gone: the grader stopped it at its time limit" ;;
	*) echo "the server is gone" ;;
	esac
}

# Files shared by the tests of one run (the grader's evidence folder).
lab03_run_file() { printf '%s/.lab03-%s\n' "${SL_EVIDENCE:-$BATS_RUN_TMPDIR}" "$1"; }

# server_said [LINES]: the last LINES (default 12) lines of the server's
# stderr, for a failure message.  The first time in a run, it says what
# the grader's own first connection was.
server_said() {
	local n="${1:-12}" total noted
	if [[ ! -s $EVID/server.stderr ]]; then
		echo "  (nothing)"
		return
	fi
	noted=$(lab03_run_file probe-noted)
	if [[ ${SERVER_PROBED:-0} == 1 && ! -e $noted ]]; then
		: >"$noted"
		echo "  (the first connection in it, which sends nothing and closes at once, is the grader checking that the port accepts; the test's own clients come after)"
	fi
	total=$(wc -l <"$EVID/server.stderr" | tr -d ' ')
	((total > n)) && echo "  ... (its last $n of $total lines)"
	tail -n "$n" "$EVID/server.stderr" | head -c 2000 | sed -e 's/^/  | /'
	return 0
}

# talk_verdict: TIME if the client's report shows a deadline passing,
# CRASH if the server died of a signal, else FAIL.
talk_verdict() {
	if ! server_alive && grep -q '^signal' "$EVID/server.status" 2>/dev/null; then
		echo CRASH
	elif grep -qE 'first difference at byte [0-9]+: expected [^,]*, got 0x' "$TALK"; then
		echo FAIL # wrong bytes came back: the deadline that followed is no matter
	elif grep -qE 'before the deadline|did not close|timeout after' "$TALK" ||
		[[ $(cat "${TALK%.out}.status" 2>/dev/null) == timeout ]]; then
		echo TIME
	else
		echo FAIL
	fi
}

# echo_first: if a test of the echo itself (--basic) has failed earlier
# in this run, a line saying to fix that first, for a test about
# something else whose echo went wrong.
echo_first() {
	local failed
	failed=$(lab03_run_file echo-failed)
	[[ -s $failed ]] || return 0
	printf 'the echo itself is wrong: fix "%s" (handout step 4) first; this test is about something else, and needs a working echo\n' \
		"$(head -1 "$failed")"
}

# slow_connect: a line on slow connecting, if the client's report shows it.
slow_connect() {
	grep -q '^connecting took' "$TALK" 2>/dev/null || return 0
	echo "connecting was slow: does the server listen() with a tiny backlog, or take long to accept()? The kernel queues only backlog connections that accept() has not taken yet and drops the rest until they try again; listen(fd, 128) or SOMAXCONN"
}

# expect_echo [--basic] SENT EXPECTED [LINE...]: the last talk ended well
# (every connection ok); if not, fail saying what was SENT, what was
# EXPECTED, the client's report, extra LINEs, and the server's state and
# stderr.  --basic: this test is about the echo itself (step 4); its
# failure is remembered, and later tests that need an echo say so first.
expect_echo() {
	local basic=0
	if [[ $1 == --basic ]]; then
		basic=1
		shift
	fi
	local sent="$1" expected="$2" first slow
	shift 2
	[[ $TALK_STATUS -eq 0 ]] && return 0
	local where="${SERVER_ARGS:--p $PORT}"
	first=$(echo_first)
	slow=$(slow_connect)
	if ((basic)); then
		first="" # the test of the echo itself needs no pointer
		printf '%s\n' "${BATS_TEST_DESCRIPTION#\[*\] }" >>"$(lab03_run_file echo-failed)"
		grep -q 'received [1-9]' "$TALK" 2>/dev/null || : >"$(lab03_run_file never-echoed)"
	fi
	fail "$(talk_verdict)" ${first:+"$first"} "sent:     $sent" "expected: $expected" \
		"got (the grader's client, one line a connection):" "$(talk_report 8)" \
		"$@" ${slow:+"$slow"} "$(server_state); its stderr:" "$(server_said 12)" \
		"to try it by hand, start your server with $where, then run:" \
		"  $TALK_CMD"
}

# expect_server_alive WHAT: the server is still running after WHAT.
expect_server_alive() {
	server_alive && return 0
	fail "$(talk_verdict)" "the server died after $1" "$(server_state); its stderr:" \
		"$(server_said 12)"
}


# binary_difference SEED LENGTH RECEIVED: for a failure message, the
# first difference between the bytes expected (datagen SEED LENGTH) and
# those RECEIVED, with hexdumps of both around it.
binary_difference() {
	local seed="$1" length="$2" got="$3" at
	[[ -s $got ]] || return 0 # nothing came back: the client's report says it
	"$SL_PEERS/datagen" "$seed" "$length" >"$EVID/expected.bin"
	at=$(first_difference "$EVID/expected.bin" "$got")
	[[ -z $at ]] && return 0
	echo "$at (expected.bin and $(basename "$got") are in the evidence folder)"
	at=$(printf '%s\n' "$at" | sed -n 's/^first difference at byte \([0-9]*\).*/\1/p')
	echo "expected, around byte $at:"
	hexdump_at "$EVID/expected.bin" "$at"
	echo "received, around byte $at:"
	hexdump_at "$got" "$at"
}

# slow_echo LENGTH RECEIVED: when the last talk failed with the bytes that
# came back (RECEIVED) right but too few of LENGTH, a line saying so, and
# the root cause: the echo is too slow (a tiny buffer?), not wrong.
slow_echo() {
	local length="$1" got="$2" size
	((TALK_STATUS != 0)) && [[ -s $got ]] || return 0
	grep -qE 'first difference at byte [0-9]+: expected [^,]*, got 0x' "$TALK" && return 0
	size=$(wc -c <"$got" | tr -d ' ')
	((size < length)) || return 0
	[[ -s $EVID/expected.bin ]] && ! cmp -s -n "$size" "$EVID/expected.bin" "$got" && return 0
	cause "the bytes that came back were right, but only $size of $length before the deadline: the echo is too slow (a tiny buffer? recv() into a buffer of some KiB, e.g. char buf[4096], one recv() and send_all() per buffer) (step 4)"
	echo "the $size bytes that came back are right: too few, not wrong (is the buffer tiny, a byte or a few per recv()?)"
}

# ---- the server's processes and connections ------------------------------

# server_main_pid: the PID of the program under test (contain's child).
server_main_pid() {
	ps -A -o pid=,ppid=,pgid= |
		awk -v p="$SERVER_PID" '$2 == p && $1 == $3 { print $1; exit }'
}

# server_pids: every live process of the server (it and all it started:
# contain's descendants, and on Linux those that left it, which contain
# adopts; zombies left out), one PID a line.
server_pids() {
	ps -A -o pid=,ppid=,stat= | awk -v top="$SERVER_PID" '
		{ parent[$1] = $2; state[$1] = $3 }
		END {
			for (p in parent) {
				if (state[p] ~ /^Z/ || p == top) continue
				for (q = parent[p]; q > 1 && !(q == top); q = parent[q])
					if (++hops[p] > 64) break
				if (q == top) print p
			}
		}'
}

# server_tree: the server's processes for a failure message, as ps shows
# them (pid, parent, state, command), at most 6.
server_tree() {
	local pids main
	main=$(server_main_pid)
	pids=$( { server_pids; [[ -n $main ]] && ps -A -o pid=,ppid= |
		awk -v m="$main" '$2 == m { print $1 }'; } | sort -un | head -6 | paste -sd, -)
	[[ -n $pids ]] || return 0
	ps -o pid,ppid,stat,args -p "$pids" 2>/dev/null | sed -e 's/^/  /'
}

# expect_cleaned_up CLIENTS: once CLIENTS ("the 50 clients") have gone,
# within 2 s (scaled), the server has no zombie children and at most 3
# processes (a process or thread per client is fine while the client is
# there, not after).
expect_cleaned_up() {
	local main i tries zombies=0 procs=0
	main=$(server_main_pid)
	[[ -n $main ]] || return 0 # gone: the other checks said so
	tries=$(awk -v s="$(scaled 2)" 'BEGIN { print int(s * 20) }')
	for ((i = 0; i < tries; i++)); do
		zombies=$(zombies_of "$main")
		procs=$(server_pids | wc -l | tr -d ' ')
		((zombies == 0 && procs <= 3)) && return 0
		sleep 0.05
	done
	if ((procs > 3)); then
		fail FAIL "$procs processes of the server still running $(scaled 2) s after $1 left: a child must exit() when its client is done" \
			"(a child that returns from serve_client() instead goes back into the parent's accept loop, and lives on)" \
			"expected: 3 processes at most once the clients are gone" \
			"$(server_tree)" "its stderr:" "$(server_said 6)"
	elif ! lab03_catches "$main" 17; then
		# SIGCHLD is 17 on Linux, where /proc/PID/status exists
		cause "the SIGCHLD handler was reset after its first signal: install it with sigaction(), not signal() (step 5)"
		fail FAIL "$zombies children of the server are zombies (ps shows them <defunct>) $(scaled 2) s after $1 left, and the server no longer catches SIGCHLD (/proc/$main/status, SigCgt): its handler ran once and was reset to the default" \
			"(signal() in a program built with -std=c11 installs a one-shot handler, SA_RESETHAND: the first child is reaped, every later one stays a zombie)" \
			"expected: every child that has ended is reaped: the handler stays installed (sigaction() with SA_RESTART), and reaps in a loop" \
			"$(server_tree)"
	else
		fail FAIL "$zombies children of the server are zombies (ps shows them <defunct>) $(scaled 2) s after $1 left" \
			"expected: every child that has ended is reaped: a SIGCHLD handler that calls waitpid(-1, NULL, WNOHANG) in a loop while it returns > 0 (one signal can stand for many children that ended at once)" \
			"$(server_tree)"
	fi
}

# lab03_catches PID SIGNUM: false only when /proc/PID/status shows that
# PID does not catch signal SIGNUM (no handler installed); true where it
# cannot tell.
lab03_catches() {
	local mask
	mask=$(sed -n 's/^SigCgt:[[:space:]]*//p' "/proc/$1/status" 2>/dev/null)
	[[ -n $mask ]] || return 0
	(((16#$mask >> ($2 - 1)) & 1))
}

# zombies_of PID: how many children of PID are zombies.
zombies_of() {
	ps -A -o ppid=,stat= | awk -v p="$1" '$1 == p && $2 ~ /^Z/ { n++ } END { print n + 0 }'
}

# open_connections: how many sockets the server's processes hold, other
# than listening ones, on Linux (elsewhere: 0).  A connection the client
# has reset is gone from /proc/net/tcp while the server still holds it:
# counting what it holds, not what /proc/net/tcp lists, sees it too.
open_connections() {
	# shellcheck disable=SC2046 # one PID a word
	connections_of $(server_pids)
}

# connections_of PID...: how many sockets those processes hold, other than
# listening ones (a socket held by two processes, after fork, counts once).
connections_of() {
	local pid fd link inodes=()
	[[ -r /proc/net/tcp ]] || { echo 0; return; }
	for pid in "$@"; do
		for fd in /proc/"$pid"/fd/*; do
			link=$(readlink "$fd" 2>/dev/null) || continue
			[[ $link == socket:\[*\] ]] && inodes+=("${link//[!0-9]/}")
		done
	done
	((${#inodes[@]})) || { echo 0; return; }
	# /proc/net/tcp: field 4 is the state (0A: listening), 10 the inode
	awk -v list="${inodes[*]}" 'BEGIN { n = split(list, a, " "); for (i = 1; i <= n; i++) held[a[i]] = 1 }
		FNR > 1 && $4 == "0A" { delete held[$10] }
		END { for (i in held) c++; print c + 0 }' \
		/proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# lab03_teardown: stop the server under test at once: SIGTERM to its
# process group, SIGKILL a moment later (contain's own grace is a
# second, and a server that ignores SIGTERM would cost that in every
# test), then the helpers' teardown for everything else.
lab03_teardown() {
	local main i
	if [[ -n ${SERVER_PID:-} ]] && server_alive; then
		main=$(server_main_pid)
		if [[ -n $main ]]; then
			kill -TERM -- "-$main" 2>/dev/null
			for ((i = 0; i < 6; i++)); do
				[[ -z $(server_pids) ]] && break
				sleep 0.05
			done
			[[ -n $(server_pids) ]] && kill -KILL -- "-$main" 2>/dev/null
		fi
	fi
	sl_teardown
}

# wait_quiet SECONDS: give the server up to SECONDS (scaled) to finish
# with its clients: no process left but the main one, no connection open.
# (Where /proc is missing, just wait a second.)
wait_quiet() {
	local i tries limit="$1"
	# a server that has left clients unanswered is waited for briefly
	[[ -n $(lab03_short_round) ]] && limit=$(awk -v l="$limit" 'BEGIN { print (l > 0.5 ? 0.5 : l) }')
	if [[ ! -r /proc/net/tcp ]]; then
		sleep 1
		return 0
	fi
	tries=$(awk -v s="$(scaled "$limit")" 'BEGIN { print int(s * 20) }')
	for ((i = 0; i < tries; i++)); do
		if (($(server_pids | wc -l) <= 1)) && (($(open_connections) == 0)); then
			return 0
		fi
		sleep 0.05
	done
	return 0
}

# ---- the faults that loopback never makes, and their evidence -----------

# shortio_story OP: one line, in a student's words, on the first OP call
# (send or recv) the shim cut short: "send() took 7 of 78 bytes".
shortio_story() {
	local first asked moved
	first=$(shortio_first "$1")
	[[ -n $first ]] || return 0
	read -r asked moved <<<"$first"
	if [[ $1 == send ]]; then
		echo "the first short one: send() took $moved of $asked bytes; the other $((asked - moved)) must be sent by another send() (send_all's loop)"
	else
		echo "the first short one: recv() returned $moved bytes where $asked would fit: what had arrived, not a message"
	fi
}

# listening_inodes PORT: the inodes of the sockets listening on PORT (any
# address), from /proc/net/tcp and tcp6, one a line (Linux; elsewhere none).
listening_inodes() {
	local hex
	hex=$(printf '%04X' "$1")
	awk -v port="$hex" 'FNR > 1 && $4 == "0A" { n = split($2, a, ":"); if (a[n] == port) print $10 }' \
		/proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# holders_of INODE...: the PIDs of the processes that hold one of those
# sockets open, among all processes this user can see, one a line.
holders_of() {
	local fd link pid want=" $* "
	for fd in /proc/[0-9]*/fd/*; do
		link=$(readlink "$fd" 2>/dev/null) || continue
		[[ $link == socket:\[*\] ]] || continue
		link=${link//[!0-9]/}
		[[ $want == *" $link "* ]] || continue
		pid=${fd#/proc/}
		echo "${pid%%/*}"
	done | sort -un
}

# lowest_free_fd PID: the lowest descriptor number PID has not open (what
# its next accept() would return).
lowest_free_fd() {
	local n=0
	while [[ -e /proc/$1/fd/$n ]]; do
		n=$((n + 1))
	done
	echo "$n"
}

# cpu_ticks PID...: the CPU time the processes have used so far, user and
# system, in clock ticks (Linux /proc/PID/stat, fields 14 and 15).
cpu_ticks() {
	local pid sum=0 t
	for pid in "$@"; do
		# the command name (field 2) may hold spaces: count from its ')'
		t=$(sed -e 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{ print $12 + $13 }')
		sum=$((sum + ${t:-0}))
	done
	echo "$sum"
}

# ---- root causes ---------------------------------------------------------

# lab_diagnose: called by fail (helpers.bash) when a test fails: name the
# root cause where the evidence shows it beyond doubt, whichever test
# caught it.  (Causes that only one test can tell apart, that test names
# itself with cause.)
lab_diagnose() {
	local err="$EVID/server.stderr" st n last
	[[ -f $err ]] || return 0
	st=$(cat "$EVID/server.status" 2>/dev/null)
	# A child back in the parent's accept loop, on the listener it closed.
	if grep -qiE 'accept.*bad file descriptor' "$err" && grep -qE ' (fork|pthread_create) EAGAIN' "$EVID/shortio.log" 2>/dev/null; then
		cause "when fork() failed, the listening socket was closed instead of the connection: close(cfd), not close(lfd) (step 5)"
		return 0
	fi
	if grep -qiE 'accept.*(bad file descriptor|not a socket|invalid argument)' "$err"; then
		cause "'accept: Bad file descriptor' on stderr: a child went back into the accept loop; end the child with exit(), never return (step 5)"
		return 0
	fi
	if [[ $st == "signal SIGPIPE" ]]; then
		cause "the server was killed by SIGPIPE: keep signal(SIGPIPE, SIG_IGN) in main(), so that send() to a client that has gone fails with EPIPE instead"
		return 0
	fi
	last=$(grep -v '^==' "$err" | tail -1)
	if [[ $st == exit* ]] && [[ $last == *"Interrupted system call"* ]]; then
		cause "the server exited after a call failed with EINTR ('$last'): a signal (SIGCHLD) is no error; SA_RESTART (step 5), and EINTR means try again (steps 3 and 4)"
		return 0
	fi
	if [[ $st == exit* ]] && [[ $last == *accept* ]]; then
		cause "the server exited after a failed accept() ('$last'): return -1 and let serve_forever() try again (step 3)"
		return 0
	fi
	# The port on the ready line: the grader's, or its two bytes swapped?
	n=$(sed -n 's/^Server is ready on .*:\([0-9][0-9]*\)[[:space:]]*$/\1/p' "$EVID/server.stdout" 2>/dev/null | head -1)
	if [[ -n $n && -n ${PORT:-} && $PORT != 0 && $n != "$PORT" ]] &&
		((n == ((PORT & 255) << 8 | PORT >> 8))); then
		cause "the server listens on port $n, which is $PORT with its two bytes swapped: a port in a sockaddr is in network byte order, htons(); getaddrinfo() does it for you (step 1)"
		return 0
	fi
	n=$(grep -c 'Too many open files' "$err" 2>/dev/null || true)
	if ((n > 0)) && [[ $BATS_TEST_DESCRIPTION != *"lack of descriptors"* ]]; then
		cause "the server ran out of descriptors ('Too many open files' $n times on stderr): close every connection once its client is done; with fork, the parent close()s its copy at once (step 5)"
		return 0
	fi
	reset_close_cause
	mixup_cause
	return 0
}

# reset_close_cause: the last talk's client received the whole echo, then
# a reset (RST) where the end of the stream belonged: an abortive close.
reset_close_cause() {
	[[ -n ${TALK:-} && -f $TALK ]] || return 0
	grep -qE '^conn [0-9]+: sent ([1-9][0-9]*) received \1 reset-by-server' "$TALK" || return 0
	cause "a reset instead of a clean close: the client got every byte back, then a reset (RST), not the end of the stream; no SO_LINGER 0; close() normally (step 4)"
}

# mixup_cause: in the last talk, clients connected at the same time (-c),
# and some got nothing back or bytes that were not theirs while others were
# served: the clients share a descriptor or a buffer.  (Not when a test of
# the echo itself has failed: then one client's echo is wrong already.)
mixup_cause() {
	local lines nothing wrong good
	[[ -n ${TALK:-} && -f $TALK && ${TALK_CMD:-} == *" -c "* ]] || return 0
	[[ -s $(lab03_run_file echo-failed) ]] && return 0
	# the client's total, "ok 2 of 50 connections" (with -q it lists only
	# the failed ones)
	read -r good lines < <(sed -n 's/^ok \([0-9]*\) of \([0-9]*\) connections.*/\1 \2/p' "$TALK" | tail -1)
	[[ -n $lines ]] && ((lines > 1)) || return 0
	nothing=$(grep -cE '^conn [0-9]+: sent [1-9][0-9]* received 0 .*before the deadline' "$TALK" || true)
	wrong=$(grep -cE 'first difference at byte [0-9]+: expected [^,]*, got 0x' "$TALK" || true)
	# Clients that fared differently: some with wrong bytes while others
	# were served or got nothing (all wrong alike is a bug of every
	# client's echo); or some served and others left with nothing, where
	# each client sent one short line (-m): one client at a time would
	# have served them all by then.
	{ ((wrong > 0 && (good > 0 || nothing > 0))); } ||
		{ ((nothing > 0 && good > 0)) && [[ $TALK_CMD == *" -m "* ]]; } || return 0
	cause "clients served at the same time got each other's echo or none ($nothing of $lines got nothing back, $wrong got wrong bytes, $good got theirs): each client's descriptor and buffer must be its own: pass cfd by value or in malloc'd memory, not &cfd (step 5)"
}

# closing_cause: after a talk whose client waited in vain for the server
# to close (-H), name why, where the server's processes show it: a parent
# that still holds a connection, in a server that forks a child per
# client (its copy keeps the connection open, step 5), or else no close()
# after recv() returned 0 (step 4).  Whether it forks: a new client, idle
# for a moment, makes a second process or not.
closing_cause() {
	local main held i forks=0 probe
	((TALK_STATUS != 0)) || return 0
	grep -q 'did not close' "$TALK" 2>/dev/null || return 0
	main=$(server_main_pid)
	[[ -n $main && -r /proc/net/tcp ]] || return 0
	held=$(connections_of "$main")
	if ((held > 0)); then
		background 5 probe "$SL_PEERS/tcpclient" -i "$(ms 1)" -t "$(ms 2)" -m x "$HOST" "$PORT"
		probe=$BG_PID
		for ((i = 0; i < 20; i++)); do
			(($(server_pids | wc -l) > 1)) && { forks=1; break; }
			sleep 0.05
		done
		kill "$probe" 2>/dev/null
	fi
	if ((forks)); then
		cause "the parent process still holds its copy of the connection, so the client never sees it end: close(cfd) in the parent right after fork() (step 5)"
	else
		cause "the server never closed the connection after the client's end of stream: recv() returning 0 ends the loop, then close(cfd) (step 4)"
	fi
}

# valgrind_cause: after expect_valgrind_clean failed, name the root cause
# its logs show (the first that fits).
valgrind_cause() {
	local logs=()
	mapfile -t logs < <(compgen -G "$EVID/valgrind*.log")
	((${#logs[@]})) || return 0
	if grep -q 'definitely lost' "${logs[@]}" && grep -A12 'definitely lost in' "${logs[@]}" | grep -q 'getaddrinfo'; then
		cause "getaddrinfo()'s list is never freed on some path: freeaddrinfo(res) once the loop is done, whether or not an address worked (step 1)"
	elif grep -qE 'Invalid (read|write)|uninitialised' "${logs[@]}"; then
		# The cause follows the stack of the first error valgrind shows.
		local block
		block=$(awk '/Invalid (read|write)|uninitialised/ { on = 1 } on && /^==[0-9]+== *$/ { exit } on' "${logs[@]}" | head -20)
		if grep -qE 'sigaction|sa_mask|reap_children' <<<"$block"; then
			cause "sigaction() read uninitialised bytes of its struct sigaction (valgrind: $(grep -m1 -oE '[a-z_]*sigaction\([^)]*\)[^.]*' <<<"$block" | head -1)): memset() the struct to 0 and sigemptyset(&sa.sa_mask) before sigaction() (step 5)"
		elif grep -qE 'recv|send|echo|read|write|buf' <<<"$block"; then
			cause "a memory error in the echo loop (valgrind names the line): the buffer holds the n bytes recv() returned, no more, and no terminating 0 (step 4)"
		else
			cause "a memory error: valgrind names the function and line of the first one, '$(grep -m1 -oE 'by 0x[0-9A-F]+: [a-z_]+ \([^)]*\)' <<<"$block" | sed 's/^by 0x[0-9A-F]*: //')' (valgrind*.log in the evidence folder)"
		fi
	elif grep -A1 '== Open AF_INET' "${logs[@]}" | grep -q '<->.*:[0-9]'; then
		if grep -A2 '== Open AF_INET' "${logs[@]}" | grep -q 'accept'; then
			cause "a connection accept() returned is never closed: close(cfd) once its client is done, and with fork in the parent at once (step 5)"
		else
			cause "a socket is never closed: close() each socket that failed to bind or listen, and every connection once its client is done (steps 1 and 5)"
		fi
	elif grep -q '== Open AF_INET' "${logs[@]}"; then
		cause "a socket is left open: close() each socket on which bind() or listen() failed before trying the next address (step 1)"
	fi
	return 0
}


# ---- the listening socket's queue and the port's connections -------------

# listen_queue PORT: "QUEUED [BACKLOG]" of the socket listening on PORT:
# how many connections wait for accept(), and the backlog listen() set.
# From ss (Linux: Recv-Q and Send-Q of a listening socket); without it
# from /proc/net/tcp and tcp6, whose rx_queue is the queue but which do
# not show the backlog; nothing where neither is there.
listen_queue() {
	local hex out rx
	if command -v ss >/dev/null 2>&1; then
		out=$(ss -Hltn "sport = :$1" 2>/dev/null | awk 'NR == 1 { print $2, $3 }')
		[[ -n $out ]] && { echo "$out"; return 0; }
	fi
	hex=$(printf '%04X' "$1")
	rx=$(awk -v port="$hex" 'FNR > 1 && $4 == "0A" { n = split($2, a, ":"); if (a[n] == port) {
			split($5, q, ":"); print q[2]; exit } }' /proc/net/tcp /proc/net/tcp6 2>/dev/null)
	[[ -n $rx ]] && echo "$((16#$rx))"
	return 0
}

# port_connections PORT: how many connections of local port PORT are
# ESTABLISHED (01) or CLOSE_WAIT (08) in /proc/net/tcp and tcp6: clients
# the server has not finished with (0 where /proc is missing).
port_connections() {
	local hex
	hex=$(printf '%04X' "$1")
	awk -v port="$hex" 'FNR > 1 && ($4 == "01" || $4 == "08") { n = split($2, a, ":"); if (a[n] == port) c++ }
		END { print c + 0 }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# wait_clients_done SECONDS: before the server is stopped, give it up to
# SECONDS (scaled) to finish with its clients: none left waiting in the
# listen queue, none of its port's connections established or half-closed,
# none held open by its processes.  A threaded server under valgrind may
# still be accepting the last of them.  True if they are done.
wait_clients_done() {
	local i tries q
	[[ -r /proc/net/tcp ]] || { sleep 1; return 0; }
	tries=$(awk -v s="$(scaled "$1")" 'BEGIN { print int(s * 20) }')
	for ((i = 0; i < tries; i++)); do
		q=$(listen_queue "$PORT")
		if [[ ${q%% *} == 0 || -z $q ]] && (($(port_connections "$PORT") == 0)) &&
			(($(open_connections) == 0)); then
			return 0
		fi
		sleep 0.05
	done
	return 1
}

# vm_size PID: PID's address space in KiB (VmSize in /proc/PID/status);
# nothing where /proc is missing.
vm_size() {
	[[ -n ${1:-} ]] || return 0
	sed -n 's/^VmSize:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$1/status" 2>/dev/null
}
