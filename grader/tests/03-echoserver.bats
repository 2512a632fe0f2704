#!/usr/bin/env bats
# Lab 03, echoserver: a TCP echo server.  Each test starts the student's
# server on a free loopback port (-p PORT) and talks to it through the
# grader's TCP client (grader/peers/tcpclient.c), which sends while it
# reads and checks every byte of the echo; binary data comes from a random
# seed per run, so no answer can be hard-coded.  The tests check the
# SPEC's contract only: any concurrency model (processes, threads, poll),
# any listen() backlog and any wording of log lines will do.  100 points.
# shellcheck disable=SC2153,SC2154 # PORT, HOST, SERVER_PID, status, verdict: from the helpers

bats_require_minimum_version 1.5.0
load ../lib/helpers
load ../lib/lab03

teardown() { lab03_teardown; }

# shellcheck disable=SC2034 # read by bats
BATS_TEST_TIMEOUT=$(awk -v k="${TIMEOUT_SCALE:-1}" 'BEGIN { print int(90 * k) }')

LECTURE='Hello, how are you?\r\n' # what the lecture typed into telnet

# expect_ready_line [--now] ADDR...: the server's stdout holds the line
# "Server is ready on ADDR" (one of the ADDRs given), within a second (or
# now, with --now: launch_echoserver has waited already).
expect_ready_line() {
	local i want tries=20
	[[ $1 == --now ]] && tries=1 && shift
	for ((i = 0; i < tries; i++)); do
		for want in "$@"; do
			sed -e 's/[[:space:]]*$//' "$EVID/server.stdout" |
				grep -qxF "Server is ready on $want" && return 0
		done
		server_alive || break
		sleep "$(scaled 0.05)"
	done
	local why="the ready line is missing or different"
	if ! server_alive; then
		why="the server exited ($(cat "$EVID/server.status" 2>/dev/null)) without its ready line"
	elif [[ ! -s $EVID/server.stdout ]]; then
		why="nothing on stdout: into a file or a pipe, stdout is block-buffered, and printf's line waits in the buffer until fflush(stdout)"
	fi
	fail FAIL "$why" "command:  $(cat "$EVID/server.command")" \
		"expected on stdout: Server is ready on $1" \
		"got on stdout:" "$(show "$EVID/server.stdout")" \
		"on stderr:" "$(show "$EVID/server.stderr")"
}

# text_messages COUNT SIZE SEED FILE: COUNT lines of SIZE bytes each
# (readable text from SEED, ending in \r\n) into FILE.
text_messages() {
	local count="$1" size="$2" seed="$3" file="$4" k head
	: >"$file"
	for ((k = 1; k <= count; k++)); do
		head="message $k of $count: "
		{
			printf '%s' "$head"
			"$SL_PEERS/datagen" "$((seed + k))" "$size" | od -An -tx1 -v |
				tr -d ' \n' | head -c "$((size - ${#head} - 2))"
			printf '\r\n'
		} >>"$file"
	done
}

@test "[5] prints its usage for -h and exits 2 on bad usage" {
	hint "handout, the program's contract: -h prints the usage (exit 0); a bad option, a bad port or an extra argument exits 2 (the starter's main() does this)"
	local port args why
	port=$(free_port)
	run_client 2 "$SL_BIN" -h
	expect_exit 0
	if [[ ! -s $EVID/stdout && ! -s $EVID/stderr ]]; then
		fail FAIL "'echoserver -h' printed nothing: it should print how to run the program (its usage), and exit 0" \
			"command: $(cat "$EVID/command")"
		return 1
	fi
	for args in "-p $port -x" "-p $port extra-argument" "-p 99999" "-p abc"; do
		case $args in
		*-x) why="an unknown option" ;;
		*extra*) why="an argument it does not take" ;;
		*99999) why="a port above 65535" ;;
		*) why="a port that is not a number" ;;
		esac
		# shellcheck disable=SC2086 # the words of ARGS
		run_client 1 "$SL_BIN" $args
		if [[ $verdict == timeout ]]; then
			fail FAIL "'echoserver $args' ($why) should exit 2, for bad usage; it ran on instead (stopped after $SL_CLIENT_LIMIT s)" \
				"(a server must check its options before it listens: only 0 to 65535 are ports)" \
				"stdout:" "$(show "$EVID/stdout")" "stderr:" "$(show "$EVID/stderr")"
			return 1
		fi
		expect_finished || return 1
		if ((status != 2)); then
			fail FAIL "'echoserver $args' ($why) should exit 2, for bad usage; it exited $status" \
				"stdout:" "$(show "$EVID/stdout")" "stderr:" "$(show "$EVID/stderr")"
			return 1
		fi
	done
}

