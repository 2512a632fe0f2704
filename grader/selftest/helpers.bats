#!/usr/bin/env bats
# shellcheck disable=SC2034,SC2154,SC2016 # SL_* are read, and verdict set, by helpers.bash; $0 is for inner shells
# Tests of the grader's own helpers (grader/lib/helpers.bash) and of its C
# tools (contain, porttool): the grader is only as good as these.

bats_require_minimum_version 1.5.0
load ../lib/helpers

setup() {
	ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	SL_PEERS="$ROOT/build/peers"
	SL_EVIDENCE="$BATS_TEST_TMPDIR/evidence"
	sl_setup
}

@test "slug makes a folder name from a test name" {
	[[ $(slug "[15] Echoes 4 MiB of binary data, unchanged!") == echoes-4-mib-of-binary-data-unchanged ]]
	[[ $(slug "[5] talks to ::1") == talks-to-1 ]]
	[[ $(slug "no points here") == no-points-here ]]
}

@test "slug: any case, punctuation and letters outside a-z make one '-'" {
	[[ $(slug "[3] Échoes  «4» MiB -- Twice!") == choes-4-mib-twice ]]
	[[ $(slug "[2] a/b\\c\"d_e") == a-b-c-d-e ]]
	[[ $(LC_ALL=C slug "[1] 我喜欢 x") == x ]]
	[[ $(slug "[1] $(printf 'x%.0s' {1..70})") == "$(printf 'x%.0s' {1..60})" ]]
}

@test "scaled stretches limits by TIMEOUT_SCALE and a factor" {
	[[ $(scaled 2) == 2 ]]
	[[ $(TIMEOUT_SCALE=3 scaled 2.5) == 7.5 ]]
	[[ $(TIMEOUT_SCALE=2 scaled 1 3) == 6 ]]
}

@test "scaled, ms and sl_test_timeout: floors, fractions, and numbers bash cannot read" {
	[[ $(scaled 0.5 3 10) == 10 ]]
	[[ $(TIMEOUT_SCALE=2 scaled 0.5 3 10) == 20 ]]
	[[ $(scaled .25) == 0.25 ]]
	[[ $(TIMEOUT_SCALE=1.5 scaled 0.005) == 0.0075 ]]
	[[ $(ms 1.5) == 1500 ]]
	[[ $(TIMEOUT_SCALE=3 ms 0.05 2) == 300 ]]
	[[ $(TIMEOUT_SCALE=1e1 scaled 2) == 20 ]] # awk reads what bash cannot
	TIMEOUT_SCALE=2.5 sl_test_timeout 90
	[[ $BATS_TEST_TIMEOUT == 225 ]]
	local t
	scaled_into t 4 2
	[[ $t == 8 ]]
}

@test "random_number stays within its bounds" {
	local i n
	for ((i = 0; i < 200; i++)); do
		n=$(random_number 5 9)
		((n >= 5 && n <= 9))
	done
	n=$(random_number 1 2000000000)
	((n >= 1 && n <= 2000000000))
}

@test "sl_hangs counts the runs that timed out, in the grading's evidence folder" {
	[[ $(sl_hangs) == 0 ]]
	sl_hang_noted
	sl_hang_noted
	[[ $(sl_hangs) == 2 ]]
	[[ -f $SL_EVIDENCE/.sl-hangs ]]
	SL_EVIDENCE="$BATS_TEST_TMPDIR/other"
	mkdir -p "$SL_EVIDENCE"
	[[ $(sl_hangs) == 0 ]]
}

@test "first_difference names the first differing byte" {
	printf 'hello world' >"$BATS_TEST_TMPDIR/a"
	printf 'hello world' >"$BATS_TEST_TMPDIR/b"
	[[ -z $(first_difference "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b") ]]
	printf 'hello World' >"$BATS_TEST_TMPDIR/b"
	run first_difference "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
	[[ $output == "first difference at byte 6: expected 0x77, got 0x57" ]]
	printf 'hell' >"$BATS_TEST_TMPDIR/b"
	run first_difference "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
	[[ $output == "first difference at byte 4: expected 0x6f, got end of data" ]]
	printf 'hello world!' >"$BATS_TEST_TMPDIR/b"
	run first_difference "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
	[[ $output == "first difference at byte 11: expected end of data, got 0x21" ]]
}

