# shellcheck shell=bash
# shellcheck disable=SC2154,SC2030,SC2031,SC2153 # SL_PEERS and status, verdict, EVID, WORK, PEER_LOG are set by helpers.bash and the tests; bg_client changes them only in its subshell
# lab02.bash - helpers of lab 02's tests (grader/tests/02-webclient.bats
# loads it after helpers.bash): the root causes the evidence shows, the
# hand-made replies the grader's httpd sends with -A, and the
# AddressSanitizer build of the program under test.

# ---- root causes ----------------------------------------------------------

# lab_diagnose: the root cause a failed test's evidence shows (called by
# fail, after the starter's stubs were looked for).  It reads what the
# program said (stderr), what it saved (the files of its folder, against
# $EVID/expected) and what the server received ($EVID/request-*).
lab_diagnose() {
	local err="$EVID/stderr" f size at byte req
	if grep -q "sending the request: Interrupted system call" "$err" 2>/dev/null; then
		cause "send() failed with EINTR, which only means a signal came: call it again (send_all(), step 3)"
		return 0
	fi
	if grep -qi "interrupted system call" "$err" 2>/dev/null; then
		cause "recv() failed with EINTR, which only means a signal came: call it again (recv_some(), step 4)"
		return 0
	fi
	# the whole header was sent, yet the program says the server closed
	# before its end: header_end() misses "\r\n\r\n" (its bound or where
	# the search starts again), not a missing recv() loop
	if LC_ALL=C grep -qiE 'clos.*(header|head)|(header|head).*clos' "$err" 2>/dev/null &&
		LC_ALL=C grep -qE '\] sent [0-9]+ bytes' "${PEER_LOG:-/nonexistent}" 2>/dev/null &&
		! LC_ALL=C grep -qE 'cut short|hangup|malformed' "${PEER_LOG:-/nonexistent}" 2>/dev/null; then
		cause "the server sent the whole header (its log shows it), yet the program said the connection closed before the header's end: header_end() does not find \"\\r\\n\\r\\n\" at the very end of the data (loop while i + 4 <= len) or the search starts again too late (3 bytes before the new data) (header_end() and recv_header(), step 4)"
		return 0
	fi
	# the request the server received: no Host field
	for req in "$EVID"/request-*; do
		[[ -s $req ]] || continue
		if ! LC_ALL=C grep -qi '^host:' "$req"; then
			cause "the request has no Host field: HTTP/1.1 needs \"Host: HOST:PORT\" (send_request(), step 3)"
			return 0
		fi
	done
	# a hand-made reply with Content-Length N and more bytes after it:
	# a saved file that starts with its body and holds more than N
	if [[ -n ${REPLY:-} && -f $REPLY && -d ${WORK:-/nonexistent} ]]; then
		local cl hl more
		hl=$(reply_header_size "$REPLY")
		cl=$(head -c "${hl:-0}" "$REPLY" | tr -d '\r' | sed -n 's/^[Cc]ontent-[Ll]ength: *\([0-9][0-9]*\) *$/\1/p' | head -1)
		if [[ -n $hl && -n $cl ]] && ! head -c "$hl" "$REPLY" | LC_ALL=C grep -qi '^transfer-encoding:'; then
			more=$(($(size_of "$REPLY") - hl))
			for f in "$WORK"/* "$EVID/stdout"; do
				[[ -f $f ]] || continue
				size=$(size_of "$f")
				if ((more > cl && size > cl)) && cmp -s -n "$size" <(tail -c +"$((hl + 1))" "$REPLY") "$f"; then
					cause "$(basename "$f") holds $size bytes, more than the reply's Content-Length: $cl: stop after Content-Length bytes, also of what came with the header (copy_exactly() and copy_body(), step 6)"
					return 0
				fi
			done
		fi
	fi
	[[ -s $EVID/expected && -d ${WORK:-/nonexistent} ]] || return 0
	for f in "$WORK"/* "$EVID/stdout"; do
		[[ -f $f && -s $f ]] || continue
		# the chunk-size lines are in the saved file
		if LC_ALL=C head -c 200 "$f" | head -1 | LC_ALL=C grep -qE '^[0-9A-Fa-f]{1,8}(;[^\r]*)?'$'\r''$' &&
			! cmp -s -n 20 "$f" "$EVID/expected"; then
			cause "the saved file holds the chunk-size lines (\"$(head -1 "$f" | tr -d '\r' | head -c 40)\"): a body sent with Transfer-Encoding: chunked must be decoded, only the chunks' data saved (copy_chunked(), step 6)"
			return 0
		fi
		# the saved body goes wrong at a 0x00 byte of the body
		size=$(size_of "$f")
		at=$(LC_ALL=C cmp "$EVID/expected" "$f" 2>&1 | sed -En 's/.*(byte|char) ([0-9]+).*/\2/p')
		if [[ -n $at ]]; then
			at=$((at - 1))
		elif ((size < $(size_of "$EVID/expected"))); then
			at=$size
		fi
		if [[ -n $at ]]; then
			byte=$(od -An -tx1 -j "$at" -N1 "$EVID/expected" | tr -d ' ')
			if [[ $byte == 00 ]]; then
				cause "the saved body goes wrong at byte $at, a 0x00 byte of the body: the body is bytes, not a C string; never strlen(), strcpy() or fputs() it, write it with its length (output_write(), step 6)"
				return 0
			fi
		fi
	done
	return 0
}

