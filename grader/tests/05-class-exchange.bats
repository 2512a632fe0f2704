#!/usr/bin/env bats
# Lab 05, exchange: fetch /myData.txt from every classmate of a roster,
# all at once, each within one deadline.  Each test runs a class of the
# grader's HTTP servers (grader/peers/httpd.c), each classmate on its own
# loopback address (127.0.0.20, .21, ...; distinct ports on 127.0.0.1
# where there are no aliases), serving a body made from a random seed
# (build/peers/datagen makes the same bytes again), and well or badly
# behaved: absent (nothing listens: refused), stalled (silent, or half a
# reply then nothing), 404, garbage, 1 MiB, chunked, dripped.  exchange
# runs in a fresh sandbox folder; the tests read its table by
# whitespace-separated fields (a header line optional, any widths), check
# every NAME.txt byte for byte, and that nothing is written outside
# OUTDIR.  They check the SPEC and the handout's contract only: how the
# class is fetched at once (threads, poll(), processes), the wording of
# messages, whether a duplicate name is an error, the status of a body
# that cannot be saved, are the program's own.  100 points.
# shellcheck disable=SC2154,SC2030,SC2031,SC2034,SC2153,SC2012 # verdict and status are set by run_client (helpers.bash), SL_PEERS by the driver; CLASS_* are read by lab05.bash; each test runs in a subshell of its own

bats_require_minimum_version 1.5.0
load ../lib/helpers
load ../lib/lab05
load ../lib/room

sl_test_timeout 60

# Time limits, in seconds, for one run of exchange (TIMEOUT_SCALE and
# valgrind stretch them).  A correct exchange takes a few milliseconds
# for a live class and one deadline (-t) for one with stalled members.
QUICK=2   # a class that answers at once
ONE=3     # a class run with -t 1 (done at about 1 s)

setup() {
	sl_setup
	class_reset
	SL_PEER_N=0
}

teardown() {
	sl_teardown
	room_down # the room test's namespaces, if it made them
}

# ---- the tests ----------------------------------------------------------

@test "[2] prints usage for -h; exits 2 on bad usage or a roster it cannot read" {
	hint "What the program does, in the handout (main() in the starter does it): -h prints the usage, exit 0; no ROSTER, a bad -t, or a ROSTER that cannot be read: exit 2"
	exchange "$QUICK" -h
	expect_exit 0
	if [[ ! -s $EVID/stdout && ! -s $EVID/stderr ]]; then
		fail FAIL "'exchange -h' should print how to use it; it printed nothing"
		return 1
	fi
	local args
	# a roster that is fine: only the options are wrong
	member gone refused 0
	write_roster
	for args in "" "-t x $ROSTER" "-t 2x $ROSTER" "-t -3 $ROSTER" "$EVID/no-such-roster.txt" "$ROSTER $ROSTER"; do
		# shellcheck disable=SC2086 # the words of one usage
		exchange "$QUICK" $args
		expect_finished || return 1
		if [[ $status -ne 2 ]]; then
			fail FAIL "exchange ${args//$EVID\//}: expected exit status 2 (bad usage: -t takes a number of seconds; one ROSTER; or a roster it cannot read), got $status" \
				"its stderr:" "$(show "$EVID/stderr")"
			return 1
		fi
	done
}

@test "[4] collects every classmate of a class that is all present: NAME.txt byte for byte, all ok, exit 0" {
	hint "handout steps 2 to 7: each classmate's body (after the header's blank line) is saved, byte for byte, as OUTDIR/NAME.txt; the table says ok for each, collected 5 of 5, exit 0"
	member ana ok "$(random_number 20 300)"
	member bo.chen ok "$(random_number 1000 9000)"
	member carmen ok "$(random_number 20000 60000)"
	member dmitri ok "$(random_number 100 2000)"
	member Eun-ji_2 ok "$(random_number 3000 30000)"
	class_ready || return 1
	write_roster
	exchange "$QUICK" -t 2 -o out "$ROSTER"
	expect_run 2 0
}

@test "[3] sends GET /myData.txt HTTP/1.1 with Host HOST:PORT and Connection: close" {
	hint "handout step 3: the request line GET /myData.txt HTTP/1.1, a Host field with the roster's HOST:PORT, Connection: close, each line ending in \\r\\n, then an empty line"
	member ana ok 300
	member bo ok 400
	class_ready || return 1
	write_roster
	exchange "$QUICK" -o out "$ROSTER"
	expect_finished || return 1
	local i name req problem host
	for ((i = 0; i < CLASS_N; i++)); do
		name=${CLASS_NAMES[i]} req="$EVID/request-$name" problem=""
		host=$(address "$i")
		if [[ ! -s $req ]]; then
			problem="the server received no request"
		elif [[ $(head -1 "$req") != "GET /myData.txt HTTP/1.1"$'\r' ]]; then
			problem="the request line should be \"GET /myData.txt HTTP/1.1\\r\\n\""
		elif ! tr -d '\r' <"$req" | grep -qix "host:[[:space:]]*${host}[[:space:]]*"; then
			problem="it needs a field \"Host: $host\" (the roster's HOST:PORT)"
		elif ! tr -d '\r' <"$req" | grep -qiE '^connection:.*close'; then
			problem="it needs a field \"Connection: close\""
		elif [[ $(tail -c 4 "$req" | od -An -tx1 | tr -d ' \n') != 0d0a0d0a ]]; then
			problem="every line ends in \\r\\n, and an empty line (\\r\\n) ends the request"
		fi
		if [[ -n $problem ]]; then
			failing FAIL "the request to $name is wrong: $problem" \
				"expected (more fields may come, in any order, names in any case):" \
				"  | GET /myData.txt HTTP/1.1\\r" "  | Host: $host\\r" "  | Connection: close\\r" "  | \\r" \
				"the server received:" "$(show "$req" 1000)"
			return 1
		fi
	done
	expect_run 2 0
}

