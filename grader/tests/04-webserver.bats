#!/usr/bin/env bats
# Lab 04, webserver: a static web server.  Each test starts the student's
# server on a free loopback port, serving a document root the grader
# builds once per run (random contents, a secret beside it, symlinks that
# lead out), and talks to it only through the grader's raw TCP client
# (grader/peers/tcpclient.c), which sends exactly the bytes of a request
# and saves every byte of the reply.  The tests check the SPEC's contract
# and the handout's rules only: any header order, reason phrase, charset
# parameter, error page, concurrency model (threads, processes, poll),
# HTTP/1.0 or 1.1 status line, and 408 or a silent close for a client that
# sends nothing will do.  grader/rules/04-webserver.md says which test
# grades which rule.  100 points.
# shellcheck disable=SC2153,SC2154 # PORT, SITE, STATUS, SERVER_PID, ...: from the helpers
# shellcheck disable=SC2030,SC2031,SC2034 # set for the helpers, in each test

bats_require_minimum_version 1.5.0
load ../lib/helpers
load ../lib/lab04

sl_test_timeout 90

# The valgrind test's run starts in setup_file and goes on in the
# background while the other tests run; the last test collects it.
setup_file() {
	sl_fast_traps
	export TZ=XST-5:30
	lab04_make_site
	if sl_will_run "[3] runs clean under valgrind: no memory errors, leaks or open descriptors"; then
		lab04_valgrind_start
	fi
	if sl_will_run "[2] no data race between its threads (valgrind's helgrind, 20 clients at a time)"; then
		lab04_valgrind_start helgrind
	fi
}
teardown_file() {
	lab04_valgrind_stop
	lab04_valgrind_stop helgrind
}

setup() {
	sl_setup
	export TZ=XST-5:30 # a zone 5 h 30 min from UTC: HTTP dates are GMT
	lab04_make_site
}
teardown() { lab04_teardown; }

# get PATH [TCPCLIENT-OPTIONS...]: an HTTP/1.1 GET of PATH with a Host.
get() {
	local pre=()
	[[ $1 == --seconds ]] && pre=("$1" "$2") && shift 2
	local path="$1"
	shift
	http "${pre[@]}" "GET $path HTTP/1.1\\r\\nHost: 127.0.0.1:$PORT\\r\\nUser-Agent: socketlab-grader\\r\\n\\r\\n" "$@"
}

# expect_ready: the ready line for $PORT and $WEB_ROOT is on stdout
# within 3 s.  Any spelling of DOCROOT that names it will
# do: as given, with a '/' added, or its real path.
READY_RE=""
expect_ready() {
	local i tries=60 real
	real=$(cd "$WEB_ROOT" 2>/dev/null && pwd -P)
	for ((i = 0; i < tries; i++)); do
		if sed -e 's/[[:space:]]*$//' "$EVID/server.stdout" 2>/dev/null |
			grep -qxF -e "Server is ready on http://127.0.0.1:$PORT/ serving $WEB_ROOT" \
				-e "Server is ready on http://127.0.0.1:$PORT/ serving $WEB_ROOT/" \
				-e "Server is ready on http://127.0.0.1:$PORT/ serving $real"; then
			return 0
		fi
		server_alive || break
		sleep 0.05
	done
	fail_no_ready_line "Server is ready on http://127.0.0.1:$PORT/ serving $WEB_ROOT"
}

# ---- the command line and the ready line ----------------------------------

@test "[2] prints its usage for -h and exits 2 on bad usage" {
	hint "handout, the program's contract: -h prints the usage (exit 0); a bad option, port, timeout or an extra argument exits 2 (the starter's main() does this)"
	local port args why
	port=$(free_port)
	run_client 2 "$SL_BIN" -h
	expect_exit 0 || return 1
	if [[ ! -s $EVID/stdout && ! -s $EVID/stderr ]]; then
		fail FAIL "'webserver -h' printed nothing: it should print how to run the program (its usage), and exit 0" \
			"command: $(cat "$EVID/command")"
		return 1
	fi
	for args in "-p $port -x" "-p $port extra-argument" "-p 99999" "-p abc" "-p $port -t abc"; do
		case $args in
		*-x) why="an unknown option" ;;
		*extra*) why="an argument it does not take" ;;
		*99999) why="a port above 65535" ;;
		*abc) why="a port or a timeout that is not a number" ;;
		esac
		# shellcheck disable=SC2086 # the words of ARGS
		run_client 1 "$SL_BIN" -r "$SITE" $args
		if [[ $verdict == timeout ]]; then
			fail FAIL "'webserver $args' ($why) should exit 2, for bad usage; it ran on instead (stopped after $SL_CLIENT_LIMIT s)" \
				"stdout:" "$(show "$EVID/stdout")" "stderr:" "$(show "$EVID/stderr")"
			return 1
		fi
		expect_finished || return 1
		if ((status != 2)); then
			fail FAIL "'webserver -r DOCROOT $args' ($why) should exit 2, for bad usage; it exited $status" \
				"stdout:" "$(show "$EVID/stdout")" "stderr:" "$(show "$EVID/stderr")"
			return 1
		fi
	done
}