@test "show prints text with control bytes visible, binary as a hexdump" {
	printf 'GET / HTTP/1.1\r\nHost: x\r\n' >"$BATS_TEST_TMPDIR/t"
	run show "$BATS_TEST_TMPDIR/t"
	[[ ${lines[0]} == '  | GET / HTTP/1.1\r' ]]
	printf '\x00\x01\xffabc' >"$BATS_TEST_TMPDIR/b"
	run show "$BATS_TEST_TMPDIR/b"
	[[ $output == *"00 01 ff 61 62 63"* ]]
	: >"$BATS_TEST_TMPDIR/e"
	run show "$BATS_TEST_TMPDIR/e"
	[[ $output == *"0 bytes"* ]]
	head -c 5000 /dev/zero | tr '\0' 'a' >"$BATS_TEST_TMPDIR/long"
	run show "$BATS_TEST_TMPDIR/long" 100
	[[ $output == *"(the first 100 of 5000 bytes shown)"* ]]
	cp "$BATS_TEST_TMPDIR/long" "$EVID/stderr"
	run show "$EVID/stderr" 100
	[[ $output == *"(the first 100 of 5000 bytes shown; all of it is in the evidence folder: stderr)"* ]]
}

@test "fail records the verdict and the message for the report" {
	hint "handout step 9"
	run fail TIME "line one" "line two"
	[[ $status -eq 1 ]]
	[[ $(cat "$EVID/verdict") == TIME ]]
	[[ $(cat "$EVID/message") == $'line one\nline two' ]]
	[[ $(cat "$EVID/hint") == "handout step 9" ]]
}

@test "contain reports exit codes, signals and timeouts" {
	run "$SL_PEERS/contain" -s "$BATS_TEST_TMPDIR/s" -- sh -c 'exit 7'
	[[ $status -eq 7 && $(cat "$BATS_TEST_TMPDIR/s") == "exit 7" ]]
	run "$SL_PEERS/contain" -s "$BATS_TEST_TMPDIR/s" -- sh -c 'kill -SEGV $$'
	[[ $status -eq 139 && $(cat "$BATS_TEST_TMPDIR/s") == "signal SIGSEGV" ]]
	SECONDS=0
	run "$SL_PEERS/contain" -t 0.5 -s "$BATS_TEST_TMPDIR/s" -- sleep 30
	[[ $status -eq 124 && $(cat "$BATS_TEST_TMPDIR/s") == timeout ]]
	((SECONDS < 5))
}

@test "contain stops a program that ignores SIGTERM" {
	SECONDS=0
	run "$SL_PEERS/contain" -t 0.3 -k 0.3 -- sh -c 'trap "" TERM; while :; do sleep 1; done'
	[[ $status -eq 124 ]]
	((SECONDS < 5))
}

@test "contain leaves no process behind, even one that called setsid()" {
	[[ -d /proc/self ]] || skip "needs /proc (Linux)"
	local mark="helpers-$$-$RANDOM"
	# the child leaves the group, ignores SIGTERM, and outlives its parent
	SL_MARK=$mark run "$SL_PEERS/contain" -t 5 -- sh -c \
		'setsid sh -c "trap \"\" TERM HUP; sleep 60" </dev/null >/dev/null 2>&1 & sleep 0.3; exit 0'
	[[ $status -eq 0 ]]
	sleep 0.3
	local env left=""
	for env in /proc/[0-9]*/environ; do
		tr '\0' '\n' <"$env" 2>/dev/null | grep -qx "SL_MARK=$mark" && left+=" ${env//[^0-9]/}"
	done
	[[ -z $left ]] || { echo "left behind:$left"; false; }
}