@test "[5] prints its ready line, flushed, once it listens" {
	hint "handout step 2: printf \"Server is ready on %s\\n\" after listen(), then fflush(stdout) (before any fork)"
	local n
	launch_echoserver 10
	expect_ready_line --now "127.0.0.1:$PORT"
	if ! "$SL_PEERS/porttool" wait 127.0.0.1 "$PORT" "$(ms 1)" "$SERVER_PID"; then
		fail FAIL "the server printed its ready line, but 127.0.0.1:$PORT does not accept connections" \
			"$(server_state); its stderr:" "$(server_said 12)"
		return 1
	fi
	# Three clients come and go (their echo is other tests' business):
	# each sends the lecture's line and closes without waiting.
	talk 1 -c 3 -x 21 -m "$LECTURE"
	wait_quiet 1
	n=$(grep -c "Server is ready" "$EVID/server.stdout" || true)
	if ((n != 1)); then
		fail FAIL "after 3 clients the ready line is on stdout $n times, not once" \
			"(a child process that exit()s flushes its copy of whatever stdout still buffered when it was forked)" \
			"got on stdout:" "$(show "$EVID/server.stdout")"
		return 1
	fi
}

@test "[5] echoes the lecture's 'Hello, how are you?'" {
	hint "handout step 4: recv() what the client sent and send_all() exactly those n bytes back"
	start_echoserver 10
	talk 1 -e -m "$LECTURE"
	expect_echo --basic "'Hello, how are you?\\r\\n' (21 bytes), as the lecture's telnet did" \
		"the same 21 bytes back"
}

@test "[10] echoes several messages on one connection, each over 1 KiB" {
	hint "handout step 4: one recv() returns one piece of the stream, not the whole conversation: call it again and again until it returns 0"
	local seed talk_args
	seed=$(random_number 1 2000000000)
	text_messages 3 1500 "$seed" "$EVID/sent.txt"
	talk_args=(-e -f "$EVID/sent.txt" -b 1500 -d "$(ms 0.2)" -o "$EVID/received.txt")
	start_echoserver 10
	talk 2 "${talk_args[@]}"
	expect_echo --basic "3 messages of 1500 bytes on one connection, 0.2 s apart (sent.txt):
$(show "$EVID/sent.txt" 200)" \
		"each message back, whole; the connection stays open until the client closes it" \
		"received (received.txt):" "$(show "$EVID/received.txt" 200)"
}

@test "[10] closes the connection once the client has sent everything" {
	hint "handout step 4: when recv() returns 0 the client is done: stop and close() the connection (with fork, the parent closes its copy too)"
	start_echoserver 10
	talk 1 -e -H -m "${LECTURE}Fine, thanks.\\r\\n"
	expect_echo "'Hello, how are you?\\r\\nFine, thanks.\\r\\n', then shutdown(SHUT_WR): the client's end of stream" \
		"every byte back, then the server closes the connection (the client's recv() returns 0)"
}

@test "[10] echoes 4 MiB of binary data unchanged" {
	hint "handout step 4: send back exactly the n bytes recv() returned (not strlen(buf): the data holds zero bytes), all of them (send_all)"
	local seed diff
	seed=$(random_number 1 2000000000)
	start_echoserver 15
	talk 3 -e -n 4194304 -s "$seed" -o "$EVID/received.bin"
	((TALK_STATUS == 0)) || diff=$(binary_difference "$seed" 4194304 "$EVID/received.bin")
	expect_echo --basic "4194304 bytes of binary data (seed $seed), sending and reading at the same time" \
		"the same 4194304 bytes back, in order" ${diff:+"$diff"}
}

@test "[5] listens on IPv6 with -a ::1" {
	hint "handout step 1: getaddrinfo() with AF_UNSPEC and AI_PASSIVE, then socket() with the ai_family it returns"
	need_ipv6
	start_echoserver --host ::1 10
	talk 1 -e -m "$LECTURE"
	expect_echo "'Hello, how are you?\\r\\n' to [::1]:$PORT" "the same 21 bytes back"
	expect_ready_line "[::1]:$PORT" "::1:$PORT"
}

