# shellcheck shell=bash
# Self-test checks of make grade-all (grader/tools/grade-all), sourced by
# grader/tools/selftest.

# check_grade_all: a class of 10 lab 01 submissions of every kind, graded
# 2 at a time on three tests, gives the gradebook row each should, costs
# each only its own row, and leaves no process behind.
check_grade_all() {
	local subs="$ST/grade-all/submissions" csv="$ST/grade-all/gradebook.csv" mark m
	local filter='usage|server ahead|IPv6'
	rm -rf "$ST/grade-all"
	mkdir -p "$subs"/{bob,dave,ivan,judy}
	cp solutions/01-gettime/gettime.c "$subs/alice.c"
	cp grader/selftest/alt/01-gettime.c "$subs/bob/gettime.c"
	cp labs/01-gettime/starter.c "$subs/carol.c"
	patch -s -o "$subs/dave/gettime.c" solutions/01-gettime/gettime.c <grader/mutants/01-gettime/bad-usage-exit-1.patch || return 1
	patch -s -o "$subs/erin.c" solutions/01-gettime/gettime.c <grader/mutants/01-gettime/ipv4-only.patch || return 1
	cp grader/selftest/hostile/01-segfaults.c "$subs/frank.c"
	cp grader/selftest/hostile/01-escapes.c "$subs/grace.c"
	cp grader/selftest/hostile/01-does-not-compile.c "$subs/heidi.c"
	echo "my notes" >"$subs/ivan/README.txt"
	cp solutions/01-gettime/gettime.c "$subs/judy/my-clock.c"
	mark="grade-all-$$-$RANDOM"
	SL_SELFTEST_MARK="$mark" grader/tools/grade-all -j 2 -t "$filter" -o "$csv" -r "$ST/grade-all/reports" \
		01 "$subs" >"$ST/grade-all/out" 2>&1 </dev/null || {
		cat "$ST/grade-all/out"
		return 1
	}
	# student -> "score,max,status" and a pattern its verdicts must match
	local -A want=(
		[alice]="16,16,graded|^$"
		[bob]="16,16,graded|^$"
		[carol]="3,16,graded|server ahead.*: FAIL; .*IPv6.*: FAIL"
		[dave]="13,16,graded|^prints usage for -h and exits 2 on bad usage: FAIL$"
		[erin]="13,16,graded|^talks to a server on IPv6 \\(::1\\): FAIL$"
		[frank]="0,16,graded|CRASH"
		[grace]="0,16,graded|^prints usage.*: FAIL; .*: FAIL; .*: FAIL$"
		[heidi]="0,16,does not compile|FAIL"
		[ivan]="0,16,not graded: no gettime.c in the folder (it holds: README.txt)|^$"
		[judy]="16,16,graded|^$"
	)
	local bad=0 rows=0 line student rest got verdicts
	while IFS= read -r line; do
		[[ $line == student,* ]] && continue
		rows=$((rows + 1))
		student=${line%%,*} rest=${line#*,}
		got=$(cut -d, -f1-3 <<<"$rest")
		# the last field, quoted when it holds a comma
		if [[ $line == *\" ]]; then
			verdicts=${line%\"} verdicts=${verdicts##*,\"}
		else
			verdicts=${line##*,}
		fi
		if [[ -z ${want[$student]+x} ]]; then
			echo "an unexpected row: $line"; bad=1; continue
		fi
		if [[ $got != "${want[$student]%%|*}" ]]; then
			echo "$student: got '$got', expected '${want[$student]%%|*}'"; bad=1
		fi
		if ! [[ $verdicts =~ ${want[$student]#*|} ]]; then
			echo "$student: verdicts '$verdicts' do not match /${want[$student]#*|}/"; bad=1
		fi
	done <"$csv"
	((rows == 10)) || { echo "the gradebook has $rows rows, not 10"; bad=1; }
	if ! head -1 "$csv" | grep -qx 'student,score,max,status,prints usage for -h and exits 2 on bad usage,"prints the server'"'"'s date, time and clock offset (server ahead)",talks to a server on IPv6 (::1),verdicts'; then
		echo "the gradebook's header is not as expected:"; head -1 "$csv"; bad=1
	fi
	for m in alice frank grace ivan; do
		[[ -s $ST/grade-all/reports/$m.txt ]] || { echo "no report for $m"; bad=1; }
	done
	if [[ -d /proc/self ]]; then
		sleep 0.5
		m=$(processes_marked "$mark")
		if [[ -n $m ]]; then
			echo "processes left behind: $(printf '%s\n' "$m" | paste -sd' ' -)"
			# shellcheck disable=SC2086 # they were started by this run: end them by PID
			kill -KILL $m 2>/dev/null
			bad=1
		fi
	fi
	((bad)) && { cat "$csv"; return 1; }
	echo "(10 rows as expected; $(sed -n 's/^grade-all: lab 01, //p' "$ST/grade-all/out"))"
}

add "make grade-all: 10 lab 01 submissions of every kind, 2 at a time: the gradebook row by row, no process left" "check_grade_all"
