#!/usr/bin/env bats
# shellcheck disable=SC2034,SC2154 # SL_* are read, and verdict set, by helpers.bash
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

@test "scaled stretches limits by TIMEOUT_SCALE and a factor" {
	[[ $(scaled 2) == 2 ]]
	[[ $(TIMEOUT_SCALE=3 scaled 2.5) == 7.5 ]]
	[[ $(TIMEOUT_SCALE=2 scaled 1 3) == 6 ]]
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
	[[ $output == *"(5000 bytes in all)"* ]]
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
	EOF
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