@test "[5] listens only on the address -a names" {
	hint "handout step 1: pass the -a address to getaddrinfo(); with NULL (and AI_PASSIVE) it gives the wildcard address, 0.0.0.0 or ::, and the server listens on every address of the machine, open to the whole network"
	local others=() other
	start_echoserver --host 127.0.0.1 --with-a 10
	talk 1 -e -m "$LECTURE"
	expect_echo "'Hello, how are you?\\r\\n' to 127.0.0.1:$PORT (the server started with -a 127.0.0.1)" \
		"the same 21 bytes back"
	# Other addresses of this machine, where nobody may connect.  On Linux
	# all of 127/8 is the loopback; macOS has 127.0.0.2 only as an alias
	# (then ::1 alone is tried, which catches a server on ::).
	"$SL_PEERS/porttool" free 127.0.0.2 >/dev/null 2>&1 && others+=(127.0.0.2)
	"$SL_PEERS/porttool" free ::1 >/dev/null 2>&1 && others+=(::1)
	((${#others[@]})) ||
		skip "this machine has neither 127.0.0.2 nor ::1, so this test cannot run here (0 points)"
	for other in "${others[@]}"; do
		can_connect "$other" || continue
		# Is it this server that answered?  (Another program could hold
		# that port on that address.)  Stopped, it answers no more.
		stop_process "$SERVER_PID"
		can_connect "$other" && continue
		fail FAIL "started with -a 127.0.0.1, the server also accepted a connection on $other port $PORT: it listens on every address of this machine, not only on the one -a names" \
			"expected: connection refused on $other:$PORT (a server on 127.0.0.1 is for this machine's own clients only)" \
			"command:  $(cat "$EVID/server.command")" \
			"its stdout:" "$(show "$EVID/server.stdout")"
		return 1
	done
}

@test "[10] an idle client does not hold up others" {
	hint "handout step 5: serve each client in a process (fork) or thread of its own, so that accept() runs again at once"
	start_echoserver 10
	# The idle client stays connected while 4 others come and go: a
	# SIGCHLD handler that blocks in waitpid() until every child has ended
	# waits for the idle client's child, and accepts nobody meanwhile.
	talk 1 -e -I 1 -P -k 4 -m "$LECTURE"
	local stuck=""
	if ((TALK_STATUS != 0)) && grep -q '^conn 1: .*echo ok$' "$TALK"; then
		stuck="the first client after the idle one got its echo, a later one did not: is the server stuck in its SIGCHLD handler? waitpid(-1, NULL, 0) waits until a child ends, the idle client's too; with WNOHANG it returns at once (handout step 5)"
	fi
	expect_echo "a first client connects and sends nothing, and stays connected while 4 more, one after another, each send 'Hello, how are you?\\r\\n'" \
		"each of the 4 gets its echo within $(scaled 1) s while the first sits idle (conn 0, the idle one, is listed last)" \
		${stuck:+"$stuck"}
}

@test "[10] serves 50 clients at once, each its own data, then leaves no zombie or process" {
	hint "handout step 5: serve each client in a process (fork) or thread of its own, with its own buffer"
	local seed
	seed=$(random_number 1 2000000000)
	start_echoserver 15
	talk 3 -e -q -c 50 -n 20000 -b 2000 -d "$(ms 0.05)" -s "$seed"
	expect_echo "50 clients at once, each 20000 bytes of its own (seeds $seed to $((seed + 49))), in pieces of 2000 bytes 0.05 s apart" \
		"every client its own bytes back, all within $(scaled 3) s of their connecting"
	hint "handout step 5: each child exit()s when its client is done, and on_sigchld() reaps every child that has ended: waitpid(-1, NULL, WNOHANG) in a loop"
	expect_cleaned_up "the 50 clients"
}

@test "[5] survives clients that reset or close without reading" {
	hint "handout steps 3 to 5: ECONNRESET or EPIPE ends that one client (warn and stop), SIGPIPE stays ignored, and no accept() error ends the server"
	start_echoserver 15
	talk 2 -c 5 -n 1000000 -r 100000
	# Half the bytes, a pause (their echo is read), the other half, close:
	# the server is still sending when the client has gone (EPIPE).
	talk 2 -c 10 -n 1000000 -x 100000 -b 50000 -d "$(ms 0.1)"
	talk 1 -e -m "Still there?\\r\\n"
	expect_echo "5 clients reset their connection (RST) mid-echo; 10 sent 100000 bytes and closed without reading all of the echo; then a new client sent 'Still there?\\r\\n'" \
		"the new client gets its echo"
	expect_server_alive "clients that vanished"
}

@test "[5] reports a port already in use (exit 1), without a ready line" {
	hint "handout step 1: when bind() fails, warn(\"bind %s:\", where) (strerror says why) and return -1 so main() exits 1; step 2: no ready line before listen()"
	local port
	hold_port
	port=$HELD_PORT
	run_client 2 "$SL_BIN" -p "$port"
	expect_exit 1
	if ! grep -qi "in use" "$EVID/stderr"; then
		fail FAIL "another program listens on 127.0.0.1:$port: stderr should say why the server cannot (strerror: Address already in use)" \
			"expected on stderr: echoserver: bind 127.0.0.1:$port: Address already in use" \
			"got on stderr:" "$(show "$EVID/stderr")"
		return 1
	fi
	if grep -q "Server is ready" "$EVID/stdout"; then
		fail FAIL "the server printed its ready line, yet it never listened (bind failed): print it only after listen()" \
			"got on stdout:" "$(show "$EVID/stdout")" "stderr:" "$(show "$EVID/stderr")"
		return 1
	fi
}

@test "[5] restarts at once on the same port (SO_REUSEADDR)" {
	hint "handout step 1: setsockopt(SO_REUSEADDR) on the listening socket, before bind()"
	start_echoserver 15
	local first=$SERVER_PID client i
	# A client in mid-session: 7 bytes a second, each echoed at once.
	background 15 client "$SL_PEERS/tcpclient" -e -m "$LECTURE" -b 7 -d 1000 \
		-t "$(ms 10)" -L "$EVID/client.log" "$HOST" "$PORT"
	client=$BG_PID
	for ((i = 0; i < 20; i++)); do
		grep -q 'received' "$EVID/client.log" 2>/dev/null && break
		sleep "$(scaled 0.05)"
	done
	if ! grep -q 'received' "$EVID/client.log" 2>/dev/null; then
		local note
		note=$(echo_first)
		fail FAIL ${note:+"$note"} "a client sent 'Hello, ' and got no echo within $(scaled 1) s" \
			"$(server_state); its stderr:" "$(server_said 12)"
		return 1
	fi
	# Stopped with that connection open, the server closes it first: the
	# old connection waits in TIME_WAIT on the server's port.
	stop_process "$first"
	wait "$client" 2>/dev/null || true
	mv "$EVID/server.stderr" "$EVID/server.first.stderr"
	if ! start_server 10 "$PORT" -- "$SL_BIN" -p "$PORT"; then
		local said
		said=$(cat "$EVID/message")
		rm -f "$EVID/message"
		fail FAIL "the server was stopped while a client was connected, then started again at once on port $PORT: it could not listen there" \
			"(without SO_REUSEADDR, bind() refuses a port while its old connections sit in TIME_WAIT, for a minute)" \
			"$said"
		return 1
	fi
	talk 1 -e -m "Hello again\\r\\n"
	expect_echo "'Hello again\\r\\n' to the restarted server" "the same bytes back"
}

@test "[5] serves 500 connections in turn with 64 descriptors" {
	hint "handout step 5: the parent close()s its copy of every connection"
	local seed
	seed=$(random_number 1 2000000000)
	start_echoserver --nofile 64 20
	talk 1 --total 10 -e -q -k 500 -n 100 -s "$seed"
	expect_echo "500 connections one after another, 100 bytes each (seeds $seed and up), to a server limited to 64 open descriptors" \
		"every echo: a server that closes each connection when done needs only a few descriptors"
	talk 1 -e -m "One more\\r\\n"
	expect_echo "'One more\\r\\n' after the 500 connections" "its echo"
}

@test "[5] runs clean under valgrind: no memory errors, leaks, open descriptors or SIGPIPE" {
	hint "handout steps 1-5: freeaddrinfo(), close() every connection, and keep SIGPIPE ignored (main() does) so that no process dies of it"
	need_valgrind
	local seed log dead
	seed=$(random_number 1 2000000000)
	start_echoserver --valgrind 40
	talk 4 -e -m "$LECTURE"
	expect_echo "'Hello, how are you?\\r\\n' to the server under valgrind" "the same bytes back"
	talk 4 -e -n 300000 -s "$seed"
	expect_echo "300000 bytes of binary data (seed $seed) to the server under valgrind" "the same bytes back"
	talk 4 -c 3 -n 1000000 -x 100000
	talk 4 -c 2 -n 1000000 -r 100000
	wait_quiet 6
	stop_process "$SERVER_PID"
	for log in "$EVID"/valgrind*.log; do
		dead=$(sed -n 's/.*Process terminating with default action of signal [0-9]* (\(SIG[A-Z]*\)).*/\1/p' "$log" |
			grep -v -e SIGTERM -e SIGKILL | head -1)
		if [[ -n $dead ]]; then
			fail CRASH "a process of the server was killed by $dead ($(basename "$log"))" \
				"sent:     3 clients sent 100000 bytes each and closed without reading the echo (the server's next send() hits a closed connection); 2 reset theirs" \
				"expected: every process of the server lives on$([[ $dead == SIGPIPE ]] && echo " (with SIGPIPE ignored, send() fails with EPIPE instead)")" \
				"valgrind said:" "$(grep -A8 'Process terminating' "$log" | sed -e 's/^==[0-9]*== /  /' | head -10)"
			return 1
		fi
	done
	expect_valgrind_clean --fds
}
