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
# shellcheck disable=SC2154,SC2030,SC2031 # verdict and status are set by run_client (helpers.bash); each test runs in a subshell of its own

bats_require_minimum_version 1.5.0
load ../lib/helpers
load ../lib/lab02

sl_test_timeout 90

# Time limits, in seconds, for one run of the client (TIMEOUT_SCALE and
# valgrind stretch them).  A correct client fetches a small body over
# loopback in a few milliseconds.  The limits are short because a program
# that never finishes waits out one of them in every test: about 50 s
# for the whole lab, within the minute the SPEC allows.
QUICK=1.5 # a small download (a correct client needs a few ms)
SLOW=2.5  # a reply dripped a byte a millisecond (about 0.5 s)
BIG=4     # 20 MiB (a correct client needs well under 1 s)
STALL=0.5 # how long a stalled download is left to run (loopback delivers
#           the header and half the body in a few ms)

# How the student runs things by hand, for the "to reproduce" lines.
HAND_CLIENT=./build/labs/02-webclient/webclient
HAND_PORT=8000

# The sanitizer build of the program compiles in the background while
# the other tests run (sanitizer_build_start, helpers.bash).
setup_file() {
	sl_fast_traps
	sanitizer_build_start
}

setup() {
	sl_setup
	SERVE_N=0
	# shellcheck disable=SC2034 # used by lab02.bash
	declare -gA BG_RUN=()
	BAD_WHAT=()
	fresh_folder work
}

