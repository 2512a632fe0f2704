#!/usr/bin/env bats
# Lab 01, gettime: a daytime client.  Each test starts the grader's daytime
# server (grader/peers/daytimed.c) on a free loopback port, with its clock
# moved by a random offset so no answer can be hard-coded, and runs the
# student's gettime against it.  The client runs in a time zone that is
# not UTC, so local-time conversions (mktime, localtime) show.  100 points.
# shellcheck disable=SC2154 # status and verdict are set by run_client

bats_require_minimum_version 1.5.0
load ../lib/helpers

# shellcheck disable=SC2034 # read by bats
BATS_TEST_TIMEOUT=$(awk -v k="${TIMEOUT_SCALE:-1}" 'BEGIN { print int(90 * k) }')

# Time limits for one run, in seconds (TIMEOUT_SCALE and valgrind stretch
# them).  A correct gettime finishes in a few milliseconds on loopback;
# the limits are short because a program that never ends waits out one of
# them in every test, and the whole lab must grade within a minute.
QUICK=1.5
DRIP=2.5     # the reply dripped a byte every 10 ms: about 0.5 s
DEADLINE=12  # gettime's own deadline is 10 s

setup() {
	sl_setup
	export TZ=XST-5:30 # a zone 5 h 30 min from UTC, no daylight saving
}

# random_offset ahead|behind|after-2038: seconds to move the server's
# clock: ahead (1000 s to the end of 2037), behind (back as far as
# 2001), or landing in 2040-2098 (past the 32-bit time_t limit).
random_offset() {
	local now lo hi
	now=$(date +%s)
	case $1 in
	ahead) lo=1000 hi=$((2145916800 - now)) ;;        # .. 2038-01-01
	behind) lo=$((978307200 - now)) hi=-1000 ;;       # 2001-01-01 ..
	after-2038) lo=$((2208988800 - now)) hi=$((4070908800 - now)) ;; # 2040 .. 2099
	esac
	random_number "$lo" "$hi"
}

# tolerance: how far the offset may be from the server's, in seconds
# (the server's second may tick over before the client reads its clock).
tolerance() { awk -v k="${TIMEOUT_SCALE:-1}" -v f="${1:-1}" 'BEGIN { print int(k * f + 0.99) }'; }

# sent: what the daytime peer sent, as its log shows it.
sent() { sed -n 's/^\[.*\] sent[^:]*: //p' "$PEER_LOG" | tail -1; }

# reproduce: a line telling the student how to replay this test by hand.
reproduce() {
	echo "to try it yourself: ./build/peers/daytimed -p 1313 $PEER_ARGS &"
	echo "                    ./build/labs/01-gettime/gettime ${1:-127.0.0.1} 1313"
}

