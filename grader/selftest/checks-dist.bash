# shellcheck shell=bash
# checks-dist.bash - the self-test's checks of make dist (the student kit),
# sourced by grader/tools/selftest: it defines check_* functions and adds
# them.  Runs in the kit's root, with $ST.

# A quick test or two of each lab that an untouched starter fails and a
# correct program passes (TEST= regexes: make grade runs only those).
declare -A DIST_QUICK=(
	[01-gettime]='server ahead'
	[02-webclient]='sends GET PATH'
	[03-echoserver]='echoes the lecture'
	[04-webserver]='serves an HTML and a text file'
	[05-class-exchange]='class that is all present'
)

# dist_unpack DIR: make dist, its tarball unpacked in DIR (DIR/socketlab).
dist_unpack() {
	rm -rf "$1"
	mkdir -p "$1"
	# its own build folder: checks run side by side
	if ! make -s BUILD="$1.build" dist >"$1.make.log" 2>&1; then
		echo "make dist failed:"
		tail -20 "$1.make.log"
		return 1
	fi
	tar -xzf "$1.build/dist/socketlab.tar.gz" -C "$1" || { echo "the tarball does not unpack"; return 1; }
	[[ -f $1/socketlab/Makefile ]] || { echo "the tarball has no socketlab/Makefile"; return 1; }
}

