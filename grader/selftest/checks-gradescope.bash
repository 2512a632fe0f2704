# shellcheck shell=bash
# checks-gradescope.bash - the self-test's check of make gradescope
# (grader/tools/gradescope), sourced by grader/tools/selftest: it defines
# check_* functions and adds them.  Runs in the kit's root, with $ST.

# gs_validate RESULTS.JSON WANT_SCORE HIDDEN_NAME: the JSON's fields and
# totals, with python3 (prints what is wrong; exit 0 when all is right).
# HIDDEN_NAME is a test that must be marked after_published ("" for none).
gs_validate() {
	python3 - "$@" <<'PY'
import json, sys
path, want, hidden = sys.argv[1], int(sys.argv[2]), sys.argv[3]
bad = []
try:
    d = json.load(open(path))
except Exception as e:
    print(f"{path} is not JSON: {e}")
    sys.exit(1)
for k, t in (("score", (int, float)), ("execution_time", (int, float)), ("output", str), ("tests", list)):
    if not isinstance(d.get(k), t):
        bad.append(f"top level: {k} missing or not {t}")
tests = d.get("tests") or []
if not tests:
    bad.append("no tests")
for t in tests:
    for k, ty in (("name", str), ("score", (int, float)), ("max_score", (int, float)),
                  ("status", str), ("output", str), ("visibility", str)):
        if not isinstance(t.get(k), ty):
            bad.append(f"test {t.get('name')!r}: {k} missing or not {ty}")
    if t.get("status") not in ("passed", "failed"):
        bad.append(f"test {t.get('name')!r}: status {t.get('status')!r}")
    if t.get("visibility") not in ("hidden", "after_due_date", "after_published", "visible"):
        bad.append(f"test {t.get('name')!r}: visibility {t.get('visibility')!r}")
    want_vis = "after_published" if t.get("name") == hidden else "visible"
    if t.get("visibility") != want_vis:
        bad.append(f"test {t.get('name')!r}: visibility {t.get('visibility')!r}, expected {want_vis}")
    if want == 100 and (t.get("status") != "passed" or t.get("score") != t.get("max_score")):
        bad.append(f"test {t.get('name')!r} did not pass: {t.get('score')}/{t.get('max_score')} {t.get('output', '')[:300]!r}")
    if want == 0 and t.get("score") != 0:
        bad.append(f"test {t.get('name')!r} scored {t.get('score')} in a run that graded nothing")
earned = sum(t.get("score", 0) for t in tests)
possible = sum(t.get("max_score", 0) for t in tests)
visible = sum(t.get("max_score", 0) for t in tests if t.get("visibility") == "visible")
if visible != 100:
    bad.append(f"the visible tests total {visible} points, not 100")
if d.get("score") != want:
    bad.append(f"score {d.get('score')}, expected {want}")
scaled = earned * 100 // possible if possible else 0
if d.get("score") != scaled:
    bad.append(f"score {d.get('score')} is not the tests' {earned}/{possible} scaled to 100 ({scaled})")
if hidden and not any(t.get("name") == hidden for t in tests):
    bad.append(f"the hidden test {hidden!r} is not in the results")
for line in bad:
    print(line)
print(f"({path.split('/')[-3]}: score {d.get('score')}, {len(tests)} tests, {earned}/{possible} points)")
sys.exit(1 if bad else 0)
PY
}

# gs_run ROOT SECONDS OUT WHAT: run_autograder in ROOT (laid out like
# /autograder/) for at most SECONDS, its output to OUT; true if it exited
# 0 and wrote results.json, else says so for WHAT (the submission).
gs_run() {
	local rc=0
	AUTOGRADER_ROOT="$1" timeout -k 5 "$2" "$1/source/run_autograder" >"$3" 2>&1 || rc=$?
	((rc == 0)) && [[ -s $1/results/results.json ]] && return 0
	echo "run_autograder on $4: exit $rc, results.json $( [[ -s $1/results/results.json ]] && echo written || echo missing); it printed:"
	tail -30 "$3" | sed 's/^/  | /'
	return 1
}

