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

# ms SECONDS [FACTOR]: SECONDS stretched like every limit, in whole ms.
ms() {
	awk -v t="$(scaled "$1" "${2:-1}")" 'BEGIN { printf "%d\n", t * 1000 }'
}

# new_seed: a random seed for this run's data (tcpclient -s, datagen).
new_seed() {
	echo $(($(od -An -N4 -tu4 /dev/urandom | tr -d ' ') % 2000000000 + 1))
}

# start_echoserver [--valgrind] [--nofile N] [--host HOST] SECONDS:
# start the program under test for at most SECONDS on a free port of HOST
# (default 127.0.0.1, given as -a HOST unless it is that default) and
# wait until it accepts.  Sets PORT (and HOST).  Tries a second port if
# another program took the first one meanwhile ("in use" on stderr).
start_echoserver() {
	local opts=() args try
	HOST=127.0.0.1
	while [[ $1 == --* ]]; do
		case $1 in
		--valgrind) opts+=(--valgrind); shift ;;
		--nofile) opts+=(--nofile "$2"); shift 2 ;;
		--host) HOST="$2"; shift 2 ;;
		*) echo "start_echoserver: unknown option $1" >&2; return 2 ;;
		esac
	done
	for try in 1 2; do
		PORT=$(free_port "$HOST")
		args=(-p "$PORT")
		[[ $HOST == 127.0.0.1 ]] || args=(-a "$HOST" -p "$PORT")
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
	tries=$(awk -v s="$(scaled 3)" 'BEGIN { print int(s * 20) }')
	for try in 1 2; do
		PORT=$(free_port)
		printf '%s\n' "$SL_BIN -p $PORT" >"$EVID/server.command"
		"$SL_PEERS/contain" -t "$(scaled "$1")" -F "$SL_SERVER_MIB" \
			-s "$EVID/server.status" -- "$SL_BIN" -p "$PORT" \
			</dev/null >"$EVID/server.stdout" 2>"$EVID/server.stderr" 3>&- 4>&- &
		SERVER_PID=$!
		SL_SERVERS+=("$SERVER_PID")
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

# background SECONDS NAME PROGRAM [ARGS...]: run a grader's program in
# the background for at most SECONDS (scaled), its output to $EVID/NAME.out;
# teardown stops it.  Sets BG_PID.
background() {
	local limit="$1" name="$2"
	shift 2
	"$SL_PEERS/contain" -t "$(scaled "$limit")" -- "$@" \
		</dev/null >"$EVID/$name.out" 2>&1 3>&- 4>&- &
	BG_PID=$!
	SL_SERVERS+=("$BG_PID")
}

# hold_port: have another program listen on a free port of 127.0.0.1
# (porttool taken), for a test of the "port in use" error.  Sets HELD_PORT.
hold_port() {
	local i
	for _ in 1 2; do
		HELD_PORT=$(free_port)
		background 20 porttool "$SL_PEERS/porttool" taken 127.0.0.1 "$HELD_PORT"
		for ((i = 0; i < 40; i++)); do
			grep -q ready "$EVID/porttool.out" && return 0
			kill -0 "$BG_PID" 2>/dev/null || break
			sleep 0.05
		done
	done
	fail FAIL "the grader could not hold a port for this test; porttool said:" \
		"$(show "$EVID/porttool.out")" \
		"(this is the grader's problem, not your program's: tell your instructor)"
}

# shell_words WORD...: the WORDs as a shell would need them typed, each
# after a space ('quoted' where needed), for "to try it by hand" lines.
shell_words() {
	local w
	for w in "$@"; do
		if [[ $w =~ ^[A-Za-z0-9_./:=+-]+$ ]]; then
			printf ' %s' "$w"
		else
			printf " '%s'" "${w//\'/\'\\\'\'}"
		fi
	done
}

# talk SECONDS [--total SECONDS] TCPCLIENT-OPTIONS...: run the grader's
# TCP client against HOST:PORT, each round limited to SECONDS (scaled),
# the whole run to --total SECONDS (default: SECONDS + 3).  Its report
# goes to $EVID/talk-N.out (N counting up), its event log to talk-N.log;
# sets TALK (the report's path) and TALK_STATUS (0: every connection ok).
talk() {
	local round="$1" total name
	shift
	total=$(awk -v r="$round" 'BEGIN { print r + 3 }')
	if [[ $1 == --total ]]; then
		total="$2"
		shift 2
	fi
	SL_TALK_N=$((${SL_TALK_N:-0} + 1))
	name="talk-$SL_TALK_N"
	TALK="$EVID/$name.out"
	TALK_CMD="build/peers/tcpclient -t $(ms "$round")$(shell_words "$@") $HOST $PORT"
	printf '%s\n' "$TALK_CMD" >"$EVID/$name.command"
	TALK_STATUS=0
	"$SL_PEERS/contain" -t "$(scaled "$total")" -s "$EVID/$name.status" -- \
		"$SL_PEERS/tcpclient" -t "$(ms "$round")" -l 300 -L "$EVID/$name.log" \
		"$@" "$HOST" "$PORT" </dev/null >"$TALK" 2>"$EVID/$name.err" 3>&- 4>&- ||
		TALK_STATUS=$?
}

