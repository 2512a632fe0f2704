# shellcheck shell=bash
# shellcheck disable=SC2034  # PORT, REPLY_*, SERVER_ARGS, ... are for the tests
# lab04.bash - helpers for lab 04's tests (the web server), on top of
# helpers.bash; loaded by grader/tests/04-webserver.bats and by any hidden
# lab 04 tests (`load ../lib/lab04`).
#
# A test reads:
#   start_web 10                                  # on $PORT, serving $SITE
#   http "GET /hello.txt HTTP/1.1\r\nHost: h\r\n\r\n"
#   expect_status 200 || return 1
#   expect_body "$SITE/hello.txt" || return 1
# http runs the grader's raw TCP client (grader/peers/tcpclient.c), which
# sends exactly the bytes given, half-closes and saves the whole reply;
# the reply is then split into its head and its body.

# A stub still in the starter is blamed for a failure only when its step
# can explain it (helpers.bash, sl_stub_applies): steps 8 to 10 (the head,
# the file, the error page) are in every reply; the log (step 11) or the
# pool (step 3) are not.
SL_STUB_BY_STEP=1
SL_STUB_ALWAYS="8 9 10"

# ---- the document root --------------------------------------------------

# Files shared by the tests of one run (the grader's evidence folder).
lab04_run_file() { printf '%s/.lab04-%s\n' "${SL_EVIDENCE:-$BATS_RUN_TMPDIR}" "$1"; }

# lab04_make_site: build, once per run, the document root the tests serve
# ($SITE) and the files around it that must never be served: a secret
# beside the root, another in a folder whose name starts like the root's,
# and symlinks from inside that lead out.  Contents come from a random
# seed, so nothing can be hard-coded.  Sets SITE, SECRET (the secret's
# text) and SITE_SEED.
lab04_make_site() {
	local base seed i
	base=$(lab04_run_file site)
	SITE="$base/site"
	if [[ -s $base/ready ]]; then
		SECRET=$(cat "$base/secret.txt")
		SITE_SEED=$(cat "$base/seed")
		return 0
	fi
	rm -rf "$base"
	mkdir -p "$SITE/notes" "$SITE/types" "$SITE/docs-out" "$SITE/empty" "$base/site-evil"
	seed=$(random_number 1 2000000000)
	SITE_SEED=$seed
	echo "$seed" >"$base/seed"
	SECRET="TOP SECRET $(random_number 100000 999999)-$(random_number 100000 999999): never served"
	printf '%s\n' "$SECRET" >"$base/secret.txt"
	printf '%s (the sibling)\n' "$SECRET" >"$base/site-evil/secret.txt"
	printf '<!DOCTYPE html>\n<html><head><title>socketlab %s</title></head>\n<body><h1>Hello from the grader, %s</h1></body></html>\n' \
		"$seed" "$((seed % 9973))" >"$SITE/index.html"
	{
		echo "Hello, this is the grader's text file $seed."
		for ((i = 1; i <= 20; i++)); do echo "line $i of 20: $((seed % (i + 7919)))"; done
	} >"$SITE/hello.txt"
	printf '<!DOCTYPE html>\n<html><body><p>notes %s</p></body></html>\n' "$((seed % 7907))" >"$SITE/notes/index.html"
	printf 'a note %s\n' "$((seed % 7901))" >"$SITE/notes/a.txt"
	printf 'a file with a space in its name, %s\n' "$((seed % 7883))" >"$SITE/my notes.txt"
	"$SL_PEERS/datagen" "$((seed + 1))" 204800 >"$SITE/photo.bin"
	"$SL_PEERS/datagen" "$((seed + 2))" 16384 >"$SITE/page16k.bin"
	"$SL_PEERS/datagen" "$((seed + 5))" 262144 >"$SITE/page256k.bin" # 100 clients at once, each reading slowly
	"$SL_PEERS/datagen" "$((seed + 3))" 100000 >"$SITE/short.bin" # > 64 KiB: past a first buffer
	"$SL_PEERS/datagen" "$((seed + 4))" 5242880 >"$SITE/big5m.bin"
	for i in html htm txt css js json png jpg jpeg gif svg ico pdf xyz; do
		printf 'a .%s file, %s\n' "$i" "$seed" >"$SITE/types/t.$i"
	done
	printf 'no extension, %s\n' "$seed" >"$SITE/types/README"
	printf 'a legal name with two dots in it, %s\n' "$((seed % 7879))" >"$SITE/a..b.txt"
	mkfifo "$SITE/fifo" 2>/dev/null || true
	ln -s ../secret.txt "$SITE/link-out"
	ln -s .. "$SITE/dir-out"
	ln -s ../site-evil/secret.txt "$SITE/link-sibling"
	ln -s ../../secret.txt "$SITE/docs-out/index.html"
	ln -s ../site-evil "$SITE/evil-dir"
	# A file dated the epoch itself (mtime 0) has a Last-Modified too.
	printf 'a file dated 1 January 1970, %s\n' "$((seed % 7877))" >"$SITE/epoch.txt"
	touch -d @0 "$SITE/epoch.txt"
	# Last-Modified must be the file's own time: a random day in the past.
	touch -d "@$(random_number 1000000000 1600000000)" "$SITE/hello.txt"
	touch -d "@$(random_number 1000000000 1600000000)" "$SITE/index.html"
	echo ready >"$base/ready"
}