# explain_run: append what the server sent and what a correct gettime
# prints to a failure already reported (for failures on the exit status).
explain_run() {
	{
		if grep -q "connection accepted" "$PEER_LOG"; then
			echo "the server sent: \"$(sent)\""
		else
			echo "the program never connected to the test server (port $PEER_PORT)"
		fi
		[[ -n ${1:-} ]] && echo "a correct gettime prints: $1"
		reproduce "${2:-}"
	} >>"$EVID/message"
	return 1
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
	local want=("sent:     \"$(sent)\""
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

# expect_peer_contacted: the program connected to the daytime peer.
expect_peer_contacted() {
	grep -q "connection accepted" "$PEER_LOG" && return 0
	fail FAIL "the program never connected to the test server (port $PEER_PORT)" \
		"command: $(cat "$EVID/command")" "stderr:" "$(show "$EVID/stderr")"
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

@test "[5] prints usage for -h and exits 2 on bad usage" {
	hint "the usage handling in main(), given in the starter"
	run_client "$QUICK" "$SL_BIN" -h
	expect_exit 0
	if [[ ! -s $EVID/stdout && ! -s $EVID/stderr ]]; then
		fail FAIL "'gettime -h' should print a usage message; it printed nothing"
		return 1
	fi
	run_client "$QUICK" "$SL_BIN" one two three
	expect_exit 2
	run_client "$QUICK" "$SL_BIN" -x
	expect_exit 2
}

@test "[10] prints the server's date, time and clock offset (server ahead)" {
	hint "handout steps 1-5; the two output lines are shown in the handout's Background section"
	a_correct_run "$(random_offset ahead)" 127.0.0.1
}

@test "[5] shows a negative offset when the server's clock is behind" {
	hint "handout step 5: offset = server time - time(NULL), printed with %+ld"
	a_correct_run "$(random_offset behind)" 127.0.0.1
}

@test "[5] handles a date after 2038 (no 32-bit time arithmetic)" {
	hint "handout step 5: seconds since 1970 pass 2^31 in 2038: compute them in long long"
	a_correct_run "$(random_offset after-2038)" 127.0.0.1
}

@test "[10] reads a reply that arrives one byte at a time" {
	hint "handout step 3: one recv() returns whatever has arrived; keep calling it until it returns 0"
	local offset
	offset=$(random_offset ahead)
	start_peer daytimed -m drip -d 10 -o "$offset"
	run_client "$DRIP" "$SL_BIN" 127.0.0.1 "$PEER_PORT"
	expect_exit 0 || explain_run || return 1
	expect_time_output "$offset" "$(tolerance 2)"
}

@test "[10] talks to a server on IPv6 (::1)" {
	need_ipv6
	hint "handout steps 1-2: getaddrinfo() with AF_UNSPEC, and socket() with the family it returns"
	a_correct_run "$(random_offset ahead)" ::1 -a ::1
}

@test "[5] accepts a host name (localhost), trying each of its addresses" {
	hint "handout steps 1-2: getaddrinfo() resolves names; try every address it returns, in turn"
	local last
	# The peer listens on the name's last address, so a client that tries
	# only the first fails (where localhost has more than one address).
	last=$("$SL_PEERS/porttool" resolve localhost | tail -1)
	[[ -n $last ]] || skip "localhost does not resolve on this machine (0 points)"
	a_correct_run "$(random_offset ahead)" localhost -a "$last"
}

@test "[5] reports a refused connection and exits 1" {
	hint "handout step 2: when no address accepts, print strerror(errno) and return -1"
	local port
	port=$(free_port)
	run_client "$QUICK" "$SL_BIN" 127.0.0.1 "$port"
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
	# RES_OPTIONS makes a resolver that cannot reach its DNS server give
	# up in a second or two instead of ten (glibc; others ignore it).
	RES_OPTIONS="timeout:1 attempts:1" run_client 4 "$SL_BIN" no-such-host.invalid 13
	expect_exit 1
	if ! grep -qiE "no-such-host\.invalid|not known|not found|resolve|no address|temporary failure" "$EVID/stderr"; then
		fail FAIL "stderr should say that the name no-such-host.invalid could not be resolved" \
			"expected: gettime: cannot resolve no-such-host.invalid port 13: <gai_strerror's text>" \
			"got:" "$(show "$EVID/stderr")"
		return 1
	fi
}

@test "[10] gives up within 10 s in all on a server that trickles, then falls silent" {
	hint "handout step 3: fix the deadline once, before the loop, and poll() only for the time left"
	# 20 bytes, 300 ms apart (6 s), then silence: a client whose 10 s
	# restart with every piece would wait 16 s.
	start_peer daytimed -m stall -k 20 -d 300
	run_client "$DEADLINE" "$SL_BIN" 127.0.0.1 "$PEER_PORT"
	expect_peer_contacted
	if [[ $verdict == timeout ]]; then
		fail TIME "the server sent 20 bytes over 6 s, then nothing: gettime should give up 10 s after it started reading; it was still waiting after $SL_CLIENT_LIMIT s" \
			"(a wait of 10 s that starts again after every piece, or no deadline at all, waits longer)" \
			"the server sent: \"$(sent)\"" \
			"stderr so far:" "$(show "$EVID/stderr")" "$(reproduce)"
		return 1
	fi
	expect_exit 1
	expect_stderr_says "that no complete reply came in time"
}

@test "[5] reports a server that closes without a reply and exits 1" {
	hint "handout step 3: recv() returning 0 at once means an empty reply; main() reports it"
	start_peer daytimed -m close
	run_client "$QUICK" "$SL_BIN" 127.0.0.1 "$PEER_PORT"
	expect_peer_contacted
	expect_exit 1
	expect_stderr_says "that the server sent nothing"
}

@test "[5] refuses a reply that is not in NIST format and shows it" {
	hint "handout step 4: check every field; the starter's main() shows the reply on stderr"
	local text
	text="$(date -u '+%A, %B %d, %Y %H:%M:%S')-UTC (no NIST here, check $RANDOM)"
	start_peer daytimed -m text -T "$text"
	run_client "$QUICK" "$SL_BIN" 127.0.0.1 "$PEER_PORT"
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
	run_client "$QUICK" "$SL_BIN" 127.0.0.1 "$PEER_PORT"
	expect_peer_contacted
	if [[ $status -eq 0 ]]; then
		fail FAIL "a reply with the time 25:61:07 should be refused (exit 1)" \
			"sent:     \"$text\\n\"" "got on stdout:" "$(show "$EVID/stdout")"
		return 1
	fi
	expect_exit 1
}

@test "[5] refuses a reply longer than 4 KiB, without overflowing its buffer" {
	hint "handout step 3: recv() at most the room left (size - 1 - len); a full buffer means the reply is too long"
	start_peer daytimed -m flood
	run_client "$QUICK" "$SL_BIN" 127.0.0.1 "$PEER_PORT"
	expect_peer_contacted
	expect_exit 1 || explain_run || return 1
	if [[ -s $EVID/stdout ]]; then
		fail FAIL "the server sent 100000 bytes of NIST lines: that is no daytime reply, nothing should go to stdout" \
			"got on stdout:" "$(show "$EVID/stdout")"
		return 1
	fi
}

@test "[5] warns when the server reports bad health, and still prints the time" {
	hint "handout step 4 gives the health field; main() warns on stderr when it is not 0"
	local offset
	offset=$(random_offset ahead)
	start_peer daytimed -H 2 -o "$offset"
	run_client "$QUICK" "$SL_BIN" 127.0.0.1 "$PEER_PORT"
	expect_exit 0 || explain_run || return 1
	expect_time_output "$offset" "$(tolerance)"
	expect_stderr_says "a warning that the server's health is 2"
}

@test "[5] runs clean under valgrind (no memory errors or leaks)" {
	need_valgrind
	hint "handout steps 1-4: freeaddrinfo() the list on every path, and fill every field of the struct you use"
	# A correct exchange, then a refused connection; only valgrind's
	# findings count here (the other tests judge the output).
	start_peer daytimed -o "$(random_offset ahead)"
	# First without valgrind: a program that does not work (or hangs)
	# fails here in a second, not after valgrind's longer limit.
	run_client "$QUICK" "$SL_BIN" 127.0.0.1 "$PEER_PORT"
	expect_exit 0 ||
		{ echo "(this test needs a gettime that works: it checks the memory use of a correct exchange)" >>"$EVID/message"; return 1; }
	run_client --valgrind "$QUICK" "$SL_BIN" 127.0.0.1 "$PEER_PORT"
	expect_finished
	expect_valgrind_clean
	rm -f "$EVID"/valgrind*.log
	run_client --valgrind "$QUICK" "$SL_BIN" 127.0.0.1 "$(free_port)"
	expect_finished
	expect_valgrind_clean
}
