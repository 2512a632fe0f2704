# shellcheck shell=bash
# shellcheck disable=SC2154 # status, verdict, EVID, WORK, PEER_LOG are set by helpers.bash and the tests
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
	# the request the server received: no Host field
	for req in "$EVID"/request-*; do
		[[ -s $req ]] || continue
		if ! LC_ALL=C grep -qi '^host:' "$req"; then
			cause "the request has no Host field: HTTP/1.1 needs \"Host: HOST:PORT\" (send_request(), step 3)"
			return 0
		fi
	done
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

# program_source: the C file the program under test was built from: $SL_SRC
# where the driver sets it, else the name the compiler wrote into its
# debug information (the grader builds with -g).
program_source() {
	local name dir
	if [[ -n ${SL_SRC:-} && -f $SL_SRC ]]; then
		printf '%s\n' "$SL_SRC"
		return 0
	fi
	command -v readelf >/dev/null || return 1
	name=$(LC_ALL=C readelf --debug-dump=info "$SL_BIN" 2>/dev/null |
		awk '/DW_TAG_compile_unit/ { cu = 1 } cu && /DW_AT_name/ { sub(/.*: /, ""); print; exit }')
	dir=$(LC_ALL=C readelf --debug-dump=info "$SL_BIN" 2>/dev/null |
		awk '/DW_TAG_compile_unit/ { cu = 1 } cu && /DW_AT_comp_dir/ { sub(/.*: /, ""); print; exit }')
	[[ -n $name ]] || return 1
	[[ $name == /* ]] || name="$dir/$name"
	[[ -f $name ]] || return 1
	printf '%s\n' "$name"
}

# asan_build: set ASAN_BIN to the program under test built with
# -fsanitize=address,undefined (the program itself when it was built so
# already).  Skips, with a notice, where that cannot be done.
asan_build() {
	local src cc="${CC:-cc}"
	if LC_ALL=C nm "$SL_BIN" 2>/dev/null | grep -q '__asan_init'; then
		ASAN_BIN=$SL_BIN
		return 0
	fi
	src=$(program_source) ||
		skip "the grader cannot find your program's source to build it with AddressSanitizer, so this test cannot run here (0 points)"
	ASAN_BIN="$EVID/webclient-asan"
	if ! "$cc" -std=c11 -g -pthread -fsanitize=address,undefined -fno-sanitize-recover=all \
		-fno-omit-frame-pointer -o "$ASAN_BIN" "$src" 2>"$EVID/asan-compile.log"; then
		skip "this compiler ($cc) cannot build with -fsanitize=address,undefined here, so this test cannot run (0 points); its message is in asan-compile.log"
	fi
	if ! ASAN_OPTIONS=detect_leaks=0 "$ASAN_BIN" -h >/dev/null 2>&1; then
		skip "a program built with AddressSanitizer does not run on this machine, so this test cannot run (0 points)"
	fi
}

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