# size_of FILE: its size in bytes.
size_of() { wc -c <"$1" | tr -d ' '; }

# reply_header_size FILE: the bytes of FILE's header, up to and with
# the first "\r\n\r\n" ("" if it has none).
reply_header_size() {
	local n
	n=$(LC_ALL=C sed -n $'/^\r$/{=;q;}' "$1")
	[[ -n $n ]] && head -n "$n" "$1" | wc -c | tr -d ' '
	return 0
}

# ---- hand-made replies -----------------------------------------------------

# hand_reply NAME HEADER [BODYFILE]: write a hand-made reply to
# $EVID/NAME.reply: HEADER (printf format: use \r\n) and then BODYFILE's
# bytes; sets REPLY to its path.  `httpd -A "$REPLY"` sends it.
hand_reply() {
	REPLY="$EVID/$1.reply"
	# shellcheck disable=SC2059 # HEADER is a format on purpose
	printf "$2" >"$REPLY"
	[[ -n ${3:-} ]] && cat "$3" >>"$REPLY"
	return 0
}

# reply_shown: the hand-made reply the server sent, for a failure message
# (its first lines, escaped; the whole of it is in the evidence folder).
reply_shown() {
	local lines
	lines=$(LC_ALL=C tr -c '[:print:]\n\r' '?' <"$REPLY" | head -c 400 | sed -e 's/\r/\\r/g' -e 's/^/  | /')
	printf '%s\n' "the server sent (the start of $(basename "$REPLY") in the evidence folder, $(size_of "$REPLY") bytes):" "$lines"
}

# said_webclient: true if stderr has a line "webclient: ..." (SPEC §3:
# errors go to stderr as PROGRAM: what failed: why).
said_webclient() { LC_ALL=C grep -q '^webclient: ' "$EVID/stderr" 2>/dev/null; }

# ---- AddressSanitizer ------------------------------------------------------

# asan_env: the words that run a sanitizer build with its report on
# stderr and leaks left to valgrind's test.
asan_env() {
	printf '%s\n' env "ASAN_OPTIONS=detect_leaks=0:abort_on_error=0:exitcode=86" \
		"UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=86"
}

# sanitizer_said: the sanitizer's report in $EVID/stderr ("" if none).
sanitizer_said() {
	LC_ALL=C grep -E -A12 'ERROR: AddressSanitizer|runtime error:|ERROR: UndefinedBehaviorSanitizer' \
		"$EVID/stderr" 2>/dev/null | head -16 | sed -e 's/^/  /'
}

# ---- runs side by side ----------------------------------------------------

