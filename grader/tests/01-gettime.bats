#!/usr/bin/env bats
# Lab 01, gettime: a daytime client.  Each test starts the grader's daytime
# server (grader/peers/daytimed.c) on a free loopback port, with its clock
# moved by a random offset so no answer can be hard-coded, and runs the
# student's gettime against it.  The client runs in a time zone that is
# not UTC, so local-time conversions (mktime, localtime) show.  100 points.
# The helpers (and the time limits) are in grader/lib/lab01.bash.
# shellcheck disable=SC2154 # status and verdict are set by run_client
# shellcheck disable=SC2034 # L01_*, PEER_* are read by lab01.bash's helpers

bats_require_minimum_version 1.5.0
load ../lib/helpers
load ../lib/lab01

sl_test_timeout 90

# The deadline test's 11 s run in the background while the others run.
setup_file() {
	sl_fast_traps
	if sl_will_run "[3] waits its whole 10 s for a reply that takes 9.4 s (a deadline in milliseconds, not whole seconds)" \
		"[6] gives up within 10 s in all on a server that trickles, then falls silent (even when time ran out while it was stopped)"; then
		lab01_deadline_start
	fi
	sanitizer_build_start
}
teardown_file() { lab01_deadline_stop; }

setup() {
	sl_setup
	export TZ=XST-5:30 # a zone 5 h 30 min from UTC, no daylight saving
	L01_CASE="" L01_WHY="" L01_PROBE=()
	declare -gA L01_CAUSE_OF=() # refuse_each's WHY -> the root cause it shows
}

@test "[3] prints usage for -h and exits 2 on bad usage" {
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
	a_correct_run "$(random_offset ahead)" 127.0.0.1 || return 1
	# and a server that agrees with this clock: +0 s, the sign shown
	mv "$EVID/stdout" "$EVID/ahead.stdout"
	a_correct_run 0 127.0.0.1
}

@test "[2] shows a negative offset when the server's clock is behind" {
	hint "handout step 5: offset = server time - time(NULL), printed with %+ld"
	a_correct_run "$(random_offset behind)" 127.0.0.1
}

@test "[3] handles a date after 2038 (no 32-bit time arithmetic)" {
	hint "handout step 5: seconds since 1970 pass 2^31 in 2038: compute them in long long"
	a_correct_run "$(random_offset after-2038)" 127.0.0.1
}

