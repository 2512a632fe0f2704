#!/usr/bin/env bats
# Lab 02, webclient: an HTTP/1.1 client that saves one page.  Each test
# starts the grader's HTTP server (grader/peers/httpd.c) on a free loopback
# port, serving a body made from a random seed (build/peers/datagen makes
# the same bytes again, so no body can be hard-coded), runs the student's
# webclient in a fresh empty folder and compares what it saved, byte for
# byte.  The server misbehaves on request: it drips, splits, chunks,
# redirects, stalls, cuts short.  100 points.
# shellcheck disable=SC2154 # verdict and status are set by run_client (helpers.bash)

bats_require_minimum_version 1.5.0
load ../lib/helpers

# shellcheck disable=SC2034 # read by bats
BATS_TEST_TIMEOUT=$(awk -v k="${TIMEOUT_SCALE:-1}" 'BEGIN { print int(90 * k) }')

# Time limits, in seconds, for one run of the client (TIMEOUT_SCALE and
# valgrind stretch them).  A correct client fetches a small body over
# loopback in a few milliseconds.  The limits are short because a program
# that never finishes waits out one of them in every test: about 45 s
# for the whole lab, within the minute the SPEC allows.
QUICK=1.5 # a small download (a correct client needs a few ms)
SLOW=2.5  # a reply dripped a byte a millisecond (about 0.5 s)
BIG=4     # 20 MiB (a correct client needs well under 1 s)
STALL=2   # how long a stalled download is left to run

setup() {
	sl_setup
	SERVE_N=0
	fresh_folder work
}

teardown() {
	trim_folders
	sl_teardown
}

# ---- helpers of this lab ------------------------------------------------

# rand LO HI: a random whole number from LO to HI.
rand() {
	local r
	r=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
	echo $(($1 + r % ($2 - $1 + 1)))
}

# fresh_folder NAME: run the client in a new empty folder $EVID/NAME, so
# that default file names and "no file left" checks are exact.
fresh_folder() {
	WORK="$EVID/$1"
	mkdir -p "$WORK"
	cd "$WORK" || return 1
}

# trim_folders: keep at most 64 KiB of any big file the client saved
# (the driver trims only the evidence folder's own files).
trim_folders() {
	local f
	for f in "$EVID"/work*/* "$EVID"/work*/.[!.]*; do
		[[ -f $f && $(wc -c <"$f") -gt 1048576 ]] || continue
		head -c 65536 "$f" >"$f.head" && mv "$f.head" "$f"
		echo "$f: only its first 64 KiB are kept" >>"$EVID/TRIMMED"
	done
	return 0
}

# serve LENGTH [HTTPD OPTIONS...]: start the grader's HTTP server with a
# LENGTH-byte body from a new random seed.  Sets SEED, URL (its
# http://127.0.0.1:PORT, no path), REQFILE (every request it receives,
# raw) and SERVED (what it does, for failure messages); the body is in
# $EVID/expected.
serve() {
	local len="$1" host=127.0.0.1
	shift
	SERVE_N=$((SERVE_N + 1))
	SEED=$(rand 1 2147483646)
	REQFILE="$EVID/request-$SERVE_N"
	"$SL_PEERS/datagen" "$SEED" "$len" >"$EVID/expected"
	start_peer httpd -s "$SEED" -n "$len" -Q "$REQFILE" "$@"
	[[ " $* " == *" -a ::1 "* ]] && host="[::1]"
	URL="http://$host:$PEER_PORT"
	OK_REPLY="the server sent a correct reply: the program should save its body and exit 0"
	SERVED="httpd -s $SEED -n $len $* (a $len-byte body from seed $SEED)"
}

# server_said: what the server did, from its log, for a failure message.
server_said() {
	printf '%s\n' "the server: $SERVED" "its log:"
	show "$PEER_LOG" 1500
}

# served_too: add what the server did to the failure being reported.
served_too() { server_said >>"$EVID/message"; }

# exit_is CODE [WHY]: the client finished with exit status CODE; a
# failure (reported by expect_exit) starts with WHY and ends with what
# the server did.
exit_is() {
	expect_exit "$1" && return 0
	if [[ -n ${2:-} ]]; then
		{ printf '%s\n' "$2"; cat "$EVID/message"; } >"$EVID/message.new"
		mv "$EVID/message.new" "$EVID/message"
	fi
	served_too
	return 1
}