@test "contain caps the size of what a program writes" {
	run "$SL_PEERS/contain" -F 1 -s "$BATS_TEST_TMPDIR/s" -- \
		sh -c "exec head -c 3000000 /dev/zero >'$BATS_TEST_TMPDIR/big'"
	[[ $(cat "$BATS_TEST_TMPDIR/s") == "signal SIGXFSZ" ]]
	(($(wc -c <"$BATS_TEST_TMPDIR/big") <= 1048576))
}

@test "porttool finds a free port and waits for one to open" {
	local port
	port=$("$SL_PEERS/porttool" free)
	[[ $port =~ ^[0-9]+$ ]] && ((port > 0 && port < 65536))
	# nothing listens there: wait gives up
	run "$SL_PEERS/porttool" wait 127.0.0.1 "$port" 200
	[[ $status -eq 1 ]]
	# a process that is gone: wait says so at once
	sh -c 'exit 0' &
	local dead=$!
	wait "$dead"
	run "$SL_PEERS/porttool" wait 127.0.0.1 "$port" 5000 "$dead"
	[[ $status -eq 3 ]]
}

@test "start_peer and stop_process run a peer and end it" {
	start_peer daytimed -o 0
	[[ $PEER_PORT =~ ^[0-9]+$ ]]
	"$SL_PEERS/porttool" wait 127.0.0.1 "$PEER_PORT" 1000
	stop_process "$PEER_PID"
	run ! kill -0 "$PEER_PID"
	# the peer itself is gone, not only the process the test knows
	run "$SL_PEERS/porttool" wait 127.0.0.1 "$PEER_PORT" 300
	[[ $status -eq 1 ]]
}

@test "start_server fails, showing stderr, when the server dies at once" {
	run start_server 5 "$(free_port)" -- sh -c 'echo "cannot bind" >&2; exit 1'
	[[ $status -eq 1 ]]
	[[ $(cat "$EVID/verdict") == FAIL ]]
	grep -q "exited before it accepted" "$EVID/message"
	grep -q "cannot bind" "$EVID/message"
}

@test "run_client and expect_exit tell a crash from a wrong exit status" {
	run_client 5 sh -c 'kill -SEGV $$'
	[[ $verdict == "signal SIGSEGV" ]]
	run expect_exit 0
	[[ $status -eq 1 && $(cat "$EVID/verdict") == CRASH ]]
	rm -f "$EVID/verdict" "$EVID/message"
	run_client 5 sh -c 'echo oops >&2; exit 3'
	run expect_exit 0
	[[ $status -eq 1 && $(cat "$EVID/verdict") == FAIL ]]
	grep -q "expected exit status 0, got 3" "$EVID/message"
	grep -q "oops" "$EVID/message"
	rm -f "$EVID/verdict" "$EVID/message"
	run_client 0.3 sleep 10
	run expect_exit 0
	[[ $(cat "$EVID/verdict") == TIME ]]
}