@test "[3] is right in a time zone with daylight saving (a July date under TZ=EST5EDT)" {
	hint "handout step 5: the server's time in seconds comes from the MJD by arithmetic, in UTC; mktime() reads a struct tm as local time, daylight saving included"
	# A POSIX TZ string: needs no time zone files.  In July this zone
	# is 4 h behind UTC (EDT), in January 5 h (EST): a conversion that
	# takes out the zone's standard offset but not daylight saving is
	# 3600 s off here, and right in the test's other zone (no DST).
	export TZ='EST5EDT,M3.2.0,M11.1.0'
	L01_CASE=dst
	local y days target
	y=$(random_number 2027 2037)
	# days from 1970-01-01 to July 1 of year y
	days=$(((y - 1970) * 365 + ((y - 1) / 4 - (y - 1) / 100 + (y - 1) / 400) - (1969 / 4 - 1969 / 100 + 1969 / 400) + 181))
	((y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) && days=$((days + 1))
	target=$(((days + $(random_number 0 29)) * 86400 + $(random_number 3600 79200)))
	L01_OFFSET=$((target - $(date +%s)))
	if ! a_correct_run "$L01_OFFSET" 127.0.0.1; then
		echo "(gettime ran with TZ='$TZ', a zone with daylight saving; the server's date is in July, when that zone is 4 h behind UTC, not 5; add TZ='$TZ' before ./build/labs/01-gettime/gettime to try it)" >>"$EVID/message"
		return 1
	fi
}

@test "[3] takes the full year from the day number (dates in 1999 and 2100)" {
	hint "handout step 4: the full year comes from the MJD (date_from_mjd()), never from 2000 + YY"
	L01_CASE=year
	local y
	for y in 1999 2100; do
		L01_YEAR=$y
		a_correct_run "$(random_offset "in-$y")" 127.0.0.1 || return 1
		mv "$EVID/stdout" "$EVID/$y.stdout"
	done
}

@test "[5] reads a reply that arrives one byte at a time" {
	hint "handout step 3: one recv() returns whatever has arrived; keep calling it until it returns 0"
	local offset
	offset=$(random_offset ahead)
	start_peer daytimed -m drip -d 10 -o "$offset"
	run_client "$DRIP" "$SL_BIN" 127.0.0.1 "$PEER_PORT"
	expect_exit 0 || explain_run || return 1
	expect_time_output "$offset" "$(tolerance 2)"
}

@test "[5] reads a reply that recv() cuts short and interrupts (EINTR)" {
	need_shortio
	hint "handout step 3: each recv() may return a few bytes, or fail with EINTR: append at buf + len, retry on EINTR, stop only when it returns 0"
	L01_CASE=shim
	local offset
	offset=$(random_offset ahead)
	start_peer daytimed -o "$offset"
	# every recv()/read() on the socket moves 1 to 3 bytes; every 4th fails
	run_client --shortio "3,eintr=4" "$QUICK" "$SL_BIN" 127.0.0.1 "$PEER_PORT"
	expect_peer_contacted || return 1
	expect_shortio_loaded
	if (($(shortio_count recv) + $(shortio_count read) == 0)); then
		skip "the grader's partial-I/O shim changes recv() and read(); your program read the socket with neither (recvfrom? recvmsg?), so this test cannot judge it (0 points)"
	fi
	local said
	said=$(shortio_said)
	if ! expect_exit 0; then
		printf '%s\n' "$said" \
			"(a real network does this too: recv() returns what has arrived, and a signal makes a waiting call fail with EINTR)" \
			"the grader's shim log is shortio.log in the evidence folder" >>"$EVID/message"
		explain_run
		return 1
	fi
	expect_time_output "$offset" "$(tolerance)" || { echo "$said" >>"$EVID/message"; return 1; }
}

@test "[3] talks to a server on IPv6 (::1)" {
	need_ipv6
	hint "handout steps 1-2: getaddrinfo() with AF_UNSPEC, and socket() with the family it returns"
	a_correct_run "$(random_offset ahead)" ::1 -a ::1
}

@test "[2] accepts a host name (localhost)" {
	hint "handout step 1: getaddrinfo() resolves names as well as numeric addresses"
	local last
	# The peer listens on the name's last address (on most machines
	# localhost has one: the test of every address is the next one).
	last=$("$SL_PEERS/porttool" resolve localhost | tail -1)
	[[ -n $last ]] || skip "localhost does not resolve on this machine (0 points)"
	a_correct_run "$(random_offset ahead)" localhost -a "$last"
}

# two_address_peer [DAYTIMED OPTIONS...]: a name with two addresses (see
# two_address_name), the daytime peer on the last, nothing on the first.
two_address_peer() {
	local _try
	two_address_name
	for _try in 1 2; do
		start_peer daytimed -a "$MULTI_LAST" "$@" || return 1
		refuses "$MULTI_FIRST" "$PEER_PORT" && return 0
		stop_process "$PEER_PID"
	done
	skip "something listens on $MULTI_FIRST port $PEER_PORT, so the first address cannot be made to refuse (0 points)"
}

# multi_story: what the name and its two addresses were, for a message.
multi_story() {
	echo "the name $MULTI_NAME has two addresses here (a private /etc/hosts, saved as hosts in the evidence folder), in getaddrinfo's order:"
	echo "  1. $MULTI_FIRST: nothing listens there, connect() is refused"
	echo "  2. $MULTI_LAST: the test server, port $PEER_PORT"
	echo "to try it yourself (Linux), with that hosts file in place of /etc/hosts, in a private namespace:"
	echo "  ./build/peers/daytimed -a $MULTI_LAST -p 1313 &"
	echo "  unshare -rm sh -c 'mount --bind \"\$0\" /etc/hosts && exec ./build/labs/01-gettime/gettime $MULTI_NAME 1313' HOSTS"
	echo "  (HOSTS: the file hosts in the evidence folder)"
}

@test "[4] tries every address of a name until one connects (the first refuses)" {
	hint "handout step 2: when connect() fails, close that socket and try the next address of the list (ai = ai->ai_next)"
	L01_CASE=multi
	local offset
	offset=$(random_offset ahead)
	two_address_peer -o "$offset"
	L01_PROBE=(--hosts "$HOSTS_FILE" "$MULTI_NAME" "$PEER_PORT")
	run_client --hosts "$HOSTS_FILE" "$QUICK" "$SL_BIN" "$MULTI_NAME" "$PEER_PORT"
	if ! expect_exit 0; then
		multi_story >>"$EVID/message"
		grep -q "connection accepted" "$PEER_LOG" && echo "the server sent: $(sent)" >>"$EVID/message"
		return 1
	fi
	expect_time_output "$offset" "$(tolerance)" "$MULTI_NAME"
}

@test "[3] connects only once: stops at the first address that accepts (both listen)" {
	hint "handout step 2: keep the first socket that connects and stop trying (break out of the loop); the other addresses are for when it fails"
	L01_CASE=once
	local offset first_log last_log port n_first n_last
	offset=$(random_offset ahead)
	two_address_peer -o "$offset"
	last_log=$PEER_LOG port=$PEER_PORT
	# a second daytime server, on the first address, the same port
	if ! start_peer daytimed -a "$MULTI_FIRST" -p "$port" -o "$offset" 2>/dev/null; then
		rm -f "$EVID/message" "$EVID/verdict" "$EVID/cause"
		skip "the grader could not listen on $MULTI_FIRST port $port too, so this test cannot run here (0 points)"
	fi
	first_log=$PEER_LOG
	L01_PROBE=(--hosts "$HOSTS_FILE" "$MULTI_NAME" "$port")
	run_client --hosts "$HOSTS_FILE" "$QUICK" "$SL_BIN" "$MULTI_NAME" "$port"
	expect_exit 0 || return 1
	sleep 0.05 # a connection gettime did not read from is logged a moment later
	n_first=$(grep -c "connection accepted" "$first_log" || true)
	n_last=$(grep -c "connection accepted" "$last_log" || true)
	if ((n_first + n_last != 1)); then
		L01_CONNECTIONS="$n_first $n_last"
		fail FAIL "gettime should connect once, to the first address that accepts; it made $((n_first + n_last)) connections" \
			"the name $MULTI_NAME has two addresses here (a private /etc/hosts, saved as hosts in the evidence folder), both with a daytime server on port $port:" \
			"  1. $MULTI_FIRST: $n_first connection(s) (its log: $(basename "$first_log") in the evidence folder)" \
			"  2. $MULTI_LAST: $n_last connection(s) (its log: $(basename "$last_log"))" \
			"(every connection costs the server a reply; NIST's servers refuse clients that ask more than once every 4 s)" \
			"stdout:" "$(show "$EVID/stdout")"
		return 1
	fi
	if ((n_first == 1)); then
		PEER_LOG=$first_log expect_time_output "$offset" "$(tolerance)" "$MULTI_NAME"
	fi
}

@test "[3] closes the socket of an address that refused before it tries the next" {
	need_valgrind
	hint "handout step 2: close() the socket whose connect() failed, before trying the next address"
	L01_CASE=fds
	two_address_peer -o 0
	# First without valgrind: a program that does not get there fails in
	# a second, not after valgrind's longer limit.
	L01_PROBE=(--hosts "$HOSTS_FILE" "$MULTI_NAME" "$PEER_PORT")
	run_client --hosts "$HOSTS_FILE" "$QUICK" "$SL_BIN" "$MULTI_NAME" "$PEER_PORT"
	if [[ $verdict != ok || $status -ne 0 ]]; then
		expect_exit 0 ||
			{ echo "(this test needs a gettime that tries every address: see the test before it)" >>"$EVID/message"; return 1; }
	fi
	run_client --valgrind --hosts "$HOSTS_FILE" "$QUICK" "$SL_BIN" "$MULTI_NAME" "$PEER_PORT"
	expect_finished || return 1
	local log leaked=""
	for log in "$EVID"/valgrind*.log; do
		[[ -f $log ]] && leaked+=$(unconnected_sockets "$log")
	done
	if [[ -n $leaked ]]; then
		L01_LEAKED=1
		fail FAIL "a socket that never connected was still open when gettime exited (valgrind --track-fds):" \
			"$leaked" "$(multi_story)" \
			"(a client that leaves one socket open gets away with it; a program that tries a hundred addresses, or a server that runs for weeks, runs out of descriptors)" \
			"the full valgrind log is valgrind.*.log in the evidence folder"
		return 1
	fi
}

@test "[3] reports a refused connection and exits 1" {
	hint "handout step 2: when no address accepts, print strerror(errno) and return -1"
	L01_CASE=refused
	local port
	port=$(free_port)
	L01_PROBE=(127.0.0.1 "$port")
	run_client "$QUICK" "$SL_BIN" 127.0.0.1 "$port"
	expect_exit 1 || return 1
	if ! grep -qi "refused" "$EVID/stderr"; then
		fail FAIL "nothing listens on port $port: stderr should say the connection was refused (strerror)" \
			"expected: gettime: ...: Connection refused" \
			"got:" "$(show "$EVID/stderr")"
		return 1
	fi
	if ! grep -qiE "^gettime: .+: [^:]*refused[^:]*$" "$EVID/stderr"; then
		fail FAIL "an error reads 'gettime: what failed: why' (SPEC §3, the handout's Background): the program's name first, the reason (strerror's text) last" \
			"expected: gettime: cannot connect to 127.0.0.1 port $port: Connection refused   (the middle words are yours)" \
			"got:" "$(show "$EVID/stderr")"
		return 1
	fi
}

@test "[3] reports the reason of the call that failed (errno saved at once, socket() checked)" {
	hint "handout step 2: save errno right after the call that failed (socket() or connect()), before close() or anything else can change it"
	need_shortio
	local port closes
	port=$(free_port)
	# 1. A refused connection, with a close() that changes errno when it
	#    succeeds (as POSIX allows any call that succeeds to do).
	L01_CASE=errno-close
	L01_PROBE=(--shortio "0,close-errno=1" 127.0.0.1 "$port")
	run_client --shortio 0,close-errno=1 "$QUICK" "$SL_BIN" 127.0.0.1 "$port"
	expect_finished || return 1
	expect_shortio_loaded
	expect_exit 1 || return 1
	closes=$(grep -c " close fd=[0-9]* ok, errno left ENOTTY" "$EVID/shortio.log" || true)
	if ! grep -qi "refused" "$EVID/stderr"; then
		fail FAIL "nothing listens on port $port: stderr should say the connection was refused (strerror of connect's errno)" \
			"(in this test, a close() that succeeds leaves errno at ENOTTY, \"Inappropriate ioctl for device\": POSIX lets any call that succeeds change errno, so errno must be saved right after connect() fails; $closes close() call(s) did it here)" \
			"expected: gettime: ...: Connection refused" \
			"got:" "$(show "$EVID/stderr")" \
			"the calls the grader's shim changed: shortio.log in the evidence folder"
		return 1
	fi
	mv "$EVID/stderr" "$EVID/refused.stderr"
	mv "$EVID/shortio.log" "$EVID/refused.shortio.log"
	# 2. socket() fails: this process is out of descriptors (EMFILE).
	L01_CASE=socket
	start_peer daytimed -o 0
	L01_PROBE=(--shortio "0,socket-fail=1" 127.0.0.1 "$PEER_PORT")
	run_client --shortio 0,socket-fail=1 "$QUICK" "$SL_BIN" 127.0.0.1 "$PEER_PORT"
	expect_finished || return 1
	expect_shortio_loaded
	if ! grep -q " socket EMFILE" "$EVID/shortio.log"; then
		skip "the grader's shim did not reach your program's socket() calls, so this test cannot judge it (0 points)"
	fi
	expect_exit 1 || return 1
	if ! grep -qi "too many open files" "$EVID/stderr"; then
		fail FAIL "every socket() failed with EMFILE (the grader made it: as when a process is out of descriptors): stderr should say why, with strerror" \
			"expected: gettime: ...: Too many open files" \
			"got:" "$(show "$EVID/stderr")" \
			"the calls the grader's shim changed: shortio.log in the evidence folder"
		return 1
	fi
}

@test "[3] reports a host name that does not resolve and exits 1" {
	hint "handout step 1: print gai_strerror()'s text when getaddrinfo() fails"
	L01_CASE=resolve
	local reason
	# RES_OPTIONS makes a resolver that cannot reach its DNS server give
	# up in a second or two instead of ten (glibc; others ignore it).
	# porttool asks the same resolver, for gai_strerror's text here.
	export RES_OPTIONS="timeout:1 attempts:1"
	reason=$("$SL_PEERS/porttool" resolve no-such-host.invalid 2>&1 >/dev/null |
		sed -n 's/^porttool: no-such-host\.invalid: //p')
	[[ -n $reason ]] || skip "no-such-host.invalid resolves on this machine (its DNS answers every name?), so this test cannot run here (0 points)"
	run_client 4 "$SL_BIN" no-such-host.invalid 13
	expect_exit 1 || return 1
	local want=("expected: gettime: cannot resolve no-such-host.invalid port 13: $reason" \
		"          (the text is gai_strerror()'s: here getaddrinfo() says \"$reason\")" \
		"got:" "$(show "$EVID/stderr")")
	if grep -qiE ": (success|undefined error: 0)$" "$EVID/stderr"; then
		fail FAIL "stderr says \"Success\" for a name that did not resolve: that is strerror(errno), and getaddrinfo() does not set errno" \
			"${want[@]}"
		return 1
	fi
	# The resolver may answer differently from one call to the next (no
	# DNS server: "Temporary failure"); any of its texts will do.
	if ! grep -qiF -- "$reason" "$EVID/stderr" &&
		! grep -qiE "not known|does not resolve|name resolution|no address associated|nodename nor servname" "$EVID/stderr"; then
		fail FAIL "stderr should give the resolver's reason, gai_strerror()'s text" "${want[@]}"
		return 1
	fi
	local line ok=""
	while IFS= read -r line; do
		[[ $line == "gettime: "*": $reason" ]] && ok=1
		[[ $line == "gettime: "* && ${line,,} =~ :\ [^:]*(not\ known|does\ not\ resolve|name\ resolution|no\ address\ associated|nodename\ nor\ servname)[^:]*$ ]] && ok=1
	done <"$EVID/stderr"
	if [[ -z $ok ]]; then
		L01_NO_PREFIX=1
		fail FAIL "an error reads 'gettime: what failed: why' (SPEC §3, the handout's Background): the program's name first, gai_strerror()'s text last" \
			"${want[@]}" "(the middle words are yours)"
		return 1
	fi
}

@test "[3] reports a server that closes without a reply and exits 1" {
	hint "handout step 3: recv() returning 0 at once means an empty reply; main() reports it"
	start_peer daytimed -m close
	run_client "$QUICK" "$SL_BIN" 127.0.0.1 "$PEER_PORT"
	expect_peer_contacted || return 1
	expect_exit 1
	expect_stderr_says "that the server sent nothing"
}

@test "[3] refuses a reply that is not in NIST format and shows it" {
	hint "handout step 4: check every field; the starter's main() shows the reply on stderr"
	local text
	text="$(date -u '+%A, %B %d, %Y %H:%M:%S')-UTC (no NIST here, check $RANDOM)"
	start_peer daytimed -m text -T "$text"
	run_client "$QUICK" "$SL_BIN" 127.0.0.1 "$PEER_PORT"
	expect_peer_contacted || return 1
	expect_exit 1 || explain_run || return 1
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

@test "[3] refuses a reply with more than NIST's 9 fields" {
	hint "handout step 4: there must be exactly 9 fields: count them all, and refuse a tenth"
	L01_CASE=fields
	L01_FIELD_CAUSE="more than 9 fields were accepted: count every field strtok_r() finds, there must be exactly 9 (step 4)"
	nist_now
	if ! refuse_each \
		"a tenth field after the marker" $'\n'"$NOW_LINE extra" \
		"two NIST lines back to back (18 fields)" $'\n'"$NOW_LINE"$'\n\n'"$NOW_LINE"; then
		printf '%s\n' "$L01_WHY" >"$(lab01_run_file fields-failed)"
		return 1
	fi
}

@test "[4] refuses a reply whose fields do not have NIST's form" {
	hint "handout step 4: check the form of every field, not only of those you use: has_shape() for the digits, then UTC(NIST) and * or #"
	L01_CASE=fields
	L01_FIELD_CAUSE="a field not in NIST's form was accepted: check every field's form (step 4), even the ones gettime does not print"
	local a
	for a in nan -inf "0x1p4 (hexadecimal)" "1.2.3 (two points)"; do
		L01_CAUSE_OF["msADV is $a"]="msADV was not checked as digits (strtod() and %f take nan, inf, hexadecimal and signs): it is digits, maybe a '.' and more digits (step 4)"
	done
	L01_CAUSE_OF["the label is UTC(NIST)X, not UTC(NIST)"]="the label was compared by its first 9 characters only (strncmp): the whole field must be UTC(NIST), strcmp() (step 4)"
	L01_CAUSE_OF["the marker is *X, not * or #"]="only the marker's first character was checked: the whole field must be * or # (step 4)"
	L01_CAUSE_OF["the marker is #junk, not * or #"]=${L01_CAUSE_OF["the marker is *X, not * or #"]}
	nist_now
	local m=$NOW_MJD d=$NOW_DATE t=$NOW_TIME tt=00 l=0 h=0 adv=$NOW_ADV label="UTC(NIST)"
	refuse_each \
		"the day number (MJD) is not five digits" $'\n'"${m}x $d $t $tt $l $h $adv $label *" \
		"the date is not YY-MM-DD" $'\n'"$m ${d//-//} $t $tt $l $h $adv $label *" \
		"the time is not HH:MM:SS" $'\n'"$m $d ${t//:/.} $tt $l $h $adv $label *" \
		"TT (daylight saving) is not two digits" $'\n'"$m $d $t zz $l $h $adv $label *" \
		"L (leap second) is not one digit" $'\n'"$m $d $t $tt q $h $adv $label *" \
		"H (health) is not one digit" $'\n'"$m $d $t $tt $l -3 $adv $label *" \
		"msADV is not a number" $'\n'"$m $d $t $tt $l $h abc $label *" \
		"msADV is nan" $'\n'"$m $d $t $tt $l $h nan $label *" \
		"msADV is -inf" $'\n'"$m $d $t $tt $l $h -inf $label *" \
		"msADV is 0x1p4 (hexadecimal)" $'\n'"$m $d $t $tt $l $h 0x1p4 $label *" \
		"msADV is 1.2.3 (two points)" $'\n'"$m $d $t $tt $l $h 1.2.3 $label *" \
		"the label is not UTC(NIST)" $'\n'"$m $d $t $tt $l $h $adv UTC(USNO) *" \
		"the label is UTC(NIST)X, not UTC(NIST)" $'\n'"$m $d $t $tt $l $h $adv UTC(NIST)X *" \
		"the marker is X, not * or #" $'\n'"$m $d $t $tt $l $h $adv $label X" \
		"the marker is *X, not * or #" $'\n'"$m $d $t $tt $l $h $adv $label *X" \
		"the marker is #junk, not * or #" $'\n'"$m $d $t $tt $l $h $adv $label #junk"
}

@test "[4] refuses a NIST-shaped reply with an impossible time (and accepts a leap second)" {
	hint "handout step 4: check the ranges of all three (hours 0-23, minutes 0-59, seconds 0-60)"
	L01_CASE=fields
	L01_FIELD_CAUSE="an impossible time was accepted: check the range of the hour, the minute and the second (step 4)"
	nist_now
	local tail="00 0 0 50.0 UTC(NIST) *" hh=${NOW_TIME%%:*}
	refuse_each \
		"the hour is 24" $'\n'"$NOW_MJD $NOW_DATE 24:${NOW_TIME#*:} $tail" \
		"the minute is 60" $'\n'"$NOW_MJD $NOW_DATE $hh:60:${NOW_TIME##*:} $tail" \
		"the second is 61" $'\n'"$NOW_MJD $NOW_DATE ${NOW_TIME%:*}:61 $tail" || return 1
	# 23:59:60 is a leap second: a real time, which gettime prints.
	local text=$'\n'"$NOW_MJD $NOW_DATE 23:59:60 00 1 0 50.0 UTC(NIST) *" full next
	full=$(date_of_mjd "$NOW_MJD")
	next=$(date_of_mjd $((NOW_MJD + 1)))
	# the second reply, asked only when the first fails: L = 1 at a
	# time that is no leap second, to tell which one was refused
	local plain=$'\n'"$NOW_LINE"
	plain=${plain/ 00 0 0 / 00 1 0 }
	start_peer daytimed -T "$text" -T "$plain"
	run_client "$QUICK" "$SL_BIN" 127.0.0.1 "$PEER_PORT"
	L01_FIELD_CAUSE=""
	if [[ $status -ne 0 || $(sed -n 1p "$EVID/stdout") != "$full 23:59:60 UTC" &&
		$(sed -n 1p "$EVID/stdout") != "$next 00:00:00 UTC" ]]; then
		expect_finished || return 1
		hint "handout step 4 and the Background section: seconds run 0-60 (60 is a leap second), and L, the leap flag, may be 0, 1 or 2 (this reply has L = 1)"
		cp "$EVID/stdout" "$EVID/leap.stdout"
		cp "$EVID/stderr" "$EVID/leap.stderr"
		local st=$status
		run_client "$QUICK" "$SL_BIN" 127.0.0.1 "$PEER_PORT"
		if [[ $verdict == ok && $status -ne 0 ]]; then
			cause "a reply with L = 1 was refused: L, the leap flag, is 0 (none), 1 (a second added) or 2 (one removed) this month (the Background's table); check its form, one digit, not that it is 0 (step 4)"
			printf '%s\n' "(the grader then sent \"$(visible "$plain")\\n\", an ordinary time with L = 1: gettime refused that too, exit status $status; stderr: $(head -c 300 "$EVID/stderr"))" >"$EVID/leap.probe"
		fi
		mv "$EVID/stdout" "$EVID/plain-l1.stdout"
		mv "$EVID/stderr" "$EVID/plain-l1.stderr"
		cp "$EVID/leap.stdout" "$EVID/stdout"
		cp "$EVID/leap.stderr" "$EVID/stderr"
		status=$st
		local probe=()
		[[ -s $EVID/leap.probe ]] && probe=("$(cat "$EVID/leap.probe")")
		fail FAIL "a leap second (23:59:60) is a real time: gettime should print it, and exit 0" \
			"sent:     \"$(visible "$text")\\n\"" \
			"expected: $full 23:59:60 UTC (or $next 00:00:00 UTC)" \
			"got:      exit status $status; stdout:" "$(show "$EVID/stdout")" \
			"stderr:" "$(show "$EVID/stderr")" "${probe[@]}"
		return 1
	fi
}

@test "[3] refuses a reply whose date disagrees with its day number (MJD)" {
	hint "handout step 4: take the date from the MJD with date_from_mjd() and check it agrees with YY-MM-DD"
	L01_CASE=fields
	L01_FIELD_CAUSE="the date was never compared with the day number: date_from_mjd() must agree with YY-MM-DD (step 4)"
	nist_now
	local days yy why
	days=$(random_number 1 400)
	# the same month and day, another year: only YY disagrees
	yy=$(printf '%02d' $(((10#${NOW_DATE%%-*} + $(random_number 1 99)) % 100)))
	why="the day number says $(date_of_mjd "$NOW_MJD"), the date $yy-${NOW_DATE#*-} (only the year disagrees)"
	L01_CAUSE_OF[$why]="the year YY was never compared with the day number's: all of YY-MM-DD must agree with date_from_mjd() (YY is the year % 100) (step 4)"
	refuse_each \
		"the day number says $(date_of_mjd $((NOW_MJD - days))), the date $NOW_DATE" \
		$'\n'"$((NOW_MJD - days)) $NOW_DATE $NOW_TIME 00 0 0 50.0 UTC(NIST) *" \
		"$why" $'\n'"$NOW_MJD $yy-${NOW_DATE#*-} $NOW_TIME 00 0 0 50.0 UTC(NIST) *"
}

@test "[3] accepts a reply whose fields are separated by tabs, or whose lines end in CR LF" {
	hint "handout step 4: the fields are separated by spaces, tabs and line ends: strtok_r() on \" \\t\\r\\n\""
	L01_CASE=separators
	nist_now
	local texts i expect got
	texts=($'\n'"${NOW_LINE// /$'\t'}" $'\r\n'"$NOW_LINE"$'\r') # daytimed adds a \n
	local what=("its fields separated by tabs" "its lines ended in \\r\\n")
	expect="$(date_of_mjd "$NOW_MJD") $NOW_TIME UTC"
	start_peer daytimed -T "${texts[0]}" -T "${texts[1]}"
	for i in 0 1; do
		run_client "$QUICK" "$SL_BIN" 127.0.0.1 "$PEER_PORT"
		expect_peer_contacted || return 1
		expect_finished || return 1
		got=$(sed -n 2p "$EVID/stdout")
		if [[ $status -ne 0 || $(sed -n 1p "$EVID/stdout") != "$expect" ||
			! $got =~ ^local\ clock\ offset:\ [+-][0-9]+\ s$ ]]; then
			fail FAIL "a NIST reply with ${what[i]} is NIST's reply all the same: gettime should print it, and exit 0" \
				"sent:     \"$(visible "${texts[i]}")\\n\"" \
				"expected: $expect" \
				"          local clock offset: +0 s (or near it)" \
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

@test "[3] refuses a reply that fills 4 KiB (exactly 4096 bytes, or a flood), without overflowing its buffer" {
	hint "handout step 3: recv() at most the room left (size - 1 - len); a buffer that fills up means the reply is too long: EMSGSIZE"
	local run
	# 1. A NIST line padded with spaces to 4096 bytes: still nine fields,
	#    but it fills gettime's 4 KiB.  2. NIST lines back to back, 100 KB.
	for run in exact flood; do
		L01_CASE=fill-$run
		if [[ $run == exact ]]; then
			start_peer daytimed -z 4096 -o 0
		else
			start_peer daytimed -m flood
		fi
		run_client "$QUICK" "$SL_BIN" 127.0.0.1 "$PEER_PORT"
		expect_peer_contacted || return 1
		if [[ $run == exact ]]; then
			expect_exit 1 ||
				{ echo "(a reply of 4096 bytes, a NIST line and spaces, fills the 4 KiB buffer: it is no daytime reply)" >>"$EVID/message"; explain_run; return 1; }
		else
			expect_exit 1 || explain_run || return 1
		fi
		if [[ -s $EVID/stdout ]]; then
			fail FAIL "the server sent $(sent): that is no daytime reply, nothing should go to stdout" \
				"got on stdout:" "$(show "$EVID/stdout")"
			return 1
		fi
		mv "$EVID/stderr" "$EVID/$run.stderr"
		mv "$PEER_LOG" "$EVID/$run.daytimed.log"
	done
	# 3. 4095 bytes: one short of 4 KiB, read either way (printed, or
	#    refused as one that fills the buffer), but never misread.
	L01_CASE=""
	start_peer daytimed -z 4095 -o 0
	run_client "$QUICK" "$SL_BIN" 127.0.0.1 "$PEER_PORT"
	expect_finished || return 1
	if [[ $status -eq 0 ]]; then
		expect_time_output 0 "$(tolerance)" || return 1
	elif [[ $status -ne 1 || -s $EVID/stdout ]]; then
		fail FAIL "a reply of 4095 bytes (a NIST line and spaces) may be printed (exit 0) or refused (exit 1, nothing on stdout), nothing else" \
			"got: exit status $status; stdout:" "$(show "$EVID/stdout")" "stderr:" "$(show "$EVID/stderr")"
		return 1
	fi
}

@test "[3] never writes past its buffer (an AddressSanitizer build, replies of 4095 and 4096 bytes, a flood)" {
	hint "handout step 3: recv() at most size - 1 - len bytes, so that buf[len] = '\\0' stays inside the buffer"
	need_sanitizer_build
	asan_run "a NIST line padded to 4095 bytes" -z 4095 -o 0 || return 1
	asan_run "a NIST line padded to 4096 bytes" -z 4096 -o 0 || return 1
	asan_run "a flood of NIST lines" -m flood || return 1
}

@test "[2] warns when the server reports bad health (H = 2, H = 9), and still prints the time" {
	hint "handout step 4 gives the health field, one digit (0-9); main() warns on stderr when it is not 0"
	L01_CASE=health
	local offset h
	for h in 2 9; do
		L01_HEALTH=$h
		offset=$(random_offset ahead)
		start_peer daytimed -H "$h" -o "$offset"
		run_client "$QUICK" "$SL_BIN" 127.0.0.1 "$PEER_PORT"
		if ! expect_exit 0; then
			echo "(the health digit H was $h: any digit 0-9 is NIST's; 0 means healthy, any other the time may be off, and the time is still printed with a warning)" >>"$EVID/message"
			explain_run
			return 1
		fi
		expect_time_output "$offset" "$(tolerance)" || return 1
		expect_stderr_says "a warning that the server's health is $h" || return 1
		if ! grep -q "^gettime: ." "$EVID/stderr"; then
			fail FAIL "the warning goes to stderr as 'gettime: ...' (the handout's Background: everything but the two lines goes to stderr, as gettime: what failed: why)" \
				"the server sent: $(sent)" \
				"got on stderr:" "$(show "$EVID/stderr")" "$(reproduce)"
			return 1
		fi
		mv "$EVID/stdout" "$EVID/health-$h.stdout"
		mv "$EVID/stderr" "$EVID/health-$h.stderr"
	done
}

@test "[4] runs clean under valgrind (no memory errors or leaks), on its failure paths too" {
	need_valgrind
	hint "handout steps 1-4: freeaddrinfo() the list on every path (no address connects, too), and fill every field of the struct you use"
	L01_CASE=valgrind
	# Only valgrind's findings count here (the other tests judge the
	# output).  First without valgrind: a program that does not work (or
	# hangs) fails here in a second, not after valgrind's longer limit.
	start_peer daytimed -o "$(random_offset ahead)"
	run_client "$QUICK" "$SL_BIN" 127.0.0.1 "$PEER_PORT"
	expect_exit 0 ||
		{ echo "(this test needs a gettime that works: it checks the memory use of a correct exchange)" >>"$EVID/message"; return 1; }
	vg_run 1 "a correct exchange with the test server" 127.0.0.1 "$PEER_PORT" || return 1
	local port
	port=$(free_port)
	L01_PROBE=(127.0.0.1 "$port")
	vg_run 2 "a refused connection (nothing listens on that port)" 127.0.0.1 "$port" || return 1
	L01_PROBE=()
	local text="no NIST here $RANDOM"
	start_peer daytimed -T "$text"
	vg_run 3 "a reply not in NIST format (\"$text\\n\")" 127.0.0.1 "$PEER_PORT" || return 1
}

# Its run started in setup_file (lab01_deadline_start) and went on in the
# background meanwhile.
@test "[3] waits its whole 10 s for a reply that takes 9.4 s (a deadline in milliseconds, not whole seconds)" {
	hint "handout step 3: fix the deadline in milliseconds on a clock that never jumps, now_ms() + DEADLINE_MS; time() counts whole seconds"
	L01_CASE=slow
	deadline_collect slow || return 1
	expect_peer_contacted || return 1
	L01_ENDED=$(driver_said ended)
	local offset=${PEER_ARGS##*-o } story
	story=("the server dripped its reply one byte at a time, the first to the last over $(awk -v m="$L01_SLOW_MS" 'BEGIN { print m / 1000 }') s, then closed"
		"the grader started gettime $(sed -n 's/^started at second fraction //p' "$DRIVER") s into a second of the wall clock; it ended after $L01_ENDED s (its deadline is 10 s)"
		"(time(NULL) + 10 counts whole seconds: started 0.9 s into a second, it runs out 9.1 s later)"
		"to try it yourself: ./build/peers/daytimed -p 1313 -m drip -t $L01_SLOW_MS &"
		"                    ./build/labs/01-gettime/gettime 127.0.0.1 1313   (started late in a second)")
	if [[ $verdict == timeout ]]; then
		fail TIME "gettime should have printed the time after 9.4 s, or given up at 10 s; it was still waiting after $SL_CLIENT_LIMIT s, when the grader ended it" \
			"${story[@]}" "stderr so far:" "$(show "$EVID/stderr")"
		return 1
	fi
	expect_exit 0 || { printf '%s\n' "${story[@]}" >>"$EVID/message"; return 1; }
	# the server's time is from its accept, gettime's clock 9.4 s later
	expect_time_output "$((offset - 10))" "$(tolerance 2)"
}

# The last test: its two runs started in setup_file (lab01_deadline_start)
# and have gone on in the background meanwhile.
@test "[4] gives up within 10 s in all on a server that trickles, then falls silent (even when time ran out while it was stopped)" {
	hint "handout step 3: fix the deadline once, before the loop; poll() only for the time left, and when that is <= 0 time is up"
	local run ended story
	for run in silent stopped; do
		deadline_collect "$run" || return 1
		expect_peer_contacted || return 1
		ended=$(driver_said ended)
		local late=""
		[[ $run == stopped ]] && late=" until one more byte at $(awk -v m="$L01_LATE_MS" 'BEGIN { print m / 1000 }') s"
		story=("the server sends 20 bytes, one every 300 ms (6 s), then nothing$late")
		grep -q "^\[.*\] sent" "$PEER_LOG" &&
			story+=("  its log: $(sed -n 's/^\[.*\] \(sent[^:]*\): /\1: /p' "$PEER_LOG" | paste -sd'|' - | sed 's/|/; /g')")
		if [[ $run == stopped && -n $(driver_said stopped) ]]; then
			story+=("the grader stopped gettime (SIGSTOP) at $(driver_said stopped) s and let it go on (SIGCONT) at $(driver_said continued) s: its 10 s deadline passed while it was stopped (as when a laptop sleeps), and a byte came meanwhile")
		fi
		if [[ $verdict == timeout ]]; then
			if [[ $run == silent ]]; then
				fail TIME "gettime should give up 10 s after it started reading; it was still waiting after $SL_CLIENT_LIMIT s, when the grader ended it" \
					"${story[@]}" \
					"(a wait of 10 s that starts again after every piece, or no deadline at all, waits longer)" \
					"stderr so far:" "$(show "$EVID/stderr")" "$(reproduce)"
			else
				fail TIME "gettime should give up as soon as it goes on, its deadline past; it was still waiting at $SL_CLIENT_LIMIT s, when the grader ended it" \
					"${story[@]}" \
					"(when deadline - now_ms() is 0 or less, time is up: poll() given a negative timeout waits forever)" \
					"stderr so far:" "$(show "$EVID/stderr")" \
					"to try it yourself: ./build/peers/daytimed -p 1313 $PEER_ARGS &" \
					"                    ./build/labs/01-gettime/gettime 127.0.0.1 1313 &"\
					"                    sleep 8.5; kill -STOP %2; sleep 2.5; kill -CONT %2"
			fi
			return 1
		fi
		if awk -v e="$ended" 'BEGIN { exit !(e < 9) }'; then
			L01_CASE=deadline-early
			fail FAIL "gettime gave up after $ended s (exit status $status), while the server was still sending (about $(awk -v e="$ended" 'BEGIN { n = int(e / 0.3) + 1; print (n > 20 ? 20 : n) }') of its 20 bytes had gone out) and before its 10 s deadline" \
				"${story[@]}" \
				"(a reply is complete only when recv() returns 0; until then, keep reading, for 10 s in all)" \
				"stderr:" "$(show "$EVID/stderr")" "$(reproduce)"
			return 1
		fi
		expect_exit 1 || { printf '%s\n' "${story[@]}" >>"$EVID/message"; return 1; }
		expect_stderr_says "that no complete reply came in time" || return 1
	done
}
