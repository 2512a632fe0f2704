#!/usr/bin/env bats
# Lab 03, echoserver: a TCP echo server.  Each test starts the student's
# server on a free loopback port (-p PORT) and talks to it through the
# grader's TCP client (grader/peers/tcpclient.c), which sends while it
# reads and checks every byte of the echo; binary data comes from a random
# seed per run, so no answer can be hard-coded.  The tests check the
# SPEC's contract and the handout's rules only: any concurrency model
# (processes, threads, poll), any listen() backlog of 20 or more and any
# wording of log lines will do.  grader/rules/03-echoserver.md says which
# test grades which rule.  100 points.
# shellcheck disable=SC2153,SC2154 # PORT, HOST, SERVER_PID, status, verdict: from the helpers
# shellcheck disable=SC2030,SC2031,SC2034 # PORT, HOST, TALK_CMD, SERVER_ARGS: set for the helpers, in each test

bats_require_minimum_version 1.5.0
load ../lib/helpers
load ../lib/lab03

teardown() { lab03_teardown; }
# The sanitizer build of the server compiles while the other tests run.
setup_file() {
	sl_fast_traps
	sanitizer_build_start
}

sl_test_timeout 40

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
	fail_no_ready_line "Server is ready on $1"
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

@test "[3] prints its usage for -h and exits 2 on bad usage" {
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
	# Each case: the arguments (tab between words), then why they are bad.
	local cases=("-p	$port	-x|an unknown option" "-p	$port	extra-argument|an argument it does not take"
		"-p	99999|a port above 65535" "-p	abc|a port that is not a number"
		"-p	80abc|a port with letters after its digits (atoi() and strtol() stop there without a word)"
		"-p	1e3|a port with a letter in it (strtol() stops at the e)"
		"-p	9 |a port with a space after it" "-p	 9|a port with a space before it (strtol() skips it)"
		"-p	65535x|a port with a letter after its digits")
	local one words=()
	for one in "${cases[@]}"; do
		why=${one#*|}
		IFS=$'\t' read -r -a words <<<"${one%%|*}"
		args=$(shell_words "${words[@]}")
		args=${args# }
		run_client 1 "$SL_BIN" "${words[@]}"
		if [[ $verdict == timeout ]]; then
			fail FAIL "'echoserver $args' ($why) should exit 2, for bad usage; it ran on instead (stopped after $SL_CLIENT_LIMIT s)" \
				"(a server must check its options before it listens: a port is decimal digits only, nothing before or after them, 0 to 65535)" \
				"stdout:" "$(show "$EVID/stdout")" "stderr:" "$(show "$EVID/stderr")"
			[[ $args == *" 9"* || $args == *9\ * || $args == *[0-9][a-z]* ]] &&
				cause "a port with something before or after its digits was taken: check that strtol() used every character (*end == '\\0') and that the first is a digit (step 1's parse_port)"
			return 1
		fi
		expect_finished || return 1
		if ((status != 2)); then
			[[ $args == *[0-9][a-z]* || $args == *"9 "* || $args == *" 9"* ]] &&
				cause "a port with something before or after its digits was not taken for bad usage: check that strtol() used every character (*end == '\\0') and that the first is a digit; a bad port exits 2 (step 1's parse_port)"
			fail FAIL "'echoserver $args' ($why) should exit 2, for bad usage; it exited $status" \
				"stdout:" "$(show "$EVID/stdout")" "stderr:" "$(show "$EVID/stderr")"
			return 1
		fi
	done
}

@test "[2] reports a name that does not resolve: exit 1, 'echoserver: ...' on stderr" {
	hint "handout step 1 and SPEC §3: when getaddrinfo() fails, warn() with gai_strerror() (a line 'echoserver: ...' on stderr) and exit 1"
	local port
	port=$(free_port)
	run_client 5 "$SL_BIN" -a nosuch.invalid -p "$port"
	if [[ $verdict == timeout ]]; then
		grep -q "Server is ready" "$EVID/stdout" ||
			skip "looking up nosuch.invalid took longer than $SL_CLIENT_LIMIT s on this machine (its resolver waits for the network), so this test cannot judge (0 points)"
	fi
	expect_exit 1 || return 1
	if ! grep -q '^echoserver: ..' "$EVID/stderr"; then
		cause "the error of getaddrinfo() is not reported as 'echoserver: ...': warn() prefixes the program's name; print it with warn(\"address %s port %s: %s\", ..., gai_strerror(err)) (step 1)"
		fail FAIL "'echoserver -a nosuch.invalid -p $port': the name does not resolve, so the server exits 1 (good), but stderr has no line 'echoserver: ...' saying why" \
			"expected on stderr: a line that starts with 'echoserver: ' (SPEC §3: every error message; its wording is yours), e.g. echoserver: address nosuch.invalid port $port: Name or service not known" \
			"got on stderr:" "$(show "$EVID/stderr")"
		return 1
	fi
}

@test "[3] prints its ready line, flushed, once it listens" {
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
	# -p 0: the kernel picks a free port, and only the socket knows which.
	stop_process "$SERVER_PID"
	mv "$EVID/server.stdout" "$EVID/server.first.stdout"
	mv "$EVID/server.stderr" "$EVID/server.first.stderr"
	expect_kernel_port 's/.*:\([0-9][0-9]*\)[[:space:]]*$/\1/p' \
		"Server is ready on 127.0.0.1:N" -- "$SL_BIN" -p 0
}

@test "[3] echoes the lecture's 'Hello, how are you?'" {
	hint "handout step 4: recv() what the client sent and send_all() exactly those n bytes back"
	start_echoserver 10
	talk 1 -e -m "$LECTURE"
	expect_echo --basic "'Hello, how are you?\\r\\n' (21 bytes), as the lecture's telnet did" \
		"the same 21 bytes back"
}

@test "[5] echoes several messages on one connection, each over 1 KiB" {
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

@test "[5] closes the connection once the client has sent everything" {
	hint "handout step 4: when recv() returns 0 the client is done: stop and close() the connection (with fork, the parent closes its copy too)"
	start_echoserver 10
	talk 1 -e -H -m "${LECTURE}Fine, thanks.\\r\\n"
	grep -q 'reset-by-server' "$TALK" || closing_cause
	expect_echo "'Hello, how are you?\\r\\nFine, thanks.\\r\\n', then shutdown(SHUT_WR): the client's end of stream" \
		"every byte back, then the server closes the connection (the client's recv() returns 0)"
}

@test "[5] echoes 4 MiB of binary data unchanged" {
	hint "handout step 4: send back exactly the n bytes recv() returned (not strlen(buf): the data holds zero bytes), all of them (send_all)"
	local seed diff
	seed=$(random_number 1 2000000000)
	start_echoserver 15
	talk 2 -e -n 4194304 -s "$seed" -o "$EVID/received.bin"
	local slow=""
	if ((TALK_STATUS != 0)); then
		diff=$(binary_difference "$seed" 4194304 "$EVID/received.bin")
		slow=$(slow_echo 4194304 "$EVID/received.bin")
	fi
	expect_echo --basic "4194304 bytes of binary data (seed $seed), sending and reading at the same time" \
		"the same 4194304 bytes back, in order" ${diff:+"$diff"} ${slow:+"$slow"}
}

@test "[3] listens on IPv6 with -a ::1" {
	hint "handout step 1: getaddrinfo() with AF_UNSPEC and AI_PASSIVE, then socket() with the ai_family it returns"
	need_ipv6
	start_echoserver --host ::1 10
	talk 1 -e -m "$LECTURE"
	expect_echo "'Hello, how are you?\\r\\n' to [::1]:$PORT" "the same 21 bytes back"
	if grep -q "Server is ready on ::1:$PORT" "$EVID/server.stdout"; then
		cause "an IPv6 address on the ready line goes in brackets, [::1]:$PORT, so that its colons cannot be read as the port's (step 2, sockaddr_text)"
	fi
	expect_ready_line "[::1]:$PORT"
}

@test "[3] listens only on the address -a names" {
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

@test "[5] an idle client does not hold up others" {
	hint "handout step 5: serve each client in a process (fork) or thread of its own, so that accept() runs again at once"
	start_echoserver 10
	# The idle client stays connected while 4 others come and go: a
	# SIGCHLD handler that blocks in waitpid() until every child has ended
	# waits for the idle client's child, and accepts nobody meanwhile.
	# Each waits 0.15 s before it sends, so that the child of the one
	# before has surely ended (and its SIGCHLD been handled) before the
	# last is accepted, however loaded the machine.
	talk 1 -e -I 1 -P -k 4 -i "$(ms 0.15)" -m "$LECTURE"
	local stuck=""
	if ((TALK_STATUS != 0)) && grep -q '^conn 1: .*echo ok$' "$TALK"; then
		stuck="the first client after the idle one got its echo, a later one did not: is the server stuck in its SIGCHLD handler? waitpid(-1, NULL, 0) waits until a child ends, the idle client's too; with WNOHANG it returns at once (handout step 5)"
	fi
	expect_echo "a first client connects and sends nothing, and stays connected while 4 more, one after another, each wait 0.15 s, then send 'Hello, how are you?\\r\\n'" \
		"each of the 4 gets its echo within $(scaled 1) s while the first sits idle (conn 0, the idle one, is listed last)" \
		${stuck:+"$stuck"}
}

@test "[5] serves 50 clients at once, each its own data, then leaves no zombie or process" {
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

@test "[3] keeps serving after clients reset or close without reading" {
	hint "handout steps 3 to 5: ECONNRESET or EPIPE ends that one client (warn and stop), and no accept() error ends the server (whether a child process died of SIGPIPE is the valgrind test's business: it sees each process end)"
	start_echoserver 15
	talk 2 -c 5 -n 1000000 -r 100000
	# Half the bytes, a pause (their echo is read), the other half, close:
	# the server is still sending when the client has gone (EPIPE).  (A
	# server that echoed nothing to the first 5 gets no second round.)
	grep -q 'received [1-9]' "$TALK" &&
		talk 2 -c 10 -n 1000000 -x 100000 -b 50000 -d "$(ms 0.1)"
	talk 1 -e -m "Still there?\\r\\n"
	expect_echo "5 clients reset their connection (RST) mid-echo; 10 sent 100000 bytes and closed without reading all of the echo; then a new client sent 'Still there?\\r\\n'" \
		"the new client gets its echo"
	expect_server_alive "clients that vanished"
}

@test "[3] reports a port already in use (exit 1), without a ready line" {
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

@test "[3] restarts at once on the same port (SO_REUSEADDR)" {
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

@test "[3] serves 500 connections in turn with 64 descriptors" {
	hint "handout step 5: the parent close()s its copy of every connection"
	local seed
	seed=$(random_number 1 2000000000)
	local main v0 v1 grown
	start_echoserver --nofile 64 20
	main=$(server_main_pid)
	v0=$(vm_size "$main")
	talk 1 --total 10 -e -q -k 500 -n 100 -s "$seed"
	expect_echo "500 connections one after another, 100 bytes each (seeds $seed and up), to a server limited to 64 open descriptors" \
		"every echo: a server that closes each connection when done needs only a few descriptors" || return 1
	# What each client leaves behind in the server's address space (Linux
	# /proc/PID/status, VmSize): a thread never joined nor detached keeps
	# its stack, 8 MiB, and a ulimit -v of 1 GiB ends the server at ~127.
	v1=$(vm_size "$main")
	if [[ -n $v0 && -n $v1 ]]; then
		grown=$(((v1 - v0) / 1024))
		printf '%s\n' "VmSize of PID $main: $v0 KiB before the 500 connections, $v1 KiB after" >"$EVID/vmsize.txt"
		if ((grown > 100)); then
			cause "every client leaves memory behind in the server ($((grown * 1024 / 500)) KiB each): a thread that is never detached nor joined keeps its stack (pthread_detach(), or a detached attribute), and what is malloc()ed per client must be freed (step 5)"
			fail FAIL "after 500 connections one after another, the server's address space (VmSize, /proc/$main/status) grew from $((v0 / 1024)) MiB to $((v1 / 1024)) MiB: about $((grown * 1024 / 500)) KiB per client that has gone" \
				"expected: no growth with the number of clients served (a few MiB at most): a server that runs for months serves millions" \
				"$(server_tree)"
			return 1
		fi
	fi
	talk 1 -e -m "One more\\r\\n"
	expect_echo "'One more\\r\\n' after the 500 connections" "its echo"
}

@test "[3] runs clean under valgrind: no memory errors, leaks, open descriptors or SIGPIPE" {
	hint "valgrind names the line of each problem in the evidence folder's valgrind.*.log: the memory and descriptors of step 1 (freeaddrinfo) and steps 4 and 5 (close), SIGPIPE ignored in main()"
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
	# Stopped only once its clients are done: none waiting in the listen
	# queue or still connected (a threaded server under valgrind may still
	# be accepting the last of them); what is open after that is leaked.
	wait_quiet 3
	wait_clients_done 1 || true
	stop_process "$SERVER_PID"
	for log in "$EVID"/valgrind*.log; do
		dead=$(sed -n 's/.*Process terminating with default action of signal [0-9]* (\(SIG[A-Z]*\)).*/\1/p' "$log" |
			grep -v -e SIGTERM -e SIGKILL | head -1)
		if [[ -n $dead ]]; then
			[[ $dead == SIGPIPE ]] && cause "a process of the server was killed by SIGPIPE when a client had gone: keep signal(SIGPIPE, SIG_IGN) in main() (or send with MSG_NOSIGNAL)"
			fail CRASH "a process of the server was killed by $dead ($(basename "$log"))" \
				"sent:     3 clients sent 100000 bytes each and closed without reading the echo (the server's next send() hits a closed connection); 2 reset theirs" \
				"expected: every process of the server lives on$([[ $dead == SIGPIPE ]] && echo " (with SIGPIPE ignored, send() fails with EPIPE instead)")" \
				"valgrind said:" "$(grep -A8 'Process terminating' "$log" | sed -e 's/^==[0-9]*== /  /' | head -10)"
			return 1
		fi
	done
	expect_valgrind_clean --fds || { valgrind_cause; return 1; }
}

# ---- what loopback never does, made to happen ---------------------------

@test "[5] echoes 1 MiB when each send() and recv() moves only a few bytes" {
	hint "handout step 4: send() may take fewer bytes than asked; send_all() sends the rest, in a loop, until every byte has gone"
	need_shortio
	local seed diff said story
	seed=$(random_number 1 2000000000)
	start_echoserver --shortio 3000 15
	talk 3 -e -n 1048576 -s "$seed" -o "$EVID/received.bin"
	expect_shortio_loaded
	# Nothing cut short: sends that never asked for more than one byte
	# (the shim moves 1 to MAX, so a call of 1 byte is never cut; a 1-byte
	# buffer makes every recv() and send() one), then the echo alone is
	# judged; or sends by sendmsg() or writev(), which the shim leaves alone.
	if (($(shortio_count send moved) + $(shortio_count write moved) == 0)); then
		((TALK_STATUS == 0)) && (($(shortio_count recv moved) + $(shortio_count read moved) > 0)) &&
			skip "the grader's partial-I/O shim cut none of the server's send() or write() calls short (does it send with sendmsg() or writev()?), so this test cannot judge its send loop (0 points)"
	fi
	((TALK_STATUS == 0)) && return 0
	said=$(shortio_said)
	story=$(shortio_story send)
	[[ -n $story ]] || story=$(shortio_story write | sed 's/send()/write()/g')
	diff=$(binary_difference "$seed" 1048576 "$EVID/received.bin")
	local slow
	slow=$(slow_echo 1048576 "$EVID/received.bin")
	[[ -n $slow ]] && story=$slow
	if grep -q 'first difference' "$TALK" && [[ -n $story ]]; then
		cause "a short send() was taken for the whole buffer: send_all() must loop until all n bytes have gone (step 4)"
	fi
	expect_echo "1048576 bytes of binary data (seed $seed), while the grader's shim made each send() and recv() of the server move 1 to 3000 bytes, as a busy network may" \
		"the same 1048576 bytes back, in order" "$said" ${story:+"$story"} ${diff:+"$diff"} \
		"(the shim's log of each call it changed is shortio.log in the evidence folder)"
}

@test "[4] carries on when recv() and send() fail with EINTR" {
	hint "handout step 4: EINTR means a signal arrived before any byte moved: not an error; call recv() or send() again"
	need_shortio
	local seed said
	seed=$(random_number 1 2000000000)
	start_echoserver --shortio 65536,eintr=5 15
	talk 3 -e -n 300000 -s "$seed" -o "$EVID/received.bin"
	expect_shortio_loaded
	if (($(shortio_count recv EINTR) + $(shortio_count send EINTR) + $(shortio_count read EINTR) + $(shortio_count write EINTR) == 0)); then
		skip "the grader's partial-I/O shim made none of the server's calls fail with EINTR, so this test cannot judge (0 points)"
	fi
	((TALK_STATUS == 0)) && return 0
	said=$(shortio_said)
	if grep -q 'first difference' "$TALK"; then
		# Wrong bytes came back: the loop's arithmetic, not EINTR, comes first.
		cause "the data came back wrong or out of place: the offset in send_all()'s loop must grow by what each send() took (p += n or sent += n; step 4)"
		expect_echo "300000 bytes of binary data (seed $seed), while the grader's shim made each send() or recv() of the server move at most 65536 bytes and every 5th one fail with EINTR" \
			"the same 300000 bytes back, in order" \
			"the echo itself is wrong (not only late): bytes came back that were not sent there, so fix that first; EINTR only means try again" \
			"$said" "$(binary_difference "$seed" 300000 "$EVID/received.bin")" \
			"(the shim's log is shortio.log in the evidence folder)"
		return 1
	fi
	if grep -q 'Interrupted system call' "$EVID/server.stderr"; then
		cause "EINTR was taken for an error and the client dropped ('$(grep -m1 'Interrupted system call' "$EVID/server.stderr")'): when recv() or send() fails with EINTR, call it again (step 4)"
	fi
	expect_echo "300000 bytes of binary data (seed $seed), while the grader's shim made every 5th send() or recv() of the server fail with EINTR (a signal arrived first), as a SIGCHLD may" \
		"the same 300000 bytes back: EINTR means try again" "$said" \
		"(the shim's log is shortio.log in the evidence folder)"
}

@test "[3] does not report EINTR as an error while clients come and go" {
	hint "handout steps 3 and 5: sigaction() with SA_RESTART for SIGCHLD, and an accept() that fails with EINTR returns -1 quietly: a child that ended is no error"
	start_echoserver 15
	talk 1 --total "$(lab03_limit 4 2)" -e -k 10 -m "$LECTURE"
	((TALK_STATUS == 0)) && talk 1 -e -c 10 -m "$LECTURE"
	wait_quiet 1
	local n
	n=$(grep -c 'Interrupted system call' "$EVID/server.stderr" || true)
	((n == 0)) && return 0
	cause "stderr shows '$(grep -m1 'Interrupted system call' "$EVID/server.stderr")': a child's SIGCHLD interrupted a call, and EINTR was reported as an error; SA_RESTART in reap_children() (step 5), and EINTR is no accept() error (step 3)"
	fail FAIL "after 20 clients came and went, one after another and then 10 at once, the server's stderr says 'Interrupted system call' $n times" \
		"expected: no error for EINTR: it only means a signal (here SIGCHLD, a child ending) arrived during the call" \
		"those lines ($((n < 4 ? n : 4)) of $n shown; the whole stderr is server.stderr in the evidence folder):" \
		"$(grep -m4 'Interrupted system call' "$EVID/server.stderr" | sed -e 's/^/  | /')"
}

@test "[3] can be restarted on its port after being killed while a client is connected" {
	hint "handout step 5: the child close()s the listening socket (only the parent accepts): a child that keeps it keeps the port busy after the parent is gone"
	local port main victim i client holders=() inodes said
	port=$(free_port)
	PORT=$port HOST=127.0.0.1 SERVER_ARGS="-p $port"
	# A shell between contain and the server, which stays when the server
	# is killed by a signal: contain would otherwise end every child with
	# it.  (A server that exits by itself ends the shell too.)
	# shellcheck disable=SC2016 # $@ is for that shell
	start_server 20 "$port" -- sh -c '"$@"; st=$?; [ "$st" -gt 128 ] && exec sleep 30; exit "$st"' \
		sh "$SL_BIN" -p "$port" || return 1
	background 20 client "$SL_PEERS/tcpclient" -e -m "$LECTURE" -i "$(ms 8)" -t "$(ms 12)" \
		-L "$EVID/client.log" "$HOST" "$PORT"
	client=$BG_PID
	for ((i = 0; i < 40; i++)); do
		(($(open_connections) > 0)) && break
		sleep "$(scaled 0.05)"
	done
	main=$(server_main_pid)
	victim=$(ps -A -o pid=,ppid= | awk -v p="$main" '$2 == p { print $1; exit }')
	if [[ -z $victim ]]; then
		fail FAIL "the server is gone before the test could kill it" "$(server_state); its stderr:" "$(server_said 8)"
		return 1
	fi
	# SIGKILL: the server has no chance to tidy up, as after a crash
	kill -KILL "$victim" 2>/dev/null
	for ((i = 0; i < 40; i++)); do
		kill -0 "$victim" 2>/dev/null || break
		sleep 0.05
	done
	mapfile -t inodes < <(listening_inodes "$port")
	((${#inodes[@]})) && mapfile -t holders < <(holders_of "${inodes[@]}")
	mv "$EVID/server.stderr" "$EVID/server.first.stderr"
	mv "$EVID/server.stdout" "$EVID/server.first.stdout"
	if ((${#holders[@]})); then
		cause "a child process kept the listening socket: after fork(), the child close()s lfd (step 5)"
		fail FAIL "the server (PID $victim) was killed with a client connected; its port $port still has a listening socket, held by PID ${holders[*]}, a child serving that client" \
			"expected: the port free, so that the server can start again at once" \
			"$(ps -o pid,ppid,stat,args -p "$(IFS=,; echo "${holders[*]}")" 2>/dev/null | sed -e 's/^/  /')" \
			"(new clients now queue on the child's listening socket, and nobody accepts them)"
		return 1
	fi
	if ! start_server 10 "$port" -- "$SL_BIN" -p "$port"; then
		said=$(cat "$EVID/message")
		rm -f "$EVID/message"
		grep -qi 'in use' "$EVID/server.stderr" &&
			cause "a restart on the port of a killed server failed with 'Address already in use' although nothing listens there: SO_REUSEADDR before bind() (step 1)"
		fail FAIL "the server was killed (SIGKILL, PID $victim) while a client was connected, then started again at once on port $port: it could not listen there" \
			"$said"
		return 1
	fi
	talk 1 -e -m "Hello again\\r\\n"
	expect_echo "'Hello again\\r\\n' to the restarted server" "the same bytes back"
	expect_ready_line --now "127.0.0.1:$port"
	kill "$client" 2>/dev/null || true
}

@test "[3] lets 20 clients connect at the same moment (listen backlog)" {
	hint "handout step 1: listen()'s backlog is how many connections the kernel completes and queues while the server is busy; 5 or 1 is tiny: BACKLOG 128 (or SOMAXCONN)"
	local main i n=0 retries backlog
	start_echoserver 20
	wait_quiet 1
	main=$(server_main_pid)
	[[ -n $main ]] || { expect_server_alive "starting"; return 1; }
	# Stopped, the server accepts nobody: the kernel alone completes the
	# handshakes, as many as the backlog has room for.  (A busy server,
	# or a burst of clients, has the same effect for a moment.)
	kill -STOP "$main"
	background 20 burst "$SL_PEERS/tcpclient" -e -q -c 20 -m "$LECTURE" -C "$(ms "$(lab03_limit 4 2)")" \
		-t "$(ms "$(lab03_limit 2 1)")" -L "$EVID/burst.log" "$HOST" "$PORT"
	for ((i = 0; i < 20; i++)); do
		n=$(grep -c 'connected to' "$EVID/burst.log" 2>/dev/null || true)
		((n >= 20)) && break
		sleep "$(scaled 0.05)"
	done
	# the backlog listen() set (Linux: tx_queue of the listening socket)
	backlog=$(listen_queue "$PORT")
	[[ $backlog == *" "* ]] && backlog=${backlog#* } || backlog=""
	kill -CONT "$main"
	wait "$BG_PID" 2>/dev/null || true
	TALK="$EVID/burst.out" TALK_STATUS=0
	TALK_CMD="build/peers/tcpclient -e -q -c 20 -m 'Hello, how are you?\\r\\n' $HOST $PORT"
	[[ $(cat "$EVID/burst.status" 2>/dev/null) == "exit 0" ]] || TALK_STATUS=1
	local queued=""
	[[ -n $backlog ]] && queued="the listening socket's backlog is $backlog (ss -ltn): $( ((backlog >= 20)) && echo "room for all 20, so the backlog is not the problem; what went wrong comes after accept()" || echo "too small for 20")"
	expect_echo "20 clients connected at the same moment, each 'Hello, how are you?\\r\\n'" "each its echo" ${queued:+"$queued"}
	((n >= 20)) && return 0
	if [[ -n $backlog ]] && ((backlog >= 20)); then
		fail FAIL "with the server busy for a moment (the grader stopped it, SIGSTOP), 20 clients connected at once: only $n got in within $(scaled 1) s, though the listening socket's backlog is $backlog (ss -ltn)" \
			"(the machine may be very busy: try again)"
		return 1
	fi
	retries=$(grep -c 'again' "$EVID/burst.log" || true)
	cause "listen() with a tiny backlog${backlog:+ ($backlog)}: the kernel queues only that many connections, and the others wait and try again; BACKLOG 128 (step 1)"
	fail FAIL "with the server busy for a moment (the grader stopped it, SIGSTOP), 20 clients connected at once: only $n got in within $(scaled 1) s; the kernel dropped the others, which had to try again ($retries attempts in all)" \
		"expected: all 20 queued by the kernel at once: a backlog of 20 or more (the starter's BACKLOG is 128)"
}

@test "[3] runs clean under AddressSanitizer, even when recv() fills the buffer" {
	hint "handout step 4: buf holds the n bytes recv() returned, and is not a string: writing buf[n] = '\\0' writes past its end when recv() filled it"
	local port seed logs=()
	need_sanitizer_build
	seed=$(random_number 1 2000000000)
	port=$(free_port)
	PORT=$port HOST=127.0.0.1 SERVER_ARGS="-p $port"
	start_server 20 "$port" -- env "ASAN_OPTIONS=log_path=$EVID/asan:detect_leaks=0" \
		"UBSAN_OPTIONS=log_path=$EVID/asan:print_stacktrace=1" \
		"$SAN_BIN" -p "$port" || return 1
	talk 3 -e -n 4194304 -s "$seed"
	((TALK_STATUS == 0)) && talk 2 -e -m "$LECTURE"
	wait_quiet 1
	mapfile -t logs < <(compgen -G "$EVID/asan.*")
	if ((${#logs[@]})); then
		{ grep -q 'stack-buffer-overflow' "${logs[@]}" && grep -q 'WRITE of size 1' "${logs[@]}" ||
			grep -q 'index [0-9]* out of bounds' "${logs[@]}"; } &&
			cause "one byte written past the end of the buffer (buf[n] = '\\0' when recv() filled it): the data is bytes, not a string; use n (step 4)"
		fail MEM "AddressSanitizer/UBSan found a memory error in the server (its build of your file: cc -fsanitize=address,undefined)" \
			"sent:     4194304 bytes of binary data (seed $seed), as fast as the server takes them (so recv() fills the whole buffer), then 'Hello, how are you?\\r\\n'" \
			"AddressSanitizer said (the whole report: $(basename "${logs[0]}") in the evidence folder):" \
			"$(awk '/==ERROR|runtime error/ { on = 1 } on && /^$/ { exit } on' "${logs[0]}" | head -8 | sed -e 's/^/  /')"
		return 1
	fi
	expect_echo "4194304 bytes of binary data (seed $seed), then 'Hello, how are you?\\r\\n', to the server built with AddressSanitizer" "the same bytes back"
}

@test "[3] pauses when accept() fails for lack of descriptors (EMFILE), then serves again" {
	hint "handout step 3: after EMFILE (no descriptor left) accept() fails again at once: warn(\"accept:\"), pause 100 ms (nanosleep), return -1; never exit"
	local main low soft t0 t1 l0 l1 c0 c1 lines cpu hz elapsed
	[[ -d /proc/self/fd ]] && command -v prlimit >/dev/null ||
		skip "this machine has no /proc or no prlimit, so the grader cannot take a running server's descriptors away (0 points)"
	start_echoserver 20
	wait_quiet 1
	main=$(server_main_pid)
	low=$(lowest_free_fd "$main")
	soft=$(prlimit --pid "$main" --nofile --noheadings --output SOFT 2>/dev/null | tr -d ' ')
	if [[ -z $soft ]] || ! prlimit --pid "$main" --nofile="$low:" 2>/dev/null; then
		skip "the grader cannot lower the server's descriptor limit (prlimit), so this test cannot run here (0 points)"
	fi
	hz=$(getconf CLK_TCK 2>/dev/null || echo 100)
	l0=$(wc -l <"$EVID/server.stderr")
	c0=$(cpu_ticks "$main")
	t0=$(date +%s%N)
	# Two clients: the first may still get the descriptor of an accept()
	# that was already waiting; the second finds none left.
	background 20 clients "$SL_PEERS/tcpclient" -e -c 2 -m "$LECTURE" -C "$(ms "$(lab03_limit 4 2)")" \
		-t "$(ms "$(lab03_limit 3 2)")" -L "$EVID/clients.log" "$HOST" "$PORT"
	sleep "$(scaled 1)"
	l1=$(wc -l <"$EVID/server.stderr")
	c1=$(cpu_ticks "$main")
	t1=$(date +%s%N)
	prlimit --pid "$main" --nofile="$soft:" 2>/dev/null || true
	wait "$BG_PID" 2>/dev/null || true
	lines=$((l1 - l0))
	elapsed=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f\n", (b - a) / 1e9 }')
	cpu=$(awk -v c=$((c1 - c0)) -v hz="$hz" -v e="$elapsed" 'BEGIN { printf "%d\n", 100 * c / hz / e }')
	printf '%s\n' "descriptor limit lowered to $low (from $soft) for $elapsed s: $lines lines on stderr, $cpu % of a CPU" >"$EVID/emfile.txt"
	if ((lines > 50)) || ((cpu > 50)); then
		local rate pause
		rate=$(awk -v l="$lines" -v e="$elapsed" 'BEGIN { printf "%d\n", (e > 0 ? l / e : l) }')
		pause=$(awk -v r="$rate" 'BEGIN { p = (r > 0 ? 1000 / r : 0); if (p >= 1) printf "%.0f ms\n", p; else printf "%.0f microseconds\n", p * 1000 }')
		cause "accept() failed with EMFILE about $rate times a second (a pause of $pause at most, where 100 ms makes 10 a second): pause about 100 ms: nanosleep() with tv_nsec = 100000000 (step 3)"
		fail FAIL "with no descriptor left for accept() (the grader lowered the server's limit to $low for $elapsed s while 2 clients waited), the server wrote $lines lines on stderr and used $cpu % of a CPU" \
			"expected: a line and a pause of about 100 ms after each failed accept(): about 10 lines a second, and the CPU idle" \
			"the first of those lines:" "$(sed -n "$((l0 + 1)),$((l0 + 3))p" "$EVID/server.stderr" | head -c 600 | sed -e 's/^/  | /')" \
			"(server.stderr in the evidence folder holds them; a file over 1 MiB is cut to its first 64 KiB there, and emfile.txt keeps the count)"
		return 1
	fi
	if ! server_alive; then
		cause "the server exited when accept() failed with EMFILE: warn, pause and return -1, and let the loop try again (step 3)"
		expect_server_alive "accept() failed for lack of descriptors"
		return 1
	fi
	TALK="$EVID/clients.out" TALK_STATUS=0
	TALK_CMD="build/peers/tcpclient -e -c 2 -m 'Hello, how are you?\\r\\n' $HOST $PORT"
	[[ $(cat "$EVID/clients.status" 2>/dev/null) == "exit 0" ]] || TALK_STATUS=1
	expect_echo "2 clients, each 'Hello, how are you?\\r\\n', while the server had no descriptor left for accept(); after $elapsed s the limit was raised again" \
		"both get their echo once descriptors are there again: a failed accept() is tried again, never the end"
}

@test "[3] listens on the next address of a name when the first is taken" {
	hint "handout step 1: walk getaddrinfo()'s whole list: when socket(), bind() or listen() fails on one address, close that socket and try the next"
	local port i
	two_address_name
	for ((i = 0; i < 3; i++)); do
		port=$(free_port "$MULTI_LAST")
		"$SL_PEERS/porttool" free "$MULTI_FIRST" >/dev/null 2>&1 || break
		hold_port "$MULTI_FIRST" "$port" 2>/dev/null && break
		rm -f "$EVID/message" "$EVID/verdict"
	done
	PORT=$port HOST=$MULTI_LAST SERVER_ARGS="-a $MULTI_NAME -p $port"
	if ! start_server --hosts "$HOSTS_FILE" 10 "$port" "$MULTI_LAST" -- "$SL_BIN" -a "$MULTI_NAME" -p "$port"; then
		cause "the server gave up after the first address of -a $MULTI_NAME ($MULTI_FIRST, taken); the next ($MULTI_LAST) was free: on failure close that socket and try the next address (step 1)"
		fail FAIL "-a $MULTI_NAME gives two addresses ($MULTI_FIRST first, then $MULTI_LAST: the grader's private /etc/hosts, $(basename "$HOSTS_FILE") in the evidence folder); another program listens on [$MULTI_FIRST]:$port" \
			"expected: the server listens on $MULTI_LAST:$port, the next address"
		return 1
	fi
	talk 1 -e -m "$LECTURE"
	expect_echo "'Hello, how are you?\\r\\n' to $MULTI_LAST:$port (the server started with -a $MULTI_NAME, whose first address $MULTI_FIRST was taken)" \
		"the same 21 bytes back"
	expect_ready_line --now "$MULTI_LAST:$port" "[$MULTI_LAST]:$port"
}

@test "[2] frees and closes everything when the port is in use or listen() fails (valgrind)" {
	hint "handout step 1: freeaddrinfo() on every path, the error path too, and close() each socket whose bind() or listen() failed; no ready line when nothing listens"
	need_valgrind
	hold_port
	run_client --valgrind 10 "$SL_BIN" -p "$HELD_PORT"
	expect_exit 1 || { valgrind_cause; return 1; }
	expect_valgrind_clean --fds || { valgrind_cause; return 1; }
	shortio_lib >/dev/null || return 0
	# The last (here the only) address fails at listen(): nothing listens.
	local port log
	mkdir -p "$EVID/port-in-use"
	mv "$EVID"/valgrind*.log "$EVID/stdout" "$EVID/stderr" "$EVID/port-in-use/" 2>/dev/null
	port=$(free_port)
	run_client --valgrind --shortio 0,listen-fail=1 10 "$SL_BIN" -p "$port"
	grep -q 'listen fd=.* EADDRINUSE' "$EVID/shortio.log" 2>/dev/null || return 0
	if grep -q "Server is ready" "$EVID/stdout"; then
		cause "a ready line was printed for an address on which listen() failed: print it once, after listen() has succeeded (step 2)"
		fail FAIL "the grader's shim made listen() on 127.0.0.1:$port fail (EADDRINUSE): nothing listens, yet the server printed a ready line" \
			"expected: no ready line, an error on stderr, exit 1" \
			"got on stdout:" "$(show "$EVID/stdout")" "stderr:" "$(show "$EVID/stderr")"
		return 1
	fi
	expect_exit 1 || { valgrind_cause; return 1; }
	if ! expect_valgrind_clean --fds; then
		grep -q '<-> unbound' "$EVID"/valgrind*.log &&
			cause "the socket whose listen() failed is never closed: close() it before trying the next address, and before giving up (step 1)"
		valgrind_cause
		return 1
	fi
}

# ---- the rarer faults a server must survive, made to happen -------------

@test "[3] prints its ready line only after listen() has succeeded (listen() made slow)" {
	hint "handout step 2: print the ready line after listen() has succeeded, never between bind() and listen(): a client that connects as soon as it reads the line is refused until listen()"
	need_shortio
	local port i line
	port=$(free_port)
	PORT=$port HOST=127.0.0.1 SERVER_ARGS="-p $port"
	start_server --no-wait --shortio 0,listen-delay=400 10 "$port" -- "$SL_BIN" -p "$port"
	for ((i = 0; i < 300; i++)); do
		line=$(grep -m1 "Server is ready" "$EVID/server.stdout" 2>/dev/null || true)
		[[ -n $line ]] && break
		server_alive || break
		sleep 0.01
	done
	[[ -n $line ]] || { expect_ready_line "127.0.0.1:$port"; return 1; }
	# One connect() at once, as a client waiting for the line would.
	if (exec 5<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		return 0
	fi
	expect_shortio_loaded
	grep -q ' listen fd=.* delayed' "$EVID/shortio.log" ||
		skip "the grader's shim did not see the server call listen(), so this test cannot judge when its ready line comes (0 points)"
	cause "the ready line was printed before listen() had succeeded: print it after listen(), in main() once open_listener() has returned (step 2)"
	fail FAIL "the grader's shim made the server's listen() wait 0.4 s; the ready line '$line' appeared first, and a connection made at once to 127.0.0.1:$port was refused (ECONNREFUSED)" \
		"expected: the ready line only once the socket listens, so that a client that reads it can connect" \
		"command:  $(cat "$EVID/server.command")" \
		"(the shim's log, shortio.log in the evidence folder: $(grep -m1 ' listen fd=' "$EVID/shortio.log"))"
}

@test "[3] when listen() fails on one address, closes it and listens on the next" {
	hint "handout step 1: when listen() fails on an address, close() that socket and try the next; step 2: one ready line, for the socket that listens"
	need_shortio
	local port i lines held
	two_address_name
	for ((i = 0; i < 3; i++)); do
		port=$(free_port "$MULTI_LAST")
		"$SL_PEERS/porttool" free "$MULTI_FIRST" >/dev/null 2>&1 || break
		refuses "$MULTI_FIRST" "$port" && break
	done
	PORT=$port HOST=$MULTI_LAST SERVER_ARGS="-a $MULTI_NAME -p $port"
	if ! start_server --hosts "$HOSTS_FILE" --shortio 0,listen-fail=1 10 "$port" "$MULTI_LAST" -- \
		"$SL_BIN" -a "$MULTI_NAME" -p "$port"; then
		grep -q 'listen fd=.* EADDRINUSE' "$EVID/shortio.log" 2>/dev/null &&
			cause "the server gave up when listen() failed on the first address of -a $MULTI_NAME: close that socket and try the next address (step 1)"
		return 1
	fi
	expect_shortio_loaded
	grep -q 'listen fd=.* EADDRINUSE' "$EVID/shortio.log" ||
		skip "the grader's shim did not see the server call listen(), so this test cannot judge (0 points)"
	talk 1 -e -m "$LECTURE"
	expect_echo "'Hello, how are you?\\r\\n' to $MULTI_LAST:$port (started with -a $MULTI_NAME; the grader's shim made listen() on the first address, $MULTI_FIRST, fail with EADDRINUSE)" \
		"the same 21 bytes back" || return 1
	lines=$(grep -c "Server is ready" "$EVID/server.stdout" || true)
	if ((lines != 1)) || grep -q "Server is ready on \[\?$MULTI_FIRST\]\?:" "$EVID/server.stdout"; then
		cause "a ready line was printed for an address on which listen() failed: print it once, after listen() has succeeded (step 2)"
		fail FAIL "listen() failed on $MULTI_FIRST (the grader's shim) and worked on $MULTI_LAST: stdout has $lines ready line(s)" \
			"expected on stdout: one line, Server is ready on $MULTI_LAST:$port" \
			"got on stdout:" "$(show "$EVID/server.stdout")"
		return 1
	fi
	wait_quiet 1
	held=$(open_connections)
	if ((held > 0)); then
		cause "the socket whose listen() failed is never closed: close() it before trying the next address (step 1)"
		fail FAIL "with no client connected, the server holds $held socket(s) besides its listener: the one on which listen() failed (on $MULTI_FIRST) was not closed" \
			"expected: only the listening socket open" \
			"$(server_tree)"
		return 1
	fi
}

@test "[3] ends a client whose connection is reset under recv()" {
	hint "handout step 4: recv() failing with anything but EINTR (here ECONNRESET) ends that client: warn, stop the loop, close(); retrying it spins for ever"
	need_shortio
	local procs held cpu c0 c1 hz main pids
	start_echoserver --shortio 0,recv-reset=1 15
	talk 1 -H -m "$LECTURE"
	expect_shortio_loaded
	grep -q ' \(recv\|read\) fd=.* ECONNRESET' "$EVID/shortio.log" ||
		skip "the grader's shim made none of the server's recv() or read() calls fail, so this test cannot judge (0 points)"
	wait_quiet 1
	mapfile -t pids < <(server_pids)
	procs=${#pids[@]}
	held=$(open_connections)
	hz=$(getconf CLK_TCK 2>/dev/null || echo 100)
	c0=$(cpu_ticks "${pids[@]}")
	sleep "$(scaled 0.3)"
	c1=$(cpu_ticks "${pids[@]}")
	cpu=$(awk -v c=$((c1 - c0)) -v hz="$hz" -v e="$(scaled 0.3)" 'BEGIN { printf "%d\n", 100 * c / hz / e }')
	if ((held == 0 && procs <= 1 && cpu < 30)) && ! grep -q 'did not close' "$TALK"; then
		return 0
	fi
	cause "an error of recv() other than EINTR was retried: ECONNRESET means the client is gone; warn, leave the loop and close() (step 4)"
	fail FAIL "the grader's shim made every recv() of the server fail with ECONNRESET (a reset connection); soon after, the server holds $held connection(s) in $procs process(es), using $cpu % of a CPU" \
		"expected: that client ended at once: its connection closed, its process or thread gone, the CPU idle" \
		"got (the grader's client, which sent 'Hello, how are you?\\r\\n' and waited for the close):" "$(talk_report 4)" \
		"$(server_tree)" "its stderr:" "$(server_said 6)" \
		"(the shim's log is shortio.log in the evidence folder: $(grep -m1 'ECONNRESET' "$EVID/shortio.log"))"
}

@test "[3] drops only that client when fork() fails, and serves the next" {
	hint "handout step 5: when fork() (or pthread_create()) fails, warn, close(cfd) (that client's connection, not the listener) and go back to accept()"
	need_shortio
	local port i errs
	port=$(free_port)
	PORT=$port HOST=127.0.0.1 SERVER_ARGS="-p $port"
	start_server --no-wait --shortio 0,spawn-fail=1 15 "$port" -- "$SL_BIN" -p "$port"
	for ((i = 0; i < 60; i++)); do
		grep -q "Server is ready" "$EVID/server.stdout" 2>/dev/null && break
		server_alive || break
		sleep 0.05
	done
	expect_ready_line --now "127.0.0.1:$port" || return 1
	talk 1 -H -m "$LECTURE"
	cp "$TALK" "$EVID/first-client.out"
	expect_shortio_loaded
	grep -q ' \(fork\|pthread_create\) EAGAIN' "$EVID/shortio.log" ||
		skip "the grader's shim saw no fork() or pthread_create() in the server, so this test cannot judge (0 points)"
	# That client sent a line and half-closed: within a second it must see
	# its connection end (EOF or a reset), whatever came back.
	if grep -qE 'did not close|not finished|timeout after|before the deadline' "$EVID/first-client.out"; then
		grep -qi 'accept.*bad file descriptor' "$EVID/server.stderr" &&
			cause "when fork() failed, the listening socket was closed instead of the connection: close(cfd), not close(lfd) (step 5)"
		cause "when fork() failed, the connection was not closed: close(cfd), that client's socket (step 5)"
		fail FAIL "the grader's shim made the server's first fork() (or pthread_create()) fail with EAGAIN; that client sent 'Hello, how are you?\\r\\n' and half-closed, and its connection was not closed within $(scaled 1) s (no EOF, no reset)" \
			"expected: that client dropped at once (its connection closed), the server back in accept()" \
			"got (the grader's client):" "$(talk_report 4)" "$(server_state); its stderr:" "$(server_said 8)"
		return 1
	fi
	talk 1 -e -m "Next, please\\r\\n"
	errs=$(grep -ci 'accept' "$EVID/server.stderr" || true)
	if ((TALK_STATUS != 0)) || ((errs > 0)); then
		grep -qi 'accept.*bad file descriptor' "$EVID/server.stderr" &&
			cause "when fork() failed, the listening socket was closed instead of the connection: close(cfd), not close(lfd) (step 5)"
		expect_echo "after a first client whose fork() failed (the grader's shim: EAGAIN), a second client sent 'Next, please\\r\\n'" \
			"its echo, and no accept() error on stderr" || return 1
		fail FAIL "after the failed fork(), the server's stderr has $errs line(s) about accept()" \
			"expected: no accept() error: the listening socket is untouched" "its stderr:" "$(server_said 8)"
	fi
}

@test "[2] keeps errno in its SIGCHLD handler (accept() aborted, a child's signal on its heels)" {
	hint "handout step 5: on_sigchld() saves errno on entry and restores it before returning: waitpid() in the handler sets errno (ECHILD), which the interrupted code was about to read"
	need_shortio
	local port i
	port=$(free_port)
	PORT=$port HOST=127.0.0.1 SERVER_ARGS="-p $port"
	start_server --no-wait --shortio 0,accept-abort=1 15 "$port" -- "$SL_BIN" -p "$port"
	for ((i = 0; i < 60; i++)); do
		grep -q 'ECONNABORTED' "$EVID/shortio.log" 2>/dev/null && break
		server_alive || break
		sleep 0.05
	done
	expect_ready_line --now "127.0.0.1:$port" || return 1
	expect_shortio_loaded
	grep -q ' accept fd=.* ECONNABORTED' "$EVID/shortio.log" ||
		skip "the grader's shim saw no accept() in the server, so this test cannot judge (0 points)"
	talk 1 -e -m "$LECTURE"
	expect_echo "'Hello, how are you?\\r\\n', after the server's first accept() had failed with ECONNABORTED (the grader's shim)" \
		"the same 21 bytes back: ECONNABORTED ends no server" || return 1
	if grep -q 'No child processes' "$EVID/server.stderr"; then
		cause "the SIGCHLD handler does not keep errno: waitpid() set it to ECHILD in between; save errno on entry to on_sigchld() and restore it before returning (step 5)"
		fail FAIL "the grader's shim made accept() fail with ECONNABORTED and raised SIGCHLD before the server read errno; the server reported: $(grep -m1 'No child processes' "$EVID/server.stderr")" \
			"expected: the error accept() had, ECONNABORTED (strerror: Software caused connection abort), or nothing; 'No child processes' is ECHILD, the errno waitpid() left in the handler" \
			"its stderr:" "$(server_said 6)"
		return 1
	fi
}