# talk_report [MAX]: the client's report, indented: its failed
# connections first, at most MAX (default 8) lines of them, then its total.
talk_report() {
	local max="${1:-8}" all err="${TALK%.out}.err"
	all=$(grep -c '^conn ' "$TALK" 2>/dev/null || true)
	{
		grep '^conn ' "$TALK" | grep -v -E '; (echo |idle )?ok$' || true
		grep '^conn ' "$TALK" | grep -E '; (echo |idle )?ok$' || true
	} | head -n "$max" | sed -e 's/^/  /'
	((all > max)) && echo "  ... ($all connections in all)"
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

# server_said [LINES]: the last LINES (default 12) lines of the server's
# stderr, for a failure message.
server_said() {
	local n="${1:-12}" total
	if [[ ! -s $EVID/server.stderr ]]; then
		echo "  (nothing)"
		return
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
	elif grep -qE 'before the deadline|did not close|timeout after' "$TALK" ||
		[[ $(cat "${TALK%.out}.status" 2>/dev/null) == timeout ]]; then
		echo TIME
	else
		echo FAIL
	fi
}

# expect_echo SENT EXPECTED [LINE...]: the last talk ended well (every
# connection ok); if not, fail saying what was SENT, what was EXPECTED,
# the client's report, extra LINEs, and the server's state and stderr.
expect_echo() {
	local sent="$1" expected="$2"
	shift 2
	[[ $TALK_STATUS -eq 0 ]] && return 0
	local where="-p $PORT"
	[[ $HOST == 127.0.0.1 ]] || where="-a $HOST -p $PORT"
	fail "$(talk_verdict)" "sent:     $sent" "expected: $expected" \
		"got (the grader's client, one line a connection):" "$(talk_report 8)" \
		"$@" "$(server_state); its stderr:" "$(server_said 12)" \
		"to try it by hand, start your server with $where, then run:" \
		"  $TALK_CMD"
}

# expect_server_alive WHAT: the server is still running after WHAT.
expect_server_alive() {
	server_alive && return 0
	fail "$(talk_verdict)" "the server died after $1" "$(server_state); its stderr:" \
		"$(server_said 12)"
}

# show_bytes_at FILE OFFSET: a hexdump of FILE's 48 bytes around OFFSET.
show_bytes_at() {
	local from=$(($2 / 16 * 16 - 16))
	((from < 0)) && from=0
	if (($(wc -c <"$1") <= from)); then
		echo "  (nothing: it ends before)"
		return 0
	fi
	od -Ax -tx1z -v -j "$from" -N 48 "$1" | sed -e 's/^/  /'
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
	show_bytes_at "$EVID/expected.bin" "$at"
	echo "received, around byte $at:"
	show_bytes_at "$got" "$at"
}

# ---- the server's processes and connections ------------------------------

# server_main_pid: the PID of the program under test (contain's child).
server_main_pid() {
	ps -A -o pid=,ppid=,pgid= |
		awk -v p="$SERVER_PID" '$2 == p && $1 == $3 { print $1; exit }'
}

# server_pids: every live process of the server (it and its children;
# zombies left out), one PID a line.
server_pids() {
	local main
	main=$(server_main_pid)
	[[ -n $main ]] || return 0
	ps -A -o pid=,pgid=,stat= | awk -v g="$main" '$2 == g && $3 !~ /^Z/ { print $1 }'
}

# zombies_of PID: how many children of PID are zombies.
zombies_of() {
	ps -A -o ppid=,stat= | awk -v p="$1" '$1 == p && $2 ~ /^Z/ { n++ } END { print n + 0 }'
}

# open_connections: how many TCP connections (not listening sockets) the
# server's processes hold, on Linux (elsewhere: 0).
open_connections() {
	local pid fd link inodes=()
	[[ -r /proc/net/tcp ]] || { echo 0; return; }
	for pid in $(server_pids); do
		for fd in /proc/"$pid"/fd/*; do
			link=$(readlink "$fd" 2>/dev/null) || continue
			[[ $link == socket:\[*\] ]] && inodes+=("${link//[!0-9]/}")
		done
	done
	((${#inodes[@]})) || { echo 0; return; }
	# /proc/net/tcp: field 4 is the state (0A: listening), 10 the inode
	awk -v list="${inodes[*]}" 'BEGIN { n = split(list, a, " "); for (i = 1; i <= n; i++) want[a[i]] = 1 }
		FNR > 1 && ($10 in want) && $4 != "0A" { c++ } END { print c + 0 }' \
		/proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# wait_quiet SECONDS: give the server up to SECONDS (scaled) to finish
# with its clients: no process left but the main one, no connection open.
# (Where /proc is missing, just wait a second.)
wait_quiet() {
	local i tries
	if [[ ! -r /proc/net/tcp ]]; then
		sleep 1
		return 0
	fi
	tries=$(awk -v s="$(scaled "$1")" 'BEGIN { print int(s * 20) }')
	for ((i = 0; i < tries; i++)); do
		if (($(server_pids | wc -l) <= 1)) && (($(open_connections) == 0)); then
			return 0
		fi
		sleep 0.05
	done
	return 0
}