@test "[5] saves bodies framed by chunked coding, by the server closing (HTTP/1.0), and one of exactly 64 KiB" {
	hint "handout step 5: the three framings are given (copy_chunked(), copy_until_close(), copy_exactly()); every body byte goes through save_bytes(), and 65,536 bytes is not too large"
	member ana ok "$(random_number 20000 60000)" -F chunked -c "$(random_number 50 3000)"
	member bo ok "$(random_number 5000 30000)" -F close -V 1.0
	member carmen ok 65536
	member dmitri ok 65536 -F chunked
	class_ready || return 1
	write_roster
	exchange "$QUICK" -o out "$ROSTER"
	expect_run 3 0
}

@test "[4] absent classmates (nobody listens) are refused: the others collected, collected N of M, exit 1" {
	hint "handout steps 2 and 7: a connect() that fails with ECONNREFUSED is refused; the others are still collected; exit 1 when some did not deliver"
	member ana ok "$(random_number 200 3000)"
	member bo refused 0
	member carmen ok "$(random_number 200 3000)"
	member dmitri refused 0
	member eun-ji refused 0
	class_ready || return 1
	write_roster
	exchange "$QUICK" -o out "$ROSTER"
	expect_run 3 1
}

@test "[4] stalled classmates (silent, or half a reply then nothing) are timeout at the deadline, with no NAME.txt" {
	hint "handout steps 2 to 4: every wait goes through wait_ready(), poll() for the time left before the classmate's deadline; at the deadline the fetch ends as timeout and its .part is not renamed"
	member ana ok "$(random_number 200 3000)"
	member bo timeout 3000 -m stall
	member carmen timeout "$(random_number 20000 60000)" -m stall-body
	class_ready || return 1
	write_roster
	exchange "$ONE" -t 1 -o out "$ROSTER"
	if [[ $verdict == timeout ]]; then
		cause "a stalled classmate is waited for without a deadline: every poll() waits only for the time left (wait_ready(), step 2; recv_some(), step 4)"
	fi
	expect_run 1 1
}

@test "[3] a 404 is http-404 and a reply that is not HTTP is bad-response, neither saved" {
	hint "handout steps 4 and 7: a reply whose status is not 2xx is http-NNN and its body is not saved; a reply that does not start HTTP/ is bad-response"
	member ana ok "$(random_number 200 3000)"
	member bo http-404 500 -S 404
	member carmen bad-response 500 -m garbage
	member dmitri http-503 500 -S 503
	class_ready || return 1
	write_roster
	exchange "$QUICK" -o out "$ROSTER"
	expect_run 2 1
}

