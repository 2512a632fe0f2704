# shellcheck shell=bash
# checks-classroom.bash - the self-test's check of make classroom (the class
# exchange in a virtual room of network namespaces, grader/tools/classroom),
# sourced by grader/tools/selftest: it defines check_classroom and adds it.
# Runs in the kit's root, with $ST.  Linux and root only: SKIP elsewhere.

# shellcheck source=../lib/room.bash
source grader/lib/room.bash

# classroom_links: the names of this namespace's links, sorted (the room
# must leave this list as it found it).
classroom_links() {
	ip -o link show 2>/dev/null | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | sort
}

# classroom_left OWNER MARK: what a run of PID OWNER, started with
# SL_SELFTEST_MARK=MARK, left: its namespaces and its processes, a line
# each (waits up to 3 s for processes that are ending).
classroom_left() {
	local i left
	for ((i = 0; i < 60; i++)); do
		left=$(processes_marked "$2")
		[[ -z $left ]] && break
		sleep 0.05
	done
	room_leftovers "$1"
	[[ -n $left ]] && ps -o pid=,args= -p "$(printf '%s\n' "$left" | paste -sd, -)" 2>/dev/null | sed 's/^/process /'
	return 0
}

# nothing_left OWNER MARK WHEN: true if the run OWNER (its processes
# marked MARK) left nothing; else says what, WHEN ("after SIGINT").
nothing_left() {
	local left
	left=$(classroom_left "$1" "$2")
	[[ -z $left ]] && return 0
	echo "$3, left behind:"
	printf '%s\n' "$left" | sed 's/^/  /'
	return 1
}

# classroom_bg OUT MARK ARGS...: start the tool in the background with job
# control on, so that it can be sent SIGINT (a non-interactive shell's
# background jobs ignore it otherwise); sets CR_PID.
classroom_bg() {
	local out="$1" mark="$2"
	shift 2
	set -m
	SL_SELFTEST_MARK="$mark" grader/tools/classroom "$@" </dev/null >"$out" 2>&1 &
	CR_PID=$!
	set +m
}

# classroom_wait PID SECONDS: wait for PID to end (SIGKILL after SECONDS);
# sets CR_RC.
classroom_wait() {
	local i
	for ((i = 0; i < $2 * 20; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$1" 2>/dev/null && kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	CR_RC=$?
}

# classroom_until FILE TEXT SECONDS: wait until FILE holds TEXT.
classroom_until() {
	local i
	for ((i = 0; i < $3 * 20; i++)); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# check_classroom: a room of 8 (every fault: absent, stalled, on 127.0.0.1
# only, no route, firewalled, slow) shows the status each fault makes, and
# leaves no namespace, link or process; nor does a run stopped by SIGINT
# midway; a run killed by SIGKILL leaves its room, and the next run
# removes it.
check_classroom() {
	local why mark links_before owner out="$ST/classroom.out" left name fault want st bad=0 ran
	if ! why=$(room_can); then
		echo "(SKIP: $why, so the room cannot be made here)"
		return 77
	fi
	links_before=$(classroom_links)

	# 1. a whole run
	mark="classroom-$$-$RANDOM"
	classroom_bg "$out" "$mark" -n 8 -d "$ST/classroom"
	owner=$CR_PID
	classroom_wait "$owner" 40
	if ((CR_RC != 0)); then
		echo "make classroom N=8 exited $CR_RC; it printed:"
		sed 's/^/  | /' "$out"
		bad=1
	fi
	while read -r name fault want; do
		st=$(awk -v n="$name" '$1 == n && NF >= 5 { print $3 }' "$ST/classroom/table.txt")
		if [[ $st != "$want" ]]; then
			echo "seat $name ($fault): expected $want, the table says ${st:-nothing}"
			bad=1
		fi
	done <"$ST/classroom/faults.txt"
	ran=$(awk '$2 != "present" { print $2 }' "$ST/classroom/faults.txt" | sort | paste -sd' ' -)
	if [[ $ran != "absent firewalled loopback noroute slow stalled" ]]; then
		if [[ $ran == "absent loopback noroute slow stalled" ]] && ! command -v nft >/dev/null; then
			echo "(notice: nft is not installed, so the firewalled seat was skipped: apt-get install nftables)"
		else
			echo "the faults staged were \"$ran\", expected all six"
			bad=1
		fi
	fi
	nothing_left "$owner" "$mark" "after the run" || bad=1

	# 2. SIGINT midway: while exchange runs (a stalled seat holds it 3 s)
	mark="classroom-int-$$-$RANDOM"
	classroom_bg "$ST/classroom-int.out" "$mark" -n 6 -d "$ST/classroom-int"
	owner=$CR_PID
	if classroom_until "$ST/classroom-int.out" '^roster:' 15; then
		sleep 0.5
		[[ -n $(room_names "$owner") ]] || { echo "SIGINT run: its room was gone before the signal"; bad=1; }
		kill -INT "$owner" 2>/dev/null
	else
		echo "SIGINT run: the room never came up; it printed:"
		sed 's/^/  | /' "$ST/classroom-int.out"
		bad=1
	fi
	classroom_wait "$owner" 10
	((CR_RC == 130)) || { echo "SIGINT run: exit $CR_RC, expected 130"; bad=1; }
	nothing_left "$owner" "$mark" "after SIGINT" || bad=1

	# 3. SIGKILL midway: the room stays; the next run removes it
	mark="classroom-kill-$$-$RANDOM"
	classroom_bg "$ST/classroom-kill.out" "$mark" -n 6 -d "$ST/classroom-kill"
	owner=$CR_PID
	classroom_until "$ST/classroom-kill.out" '^roster:' 15
	kill -KILL "$owner" 2>/dev/null
	classroom_wait "$owner" 5
	if [[ -z $(room_names "$owner") ]]; then
		echo "SIGKILL run: no room was left to remove (it did not come up?); it printed:"
		sed 's/^/  | /' "$ST/classroom-kill.out"
		bad=1
	fi
	SL_SELFTEST_MARK="$mark" grader/tools/classroom -c >"$ST/classroom-clean.out" 2>&1 </dev/null
	if ! grep -q "removed what an interrupted room left (owner [0-9 ]*$owner" "$ST/classroom-clean.out"; then
		echo "the next run did not say it removed the killed run's room; it printed:"
		sed 's/^/  | /' "$ST/classroom-clean.out"
		bad=1
	fi
	nothing_left "$owner" "$mark" "after SIGKILL and the next run" || bad=1

	if [[ $(classroom_links) != "$links_before" ]]; then
		echo "the links of this namespace changed:"
		diff <(printf '%s\n' "$links_before") <(classroom_links) | sed 's/^/  /'
		bad=1
	fi
	((bad == 0)) || return 1
	echo "($(grep -m1 '^exchange took' "$out" | cut -d';' -f1); every fault as expected; nothing left after a run, SIGINT, SIGKILL)"
}

add "make classroom N=8: every fault seat shows its status; no namespace, link or process left (also after SIGINT and SIGKILL)" "check_classroom"