@test "leaked_fds ignores inherited descriptors, and listening sockets for servers" {
	cat >"$BATS_TEST_TMPDIR/vg.log" <<-'EOF'
		==1== FILE DESCRIPTORS: 6 open (3 std) at exit.
		==1== Open AF_INET socket 3: 127.0.0.1:9000 <-> unbound
		==1==    at 0x1: socket (syscall-template.S:120)
		==1== Open AF_INET socket 5: 127.0.0.1:9000 <-> 127.0.0.1:40000
		==1==    at 0x1: accept (accept.c:26)
		==1== Open AF_INET socket 6: 127.0.0.1:9000 <-> unbound
		==1==    at 0x1: accept (accept.c:26)
		==1== Open file descriptor 10: /dev/null
		==1==    <inherited from parent>
		==1== Open file descriptor 4: /etc/hosts
		==1==    at 0x1: open (open64.c:41)
		==1== Open file descriptor 100: /x/evidence/shortio.log
		==1==    at 0x1: fcntl (fcntl64.c:30)
	EOF
	# the grader's own shim log is no leak of the program's
	run leaked_fds "$BATS_TEST_TMPDIR/vg.log" --listening-ok
	[[ ${#lines[@]} -eq 3 ]]
	[[ $output == *"socket 5"* && $output == *"/etc/hosts"* ]]
	# accepted, then reset by its client: no longer connected, still a leak
	[[ $output == *"socket 6"* ]]
	# a client's unconnected socket (a failed connect) is a leak
	run leaked_fds "$BATS_TEST_TMPDIR/vg.log"
	[[ ${#lines[@]} -eq 4 ]]
	[[ $output == *"socket 3"* ]]
}

@test "the partial-I/O shim cuts reads short, fails some with EINTR, and logs each" {
	need_shortio
	head -c 5000 /dev/urandom >"$BATS_TEST_TMPDIR/data"
	# cat reads the file on a descriptor above 2 ("files" mode) and, like
	# any correct program, goes on after a short read and after EINTR (into
	# a pipe: to a file, cat would copy with copy_file_range instead)
	run_client --shortio 7,eintr=5,files 10 sh -c 'cat "$0" | cat' "$BATS_TEST_TMPDIR/data"
	expect_exit 0
	cmp "$BATS_TEST_TMPDIR/data" "$EVID/stdout"
	expect_shortio_loaded
	grep -q "shortio loaded in .*cat" "$EVID/shortio.log"
	(($(shortio_count read moved) > 100))
	(($(shortio_count read EINTR) > 10))
	read -r asked moved <<<"$(shortio_first read)"
	((asked > moved && moved >= 1 && moved <= 7))
	[[ $(shortio_said) == *"read() "*" cut short, "*" failed with EINTR"* ]]
	# without "files" only sockets are touched: cat's reads of a file are not
	rm -f "$EVID/shortio.log"
	run_client --shortio 7 10 sh -c 'cat "$0" | cat' "$BATS_TEST_TMPDIR/data"
	[[ $(shortio_count read) -eq 0 ]]
}

@test "two_address_name gives a name two addresses, the first of them refusing" {
	two_address_name
	[[ $MULTI_NAME == sl-multi.test && $MULTI_FIRST != "$MULTI_LAST" ]]
	run_client --hosts "$HOSTS_FILE" 5 "$SL_PEERS/porttool" resolve "$MULTI_NAME"
	expect_exit 0
	[[ $(head -1 "$EVID/stdout") == "$MULTI_FIRST" && $(tail -1 "$EVID/stdout") == "$MULTI_LAST" ]]
	# the machine's own /etc/hosts is untouched
	run ! "$SL_PEERS/porttool" resolve "$MULTI_NAME"
	start_peer daytimed -a "$MULTI_LAST" -o 0
	refuses "$MULTI_FIRST" "$PEER_PORT"
	run ! refuses "$MULTI_LAST" "$PEER_PORT"
}

@test "fail names a starter's stub as the root cause, and keeps the first cause" {
	echo "webclient: http://x/: parse_url() is not written yet (step 1)" >"$EVID/stderr"
	run fail FAIL "the program never connected"
	[[ $(cat "$EVID/cause") == "parse_url() is not written yet (step 1)" ]]
	cause "something else (step 9)"
	[[ $(cat "$EVID/cause") == "parse_url() is not written yet (step 1)" ]]
	rm -f "$EVID/cause" "$EVID/stderr"
	echo "echoserver: step 1 is not written yet: no listening socket" >"$EVID/server.stderr"
	run fail FAIL "no ready line"
	[[ $(cat "$EVID/cause") == "step 1 is not written yet: no listening socket" ]]
	# a lab's own diagnosis runs when no stub shows
	rm -f "$EVID/cause" "$EVID/server.stderr"
	lab_diagnose() { cause "the body stops at the first 0x00 (step 6)"; }
	run fail FAIL "short body"
	[[ $(cat "$EVID/cause") == "the body stops at the first 0x00 (step 6)" ]]
}