@test "[5] a body over 64 KiB is too-large, however it is framed (1 MiB by Content-Length, chunked, until close; 65,537 bytes), never saved" {
	hint "handout step 5: save_bytes() refuses the byte that would make the body larger than 64 KiB (65,536 bytes): too-large, and the .part is never renamed"
	member ana ok "$(random_number 200 3000)"
	member bo too-large 1048576
	member carmen too-large 1048576 -F chunked
	member dmitri too-large 1048576 -F close
	member eun-ji too-large 65537 -F chunked
	class_ready || return 1
	write_roster
	exchange "$QUICK" -o out "$ROSTER"
	expect_run 3 1
	local f
	for f in "$WORK"/out/*; do
		[[ -f $f ]] || continue
		if (($(wc -c <"$f") > 65536)); then
			cause "no size cap: a body over 64 KiB must stop at 65,536 bytes and end as too-large (save_bytes(), step 5)"
			failing FAIL "$(basename "$f") holds $(wc -c <"$f" | tr -d ' ') bytes: nothing over 64 KiB may be written"
			return 1
		fi
	done
}

@test "[6] a class with 10 stalled and -t 2 is collected in under 3.5 s (all at once, one deadline in all)" {
	hint "handout step 6: a thread per classmate (or one poll() over all): the class takes as long as its slowest member, one deadline, not one per stalled classmate"
	local i limit
	member ana ok "$(random_number 200 3000)"
	for ((i = 1; i <= 10; i++)); do
		member "stalled-$i" timeout 2000 -m "$([[ $((i % 3)) == 0 ]] && echo stall-body || echo stall)"
	done
	member bo refused 0
	member carmen ok "$(random_number 200 3000)"
	class_ready || return 1
	write_roster
	limit=$(scaled 3.5)
	exchange 6 -t 2 -o out "$ROSTER"
	if [[ $verdict == timeout ]] || awk -v e="$ELAPSED" -v l="$limit" 'BEGIN { exit !(e > l) }'; then
		if awk -v e="$ELAPSED" 'BEGIN { exit !(e > 5.5) }'; then
			cause "the classmates are fetched one at a time: each stalled one costs a whole deadline; fetch them all at once (fetch_all(), step 6)"
		fi
		failing "$([[ $verdict == timeout ]] && echo TIME || echo FAIL)" \
			"10 of the 13 classmates stall; with -t 2 the whole class must be done in about 2 s (under $limit s); it took $ELAPSED s$([[ $verdict == timeout ]] && echo " and was stopped")" \
			"(one at a time, ten stalled classmates cost ten deadlines, 20 s)"
		return 1
	fi
	expect_run 2 1
}

@test "[5] one deadline per classmate covers connect to last byte: a server that drips a byte every 100 ms is timeout at about -t 1" {
	hint "handout steps 2 and 4 and Common mistakes: the deadline is fixed once per classmate, when its fetch starts; every wait is for the time left until it (not a fresh timeout per recv())"
	member ana ok "$(random_number 200 3000)"
	member bo timeout 200 -d 100 -w 1
	member carmen timeout 5000 -F chunked -c 10 -d 100 -w 3
	class_ready || return 1
	write_roster
	exchange "$ONE" -t 1 -o out "$ROSTER"
	if [[ $verdict == timeout ]] || awk -v e="$ELAPSED" -v l="$(scaled 2)" 'BEGIN { exit !(e > l) }'; then
		cause "the deadline starts again at every recv(): a classmate that sends a byte every 100 ms never times out; fix one deadline per classmate and wait only for the time left (wait_ready() with f->deadline, steps 2 and 4)"
		failing "$([[ $verdict == timeout ]] && echo TIME || echo FAIL)" \
			"bo's and carmen's servers send their replies a few bytes every 100 ms (bo's takes about 32 s in all); with -t 1 each must end as timeout at about 1 s" \
			"exchange took $ELAPSED s$([[ $verdict == timeout ]] && echo ", and was stopped")"
		return 1
	fi
	expect_run 1 1
}

@test "[2] an absent laptop that never answers the SYN (a full accept queue) is timeout at the deadline: connect() does not block" {
	hint "handout step 2: the socket is made non-blocking before connect(); EINPROGRESS, then poll() for POLLOUT for the time left; a blocking connect() waits for the system's own timeout (minutes)"
	local host port i
	host=$(l05_next_host)
	port=$(free_port "$host")
	# a listener that never accepts (porttool taken), its queue filled by
	# 129 idle connections: the kernel drops every further SYN, as an
	# absent laptop does
	background 20 taken "$SL_PEERS/porttool" taken "$host" "$port"
	for ((i = 0; i < 300; i++)); do
		grep -q ready "$EVID/taken.out" 2>/dev/null && break
		sleep 0.01
	done
	background 20 filler "$SL_PEERS/tcpclient" -I 130 -C 15000 -t 15000 -l 18 "$host" "$port"
	sleep 0.3
	if ! refuses "$host" "$port"; then
		skip "the grader could not fill the accept queue of $host:$port here, so an unanswered SYN cannot be made (0 points)"
	fi
	member_on absent timeout "$host" "$port" "a listener that never accepts, its queue full: every SYN dropped, as by an absent laptop"
	member ana ok "$(random_number 200 3000)"
	class_ready || return 1
	write_roster
	exchange "$ONE" -t 1 -o out "$ROSTER"
	if [[ $verdict == timeout ]]; then
		cause "connect() blocks: a SYN that nobody answers holds it for the system's timeout; make the socket non-blocking first, then poll() for the time left (connect_one(), step 2)"
	fi
	expect_run 1 1
}

@test "[3] prints the table in roster order, not the order the fetches finished in" {
	hint "handout step 7: print_table() walks the roster (list[0] to list[n-1]), whatever order the fetches ended in"
	member late ok "$(random_number 2000 5000)" -b mid -B 400
	member gone refused 0
	member later ok "$(random_number 2000 5000)" -b mid -B 250
	member quick ok "$(random_number 200 2000)"
	class_ready || return 1
	write_roster
	exchange "$QUICK" -t 2 -o out "$ROSTER"
	expect_run 2 1
}

@test "[4] reads a roster with comments, blank lines, tabs, CR LF line ends and names like bo.chen, ..., a..b, -dash" {
	hint "handout step 1: cut each line at '#', split it on spaces, tabs and \\r; skip lines with no words; a name is [A-Za-z0-9._-]+ (only . and .. are refused)"
	member bo.chen ok "$(random_number 200 3000)"
	member ... ok "$(random_number 200 3000)"
	member a..b ok "$(random_number 200 3000)"
	member -dash ok "$(random_number 200 3000)"
	member x_Y-9.z ok "$(random_number 200 3000)"
	class_ready || return 1
	{
		printf '# lab 05 roster, room 2.14\n\n'
		printf '%s\t%s\r\n' "${CLASS_NAMES[0]}" "$(address 0)"
		printf '   \t \n'
		printf '  %s   %s   # the one with three dots\n' "${CLASS_NAMES[1]}" "$(address 1)"
		printf '#%s %s\n' "commented-out" "127.0.0.1:1"
		printf '%s %s#no space before the comment\n' "${CLASS_NAMES[2]}" "$(address 2)"
		printf '%s %s\r\n\r\n' "${CLASS_NAMES[3]}" "$(address 3)"
		printf '%s %s' "${CLASS_NAMES[4]}" "$(address 4)" # no newline at the end
	} >"$EVID/roster.txt"
	ROSTER="$EVID/roster.txt"
	exchange "$QUICK" -o out "$ROSTER"
	expect_run 2 0
}

@test "[3] fetches from an IPv6 classmate, [::1]:PORT, with Host: [::1]:PORT" {
	need_ipv6
	hint "handout step 1: [IPv6]:PORT in the roster is host ::1, port PORT; getaddrinfo() with AF_UNSPEC; the table and the Host field write it [::1]:PORT"
	member ana ok "$(random_number 200 3000)"
	member -a ::1 hana ok "$(random_number 200 3000)"
	class_ready || return 1
	write_roster
	exchange "$QUICK" -o out "$ROSTER"
	expect_run 2 0 || return 1
	if ! tr -d '\r' <"$EVID/request-hana" | grep -qix "host:[[:space:]]*\[::1\]:${CLASS_PORTS[1]}[[:space:]]*"; then
		failing FAIL "the Host field for [::1]:${CLASS_PORTS[1]} should be \"Host: [::1]:${CLASS_PORTS[1]}\" (brackets around an IPv6 address)" \
			"the server received:" "$(show "$EVID/request-hana")"
		return 1
	fi
}

@test "[2] uses port 8080 when the roster gives none" {
	hint "handout step 1: NAME HOST without :PORT means port 8080 (DEFAULT_PORT)"
	local k host="" len
	len=$(random_number 200 3000)
	for k in 61 62 63 64 1; do
		l05_aliases || k=1
		refuses "127.0.0.$k" 8080 || continue
		if httpd_8080 httpd-p8080 "127.0.0.$k" -Q "$EVID/request-ana" -l 30 -s 4242 -n "$len" -u /myData.txt; then
			host="127.0.0.$k"
			break
		fi
	done
	[[ -n $host ]] || skip "port 8080 is taken on every loopback address the grader tried, so the default port cannot be tested here (0 points)"
	"$SL_PEERS/datagen" 4242 "$len" >"$EVID/expected-ana"
	member_on ana ok "$host" 8080 "httpd -a $host -p 8080 -s 4242 -n $len -u /myData.txt" "$len" "$EVID/httpd-p8080.log"
	CLASS_SEEDS[0]=4242
	CLASS_WHAT[0]="httpd -s 4242 -n $len -u /myData.txt"
	CLASS_LINES[0]="ana $host"
	write_roster
	exchange "$QUICK" -o out "$ROSTER"
	expect_run 2 0
}

@test "[4] refuses bad names (../x, ., .., a/b, UTF-8 letters, every punctuation mark but . _ -, control bytes) on stderr with exit 2, writing nothing anywhere" {
	hint "handout step 1: name_ok() is a whitelist, letters, digits, '.', '_' and '-' (ASCII), and never . or ..; a bad name is reported (naming the line) and never becomes a path; a bad roster exits 2"
	local bad tag c taken=() all
	member ana ok "$(random_number 200 3000)"
	class_ready || return 1
	# a good roster first: a program that refuses every roster proves nothing
	write_roster
	exchange "$QUICK" -o out "$ROSTER"
	expect_run 2 0 || { echo "(this test needs an exchange that reads a good roster: it runs one first)" >>"$EVID/message"; return 1; }
	tag=$(random_number 1000 9999)
	# Every character outside [A-Za-z0-9._-] is tried, each in a name of
	# its own (a roster a name, so that one refusal cannot hide another's
	# acceptance), and all are reported at once: a blacklist that grows
	# one character per run never gets there.  Not tried: blanks and '#',
	# which end a word or start a comment, and NUL.
	local -a names=("../x$tag" "../../y$tag" . .. "a/b$tag" $'red\e[31m' 'c\d' "José" "Zoë" "Μαρία" "$(printf 'x\xffy')" $'a\x01b' $'a\x7fb')
	for c in '!' '"' '$' '%' '&' "'" '(' ')' '*' '+' ',' '/' ':' ';' '<' '=' '>' '?' '@' '[' "\\" ']' '^' '`' '{' '|' '}' '~'; do
		names+=("p${c}q$tag")
	done
	rm -rf "$WORK/out"
	for bad in "${names[@]}"; do
		printf 'ana %s\n%s %s\n' "$(address 0)" "$bad" "$(address 0)" >"$EVID/roster.txt"
		ROSTER="$EVID/roster.txt"
		l05_quick -o out "$ROSTER"
		expect_finished || { story >>"$EVID/message"; return 1; }
		if sandbox_files | grep -qvE '^up/one/run/out(/ana\.txt(\.part)?)?$'; then
			expect_nothing_outside out || return 1
			failing FAIL "with the bad name \"$(printf '%s' "$bad" | LC_ALL=C tr -c '[:print:]' '?')\" in the roster, exchange wrote into out: $(ls -A "$WORK/out" | LC_ALL=C tr -c '[:print:]\n' '?' | paste -sd ' ' -)" \
				"a bad name never becomes a path"
			return 1
		fi
		if [[ $status -ne 2 || ! -s $EVID/stderr ]]; then
			taken+=("\"$(printf '%s' "$bad" | LC_ALL=C tr -c '[:print:]' '?')\" (exit $status)")
		fi
		rm -rf "$WORK/out"
	done
	if ((${#taken[@]})); then
		cause "a bad name was taken: name_ok() must accept only [A-Za-z0-9._-]+ (a whitelist of ASCII letters, digits and . _ -), never . or .., and a roster with a bad line exits 2 (step 1)"
		fail FAIL "of ${#names[@]} bad names, each alone in a roster after a good line (\"ana $(address 0)\"), exchange took ${#taken[@]} (a bad name must be refused on stderr, with exit 2):" \
			"$(printf '  %s\n' "${taken[@]}")" \
			"(non-printing bytes are shown as ?; the UTF-8 letters are José, Zoë, Μαρία: letters, but not ASCII ones, and a file name that not every system stores alike)" \
			"the last run's roster:" "$(show "$ROSTER" 300)" "its stderr:" "$(show "$EVID/stderr" 600)"
		return 1
	fi
	# all of them in one roster: still nothing outside OUTDIR
	all="$EVID/roster-all.txt"
	{
		printf 'ana %s\n' "$(address 0)"
		for bad in "${names[@]}"; do
			printf '%s %s\n' "$bad" "$(address 0)"
		done
	} >"$all"
	ROSTER=$all
	exchange "$QUICK" -o out "$ROSTER"
	expect_finished || { story >>"$EVID/message"; return 1; }
	if [[ $status -ne 2 ]]; then
		failing FAIL "a roster with ${#names[@]} bad names (and ana) must be refused with exit 2, got $status"
		return 1
	fi
	expect_nothing_outside out
}

@test "[2] refuses bad addresses ([::1]x8080, [::1]:, [::1]:80x, HOST:, HOST:80x, HOST:0, HOST:65536) with exit 2" {
	hint "handout step 1: parse_address() takes HOST, HOST:PORT, [IPV6], [IPV6]:PORT or a bare IPv6 address; after ']' only nothing or ':PORT' may come; PORT is digits, 1 to 65535 (parse_port()); anything else is a bad line: exit 2"
	local bad taken=()
	member ana ok "$(random_number 200 3000)"
	class_ready || return 1
	write_roster
	exchange "$QUICK" -o out "$ROSTER"
	expect_run 2 0 || { echo "(this test needs an exchange that reads a good roster: it runs one first)" >>"$EVID/message"; return 1; }
	local h=${CLASS_HOSTS[0]} p=${CLASS_PORTS[0]}
	for bad in "[::1]x$p" "[::1]:" "[::1]:${p}x" "[::1]]:$p" "[::1" "$h:" "$h:${p}x" "$h:0" "$h:65536" "$h:-$p" "$h:+$p"; do
		printf 'ana %s\nbo %s\n' "$(address 0)" "$bad" >"$EVID/roster.txt"
		ROSTER="$EVID/roster.txt"
		l05_quick -o out "$ROSTER"
		expect_finished || { story >>"$EVID/message"; return 1; }
		if [[ $status -ne 2 || ! -s $EVID/stderr ]]; then
			taken+=("\"$bad\" (exit $status)")
		fi
	done
	if ((${#taken[@]})); then
		cause "a malformed address was taken: after ']' only nothing or ':PORT' may come, and PORT is digits only, 1 to 65535 (parse_address(), parse_port(), step 1)"
		fail FAIL "each of these addresses, alone in a roster line \"bo ADDRESS\" after a good line, is malformed and must be refused with exit 2; exchange took:" \
			"$(printf '  %s\n' "${taken[@]}")" \
			"the last run's stdout:" "$(show "$EVID/stdout" 600)" "its stderr:" "$(show "$EVID/stderr" 600)"
		return 1
	fi
}

@test "[2] a bare IPv6 address (::1, no brackets) and [::1] without a port are IPv6 on port 8080" {
	need_ipv6
	hint "handout, What the program does, and step 1: a bare ::1 (two ':' or more, no brackets) is all host, an IPv6 address; with no port, 8080; the table and the Host field write it [::1]:8080"
	local len listen="" v6="" k
	len=$(random_number 200 3000)
	# ::1 port 8080, or where that is taken, an IPv4-mapped IPv6 address
	# (::ffff:127.0.0.65, a bare IPv6 address too) on a loopback alias
	for k in ::1 65 66 67 68; do
		if [[ $k == ::1 ]]; then
			listen=::1 v6=::1
		else
			l05_aliases || break
			listen=127.0.0.$k v6=::ffff:127.0.0.$k
		fi
		refuses "$listen" 8080 || { listen=""; continue; }
		httpd_8080 httpd-v6 "$listen" -Q "$EVID/request-v6" -l 30 -s 4243 -n "$len" -u /myData.txt && break
		listen=""
	done
	[[ -n $listen ]] || skip "port 8080 is taken on ::1 and on every loopback address the grader tried, so the default port of a bare IPv6 address cannot be tested here (0 points)"
	member_on hana ok "$v6" 8080 "httpd -a $listen -p 8080 -s 4243 -n $len -u /myData.txt" "$len" "$EVID/httpd-v6.log"
	member_on ike ok "$v6" 8080 "the same server as hana's" "$len" "$EVID/httpd-v6.log"
	"$SL_PEERS/datagen" 4243 "$len" >"$EVID/expected-hana"
	cp "$EVID/expected-hana" "$EVID/expected-ike"
	CLASS_SEEDS[0]=4243
	CLASS_LINES[0]="hana $v6"
	CLASS_LINES[1]="ike [$v6]"
	write_roster
	exchange "$QUICK" -o out "$ROSTER"
	if [[ $status -eq 2 ]]; then
		cause "a bare IPv6 address was refused: two ':' or more and no brackets means all of it is the host, IPv6, on port 8080 (parse_address(), step 1)"
	fi
	expect_run 2 0 || return 1
	if (($(tr -d '\r' <"$EVID/request-v6" | grep -cix "host:[[:space:]]*\[$v6\]:8080[[:space:]]*") != 2)); then
		failing FAIL "both requests to [$v6]:8080 should carry \"Host: [$v6]:8080\" (brackets around an IPv6 address, the default port written)" \
			"the server received:" "$(show "$EVID/request-v6")"
		return 1
	fi
}

@test "[3] tries every address of a name (sl-multi.test: the first refuses) within the deadline" {
	hint "handout step 2: open_client() gives each address of getaddrinfo() its share of the time left; when connect() fails, close that socket and try the next"
	two_address_name
	member -a "$MULTI_LAST" multi ok "$(random_number 200 3000)"
	class_ready || return 1
	if ! refuses "$MULTI_FIRST" "${CLASS_PORTS[0]}"; then
		skip "something listens on $MULTI_FIRST port ${CLASS_PORTS[0]}, so the first address cannot be made to refuse (0 points); run the test again"
	fi
	CLASS_AS[0]=$MULTI_NAME
	write_roster
	exchange --hosts "$HOSTS_FILE" "$QUICK" -o out "$ROSTER"
	if [[ $status -eq 1 ]] && ! grep -q "accepted" "${CLASS_LOGS[0]}"; then
		cause "only the first address was tried: when connect() fails, close that socket and go on to the next address (open_client(), step 2)"
	fi
	if ! expect_run 2 0; then
		echo "($MULTI_NAME has two addresses in a private /etc/hosts: $MULTI_FIRST, which getaddrinfo gives first and which refuses, then $MULTI_LAST, where the server listens)" >>"$EVID/message"
		return 1
	fi
}

@test "[4] a name with two addresses has one deadline for both: a first that swallows SYNs gets its share, one refused and one silent is timeout" {
	hint "handout step 2: open_client() gives the i-th of N addresses ms_until(deadline) / (N - i), so a silent first address leaves the second its chance, and all of them together never take more than the one deadline; the status: the deadline passed, timeout; else some refused, refused"
	two_address_name
	local ms_share limit
	# share: MULTI_FIRST swallows every SYN, MULTI_LAST serves
	member -a "$MULTI_LAST" share ok "$(random_number 200 3000)"
	class_ready || return 1
	# late: MULTI_FIRST refuses, MULTI_LAST swallows every SYN
	member_on late timeout "$MULTI_LAST" "$(free_port "$MULTI_LAST")" "nothing listens on $MULTI_FIRST (refused); on $MULTI_LAST a full accept queue drops every SYN"
	refuses "$MULTI_FIRST" "${CLASS_PORTS[1]}" ||
		skip "something listens on $MULTI_FIRST port ${CLASS_PORTS[1]}, so that address cannot be made to refuse (0 points); run the test again"
	l05_full_queue "$MULTI_FIRST" "${CLASS_PORTS[0]}" "$MULTI_LAST" "${CLASS_PORTS[1]}"
	CLASS_AS[0]=$MULTI_NAME CLASS_AS[1]=$MULTI_NAME
	write_roster
	exchange --hosts "$HOSTS_FILE" 3 -t 1 -o out "$ROSTER"
	expect_finished || { story >>"$EVID/message"; return 1; }
	ms_share=$(table_rows | awk '$1 == "share" { print $5 }')
	if [[ $(table_rows | awk '$1 == "share" { print $3 }') == timeout ]]; then
		cause "the first address's wait went past its share: the i-th of N addresses waits ms_until(deadline) / (N - i), so a silent first one leaves the next its chance, and all of them together stay within the one deadline (open_client(), step 2)"
	elif [[ $(table_rows | awk '$1 == "late" { print $3 }') == refused ]]; then
		cause "refused although the deadline passed: when the last address's wait reached the deadline the status is timeout; refused only when the deadline did not pass and some address refused (open_client(), step 2)"
	fi
	expect_run 1 1 || { echo "($MULTI_NAME has two addresses in a private /etc/hosts: $MULTI_FIRST, which getaddrinfo gives first, then $MULTI_LAST; share's server listens on $MULTI_LAST, and on $MULTI_FIRST a full accept queue drops every SYN)" >>"$EVID/message"; return 1; }
	limit=$(awk -v k="${TIMEOUT_SCALE:-1}" 'BEGIN { print int(900 * k) }')
	if [[ $ms_share =~ ^[0-9]+$ ]] && ((ms_share > limit)); then
		cause "each address got a whole deadline of its own: the deadline is the classmate's, fixed once; the i-th of N addresses gets ms_until(deadline) / (N - i) of what is left (open_client(), step 2)"
		failing FAIL "share's first address swallows its SYN, so with -t 1 it gets half the deadline (about 500 ms) and the second address delivers at about 500 ms; share's MS is $ms_share (more than $limit): the two addresses took more than their one deadline"
		return 1
	fi
}

@test "[3] connect() and poll() interrupted by a signal (EINTR) are waited through, not failures (the shim)" {
	need_shortio
	hint "handout step 2: connect() failing with EINTR is like EINPROGRESS: the handshake goes on, wait_ready() for POLLOUT; poll() failing with EINTR: look at the clock and poll() again (wait_ready())"
	member ana ok "$(random_number 2000 5000)"
	member bo ok "$(random_number 2000 5000)" -F chunked -c 300
	member carmen ok "$(random_number 200 3000)" -b mid -B 100
	class_ready || return 1
	write_roster
	# Two runs, one fault each, so that a failure names its call.
	local fault what
	for fault in connect-eintr=1 poll-eintr=2; do
		case $fault in
		connect*) what="made every connect() report EINTR (the connection still went on)" ;;
		poll*) what="made every second poll() that would wait fail at once with EINTR" ;;
		esac
		L05_EINTR=${fault%%-*}
		exchange --shortio "0,$fault" "$QUICK" -o out "$ROSTER"
		expect_finished || { story >>"$EVID/message"; return 1; }
		expect_shortio_loaded
		# (a roster refused, exit 2, is a failure of its own, below)
		if [[ $fault == connect* && $status -ne 2 ]] && ! grep -q "connect fd=.*reported as EINTR" "$EVID/shortio.log"; then
			skip "the program never called connect() where the grader's shim could see it, so no EINTR could be made (0 points)"
		fi
		if ! expect_run 2 0; then
			{
				echo "the grader's shim $what:"
				grep -m 4 -E "connect fd|poll nfds" "$EVID/shortio.log" | sed 's/^[0-9]* /  /'
			} >>"$EVID/message"
			return 1
		fi
		mv "$EVID/shortio.log" "$EVID/shortio-${fault%%=*}.log" 2>/dev/null
		rm -rf "$EVID/out"
	done
}

@test "[2] a classmate that sends something else than HTTP and holds the connection open is bad-response at once, not at the deadline" {
	hint "handout step 4: recv_header() checks after every recv() that the reply starts with HTTP/ (or a start of it): an SSH server's banner on port 8080 is bad-response at once, without waiting for a blank line that never comes"
	printf 'SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n' >"$EVID/banner"
	member ana ok "$(random_number 200 3000)"
	member bo bad-response 0 -A "$EVID/banner" -m hold
	class_ready || return 1
	write_roster
	exchange "$QUICK" -t 3 -o out "$ROSTER"
	if [[ $verdict == timeout ]] || [[ $(table_rows | awk '$1 == "bo" { print $3 }') == timeout ]]; then
		cause "the reply is checked for HTTP/ only once the header is whole: a server that is not HTTP never sends the blank line; check the first bytes after every recv() (recv_header(), step 4)"
	fi
	expect_run 2 1 || { printf '%s\n' "(bo's server sends an SSH banner, \"SSH-2.0-OpenSSH_9.2p1 Debian-2\\r\\n\", then holds the connection open)" >>"$EVID/message"; return 1; }
}

@test "[3] leaves no NAME.txt.part behind: not when the body is too large or cut short, not when rename() fails (NAME.txt is a folder)" {
	hint "handout step 5: a fetch that fails closes its .part and unlink()s it; output_finish(): close() or rename() fails: say so, unlink() the .part"
	member ana ok "$(random_number 200 3000)"
	member bo 'bad-response|unreachable|refused|timeout|too-large' "$(random_number 200 3000)"
	member carmen too-large 1048576 -F chunked
	member dmitri bad-response "$(random_number 2000 9000)" -m short
	member eun-ji bad-response "$(random_number 2000 9000)" -m badchunk
	class_ready || return 1
	write_roster
	L05_MKDIRS=(out/bo.txt)
	exchange "$QUICK" -o out "$ROSTER"
	expect_run 2 1 || { echo "(out/bo.txt was a folder before the run, so a rename() to it fails: EISDIR)" >>"$EVID/message"; return 1; }
	expect_no_part out
}

@test "[3] 12 classmates at once, each reply dripped in pieces, each saved byte for byte (nothing shared between fetches)" {
	hint "handout step 6: each fetch has its own struct fetch, buffer and .part on its own thread's stack (or its own struct in a poll() loop); a static buffer or struct is shared by every thread at once"
	local i f
	for ((i = 1; i <= 12; i++)); do
		case $((i % 3)) in
		0) f=length ;;
		1) f=chunked ;;
		2) f=close ;;
		esac
		member "mate-$i" ok "$(random_number 2000 6000)" -F "$f" -c 700 -d 15 -w "$(random_number 300 700)"
	done
	class_ready || return 1
	write_roster
	# send() moves at most 3 bytes a call, 2 ms apart (the shim), so every
	# request takes about 50 ms, all threads at once: a request built in a
	# static buffer is overwritten by another thread while it is sent.
	local spec=()
	[[ -e ${SL_PEERS:-}/libshortio.so || -e ${SL_PEERS:-}/libshortio.dylib ]] && spec=(--shortio "3,send-pace=2000")
	exchange "${spec[@]}" "$QUICK" -t 3 -o out "$ROSTER"
	expect_run 3 0 || return 1
	local name req host wrong=() first=""
	for ((i = 0; i < CLASS_N; i++)); do
		name=${CLASS_NAMES[i]} req="$EVID/request-$name" host=$(address "$i")
		if ! tr -d '\r' <"$req" | grep -qix "host:[[:space:]]*${host}[[:space:]]*"; then
			wrong+=("$name")
			[[ -n $first ]] || first="$name|$host"
		fi
	done
	if ((${#wrong[@]})); then
		name=${first%%|*} host=${first#*|}
		cause "the request to ${wrong[0]} carried another classmate's Host: the request is built in a buffer every thread shares (static): build it in a local array of send_request() (step 3)"
		failing FAIL "12 classmates fetched at once, send() moving at most 3 bytes a call, 2 ms apart (the grader's shim): ${#wrong[@]} of them received a request whose Host is not their own HOST:PORT (${wrong[*]})" \
			"expected at $name: Host: $host" \
			"$name received:" "$(show "$EVID/request-$name" 600)"
		return 1
	fi
}

@test "[3] a thread that cannot be started (pthread_create() fails: the shim) costs nothing: that classmate is still fetched" {
	need_shortio
	hint "handout step 6: if pthread_create() fails, complain() and fetch that classmate in the main thread (fetch_classmate()); join only the threads that started"
	member ana ok "$(random_number 200 3000)"
	member bo ok "$(random_number 200 3000)"
	member carmen ok "$(random_number 200 3000)" -F chunked
	member dmitri ok "$(random_number 200 3000)"
	class_ready || return 1
	write_roster
	exchange --shortio 0,spawn-fail=2 "$QUICK" -o out "$ROSTER"
	expect_shortio_loaded
	if [[ $verdict != ok || $status -ne 0 ]] && grep -q "EAGAIN" "$EVID/shortio.log"; then
		cause "a failed pthread_create() was not handled: when it returns non-zero, complain() and fetch that classmate in the main thread, and never pthread_join() a thread that did not start (fetch_all(), step 6)"
	fi
	if ! expect_run 2 0; then
		grep -m 2 "EAGAIN" "$EVID/shortio.log" | sed 's/^[0-9]* /the grader'"'"'s shim made this call fail: /' >>"$EVID/message"
		return 1
	fi
}

@test "[3] writes only OUTDIR/NAME.txt (default exchange-out, created if missing), nothing outside it" {
	hint "handout, What the program does: OUTDIR (default exchange-out) is created if missing; each body goes to OUTDIR/NAME.txt and nowhere else"
	member ana ok "$(random_number 200 3000)"
	member bo ok "$(random_number 200 3000)"
	member carmen refused 0
	class_ready || return 1
	write_roster
	exchange "$QUICK" "$ROSTER"
	expect_run 2 1 exchange-out
}

@test "[4] survives short reads and writes and EINTR (the shim: at most 3 bytes a call, every 4th interrupted)" {
	need_shortio
	hint "handout steps 3 and 4: send_all() sends the rest after a short send(), recv_some() returns what came; EINTR means try again; EAGAIN means wait_ready(), then again"
	member ana ok "$(random_number 2000 5000)"
	member bo ok "$(random_number 2000 5000)" -F chunked -c 300
	member carmen ok "$(random_number 2000 5000)" -F close
	class_ready || return 1
	write_roster
	exchange --shortio 3,eintr=4 4 -t 3 -o out "$ROSTER"
	expect_finished || { story >>"$EVID/message"; return 1; }
	expect_shortio_loaded
	if ! expect_run 3 0; then
		shortio_said >>"$EVID/message"
		local first
		first=$(shortio_first send)
		[[ -n $first ]] && echo "the first send() took ${first#* } of ${first% *} bytes; the rest must be sent too" >>"$EVID/message"
		return 1
	fi
}

@test "[1] a classmate with no route to it is unreachable (connect() fails with EHOSTUNREACH or ENETUNREACH)" {
	hint "handout steps 2 and 7: connect() failing with ENETUNREACH or EHOSTUNREACH is unreachable (fail_io() picks the status from errno)"
	need_shortio
	# No route on loopback: the grader's shim makes connect() to one
	# loopback address fail as a host with no route does (nothing is sent
	# anywhere; the kit never targets an address off this machine).
	local port
	port=$(random_number 2000 60000)
	member ana ok "$(random_number 200 3000)"
	class_ready || return 1
	member_on nohost unreachable 127.0.0.98 "$port" "a host with no route to it (the grader's shim: connect() to 127.0.0.98 fails with EHOSTUNREACH)"
	member_on nonet unreachable 127.0.0.99 "$port" "a network with no route to it (the grader's shim: connect() to 127.0.0.99 fails with ENETUNREACH)"
	write_roster
	exchange --shortio 0,unreachable=127.0.0.98,unreachable-net=127.0.0.99 "$QUICK" -o out "$ROSTER"
	expect_shortio_loaded
	grep -q "connect fd=.* E[HN][OE][ST]*UNREACH" "$EVID/shortio.log" ||
		skip "the program never called connect() where the grader's shim could see it, so no route could be faked (0 points)"
	expect_run 3 1
}

# The same in a real network, where the machine allows (Linux, root): a
# room of network namespaces (grader/lib/room.bash, as make classroom
# makes), exchange run in the instructor's seat.  The kernel itself says
# no route: an unreachable route to one seat's address (EHOSTUNREACH), no
# route at all to a network outside the room (ENETUNREACH); and a seat
# whose server listens on 127.0.0.1 only refuses everybody else.  No
# packet leaves the room: it has no link out.  Elsewhere SKIP; the shim's
# test above grades unreachable on every machine.
@test "[1] in a room of network namespaces (root): a seat with no route is unreachable, a server on 127.0.0.1 only is refused" {
	hint "handout step 2 and \"When nobody can reach you\": connect() failing with EHOSTUNREACH or ENETUNREACH is unreachable, with ECONNREFUSED refused (fail_io() picks the status from errno)"
	l05_room 3
	room_member 1 ana ok "$(random_number 200 3000)" 0.0.0.0
	room_member 2 bo refused "$(random_number 200 3000)" 127.0.0.1
	CLASS_WHAT[1]="seat 2 of the room, its server on 127.0.0.1:8080 only (lab 04's default): the seat's own address refuses"
	room_member 3 carmen unreachable "$(random_number 200 3000)" 0.0.0.0
	room_no_route 3
	CLASS_WHAT[2]="seat 3 of the room, its server on 0.0.0.0:8080; the instructor's seat has an unreachable route to it (connect(): EHOSTUNREACH)"
	member_on dmitri unreachable "$ROOM_ELSEWHERE.20" 8080 "a network outside the room, which the instructor's seat has no route to (connect(): ENETUNREACH; no packet is sent)"
	class_ready || return 1
	write_roster
	exchange "$QUICK" -o out "$ROSTER"
	expect_run 2 1
}

@test "[3] leaks no descriptor per absent classmate (valgrind --track-fds, 8 absent)" {
	need_valgrind
	hint "handout step 2: connect_one() closes the socket on every failure path (keep errno across close()): an absent classmate must not cost a descriptor"
	local i
	member ana ok "$(random_number 200 3000)"
	for ((i = 1; i <= 8; i++)); do
		member "absent-$i" refused 0
	done
	class_ready || return 1
	write_roster
	exchange --valgrind "$QUICK" -o out "$ROSTER"
	# exit 99 is valgrind's own: it found errors or leaks; what it found
	# comes first, then the run's other problems
	if [[ $status != 99 ]]; then
		expect_run 2 1 || return 1
	fi
	if ! expect_valgrind_clean --fds; then
		if grep -q "socket" "$EVID/message"; then
			cause "a socket is left open when connect() fails: close it on every failure path (connect_one(), step 2)"
		elif grep -qs "getaddrinfo" "$EVID"/valgrind*.log; then
			cause "getaddrinfo()'s list is never freed: freeaddrinfo() it on every path, the successful connect too (connect_one(), step 2)"
		fi
		story >>"$EVID/message"
		return 1
	fi
	expect_run 2 1
}

@test "[4] runs clean under valgrind on a class with every status (no memory errors, no definite leaks)" {
	need_valgrind
	hint "handout steps 2 to 7: freeaddrinfo() on every path, every buffer inside its bounds, every thread pthread_join()ed in fetch_all() (step 6) before it returns"
	member ana ok "$(random_number 2000 9000)"
	member bo ok "$(random_number 2000 9000)" -F chunked
	member carmen refused 0
	member dmitri timeout 2000 -m stall-body
	member eun-ji http-404 300 -S 404
	member farah bad-response 300 -m garbage
	member giorgos too-large 1048576 -F chunked
	class_ready || return 1
	write_roster
	exchange --valgrind "$ONE" -t 1 -o out "$ROSTER"
	# exit 99 is valgrind's: what it found comes first
	if [[ $status != 99 ]]; then
		expect_run 1 1 || return 1
	fi
	if ! expect_valgrind_clean; then
		grep -qs "getaddrinfo" "$EVID"/valgrind*.log &&
			cause "getaddrinfo()'s list is never freed: freeaddrinfo() it on every path, the successful connect too (connect_one(), step 2)"
		story >>"$EVID/message"
		return 1
	fi
	expect_run 1 1
}