# quoted: stdin, each line shown as "  | line".
quoted() { sed -e 's/^/  | /'; }

# size FILE: its size in bytes.
size() { wc -c <"$1" | tr -d ' '; }

# listing: the files in the client's folder, on one line.
listing() {
	local files
	files=$(ls -A "$WORK")
	if [[ -z $files ]]; then echo "(none)"; else echo "$files" | paste -sd ' ' -; fi
}

# hexdump_at FILE AT: 48 bytes of FILE around byte AT, as a hexdump.
hexdump_at() {
	local from=$(($2 > 16 ? $2 - 16 : 0))
	od -Ax -tx1z -v -j "$from" -N 48 "$1" | sed -e 's/^/  /'
}

# expect_saved NAME: the body the server sent is in NAME, byte for byte,
# and NAME is the only file in the client's folder (no NAME.part left).
expect_saved() {
	local name="$1" diff at
	if [[ ! -f $WORK/$name ]]; then
		fail FAIL "expected the body saved as $name; there is no such file" \
			"files in the folder the program ran in: $(listing)" \
			"command: $(cat "$EVID/command")" \
			"its stderr:" "$(show "$EVID/stderr")" "$(server_said)"
		return 1
	fi
	if ! cmp -s "$EVID/expected" "$WORK/$name"; then
		diff=$(first_difference "$EVID/expected" "$WORK/$name")
		at=$(sed -n 's/^first difference at byte \([0-9]*\).*/\1/p' <<<"$diff")
		fail FAIL "$name is not the body the server sent, byte for byte" \
			"expected $(size "$EVID/expected") bytes, $name holds $(size "$WORK/$name") bytes" \
			"$diff" \
			"expected, around byte ${at:-0}:" "$(hexdump_at "$EVID/expected" "${at:-0}")" \
			"$name, around byte ${at:-0}:" "$(hexdump_at "$WORK/$name" "${at:-0}")" \
			"command: $(cat "$EVID/command")" \
			"its stderr:" "$(show "$EVID/stderr")" "$(server_said)"
		return 1
	fi
	if [[ $(ls -A "$WORK") != "$name" ]]; then
		fail FAIL "$name is right, but other files are left beside it: $(listing)" \
			"(OUTFILE.part must be renamed to OUTFILE once the body is complete)" \
			"command: $(cat "$EVID/command")"
		return 1
	fi
}

# expect_no_file WHY: the client's folder is empty: no OUTFILE, no
# OUTFILE.part, nothing.
expect_no_file() {
	[[ -z $(ls -A "$WORK") ]] && return 0
	fail FAIL "after $1, no file may be left (neither OUTFILE nor OUTFILE.part); found: $(listing)" \
		"command: $(cat "$EVID/command")" \
		"its stderr:" "$(show "$EVID/stderr")" "$(server_said)"
}

# requests: the request lines the server received, one a line.
requests() { sed -n 's/^\[[^]]*\] request: //p' "$PEER_LOG"; }

# expect_asked: the client sent the server a request.
expect_asked() {
	[[ -n $(requests) ]] && return 0
	if [[ $verdict == timeout ]]; then
		fail TIME "the server received no request, and the program did not finish within $SL_CLIENT_LIMIT s (it was stopped)" \
			"command: $(cat "$EVID/command")" \
			"its stderr so far:" "$(show "$EVID/stderr")" "$(server_said)"
		return 1
	fi
	fail FAIL "the server received no request" \
		"command: $(cat "$EVID/command")" \
		"the program's verdict: $verdict, exit status $status" \
		"its stderr:" "$(show "$EVID/stderr")" "$(server_said)"
}

# expect_failure WHAT: the client exited 1 after WHAT, said something on
# stderr and left no file.
expect_failure() {
	expect_asked
	exit_is 1 "after $1 the program should exit 1 and leave no file"
	expect_stderr_says "a message saying what went wrong with $1"
	expect_no_file "$1"
}