# gs_root DIR ZIP: DIR laid out like /autograder/ with ZIP unzipped in source/.
gs_root() {
	rm -rf "$1"
	mkdir -p "$1/source" "$1/submission" "$1/results"
	(cd "$1/source" && unzip -q "$2")
}

check_gradescope() {
	local dir="$ST/gradescope" zip bad=0 root out hidden_name
	hidden_name="hidden: the program was built"
	mkdir -p "$dir"
	if ! grader/tools/gradescope -o "$dir/zip" 01 >"$dir/build.log" 2>&1; then
		echo "grader/tools/gradescope 01 failed:"
		cat "$dir/build.log"
		return 1
	fi
	zip="$dir/zip/lab01-gettime.zip"
	[[ -s $zip ]] || { echo "no $zip; the tool said: $(cat "$dir/build.log")"; return 1; }

	# what the zip holds, and what it must not
	unzip -Z1 "$zip" >"$dir/list"
	local f
	for f in setup.sh run_autograder Makefile grader/grade grader/lib/helpers.bash grader/lib/lab01.bash \
		grader/tools/labname grader/tools/deps grader/tests/01-gettime.bats grader/peers/contain.c; do
		grep -qxF "$f" "$dir/list" || { echo "the zip has no $f"; bad=1; }
	done
	if grep -E '(^|/)(solutions|mutants|selftest|fuzz)/|\.patch$|(^|/)starter\.c$|^grader/tests/0[2-9]' "$dir/list"; then
		echo "^ the zip holds files grading does not need (solutions, mutants, self-test material, other labs)"
		bad=1
	fi
	grep -q 'v1\.8\.2' <(unzip -p "$zip" setup.sh) || { echo "setup.sh does not pin bats v1.8.2"; bad=1; }
	bash -n <(unzip -p "$zip" setup.sh) || { echo "setup.sh does not parse"; bad=1; }

	# (1) the solution, with a hidden test of the instructor's beside the lab's
	root="$dir/ag-solution"
	gs_root "$root" "$zip"
	mkdir -p "$root/source/grader/tests/hidden"
	# shellcheck disable=SC2016 # $SL_BIN is the test's, expanded when it runs
	printf '@test "[5] %s" {\n\t[[ -x $SL_BIN ]]\n}\n' "$hidden_name" >"$root/source/grader/tests/hidden/01-extra.bats"
	mkdir -p "$root/submission/lab01"
	cp solutions/01-gettime/gettime.c "$root/submission/lab01/gettime.c"
	gs_run "$root" 120 "$dir/solution.out" "the solution" || return 1
	grep -q '"score": 100,' "$root/results/results.json" ||
		{ echo "the solution did not score 100:"; tail -20 "$dir/solution.out"; bad=1; }
	if grep -qF "$root" "$root/results/results.json"; then
		echo "results.json shows the container's paths ($root): they mean nothing to a student"
		bad=1
	fi

	# (2) a submission under the wrong name
	root="$dir/ag-wrong"
	gs_root "$root" "$zip"
	cp solutions/01-gettime/gettime.c "$root/submission/main.c"
	gs_run "$root" 60 "$dir/wrong.out" "submission/main.c" || return 1
	out=$(grep '^  "output": ' "$root/results/results.json")
	if [[ $out != *gettime.c* || $out != *main.c* ]] || ! grep -q '"score": 0,' "$root/results/results.json"; then
		echo "a submission named main.c: expected score 0 and a message naming gettime.c and main.c; results.json says:"
		head -5 "$root/results/results.json"
		bad=1
	fi

	if command -v python3 >/dev/null 2>&1; then
		gs_validate "$dir/ag-solution/results/results.json" 100 "$hidden_name" || bad=1
		gs_validate "$dir/ag-wrong/results/results.json" 0 "" || bad=1
	else
		echo "(python3 not found: the JSON's fields and totals were not validated)"
	fi
	((bad == 0)) && echo "(solution 100 with a hidden test after_published, main.c 0 with the message)"
	return $bad
}

add "make gradescope: the lab 01 zip scores 100 for the solution and 0 for a misnamed file, valid results.json" "check_gradescope"