# lab04_head_of_size N: a GET /hello.txt request head of exactly N bytes,
# its blank line included (N >= 60), written with tcpclient's escapes.
lab04_head_of_size() {
	local n="$1" fixed=42 rest line="" i=0 x
	rest=$((n - fixed - 2))
	x=$(printf '%067d' 0)
	local out="GET /hello.txt HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n"
	while ((rest >= 80 + 16)); do
		printf -v line 'X-Pad-%03d: %s\\r\\n' "$i" "$x"
		out+=$line
		rest=$((rest - 80))
		i=$((i + 1))
	done
	# the last field: "X-Pad-last: " (12) + fill + CRLF (2)
	out+="X-Pad-last: $(printf '%0*d' "$((rest - 14))" 0)\\r\\n\\r\\n"
	printf '%s\n' "$out"
}

# ---- starting the server ------------------------------------------------

# start_web [--valgrind] [--nofile N] [--shortio SPEC] [--root DIR]
# SECONDS [ARGS...]: start the program under test for at most SECONDS on a
# free port of 127.0.0.1, serving $SITE (or DIR), with -t 30 unless ARGS
# has a -t; wait until it accepts.  Sets PORT and SERVER_ARGS.  Tries a
# second port if another program took the first one meanwhile.
start_web() {
	local opts=() try root="$SITE" args
	while [[ $1 == --* ]]; do
		case $1 in
		--valgrind) opts+=(--valgrind); shift ;;
		--nofile | --shortio) opts+=("$1" "$2"); shift 2 ;;
		--root) root="$2"; shift 2 ;;
		*) echo "start_web: unknown option $1" >&2; return 2 ;;
		esac
	done
	local seconds="$1"
	shift
	for try in 1 2; do
		PORT=$(free_port)
		args=(-p "$PORT" -r "$root")
		[[ " $* " == *" -t "* ]] || args+=(-t 30)
		args+=("$@")
		SERVER_ARGS="${args[*]}"
		WEB_ROOT=$root
		if start_server "${opts[@]}" "$seconds" "$PORT" -- "$SL_BIN" "${args[@]}"; then
			return 0
		fi
		if ((try == 2)) || ! grep -qi "in use" "$EVID/server.stderr" 2>/dev/null; then
			return 1
		fi
		rm -f "$EVID/message" "$EVID/verdict"
	done
}

# server_main_pid: the PID of the program under test (contain's child).
server_main_pid() {
	ps -A -o pid=,ppid=,pgid= |
		awk -v p="$SERVER_PID" '$2 == p && $1 == $3 { print $1; exit }'
}