@test "[2] prints its ready line, flushed, only once it listens (listen() made slow, -p 0)" {
	hint "handout step 2: print 'Server is ready on http://ADDR:PORT/ serving DOCROOT' after listen() has succeeded, with the port getsockname() gives, then fflush(stdout)"
	need_shortio
	local i line n
	PORT=$(free_port) WEB_ROOT=$SITE
	SERVER_ARGS="-p $PORT -r $SITE"
	start_server --no-wait --shortio 0,listen-delay=400 10 "$PORT" -- "$SL_BIN" -p "$PORT" -r "$SITE"
	for ((i = 0; i < 300; i++)); do
		line=$(grep -m1 "Server is ready" "$EVID/server.stdout" 2>/dev/null || true)
		[[ -n $line ]] && break
		server_alive || break
		sleep 0.01
	done
	if [[ -n $line ]] && ! (exec 5<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
		expect_shortio_loaded
		cause "the ready line was printed before listen() had succeeded: print it after listen(), in main() once open_listener() has returned (step 2)"
		fail FAIL "the grader's shim made the server's listen() wait 0.4 s; the ready line '$line' appeared first, and a connection made at once to 127.0.0.1:$PORT was refused" \
			"expected: the ready line only once the socket listens, so that a client that reads it can connect" \
			"command:  $(cat "$EVID/server.command")"
		return 1
	fi
	expect_ready || return 1
	get /hello.txt
	get /missing.txt
	n=$(grep -c "Server is ready" "$EVID/server.stdout" || true)
	if ((n != 1)); then
		fail FAIL "after 2 requests the ready line is on stdout $n times, not once" \
			"got on stdout:" "$(show "$EVID/server.stdout")"
		return 1
	fi
	# -p 0: the kernel picks a free port, and only the socket knows which.
	stop_process "$SERVER_PID"
	mv "$EVID/server.stdout" "$EVID/server.first.stdout"
	mv "$EVID/server.stderr" "$EVID/server.first.stderr"
	expect_kernel_port 's|^Server is ready on http://127\.0\.0\.1:\([0-9][0-9]*\)/ .*|\1|p' \
		"Server is ready on http://127.0.0.1:N/ serving $SITE" -- "$SL_BIN" -p 0 -r "$SITE"
}

@test "[2] bound to 0.0.0.0, prints this machine's addresses as http://IP:PORT/ lines" {
	hint "handout step 2: for the wildcard address, print_addresses(): getifaddrs(), one 'http://IP:PORT/' line for each address of an interface that is up, then fflush(stdout)"
	local i want=() ip missing=() bad
	PORT=$(free_port 0.0.0.0) WEB_ROOT=$SITE
	SERVER_ARGS="-a 0.0.0.0 -p $PORT -r $SITE"
	start_server 10 "$PORT" 127.0.0.1 -- "$SL_BIN" -a 0.0.0.0 -p "$PORT" -r "$SITE" || return 1
	want=(127.0.0.1)
	if command -v hostname >/dev/null && hostname -I >/dev/null 2>&1; then
		for ip in $(hostname -I); do
			[[ $ip == *.* ]] && want+=("$ip")
		done
	fi
	for ((i = 0; i < 20; i++)); do
		missing=()
		for ip in "${want[@]}"; do
			grep -qx "http://$ip:$PORT/[[:space:]]*" "$EVID/server.stdout" || missing+=("$ip")
		done
		((${#missing[@]} == 0)) && break
		sleep 0.05
	done
	if ! grep -q "^Server is ready on http://0\.0\.0\.0:$PORT/ serving " "$EVID/server.stdout"; then
		fail FAIL "started with -a 0.0.0.0, the server's first line should be 'Server is ready on http://0.0.0.0:$PORT/ serving $SITE'" \
			"got on stdout:" "$(show "$EVID/server.stdout")"
		return 1
	fi
	if ((${#missing[@]})); then
		cause "bound to 0.0.0.0, the server must list this machine's addresses: print_addresses() with getifaddrs() (step 2)"
		fail FAIL "started with -a 0.0.0.0, the server did not print a line for each address of this machine: missing $(printf 'http://%s:%s/ ' "${missing[@]}")" \
			"this machine's IPv4 addresses: ${want[*]} (127.0.0.1 and hostname -I)" \
			"expected on stdout, after the ready line: one 'http://IP:$PORT/' line per address (these lines replace the lecture's 'run ipconfig')" \
			"got on stdout:" "$(show "$EVID/server.stdout")"
		return 1
	fi
	bad=$(grep '^http://' "$EVID/server.stdout" | grep -vE "^http://([0-9.]+|\[[0-9a-fA-F:.]+\]):$PORT/[[:space:]]*$" | head -3)
	if [[ -n $bad ]]; then
		fail FAIL "an address line is not of the form http://IP:$PORT/ (IPv6 in brackets): $bad" \
			"got on stdout:" "$(show "$EVID/server.stdout")"
		return 1
	fi
	get /hello.txt
	expect_status 200 || return 1
}

@test "[2] bound to ::, prints its IPv6 addresses in brackets, and no link-local one" {
	hint "handout step 2: for ::, print_addresses() prints each IPv6 address of an interface that is up as http://[IP]:PORT/, and leaves out the link-local ones (fe80::, IN6_IS_ADDR_LINKLOCAL): a URL cannot name them without the interface"
	local i bad
	[[ -r /proc/net/if_inet6 ]] || skip "this machine has no /proc/net/if_inet6, so the grader cannot list its IPv6 addresses (0 points)"
	grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6 || skip "this machine has no IPv6 loopback (::1), so the grader cannot try a server bound to :: (0 points)"
	grep -qi '^fe80' /proc/net/if_inet6 || skip "this machine has no IPv6 link-local address (fe80::), so the grader cannot judge how the server lists one (0 points)"
	PORT=$(free_port ::1) WEB_ROOT=$SITE
	SERVER_ARGS="-a :: -p $PORT -r $SITE"
	start_server 10 "$PORT" ::1 -- "$SL_BIN" -a :: -p "$PORT" -r "$SITE" || return 1
	for ((i = 0; i < 20; i++)); do
		grep -q "^http://\[::1\]:$PORT/" "$EVID/server.stdout" 2>/dev/null && break
		sleep 0.05
	done
	if ! grep -q "^http://\[::1\]:$PORT/[[:space:]]*$" "$EVID/server.stdout"; then
		cause "bound to ::, the server must list this machine's IPv6 addresses too, in brackets: print_addresses() for AF_INET6 (step 2)"
		fail FAIL "started with -a ::, the server did not print 'http://[::1]:$PORT/' (the IPv6 loopback is up on this machine)" \
			"expected on stdout, after the ready line: one 'http://[IP]:$PORT/' line per IPv6 address (no link-local one), and the IPv4 ones" \
			"got on stdout:" "$(show "$EVID/server.stdout")"
		return 1
	fi
	# A URL names a link-local address only with its zone, and then as
	# %25 and the interface (RFC 6874): http://[fe80::1%25eth0]:8080/.
	bad=$(grep -i '^http://\[fe80:' "$EVID/server.stdout" | grep -v '%25[A-Za-z0-9]' | head -3) || true
	[[ -z $bad ]] && return 0
	if grep -q '%' <<<"$bad"; then
		cause "a link-local IPv6 address was printed with its zone as '%eth0': in a URL the '%' must be written %25 (RFC 6874), and browsers take none of it; leave fe80:: out (IN6_IS_ADDR_LINKLOCAL) (step 2)"
	else
		cause "a link-local IPv6 address was printed without its interface: a URL cannot reach fe80:: without it; skip it (IN6_IS_ADDR_LINKLOCAL) (step 2)"
	fi
	fail FAIL "started with -a ::, the server printed a link-local address (fe80::) that is no usable URL: $bad" \
		"expected: link-local addresses left out (as the handout says; RFC 6874's form with the zone, %25eth0, will do too)" \
		"this machine's IPv6 addresses (/proc/net/if_inet6):" "$(show /proc/net/if_inet6)" \
		"got on stdout:" "$(show "$EVID/server.stdout")"
}

# ---- GET and HEAD ------------------------------------------------------

# expect_file_reply FILE TYPE: a 200 whose body is FILE, with every header
# field the SPEC names: Content-Length, Content-Type TYPE (its media type;
# any parameters), Date (now, GMT), Last-Modified (FILE's time), Server,
# Connection: close.
expect_file_reply() {
	local file="$1" type="$2" size v now t mtime
	expect_status 200 || return 1
	size=$(wc -c <"$file" | tr -d ' ')
	if ! v=$(header Content-Length); then
		cause "a 200 without Content-Length: the client cannot tell a whole body from a cut one; format_head() writes it (step 8)"
		fail_reply FAIL "Content-Length: $size"
		return 1
	fi
	if [[ $v != "$size" ]]; then
		fail_reply FAIL "Content-Length: $size (the file's size)" "Content-Length says $v"
		return 1
	fi
	expect_body "$file" || return 1
	if [[ $(media_type) != "$type" ]]; then
		fail_reply FAIL "Content-Type: $type (for a .${file##*.} file; parameters such as '; charset=utf-8' may follow)" \
			"Content-Type is '$(header Content-Type)'"
		return 1
	fi
	now=$(date +%s)
	if ! v=$(header Date) || ! http_date_ok "$v"; then
		fail_reply FAIL "a Date field with the time now in HTTP's format, e.g. 'Date: $(date -u '+%a, %d %b %Y %H:%M:%S GMT')'" \
			"Date is '${v:-missing}'"
		return 1
	fi
	t=$(epoch_of "$v")
	if [[ -n $t ]] && ((t < now - 120 || t > now + 120)); then
		fail_reply FAIL "Date: the time now, in GMT ($(date -u '+%a, %d %b %Y %H:%M:%S GMT'))" \
			"Date says '$v', $((t - now)) s from now (local time instead of GMT? gmtime_r(), not localtime_r())"
		return 1
	fi
	mtime=$(date -u -r "$file" '+%a, %d %b %Y %H:%M:%S GMT' 2>/dev/null)
	if ! v=$(header Last-Modified) || [[ -n $mtime && $v != "$mtime" ]]; then
		fail_reply FAIL "Last-Modified: $mtime (the file's modification time, st_mtime, in GMT)" \
			"Last-Modified is '${v:-missing}'"
		return 1
	fi
	if ! v=$(header Server) || [[ -z $v ]]; then
		fail_reply FAIL "a Server field naming the server (any name)"
		return 1
	fi
	if ! v=$(header Connection) || [[ $(tr '[:upper:]' '[:lower:]' <<<"$v") != close ]]; then
		fail_reply FAIL "Connection: close (one request per connection)" "Connection is '${v:-missing}'"
		return 1
	fi
	if [[ $REPLY_END != closed-by-server ]]; then
		fail_reply TIME "the server closes the connection once the body is sent" \
			"the connection ended: $REPLY_LINE"
		return 1
	fi
}

@test "[3] serves an HTML and a text file with Content-Length, Content-Type, Date, Last-Modified, Server and Connection: close" {
	hint "handout steps 8 and 9: the head (status line, Date, Server, Last-Modified, Content-Type, Content-Length, Connection: close, blank line), then the file's bytes"
	start_web 10 || return 1
	get /index.html
	expect_file_reply "$SITE/index.html" text/html || return 1
	get /hello.txt
	expect_file_reply "$SITE/hello.txt" text/plain || return 1
	get /epoch.txt
	if [[ $STATUS == 200 ]] && ! header Last-Modified >/dev/null; then
		cause "a file dated 1 January 1970 (st_mtime 0) got no Last-Modified: 0 is a real date; say 'no Last-Modified' (an error's head) with a value that is none, NO_DATE (step 8, format_head())"
	fi
	expect_file_reply "$SITE/epoch.txt" text/plain
}

@test "[3] serves a 200 KB binary file byte for byte" {
	hint "handout step 9: read() a chunk and send_all() exactly the n bytes read (not strlen(): the data holds zero bytes), until Content-Length bytes have gone"
	start_web 10 || return 1
	get /photo.bin
	expect_status 200 || return 1
	if ! cmp -s "$SITE/photo.bin" "$REPLY_BODY" && [[ -s $REPLY_BODY ]] &&
		(($(wc -c <"$REPLY_BODY") < 204800)) && [[ $(tail -c 1 "$REPLY_BODY" | od -An -tx1 | tr -d ' ') != 00 ]] &&
		[[ $(od -An -tx1 -j "$(wc -c <"$REPLY_BODY")" -N1 "$SITE/photo.bin" | tr -d ' ') == 00 ]]; then
		cause "the body stops just before a zero byte of the file: a chunk is bytes, not a C string; send the n bytes read(), never strlen() (step 9)"
	fi
	expect_body "$SITE/photo.bin" || return 1
	[[ $(header Content-Length) == 204800 ]] || { fail_reply FAIL "Content-Length: 204800"; return 1; }
}

@test "[3] answers HEAD with the same head as GET and no body" {
	hint "handout steps 8 and 9: HEAD gets GET's head, its real Content-Length and Content-Type too, and not one byte of body"
	local glen gtype
	start_web 10 || return 1
	get /hello.txt
	expect_status 200 || return 1
	glen=$(header Content-Length) gtype=$(media_type)
	http "HEAD /hello.txt HTTP/1.1\\r\\nHost: 127.0.0.1:$PORT\\r\\n\\r\\n"
	expect_status 200 || return 1
	if [[ -s $REPLY_BODY ]]; then
		cause "HEAD was answered with the body: HEAD sends the head only, with the length the body would have (step 9)"
		fail_reply FAIL "the head alone: no byte after the blank line" \
			"$(wc -c <"$REPLY_BODY" | tr -d ' ') bytes came after the head"
		return 1
	fi
	if [[ $(header Content-Length) != "$glen" || $(media_type) != "$gtype" ]]; then
		fail_reply FAIL "the head a GET gets: Content-Length: $glen, Content-Type: $gtype" \
			"Content-Length '$(header Content-Length)', Content-Type '$(header Content-Type)'"
		return 1
	fi
	http "HEAD /missing-$(random_number 1000 9999).txt HTTP/1.1\\r\\nHost: 127.0.0.1:$PORT\\r\\n\\r\\n"
	expect_status 404 || return 1
	if [[ -s $REPLY_BODY ]]; then
		cause "HEAD of a missing file was answered with the error page: an error's HTML page is a body too, and HEAD gets none (step 10: only the head for HEAD)"
		fail_reply FAIL "the 404's head alone: no byte after the blank line (its Content-Length may say how long the page would be)" \
			"$(wc -c <"$REPLY_BODY" | tr -d ' ') bytes came after the head"
		return 1
	fi
}

@test "[2] serves a file whose name has a space in it (%20)" {
	hint "handout step 6: url_decode() turns each %XY into the byte 0xXY before the path is looked up: /my%20notes.txt is 'my notes.txt'"
	start_web 10 || return 1
	get /my%20notes.txt
	expect_status 200 || { [[ $STATUS == 404 ]] && cause "'/my%20notes.txt' was not found: decode the path (%20 is a space) before looking it up (step 6)"; return 1; }
	expect_body "$SITE/my notes.txt"
}

@test "[2] answers 404 with a short HTML page for a missing file" {
	hint "handout steps 7 and 10: a missing file is a 404, with a short HTML page whose Content-Length is right"
	local name v
	name="missing-$(random_number 1000 9999).txt"
	start_web 10 || return 1
	get "/$name"
	if [[ $STATUS == 200 ]]; then
		cause "a missing file was answered 200: the status line must say 404 (steps 7 and 10)"
	fi
	expect_status 404 || return 1
	if [[ ! -s $REPLY_BODY ]] || ! v=$(header Content-Length) || [[ $v != "$(wc -c <"$REPLY_BODY" | tr -d ' ')" ]]; then
		fail_reply FAIL "a short HTML page as the body, its length in Content-Length" \
			"Content-Length '${v:-missing}', a body of $(wc -c <"$REPLY_BODY" | tr -d ' ') bytes"
		return 1
	fi
	if [[ $(media_type) != text/html ]]; then
		fail_reply FAIL "Content-Type: text/html for the error page" "Content-Type is '$(header Content-Type)'"
		return 1
	fi
}

@test "[2] answers 501 to a method other than GET and HEAD" {
	hint "handout step 5: the method is GET or HEAD; any other (POST, DELETE, PUT) is 501 Not Implemented"
	local req
	start_web 10 || return 1
	for req in "DELETE /hello.txt HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n\\r\\n" \
		"POST /hello.txt HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nContent-Length: 5\\r\\n\\r\\nhello" \
		"PUT /hello.txt HTTP/1.0\\r\\n\\r\\n"; do
		http "$req"
		expect_status 501 || return 1
	done
}

@test "[3] answers 400 to a malformed request" {
	hint "handout step 5: three parts on the request line (method, target, HTTP/1.x), header lines 'Name: value': anything else is 400"
	local req
	start_web 10 || return 1
	for req in "HELLO\\r\\n\\r\\n" \
		"GET /hello.txt HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nThis line has no colon\\r\\n\\r\\n" \
		"GET /hello.txt FTP/1.0\\r\\n\\r\\n"; do
		http "$req"
		expect_status 400 || return 1
	done
}

@test "[2] answers an HTTP/1.0 request and closes" {
	hint "handout step 5: HTTP/1.0 and HTTP/1.1 are both answered (no Host needed in 1.0), and the connection closes after the reply"
	start_web 10 || return 1
	http "GET /hello.txt HTTP/1.0\\r\\n\\r\\n"
	expect_status 200 || return 1
	expect_body "$SITE/hello.txt" || return 1
	if [[ $REPLY_END != closed-by-server ]]; then
		fail_reply TIME "the server closes the connection after the reply" "the connection ended: $REPLY_LINE"
		return 1
	fi
}

@test "[3] parses strictly: case-sensitive methods, HTTP/1.0 and 1.1 only, token field names, no line folding, no NUL or bare CR" {
	hint "handout step 5: the method is compared as it is ('get' is not GET: 501); another HTTP/D.D is 505 (or 400); a field name is a token, so 'Host : x' (a space before the colon) and a line that starts with a space or a tab (obsolete folding) are 400; so is a NUL byte or a bare CR anywhere in the head"
	local c req ok what bad=() first=""
	start_web 10 || return 1
	for c in "get /hello.txt HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n\\r\\n|501|400|a method in lower case (methods are case-sensitive)" \
		"Get /hello.txt HTTP/1.0\\r\\n\\r\\n|501|400|a method in mixed case" \
		"GET /hello.txt HTTP/1.2\\r\\nHost: 127.0.0.1\\r\\n\\r\\n|505|400|HTTP/1.2, a version this server does not speak" \
		"GET /hello.txt HTTP/2.0\\r\\nHost: 127.0.0.1\\r\\n\\r\\n|505|400|HTTP/2.0 in a request line" \
		"GET /hello.txt HTTP/1.1\\r\\nHost : 127.0.0.1\\r\\n\\r\\n|400|a space between the field name and its colon" \
		"GET /hello.txt HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nX-Long: a\\r\\n folded: on\\r\\n\\r\\n|400|obsolete line folding (a line that starts with a space)" \
		"GET /hello.txt HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nX-Long: a\\r\\n\\tfolded: on\\r\\n\\r\\n|400|obsolete line folding (a line that starts with a tab)" \
		"GET /hello.txt HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nX-A: b\\x00\\r\\nno colon here\\r\\n\\r\\n|400|a NUL byte in a field, then a line with no colon" \
		"GET /hello.txt HTTP/1.1\\rjunk\\r\\nHost: 127.0.0.1\\r\\n\\r\\n|400|a bare CR inside the request line, then more text"; do
		req=${c%%|*} what=${c##*|} ok=${c#*|}
		ok=${ok%|*}
		http "$req"
		if [[ ! $STATUS =~ ^($ok)$ ]]; then
			bad+=("$(printf '%s' "${req%%\\r*}") ... ($what): expected ${ok//|/ or }, got ${STATUS:-no reply}")
			[[ -z $first ]] && first=$REPLY
		fi
	done
	((${#bad[@]} == 0)) && return 0
	[[ ${bad[*]} == *"lower case"* ]] && cause "'get' was served as GET: methods are case-sensitive; compare with strncmp(), not strncasecmp() (step 5)"
	[[ ${bad[*]} == *"HTTP/1.2"* || ${bad[*]} == *"HTTP/2.0"* ]] && cause "a version other than HTTP/1.0 and HTTP/1.1 was served: check_version() accepts exactly those two (another HTTP/D.D: 505) (step 5)"
	[[ ${bad[*]} == *"NUL byte"* || ${bad[*]} == *"bare CR"* ]] && cause "the head was read as a C string: a NUL byte, or a CR not followed by LF, ended a line early and what came after it was never checked; every line must end in CRLF (or LF), and a NUL or a bare CR anywhere is 400 (step 5, parse_request() and check_fields())"
	[[ ${bad[*]} == *"between the field name"* || ${bad[*]} == *"folding"* ]] && cause "a header field whose name is not a token was accepted: the name is the bytes before the colon and must be a token, no space, no leading blank (step 5, check_fields())"
	REPLY=$first REPLY_HEAD="${first%.bin}.head" REPLY_BODY="${first%.bin}.body"
	REQ=$(cat "${first%.bin}.request")
	fail FAIL "each request below should be refused; these were not:" "$(printf '  %s\n' "${bad[@]}")" \
		"the first of them:" "$(sent_said)" "$(reply_said)" "$(reproduce "$REQ")"
}

# served_as REQUEST FILE CAUSE EXPECTED: send REQUEST; unless it gets 200
# and the bytes of $SITE/FILE, name CAUSE and fail, saying EXPECTED.
served_as() {
	http "$1"
	if [[ $STATUS != 200 ]]; then
		cause "$3"
		fail_reply FAIL "$4" || return 1
		return 1
	fi
	expect_body "$SITE/$2"
}

@test "[3] accepts what HTTP allows: a head ended by bare LFs, the absolute form (any case), a name with two dots" {
	hint "handout steps 4 to 6: head_end() accepts '\\n\\n' as the blank line; a target 'http://host/path' (or 'HTTP://...') counts as '/path'; only a '..' segment is refused, so '/a..b.txt' (two dots inside a name) is a file like any other"
	start_web 10 || return 1
	served_as "GET /hello.txt HTTP/1.0\\n\\n" hello.txt \
		"a head whose lines end in a bare LF ('\\n\\n' as the blank line) was not answered: head_end() finds '\\n\\n' too, and check_fields() takes '\\n' as a line ending (steps 4 and 5)" \
		"status 200 and the file: RFC 9112 section 2.2 lets a server take a bare LF as a line end, and the handout's head_end() does" || return 1
	served_as "GET http://127.0.0.1:$PORT/hello.txt HTTP/1.1\\r\\nHost: 127.0.0.1:$PORT\\r\\n\\r\\n" hello.txt \
		"a target in the absolute form ('GET http://host/hello.txt', as a proxy is sent) was refused: it counts as its path, '/hello.txt' (step 5)" \
		"status 200 and /hello.txt: RFC 9112 section 3.2.2, a server must accept the absolute form" || return 1
	# A scheme is case-insensitive (RFC 3986 3.1): HTTP:// is http://.
	served_as "GET HTTP://127.0.0.1:$PORT/hello.txt HTTP/1.1\\r\\nHost: 127.0.0.1:$PORT\\r\\n\\r\\n" hello.txt \
		"a target in the absolute form with its scheme in capitals ('GET HTTP://host/hello.txt') was refused: a scheme is case-insensitive (RFC 3986 section 3.1): compare it with strncasecmp() (step 5)" \
		"status 200 and /hello.txt: 'HTTP://' is the same scheme as 'http://'" || return 1
	get /a..b.txt
	if [[ $STATUS != 200 ]]; then
		[[ $STATUS == 403 ]] && cause "'/a..b.txt' was refused: a name may hold two dots; refuse only a '..' segment ('/..' followed by '/' or the end), not every '..' in the text (step 6)"
		fail_reply FAIL "status 200 and the file a..b.txt: '..' inside a name is no way out" || return 1
		return 1
	fi
	expect_body "$SITE/a..b.txt"
}

@test "[2] answers at once a client that half-closes in the middle of its head (400 or a close)" {
	hint "handout step 4: recv() returning 0 means the client has closed its side: with part of a head, answer 400 (or close) at once; never wait for more bytes that cannot come"
	start_web 20 -t 10 || return 1
	http --seconds 2 "GET /hello.txt HTTP/1.1\\r\\nHost: 127"
	# (no line from the client at all: the grader stopped it at its limit)
	if [[ ! $REPLY_END =~ ^(closed|reset)-by-server$ ]]; then
		cause "a client that shut down its side after part of a head waited for the deadline: recv() returning 0 is the end; answer 400 or close at once (step 4)"
		fail_reply TIME "a 400 or the connection closed within $(scaled 2) s (started with -t 10): the client sent part of a head and shut its side (shutdown(SHUT_WR)), so no more can come" || return 1
		return 1
	fi
	if [[ -n $STATUS && $STATUS != 400 ]]; then
		fail_reply FAIL "status 400 (or a plain close): the request head was cut short by the client's close" || return 1
		return 1
	fi
}

@test "[3] refuses a FIFO in the document root at once (403 or 404), closing what it opened for it" {
	hint "handout step 7: open() with O_NONBLOCK (a FIFO's open() otherwise waits for a writer for ever), fstat() the descriptor and refuse anything not S_ISREG with 403, closing it first"
	local main base now i
	[[ -p $SITE/fifo ]] || skip "the grader could not make a FIFO here (mkfifo), so this test cannot run (0 points)"
	start_web 20 || return 1
	main=$(server_main_pid)
	base=$(fd_count "$main")
	get --seconds 2 /fifo
	if [[ -z $STATUS && ! $REPLY_END =~ ^(closed|reset)-by-server$ ]]; then
		cause "GET /fifo (a named pipe in the document root) got no answer: open() of a FIFO waits for a writer; open with O_NONBLOCK, then fstat() and refuse what is not a regular file (step 7)"
		fail_reply TIME "status 403 or 404 at once: a FIFO is no file to serve" || return 1
		return 1
	fi
	expect_status 403 404 || return 1
	"$SL_PEERS/contain" -t "$(scaled 10)" -- "$SL_PEERS/tcpclient" -k 40 -q -H -t "$(ms 2)" \
		-m 'GET /fifo HTTP/1.0\r\n\r\n' -A "$EVID/fifo-all.bin" 127.0.0.1 "$PORT" </dev/null >"$EVID/fifo.out" 2>&1 3>&- 4>&- || true
	[[ -n $base ]] || return 0
	for ((i = 0; i < 20; i++)); do
		now=$(fd_count "$main")
		((now <= base + 1)) && return 0
		sleep 0.05
	done
	cause "each GET /fifo left a descriptor open: when fstat() says it is no regular file, close() it before answering 403 (step 7)"
	fail FAIL "41 GET /fifo, each answered $(grep -ac '^HTTP/1\.[01] 40[34]' "$EVID/fifo-all.bin" || true) times of 40 with 403 or 404: the server now holds $now descriptors, $((now - base)) more than before them" \
		"expected: back to $base: the FIFO opened to look at it is closed on the 403 too" \
		"$(find "/proc/$main/fd" -mindepth 1 -printf '  %f -> %l\n' 2>/dev/null | head -8)"
}

@test "[3] answers 431 to a request head over 8 KiB, and serves one of exactly 8192 bytes" {
	hint "handout step 4: read the head into an 8 KiB buffer; a head of 8192 bytes, its blank line included, fits; full and still no blank line: 431"
	local pad="" i
	start_web 10 || return 1
	http "$(lab04_head_of_size 8192)"
	if [[ $STATUS != 200 ]]; then
		[[ $STATUS == 431 ]] && cause "a request head of exactly 8192 bytes (8 KiB, its blank line included) was refused: the buffer must hold HEAD_MAX (8192) bytes of head, and 431 only when it is full without a blank line (step 4)"
		fail_reply FAIL "status 200 and the file: the head is exactly 8192 bytes, blank line included, which is the limit and fits" || return 1
		return 1
	fi
	http "$(lab04_head_of_size 8193)"
	if [[ $STATUS != 431 ]]; then
		[[ $STATUS == 200 ]] && cause "a request head of 8193 bytes (one over 8 KiB, its blank line included) was served: off by one at the limit; 431 once HEAD_MAX bytes have come without the blank line (step 4)"
		fail_reply FAIL "status 431: the head is 8193 bytes, blank line included, one byte over the 8 KiB limit" || return 1
		return 1
	fi
	for ((i = 0; i < 300; i++)); do
		pad+="X-Padding-$i: 00000000000000000000000000000000000000000000000000\\r\\n"
	done
	http "GET /hello.txt HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n$pad\\r\\n"
	[[ $STATUS == 431 ]] && return 0
	[[ $REPLY_END == reset-by-server && ! -s $REPLY ]] &&
		cause "the 431 was lost to a reset: closing with request bytes unread makes the kernel reset the connection; close_client() reads what comes before it closes (step 10)"
	expect_status 431
}

@test "[3] reads a request that arrives in pieces: dripped, and split inside the blank line" {
	hint "handout step 4: one recv() returns what has arrived, not a request: recv again and again until the blank line (\\r\\n\\r\\n) is in the buffer, even when it comes in two pieces"
	local req len
	start_web 10 || return 1
	req="GET /hello.txt HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n\\r\\n"
	http "$req" -b 3 -d 15
	if [[ $STATUS != 200 ]]; then
		[[ $STATUS == 400 || $STATUS == 404 || $STATUS == 431 ]] &&
			cause "a request sent in pieces was taken for a whole one: recv() until the blank line has arrived (step 4)"
		fail_reply FAIL "status 200 and the file: the request was sent 3 bytes at a time, 15 ms apart, as a slow network may deliver it" \
			"the request came in pieces (-b 3 -d 15)"
		return 1
	fi
	expect_body "$SITE/hello.txt" || return 1
	# 42 bytes as sent: the first piece ends with "\r\n\r", the last is "\n".
	len=42
	http "$req" -b $((len - 1)) -d 200
	if [[ $STATUS != 200 ]]; then
		[[ -z $STATUS ]] && cause "the blank line came in two pieces ('\\r\\n\\r', then '\\n') and was never found: look for it from a few bytes before the new ones, or in the whole buffer (step 4)"
		fail_reply FAIL "status 200 and the file: the request came in two pieces, the first ending in '\\r\\n\\r', the last '\\n' 0.2 s later" \
			"the request came in two pieces"
		return 1
	fi
}

@test "[3] sends the right Content-Type for each extension" {
	hint "handout step 8: mime_type() by the extension: html, txt, css, js, json, png, jpg/jpeg, gif, svg, ico, pdf; anything else application/octet-stream"
	local ext want got bad=()
	start_web 10 || return 1
	for ext in html txt css js json png jpg jpeg gif svg ico pdf xyz README; do
		case $ext in
		html) want="text/html" ;;
		txt) want="text/plain" ;;
		css) want="text/css" ;;
		js) want="text/javascript|application/javascript" ;;
		json) want="application/json" ;;
		png) want="image/png" ;;
		jpg | jpeg) want="image/jpeg" ;;
		gif) want="image/gif" ;;
		svg) want="image/svg+xml" ;;
		ico) want="image/x-icon|image/vnd.microsoft.icon" ;;
		pdf) want="application/pdf" ;;
		*) want="application/octet-stream" ;;
		esac
		if [[ $ext == README ]]; then get /types/README; else get "/types/t.$ext"; fi
		got=$(media_type)
		[[ $STATUS == 200 && "|$want|" == *"|$got|"* ]] || bad+=("${ext}: expected ${want//|/ or }, got ${got:-no Content-Type} (status ${STATUS:-none})")
	done
	((${#bad[@]} == 0)) && return 0
	[[ ${bad[*]} == *"png: "* ]] && cause "a .png file was sent with the wrong Content-Type: image/png (step 8's table)"
	fail FAIL "GET /types/t.EXT for each extension of the SPEC's table (and t.xyz, README: unknown types); these came back wrong (parameters such as '; charset=utf-8' are fine):" \
		"$(printf '  %s\n' "${bad[@]}")" "the last reply:" "$(reply_said)" "$(reproduce "$REQ" "${REPLY_OPTS[@]}")"
}

@test "[3] serves a folder's index.html, and redirects a folder without its '/' (301, Location), however long its name" {
	hint "handout step 7: a folder asked for as /notes/ serves /notes/index.html; asked for as /notes it gets a 301 whose Location is /notes/"
	local loc
	start_web 10 || return 1
	get /notes/
	expect_status 200 || return 1
	expect_body "$SITE/notes/index.html" || return 1
	[[ $(media_type) == text/html ]] || { fail_reply FAIL "Content-Type: text/html (the folder's index.html)"; return 1; }
	get /
	expect_status 200 || return 1
	expect_body "$SITE/index.html" || return 1
	get /notes
	if [[ $STATUS == 200 ]]; then
		cause "a folder asked for without its trailing '/' must get a 301 to the name with the '/' (step 7): its page's relative links would point one folder too high"
	fi
	expect_status 301 || return 1
	loc=$(header Location) || { fail_reply FAIL "a Location field: /notes/ (or http://127.0.0.1:$PORT/notes/)"; return 1; }
	if [[ ! $loc =~ ^(https?://[^/]+)?/notes/$ ]]; then
		fail_reply FAIL "Location: /notes/ (or http://127.0.0.1:$PORT/notes/)" "Location is '$loc'"
		return 1
	fi
	# The same folder by a 3,006-byte name (1,500 "/."): its Location is
	# as long, and must come whole, in a head that ends where it should.
	local long
	long="$(printf '/.%.0s' {1..1500})/notes"
	get "$long"
	loc=$(header Location) || loc=""
	if [[ $STATUS != 301 || ! $loc =~ ^(https?://[^/]+)?"$long"/$ ]]; then
		cause "a Location as long as the target (here 3,007 bytes) did not come back whole: the 301's head must be built in a buffer that holds the longest target the head allows (8 KiB), never past its end, and never cut (steps 8 and 10, format_head() and send_error())"
		fail_reply FAIL "status 301 and Location: the 3,006-byte target with a '/' added" \
			"got status ${STATUS:-none} and a Location of ${#loc} bytes" || return 1
		return 1
	fi
}

@test "[2] ignores the query string" {
	hint "handout step 6: the path ends at the first '?': /hello.txt?x=1 is /hello.txt"
	start_web 10 || return 1
	get "/hello.txt?x=1&y=/../../secret.txt"
	if [[ $STATUS != 200 ]]; then
		local first=$REPLY st=$STATUS
		get "/hello.txt?x=1"
		if [[ $st == 403 && $STATUS == 200 ]]; then
			cause "the '..' check looked at the query string: '/hello.txt?x=1' is served, but '..' after the '?' made it 403; check the decoded path, which ends at the '?' (step 6)"
		elif [[ $st == 404 || $st == 403 ]]; then
			cause "the query string was taken for part of the file name: stop decoding at the first '?' (step 6)"
		fi
		REPLY=$first REPLY_HEAD="${first%.bin}.head" REPLY_BODY="${first%.bin}.body" STATUS=$st
		REQ=$(cat "${first%.bin}.request")
		expect_status 200
		return 1
	fi
	expect_body "$SITE/hello.txt" || return 1
	get "/notes/?page=2"
	expect_status 200 || return 1
	expect_body "$SITE/notes/index.html"
}

# traversal CASE...: each CASE is "TARGET|STATUSES|what it is"; every one
# must be refused with one of STATUSES, and no reply may hold the secret
# (or /etc/passwd).  Fails listing every case that went wrong.
traversal() {
	local c target ok what bad=() leaked=() served=() first=""
	LEAKED=() SERVED=()
	for c in "$@"; do
		target=${c%%|*} what=${c##*|} ok=${c#*|}
		ok=${ok%|*}
		get "$target"
		if grep -qF "TOP SECRET" "$REPLY" || grep -q '^root:' "$REPLY"; then
			leaked+=("$target ($what): status ${STATUS:-none}")
			LEAKED+=("$target")
			[[ -z $first ]] && first="$REPLY"
		elif [[ $STATUS == 2* ]] && [[ ! $STATUS =~ ^($ok)$ ]]; then
			served+=("$target ($what): expected ${ok//|/ or }, got $STATUS: it was served")
			SERVED+=("$target")
			[[ -z $first ]] && first="$REPLY"
		elif [[ ! $STATUS =~ ^($ok)$ ]]; then
			bad+=("$target ($what): expected ${ok//|/ or }, got ${STATUS:-no reply} ($REPLY_END)")
			[[ -z $first ]] && first="$REPLY"
		fi
	done
	((${#bad[@]} + ${#leaked[@]} + ${#served[@]} == 0)) && return 0
	local what_leaked=() wrong=()
	((${#served[@]})) && wrong+=("served, though it must be refused:" "$(printf '  %s\n' "${served[@]}")")
	((${#bad[@]})) && wrong+=("answered with the wrong status:" "$(printf '  %s\n' "${bad[@]}")")
	if ((${#leaked[@]})); then
		what_leaked=("THE SECRET CAME BACK (a file outside the document root, $(dirname "$SITE")/secret.txt, or /etc/passwd) for:" "$(printf '  %s\n' "${leaked[@]}")")
	fi
	REPLY=$first REPLY_HEAD="${first%.bin}.head" REPLY_BODY="${first%.bin}.body"
	REQ=$(cat "${first%.bin}.request")
	fail FAIL "GET of each target below, the server serving $SITE:" \
		"expected: each one refused with 403 or 404 (400 where noted), and never a byte of a file outside the root" \
		"${what_leaked[@]}" \
		"${wrong[@]}" \
		"the first that went wrong:" "$(sent_said)" "$(reply_said)" \
		"$(reproduce "$REQ")"
}

@test "[4] never serves a file outside the document root, whatever the path (the traversal table)" {
	hint "handout step 6: decode first, then refuse every '..' segment, then realpath() and check that the result is the root or starts with the root and a '/'"
	local rc=0
	start_web 10 || return 1
	traversal "/../secret.txt|403|404|the plain way out" \
		"/../../../../../../../../etc/passwd|403|404|far out" \
		"/notes/../../secret.txt|403|404|out, from a folder" \
		"/notes/..|403|404|400|200|a '..' at the very end (200 would do: that is the root, where the secret is not)" \
		"/%2e%2e/secret.txt|403|404|an encoded '..'" \
		"/%2E%2E/%2e%2E/secret.txt|403|404|encoded, capitals" \
		"/.%2e/secret.txt|403|404|half encoded" \
		"/%2e%2e%2fsecret.txt|403|404|400|dots and slash encoded" \
		"/notes/%2F../../secret.txt|403|404|400|an encoded '/' before '..'" \
		"/notes/..%2F..%2Fsecret.txt|403|404|400|'..' then an encoded '/'" \
		"//etc/passwd|403|404|a double slash stays under the root" \
		"/..%5c..%5csecret.txt|403|404|400|a backslash is a name on POSIX" \
		"/hello.txt%00.png|400|403|404|%00, which would cut a C string short" \
		"/%00/../secret.txt|400|403|404|%00 then '..'" \
		"http://127.0.0.1/../secret.txt|400|403|404|the absolute form (as a proxy is sent)" || rc=$?
	if ((rc == 0)); then
		# Decoding comes first: "%2e%2e" is "..", so both spellings get
		# the same answer (whichever one the server gives).
		local plain enc
		get /notes/../hello.txt
		plain=$STATUS
		get /notes/%2e%2e/hello.txt
		enc=$STATUS
		[[ $plain == "$enc" ]] && return 0
		cause "'..' and its encoded form '%2e%2e' were answered differently: the '..' check looked at the path as sent; decode first, then check the decoded path (step 6)"
		fail FAIL "GET /notes/../hello.txt got status ${plain:-none}, GET /notes/%2e%2e/hello.txt got ${enc:-none}" \
			"expected: the same answer for both (403 or 404, or 200 as that path stays in the root): %2e%2e decodes to '..', and the check must see the decoded path" \
			"the second:" "$(sent_said)" "$(reply_said)" "$(reproduce "$REQ")"
		return 1
	fi
	local all=" ${LEAKED[*]} "
	if [[ $all == *%2[eE]* ]]; then
		cause "an encoded '..' (%2e%2e) walked out of the document root: decode the path first, then check it (step 6)"
	elif [[ $all == *%00* || " ${SERVED[*]} " == *%00* ]]; then
		cause "%00 was decoded into a zero byte, which ends a C string: refuse it with 400 (step 6)"
	elif [[ $all == *..* ]]; then
		cause "a '..' walked out of the document root: refuse '..' segments, then check the realpath() against the root (step 6)"
	fi
	((rc == 0)) # fails the test
}

@test "[3] refuses symlinks that lead out of the document root, even into a folder named like it" {
	hint "handout step 6: only the resolved path shows where a file really is: realpath(), then the root followed by '/' or the end (a prefix alone lets /srv/www-evil pass for /srv/www); step 7: check a folder's index.html the same way"
	local rc=0
	start_web 10 || return 1
	traversal "/link-out|403|404|a symlink to ../secret.txt" \
		"/dir-out/secret.txt|403|404|through a symlink to the folder above" \
		"/link-sibling|403|404|a symlink into ../site-evil: its real path starts with the root's name" \
		"/evil-dir/secret.txt|403|404|through a symlink to the folder ../site-evil" \
		"/docs-out/|403|404|a folder whose index.html is a symlink out" || rc=$?
	((rc == 0)) && return 0
	local all=" ${LEAKED[*]} "
	if [[ $all == *" /link-out "* || $all == *" /dir-out/"* ]]; then
		cause "a symlink inside the root that points out was followed: check the path realpath() gives, not the path's text (step 6)"
	elif [[ $all == *" /link-sibling "* || $all == *" /evil-dir/"* ]]; then
		cause "a file in a sibling folder whose name starts like the root's was served: the real path must be the root followed by '/' or its end, not merely start with it (step 6)"
	elif [[ $all == *" /docs-out/ "* ]]; then
		cause "a folder's index.html that is a symlink out was served: check PATHindex.html with safe_path() too (step 7)"
	fi
	((rc == 0)) # fails the test
}

# ---- concurrency and robustness ---------------------------------------

# stall CONNS: connections that stall, in the background: CONNS clients
# that send the first byte of a request ("G") and then nothing for 20 s.
# One byte, not none: a server may leave a client that has sent nothing
# in the kernel's queue until it sends (TCP_DEFER_ACCEPT on Linux), and
# then a silent client would never reach it; a byte makes every server
# take the client and wait for the rest.  Waits until all have sent it.
stall() {
	local n="$1" i c
	background 25 stall "$SL_PEERS/tcpclient" -c "$n" -m 'GE' -b 1 -d "$(ms 20)" -t "$(ms 22)" \
		-L "$EVID/stall.log" 127.0.0.1 "$PORT"
	for ((i = 0; i < 100; i++)); do
		c=$(grep -c '(1 in all)' "$EVID/stall.log" 2>/dev/null) || true
		((${c:-0} >= n)) && return 0
		sleep 0.03
	done
}

@test "[3] serves other clients while one client stalls (silent, or halfway through its request)" {
	hint "handout step 3: serve each client in a thread (or process) of its own, so that accept() runs again at once"
	start_web 20 || return 1
	stall 1
	background 25 half "$SL_PEERS/tcpclient" -m 'GET /hello.txt HTT' -t "$(ms 20)" -L "$EVID/half.log" 127.0.0.1 "$PORT"
	sleep 0.2
	get --seconds 3 /hello.txt
	if [[ $STATUS != 200 ]]; then
		if (($(server_threads) > 1)); then
			cause "the server has threads, but while one client stalled none was waiting in accept(): start the next thread before serving the client you took, not after (step 3)"
		else
			cause "one client at a time: a client that sends nothing stops the server; serve each in a thread of its own (step 3)"
		fi
		fail_reply TIME "status 200 and the file within $(scaled 3) s, while one client sat connected, silent after the first byte of its request, and another had sent half a request line ('GET /hello.txt HTT')" \
			"the second client was not served"
		return 1
	fi
	expect_body "$SITE/hello.txt"
}

@test "[3] serves a client while 200 others are connected and stalled" {
	hint "handout step 3 and 'Concurrency models': a thread (or process) per client, never a fixed pool: N silent clients stop a pool of N"
	start_web 20 || return 1
	stall 200
	local n
	n=$(grep -c 'connected to' "$EVID/stall.log" 2>/dev/null || true)
	get --seconds 5 /hello.txt
	if [[ $STATUS != 200 ]]; then
		fail_reply TIME "status 200 and the file within $(scaled 5) s, while 200 clients sat connected, each silent after the first byte of its request ($n connections made)" \
			"the 201st client was not served: are clients served by a fixed number of threads (a pool), or one at a time?"
		return 1
	fi
	expect_body "$SITE/hello.txt"
}

@test "[3] drops a client that sends no complete request within -t seconds, even one that drips it (slowloris)" {
	hint "handout step 4: one deadline for the whole head, noted once before the loop: poll() for the time left, and at the deadline give up (408 or close); a timeout per recv() lets a client that sends a byte a second stay for ever"
	local pad="" i silent drip
	for ((i = 0; i < 20; i++)); do pad+="X-$i: a\\r\\n"; done
	start_web 15 -t 1 || return 1
	background 12 silent "$SL_PEERS/tcpclient" -i "$(ms 8)" -m 'GET /hello.txt HTTP/1.0\r\n\r\n' -t "$(ms 10)" \
		-L "$EVID/silent.log" 127.0.0.1 "$PORT"
	silent=$BG_PID
	background 12 drip "$SL_PEERS/tcpclient" -b 1 -d 40 -m "GET /hello.txt HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n$pad\\r\\n" \
		-t "$(ms 10)" -L "$EVID/drip.log" 127.0.0.1 "$PORT"
	drip=$BG_PID
	for ((i = 0; i < 70; i++)); do
		[[ -s $EVID/silent.status && -s $EVID/drip.status ]] && break
		sleep 0.05
	done
	local s d bad=()
	s=$(grep -m1 '^conn ' "$EVID/silent.out" 2>/dev/null) || true
	d=$(grep -m1 '^conn ' "$EVID/drip.out" 2>/dev/null) || true
	[[ $s =~ (closed|reset)-by-server ]] || bad+=("a client that connected and sent nothing was still connected after $(scaled 3.5) s")
	[[ $d =~ (closed|reset)-by-server ]] || bad+=("a client that sent its request a byte every 40 ms (${#pad} bytes of header lines: 7 s in all) was still connected after $(scaled 3.5) s")
	((${#bad[@]} == 0)) && return 0
	kill "$silent" "$drip" 2>/dev/null || true
	if [[ $s =~ (closed|reset)-by-server ]]; then
		cause "a client that drips its request head (slowloris) is never dropped: one deadline for the whole head, not a timeout per recv() (step 4)"
	else
		cause "a client that sends nothing is never dropped: poll() with the time left until the deadline, and give up at the deadline (step 4)"
	fi
	fail TIME "started with -t 1: a client that has not sent a complete request head within 1 s must be dropped (a 408 or a plain close)" \
		"$(printf '%s\n' "${bad[@]}")" \
		"the clients: ${s:-silent one still running}; ${d:-dripping one still running}" \
		"to try it by hand: ./build/labs/04-webserver/webserver $SERVER_ARGS &" \
		"  ./build/peers/tcpclient -i 8000 -m 'GET / HTTP/1.0\\r\\n\\r\\n' 127.0.0.1 $PORT"
}

@test "[3] serves 100 clients at once, each its whole file, and closes every file" {
	hint "handout step 3: each client in a thread of its own, with its own buffer and its own descriptor; the pool must grow to as many threads as there are clients at once"
	local i bad=() f out main base now
	start_web 20 || return 1
	main=$(server_main_pid)
	base=$(group_fd_count "$main")
	out="$EVID/talk.out"
	"$SL_PEERS/contain" -t "$(scaled 15)" -s "$EVID/talk.status" -- "$SL_PEERS/tcpclient" -c 100 -H -R "$(ms 0.3)" -C "$(ms 8)" -t "$(ms 6)" \
		-m 'GET /page256k.bin HTTP/1.0\r\n\r\n' -o "$EVID/conc" -L "$EVID/talk.log" 127.0.0.1 "$PORT" \
		</dev/null >"$out" 2>"$EVID/talk.err" 3>&- 4>&- || true
	# Every descriptor the clients cost is given back (a thread's file, its
	# socket): one kept in a variable every thread shares is closed by the
	# wrong thread, and the others leak.  20 clients of a 5 MiB file, each
	# reading nothing for 0.5 s and leaving after 64 KiB: no kernel buffer
	# takes 5 MiB, so all 20 threads hold their file at once.
	if [[ -n $base ]]; then
		"$SL_PEERS/contain" -t "$(scaled 10)" -- "$SL_PEERS/tcpclient" -c 20 -R "$(ms 0.5)" -X 65536 -C "$(ms 5)" -t "$(ms 5)" \
			-m 'GET /big5m.bin HTTP/1.0\r\n\r\n' 127.0.0.1 "$PORT" </dev/null >"$EVID/leave.out" 2>&1 3>&- 4>&- || true
		for ((i = 0; i < 60; i++)); do
			now=$(group_fd_count "$main")
			((now <= base)) && break
			sleep 0.05
		done
		if ((now > base)); then
			cause "after 20 clients at once had each left in the middle of a 5 MiB file, the server kept $((now - base)) more descriptors: each thread must close its own file and socket; a descriptor kept in a static variable, which every thread shares, is closed by the wrong thread and the others leak (step 3)"
			fail FAIL "20 clients connected at once, each sending 'GET /big5m.bin HTTP/1.0', reading nothing for 0.5 s, then leaving after 64 KiB" \
				"expected: once all have gone, the server holds the descriptors it held before them ($base); it holds $now:" \
				"$(find "/proc/$main/fd" -mindepth 1 -printf '  %f -> %l\n' 2>/dev/null | head -10)" \
				"to try it by hand: ./build/labs/04-webserver/webserver $SERVER_ARGS &  (DIR holding a 5 MiB big5m.bin)" \
				"  ./build/peers/tcpclient -c 20 -R 500 -X 65536 -m 'GET /big5m.bin HTTP/1.0\\r\\n\\r\\n' 127.0.0.1 $PORT; ls /proc/\$(pgrep -n webserver)/fd | wc -l"
			return 1
		fi
	fi
	# Quick: every file ends with the 262144 bytes and starts with a 200.
	local files=()
	for ((i = 0; i < 100; i++)); do
		files+=("$EVID/conc.$i")
		[[ -f $EVID/conc.$i ]] || : >"$EVID/conc.$i"
	done
	for ((i = 0; i < 100; i++)); do cat "$SITE/page256k.bin"; done >"$EVID/expected.bodies"
	local no200
	no200=$(grep -L '^HTTP/1\.[01] 200' "${files[@]}") || true
	if [[ -z $no200 ]] && tail -q -c 262144 "${files[@]}" | cmp -s - "$EVID/expected.bodies"; then
		rm -f "$EVID/expected.bodies"
		return 0
	fi
	for ((i = 0; i < 100 && ${#bad[@]} < 6; i++)); do
		f="$EVID/conc.$i"
		split_reply "$f" "$f.head" "$f.body" 2>/dev/null
		if ! head -1 "$f.head" 2>/dev/null | grep -q '^HTTP/1\.[01] 200' || ! cmp -s "$SITE/page256k.bin" "$f.body"; then
			local differ=""
			# as many bytes as the file, but other ones: say where
			if [[ -f $f.body ]] && (($(wc -c <"$f.body") == 262144)); then
				differ=" but not the file's: they differ from byte $(cmp "$SITE/page256k.bin" "$f.body" 2>/dev/null | sed -n 's/.* byte \([0-9]*\).*/\1/p') on (another client's bytes?)"
			fi
			bad+=("client $i: $(head -1 "$f.head" 2>/dev/null | head -c 60), $(wc -c <"$f.body" 2>/dev/null | tr -d ' ') body bytes$differ; $(grep "^conn $i:" "$out" | sed 's/^conn [0-9]*: //')")
		fi
	done
	((${#bad[@]} == 0)) && return 0
	f="$EVID/conc.0"
	local blen
	blen=$(wc -c <"$f.body" 2>/dev/null | tr -d ' ')
	if head -1 "$f.head" 2>/dev/null | grep -q '^HTTP/1\.[01] 200' && [[ -n $blen ]] && ((blen < 262144)) &&
		[[ $(od -An -tx1 -j "$blen" -N1 "$SITE/page256k.bin" | tr -d ' ') == 00 ]] && cmp -s -n "$blen" "$f.body" "$SITE/page256k.bin"; then
		cause "the body stops just before a zero byte of the file: a chunk is bytes, not a C string; send the n bytes read(), never strlen() (step 9)"
	fi
	# Every bad one a 200 with too few or other bytes, and most served
	# right: clients sharing what should be each one's own.
	local n200
	n200=$(printf '%s\n' "${bad[@]}" | grep -c ': HTTP/1\.[01] 200') || true
	if ((n200 == ${#bad[@]})) && [[ -z $no200 ]]; then
		cause "clients at once got a 200 and too few or another client's bytes: what each thread holds for its client (the file's descriptor, the buffer) must be its own, never a static variable every thread shares (step 3)"
	fi
	fail FAIL "100 clients connected at once, each sending 'GET /page256k.bin HTTP/1.0' (262144 bytes of binary data), and reading nothing for the first 0.3 s" \
		"expected: each gets status 200 and the whole file" \
		"some did not (the first ${#bad[@]} shown; the client's report is talk.out and the replies are conc.N in the evidence folder):" \
		"$(printf '  %s\n' "${bad[@]}")" "$(server_state)" \
		"to try it by hand: ./build/labs/04-webserver/webserver $SERVER_ARGS &" \
		"  ./build/peers/tcpclient -c 100 -H -R 300 -m 'GET /page256k.bin HTTP/1.0\\r\\n\\r\\n' -o reply 127.0.0.1 $PORT"
}

@test "[3] clients that vanish mid-file cost nothing: SIGPIPE is harmless, no descriptor stays" {
	hint "handout steps 3 and 9: signal(SIGPIPE, SIG_IGN) in main(); when send_all() fails (EPIPE, ECONNRESET), that client is over: close its file and its socket"
	local main base i now
	start_web 20 || return 1
	main=$(server_main_pid)
	sleep 0.1
	base=$(fd_count "$main")
	# Gone before the reply (a FIN: the server's sends hit a closed
	# socket, EPIPE, SIGPIPE), gone after 100 KB of it, and reset.
	"$SL_PEERS/contain" -t "$(scaled 10)" -- "$SL_PEERS/tcpclient" -c 10 -x 30 -C "$(ms 5)" -t "$(ms 5)" \
		-m 'GET /big5m.bin HTTP/1.0\r\n\r\n' -L "$EVID/gone.log" 127.0.0.1 "$PORT" \
		</dev/null >"$EVID/gone.out" 2>&1 3>&- 4>&- || true
	"$SL_PEERS/contain" -t "$(scaled 10)" -- "$SL_PEERS/tcpclient" -c 5 -X 100000 -C "$(ms 5)" -t "$(ms 5)" \
		-m 'GET /big5m.bin HTTP/1.0\r\n\r\n' -L "$EVID/vanish.log" 127.0.0.1 "$PORT" \
		</dev/null >"$EVID/vanish.out" 2>&1 3>&- 4>&- || true
	"$SL_PEERS/contain" -t "$(scaled 10)" -- "$SL_PEERS/tcpclient" -c 5 -r 30 -C "$(ms 5)" -t "$(ms 5)" \
		-m 'GET /big5m.bin HTTP/1.0\r\n\r\n' -L "$EVID/reset.log" 127.0.0.1 "$PORT" \
		</dev/null >"$EVID/reset.out" 2>&1 3>&- 4>&- || true
	# Half-closed after the request (the server's side is in CLOSE_WAIT),
	# then gone after 100 KB: the reset that follows makes the server's
	# next send fail with EPIPE, and raise SIGPIPE, whatever the timing.
	"$SL_PEERS/contain" -t "$(scaled 10)" -- "$SL_PEERS/tcpclient" -c 5 -H -X 100000 -C "$(ms 5)" -t "$(ms 5)" \
		-m 'GET /big5m.bin HTTP/1.0\r\n\r\n' -L "$EVID/halfgone.log" 127.0.0.1 "$PORT" \
		</dev/null >"$EVID/halfgone.out" 2>&1 3>&- 4>&- || true
	sleep 0.2
	if ! server_alive; then
		[[ $(cat "$EVID/server.status" 2>/dev/null) == "signal SIGPIPE" ]] &&
			cause "the server was killed by SIGPIPE when a client had gone: keep signal(SIGPIPE, SIG_IGN) in main() (step 3)"
		expect_alive "10 clients asked for a 5 MB file and closed at once, 5 closed after 100 KB of it, 5 reset their connection, and 5 half-closed, then closed after 100 KB" || return 1
	fi
	get /hello.txt
	expect_status 200 || return 1
	[[ -n $base ]] || return 0
	for ((i = 0; i < 40; i++)); do
		now=$(fd_count "$main")
		((now <= base)) && return 0
		sleep 0.05
	done
	cause "a client that vanished mid-file left descriptors open: when send fails, close the file and the connection (step 9)"
	fail FAIL "10 clients asked for a 5 MB file and closed at once, 5 after 100 KB of it, 5 reset their connection: $(scaled 2) s later the server holds $now descriptors, $((now - base)) more than before them" \
		"expected: back to $base (a client that has gone costs nothing)" \
		"$(find "/proc/$main/fd" -mindepth 1 -printf '  %f -> %l\n' 2>/dev/null | head -8)"
}

@test "[3] streams a 1 GiB file whole while its memory stays flat" {
	hint "handout step 9: a fixed buffer (64 KiB) filled with read() and sent with send_all(), again and again: never the whole file in memory"
	[[ -r /proc/self/status ]] || skip "this machine has no /proc, so the grader cannot watch the server's memory (0 points)"
	local main base peak=0 r i size=1073741824 cl headlen got
	mkdir -p "$EVID/huge"
	truncate -s "$size" "$EVID/huge/huge.bin" 2>/dev/null ||
		skip "the grader cannot make a 1 GiB sparse file here (truncate), so this test cannot run (0 points)"
	start_web --root "$EVID/huge" 30 || return 1
	main=$(server_main_pid)
	base=$(rss_kb "$main")
	background 30 huge "$SL_PEERS/tcpclient" -H -t "$(ms 25)" -m 'GET /huge.bin HTTP/1.0\r\n\r\n' \
		-o "$EVID/huge.head" -S 4096 127.0.0.1 "$PORT"
	for ((i = 0; i < 600; i++)); do
		[[ -s $EVID/huge.status ]] && break
		r=$(rss_kb "$main")
		[[ -n $r ]] && ((r > peak)) && peak=$r
		((peak - base > 262144)) && break # 256 MiB: enough seen
		sleep 0.05
	done
	kill "$BG_PID" 2>/dev/null || true
	rm -rf "$EVID/huge"
	if ((peak - base > 65536)); then
		cause "the file is read into memory whole: read and send it a chunk at a time through a fixed buffer (step 9)"
		fail FAIL "while the server sent a 1 GiB file, its memory (VmRSS in /proc/$main/status) grew from $((base / 1024)) MiB to at least $((peak / 1024)) MiB" \
			"expected: flat, within 64 MiB: a 64 KiB buffer does for any file"
		return 1
	fi
	local line
	line=$(grep -m1 '^conn ' "$EVID/huge.out" 2>/dev/null) || true
	got=$(sed -n 's/^conn 0: sent [0-9]* received \([0-9]*\) .*/\1/p' <<<"$line")
	split_reply "$EVID/huge.head" "$EVID/huge.head.txt" "$EVID/huge.body0"
	headlen=$(($(wc -c <"$EVID/huge.head") - $(wc -c <"$EVID/huge.body0")))
	cl=$(awk 'tolower($0) ~ /^content-length:/ { sub(/^[^:]*:[ \t]*/, ""); print; exit }' "$EVID/huge.head.txt")
	rm -f "$EVID/huge.body0"
	if [[ $cl == "$size" && -n $got ]] && ((got - headlen == size)); then
		return 0
	fi
	fail FAIL "GET /huge.bin (a 1 GiB file) should bring Content-Length: $size and $size bytes of body" \
		"got: Content-Length '${cl:-none}', ${got:-?} bytes in all, of which $headlen the head; the connection: ${line:-none}" \
		"the head:" "$(show "$EVID/huge.head.txt")" "$(server_state)"
}

@test "[3] leaks no descriptor over 1,000 requests with a limit of 32" {
	hint "handout steps 7 to 10: close() the file on every path, the error paths too, and every connection once it is answered"
	local main base n200 n404 n403 n400 now name
	start_web --nofile 32 30 || return 1
	main=$(server_main_pid)
	base=$(fd_count "$main")
	# Each batch runs only when every answer before it came: once the
	# server has run out of descriptors the rest would only wait.
	local batch want path ok=1
	for batch in 200:500:/hello.txt 404:200:/missing.txt 403:200:/link-out 400:100:; do
		IFS=: read -r name want path <<<"$batch"
		((ok)) || { : >"$EVID/all-$name.bin"; continue; }
		local msg="GET $path HTTP/1.0\\r\\n\\r\\n"
		[[ -z $path ]] && msg='HELLO\r\n\r\n'
		"$SL_PEERS/contain" -t "$(scaled 10)" -- "$SL_PEERS/tcpclient" -k "$want" -q -H -t "$(ms 3)" \
			-m "$msg" -A "$EVID/all-$name.bin" 127.0.0.1 "$PORT" </dev/null >"$EVID/k$name.out" 2>&1 3>&- 4>&- || true
		(($(grep -ac '^HTTP/1\.[01] ' "$EVID/all-$name.bin" || true) == want)) || ok=0
	done
	n200=$(grep -ac '^HTTP/1\.[01] 200' "$EVID/all-200.bin" || true)
	n404=$(grep -ac '^HTTP/1\.[01] 404' "$EVID/all-404.bin" || true)
	n403=$(grep -acE '^HTTP/1\.[01] 40[34]' "$EVID/all-403.bin" || true)
	n400=$(grep -ac '^HTTP/1\.[01] 400' "$EVID/all-400.bin" || true)
	sleep 0.1
	now=$(fd_count "$main")
	if ((n200 == 500 && n404 == 200 && n403 == 200 && n400 == 100)) && [[ -z $base || $now -le $((base + 1)) ]]; then
		return 0
	fi
	local untried=()
	((ok)) || untried=("(a batch runs only once the one before it was answered in full: the 0s after a short count were not tried)")
	fail FAIL "1,000 requests one after another to a server limited to 32 open descriptors: 500 GET /hello.txt, 200 GET /missing.txt, 200 GET /link-out (a symlink out), 100 'HELLO'" \
		"expected: 500 answers 200, 200 answers 404, 200 answers 403 or 404, 100 answers 400; a server that closes what it opens needs only a few descriptors" \
		"got: $n200, $n404, $n403 and $n400 such answers$([[ -n $base && -n $now ]] && echo "; the server holds $now descriptors now, $base before")" \
		"${untried[@]}" \
		"the first GET /hello.txt answers that were not 200 (all-200.bin in the evidence folder):" \
		"$(grep -a '^HTTP/' "$EVID/all-200.bin" | grep -v ' 200' | sort | uniq -c | head -3 | sed 's/^/  /')" \
		"its stderr:" "$(show "$EVID/server.stderr" 400)" \
		"to try it by hand: (ulimit -n 32; ./build/labs/04-webserver/webserver $SERVER_ARGS) &" \
		"  ./build/peers/tcpclient -k 500 -q -H -m 'GET /hello.txt HTTP/1.0\\r\\n\\r\\n' 127.0.0.1 $PORT"
}

@test "[3] delivers every byte when send() and recv() move only a few bytes and fail with EINTR" {
	hint "handout steps 4 and 9: send() may take fewer bytes than asked: send_all() loops until all have gone; EINTR (a signal came first) means call it again, for recv() too"
	need_shortio
	local said first a m
	start_web --shortio 7,eintr=5 20 || return 1
	get --seconds 8 /short.bin
	expect_shortio_loaded
	if (($(shortio_count send) + $(shortio_count write) + $(shortio_count sendfile) == 0)); then
		[[ $STATUS == 200 ]] && cmp -s "$SITE/short.bin" "$REPLY_BODY" &&
			skip "the grader's partial-I/O shim cut none of the server's send() or write() calls short (does it send with sendmsg() or writev()?), so this test cannot judge its send loop (0 points)"
	fi
	[[ $STATUS == 200 ]] && cmp -s "$SITE/short.bin" "$REPLY_BODY" && return 0
	said=$(shortio_said)
	first=$(shortio_first send)
	if [[ -n $first ]]; then
		read -r a m <<<"$first"
		first="the first short one: send() took $m of $a bytes; the other $((a - m)) must go in another send() (send_all's loop)"
	fi
	if [[ -n $first ]] && (($(wc -c <"$REPLY_BODY") < $(wc -c <"$SITE/short.bin"))) && ! grep -q 'Interrupted system call' "$EVID/server.stderr"; then
		cause "a short send() was taken for the whole buffer: send_all() must loop until every byte has gone (step 9)"
	elif grep -q 'Interrupted system call' "$EVID/server.stderr"; then
		cause "EINTR was taken for an error ('$(grep -m1 'Interrupted system call' "$EVID/server.stderr")'): when recv() or send() fails with EINTR, call it again (steps 4 and 9)"
	fi
	if [[ $STATUS == 200 ]]; then
		expect_body "$SITE/short.bin" || { printf '%s\n' "$said" ${first:+"$first"} >>"$EVID/message"; return 1; }
	fi
	fail_reply FAIL "status 200 and all $(wc -c <"$SITE/short.bin") bytes of short.bin, while the grader's shim made each send() and recv() of the server move 1 to 7 bytes and every 5th call fail with EINTR" \
		"$said" ${first:+"$first"} "(the shim's log of each call it changed is shortio.log in the evidence folder)"
}

@test "[2] ends the thread of a client that stops reading mid-file (a send timeout)" {
	hint "handout step 3: setsockopt(SO_SNDTIMEO) of -t seconds on each connection (or poll() for POLLOUT with that timeout): a client that stops reading makes send() wait, and without a limit its thread and descriptors stay for ever"
	local main base now i up=0
	mkdir -p "$EVID/stall"
	truncate -s 64M "$EVID/stall/big.bin" 2>/dev/null || skip "the grader cannot make a 64 MiB sparse file here (truncate), so this test cannot run (0 points)"
	cp "$SITE/hello.txt" "$EVID/stall/hello.txt"
	start_web --root "$EVID/stall" 30 -t 1 || return 1
	main=$(server_main_pid)
	sleep 0.1
	base=$(group_fd_count "$main")
	[[ -n $base ]] || skip "this machine has no /proc, so the grader cannot count the server's descriptors (0 points)"
	# The client reads nothing for 12 s.  The server (-t 1) must give up
	# on it after about a second of waiting to send, and close what it
	# opened for it (a thread's or a child process's: all are counted).
	background 20 stall "$SL_PEERS/tcpclient" -H -R "$(ms 12)" -t "$(ms 14)" -m 'GET /big.bin HTTP/1.0\r\n\r\n' \
		-o "$EVID/stall.reply" -S 4096 -L "$EVID/stall.log" 127.0.0.1 "$PORT"
	for ((i = 0; i < 40; i++)); do
		now=$(group_fd_count "$main")
		((now > base)) && up=1 && break
		sleep 0.05
	done
	# Until the server has closed its side (its descriptors back to what
	# they were, or the client, still not reading, saw the close), for
	# at most 6 s of the client's 12.
	local until=$((SECONDS + $(awk -v t="$(scaled 6)" 'BEGIN { printf "%d", t + 0.5 }'))) line got=""
	while ((SECONDS < until)); do
		[[ -s $EVID/stall.status ]] && break
		now=$(group_fd_count "$main")
		((up && now <= base)) && break
		sleep 0.05
	done
	if [[ -s $EVID/stall.status ]]; then
		# The client ended: it read (seeing the close) before its 12 s.
		line=$(grep -m1 '^conn ' "$EVID/stall.out" 2>/dev/null) || true
		got=$(sed -n 's/^conn 0: sent [0-9]* received \([0-9]*\) .*/\1/p' <<<"$line")
		[[ -n $got ]] && ((got < 67108864)) && up=1 now=$base
	fi
	if ((up && now <= base)); then
		get /hello.txt
		kill "$BG_PID" 2>/dev/null || true
		rm -rf "$EVID/stall"
		expect_status 200
		return
	fi
	kill "$BG_PID" 2>/dev/null || true
	rm -rf "$EVID/stall"
	((up)) && cause "a client that stopped reading held its thread and its descriptors: send() waits for it for ever; set SO_SNDTIMEO (-t seconds) on the connection, and end the client when send() fails (steps 3 and 9)"
	fail TIME "started with -t 1: a client asked for a 64 MiB file and then read nothing; $(scaled 6) s later the server still held $now descriptors, $((now - base)) more than before it" \
		"expected: that client dropped once send() has waited about -t seconds (SO_SNDTIMEO), its socket and file closed" \
		"$(find "/proc/$main/fd" -mindepth 1 -printf '  %f -> %l\n' 2>/dev/null | head -8)" \
		"to try it by hand: ./build/labs/04-webserver/webserver -t 1 -r DIR &  (DIR holding a big file)" \
		"  ./build/peers/tcpclient -H -R 12000 -m 'GET /big.bin HTTP/1.0\\r\\n\\r\\n' 127.0.0.1 8080"
}

@test "[2] never sends more than Content-Length of a file that grows while it is sent" {
	hint "handout step 9: read() at most what Content-Length still owes (min(64 KiB, left)): a file that grows meanwhile must not send more than the head promised"
	# 32 MiB and 100 bytes: no whole number of chunks of any size a
	# server reads in, so a last read that asks for a whole chunk, not
	# for the 100 bytes still owed, gets the bytes the file grew by.
	local size=33554532 line got headlen cl
	mkdir -p "$EVID/grow"
	truncate -s "$size" "$EVID/grow/grow.bin" 2>/dev/null || skip "the grader cannot make a 32 MiB sparse file here (truncate), so this test cannot run (0 points)"
	start_web --root "$EVID/grow" 30 || return 1
	background 20 grow "$SL_PEERS/tcpclient" -H -R "$(ms 1.5)" -t "$(ms 12)" -m 'GET /grow.bin HTTP/1.0\r\n\r\n' \
		-o "$EVID/grow.head" -S 4096 -L "$EVID/grow.log" 127.0.0.1 "$PORT"
	sleep 0.5
	truncate -s $((size + 4194304)) "$EVID/grow/grow.bin"
	for ((i = 0; i < 300; i++)); do
		[[ -s $EVID/grow.status ]] && break
		sleep 0.05
	done
	rm -rf "$EVID/grow"
	line=$(grep -m1 '^conn ' "$EVID/grow.out" 2>/dev/null) || true
	got=$(sed -n 's/^conn 0: sent [0-9]* received \([0-9]*\) .*/\1/p' <<<"$line")
	split_reply "$EVID/grow.head" "$EVID/grow.head.txt" "$EVID/grow.body0"
	headlen=$(($(wc -c <"$EVID/grow.head") - $(wc -c <"$EVID/grow.body0")))
	cl=$(awk 'tolower($0) ~ /^content-length:/ { sub(/^[^:]*:[ \t]*/, ""); print; exit }' "$EVID/grow.head.txt")
	rm -f "$EVID/grow.body0"
	if [[ -n $got && $cl =~ ^[0-9]+$ ]] && ((got - headlen == cl)); then
		return 0
	fi
	[[ -n $got && $cl =~ ^[0-9]+$ ]] && ((got - headlen > cl)) &&
		cause "more bytes came than Content-Length said: the file grew while it was sent, and send_file() read to its end; read no more than Content-Length still owes (step 9)"
	fail FAIL "GET /grow.bin, a file of 32 MiB and 100 bytes that grew by 4 MiB 0.5 s later, while the client had not read yet: the body must be exactly Content-Length bytes" \
		"got: Content-Length '${cl:-none}', ${got:-?} bytes in all, of which $headlen the head: $((${got:-0} - headlen)) bytes of body; the connection: ${line:-none}" \
		"the head:" "$(show "$EVID/grow.head.txt")" "$(server_state)"
}

@test "[2] goes on when pthread_create fails: that client served or closed, the failure on stderr" {
	hint "handout step 3: pthread_create() returns an error (it sets no errno): then warn(), and serve that client with the thread you are in (or, with a thread per client, close its socket); the server goes on accepting"
	need_shortio
	local i
	PORT=$(free_port) WEB_ROOT=$SITE
	SERVER_ARGS="-p $PORT -r $SITE -t 30"
	start_server --no-wait --shortio 0,spawn-fail=1 15 "$PORT" -- "$SL_BIN" -p "$PORT" -r "$SITE" -t 30
	expect_ready || return 1
	http --seconds 2 "GET /hello.txt HTTP/1.0\\r\\n\\r\\n"
	expect_shortio_loaded
	grep -q ' \(fork\|pthread_create\) EAGAIN' "$EVID/shortio.log" ||
		skip "the grader's shim saw no fork() or pthread_create() in the server, so this test cannot judge (0 points)"
	if [[ ! $REPLY_END =~ ^(closed|reset)-by-server$ ]]; then
		cause "when pthread_create() failed, the client was left hanging, neither served nor closed: warn(), then serve it in the thread you are in (or close it) (step 3)"
		fail_reply TIME "the grader's shim made the server's first pthread_create() fail with EAGAIN: that client answered (or its connection closed at once)" \
			"its stderr:" "$(show "$EVID/server.stderr" 400)" || return 1
		return 1
	fi
	for i in 1 2; do
		get /hello.txt
		if [[ $STATUS != 200 ]]; then
			fail_reply FAIL "status 200 and the file: after one failed pthread_create(), the next clients are served as before" || return 1
			return 1
		fi
	done
	if ! grep -q '^webserver: ' "$EVID/server.stderr"; then
		cause "a thread that could not be made left no trace: warn() on stderr ('webserver: thread for the next client: Resource temporarily unavailable') (step 3)"
		fail FAIL "the grader's shim made the server's first pthread_create() fail with EAGAIN, but nothing was said on stderr" \
			"expected: a line 'webserver: what failed: why' on stderr (a failed client is reported, and the server goes on)" \
			"its stderr:" "$(show "$EVID/server.stderr" 400)"
		return 1
	fi
}

# free_slots PID LIMIT: how many descriptor numbers below LIMIT PID has free.
free_slots() {
	local used
	used=$(find "/proc/$1/fd" -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | awk -v l="$2" '$1 < l' | wc -l)
	echo $(($2 - used))
}

@test "[2] answers 503, never 403 or 404, when it has no descriptor left to open the file" {
	hint "handout step 7: open() failing with EMFILE or ENFILE (out of descriptors) is the server's trouble, not a missing or forbidden file: 503 Service Unavailable"
	local main n i
	[[ -d /proc/self/fd ]] || skip "this machine has no /proc, so the grader cannot count the server's descriptors (0 points)"
	start_web --nofile 24 20 || return 1
	main=$(server_main_pid)
	sleep 0.1
	n=$(free_slots "$main" 24)
	((n >= 3)) || skip "the server holds $((24 - n)) of its 24 descriptors before any client: the grader cannot leave it exactly one (0 points)"
	# n - 1 silent clients: each holds a descriptor in a thread (a server
	# that forks holds them in its children: then none is missing).
	background 20 idle "$SL_PEERS/tcpclient" -I $((n - 2)) -m x -i "$(ms 15)" -t "$(ms 16)" \
		-L "$EVID/idle.log" 127.0.0.1 "$PORT"
	# A server may accept a silent client only once it has sent
	# something, or a second later (TCP_DEFER_ACCEPT): wait for that.
	local until=$((SECONDS + $(awk -v t="$(scaled 3)" 'BEGIN { printf "%d", t + 1.5 }')))
	while ((SECONDS < until)); do
		(($(free_slots "$main" 24) <= 1)) && break
		sleep 0.05
	done
	get --seconds 2 /hello.txt
	kill "$BG_PID" 2>/dev/null || true
	if [[ $STATUS == 403 || $STATUS == 404 ]]; then
		cause "open() failed for lack of descriptors (EMFILE) and the answer said the file is missing or forbidden: EMFILE and ENFILE are 503 (step 7)"
		fail_reply FAIL "status 503 (or the file): the server, limited to 24 descriptors, had $(free_slots "$main" 24) left when this request came, so open() of hello.txt failed with EMFILE" || return 1
		return 1
	fi
	if [[ -n $STATUS && ! $STATUS =~ ^(200|500|503)$ ]]; then
		fail_reply FAIL "status 503 (or 200 and the file): the server had no descriptor left to open it" || return 1
		return 1
	fi
	# A failure of the server's own is reported (SPEC: errors to stderr).
	# (accept()'s own EMFILE line does not count: it is about accept())
	if [[ $STATUS =~ ^(500|503)$ ]] && ! grep -v '^webserver: accept' "$EVID/server.stderr" 2>/dev/null | grep -q '^webserver: '; then
		cause "the server answered $STATUS, out of descriptors, and said nothing on stderr: a failure of the server's own is reported, 'webserver: open FILE: Too many open files' (step 7: warn() before the 503)"
		fail_reply FAIL "a line 'webserver: what failed: why' on stderr with the $STATUS (the server ran out of descriptors)" \
			"its stderr: $(show "$EVID/server.stderr")" || return 1
		return 1
	fi
	# The silent clients gone, the server must serve again: at once, or
	# once it has closed the connections still queued for accept().
	for ((i = 0; i < 40; i++)); do
		(($(free_slots "$main" 24) > 2)) && break
		sleep 0.05
	done
	for ((i = 0; i < 6; i++)); do
		get /hello.txt
		[[ $STATUS == 503 ]] || break
		sleep 0.3
	done
	if [[ $STATUS == 503 ]] && (($(free_slots "$main" 24) > 2)); then
		# Descriptors look free in /proc, yet open() fails: on Linux each
		# thread waiting in accept() holds a descriptor number.
		cause "the silent clients have gone and descriptors look free, yet open() still fails with EMFILE: every idle thread waiting in accept() holds a descriptor number (Linux); end the threads beyond IDLE_MAX idle ones (step 3, 'Idle threads never end')"
	fi
	expect_status 200 || return 1
	expect_body "$SITE/hello.txt"
}

@test "[3] writes one Common Log Format line per request on stdout" {
	hint "handout step 11: one line per request, 'HOST - - [26/Nov/2026:04:12:56 +0530] \"REQUEST LINE\" STATUS BYTES', then fflush(stdout)"
	local i lines size bad=() re want line n
	start_web 10 || return 1
	size=$(wc -c <"$SITE/hello.txt" | tr -d ' ')
	http "GET /hello.txt HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n\\r\\n"
	http "HEAD /hello.txt HTTP/1.0\\r\\n\\r\\n"
	http "GET /nothing-here.txt HTTP/1.0\\r\\n\\r\\n"
	http "DELETE /hello.txt HTTP/1.0\\r\\n\\r\\n"
	http "HEAD /nothing-here.txt HTTP/1.0\\r\\n\\r\\n"
	http 'GET /q"x\x01y HTTP/1.0\r\n\r\n'
	http 'GET /b\\x22 HTTP/1.0\r\n\r\n'
	for ((i = 0; i < 20; i++)); do
		n=$(grep -c '^[0-9a-fA-F:.]* - - \[' "$EVID/server.stdout" || true)
		((n >= 7)) && break
		sleep 0.05
	done
	re='^127\.0\.0\.1 - - \[[0-9]{2}/(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}\] "([^"]*)" ([0-9]{3}) ([0-9]+|-)$'
	mapfile -t lines < <(grep -E ' - - \[' "$EVID/server.stdout" | sed 's/[[:space:]]*$//' | grep -v '"-" [0-9]')
	for want in "GET /hello.txt HTTP/1.1|200|$size" "HEAD /hello.txt HTTP/1.0|200|-|0" \
		"GET /nothing-here.txt HTTP/1.0|404|*" "DELETE /hello.txt HTTP/1.0|501|*" \
		"HEAD /nothing-here.txt HTTP/1.0|404|-|0"; do
		IFS='|' read -r req st b b2 <<<"$want"
		n=0
		for line in "${lines[@]}"; do
			[[ $line =~ $re ]] || continue
			[[ ${BASH_REMATCH[2]} == "$req" ]] || continue
			n=$((n + 1))
			if [[ ${BASH_REMATCH[3]} != "$st" ]] || { [[ $b != '*' ]] && [[ ${BASH_REMATCH[4]} != "$b" && ${BASH_REMATCH[4]} != "${b2:-$b}" ]]; }; then
				bad+=("'$req': the line says status ${BASH_REMATCH[3]}, bytes ${BASH_REMATCH[4]}; expected $st and ${b2:+$b or }${b2:-$b} (the body's bytes)")
			fi
		done
		((n == 1)) || bad+=("'$req': $n lines in the Common Log Format (expected 1)")
	done
	# The request line 'GET /q"x<0x01>y HTTP/1.0': its '"' and its
	# control byte are written \xNN ('\"' for the quote will do too).
	n=$(LC_ALL=C grep -caE '"GET /q(\\x22|\\")x\\x01y HTTP/1\.0" 400 ' "$EVID/server.stdout" || true)
	if ((n != 1)); then
		if LC_ALL=C grep -qa "$(printf 'GET /q"x\001y')" "$EVID/server.stdout"; then
			cause "the request line went into the log as it came: its '\"' ends the quoted field early and its control byte is in the file; write '\"', '\\\\' and unprintable bytes as \\xNN (step 11, log_text())"
		fi
		bad+=("'GET /q\"x<byte 0x01>y HTTP/1.0' (400): expected one line showing it as \"GET /q\\x22x\\x01y HTTP/1.0\" 400 (the quote and the control byte as \\xNN), got: $(LC_ALL=C grep -a 'GET /q' "$EVID/server.stdout" | head -2 | cat -v)")
	fi
	# The target '/b\x22' (a backslash, then the four characters x22):
	# written as it came, the log reads like the escape of a quote, the
	# line of a request that never was; its '\' must be \x5c.
	n=$(LC_ALL=C grep -caE '"GET /b(\\x5c|\\\\)x22 HTTP/1\.0" 404 ' "$EVID/server.stdout" || true)
	if ((n != 1)); then
		LC_ALL=C grep -qaF '"GET /b\x22 HTTP/1.0"' "$EVID/server.stdout" &&
			cause "a '\\' went into the log as it came, so '/b\\x22' reads as the escape of a quote: write '\\' as \\x5c too (step 11, log_text())"
		bad+=("'GET /b\\x22 HTTP/1.0' (a backslash in the target; 404): expected one line showing it as \"GET /b\\x5cx22 HTTP/1.0\" 404, got: $(LC_ALL=C grep -a 'GET /b' "$EVID/server.stdout" | head -2 | cat -v)")
	fi
	((${#bad[@]} == 0)) && return 0
	[[ ! -s $EVID/server.stdout || $(grep -c ' - - \[' "$EVID/server.stdout") == 0 ]] &&
		cause "no log line on stdout: print one per request and fflush(stdout) after it (step 11)"
	fail FAIL "7 requests: GET /hello.txt (200, $size bytes), HEAD /hello.txt, GET /nothing-here.txt (404), DELETE /hello.txt (501), HEAD /nothing-here.txt (404, no body), 'GET /q\"x<byte 0x01>y HTTP/1.0' (400), 'GET /b\\x22 HTTP/1.0' (404)" \
		"expected on stdout: one line each, 127.0.0.1 - - [DD/Mon/YYYY:HH:MM:SS +ZZZZ] \"REQUEST LINE\" STATUS BYTES" \
		"$(printf '  %s\n' "${bad[@]}")" \
		"got on stdout:" "$(show "$EVID/server.stdout" 1200)"
}

@test "[3] runs clean under valgrind: no memory errors, leaks or open descriptors" {
	hint "valgrind names the line of each problem in the evidence folder's valgrind.*.log: freeaddrinfo() (step 1), free() whatever you malloc() for a client (step 3), close() every file and connection (steps 7 to 10)"
	need_valgrind
	lab04_valgrind_collect || return 1
	if [[ $STATUS != 200 ]]; then
		fail_reply FAIL "status 200 and the file, from the server under valgrind (the first of 9 requests: GET, a 301, a folder, 404, 403, HEAD, 400, a client that vanished mid-file, a binary file)" || return 1
	fi
	expect_valgrind_clean --fds || {
		if grep -q 'definitely lost' "$EVID"/valgrind*.log; then
			if grep -A12 'definitely lost in' "$EVID"/valgrind*.log | grep -q -e getaddrinfo -e open_listener; then
				cause "the address list getaddrinfo() made is never freed: freeaddrinfo() it once the socket listens (step 1)"
			elif grep -A12 'definitely lost in' "$EVID"/valgrind*.log | grep -q -e malloc; then
				cause "memory malloc()ed for each client is never freed: free() it when its thread is done (step 3)"
			fi
		fi
		return 1
	}
}

@test "[2] no data race between its threads (valgrind's helgrind, 20 clients at a time)" {
	hint "handout step 3: every look at and change of the pool's count between pthread_mutex_lock() and _unlock(); only thread-safe functions (gmtime_r, localtime_r, strerror_r) in steps 8 and 11"
	need_valgrind
	lab04_valgrind_collect helgrind || return 1
	local logs=("$EVID"/helgrind*.log) n first
	[[ -s ${logs[0]:-} ]] || { fail FAIL "helgrind left no log: did the server run under it?" "its stderr:" "$(show "$EVID/server.stderr")"; return 1; }
	n=$(cat "${logs[@]}" | grep -c 'Possible data race') || true
	((n == 0)) && return 0
	# The first race, its two stacks, without valgrind's prefixes.
	first=$(sed -e 's/^==[0-9]*== //' "${logs[@]}" | awk '/Possible data race/ { on = 1 } on && /^ *$/ && ++blank == 3 { exit } on' | head -30)
	if grep -qE '\b(gmtime|localtime|strerror|ctime|asctime|strtok|inet_ntoa)\b' <<<"$first" && ! grep -qE '\b(gmtime|localtime|strerror|ctime|asctime|strtok)_r\b' <<<"$first"; then
		cause "a function that returns a buffer every thread shares ($(grep -oE '\b(gmtime|localtime|strerror|ctime|asctime|strtok|inet_ntoa)\b' <<<"$first" | head -1)) was called by two threads at once: use its _r form, with a buffer of your own (steps 3, 8 and 11)"
	elif grep -q -e 'serve' -e 'start_thread' -e 'idle' <<<"$first"; then
		cause "two threads read or changed the pool's count (p->idle) with no lock between them: take p->lock around every look at it and every change (step 3)"
	else
		cause "two threads touched the same memory with no lock between them; the stacks below name the lines (step 3: what each thread holds for its client is its own; what they share, under a mutex)"
	fi
	fail FAIL "the server ran under valgrind --tool=helgrind while 60 clients, 20 at a time, fetched a 16 KiB file, then 5 a missing one" \
		"expected: no data race; helgrind saw $n (the first below; the logs are helgrind.*.log in the evidence folder)" \
		"$(awk '{ print "  " $0 }' <<<"$first")"
}
