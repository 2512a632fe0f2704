#!/usr/bin/env bats
# Lab 01, gettime: a daytime client.  Each test starts the grader's daytime
# server (grader/peers/daytimed.c) on a free loopback port, with the time
# shifted by a random offset so no answer can be hard-coded, and runs the
# student's gettime against it.  100 points.

bats_require_minimum_version 1.5.0
load ../lib/helpers

# shellcheck disable=SC2034 # read by bats
BATS_TEST_TIMEOUT=$(awk -v k="${TIMEOUT_SCALE:-1}" 'BEGIN { print int(90 * k) }')

# random_offset [behind]: seconds to shift the server's clock, at least
# 1000 away from ours, landing between 2001 and 2098 (two-digit years are
# then unambiguous); "behind" makes it negative.
random_offset() {
	local now lo hi r off
	now=$(date +%s)
	lo=$((978307200 - now))  # 2001-01-01
	hi=$((4070908800 - now)) # 2099-01-01
	[[ ${1:-} == behind ]] && hi=-1000
	while :; do
		r=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
		off=$((lo + r % (hi - lo)))
		((off > 1000 || off < -1000)) && break
	done
	echo "$off"
}

# sent: what the daytime peer sent, as its log shows it.
sent() { sed -n 's/^\[.*\] sent: //p' "$PEER_LOG" | tail -1; }