# server_threads: how many threads the server's main process has (from
# /proc; 0 where there is none or it has gone).
server_threads() {
	local main
	main=$(server_main_pid)
	[[ -n $main && -r /proc/$main/status ]] || { echo 0; return; }
	awk '/^Threads:/ { print $2; found = 1 } END { if (!found) print 0 }' "/proc/$main/status" 2>/dev/null || echo 0
}

# lab04_teardown: stop the server at once (SIGTERM to its group, SIGKILL
# a moment later), then everything else; remove any 1 GiB file.
lab04_teardown() {
	local main i
	if [[ -n ${SERVER_PID:-} ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
		main=$(server_main_pid)
		if [[ -n $main ]]; then
			kill -TERM -- "-$main" 2>/dev/null
			for ((i = 0; i < 6; i++)); do
				kill -0 "$main" 2>/dev/null || break
				sleep 0.05
			done
			kill -KILL -- "-$main" 2>/dev/null
		fi
	fi
	sl_teardown
	rm -rf "${EVID:?}/huge" 2>/dev/null
	return 0
}

# ---- one request --------------------------------------------------------

# The reproduce lines for a request: how to start the server by hand, and
# the client command (printf-escaped REQUEST).
reproduce() {
	local req="$1"
	shift
	echo "to try it by hand: ./build/labs/04-webserver/webserver${SERVER_ARGS:+ $SERVER_ARGS} &"
	echo "  ./build/peers/tcpclient -H$(shell_words "$@") -m $(shell_word "$req") -o reply.txt 127.0.0.1 $PORT; cat reply.txt"
}

# http [--seconds S] REQUEST [TCPCLIENT-OPTIONS...]: send REQUEST (with
# tcpclient's escapes \r \n \xNN) to the server, half-close, read the
# reply until the server closes (at most S seconds, default 3, scaled).
# Sets REQ (the request as given), REPLY (the whole reply's file),
# REPLY_HEAD (its head, up to the blank line, CRs removed), REPLY_BODY
# (the bytes after the blank line), STATUS (the code, or "" if the reply
# has no status line), REPLY_END (how the connection ended: tcpclient's
# closed-by-server, timeout, ...) and REPLY_LINE (the client's line).
http() {
	local secs=3 name line=""
	if [[ $1 == --seconds ]]; then
		secs="$2"
		shift 2
	fi
	REQ="$1"
	shift
	SL_HTTP_N=$((${SL_HTTP_N:-0} + 1))
	name="$EVID/reply-$SL_HTTP_N"
	REPLY="$name.bin" REPLY_HEAD="$name.head" REPLY_BODY="$name.body"
	REPLY_OPTS=("$@")
	printf '%s\n' "$REQ" >"$name.request"
	# contain's limit is 0.5 s past the client's own, so that a client
	# that times out says so (REPLY_END timeout) rather than being killed.
	"$SL_PEERS/contain" -t "$(awk -v t="$(scaled "$secs" 1 1)" 'BEGIN { print t + 0.5 }')" -k 0.2 -s "$name.status" -- \
		"$SL_PEERS/tcpclient" -H -C "$(ms 3)" -t "$(ms "$secs")" -l 60 -L "$name.log" \
		-o "$REPLY" "$@" -m "$REQ" 127.0.0.1 "$PORT" \
		</dev/null >"$name.out" 2>"$name.err" 3>&- 4>&- || true
	REPLY_LINE="" REPLY_END=""
	while IFS= read -r line; do
		[[ $line == "conn "* ]] && { REPLY_LINE=$line; break; }
	done <"$name.out"
	[[ $REPLY_LINE =~ ^conn\ [0-9]+:\ sent\ [0-9]+\ received\ [0-9]+\ ([a-z-]+)\ after ]] && REPLY_END=${BASH_REMATCH[1]}
	[[ -f $REPLY ]] || : >"$REPLY"
	split_reply "$REPLY" "$REPLY_HEAD" "$REPLY_BODY"
	STATUS="" line=""
	IFS= read -r line <"$REPLY_HEAD" || true
	[[ $line =~ ^HTTP/[0-9.]+\ ([0-9]{3})(\ |$) ]] && STATUS=${BASH_REMATCH[1]}
	return 0
}

# split_reply FILE HEAD BODY: the head of FILE (up to its first blank
# line, CRs removed) into HEAD, the bytes after the blank line into BODY.
# A reply without a blank line is all head.
split_reply() {
	local off
	off=$(LC_ALL=C awk 'BEGIN { RS = "\r\n\r\n" } NR == 1 { print length($0); exit }' "$1" 2>/dev/null)
	if [[ -n $off ]] && [[ $(od -An -tx1 -j "$off" -N4 "$1" 2>/dev/null) == " 0d 0a 0d 0a" ]]; then
		head -c "$off" "$1" | tr -d '\r' >"$2"
		echo >>"$2"
		tail -c +"$((off + 5))" "$1" >"$3"
	else
		tr -d '\r' <"$1" >"$2"
		: >"$3"
	fi
}

# header NAME: the value of the reply's first NAME field (any case), its
# blanks trimmed; fails if there is none.
header() {
	local v
	v=$(awk -v n="$(tr '[:upper:]' '[:lower:]' <<<"$1")" 'NR > 1 {
		i = index($0, ":"); if (i == 0) next
		if (tolower(substr($0, 1, i - 1)) == n) { v = substr($0, i + 1); sub(/^[ \t]+/, "", v); sub(/[ \t]+$/, "", v); print v; found = 1; exit }
	} END { exit !found }' "$REPLY_HEAD") || return 1
	printf '%s\n' "$v"
}

# media_type: the reply's Content-Type without its parameters, lower case.
media_type() {
	header Content-Type 2>/dev/null | sed 's/;.*//; s/[[:space:]]*$//' | tr '[:upper:]' '[:lower:]'
}

# reply_said [MAX]: what came back, for a message: the reply's head (and
# the start of its body), or how the connection ended if nothing came.
reply_said() {
	local size
	size=$(wc -c <"$REPLY" | tr -d ' ')
	if ((size == 0)); then
		echo "got: nothing ($REPLY_LINE)"
		return 0
	fi
	echo "got ($size bytes; the head, then the start of the body; all of it is $(basename "$REPLY") in the evidence folder):"
	show "$REPLY_HEAD" 900
	if [[ -s $REPLY_BODY ]]; then
		echo "  body:"
		show "$REPLY_BODY" 300
	fi
	[[ $REPLY_END == closed-by-server ]] || echo "  (the connection: $REPLY_LINE)"
	return 0
}

# sent_said: the request as it was sent, for a message.
sent_said() {
	local shown="$REQ"
	((${#shown} > 300)) && shown="${shown:0:300}... (${#REQ} characters as typed; the whole request is $(basename "${REPLY%.bin}").request in the evidence folder)"
	echo "sent:     $shown"
}

# fail_reply VERDICT EXPECTED [LINE...]: fail, showing the request, what
# was EXPECTED, the reply, LINEs, the server's state and how to reproduce.
fail_reply() {
	local v="$1" expected="$2"
	shift 2
	[[ $REPLY_END == timeout && $v == FAIL ]] && v=TIME
	fail "$v" "$(sent_said)" "expected: $expected" "$(reply_said)" "$@" \
		"$(server_state)" "$(reproduce "$REQ" "${REPLY_OPTS[@]}")"
}

# expect_status CODE...: the reply's status is one of the CODEs.
expect_status() {
	local c
	for c in "$@"; do
		[[ $STATUS == "$c" ]] && return 0
	done
	local want="status $1"
	(($# > 1)) && want="status $(printf '%s or ' "$@" | sed 's/ or $//')"
	if [[ -z $STATUS ]] && [[ -s $REPLY ]]; then
		fail_reply FAIL "a reply starting 'HTTP/1.1 $1 ...' (an HTTP status line)" \
			"the first line of the reply is no HTTP status line (HTTP/1.x CODE REASON)"
	elif [[ -z $STATUS ]]; then
		fail_reply FAIL "a reply with $want"
	else
		fail_reply FAIL "$want" "the reply's status is $STATUS"
	fi
}

# expect_body FILE: the reply's body is FILE's bytes exactly.
expect_body() {
	local diff
	cmp -s "$1" "$REPLY_BODY" && return 0
	diff=$(first_difference "$1" "$REPLY_BODY")
	local at
	at=$(sed -n 's/^first difference at byte \([0-9]*\).*/\1/p' <<<"$diff")
	fail_reply FAIL "the body is the $(wc -c <"$1" | tr -d ' ') bytes of $(basename "$1")" \
		"the body has $(wc -c <"$REPLY_BODY" | tr -d ' ') bytes; $diff" \
		${at:+"expected, around byte $at:"} ${at:+"$(hexdump_at "$1" "$at")"} \
		${at:+"received, around byte $at:"} ${at:+"$(hexdump_at "$REPLY_BODY" "$at")"}
}

# server_state: one line on how the server under test is doing.
server_state() {
	local st
	if server_alive; then
		echo "(the server is still running; its stderr is server.stderr in the evidence folder)"
		return
	fi
	st=$(cat "$EVID/server.status" 2>/dev/null)
	case $st in
	signal*) echo "the server is gone: it was killed by ${st#signal }" ;;
	exit*) echo "the server is gone: it exited (${st}); its stderr:"; show "$EVID/server.stderr" 400 ;;
	timeout) echo "the server is gone: the grader stopped it at its time limit" ;;
	*) echo "the server is gone" ;;
	esac
}

# expect_alive WHAT: the server is still running after WHAT.
expect_alive() {
	server_alive && return 0
	fail "$(grep -q '^signal' "$EVID/server.status" 2>/dev/null && echo CRASH || echo FAIL)" \
		"the server died after $1" "$(server_state)" "its stderr:" "$(show "$EVID/server.stderr" 600)"
}

# http_date_ok TEXT: TEXT is an HTTP date, "Sun, 06 Nov 1994 08:49:37 GMT".
http_date_ok() {
	[[ $1 =~ ^(Mon|Tue|Wed|Thu|Fri|Sat|Sun),\ [0-9]{2}\ (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\ [0-9]{4}\ [0-9]{2}:[0-9]{2}:[0-9]{2}\ GMT$ ]]
}

# epoch_of HTTPDATE: seconds since 1970 (GNU or BSD date); "" if unknown.
epoch_of() {
	date -u -d "$1" +%s 2>/dev/null || date -u -j -f '%a, %d %b %Y %H:%M:%S GMT' "$1" +%s 2>/dev/null
}

# fd_count PID: how many descriptors PID has open (Linux /proc); "" if unknown.
fd_count() {
	[[ -d /proc/$1/fd ]] || return 0
	find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l | tr -d ' '
}

# group_fd_count PID: how many descriptors the processes of PID's process
# group hold in all (a server that forks a child per client counts its
# children's too); "" if unknown.
group_fd_count() {
	[[ -d /proc/$1/fd ]] || return 0
	local p n=0
	for p in $(ps -A -o pid=,pgid= | awk -v g="$1" '$2 == g { print $1 }'); do
		n=$((n + $(find "/proc/$p/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)))
	done
	echo "$n"
}

# rss_kb PID: PID's resident memory in KiB (VmRSS); "" if unknown.
rss_kb() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$1/status" 2>/dev/null; }

# ---- the valgrind run, in the background ---------------------------------

# lab04_valgrind_start [helgrind]: in setup_file, start the server under
# valgrind (memcheck; or its race detector, helgrind) and a driver that
# sends it its requests, then stops it; all in $(lab04_run_file valgrind)
# (or helgrind), which lab04_valgrind_collect copies into the test's
# evidence folder.  (Valgrind takes seconds to start: in the background
# they overlap the other tests.)
lab04_valgrind_start() {
	local tool="${1:-valgrind}" d
	d=$(lab04_run_file "$tool")
	rm -rf "$d"
	mkdir -p "$d"
	[[ -n ${SL_VALGRIND:-} ]] || return 0
	lab04_valgrind_drive "$d" "$tool" </dev/null >"$d/driver.out" 2>"$d/driver.err" 3>&- 4>&- &
	echo $! >"$d/driver.pid"
}

# lab04_valgrind_drive DIR TOOL: the driver (a background subshell).
# Memcheck gets 9 requests of every kind, one after another; helgrind 60
# clients 20 at a time (threads at work side by side) and 5 404s.
lab04_valgrind_drive() {
	# a background subshell of setup_file, where bats sets errexit: a
	# command that fails here (a kill of a server that has ended) must
	# not end the driver before it writes DIR/done
	set +e
	EVID="$1" SL_SERVERS=()
	local tool="$2"
	PORT=$(free_port) WEB_ROOT=$SITE
	SERVER_ARGS="-p $PORT -r $SITE -t 30"
	start_server "--$tool" --no-wait 60 "$PORT" -- "$SL_BIN" -p "$PORT" -r "$SITE" -t 30
	echo "$SERVER_PID" >"$EVID/server.pid"
	printf '%s\n' "$PORT" >"$EVID/port"
	printf '%s\n' "$SERVER_ARGS" >"$EVID/server.args"
	local waited=0
	"$SL_PEERS/porttool" wait 127.0.0.1 "$PORT" "$(ms 10)" "$SERVER_PID" || waited=$?
	if ((waited == 0)) && [[ $tool == helgrind ]]; then
		get --seconds 8 /hello.txt
		"$SL_PEERS/tcpclient" -c 20 -k 3 -H -q -t "$(ms 20)" -m 'GET /page16k.bin HTTP/1.0\r\n\r\n' \
			127.0.0.1 "$PORT" >"$EVID/crowd.out" 2>&1
		"$SL_PEERS/tcpclient" -c 5 -H -q -t "$(ms 10)" -m 'GET /missing.txt HTTP/1.0\r\n\r\n' \
			127.0.0.1 "$PORT" >>"$EVID/crowd.out" 2>&1
		sleep 0.3
	elif ((waited == 0)); then
		get --seconds 8 /hello.txt
		get --seconds 8 /notes
		get --seconds 8 /notes/
		get --seconds 8 /missing.txt
		get --seconds 8 /../secret.txt
		http --seconds 8 "HEAD /photo.bin HTTP/1.0\\r\\n\\r\\n"
		http --seconds 8 "HELLO\\r\\n\\r\\n"
		http --seconds 8 "GET /big5m.bin HTTP/1.0\\r\\n\\r\\n" -X 70000
		get --seconds 8 /photo.bin
		sleep 0.3
	elif ((waited == 3)); then
		sleep 0.2 # contain writes the status as it ends
		echo "the server under valgrind exited ($(cat "$EVID/server.status" 2>/dev/null)) before it accepted a connection on 127.0.0.1:$PORT" >"$EVID/start.out"
	else
		echo "the server under valgrind did not accept connections on 127.0.0.1:$PORT within $(scaled 10) s" >"$EVID/start.out"
	fi
	stop_process "$SERVER_PID"
	echo finished >"$EVID/done"
}

# lab04_valgrind_stop [helgrind]: in teardown_file, end the driver and its
# server if they are still there (the server's contain ends valgrind with
# it).
lab04_valgrind_stop() {
	local d pid i
	d=$(lab04_run_file "${1:-valgrind}")
	pid=$(cat "$d/driver.pid" 2>/dev/null)
	[[ -n $pid ]] || return 0
	for ((i = 0; i < 20; i++)); do
		[[ -s $d/server.pid ]] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -TERM "$pid" 2>/dev/null || true
	pid=$(cat "$d/server.pid" 2>/dev/null)
	[[ -n $pid ]] && kill -TERM "$pid" 2>/dev/null
	return 0
}

# get PATH: an HTTP/1.1 GET of PATH (the valgrind driver's; the tests
# have their own, with options).
declare -F get >/dev/null || get() {
	local pre=()
	[[ $1 == --seconds ]] && pre=("$1" "$2") && shift 2
	http "${pre[@]}" "GET $1 HTTP/1.1\\r\\nHost: 127.0.0.1:$PORT\\r\\n\\r\\n"
}

# lab04_valgrind_collect [helgrind]: wait for the background valgrind run,
# copy its files into the test's evidence folder, and set what the helpers
# need (SERVER_PID, PORT, REPLY... of its first request).
lab04_valgrind_collect() {
	local d i limit
	d=$(lab04_run_file "${1:-valgrind}")
	limit=$(awk -v s="$(scaled 60)" 'BEGIN { print int(s * 20) }')
	for ((i = 0; i < limit; i++)); do
		[[ -e $d/done ]] && break
		sleep 0.05
	done
	cp -r "$d"/. "$EVID"/ 2>/dev/null
	if [[ ! -e $d/done ]]; then
		fail TIME "the server under valgrind and its requests did not finish within $(scaled 60) s" \
			"its stderr:" "$(show "$EVID/server.stderr")"
		return 1
	fi
	if [[ -s $d/start.out ]]; then
		fail FAIL "$(cat "$d/start.out")" "its stderr:" "$(show "$EVID/server.stderr")"
		return 1
	fi
	SERVER_PID=$(cat "$d/server.pid") PORT=$(cat "$d/port") SERVER_ARGS=$(cat "$d/server.args")
	REQ=$(cat "$EVID/reply-1.request") REPLY="$EVID/reply-1.bin"
	REPLY_HEAD="$EVID/reply-1.head" REPLY_BODY="$EVID/reply-1.body" REPLY_OPTS=()
	REPLY_LINE=$(grep -m1 '^conn ' "$EVID/reply-1.out" 2>/dev/null) REPLY_END=""
	STATUS=$(head -1 "$REPLY_HEAD" 2>/dev/null | sed -n 's|^HTTP/[0-9.]* \([0-9][0-9][0-9]\).*|\1|p')
	rm -f "$EVID/message" "$EVID/verdict"
	return 0
}

# ---- root causes ---------------------------------------------------------

# lab_diagnose: called by fail (helpers.bash) when a test fails: name the
# root cause where the evidence shows it beyond doubt.
lab_diagnose() {
	local err="$EVID/server.stderr" st n
	st=$(cat "$EVID/server.status" 2>/dev/null)
	if [[ $st == "signal SIGPIPE" ]]; then
		cause "the server was killed by SIGPIPE when a client had gone: keep signal(SIGPIPE, SIG_IGN) in main() (step 3), so that send() fails with EPIPE instead"
		return 0
	fi
	if [[ -f $err ]]; then
		n=$(grep -c 'Too many open files' "$err" 2>/dev/null || true)
		if ((n > 0)); then
			cause "the server ran out of descriptors ('Too many open files' $n times on stderr): close the file on every path (steps 7 and 9) and every connection once it is answered"
			return 0
		fi
	fi
	if [[ -f $EVID/server.stdout && ! -s $EVID/server.stdout ]] && [[ $BATS_TEST_DESCRIPTION == *"ready line"* || $BATS_TEST_DESCRIPTION == *"addresses"* ]] && server_alive; then
		cause "nothing on stdout while the server runs: fflush(stdout) right after printing the ready line (step 2)"
		return 0
	fi
	if [[ $st == signal* && $st != *SIGTERM* && $st != *SIGKILL* ]]; then
		cause "the server crashed (${st#signal }): run it under valgrind or with -fsanitize=address to see the line"
		return 0
	fi
	return 0
}