teardown() { sl_teardown; }

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
	quick_peer httpd -s "$SEED" -n "$LENGTH" -Q "$REQFILE" "$@"
	for ((i = 0; i < ${#args[@]} - 1; i++)); do
		[[ ${args[i]} == -a ]] && host="${args[i + 1]}"
	done
	[[ $host == *:* ]] && host="[$host]"
	URL="http://$host:$PEER_PORT"
	SERVE_ARGS="-s $SEED -n $LENGTH${*:+ $*}"
	SERVED="httpd $SERVE_ARGS (a $LENGTH-byte body from seed $SEED)"
}

# webclient [RUN_CLIENT OPTIONS] SECONDS ARGS...: run the student's
# webclient with ARGS for at most SECONDS (see run_client: --shortio,
# --hosts, --valgrind), remembering ARGS for "to reproduce".
webclient() {
	split_run_options "$@"
	RUN_ARGS=("${RUN_REST[@]:1}")
	run_client "${RUN_OPTS[@]}" "${RUN_REST[0]}" "$SL_BIN" "${RUN_ARGS[@]}"
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
		problem="it needs exactly one Host field, \"Host: $host\" (HOST:PORT as the URL gave them, the port left out when it is 80)"
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

@test "[3] sends GET PATH HTTP/1.1 with a Host field and Connection: close" {
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

@test "[3] saves a body framed by Content-Length, byte for byte, and not one byte more (extra bytes in the same send; HTTP/1.0 left open)" {
	hint "handout steps 4, 6, 7: the bytes after the header's empty line are the body's first; copy exactly Content-Length bytes to the .part file (those that came with the header count), then stop and rename it"
	local path n name what seed
	path="/cl-$(random_number 1000 99999)/data-$(random_number 1000 99999).bin"
	serve "$(random_number 20000 90000)" -u "$path"
	bg_client main "$QUICK" "$URL$path" "saved-$SEED.bin"
	# two hand-made replies, each written in one send(), the connection
	# held open after it: N bytes, then 11 more that are not the body;
	# and an HTTP/1.0 reply with a Content-Length
	n=$(random_number 5 60)
	mkdir -p "$EVID/cl-replies"
	seed=$(random_number 1 2147483646)
	"$SL_PEERS/datagen" "$seed" $((n + 11)) >"$EVID/cl-bytes"
	hand_reply x "HTTP/1.1 200 OK\\r\\nContent-Length: $n\\r\\n\\r\\n" "$EVID/cl-bytes"
	mv "$REPLY" "$EVID/cl-replies/extra.reply"
	hand_reply x "HTTP/1.0 200 OK\\r\\nContent-Length: $n\\r\\n\\r\\n" "$EVID/cl-bytes"
	head -c "$(($(size "$REPLY") - 11))" "$REPLY" >"$EVID/cl-replies/held.reply"
	serve 0 -A "$EVID/cl-replies" -m hold
	head -c "$n" "$EVID/cl-bytes" >"$EVID/expected"
	LENGTH=$n SEED=$seed SERVE_ARGS="-A cl-replies -m hold (the folder in the evidence folder)"
	for name in extra held; do
		SERVED="httpd -A cl-replies -m hold: $name.reply, then the connection held open"
		bg_client "$name" "$QUICK" "$URL/$name" "$name.bin"
	done
	bg_collect main
	expect_success
	expect_saved "saved-$SEED.bin" || return 1
	declare -A said=(
		[extra]="a reply with Content-Length: $n whose send() carried $((n + 11)) bytes after the header (the last 11 are not the body)"
		[held]="an HTTP/1.0 reply with Content-Length: $n and the $n bytes, the connection then held open"
	)
	for name in extra held; do
		bg_collect "$name"
		what=${said[$name]}
		REPLY="$EVID/cl-replies/$name.reply"
		if [[ $name == held && $verdict == timeout ]]; then
			cause "the body was read until the server closed although the reply has a Content-Length: with HTTP/1.0 too, stop after Content-Length bytes (copy_body() and copy_exactly(), step 6)"
		fi
		expect_success || { prepend "with $what:"; reply_shown >>"$EVID/message"; return 1; }
		expect_saved "$name.bin" || { prepend "with $what:"; reply_shown >>"$EVID/message"; return 1; }
		if ! grep -i saved "$EVID/stderr" | grep -qE "(^|[^0-9])$n([^0-9]|\$)"; then
			fail FAIL "with $what: $name.bin is right, but stderr does not say \"saved $n bytes to $name.bin\"" \
				"its stderr:" "$(show "$EVID/stderr")" "$(reply_shown)"
			return 1
		fi
	done
}

@test "[3] saves a chunked body (chunks of random sizes), byte for byte" {
	hint "handout step 6: Transfer-Encoding: chunked: a hex size line, that many bytes, \\r\\n; size 0 ends the body; only the data is saved"
	local path
	path="/chunked-$(random_number 1000 99999)/c$(random_number 1000 99999).bin"
	serve "$(random_number 30000 90000)" -u "$path" -F chunked -c "$(random_number 40 4000)"
	webclient "$QUICK" "$URL$path" "chunked-$SEED.bin"
	expect_success
	expect_saved "chunked-$SEED.bin"
}

@test "[2] understands chunk extensions (also after spaces, 5 ;a=b), uppercase hex sizes and trailer fields" {
	hint "handout step 6: a size line may be \"1A;name=value\" (ignore from the ';'), and trailer lines may follow the 0 chunk, up to an empty line"
	local path
	path="/x$(random_number 1000 99999)/decorated.bin"
	serve "$(random_number 5000 20000)" -u "$path" -F chunked -x -c "$(random_number 100 600)"
	webclient "$QUICK" "$URL$path" "decorated-$SEED.bin"
	expect_success
	expect_saved "decorated-$SEED.bin"
	# spaces (and a tab) may come before the ';'
	fresh_folder work-spaces
	hand_reply spaces 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5 ;a=b\r\nhello\r\n7\t ;c\r\n, world\r\n0\r\n\r\n'
	serve 0 -A "$REPLY"
	printf 'hello, world' >"$EVID/expected"
	LENGTH=12 SERVED="httpd -A spaces.reply (chunk-size lines \"5 ;a=b\" and \"7<tab> ;c\")"
	webclient "$QUICK" "$URL/spaces.bin" "spaces.bin"
	expect_success || { reply_shown >>"$EVID/message"; return 1; }
	expect_saved spaces.bin || { reply_shown >>"$EVID/message"; return 1; }
}

@test "[3] saves a body that ends when the server closes (an HTTP/1.0 reply, no length)" {
	hint "handout steps 4 and 6: the status line may say HTTP/1.0 (as Python's http.server does); with neither Content-Length nor chunked, the body is everything until recv() returns 0"
	local path
	path="/close-$(random_number 1000 99999)/until-close.bin"
	serve "$(random_number 20000 90000)" -u "$path" -F close -V 1.0
	webclient "$QUICK" "$URL$path" "close-$SEED.bin"
	expect_success
	expect_saved "close-$SEED.bin"
}

@test "[2] reads header field names in any case (content-length, TRANSFER-ENCODING: Chunked)" {
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

@test "[3] reads a reply that arrives one byte at a time" {
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

@test "[3] finds the end of the header when \\r\\n\\r\\n is split across two reads" {
	hint "handout step 4: after each recv(), search for \\r\\n\\r\\n again from a few bytes before the new data, not only in the new data"
	local split path
	path="/split-$(random_number 1000 99999).bin"
	for split in end-1 end-2 end-3 mid; do
		serve "$(random_number 1000 5000)" -u "$path" -b "$split" -B 100
		bg_client "$split" "$QUICK" "$URL$path" "split-$SEED.bin"
	done
	for split in end-1 end-2 end-3 mid; do
		bg_collect "$split"
		expect_success
		expect_saved "split-$SEED.bin"
	done
}

@test "[2] saves a 20 MiB binary body byte for byte" {
	hint "handout step 6: pass the body through a fixed buffer, writing each piece as it arrives; write() may write less than asked"
	local path
	path="/big-$(random_number 1000 99999)/big.bin"
	serve 20971520 -u "$path"
	webclient "$BIG" "$URL$path" "big-$SEED.bin"
	expect_success
	expect_saved "big-$SEED.bin"
}

@test "[3] names the file after the path's last segment (no query, no #fragment sent), index.html for a trailing /" {
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

@test "[2] writes the body to stdout for OUTFILE -" {
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

@test "[3] follows 5 redirects (301, 302, 303, 307, 308; relative and absolute Location), also to another server (http://HOST:PORT/, //HOST:PORT/)" {
	hint "handout step 5: resolve each Location against the URL just fetched (http://..., //host:port/..., /path, or relative to its directory), then GET it; http://... and //... name their own host and port"
	local dir expect got kind a_log b_log b_port
	dir="/r$(random_number 1000 99999)/sub"
	serve "$(random_number 2000 9000)" -r 5 -R 301,302,303,307,308 \
		-k relative,absolute,path,scheme,relative
	bg_client main "$QUICK" "$URL$dir/start.html" "moved-$SEED.bin"
	# server A redirects to server B, on another port
	serve "$(random_number 1000 5000)"
	b_log=$PEER_LOG b_port=$PEER_PORT
	cp "$EVID/expected" "$EVID/b-body"
	mkdir -p "$EVID/to-b"
	hand_reply x "HTTP/1.1 302 Found\\r\\nLocation: http://127.0.0.1:$b_port/absolute-b.bin\\r\\nContent-Length: 0\\r\\n\\r\\n"
	mv "$REPLY" "$EVID/to-b/absolute.reply"
	hand_reply x "HTTP/1.1 302 Found\\r\\nLocation: //127.0.0.1:$b_port/scheme-b.bin\\r\\nContent-Length: 0\\r\\n\\r\\n"
	mv "$REPLY" "$EVID/to-b/scheme.reply"
	serve 0 -A "$EVID/to-b"
	a_log=$PEER_LOG
	cp "$EVID/b-body" "$EVID/expected"
	for kind in absolute scheme; do
		bg_client "$kind" "$QUICK" "$URL/$kind" "$kind.bin"
	done
	bg_collect main
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
	for kind in absolute scheme; do
		bg_collect "$kind"
		got=$(grep -c "\] request: GET /$kind HTTP" "$a_log")
		if [[ $got -ne 1 ]] || ! grep -q "\] request: GET /$kind-b.bin HTTP" "$b_log"; then
			[[ $kind == scheme && $got -gt 1 ]] &&
				cause "the scheme-relative Location //127.0.0.1:$b_port/... went to the old host and port: //host:port/path names a new server, read it as http: followed by it (resolve_location(), step 5)"
			fail FAIL "server A (port $PEER_PORT) answered GET /$kind with a 302 to $([[ $kind == scheme ]] && echo "//127.0.0.1:$b_port/scheme-b.bin" || echo "http://127.0.0.1:$b_port/absolute-b.bin"), server B:" \
				"expected one request at A, then GET /$kind-b.bin at B (port $b_port)" \
				"A received: $(sed -n "s/^\[[^]]*\] request: //p" "$a_log" | grep "/$kind" | paste -sd ';' - | head -c 300)" \
				"B received: $(sed -n "s/^\[[^]]*\] request: //p" "$b_log" | grep "/$kind" | paste -sd ';' - | head -c 300)" \
				"exit status $status; stderr:" "$(show "$EVID/stderr")"
			return 1
		fi
		expect_success
		expect_saved "$kind.bin"
	done
}

@test "[2] gives up at a sixth redirect: exit 1, no OUTFILE" {
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

@test "[3] any 2xx status is a success (a 203 is saved); a 404 or 500 is an error, and so are a 300 and a 305 (not redirects): exit 1, no OUTFILE" {
	hint "handout steps 4 and 5: keep the status code; every 2xx (200 to 299) body is saved, anything else is reported and exits 1 (fetch() decides); only 301, 302, 303, 307 and 308 are redirects (is_redirect(), given)"
	local code path
	path="/status-$(random_number 1000 99999).bin"
	serve "$(random_number 1000 9000)" -u "$path" -S 203
	bg_client 203 "$QUICK" "$URL$path" "page-$SEED.bin"
	for code in 404 500; do
		serve "$(random_number 100 900)" -S "$code"
		bg_client "$code" "$QUICK" "$URL/missing-$SEED.html" "page-$SEED.html"
	done
	# a 300 or 305 with a Location that leads to a good reply
	for code in 300 305; do
		serve "$(random_number 100 900)" -r 1 -R "$code"
		bg_client "$code" "$QUICK" "$URL/choice-$SEED.html" "page-$SEED.html"
	done
	bg_collect 203
	expect_success
	expect_saved "page-$SEED.bin"
	for code in 404 500 300 305; do
		bg_collect "$code"
		if [[ $code == 3* && $(requests | wc -l) -ne 1 ]]; then
			cause "a $code was followed as a redirect: only 301, 302, 303, 307 and 308 are (is_redirect(), given in the starter: leave it as it is; step 5)"
		fi
		expect_failure "a $code reply" "page-$SEED.html"
		if [[ $code == 3* && $(requests | wc -l) -ne 1 ]]; then
			fail FAIL "a $code reply is not a redirect (only 301, 302, 303, 307 and 308 are): expected exit 1 after one request; the server received $(requests | wc -l):" \
				"$(requests | quoted)" "stderr:" "$(show "$EVID/stderr")" "$(reproduce)"
			return 1
		fi
	done
}

@test "[3] a body cut short (Content-Length or chunked) is an error: exit 1, no OUTFILE" {
	hint "handout steps 6 and 7: recv() returning 0 before the body is complete is an error; the file keeps its .part name"
	local framing
	for framing in length chunked; do
		fresh_folder "work-$framing"
		serve "$(random_number 20000 60000)" -F "$framing" -m short
		webclient "$QUICK" "$URL/short-$SEED.bin" "short-$SEED.bin"
		expect_failure "a body cut short ($framing)" "short-$SEED.bin"
	done
}

@test "[3] refuses a malformed reply (not HTTP, no reply, a bad chunk size, Content-Length: 1234x; an SSH banner at once): exit 1" {
	hint "handout steps 4 and 6: check the status line's form (check_http() after every recv()); a chunk size is hex digits, a Content-Length digits and nothing else (atoi() takes 1234x for 1234)"
	local mode
	for mode in garbage hangup badchunk badlength; do
		serve "$(random_number 2000 9000)" -m "$mode"
		bg_client "$mode" "$QUICK" "$URL/bad-$SEED.bin" "bad-$SEED.bin"
	done
	# a server that speaks another protocol and keeps the connection
	# open: its first line shows it is no HTTP reply, so stop at once
	mkdir -p "$EVID/banner"
	printf 'SSH-2.0-OpenSSH_9.2\r\n' >"$EVID/banner/ssh.reply"
	serve 0 -A "$EVID/banner" -m hold
	bg_client ssh 2 "$URL/ssh" "ssh-$SEED.bin"
	for mode in garbage hangup badchunk badlength; do
		bg_collect "$mode"
		expect_failure "a malformed reply ($mode)" "bad-$SEED.bin"
	done
	bg_collect ssh
	if [[ $verdict == timeout ]]; then
		cause "the reply's first bytes are not checked as they arrive: call check_http() after every recv(), so that a server that is not HTTP is left at once (recv_header(), step 4)"
		fail TIME "the server sent \"SSH-2.0-OpenSSH_9.2\\r\\n\" and kept the connection open: that is not an HTTP reply (which starts \"HTTP/\")," \
			"so the program should stop at once (exit 1, \"not an HTTP reply\"); it was still waiting after $SL_CLIENT_LIMIT s, when the grader stopped it" \
			"command: $(cat "$EVID/command")" "its stderr so far:" "$(show "$EVID/stderr")" \
			"to reproduce: ./build/peers/httpd -p $HAND_PORT -l 300 -A banner -m hold &   (banner: the folder in the evidence folder)"
		return 1
	fi
	expect_failure "an SSH banner (not an HTTP reply)" "ssh-$SEED.bin"
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

@test "[3] downloads from an IPv6 server, http://[::1]:PORT/, with Host: [::1]:PORT" {
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

@test "[3] accepts a host name with two addresses (sl-multi.test), trying each until one connects" {
	hint "handout step 2: getaddrinfo() gives a name's addresses; when connect() fails, close that socket and try the next one"
	local path
	two_address_name
	path="/multi-$(random_number 1000 99999).bin"
	serve "$(random_number 2000 9000)" -a "$MULTI_LAST" -u "$path"
	if ! refuses "$MULTI_FIRST" "$PEER_PORT"; then
		skip "something listens on $MULTI_FIRST port $PEER_PORT, so the first address cannot be made to refuse (0 points); run the test again"
	fi
	webclient --hosts "$HOSTS_FILE" "$QUICK" "http://$MULTI_NAME:$PEER_PORT$path" "multi-$SEED.bin"
	if [[ $status -ne 0 ]] && ! grep -q "connection [0-9]* accepted" "$PEER_LOG"; then
		cause "only the first address was tried: when connect() fails, close that socket and go on to the next address of the list (open_client(), step 2)"
		fail FAIL "$MULTI_NAME has two addresses: $MULTI_FIRST (getaddrinfo gives it first; it refuses) and $MULTI_LAST (the server listens there)" \
			"the program never connected to $MULTI_LAST: it gave up after the first address refused" \
			"command: $(cat "$EVID/command") (with a private /etc/hosts: $(paste -sd ';' "$HOSTS_FILE"))" \
			"exit status $status; its stderr:" "$(show "$EVID/stderr")"
		return 1
	fi
	expect_success
	expect_saved "multi-$SEED.bin"
}

@test "[2] refuses https:// URLs (HTTPS:// too), also when a redirect leads there" {
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
	# the scheme is case-insensitive: HTTPS:// is https too, refused the
	# same way as https:// (the handout says exit 1; the SPEC asks only
	# for a clear refusal), not taken for some other malformed URL
	local lower=$status
	webclient "$QUICK" "HTTPS://127.0.0.1:$PEER_PORT/secret-$SEED.html" "secret-$SEED.html"
	expect_finished
	if [[ $status -ne $lower || -n $(requests) ]]; then
		fail FAIL "HTTPS://127.0.0.1:$PEER_PORT/... is an https URL too (a scheme is case-insensitive): expected the same refusal as for https://, exit status $lower, nothing sent" \
			"got exit status $status$([[ $status -eq 2 ]] && echo " (bad usage: the URL was taken for a malformed one)"); its stderr:" "$(show "$EVID/stderr")"
		return 1
	fi
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

@test "[2] a stalled download never leaves a file under the final name" {
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

@test "[4] runs clean under valgrind (no memory errors or leaks), also when the reply is bad or a redirect leads where the connection is refused" {
	need_valgrind
	hint "handout steps 2 and 4-7: freeaddrinfo() the list and close() each socket that did not connect, free() what you malloc(), on every path (every return -1 too), and never read past a buffer's end"
	local path port needs="(this test needs a webclient that works: it checks the memory use of a correct download, then of failed ones)"
	path="/vg-$(random_number 1000 99999).bin"
	serve "$(random_number 5000 20000)" -u "$path"
	# A quick run without valgrind first: a program that does not work
	# fails here at once, not after valgrind's longer time limit.
	webclient "$QUICK" "$URL$path" "plain-$SEED.bin"
	expect_success || { echo "$needs" >>"$EVID/message"; return 1; }
	# Only valgrind's findings count below (the other tests judge the
	# output): a correct download, a bad reply, and a redirect to a port
	# where nothing listens (a reply read, a redirect followed, then every
	# connect() refused), the three side by side.
	bg_client valgrind --valgrind "$QUICK" "$URL$path" "vg-$SEED.bin"
	serve "$(random_number 5000 20000)" -m garbage
	bg_client garbage --valgrind "$QUICK" "$URL/vg-garbage.bin" "vg-garbage-$SEED.bin"
	port=$(free_port)
	hand_reply refused "HTTP/1.1 302 Found\\r\\nLocation: http://127.0.0.1:$port/vg-refused.bin\\r\\nContent-Length: 0\\r\\n\\r\\n"
	serve 0 -A "$REPLY"
	bg_client refused --valgrind "$QUICK" "$URL/vg-start.bin" "vg-refused.bin"
	bg_collect valgrind
	if [[ $status -ne 0 && $status -ne 99 ]]; then
		expect_exit 0 || { echo "$needs" >>"$EVID/message"; return 1; }
	fi
	expect_finished
	expect_valgrind_clean || { prepend "on a correct download:"; return 1; }
	bg_collect garbage
	expect_finished
	expect_valgrind_clean || { prepend "after a bad reply (httpd $SERVE_ARGS):"; return 1; }
	# Here no socket may be left open either: the first connection is
	# over, and no later one ever connected.
	bg_collect refused
	expect_finished
	expect_valgrind_clean --fds || {
		prepend "after a redirect to http://127.0.0.1:$port/vg-refused.bin, where nothing listens (every connect() refused): open_client() must freeaddrinfo() the list and close() each socket that did not connect before it returns -1 (step 2), and the first connection must be closed"
		cause "on the refused path the address list or a socket is not released: freeaddrinfo() and close() before return -1 (open_client(), step 2)"
		return 1
	}
}

# ---- partial I/O, names, files, and hostile servers (issue 6) ------------

@test "[3] works when send() and recv() move a few bytes a call and fail with EINTR (the partial-I/O shim)" {
	need_shortio
	hint "handout steps 3 and 4: send() may take fewer bytes than it was given (send the rest) and any call may fail with EINTR (call it again)"
	local path first asked moved
	path="/shim-$(random_number 1000 99999)/partial.bin"
	serve "$(random_number 1500 3000)" -u "$path"
	webclient --shortio "7,eintr=5,seed=$SEED" "$SLOW" "$URL$path" "shim-$SEED.bin"
	expect_shortio_loaded
	first=$(shortio_first send)
	[[ -n $first ]] || first=$(shortio_first write)
	if [[ -n $first ]] && [[ $(connection_log) == *"] incomplete request: "* ]]; then
		asked=${first% *} moved=${first#* }
		cause "send() took $moved of $asked bytes and the rest was never sent: loop until every byte is sent (send_all(), step 3)"
		fail "$([[ $verdict == timeout ]] && echo TIME || echo FAIL)" \
			"send() took $moved of $asked bytes; the other $((asked - moved)) were never sent" \
			"$(server_story)" \
			"$(shortio_said)" \
			"command: $(cat "$EVID/command") (with the grader's partial-I/O shim: SL_SHORTIO=7,eintr=5,seed=$SEED)" \
			"its stderr:" "$(show "$EVID/stderr")" "(the shim's log is shortio.log in the evidence folder)"
		return 1
	fi
	expect_success || { shortio_said >>"$EVID/message"; return 1; }
	expect_request "$path" "127.0.0.1:$PEER_PORT" || return 1
	expect_saved "shim-$SEED.bin" || { shortio_said >>"$EVID/message"; return 1; }
}

@test "[2] a failed close() or rename() of OUTFILE.part is an error: exit 1, never \"saved\"" {
	hint "handout step 7: check what close() and rename() return; when rename() fails (OUTFILE is a directory, say), report it and exit 1"
	local path
	path="/rn-$(random_number 1000 99999).bin"
	serve "$(random_number 1000 5000)" -u "$path"
	mkdir -p "$WORK/d"
	echo "keep me" >"$WORK/d/keep"
	webclient "$QUICK" "$URL$path" d
	expect_finished
	if [[ $status -eq 0 ]] || grep -qi "saved" "$EVID/stderr"; then
		cause "the result of rename() (or close()) is not checked: when it fails, complain() and return -1 (output_finish(), step 7)"
		fail FAIL "OUTFILE was d, an existing folder that is not empty, so rename(\"d.part\", \"d\") must fail (EISDIR);" \
			"expected exit status 1 and a message saying the file could not be saved, got exit status $status" \
			"command: $(cat "$EVID/command")" \
			"its stderr:" "$(show "$EVID/stderr")" \
			"files in the folder: $(listing)" "$(reproduce)"
		return 1
	fi
	exit_is 1 "after a rename() that fails the program should exit 1"
	expect_stderr_says "a message that d could not be saved"
	# close() of OUTFILE.part fails (EIO, as a full disk or NFS can
	# report a lost write only there): the shim makes it fail
	need_shortio
	fresh_folder work-close
	webclient --shortio "0,close-fail=1" "$QUICK" "$URL$path" "cl-$SEED.bin"
	expect_shortio_loaded
	# A program that writes through stdio closes inside fclose(), where
	# the shim cannot reach: then only the rename part is judged.
	grep -q ' close fd=[0-9]* EIO' "$EVID/shortio.log" || return 0
	expect_finished
	if [[ $status -eq 0 || -e $WORK/cl-$SEED.bin ]]; then
		cause "the result of close() of the .part file is not checked: a close() that fails means the data may be lost; complain() and return -1 (output_finish(), step 7)"
		fail FAIL "close() of cl-$SEED.bin.part failed with EIO (the grader's shim made it fail: $(grep -m1 ' close fd=' "$EVID/shortio.log" | cut -d' ' -f2-))," \
			"so the file may not hold the body: expected exit status 1, a message, and no cl-$SEED.bin" \
			"got exit status $status; files in the folder: $(listing)" \
			"command: $(cat "$EVID/command") (with SL_SHORTIO=0,close-fail=1)" "its stderr:" "$(show "$EVID/stderr")"
		return 1
	fi
}

@test "[3] resolves a relative Location against a URL whose query holds a / (and one whose own query holds http://)" {
	hint "handout step 5: a relative Location replaces the last segment of the base path: look for the last '/' only before any '?'; and has_scheme() looks only at the start (letters, then ':')"
	local dir expect got
	dir="/q$(random_number 1000 99999)"
	serve "$(random_number 2000 9000)" -r 2 -k relative,query
	webclient "$QUICK" "$URL$dir/start.html?from=/up/down" "query-$SEED.bin"
	expect=$(printf 'GET %s HTTP/1.1\n' "$dir/start.html?from=/up/down" "$dir/redirect-1" \
		"$dir/redirect-2?next=http://127.0.0.1:$PEER_PORT/x/")
	got=$(requests)
	if [[ $got != "$expect" ]]; then
		if [[ $got == *"from=/up/redirect"* ]]; then
			cause "a relative Location was joined to the base URL's query: look for the base path's last '/' only before its '?' (resolve_location(), step 5)"
		elif [[ $got != *"redirect-2"* && $got == *"redirect-1"* ]] && grep -qi "redirect-2" "$EVID/stderr"; then
			cause "the relative Location \"redirect-2?next=http://...\" was taken for an absolute URL: a scheme is only letters, digits, + - . at the very start, then ':' (has_scheme(), step 5)"
		fi
		fail FAIL "the redirects were not followed as expected" \
			"the Locations were: redirect-1 (relative, against $dir/start.html?from=/up/down: the / in the query is not a directory)," \
			"then redirect-2?next=http://127.0.0.1:$PEER_PORT/x/ (relative too: it does not start with a scheme)" \
			"expected these requests:" "$(quoted <<<"$expect")" \
			"the server received:" "$(requests | quoted)" \
			"exit status $status; stderr:" "$(show "$EVID/stderr")" "$(reproduce)"
		return 1
	fi
	expect_success
	expect_saved "query-$SEED.bin"
}

@test "[2] a redirect without a Location (or an empty one) is an error: exit 1, one request" {
	hint "handout step 5: a 3xx reply with no Location, or an empty one, leads nowhere: report it (resolve_location() gets \"\") and exit 1"
	local kind
	for kind in none empty; do
		fresh_folder "work-$kind"
		serve "$(random_number 500 2000)" -r 1 -k "$kind"
		webclient "$QUICK" "$URL/nl/start.html" "nl-$SEED.bin"
		expect_failure "a 302 with $([[ $kind == none ]] && echo "no Location field" || echo "an empty Location field")" "nl-$SEED.bin"
		if [[ $(requests | wc -l) -ne 1 ]]; then
			fail FAIL "a 302 with $([[ $kind == none ]] && echo "no Location field" || echo "an empty Location field") must not be followed; the server received $(requests | wc -l) requests:" \
				"$(requests | quoted)" "stderr:" "$(show "$EVID/stderr")" "$(reproduce)"
			return 1
		fi
	done
}

# bad_reply WHAT HEADER [BODYFILE]: queue a hand-made reply (HEADER, then
# BODYFILE) that the program must refuse: exit 1 with a "webclient:"
# message, no OUTFILE.  bad_replies_run sends them all, one server for
# all of them, the runs side by side.
bad_reply() {
	local name
	name=$(slug "$1")
	mkdir -p "$EVID/replies"
	hand_reply "$name" "$2" "${3:-}"
	mv "$REPLY" "$EVID/replies/$name.reply"
	BAD_WHAT+=("$1")
}

# bad_replies_run: start the server of the queued replies and check how
# the program took each.
bad_replies_run() {
	local what name
	serve 0 -A "$EVID/replies"
	for what in "${BAD_WHAT[@]}"; do
		name=$(slug "$what")
		bg_client "$name" "$QUICK" "$URL/$name" "bad-$SEED.bin"
	done
	for what in "${BAD_WHAT[@]}"; do
		name=$(slug "$what")
		bg_collect "$name" || return 1
		REPLY="$EVID/replies/$name.reply"
		expect_finished || return 1
		if [[ $status -ne 1 ]] || ! said_webclient || [[ -e $WORK/bad-$SEED.bin ]]; then
			fail FAIL "a malformed reply ($what) must be refused: exit 1, a message \"webclient: what failed: why\" on stderr, no OUTFILE" \
				"$(reply_shown)" \
				"got exit status $status; files in the folder: $(listing)" \
				"command: $(cat "$EVID/command")" "its stderr:" "$(show "$EVID/stderr")" \
				"to reproduce: ./build/peers/httpd -p $HAND_PORT -l 300 -A FILE &   (FILE: replies/$name.reply in the evidence folder)"
			return 1
		fi
	done
}

@test "[3] refuses a malformed header (HTTP/1.1 200OK, a Content-Length too big, empty, +300 or given twice, a field name empty or with a space, a line with no colon or folded, Transfer-Encoding: gzip)" {
	hint "handout step 4: the status line is HTTP/1.x, a space, three digits, then a space or nothing; a Content-Length is one or more digits and nothing else, that fit (check before each digit), and two must agree; every line is Name: value, the name never empty and without spaces or tabs (parse_field()); only chunked is understood"
	local body="$EVID/some-bytes"
	"$SL_PEERS/datagen" "$(random_number 1 99999)" 300 >"$body"
	bad_reply "status line 200OK" 'HTTP/1.1 200OK-ish garbage\r\nContent-Length: 300\r\n\r\n' "$body"
	bad_reply "Content-Length 18446744073709551615" 'HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\nConnection: close\r\n\r\n' "$body"
	bad_reply "two Content-Length fields, 300 and 299" 'HTTP/1.1 200 OK\r\nContent-Length: 300\r\nContent-Length: 299\r\nConnection: close\r\n\r\n' "$body"
	bad_reply "an empty field name" 'HTTP/1.1 200 OK\r\n: no name\r\nContent-Length: 300\r\n\r\n' "$body"
	bad_reply "Transfer-Encoding gzip" 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nConnection: close\r\n\r\n' "$body"
	bad_reply "an empty Content-Length" 'HTTP/1.1 200 OK\r\nContent-Length: \r\nConnection: close\r\n\r\n' "$body"
	bad_reply "Content-Length +300" 'HTTP/1.1 200 OK\r\nContent-Length: +300\r\nConnection: close\r\n\r\n' "$body"
	bad_reply "a space before the colon, Content-Length : 300" 'HTTP/1.1 200 OK\r\nContent-Length : 300\r\nConnection: close\r\n\r\n' "$body"
	bad_reply "a space inside a field name, Content Length: 300" 'HTTP/1.1 200 OK\r\nContent Length: 300\r\nConnection: close\r\n\r\n' "$body"
	bad_reply "a folded line (starting with a space)" 'HTTP/1.1 200 OK\r\nX-Note: a\r\n folded: x\r\nContent-Length: 300\r\n\r\n' "$body"
	bad_reply "a header line with no colon" 'HTTP/1.1 200 OK\r\nX-No-Colon\r\nContent-Length: 300\r\n\r\n' "$body"
	bad_replies_run
}

@test "[3] refuses a malformed chunked body (sizes 5zz, 0x3, \" 2\", -5; data ended by a bare LF; no empty line after the 0 chunk)" {
	hint "handout step 6: a size line is hex digits, then maybe spaces and ;extension, then CRLF; chunk data is followed by CRLF; after the 0 chunk come trailer lines up to an empty one (the server closing first is an error)"
	local h='HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n'
	bad_reply "chunk size 5zz" "${h}5zz\\r\\nhello\\r\\n0\\r\\n\\r\\n"
	bad_reply "chunk size 0x3" "${h}0x3\\r\\nabc\\r\\n0\\r\\n\\r\\n"
	bad_reply "chunk size with a space first" "${h} 2\\r\\nab\\r\\n0\\r\\n\\r\\n"
	bad_reply "chunk size -5" "${h}-5\\r\\nhello\\r\\n0\\r\\n\\r\\n"
	bad_reply "chunk data ended by a bare LF" "${h}5\\r\\nhello\\n0\\r\\n\\r\\n"
	bad_reply "the server closing after the 0 chunk" "${h}5\\r\\nhello\\r\\n0\\r\\n"
	bad_replies_run
}

@test "[2] a field Content: N is not Content-Length (names are compared whole, not by prefix)" {
	hint "handout step 4: name_is() compares the whole name: the lengths must be equal too, so Content is not Content-Length"
	local n
	n=$(random_number 2000 9000)
	"$SL_PEERS/datagen" "$(random_number 1 2147483646)" "$n" >"$EVID/content-body"
	hand_reply content "HTTP/1.1 200 OK\\r\\nContent: 3\\r\\nConnection: close\\r\\n\\r\\n" "$EVID/content-body"
	serve 0 -A "$REPLY"
	# the body the program must save: all of it, up to the server's close
	cp "$EVID/content-body" "$EVID/expected"
	LENGTH=$n
	SERVE_ARGS="-A FILE (FILE: content.reply in the evidence folder)"
	SERVED="httpd -A content.reply (a hand-made reply: a field Content: 3, then a $n-byte body ended by the server closing)"
	webclient "$QUICK" "$URL/content.bin" "content-$SEED.bin"
	expect_success || { reply_shown >>"$EVID/message"; return 1; }
	expect_saved "content-$SEED.bin" || { reply_shown >>"$EVID/message"; return 1; }
}

@test "[2] a 204 No Content reply has no body, whatever its fields say" {
	hint "handout step 4: a 204 reply never has a body: after its header the body is empty, whatever Content-Length says"
	local n got
	n=$(random_number 100 900)
	"$SL_PEERS/datagen" "$(random_number 1 2147483646)" "$n" >"$EVID/204-bytes"
	# one send(): the header (Content-Length: 40), then n bytes
	hand_reply 204 'HTTP/1.1 204 No Content\r\nContent-Length: 40\r\n\r\n' "$EVID/204-bytes"
	serve 0 -A "$REPLY"
	LENGTH=0 SERVED="httpd -A 204.reply (a 204 with Content-Length: 40, then $n bytes in the same send)"
	SERVE_ARGS="-A FILE (FILE: 204.reply in the evidence folder)"
	webclient "$QUICK" "$URL/empty.bin" "empty-$SEED.bin"
	got=""
	[[ -f $WORK/empty-$SEED.bin ]] && got=$(size "$WORK/empty-$SEED.bin")
	if [[ $got == 40 ]]; then
		cause "a 204 reply was read as its Content-Length says: a 204 never has a body, so parse_header() sets its length to 0 (step 4)"
	fi
	expect_success || { reply_shown >>"$EVID/message"; return 1; }
	if [[ ! -f $WORK/empty-$SEED.bin || -s $WORK/empty-$SEED.bin ]]; then
		fail FAIL "a 204 No Content reply has an empty body: expected empty-$SEED.bin, 0 bytes" \
			"the server sent a 204 with Content-Length: 40 and $n bytes after the header (which a client must not read as a body)" \
			"found: $(listing)$([[ -f $WORK/empty-$SEED.bin ]] && echo ", empty-$SEED.bin holding $(size "$WORK/empty-$SEED.bin") bytes")" \
			"stderr:" "$(show "$EVID/stderr")" "$(reproduce)"
		return 1
	fi
}

@test "[2] refuses a malformed URL with exit 2, sending nothing (a space, control or non-ASCII byte in the path; ports 0, 9150x, +9150, 2^32+9150; [abc], [::1]x; hosts user@host, a!b, a%41b, exa*mple, a,b)" {
	hint "handout step 1: set_path() refuses a space, a control or a non-ASCII byte (write %20, %C3%A9); parse_port() takes digits only, 1 to 65535, and stops before the number overflows (atoi() takes 9150x, +9150 and 4294976446 for 9150); host_ok(): a name has only letters, digits, '-', '.' and '_' (refuse it before any name lookup); inside [brackets] there is a ':', and after ']' only ':PORT' or the path"
	local url what urls=() i
	serve 500
	# a good URL first: a program that refuses every URL proves nothing
	webclient "$QUICK" "$URL/good.html" good.html
	expect_success || { echo "(this test needs a webclient that works: it first fetches a good URL)" >>"$EVID/message"; return 1; }
	urls=("$URL/a b.html" "$URL/a"$'\t'"b.html" "$URL/a"$'\x01'"b.html"
		"http://127.0.0.1:${PEER_PORT}x/p.html" "http://127.0.0.1:+$PEER_PORT/p.html"
		"http://127.0.0.1:$((4294967296 + PEER_PORT))/p.html" "http://127.0.0.1:0/p.html"
		"http://[abc]:$PEER_PORT/p.html" "http://[::1]x:$PEER_PORT/p.html"
		"$URL/caf"$'\xc3\xa9'".html"
		"http://user@127.0.0.1:$PEER_PORT/p.html" "http://a!b:$PEER_PORT/p.html"
		"http://a%41b:$PEER_PORT/p.html" "http://exa*mple:$PEER_PORT/p.html"
		"http://a,b:$PEER_PORT/p.html")
	# side by side: each must end at once, exit 2, nothing sent
	for i in "${!urls[@]}"; do
		bg_client "url-$i" "$QUICK" "${urls[i]}" out.html
	done
	for i in "${!urls[@]}"; do
		url=${urls[i]}
		bg_collect "url-$i" || return 1
		expect_finished || return 1
		if [[ $status -ne 2 ]]; then
			what=$(printf '%s' "$url" | LC_ALL=C tr -c '[:print:]' '?')
			if [[ $status -eq 1 && $url == http://[!1[]* ]]; then
				cause "a host with a character no host has was looked up instead of refused: host_ok() allows only letters, digits, '-', '.' and '_', and parse_url() fails before any lookup, exit 2 (step 1)"
			fi
			fail FAIL "the URL \"$what\" is malformed ($(printf '%q' "$url")): expected exit status 2 and no request sent" \
				"got exit status $status; the server received (after GET /good.html): $(requests | tail -n +2 | tail -1)" \
				"its stderr:" "$(show "$EVID/stderr")"
			return 1
		fi
	done
	if [[ $(requests | wc -l) -ne 1 ]]; then
		fail FAIL "every one of these URLs is malformed, so nothing may be sent; yet after GET /good.html the server received:" \
			"$(requests | tail -n +2 | quoted)" "the URLs (each run's output is in run-url-N in the evidence folder):" \
			"$(for url in "${urls[@]}"; do printf '%q\n' "$url"; done | quoted)"
		return 1
	fi
}

@test "[2] sends the whole request for a 2000-byte path (or refuses it clearly)" {
	hint "handout step 3: check what snprintf() returns: when it is not less than the buffer's size, the request did not fit and was cut off (send none of it, say so)"
	local path
	path="/long-$(random_number 1000 99999)/$(head -c 2000 /dev/zero | tr '\0' 'a').bin"
	serve "$(random_number 500 2000)"
	webclient "$QUICK" "$URL/short.bin" short.bin
	expect_success || { echo "(this test needs a webclient that works: it first fetches a short path)" >>"$EVID/message"; return 1; }
	fresh_folder work-long
	serve "$(random_number 500 2000)"
	webclient "$QUICK" "$URL$path" long.bin
	if [[ $(connection_log) == *"] incomplete request: "* ]]; then
		cause "the request did not fit its buffer and was cut off: check what snprintf() returns (send_request(), step 3)"
		fail "$([[ $verdict == timeout ]] && echo TIME || echo FAIL)" "$(server_story)" \
			"the path is $((${#path})) bytes: the request must go out whole (or be refused with a message, sending nothing)" \
			"command: webclient $URL/long-.../aaa...a.bin long.bin" \
			"exit status $status ($verdict); its stderr:" "$(show "$EVID/stderr")"
		return 1
	fi
	expect_finished
	if [[ $status -ne 0 ]]; then
		if [[ -n $(requests) ]] || ! said_webclient; then
			fail FAIL "a request for a $((${#path}))-byte path must be sent whole and the body saved, or refused with a message (webclient: ...) before anything is sent" \
				"exit status $status; the server received: $(requests | head -c 120)" \
				"its stderr:" "$(show "$EVID/stderr")"
			return 1
		fi
		return 0
	fi
	expect_request "$path" "127.0.0.1:$PEER_PORT"
	expect_saved long.bin
}

# asan_run WHAT ARGS...: run the sanitizer build with ARGS; it must end by
# itself (exit 0 or 1 both do) with no sanitizer report.
asan_run() {
	local what="$1" env
	shift
	mapfile -t env < <(asan_env)
	RUN_ARGS=("$@")
	run_client "$(scaled "$QUICK" 2)" "${env[@]}" "$SAN_BIN" "$@"
	if [[ $status -eq 86 ]] || [[ -n $(sanitizer_said) ]]; then
		cause "a buffer overflow the server (or the URL) controls: check every length before you copy into a fixed buffer (copy_span(), read_line()'s cap, snprintf()'s return: steps 1, 3, 4, 6)"
		fail MEM "with $what, AddressSanitizer/UBSan found a memory error (a buffer overflow the server or the URL controls)" \
			"the report (all of it is in stderr in the evidence folder):" "$(sanitizer_said)" \
			"command: (your program built with -fsanitize=address,undefined) $(shell_words "$@" | head -c 200)" \
			"$(reply_shown 2>/dev/null)"
		return 1
	fi
	expect_finished || return 1
	if [[ $status -ne 0 && $status -ne 1 && $status -ne 2 ]]; then
		fail FAIL "with $what, expected exit status 0, 1 or 2, got $status" "its stderr:" "$(show "$EVID/stderr")"
		return 1
	fi
}

@test "[3] survives hostile replies under AddressSanitizer (a 12000-byte Location, a 3000-byte chunk extension, a 4000-byte bad header line, a 10000-byte path)" {
	hint "handout steps 1, 3, 4 and 6: every copy into a fixed-size buffer checks the length first: a Location (copy_span()), a chunk-size line (read_line()'s cap), the request (snprintf()'s return)"
	local long
	need_sanitizer_build
	long=$(head -c 12000 /dev/zero | tr '\0' 'L')
	fresh_folder work-location
	hand_reply location "HTTP/1.1 302 Found\\r\\nLocation: /$long\\r\\nContent-Length: 0\\r\\n\\r\\n"
	serve 0 -A "$REPLY"
	asan_run "a 302 whose Location is 12000 bytes" "$URL/start.html" out.bin || return 1
	fresh_folder work-extension
	hand_reply extension "HTTP/1.1 200 OK\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n5;$(head -c 3000 /dev/zero | tr '\0' 'e')\\r\\nhello\\r\\n0\\r\\n\\r\\n"
	serve 0 -A "$REPLY"
	asan_run "a chunk-size line with a 3000-byte extension" "$URL/ext.bin" out.bin || return 1
	fresh_folder work-header
	hand_reply header "HTTP/1.1 200 OK\\r\\n$(head -c 4000 /dev/zero | tr '\0' 'h')\\r\\nContent-Length: 5\\r\\n\\r\\nhello"
	serve 0 -A "$REPLY"
	asan_run "a 4000-byte header line without a colon" "$URL/hdr.bin" out.bin || return 1
	fresh_folder work-path
	REPLY=""
	serve 100
	asan_run "a 10000-byte path" "$URL/$(head -c 10000 /dev/zero | tr '\0' 'p')" out.bin || return 1
}

@test "[3] uses chunked, not Content-Length, when a reply has both" {
	hint "handout step 4 and Background: when a reply has both Transfer-Encoding: chunked and Content-Length, chunked wins: the length is ignored (parse_header() decides)"
	local n
	n=$(random_number 2000 6000)
	"$SL_PEERS/datagen" "$(random_number 1 2147483646)" "$n" >"$EVID/both-body"
	{
		printf 'HTTP/1.1 200 OK\r\nContent-Length: 40\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n'
		printf '%x\r\n' "$n"
		cat "$EVID/both-body"
		printf '\r\n0\r\n\r\n'
	} >"$EVID/both.reply"
	REPLY="$EVID/both.reply"
	serve 0 -A "$REPLY"
	cp "$EVID/both-body" "$EVID/expected"
	LENGTH=$n SERVED="httpd -A both.reply (Content-Length: 40 and Transfer-Encoding: chunked, one $n-byte chunk)"
	webclient "$QUICK" "$URL/both.bin" "both.bin"
	if [[ -f $WORK/both.bin && $(size "$WORK/both.bin") -eq 40 ]]; then
		cause "Content-Length was used although the reply is chunked: when both come, chunked wins and the length is ignored (parse_header(), step 4)"
	fi
	expect_success || { reply_shown >>"$EVID/message"; return 1; }
	expect_saved both.bin || { reply_shown >>"$EVID/message"; return 1; }
}

@test "[3] accepts lenient header forms (HTTP/1.1 200 with no reason, spaces and tabs around values, a reply that is only a header)" {
	hint "handout step 4: the reason phrase may be empty (\"HTTP/1.1 200\"); trim spaces and tabs on both sides of a field value; a reply whose header ends the data (Content-Length: 0, then close) has an empty body: header_end() must find \\r\\n\\r\\n at the very end too"
	local body="$EVID/lenient-body" name what
	declare -A said=(
		[no-reason]="a status line with no reason phrase, HTTP/1.1 200"
		[trailing]="Content-Length, Transfer-Encoding and Location values with spaces and tabs after them"
		[header-only]="a reply that is only a header (Content-Length: 0), then the server closes"
	)
	"$SL_PEERS/datagen" "$(random_number 1 2147483646)" 700 >"$body"
	mkdir -p "$EVID/replies"
	hand_reply x 'HTTP/1.1 200\r\nContent-Length: 700\r\n\r\n' "$body"
	mv "$REPLY" "$EVID/replies/no-reason.reply"
	hand_reply x 'HTTP/1.1 302 Found\r\nLocation: \t/lenient/trailing2 \t\r\nContent-Length: 0\r\n\r\n'
	mv "$REPLY" "$EVID/replies/trailing.reply"
	{
		printf 'HTTP/1.1 200 OK\r\nTransfer-Encoding:\tchunked \t\r\nContent-Length:  40\t \r\n\r\n2bc\r\n'
		cat "$body"
		printf '\r\n0\r\n\r\n'
	} >"$EVID/replies/trailing2.reply"
	hand_reply x 'HTTP/1.1 200 OK\r\nContent-Length: 0 \r\n\r\n'
	mv "$REPLY" "$EVID/replies/header-only.reply"
	serve 0 -A "$EVID/replies"
	for name in no-reason trailing header-only; do
		bg_client "$name" "$QUICK" "$URL/lenient/$name" "$name.bin"
	done
	for name in no-reason trailing header-only; do
		bg_collect "$name"
		what=${said[$name]}
		REPLY="$EVID/replies/$name.reply"
		if [[ $name == header-only ]]; then : >"$EVID/expected"; else cp "$body" "$EVID/expected"; fi
		LENGTH=$(size "$EVID/expected")
		SERVE_ARGS="-A replies (the folder in the evidence folder)"
		SERVED="httpd -A replies: $what"
		expect_success || { prepend "with $what:"; reply_shown >>"$EVID/message"; return 1; }
		expect_saved "$name.bin" || { prepend "with $what:"; reply_shown >>"$EVID/message"; return 1; }
	done
}

@test "[2] sends Host: HOST without :80 to port 80 (HOST:PORT on any other port), and a Location without a port leads to port 80" {
	hint "handout steps 3 and 5: the Host field is the URL's host, then :PORT only when the port is not 80 (http://127.0.0.1/ sends Host: 127.0.0.1); a Location http://HOST/... without a port means port 80, not the port of the URL just fetched"
	local path lock p80_pid p80_log a_log
	[[ $(id -u) -eq 0 ]] ||
		skip "the grader cannot listen on 127.0.0.1 port 80 here (it needs root), so this test cannot run (0 points); CI runs it"
	# Graders running side by side (the self-test does) take turns at
	# port 80: each holds the lock until its server on port 80 is gone.
	if command -v flock >/dev/null; then
		exec {lock}>"${TMPDIR:-/tmp}/socketlab-port80.lock"
		flock -w "$(scaled 10)" "$lock" || :
	fi
	refuses 127.0.0.1 80 ||
		skip "something else listens on 127.0.0.1 port 80 here, so this test cannot run (0 points); CI runs it"
	path="/p80-$(random_number 1000 99999).html"
	serve 300 -u "$path" -p 80
	p80_pid=$PEER_PID p80_log=$PEER_LOG
	webclient "$QUICK" "http://127.0.0.1$path" p80.html
	expect_request "$path" "127.0.0.1" || {
		cause "the port went into Host although it is 80: put \":PORT\" after the host only when the port is not 80 (send_request(), step 3)"
		return 1
	}
	expect_saved p80.html || return 1
	# a server on another port redirects to http://127.0.0.1/PATH
	fresh_folder work-redirect
	cp "$EVID/expected" "$EVID/p80-body"
	hand_reply to80 "HTTP/1.1 302 Found\\r\\nLocation: http://127.0.0.1$path\\r\\nContent-Length: 0\\r\\n\\r\\n"
	serve 0 -A "$REPLY"
	a_log=$PEER_LOG
	cp "$EVID/p80-body" "$EVID/expected"
	LENGTH=300
	webclient "$QUICK" "$URL/start.html" p80r.html
	stop_process "$p80_pid"
	[[ -n ${lock:-} ]] && exec {lock}>&-
	if [[ $(grep -c '\] request: ' "$a_log") -ne 1 ]] || [[ $(grep -c "\] request: GET $path " "$p80_log") -ne 2 ]]; then
		[[ $(grep -c '\] request: ' "$a_log") -gt 1 ]] &&
			cause "the Location http://127.0.0.1$path has no port, so it is port 80; the old port was kept (parse_url() of the Location gives port 80; resolve_location(), step 5)"
		fail FAIL "a server on port $PEER_PORT answered GET /start.html with a 302 to http://127.0.0.1$path (no port: port 80)" \
			"expected one request there, then GET $path at port 80" \
			"port $PEER_PORT received: $(sed -n 's/^\[[^]]*\] request: //p' "$a_log" | paste -sd ';' - | head -c 300)" \
			"port 80 received (after the first test's GET $path): $(sed -n 's/^\[[^]]*\] request: //p' "$p80_log" | tail -n +2 | paste -sd ';' - | head -c 300)" \
			"exit status $status; stderr:" "$(show "$EVID/stderr")"
		return 1
	fi
	expect_saved p80r.html
}

@test "[2] accepts URLs whose scheme is in any case (HTTP://, Http://) or whose authority ends at ? or # (http://HOST:PORT?x=1)" {
	hint "handout step 1: the scheme is case-insensitive (strncasecmp()); the authority (HOST:PORT) runs to the first '/', '?' or '#', whichever comes first"
	local url want
	serve 300
	for url in "HTTP://127.0.0.1:$PEER_PORT/u1.bin" "Http://127.0.0.1:$PEER_PORT/u2.bin" \
		"http://127.0.0.1:$PEER_PORT?x=1" "http://127.0.0.1:$PEER_PORT#frag"; do
		webclient "$QUICK" "$url" -
		case $url in
		*\?x=1) want="GET /?x=1 HTTP/1.1" ;;
		*\#frag) want="GET / HTTP/1.1" ;;
		*) want="GET /${url##*/} HTTP/1.1" ;;
		esac
		expect_finished || return 1
		if [[ $status -ne 0 || $(requests | tail -1) != "$want" ]]; then
			[[ $(requests | tail -1) == "GET ?"* ]] &&
				cause "the request line is \"$(requests | tail -1)\": the path must start with '/': set_path() puts one in front when the rest of the URL is empty or starts with '?' (step 1)"
			fail FAIL "the URL $url is good: expected the request \"$want\" and exit status 0" \
				"got exit status $status; the server's last request: \"$(requests | tail -1)\"" \
				"its stderr:" "$(show "$EVID/stderr")" "$(reproduce)"
			return 1
		fi
	done
}