# trim TEXT: TEXT without spaces and tabs around it.
trim() {
	local s="$1"
	s="${s#"${s%%[![:space:]]*}"}"
	printf '%s\n' "${s%"${s##*[![:space:]]}"}"
}

# expect_request TARGET HOST: $REQFILE holds one GET request for TARGET
# with HTTP/1.1, one Host field HOST, Connection: close, CRLF line ends
# and an empty line at the end, and nothing after it.
expect_request() {
	local target="$1" host="$2" lines=() line name value i problem=""
	local hosts=0 host_ok=0 close=0 ended=0
	if [[ ! -s $REQFILE ]]; then
		expect_asked || return 1
	fi
	mapfile -t lines <"$REQFILE"
	if [[ ${lines[0]} != "GET $target HTTP/1.1"$'\r' ]]; then
		problem="the request line should be \"GET $target HTTP/1.1\", ending in \\r\\n"
	fi
	for ((i = 1; i < ${#lines[@]}; i++)); do
		[[ -n $problem ]] && break
		line="${lines[i]}"
		if [[ $line == $'\r' ]]; then
			ended=$i
			break
		fi
		if [[ $line != *$'\r' ]]; then
			problem="every line must end in \\r\\n; line $((i + 1)) ends in \\n alone"
		elif [[ $line != [!:\ ]*:* ]]; then
			problem="line $((i + 1)) is not a header field (Name: value)"
		fi
		line="${line%$'\r'}"
		name="${line%%:*}"
		value=$(trim "${line#*:}")
		case ${name,,} in
		host)
			hosts=$((hosts + 1))
			[[ $value == "$host" ]] && host_ok=1 ;;
		connection)
			[[ ",${value,,}," =~ ,[[:space:]]*close[[:space:]]*, ]] && close=1 ;;
		esac
	done
	if [[ -n $problem ]]; then
		:
	elif ((ended == 0)); then
		problem="the request never ended: an empty line (\\r\\n) must follow the last field"
	elif ((ended != ${#lines[@]} - 1)); then
		problem="something came after the request's empty line (one GET, no body)"
	elif ((hosts != 1 || !host_ok)); then
		problem="it needs exactly one Host field, \"Host: $host\" (with the port, as the URL gave it)"
	elif ((!close)); then
		problem="it needs a \"Connection: close\" field"
	fi
	[[ -z $problem ]] && return 0
	fail FAIL "the request is wrong: $problem" \
		"command: $(cat "$EVID/command")" \
		"expected a request like this (more fields may come, in any order, names in any case):" \
		"  | GET $target HTTP/1.1\\r" "  | Host: $host\\r" "  | Connection: close\\r" "  | \\r" \
		"the server received:" "$(show "$REQFILE" 2000)"
}

# ---- the tests ----------------------------------------------------------

@test "[2] prints usage for -h and exits 2 on bad usage" {
	hint "handout step 1 and What the program does (main() in the starter does it): -h prints the usage; no URL, or more than URL and OUTFILE, exits 2"
	run_client "$QUICK" "$SL_BIN" -h
	expect_exit 0
	if ! grep -qi usage "$EVID/stdout" "$EVID/stderr"; then
		fail FAIL "'webclient -h' should print a usage message" \
			"stdout:" "$(show "$EVID/stdout")" "stderr:" "$(show "$EVID/stderr")"
		return 1
	fi
	run_client "$QUICK" "$SL_BIN"
	expect_exit 2
	run_client "$QUICK" "$SL_BIN" "http://127.0.0.1:$(free_port)/a" b c
	expect_exit 2
}

@test "[7] sends GET PATH HTTP/1.1 with Host: HOST:PORT and Connection: close" {
	hint "handout step 3: the request line, a Host field with the URL's host and port, Connection: close, each line ending in \\r\\n, then an empty line"
	local path
	path="/req-$(rand 1000 99999)/page-$(rand 1000 99999).html"
	serve 512 -u "$path"
	run_client "$QUICK" "$SL_BIN" "$URL$path" out.html
	expect_request "$path" "127.0.0.1:$PEER_PORT"
	# a host name, and a path one segment deep
	fresh_folder work-name
	path="/p$(rand 1000 99999).txt"
	serve 512 -u "$path"
	run_client "$QUICK" "$SL_BIN" "http://localhost:$PEER_PORT$path" out.txt
	expect_request "$path" "localhost:$PEER_PORT"
}

@test "[8] saves a body framed by Content-Length, byte for byte" {
	hint "handout steps 4, 6, 7: the bytes after the header's empty line are the body's first; copy Content-Length bytes to the .part file, then rename it"
	local path
	path="/cl-$(rand 1000 99999)/data-$(rand 1000 99999).bin"
	serve "$(rand 20000 90000)" -u "$path"
	run_client "$QUICK" "$SL_BIN" "$URL$path" "saved-$SEED.bin"
	exit_is 0 "$OK_REPLY"
	expect_saved "saved-$SEED.bin"
}

@test "[8] saves a chunked body (chunks of random sizes), byte for byte" {
	hint "handout step 6: Transfer-Encoding: chunked: a hex size line, that many bytes, \\r\\n; size 0 ends the body; only the data is saved"
	local path
	path="/chunked-$(rand 1000 99999)/c$(rand 1000 99999).bin"
	serve "$(rand 30000 90000)" -u "$path" -F chunked -c "$(rand 40 4000)"
	run_client "$QUICK" "$SL_BIN" "$URL$path" "chunked-$SEED.bin"
	exit_is 0 "$OK_REPLY"
	expect_saved "chunked-$SEED.bin"
}

@test "[3] understands chunk extensions, uppercase hex sizes and trailer fields" {
	hint "handout step 6: a size line may be \"1A;name=value\" (ignore from the ';'), and trailer lines may follow the 0 chunk, up to an empty line"
	local path
	path="/x$(rand 1000 99999)/decorated.bin"
	serve "$(rand 5000 20000)" -u "$path" -F chunked -x -c "$(rand 100 600)"
	run_client "$QUICK" "$SL_BIN" "$URL$path" "decorated-$SEED.bin"
	exit_is 0 "$OK_REPLY"
	expect_saved "decorated-$SEED.bin"
}

@test "[4] saves a body that ends when the server closes (no length given)" {
	hint "handout step 6: with neither Content-Length nor chunked, the body is everything until recv() returns 0"
	local path
	path="/close-$(rand 1000 99999)/until-close.bin"
	serve "$(rand 20000 90000)" -u "$path" -F close
	run_client "$QUICK" "$SL_BIN" "$URL$path" "close-$SEED.bin"
	exit_is 0 "$OK_REPLY"
	expect_saved "close-$SEED.bin"
}

@test "[5] reads a reply that arrives one byte at a time" {
	hint "handout steps 4 and 6: one recv() returns whatever has arrived, maybe 1 byte; keep calling it until the header, then the body, is complete"
	local path
	path="/drip-$(rand 1000 99999).bin"
	serve "$(rand 150 300)" -u "$path" -d 1
	run_client "$SLOW" "$SL_BIN" "$URL$path" "drip-$SEED.bin"
	exit_is 0 "$OK_REPLY"
	expect_saved "drip-$SEED.bin"
	# chunked, three bytes at a time: size lines arrive in pieces too
	fresh_folder work-chunked
	serve "$(rand 200 400)" -u "$path" -F chunked -c 50 -d 1 -w 3
	run_client "$SLOW" "$SL_BIN" "$URL$path" "drip-$SEED.bin"
	exit_is 0 "$OK_REPLY"
	expect_saved "drip-$SEED.bin"
}

@test "[4] finds the end of the header when \\r\\n\\r\\n is split across two reads" {
	hint "handout step 4: after each recv(), search for \\r\\n\\r\\n again from a few bytes before the new data, not only in the new data"
	local split path
	path="/split-$(rand 1000 99999).bin"
	for split in end-1 end-2 end-3 mid; do
		fresh_folder "work-$split"
		serve "$(rand 1000 5000)" -u "$path" -b "$split" -B 100
		run_client "$QUICK" "$SL_BIN" "$URL$path" "split-$SEED.bin"
		exit_is 0 "$OK_REPLY"
		expect_saved "split-$SEED.bin"
	done
}

@test "[5] saves a 20 MiB binary body byte for byte" {
	hint "handout step 6: pass the body through a fixed buffer, writing each piece as it arrives; write() may write less than asked"
	local path
	path="/big-$(rand 1000 99999)/big.bin"
	serve 20971520 -u "$path"
	run_client "$BIG" "$SL_BIN" "$URL$path" "big-$SEED.bin"
	exit_is 0 "$OK_REPLY"
	expect_saved "big-$SEED.bin"
}

@test "[4] names the file after the URL's last path segment, index.html for a trailing /" {
	hint "handout step 1: the path decides the default name (default_name() in the starter): its last segment, index.html when it ends in / or is empty"
	local dir file
	dir="d$(rand 1000 99999)"
	file="f$(rand 1000 99999).dat"
	serve "$(rand 1000 9000)"
	run_client "$QUICK" "$SL_BIN" "$URL/$dir/$file"
	exit_is 0 "$OK_REPLY"
	expect_saved "$file"
	fresh_folder work-slash
	run_client "$QUICK" "$SL_BIN" "$URL/$dir/"
	exit_is 0 "$OK_REPLY"
	expect_saved index.html
	fresh_folder work-nopath
	run_client "$QUICK" "$SL_BIN" "$URL"
	exit_is 0 "$OK_REPLY"
	expect_saved index.html
}

@test "[3] writes the body to stdout for OUTFILE -" {
	hint "handout step 7: with -, the body goes to stdout (nothing to rename, no file); messages go to stderr only"
	local path
	path="/stdout-$(rand 1000 99999).bin"
	serve "$(rand 30000 90000)" -u "$path" -F chunked
	run_client "$QUICK" "$SL_BIN" "$URL$path" -
	exit_is 0 "$OK_REPLY"
	if ! cmp -s "$EVID/expected" "$EVID/stdout"; then
		fail FAIL "stdout is not the body the server sent, byte for byte" \
			"expected $(size "$EVID/expected") bytes, stdout had $(size "$EVID/stdout") bytes" \
			"$(first_difference "$EVID/expected" "$EVID/stdout")" \
			"the start of stdout:" "$(show "$EVID/stdout" 400)" \
			"stderr:" "$(show "$EVID/stderr")" "$(server_said)"
		return 1
	fi
	expect_no_file "a download to stdout"
}

@test "[7] follows 5 redirects (301, 302, 303, 307, 308; relative and absolute Location)" {
	hint "handout step 5: resolve each Location against the URL just fetched (http://..., //host/..., /path, or relative to its directory), then GET it"
	local dir expect got
	dir="/r$(rand 1000 99999)/sub"
	serve "$(rand 2000 9000)" -r 5 -R 301,302,303,307,308 \
		-k relative,absolute,path,scheme,relative
	run_client "$QUICK" "$SL_BIN" "$URL$dir/start.html" "moved-$SEED.bin"
	exit_is 0 "$OK_REPLY"
	expect_saved "moved-$SEED.bin"
	expect=$(printf 'GET %s HTTP/1.1\n' "$dir/start.html" "$dir/redirect-1" \
		/redirect-2 /redirect-3 /redirect-4 /redirect-5)
	got=$(requests)
	if [[ $got != "$expect" ]]; then
		fail FAIL "the right file was saved, but the redirects were not followed as expected" \
			"the Locations were: redirect-1 (relative), http://127.0.0.1:$PEER_PORT/redirect-2," \
			"/redirect-3, //127.0.0.1:$PEER_PORT/redirect-4, redirect-5 (relative)" \
			"expected these requests:" "$(quoted <<<"$expect")" \
			"the server received:" "$(quoted <<<"$got")"
		return 1
	fi
}

@test "[3] gives up at a sixth redirect: exit 1, no file" {
	hint "handout step 5: count the redirects followed; at the sixth, stop with an error (fetch() does the counting)"
	serve "$(rand 2000 9000)" -r 6 -R 302,301
	run_client "$QUICK" "$SL_BIN" "$URL/loop/start.html" "loop-$SEED.bin"
	expect_failure "six redirects in a row"
	if [[ $(requests | wc -l) -ne 6 ]]; then
		fail FAIL "expected 6 requests (the URL, then 5 redirects followed), the server received $(requests | wc -l):" \
			"$(requests | quoted)" "$(server_said)"
		return 1
	fi
}

@test "[5] a 404 or 500 reply is an error: exit 1, no file" {
	hint "handout step 4: keep the status code; only a 2xx body is saved, anything else is reported and exits 1"
	local code
	for code in 404 500; do
		fresh_folder "work-$code"
		serve "$(rand 100 900)" -S "$code"
		run_client "$QUICK" "$SL_BIN" "$URL/missing-$SEED.html" "page-$SEED.html"
		expect_failure "a $code reply"
	done
}

@test "[6] a body cut short (Content-Length or chunked) is an error: exit 1, no file" {
	hint "handout steps 6 and 7: recv() returning 0 before the body is complete is an error; output_discard() removes the .part file"
	local framing
	for framing in length chunked; do
		fresh_folder "work-$framing"
		serve "$(rand 20000 60000)" -F "$framing" -m short
		run_client "$QUICK" "$SL_BIN" "$URL/short-$SEED.bin" "short-$SEED.bin"
		expect_failure "a body cut short ($framing)"
	done
}

@test "[4] refuses a malformed reply (not HTTP, none at all, bad chunk size or length): exit 1" {
	hint "handout steps 4 and 6: check the status line's form, and that chunk sizes are hex and Content-Length is digits"
	local mode
	for mode in garbage hangup badchunk badlength; do
		fresh_folder "work-$mode"
		serve "$(rand 2000 9000)" -m "$mode"
		run_client "$QUICK" "$SL_BIN" "$URL/bad-$SEED.bin" "bad-$SEED.bin"
		expect_failure "a malformed reply ($mode)"
	done
}

@test "[2] accepts a 20 KB header" {
	hint "handout step 4: the header buffer (64 KiB) may need several recv()s to fill; a 20 KB header must fit"
	local path
	path="/header-$(rand 1000 99999).bin"
	serve "$(rand 1000 9000)" -u "$path" -H 20480
	run_client "$QUICK" "$SL_BIN" "$URL$path" "header-$SEED.bin"
	exit_is 0 "$OK_REPLY"
	expect_saved "header-$SEED.bin"
}

@test "[5] downloads from an IPv6 server, http://[::1]:PORT/, with Host: [::1]:PORT" {
	hint "handout steps 1-3: [::1] in the URL is the host ::1; getaddrinfo() with AF_UNSPEC; Host puts the brackets back"
	local path host
	if ! free_port ::1 >/dev/null 2>&1; then
		skip "this machine has no IPv6 loopback (::1), so this test cannot run (0 points); grade on a machine with IPv6"
	fi
	path="/v6-$(rand 1000 99999)/six.bin"
	serve "$(rand 2000 9000)" -a ::1 -u "$path"
	run_client "$QUICK" "$SL_BIN" "$URL$path" "six-$SEED.bin"
	exit_is 0 "$OK_REPLY"
	expect_saved "six-$SEED.bin"
	host=$(sed -n 's/^[Hh][Oo][Ss][Tt]:[[:space:]]*\([^[:space:]]*\)[[:space:]]*$/\1/p' "$REQFILE" | tr -d '\r')
	if [[ $host != "[::1]:$PEER_PORT" ]]; then
		fail FAIL "the Host field should be [::1]:$PEER_PORT (an IPv6 address in brackets, with the port)" \
			"the server received:" "$(show "$REQFILE")"
		return 1
	fi
}

@test "[3] refuses https:// URLs, also when a redirect leads there" {
	hint "handout steps 1 and 5: an https:// URL (TLS) is refused with a message, never fetched as plain HTTP; a Location goes through parse_url() too"
	serve 1000
	run_client "$QUICK" "$SL_BIN" "https://127.0.0.1:$PEER_PORT/secret-$SEED.html" "secret-$SEED.html"
	expect_finished
	if [[ $status -eq 0 || -n $(requests) ]]; then
		fail FAIL "an https:// URL must be refused (exit status not 0), without sending an HTTP request" \
			"command: $(cat "$EVID/command")" \
			"exit status $status; the server received: $(requests | head -1)"
		return 1
	fi
	expect_stderr_says "a message that https is not supported"
	expect_no_file "an https:// URL"
	fresh_folder work-redirect
	serve 1000 -r 1 -k https
	run_client "$QUICK" "$SL_BIN" "$URL/plain-$SEED.html" "plain-$SEED.html"
	expect_finished
	expect_asked
	if [[ $status -eq 0 || $(requests | wc -l) -ne 1 ]]; then
		fail FAIL "a redirect to https://127.0.0.1:$PEER_PORT/redirect-1 must be refused (exit status not 0), not followed over plain HTTP" \
			"command: $(cat "$EVID/command")" \
			"exit status $status; the server received:" "$(requests | quoted)" \
			"stderr:" "$(show "$EVID/stderr")"
		return 1
	fi
	expect_stderr_says "a message that https is not supported"
	expect_no_file "a redirect to https://"
}

@test "[4] a stalled download never leaves a file under the final name" {
	hint "handout step 7: write the body to OUTFILE.part and rename it to OUTFILE only when it is complete"
	serve 200000 -m stall-body
	run_client "$STALL" "$SL_BIN" "$URL/stalled-$SEED.bin" "stalled-$SEED.bin"
	expect_asked
	if [[ $verdict == ok && $status -eq 0 ]]; then
		fail FAIL "the server sent the header and half of a 200000-byte body, then stalled;" \
			"the program exited 0 as if the download had succeeded" \
			"its stderr:" "$(show "$EVID/stderr")" "$(server_said)"
		return 1
	fi
	if [[ -e $WORK/stalled-$SEED.bin ]]; then
		fail FAIL "the server sent the header and half of a 200000-byte body, then stalled;" \
			"after $STALL s the program was $([[ $verdict == timeout ]] && echo "still waiting (it was stopped)" || echo "done (exit status $status)")," \
			"and stalled-$SEED.bin ($(size "$WORK/stalled-$SEED.bin") bytes) was there: a half body under the final name" \
			"expected: no stalled-$SEED.bin until the body is complete (stalled-$SEED.bin.part may be)" \
			"files in the folder: $(listing)"
		return 1
	fi
}

@test "[2] stderr shows the status line and saved N bytes" {
	hint "handout step 4: print the status line on stderr; fetch() then says how many bytes were saved"
	local path n
	n=$(rand 10000 99999)
	path="/talk-$(rand 1000 99999).bin"
	serve "$n" -u "$path"
	run_client "$QUICK" "$SL_BIN" "$URL$path" "talk-$SEED.bin"
	exit_is 0 "$OK_REPLY"
	if ! grep -qF "HTTP/1.1 200 OK" "$EVID/stderr"; then
		fail FAIL "stderr should show the status line the server sent, HTTP/1.1 200 OK" \
			"stderr:" "$(show "$EVID/stderr")"
		return 1
	fi
	if ! grep -i saved "$EVID/stderr" | grep -qE "(^|[^0-9])$n([^0-9]|\$)"; then
		fail FAIL "stderr should say the body was saved and how big it was: saved $n bytes to talk-$SEED.bin" \
			"stderr:" "$(show "$EVID/stderr")"
		return 1
	fi
}

@test "[6] runs clean under valgrind (no memory errors, leaks or open descriptors)" {
	hint "handout steps 2, 6, 7: freeaddrinfo() the list, close() every socket (a redirect's too) and the .part file, on every path"
	need_valgrind
	serve "$(rand 5000 20000)" -F chunked -r 2 -k relative,path
	run_client --valgrind "$QUICK" "$SL_BIN" "$URL/vg/start.html" "vg-$SEED.bin"
	exit_is 0 "$OK_REPLY"
	expect_saved "vg-$SEED.bin"
	expect_valgrind_clean --fds
	fresh_folder work-short
	rm -f "$EVID"/valgrind*.log
	serve "$(rand 5000 20000)" -m short
	run_client --valgrind "$QUICK" "$SL_BIN" "$URL/vg-short.bin" "vg-short-$SEED.bin"
	expect_failure "a body cut short"
	expect_valgrind_clean --fds
}