# dist_solution_lines KIT: print each kit file that holds 4 consecutive
# lines of a step body of a solution (the code between SOLUTION BEGIN and
# SOLUTION END; whitespace trimmed, comment lines and lone braces left
# out), with those lines.  Four lines that a solution also has outside
# its step bodies are given code (a starter carries it: lab 04's is lab
# 03's accept loop), not a solution's.  The grader's peers are C the
# handouts send students to read and are not searched.
dist_solution_lines() {
	local kit="$1" files=() sols=()
	mapfile -t sols < <(find solutions -name '*.c' | sort)
	mapfile -t files < <(cd "$kit" && find . -type f ! -path './build/*' ! -path './grader/peers/*' -exec grep -Il . {} + | sed 's|^\./||' | sort)
	((${#files[@]})) || return 0
	awk -v nsol="${#sols[@]}" -v kit="$kit/" '
		# a line that counts: code, not a comment line or lone punctuation
		function trim(s) {
			gsub(/^[ \t]+|[ \t\r]+$/, "", s)
			if (s ~ /^(\/\*|\*|\/\/)/ || s ~ /^[{}();,]*$/) return ""
			return s
		}
		FNR == 1 { n = 0; inside = 0; fileno++ }
		fileno <= nsol {
			if ($0 ~ /\/\* SOLUTION BEGIN \*\//) { inside = 1; n = 0; next }
			if ($0 ~ /\/\* SOLUTION END/) { inside = 0; ending = ($0 !~ /\*\/[ \t]*$/); n = 0; next }
			if (ending) { if ($0 ~ /^[ \t]*\*\/[ \t]*$/ || $0 !~ /^[ \t]*\*/) ending = 0; next }
			l = trim($0)
			if (l == "") next
			w[++n] = l
			if (n < 4) next
			k = w[n-3] "\n" w[n-2] "\n" w[n-1] "\n" w[n]
			if (inside) win[k] = FILENAME; else given[k] = 1
			next
		}
		fileno == nsol + 1 && FNR == 1 { for (k in given) delete win[k] }
		{
			l = trim($0)
			if (l == "") next
			w[++n] = l
			if (n < 4) next
			k = w[n-3] "\n" w[n-2] "\n" w[n-1] "\n" w[n]
			if ((k in win) && !(FILENAME in told)) {
				told[FILENAME] = 1
				f = FILENAME; sub("^" kit, "", f)
				printf "%s:%d holds 4 lines of a step body of %s:\n", f, FNR, win[k]
				gsub(/\n/, "\n    ", k)
				print "    " k
			}
		}
	' "${sols[@]}" "${files[@]/#/$kit/}"
}

# dist_grade_lab KIT LAB DIR: make grade LAB in KIT on its starter (below
# full marks) and on the solution (full marks), the lab's quick tests
# only; prints what went wrong, nothing when all is right.
dist_grade_lab() {
	local kit="$1" lab="$2" dir="$3" sol prog regex out rc score
	prog=$(grader/tools/labname -p "$lab")
	sol="solutions/$lab/$prog.c"
	regex="${DIST_QUICK[$lab]:-}"
	if [[ -z $regex ]]; then
		echo "$lab: no quick test named for it in checks-dist.bash (DIST_QUICK)"
		return
	fi
	rc=0
	out=$(cd "$kit" && make -s grade LAB="$lab" TEST="$regex" 2>&1) || rc=$?
	score=$(sed -n 's/.*Score: \([0-9]*\/[0-9]*\).*/\1/p' <<<"$out" | tail -1)
	if [[ -z $score || ${score%/*} -ge ${score#*/} ]]; then
		echo "$lab: make grade TEST='$regex' on the kit's starter: expected below full marks, got '${score:-no score}' (exit $rc):"
		printf '%s\n' "$out" | tail -8 | sed 's/^/  | /'
	fi
	mkdir -p "$dir/sub/$lab"
	cp "$sol" "$dir/sub/$lab/$prog.c"
	rc=0
	out=$(cd "$kit" && make -s grade LAB="${lab%%-*}" SRC="$dir/sub/$lab/$prog.c" TEST="$regex" 2>&1) || rc=$?
	score=$(sed -n 's/.*Score: \([0-9]*\/[0-9]*\).*/\1/p' <<<"$out" | tail -1)
	if ((rc != 0)) || [[ -z $score || ${score%/*} -ne ${score#*/} ]]; then
		echo "$lab: make grade SRC=(the solution) TEST='$regex' in the kit: expected full marks, got '${score:-no score}' (exit $rc):"
		printf '%s\n' "$out" | tail -12 | sed 's/^/  | /'
	fi
}

check_dist() {
	local dir="$ST/dist" kit bad=0 lab sol out rc left f
	dist_unpack "$dir" || return 1
	kit="$dir/socketlab"

	# what it must not hold
	left=$(cd "$kit" && find . \( -path './solutions*' -o -path '*/mutants*' -o -name '*.patch' \
		-o -path './grader/tests/hidden*' -o -path './grader/selftest*' -o -path './.ci*' \
		-o -path './grader/fuzz*' -o -name 'AUTHORING.md' -o -path './grader/tools/selftest' \
		-o -path './grader/tools/mkstarter' -o -path './grader/tools/gradescope' -o -path './grader/gradescope*' \) -print)
	if [[ -n $left ]]; then
		echo "the kit holds solutions, mutants, hidden tests, self-test or instructor material:"
		printf '  %s\n' "$left" | head -20
		bad=1
	fi
	if grep -rlF 'SOLUTION BEGIN' "$kit" >/dev/null; then
		echo "a kit file holds a SOLUTION BEGIN marker: $(grep -rlF 'SOLUTION BEGIN' "$kit" | head -3)"
		bad=1
	fi
	# (the search itself finds a step body planted in a copy of a starter)
	mkdir -p "$dir/planted/labs"
	sed -n '/SOLUTION BEGIN \*\//,/SOLUTION END/p' solutions/01-gettime/gettime.c | grep -v 'SOLUTION ' >"$dir/planted/labs/starter.c"
	if [[ -z $(dist_solution_lines "$dir/planted") ]]; then
		echo "the search for a solution's lines misses a step body planted in $dir/planted/labs/starter.c"
		bad=1
	fi
	out=$(dist_solution_lines "$kit")
	if [[ -n $out ]]; then
		echo "the kit holds a solution's lines:"
		printf '%s\n' "$out" | head -30
		bad=1
	fi

	# its README speaks to a student
	if grep -nE 'make test|For instructors|instructor-only|<!-- instructor|solutions/|mutant|self-test|AUTHORING' "$kit/README.md"; then
		echo "^ the kit's README speaks to an instructor (or shows an instructor-only marker)"
		bad=1
	fi
	grep -q 'make grade LAB=' "$kit/README.md" || { echo "the kit's README does not say how to grade (make grade LAB=)"; bad=1; }

	# its own make builds every starter and peer; an instructor's target says what it is
	if ! make -s -C "$kit" >"$dir/make.log" 2>&1; then
		echo "make in the kit failed:"
		tail -20 "$dir/make.log"
		return 1
	fi
	for f in test bench fuzz gradescope; do
		rc=0
		out=$(make -s -C "$kit" "$f" LAB=01 2>&1) || rc=$?
		if ((rc == 0)) || [[ $out != *"instructor tool"* ]]; then
			echo "make $f in the kit (exit $rc) should say it is an instructor tool; it said: $out"
			bad=1
		fi
	done
	# make demo: no reference programs here, so it says what to pass
	rc=0
	out=$(timeout -k 2 30 make -s -C "$kit" demo 2>&1) || rc=$?
	if ((rc == 0)) || [[ $out != *"BIN="*"EXCHANGE="* ]]; then
		echo "make demo in the kit (exit $rc) should name BIN= and EXCHANGE=; it said:"
		printf '%s\n' "$out" | tail -5 | sed 's/^/  | /'
		bad=1
	fi

	# make grade works there: a starter below full marks, a solution full
	# marks; two labs at a time (a lab's runs share its report folder)
	local labs=() i
	for sol in solutions/*/*.c; do labs+=("$(basename "$(dirname "$sol")")"); done
	for ((i = 0; i < 2; i++)); do
		(
			local j
			for ((j = i; j < ${#labs[@]}; j += 2)); do
				dist_grade_lab "$kit" "${labs[j]}" "$dir" >"$dir/${labs[j]}.grade" 2>&1
			done
		) &
	done
	wait
	for lab in "${labs[@]}"; do
		if [[ -s $dir/$lab.grade ]]; then
			cat "$dir/$lab.grade"
			bad=1
		fi
	done
	((bad == 0)) && echo "($(find "$kit" -type f ! -path "$kit/build/*" | wc -l) files; every lab: starter below, solution full marks)"
	return $bad
}

# Paths the kit's files name that it does not have.  Scripts: grader/...
# paths (solutions/ is looked for, and its absence handled); documents:
# every kit path, and build/solutions/ (which the kit cannot build).
# Left out by design and said so where named: grader/mutants/ (the rules
# tables name each rule's mutant), grader/tests/hidden/.
check_dist_refs() {
	local dir="$ST/dist-refs" kit bad=0 f tok
	dist_unpack "$dir" || return 1
	kit="$dir/socketlab"
	while IFS= read -r f; do
		grep -noE '(^|[^A-Za-z0-9_./-])(\./)?(build/solutions/[A-Za-z0-9_.-]+|AUTHORING\.md|(grader|labs|handouts|sample-data|solutions)/[A-Za-z0-9_./-]*[A-Za-z0-9_])' "$kit/$f" |
			while IFS= read -r tok; do
				local line="${tok%%:*}"
				tok="${tok#*:}"
				tok=$(sed -E 's#^[^A-Za-z0-9_.]*##; s#^\./##' <<<"$tok")
				case $tok in
				*NN* | *NAME* | *PATH* | grader/mutants* | grader/tests/hidden*) continue ;;
				labs/05-class-exchange/share*) continue ;; # made by make serve
				esac
				case $f in
				*.md | *.txt) ;;
				*) [[ $tok == grader/* || $tok == AUTHORING.md ]] || continue ;;
				esac
				[[ $tok == build/* || ! -e $kit/$tok ]] || continue
				echo "$f:$line names $tok, which the kit does not have"
			done
	done < <(cd "$kit" && find . -type f ! -path './build/*' -exec grep -Il . {} + | sed 's|^\./||' | sort) >"$dir.found"
	if [[ -s $dir.found ]]; then
		cat "$dir.found"
		bad=1
	fi
	return $bad
}

add "make dist: the student kit builds, grades each lab (one quick test each: the starter below full marks, the solution scores 100 on it) and holds no solution, mutant, hidden test or self-test" "check_dist"
add "make dist: nothing in the student kit names a file it lacks" "check_dist_refs"