# expect_time_output OFFSET TOLERANCE: stdout is exactly the two lines a
# correct gettime prints for the peer's last reply.
expect_time_output() {
	local offset="$1" tol="$2" expect line1 line2 lines got
	expect=$(sed -n 's/^\[.*\] expect: //p' "$PEER_LOG" | tail -1)
	lines=$(wc -l <"$EVID/stdout" | tr -d ' ')
	line1=$(sed -n 1p "$EVID/stdout")
	line2=$(sed -n 2p "$EVID/stdout")
	local want=("sent:     \"$(sent)\""
		"expected: $expect"
		"          local clock offset: ${offset/#[0-9]/+&} s (give or take $tol)"
		"got:" "$(show "$EVID/stdout")")
	if [[ $line1 != "$expect" ]]; then
		fail FAIL "the first line should be the server's date and time" "${want[@]}"
		return 1
	fi
	if [[ ! $line2 =~ ^local\ clock\ offset:\ ([+-])([0-9]+)\ s$ ]]; then
		fail FAIL "the second line should read 'local clock offset: +N s' (sign always shown)" "${want[@]}"
		return 1
	fi
	got=$((10#${BASH_REMATCH[2]}))
	[[ ${BASH_REMATCH[1]} == - ]] && got=$((-got))
	if ((got < offset - tol || got > offset + tol)); then
		fail FAIL "the clock offset is wrong: expected about $offset s, got $got s" \
			"(offset = the server's time minus this machine's clock)" "${want[@]}"
		return 1
	fi
	if [[ $lines -ne 2 ]]; then
		fail FAIL "stdout should hold exactly two lines, it holds $lines" "${want[@]}"
		return 1
	fi
}

# expect_peer_contacted: the program connected to the daytime peer.
expect_peer_contacted() {
	grep -q "connection accepted" "$PEER_LOG" && return 0
	fail FAIL "the program never connected to the test server (port $PEER_PORT)" \
		"command: $(cat "$EVID/command")" "stderr:" "$(show "$EVID/stderr")"
}

@test "[5] prints usage for -h and exits 2 on bad usage" {
	hint "the usage handling in main(), given in the starter"
	run_client 2.5 "$SL_BIN" -h
	expect_exit 0
	if ! grep -qi usage "$EVID/stdout" "$EVID/stderr"; then
		fail FAIL "'gettime -h' should print a usage message" \
			"stdout:" "$(show "$EVID/stdout")"
		return 1
	fi
	run_client 2.5 "$SL_BIN" one two three
	expect_exit 2
	run_client 2.5 "$SL_BIN" -x
	expect_exit 2
}

@test "[15] prints the server's date, time and clock offset" {
	hint "handout steps 1-5; the output format is in the spec and in step 5"
	local offset
	offset=$(random_offset)
	start_peer daytimed -o "$offset"
	run_client 2.5 "$SL_BIN" 127.0.0.1 "$PEER_PORT"
	expect_exit 0
	expect_time_output "$offset" 1
}

@test "[5] shows a negative offset when the server's clock is behind" {
	hint "handout step 5: offset = server time - time(NULL), printed with %+ld"
	local offset
	offset=$(random_offset behind)
	start_peer daytimed -o "$offset"
	run_client 2.5 "$SL_BIN" 127.0.0.1 "$PEER_PORT"
	expect_exit 0
	expect_time_output "$offset" 1
}

@test "[10] reads a reply that arrives one byte at a time" {
	hint "handout step 3: one recv() returns whatever has arrived; keep calling it until it returns 0"
	local offset
	offset=$(random_offset)
	start_peer daytimed -m drip -d 10 -o "$offset"
	run_client 2.5 "$SL_BIN" 127.0.0.1 "$PEER_PORT"
	expect_exit 0
	expect_time_output "$offset" 2
}

@test "[10] talks to a server on IPv6 (::1)" {
	hint "handout steps 1-2: getaddrinfo() with AF_UNSPEC, and socket() with the family it returns"
	local offset
	offset=$(random_offset)
	start_peer daytimed -a ::1 -o "$offset"
	run_client 2.5 "$SL_BIN" ::1 "$PEER_PORT"
	expect_exit 0
	expect_time_output "$offset" 1
}

@test "[5] accepts a host name (localhost)" {
	hint "handout step 1: getaddrinfo() resolves names as well as numeric addresses"
	local offset
	offset=$(random_offset)
	start_peer daytimed -o "$offset"
	run_client 2.5 "$SL_BIN" localhost "$PEER_PORT"
	expect_exit 0
	expect_time_output "$offset" 1
}

@test "[5] reports a refused connection and exits 1" {
	hint "handout step 2: when no address accepts, print strerror(errno) and return -1"
	local port
	port=$(free_port)
	run_client 2.5 "$SL_BIN" 127.0.0.1 "$port"
	expect_exit 1
	if ! grep -qi "refused" "$EVID/stderr"; then
		fail FAIL "nothing listens on port $port: stderr should say the connection was refused (strerror)" \
			"expected: gettime: ...: Connection refused" \
			"got:" "$(show "$EVID/stderr")"
		return 1
	fi
}

@test "[5] reports a host name that does not resolve and exits 1" {
	hint "handout step 1: print gai_strerror()'s text when getaddrinfo() fails"
	run_client 6 "$SL_BIN" no-such-host.invalid 13
	expect_exit 1
	if ! grep -qiE "no-such-host\.invalid|not known|not found|resolve|no address|temporary failure" "$EVID/stderr"; then
		fail FAIL "stderr should say that the name no-such-host.invalid could not be resolved" \
			"expected: gettime: cannot resolve no-such-host.invalid: <gai_strerror's text>" \
			"got:" "$(show "$EVID/stderr")"
		return 1
	fi
}

@test "[10] gives up on a silent server within 10 s and exits 1" {
	hint "handout step 3: poll() with the time left until the deadline, so recv() never waits forever"
	start_peer daytimed -m stall
	run_client 12 "$SL_BIN" 127.0.0.1 "$PEER_PORT"
	expect_peer_contacted
	expect_exit 1
	expect_stderr_says "that no reply came in time"
}

@test "[5] reports a server that closes without a reply and exits 1" {
	hint "handout step 3: recv() returning 0 at once means an empty reply; main() reports it"
	start_peer daytimed -m close
	run_client 2.5 "$SL_BIN" 127.0.0.1 "$PEER_PORT"
	expect_peer_contacted
	expect_exit 1
	expect_stderr_says "that the server sent nothing"
}

@test "[5] refuses a reply that is not in NIST format and shows it" {
	hint "handout step 4: check every field; the starter's main() shows the reply on stderr"
	local text
	text="$(date -u '+%A, %B %d, %Y %H:%M:%S')-UTC (no NIST here, check $RANDOM)"
	start_peer daytimed -m text -T "$text"
	run_client 2.5 "$SL_BIN" 127.0.0.1 "$PEER_PORT"
	expect_exit 1
	if ! grep -qF "$text" "$EVID/stderr"; then
		fail FAIL "stderr should show the reply the server sent" \
			"sent:     \"$text\\n\"" \
			"got on stderr:" "$(show "$EVID/stderr")"
		return 1
	fi
	if [[ -s $EVID/stdout ]]; then
		fail FAIL "nothing should go to stdout for a reply in another format" \
			"sent:     \"$text\\n\"" "got on stdout:" "$(show "$EVID/stdout")"
		return 1
	fi
}

@test "[5] refuses a NIST-shaped reply with an impossible time" {
	hint "handout step 4: check the ranges (hours 0-23, minutes 0-59, seconds 0-60)"
	local mjd day text
	mjd=$(($(date -u +%s) / 86400 + 40587))
	day=$(date -u +%y-%m-%d)
	text="$mjd $day 25:61:07 00 0 0 50.0 UTC(NIST) *"
	start_peer daytimed -m text -T "$text"
	run_client 2.5 "$SL_BIN" 127.0.0.1 "$PEER_PORT"
	expect_peer_contacted
	if [[ $status -eq 0 ]]; then
		fail FAIL "a reply with the time 25:61:07 should be refused (exit 1)" \
			"sent:     \"$text\\n\"" "got on stdout:" "$(show "$EVID/stdout")"
		return 1
	fi
	expect_exit 1
}

@test "[5] warns when the server reports bad health, and still prints the time" {
	hint "handout step 4 gives the health field; main() warns on stderr when it is not 0"
	local offset
	offset=$(random_offset)
	start_peer daytimed -H 2 -o "$offset"
	run_client 2.5 "$SL_BIN" 127.0.0.1 "$PEER_PORT"
	expect_exit 0
	expect_time_output "$offset" 1
	expect_stderr_says "a warning that the server's health is 2"
}

@test "[10] runs clean under valgrind (no memory errors, leaks or open sockets)" {
	hint "handout steps 1-3: free what getaddrinfo() returned (freeaddrinfo) and close() the socket on every path"
	need_valgrind
	local offset
	offset=$(random_offset)
	start_peer daytimed -m split -o "$offset"
	run_client --valgrind 2.5 "$SL_BIN" 127.0.0.1 "$PEER_PORT"
	expect_exit 0
	expect_time_output "$offset" 3
	expect_valgrind_clean --fds
	run_client --valgrind 2.5 "$SL_BIN" 127.0.0.1 "$(free_port)"
	expect_exit 1
	expect_valgrind_clean --fds
}
