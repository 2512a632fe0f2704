#!/usr/bin/env bats
# Lab 02, webclient: an HTTP/1.1 client that saves one page.  Each test
# starts the grader's HTTP server (grader/peers/httpd.c) on a free loopback
# port, serving a body made from a random seed (build/peers/datagen makes
# the same bytes again, so no body can be hard-coded), runs the student's
# webclient in a fresh empty folder and compares what it saved, byte for
# byte.  The server misbehaves on request: it drips, splits, chunks,
# redirects, stalls, cuts short, answers HTTP/1.0, writes field names in
# odd cases.  The tests check the SPEC's contract only: after a failure
# OUTFILE must not exist, but a leftover OUTFILE.part is allowed; under
# valgrind, a client's open descriptors do not count.  100 points.
# shellcheck disable=SC2154 # verdict and status are set by run_client (helpers.bash)

bats_require_minimum_version 1.5.0
load ../lib/helpers

# shellcheck disable=SC2034 # read by bats
BATS_TEST_TIMEOUT=$(awk -v k="${TIMEOUT_SCALE:-1}" 'BEGIN { print int(90 * k) }')

# Time limits, in seconds, for one run of the client (TIMEOUT_SCALE and
# valgrind stretch them).  A correct client fetches a small body over
# loopback in a few milliseconds.  The limits are short because a program
# that never finishes waits out one of them in every test: about 50 s
# for the whole lab, within the minute the SPEC allows.
QUICK=1.5 # a small download (a correct client needs a few ms)
SLOW=2.5  # a reply dripped a byte a millisecond (about 0.5 s)
BIG=4     # 20 MiB (a correct client needs well under 1 s)
STALL=2   # how long a stalled download is left to run

# How the student runs things by hand, for the "to reproduce" lines.
HAND_CLIENT=./build/labs/02-webclient/webclient
HAND_PORT=8000

setup() {
	sl_setup
	SERVE_N=0
	fresh_folder work
}

teardown() {
	sl_teardown
}

# ---- helpers of this lab ------------------------------------------------


# fresh_folder NAME: run the client in a new empty folder $EVID/NAME, so
# that default file names and "no file left" checks are exact.
fresh_folder() {
	WORK="$EVID/$1"
	mkdir -p "$WORK"
	cd "$WORK" || return 1
}