# bg_client NAME [WEBCLIENT OPTIONS] SECONDS ARGS...: start the webclient
# run NAME in the background, in a fresh folder $EVID/work-NAME, with its
# output in $EVID/run-NAME/ (stdout, stderr, command, valgrind logs), so
# that several runs go on at once.  What serve() set (the server of the
# run) is kept with it; bg_collect NAME waits for the run and makes it
# the last run, as if it had just been run in the foreground.
bg_client() {
	local name="$1" sub="$EVID/run-$1"
	shift
	mkdir -p "$sub" "$EVID/work-$name"
	declare -p SEED LENGTH URL REQFILE SERVED SERVE_ARGS PEER_LOG PEER_PORT >"$sub/state" 2>/dev/null
	cp -f "$EVID/expected" "$sub/expected" 2>/dev/null
	(
		EVID=$sub
		cd "$EVID/../work-$name" || exit 1
		webclient "$@"
		declare -p status verdict SL_CLIENT_LIMIT SL_CLIENT_VALGRIND RUN_ARGS >"$sub/result.new"
		mv "$sub/result.new" "$sub/result"
	) </dev/null >/dev/null 2>&1 3>&- &
	# shellcheck disable=SC2004 # an associative array: the key needs its $
	BG_RUN[$name]=$!
}

# bg_collect NAME: wait for the run bg_client NAME started, then set
# status, verdict, WORK and the server's variables from it, and copy its
# stdout, stderr, command and valgrind logs into $EVID.
bg_collect() {
	local name="$1" sub="$EVID/run-$1"
	wait "${BG_RUN[$name]}" 2>/dev/null
	sl_source_global "$sub/state"
	if [[ ! -f $sub/result ]]; then
		fail FAIL "the grader could not run the program (run $name): this is the grader's problem, tell your instructor"
		return 1
	fi
	sl_source_global "$sub/result"
	WORK="$EVID/work-$name"
	cd "$WORK" || return 1
	cp -f "$sub/stdout" "$sub/stderr" "$sub/command" "$EVID/"
	cp -f "$sub/expected" "$EVID/expected" 2>/dev/null
	rm -f "$EVID"/valgrind*.log
	compgen -G "$sub/valgrind*.log" >/dev/null && cp -f "$sub"/valgrind*.log "$EVID/"
	return 0
}

# sl_source_global FILE: run FILE, which declare -p wrote, so that its
# variables are set globally, not as locals of this function (read and
# rewritten in bash: no sed, as it runs twice for every run in the
# background).
sl_source_global() {
	local _sl_text=""
	{ IFS= read -r -d '' _sl_text <"$1"; } 2>/dev/null || : # (false at the end of the file, where it stops)
	_sl_text=${_sl_text/#declare /declare -g }
	eval "${_sl_text//$'\n'declare /$'\n'declare -g }"
}

# quick_peer PEER [ARGS...]: start_peer (helpers.bash), looking for the
# peer's port every 5 ms instead of every 30: a test of this lab starts
# up to seven servers, and each start would otherwise wait a whole 30 ms
# for a peer that is listening after 2.
quick_peer() {
	local peer="$1" i name
	shift
	SL_PEER_N=$((${SL_PEER_N:-0} + 1))
	name="$peer-$SL_PEER_N"
	PEER_LOG="$EVID/$name.log"
	rm -f "$EVID/$name.port"
	background 60 "$name" "$SL_PEERS/$peer" -P "$EVID/$name.port" -L "$PEER_LOG" -l 60 "$@"
	PEER_PID=$BG_PID
	# shellcheck disable=SC2034 # read by helpers.bash
	PEER_ARGS="$*"
	for ((i = 0; i < 600; i++)); do
		if [[ -s "$EVID/$name.port" ]]; then
			PEER_PORT=$(<"$EVID/$name.port")
			return 0
		fi
		kill -0 "$PEER_PID" 2>/dev/null || break
		sleep 0.005
	done
	fail FAIL "the grader's test server ($peer $*) did not start; it said:" \
		"$(show "$EVID/$name.err")" \
		"(this is the grader's problem, not your program's: tell your instructor)"
}