# serve LENGTH [HTTPD OPTIONS...]: start the grader's HTTP server with a
# LENGTH-byte body from a new random seed.  Sets SEED, LENGTH, URL (its
# http://HOST:PORT, no path), REQFILE (every request it receives, raw),
# SERVED (what it does, for failure messages) and SERVE_ARGS (its
# options, for "to reproduce" lines); the body is in $EVID/expected.
serve() {
	local host=127.0.0.1 args i
	LENGTH="$1"
	shift
	args=("$@")
	SERVE_N=$((SERVE_N + 1))
	SEED=$(random_number 1 2147483646)
	REQFILE="$EVID/request-$SERVE_N"
	"$SL_PEERS/datagen" "$SEED" "$LENGTH" >"$EVID/expected"
	start_peer httpd -s "$SEED" -n "$LENGTH" -Q "$REQFILE" "$@"
	for ((i = 0; i < ${#args[@]} - 1; i++)); do
		[[ ${args[i]} == -a ]] && host="${args[i + 1]}"
	done
	[[ $host == *:* ]] && host="[$host]"
	URL="http://$host:$PEER_PORT"
	SERVE_ARGS="-s $SEED -n $LENGTH${*:+ $*}"
	SERVED="httpd $SERVE_ARGS (a $LENGTH-byte body from seed $SEED)"
}

# webclient SECONDS ARGS...: run the student's webclient with ARGS for at
# most SECONDS (see run_client), remembering ARGS for "to reproduce".
webclient() {
	local limit="$1"
	shift
	RUN_ARGS=("$@")
	run_client "$limit" "$SL_BIN" "$@"
}


# reproduce [SAVED]: how to replay the last run by hand, with the same
# server on port 8000 (and, with SAVED, how to check the file saved).
reproduce() {
	local arg words=()
	for arg in "${RUN_ARGS[@]}"; do
		words+=("$(shell_word "${arg//:$PEER_PORT/:$HAND_PORT}")")
	done
	echo "to reproduce: ./build/peers/httpd -p $HAND_PORT -l 300 $SERVE_ARGS &"
	echo "              $HAND_CLIENT ${words[*]}"
	[[ -n ${1:-} ]] &&
		echo "              ./build/peers/datagen $SEED $LENGTH | cmp - $(shell_word "$1")"
	return 0
}

# connection_log: the server's log lines since it accepted its last
# connection (the whole log if it accepted none).  The program under
# test has just ended, so the server is given a moment to log how that
# connection ended.
connection_log() {
	local i block
	for ((i = 0; i < 20; i++)); do
		block=$(awk '/\] connection [0-9]+ accepted$/ { b = "" } { b = b $0 "\n" }
			END { printf "%s", b }' "$PEER_LOG")
		[[ $block != *"] connection "*" accepted"* ]] && break
		grep -qE '\] (sent [0-9]+ bytes|incomplete request|the client went away|hangup|stall|holding)' \
			<<<"$block" && break
		sleep 0.05
	done
	printf '%s\n' "$block"
}

# server_story: one line saying what the test server saw of the last
# connection, from its log: no connection, a request that never ended,
# or the request and the reply sent.
server_story() {
	local block got
	block=$(connection_log)
	if [[ $block != *"] connection "*" accepted"* ]]; then
		echo "the program never connected to the test server ($URL)"
	elif [[ $block == *"] incomplete request: "* ]]; then
		got=$(sed -n 's/^\[[^]]*\] incomplete request: //p' <<<"$block" | tail -1)
		if [[ -z $got ]]; then
			echo "the program connected to the test server, but sent no request"
		else
			printf '%s\n' "the server is still waiting for the end of your request (the empty line, \\r\\n, after the last field); it received only: \"$got\""
		fi
	elif [[ $block != *"] request: "* ]]; then
		echo "the program connected, but the server never received a whole request"
	elif [[ $block == *"the client went away"* && ${verdict:-} == timeout ]]; then
		echo "the server received the request and was still sending its reply when the program was stopped (too slow, or stuck)"
	elif [[ $block == *"the client went away"* ]]; then
		echo "the server received the request, but the program closed the connection before the whole reply was sent"
	elif got=$(sed -n 's/^\[[^]]*\] sent \([0-9]* bytes.*\)$/\1/p' <<<"$block" | tail -1) && [[ -n $got ]]; then
		echo "the server received the request and sent its reply, $got"
	else
		echo "the server received the request"
	fi
}

# server_said: what the server did, from its log, and how to reproduce
# the run, for a failure message.
server_said() {
	printf '%s\n' "the server: $SERVED" "its log (the start of each reply's header is shown escaped):"
	show "$PEER_LOG" 2000
	reproduce "${1:-}"
}

# served_too: add what the server did to the failure being reported.
served_too() { server_said >>"$EVID/message"; }

# prepend LINE: put LINE before the failure message already written.
prepend() {
	{ printf '%s\n' "$1"; cat "$EVID/message" 2>/dev/null; } >"$EVID/message.new"
	mv "$EVID/message.new" "$EVID/message"
}

# exit_is CODE WHY: the client finished with exit status CODE; a failure
# (reported by expect_exit) starts with WHY and ends with what the server
# did.
exit_is() {
	expect_exit "$1" && return 0
	prepend "$2"
	served_too
	return 1
}

# expect_success: the client exited 0 after a correct reply; a failure
# says what the server saw, from its log.
expect_success() {
	local story
	expect_exit 0 && return 0
	story=$(server_story)
	if [[ $story == "the server received the request and sent its reply"*"(redirect "* ]]; then
		story="$story: a correct redirect, which the program should follow, then save the final body and exit 0"
	elif [[ $story == "the server received the request and sent its reply"* ]]; then
		story="$story: that is a correct reply, so the program should save the body and exit 0"
	fi
	prepend "$story"
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


# expect_body FILE WHAT [SAVED]: FILE (WHAT: "stdout", "out.bin") holds the
# body the server sent, byte for byte; a failure shows the first
# difference, with both sides around it.
expect_body() {
	local file="$1" what="$2" diff at
	cmp -s "$EVID/expected" "$file" && return 0
	diff=$(first_difference "$EVID/expected" "$file")
	at=$(sed -n 's/^first difference at byte \([0-9]*\).*/\1/p' <<<"$diff")
	fail FAIL "$what is not the body the server sent, byte for byte" \
		"expected $(size "$EVID/expected") bytes, $what holds $(size "$file") bytes" \
		"$diff" \
		"the body, around byte ${at:-0}:" "$(hexdump_at "$EVID/expected" "${at:-0}")" \
		"$what, around byte ${at:-0}:" "$(hexdump_at "$file" "${at:-0}")" \
		"command: $(cat "$EVID/command")" \
		"its stderr:" "$(show "$EVID/stderr")" "$(server_said "${3:-}")"
}

# expect_saved NAME: the body the server sent is in NAME, byte for byte,
# and NAME is the only file in the client's folder (no NAME.part left).
expect_saved() {
	local name="$1"
	if [[ ! -f $WORK/$name ]]; then
		fail FAIL "expected the body saved as $name; there is no such file" \
			"files in the folder the program ran in: $(listing)" \
			"command: $(cat "$EVID/command")" \
			"its stderr:" "$(show "$EVID/stderr")" "$(server_said "$name")"
		return 1
	fi
	expect_body "$WORK/$name" "$name" "$name" || return 1
	if [[ $(ls -A "$WORK") != "$name" ]]; then
		fail FAIL "$name is right, but other files are left beside it: $(listing)" \
			"(OUTFILE.part must be renamed to OUTFILE once the body is complete)" \
			"command: $(cat "$EVID/command")"
		return 1
	fi
}

# expect_no_outfile NAME WHY: after WHY there is no file NAME in the
# client's folder (NAME.part, or other files, may be there).
expect_no_outfile() {
	[[ ! -e $WORK/$1 ]] && return 0
	fail FAIL "after $2, no $1 may be left: a failed download never leaves a file under the final name" \
		"found $1 ($(size "$WORK/$1") bytes); the folder holds: $(listing)" \
		"(write the body to $1.part and rename it only once it is complete;" \
		" $1.part itself may stay, removing it is tidier)" \
		"command: $(cat "$EVID/command")" \
		"its stderr:" "$(show "$EVID/stderr")" "$(server_said)"
}

# requests: the request lines the server received, one a line.
requests() { sed -n 's/^\[[^]]*\] request: //p' "$PEER_LOG"; }

# expect_asked: the client sent the server a whole request.
expect_asked() {
	[[ -n $(requests) ]] && return 0
	if [[ $verdict == timeout ]]; then
		fail TIME "$(server_story), and the program did not finish within $SL_CLIENT_LIMIT s (it was stopped)" \
			"command: $(cat "$EVID/command")" \
			"its stderr so far:" "$(show "$EVID/stderr")" "$(server_said)"
		return 1
	fi
	fail FAIL "$(server_story)" \
		"command: $(cat "$EVID/command")" \
		"the program's verdict: $verdict, exit status $status" \
		"its stderr:" "$(show "$EVID/stderr")" "$(server_said)"
}

# expect_failure WHAT NAME: the client exited 1 after WHAT, said something
# on stderr and left no file NAME.
expect_failure() {
	expect_asked
	exit_is 1 "after $1 the program should exit 1, with a message, and leave no $2"
	expect_stderr_says "a message saying what went wrong with $1"
	expect_no_outfile "$2" "$1"
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
		"the server received:" "$(show "$REQFILE" 2000)" "$(reproduce)"
}

# ---- the tests ----------------------------------------------------------

@test "[2] prints usage for -h and exits 2 on bad usage" {
	hint "What the program does, in the handout (main() in the starter does it): -h prints the usage and exits 0; no URL, or more than URL and OUTFILE, exits 2"
	run_client "$QUICK" "$SL_BIN" -h
	expect_exit 0
	if [[ ! -s $EVID/stdout && ! -s $EVID/stderr ]]; then
		fail FAIL "'webclient -h' should print how to use it; it printed nothing"
		return 1
	fi
	run_client "$QUICK" "$SL_BIN"
	expect_exit 2
	run_client "$QUICK" "$SL_BIN" "http://127.0.0.1:$(free_port)/a" b c
	expect_exit 2
}

@test "[6] sends GET PATH HTTP/1.1 with Host: HOST:PORT and Connection: close" {
	hint "handout step 3: the request line, a Host field with the URL's host and port, Connection: close, each line ending in \\r\\n, then an empty line"
	local path first
	path="/req-$(random_number 1000 99999)/page-$(random_number 1000 99999).html"
	serve 512 -u "$path"
	webclient "$QUICK" "$URL$path" out.html
	expect_request "$path" "127.0.0.1:$PEER_PORT"
	# a host name, and a path one segment deep; the server listens on the
	# name's first address (trying each is another test's business)
	first=$("$SL_PEERS/porttool" resolve localhost | head -1)
	[[ -n $first ]] || return 0
	fresh_folder work-name
	path="/p$(random_number 1000 99999).txt"
	serve 512 -u "$path" -a "$first"
	webclient "$QUICK" "http://localhost:$PEER_PORT$path" out.txt
	expect_request "$path" "localhost:$PEER_PORT"
}

@test "[7] saves a body framed by Content-Length, byte for byte" {
	hint "handout steps 4, 6, 7: the bytes after the header's empty line are the body's first; copy Content-Length bytes to the .part file, then rename it"
	local path
	path="/cl-$(random_number 1000 99999)/data-$(random_number 1000 99999).bin"
	serve "$(random_number 20000 90000)" -u "$path"
	webclient "$QUICK" "$URL$path" "saved-$SEED.bin"
	expect_success
	expect_saved "saved-$SEED.bin"
}

@test "[7] saves a chunked body (chunks of random sizes), byte for byte" {
	hint "handout step 6: Transfer-Encoding: chunked: a hex size line, that many bytes, \\r\\n; size 0 ends the body; only the data is saved"
	local path
	path="/chunked-$(random_number 1000 99999)/c$(random_number 1000 99999).bin"
	serve "$(random_number 30000 90000)" -u "$path" -F chunked -c "$(random_number 40 4000)"
	webclient "$QUICK" "$URL$path" "chunked-$SEED.bin"
	expect_success
	expect_saved "chunked-$SEED.bin"
}

@test "[3] understands chunk extensions, uppercase hex sizes and trailer fields" {
	hint "handout step 6: a size line may be \"1A;name=value\" (ignore from the ';'), and trailer lines may follow the 0 chunk, up to an empty line"
	local path
	path="/x$(random_number 1000 99999)/decorated.bin"
	serve "$(random_number 5000 20000)" -u "$path" -F chunked -x -c "$(random_number 100 600)"
	webclient "$QUICK" "$URL$path" "decorated-$SEED.bin"
	expect_success
	expect_saved "decorated-$SEED.bin"
}

@test "[4] saves a body that ends when the server closes (an HTTP/1.0 reply, no length)" {
	hint "handout steps 4 and 6: the status line may say HTTP/1.0 (as Python's http.server does); with neither Content-Length nor chunked, the body is everything until recv() returns 0"
	local path
	path="/close-$(random_number 1000 99999)/until-close.bin"
	serve "$(random_number 20000 90000)" -u "$path" -F close -V 1.0
	webclient "$QUICK" "$URL$path" "close-$SEED.bin"
	expect_success
	expect_saved "close-$SEED.bin"
}

@test "[4] reads header field names in any case (content-length, TRANSFER-ENCODING: Chunked)" {
	hint "handout step 4: field names are case-insensitive, and so is the coding name chunked: compare them with strncasecmp(), never strcmp() or strstr()"
	local path
	path="/case-$(random_number 1000 99999)/lower.bin"
	# lower-case names, a redirect (location:) first, then content-length
	serve "$(random_number 5000 20000)" -N lower -r 1
	webclient "$QUICK" "$URL$path" "lower-$SEED.bin"
	expect_success
	expect_saved "lower-$SEED.bin"
	fresh_folder work-upper
	serve "$(random_number 5000 20000)" -N upper -F chunked
	webclient "$QUICK" "$URL$path" "upper-$SEED.bin"
	expect_success
	expect_saved "upper-$SEED.bin"
}

@test "[4] reads a reply that arrives one byte at a time" {
	hint "handout steps 4 and 6: one recv() returns whatever has arrived, maybe 1 byte; keep calling it until the header, then the body, is complete"
	local path
	path="/drip-$(random_number 1000 99999).bin"
	serve "$(random_number 150 300)" -u "$path" -d 1
	webclient "$SLOW" "$URL$path" "drip-$SEED.bin"
	expect_success
	expect_saved "drip-$SEED.bin"
	# chunked, three bytes at a time: size lines arrive in pieces too
	fresh_folder work-chunked
	serve "$(random_number 200 400)" -u "$path" -F chunked -c 50 -d 1 -w 3
	webclient "$SLOW" "$URL$path" "drip-$SEED.bin"
	expect_success
	expect_saved "drip-$SEED.bin"
}

@test "[4] finds the end of the header when \\r\\n\\r\\n is split across two reads" {
	hint "handout step 4: after each recv(), search for \\r\\n\\r\\n again from a few bytes before the new data, not only in the new data"
	local split path
	path="/split-$(random_number 1000 99999).bin"
	for split in end-1 end-2 end-3 mid; do
		fresh_folder "work-$split"
		serve "$(random_number 1000 5000)" -u "$path" -b "$split" -B 100
		webclient "$QUICK" "$URL$path" "split-$SEED.bin"
		expect_success
		expect_saved "split-$SEED.bin"
	done
}

@test "[4] saves a 20 MiB binary body byte for byte" {
	hint "handout step 6: pass the body through a fixed buffer, writing each piece as it arrives; write() may write less than asked"
	local path
	path="/big-$(random_number 1000 99999)/big.bin"
	serve 20971520 -u "$path"
	webclient "$BIG" "$URL$path" "big-$SEED.bin"
	expect_success
	expect_saved "big-$SEED.bin"
}

@test "[4] names the file after the path's last segment (no query, no #fragment sent), index.html for a trailing /" {
	hint "handout step 1: the fragment (#...) is never sent; the default name (default_name() in the starter) is the path's last segment without the query, index.html when it ends in / or is empty"
	local dir file got
	dir="d$(random_number 1000 99999)"
	file="f$(random_number 1000 99999).dat"
	serve "$(random_number 1000 9000)"
	webclient "$QUICK" "$URL/$dir/$file?x=1#frag"
	expect_success
	got=$(requests | tail -1)
	if [[ $got != "GET /$dir/$file?x=1 HTTP/1.1" ]]; then
		fail FAIL "the request line should be \"GET /$dir/$file?x=1 HTTP/1.1\": the query is sent, the #fragment never is" \
			"command: $(cat "$EVID/command")" \
			"the server received: \"$got\"" "$(reproduce)"
		return 1
	fi
	expect_saved "$file"
	fresh_folder work-slash
	webclient "$QUICK" "$URL/$dir/"
	expect_success
	expect_saved index.html
	fresh_folder work-nopath
	webclient "$QUICK" "$URL"
	expect_success
	expect_saved index.html
}

@test "[3] writes the body to stdout for OUTFILE -" {
	hint "handout step 7: with -, the body goes to stdout (nothing to rename, no file); messages go to stderr only"
	local path
	path="/stdout-$(random_number 1000 99999).bin"
	serve "$(random_number 30000 90000)" -u "$path"
	webclient "$QUICK" "$URL$path" -
	expect_success
	expect_body "$EVID/stdout" stdout
	if [[ -n $(ls -A "$WORK") ]]; then
		fail FAIL "with OUTFILE -, the body goes to stdout and no file is made; found: $(listing)" \
			"command: $(cat "$EVID/command")" "$(reproduce)"
		return 1
	fi
}

@test "[6] follows 5 redirects (301, 302, 303, 307, 308; relative and absolute Location)" {
	hint "handout step 5: resolve each Location against the URL just fetched (http://..., //host/..., /path, or relative to its directory), then GET it"
	local dir expect got
	dir="/r$(random_number 1000 99999)/sub"
	serve "$(random_number 2000 9000)" -r 5 -R 301,302,303,307,308 \
		-k relative,absolute,path,scheme,relative
	webclient "$QUICK" "$URL$dir/start.html" "moved-$SEED.bin"
	expect_success
	expect_saved "moved-$SEED.bin"
	expect=$(printf 'GET %s HTTP/1.1\n' "$dir/start.html" "$dir/redirect-1" \
		/redirect-2 /redirect-3 /redirect-4 /redirect-5)
	got=$(requests)
	if [[ $got != "$expect" ]]; then
		fail FAIL "the right file was saved, but the redirects were not followed as expected" \
			"the Locations were: redirect-1 (relative), http://127.0.0.1:$PEER_PORT/redirect-2," \
			"/redirect-3, //127.0.0.1:$PEER_PORT/redirect-4, redirect-5 (relative)" \
			"expected these requests:" "$(quoted <<<"$expect")" \
			"the server received:" "$(quoted <<<"$got")" "$(reproduce)"
		return 1
	fi
}

@test "[3] gives up at a sixth redirect: exit 1, no OUTFILE" {
	hint "handout step 5: count the redirects followed; at the sixth, stop with an error (fetch() does the counting)"
	serve "$(random_number 2000 9000)" -r 6 -R 302,301
	webclient "$QUICK" "$URL/loop/start.html" "loop-$SEED.bin"
	expect_failure "six redirects in a row" "loop-$SEED.bin"
	if [[ $(requests | wc -l) -ne 6 ]]; then
		fail FAIL "expected 6 requests (the URL, then 5 redirects followed), the server received $(requests | wc -l):" \
			"$(requests | quoted)" "$(server_said)"
		return 1
	fi
}

@test "[5] any 2xx status is a success (a 203 is saved); a 404 or 500 is an error: exit 1, no OUTFILE" {
	hint "handout step 4: keep the status code; every 2xx (200 to 299) body is saved, anything else is reported and exits 1 (fetch() decides)"
	local code path
	path="/status-$(random_number 1000 99999).bin"
	serve "$(random_number 1000 9000)" -u "$path" -S 203
	webclient "$QUICK" "$URL$path" "page-$SEED.bin"
	expect_success
	expect_saved "page-$SEED.bin"
	for code in 404 500; do
		fresh_folder "work-$code"
		serve "$(random_number 100 900)" -S "$code"
		webclient "$QUICK" "$URL/missing-$SEED.html" "page-$SEED.html"
		expect_failure "a $code reply" "page-$SEED.html"
	done
}

@test "[6] a body cut short (Content-Length or chunked) is an error: exit 1, no OUTFILE" {
	hint "handout steps 6 and 7: recv() returning 0 before the body is complete is an error; the file keeps its .part name"
	local framing
	for framing in length chunked; do
		fresh_folder "work-$framing"
		serve "$(random_number 20000 60000)" -F "$framing" -m short
		webclient "$QUICK" "$URL/short-$SEED.bin" "short-$SEED.bin"
		expect_failure "a body cut short ($framing)" "short-$SEED.bin"
	done
}

@test "[4] refuses a malformed reply (not HTTP, no reply, a bad chunk size, Content-Length: 1234x): exit 1" {
	hint "handout steps 4 and 6: check the status line's form; a chunk size is hex digits, a Content-Length digits and nothing else (atoi() takes 1234x for 1234)"
	local mode
	for mode in garbage hangup badchunk badlength; do
		fresh_folder "work-$mode"
		serve "$(random_number 2000 9000)" -m "$mode"
		webclient "$QUICK" "$URL/bad-$SEED.bin" "bad-$SEED.bin"
		expect_failure "a malformed reply ($mode)" "bad-$SEED.bin"
	done
}

@test "[2] accepts a 20 KB header" {
	hint "handout step 4: the header buffer (64 KiB) may need several recv()s to fill; a 20 KB header must fit"
	local path
	path="/header-$(random_number 1000 99999).bin"
	serve "$(random_number 1000 9000)" -u "$path" -H 20480
	webclient "$QUICK" "$URL$path" "header-$SEED.bin"
	expect_success
	expect_saved "header-$SEED.bin"
}

@test "[4] downloads from an IPv6 server, http://[::1]:PORT/, with Host: [::1]:PORT" {
	need_ipv6
	hint "handout steps 1-3: [::1] in the URL is the host ::1; getaddrinfo() with AF_UNSPEC; Host puts the brackets back"
	local path host
	path="/v6-$(random_number 1000 99999)/six.bin"
	serve "$(random_number 2000 9000)" -a ::1 -u "$path"
	webclient "$QUICK" "$URL$path" "six-$SEED.bin"
	expect_success
	expect_saved "six-$SEED.bin"
	host=$(sed -n 's/^[Hh][Oo][Ss][Tt]:[[:space:]]*\([^[:space:]]*\)[[:space:]]*$/\1/p' "$REQFILE" | tr -d '\r')
	if [[ $host != "[::1]:$PEER_PORT" ]]; then
		fail FAIL "the Host field should be [::1]:$PEER_PORT (an IPv6 address in brackets, with the port)" \
			"the server received:" "$(show "$REQFILE")" "$(reproduce)"
		return 1
	fi
}

@test "[4] accepts a host name (localhost), trying each of its addresses" {
	hint "handout step 2: getaddrinfo() gives a name's addresses; try each in turn until one connects"
	local last path
	# The server listens on the name's last address, so a client that
	# tries only the first fails (where localhost has more than one).
	last=$("$SL_PEERS/porttool" resolve localhost | tail -1)
	[[ -n $last ]] || skip "localhost does not resolve on this machine (0 points)"
	path="/local-$(random_number 1000 99999).bin"
	serve "$(random_number 2000 9000)" -a "$last" -u "$path"
	webclient "$QUICK" "http://localhost:$PEER_PORT$path" "local-$SEED.bin"
	expect_success
	expect_saved "local-$SEED.bin"
}

@test "[3] refuses https:// URLs, also when a redirect leads there" {
	hint "handout steps 1 and 5: an https:// URL (TLS) is refused with a message, never fetched as plain HTTP; a Location goes through parse_url() too"
	serve 1000
	webclient "$QUICK" "https://127.0.0.1:$PEER_PORT/secret-$SEED.html" "secret-$SEED.html"
	expect_finished
	if [[ $status -eq 0 || -n $(requests) ]]; then
		fail FAIL "an https:// URL must be refused (exit status not 0), without sending an HTTP request" \
			"command: $(cat "$EVID/command")" \
			"exit status $status; the server received: $(requests | head -1)" "$(reproduce)"
		return 1
	fi
	expect_stderr_says "a message that https is not supported"
	expect_no_outfile "secret-$SEED.html" "an https:// URL"
	fresh_folder work-redirect
	serve 1000 -r 1 -k https
	webclient "$QUICK" "$URL/plain-$SEED.html" "plain-$SEED.html"
	expect_finished
	expect_asked
	if [[ $status -eq 0 || $(requests | wc -l) -ne 1 ]]; then
		fail FAIL "a redirect to https://127.0.0.1:$PEER_PORT/redirect-1 must be refused (exit status not 0), not followed over plain HTTP" \
			"command: $(cat "$EVID/command")" \
			"exit status $status; the server received:" "$(requests | quoted)" \
			"stderr:" "$(show "$EVID/stderr")" "$(reproduce)"
		return 1
	fi
	expect_stderr_says "a message that https is not supported"
	expect_no_outfile "plain-$SEED.html" "a redirect to https://"
}

@test "[3] a stalled download never leaves a file under the final name" {
	hint "handout step 7: write the body to OUTFILE.part and rename it to OUTFILE only when it is complete"
	serve 200000 -m stall-body
	webclient "$STALL" "$URL/stalled-$SEED.bin" "stalled-$SEED.bin"
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
			"files in the folder: $(listing)" "$(reproduce)"
		return 1
	fi
}

@test "[2] stderr shows the status line and saved N bytes" {
	hint "handout step 4: print the status line on stderr; fetch() then says how many bytes were saved"
	local path n
	n=$(random_number 10000 99999)
	path="/talk-$(random_number 1000 99999).bin"
	serve "$n" -u "$path"
	webclient "$QUICK" "$URL$path" "talk-$SEED.bin"
	expect_success
	if ! grep -qF "HTTP/1.1 200 OK" "$EVID/stderr"; then
		fail FAIL "stderr should show the status line the server sent, HTTP/1.1 200 OK" \
			"stderr:" "$(show "$EVID/stderr")" "$(reproduce)"
		return 1
	fi
	if ! grep -i saved "$EVID/stderr" | grep -qE "(^|[^0-9])$n([^0-9]|\$)"; then
		fail FAIL "stderr should say the body was saved and how big it was: saved $n bytes to talk-$SEED.bin" \
			"stderr:" "$(show "$EVID/stderr")" "$(reproduce)"
		return 1
	fi
}

@test "[6] runs clean under valgrind (no memory errors or leaks)" {
	need_valgrind
	hint "handout steps 2 and 4-7: freeaddrinfo() the list, free() what you malloc(), on every path, and never read past a buffer's end"
	local path needs="(this test needs a webclient that works: it checks the memory use of a correct download, then of one cut short)"
	path="/vg-$(random_number 1000 99999).bin"
	serve "$(random_number 5000 20000)" -u "$path"
	# A quick run without valgrind first: a program that does not work
	# fails here at once, not after valgrind's longer time limit.
	webclient "$QUICK" "$URL$path" "plain-$SEED.bin"
	expect_success || { echo "$needs" >>"$EVID/message"; return 1; }
	# Only valgrind's findings count below (the other tests judge the
	# output): a correct download, then a body cut short.
	fresh_folder work-valgrind
	run_client --valgrind "$QUICK" "$SL_BIN" "$URL$path" "vg-$SEED.bin"
	if [[ $status -ne 0 && $status -ne 99 ]]; then
		expect_exit 0 || { echo "$needs" >>"$EVID/message"; return 1; }
	fi
	expect_finished
	expect_valgrind_clean
	rm -f "$EVID"/valgrind*.log
	fresh_folder work-short
	serve "$(random_number 5000 20000)" -m short
	run_client --valgrind "$QUICK" "$SL_BIN" "$URL/vg-short.bin" "vg-short-$SEED.bin"
	expect_finished
	expect_valgrind_clean
}
