# socketlab - one entry point for students, instructors and CI.
#
#   make                      build every starter, solution and grader peer
#   make grade LAB=01         grade your labs/01-gettime/starter.c
#        [SRC=file.c] [TEST=regex]
#   make test                 the kit's self-test (instructors, CI)
#   make starters             regenerate labs/*/starter.c from the solutions
#   make dist                 the student kit, build/dist/socketlab.tar.gz
#   make serve [SRC=] [PORT=] your lab 04 server for the real class exchange
#   make demo [N=] [BIN=]     the class exchange rehearsed on this machine
#   make classroom [N=]       Linux, root: the same, every seat a network namespace
#   make clean                remove build/
#
# Everything generated goes to build/.

CC      ?= cc
CFLAGS  ?= -std=c11 -Wall -Wextra -Wpedantic -g -O2
LDFLAGS ?=
BUILD   := build
override CFLAGS += -pthread

# Each lab and the program it makes: grader/tools/labname holds the table.
LABS := $(shell grader/tools/labname --all)
program = $(shell grader/tools/labname -p $(1))

PEER_SRC   := $(filter-out grader/peers/peer.c grader/peers/shortio.c,$(wildcard grader/peers/*.c))
PEERS      := $(patsubst grader/peers/%.c,$(BUILD)/peers/%,$(PEER_SRC))
# The partial-I/O shim, preloaded into programs under test (a shared
# library: LD_PRELOAD on Linux, DYLD_INSERT_LIBRARIES on macOS).
SHLIB      := $(if $(filter Darwin,$(shell uname -s)),dylib,so)
SHORTIO    := $(BUILD)/peers/libshortio.$(SHLIB)
SOLUTION_LABS := $(foreach l,$(LABS),$(if $(wildcard solutions/$(l)/$(call program,$(l)).c),$(l)))
STARTER_LABS  := $(foreach l,$(LABS),$(if $(wildcard labs/$(l)/starter.c),$(l)))
SOLUTIONS  := $(foreach l,$(SOLUTION_LABS),$(BUILD)/solutions/$(l)/$(call program,$(l)))
STARTERS   := $(foreach l,$(STARTER_LABS),$(BUILD)/labs/$(l)/$(call program,$(l)))

.PHONY: all peers solutions starters-bin grade test starters dist clean \
	demo classroom serve bench grade-all fuzz interop

all: peers solutions starters-bin

peers: $(PEERS) $(SHORTIO)
solutions: $(SOLUTIONS)
starters-bin: $(STARTERS)

$(BUILD)/peers/%: grader/peers/%.c grader/peers/peer.c grader/peers/peer.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< grader/peers/peer.c $(LDFLAGS)

$(SHORTIO): grader/peers/shortio.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -fPIC -shared -o $@ $< $(LDFLAGS) $(if $(filter so,$(SHLIB)),-ldl)

# One C file, one program.
define compile
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS)
endef

# build/solutions/01-gettime/gettime from solutions/01-gettime/gettime.c
.SECONDEXPANSION:
$(BUILD)/solutions/%: solutions/%.c
	$(compile)

# build/labs/01-gettime/gettime from labs/01-gettime/starter.c
$(BUILD)/labs/%: labs/$$(*D)/starter.c
	$(compile)

# make grade LAB=04 [SRC=path.c] [TEST=regex]
grade: peers
	@test -n "$(LAB)" || { echo "usage: make grade LAB=01 [SRC=file.c] [TEST=regex]" >&2; exit 2; }
	@grader/grade $(if $(SRC),-s "$(SRC)") $(if $(TEST),-t "$(TEST)") "$(LAB)"

test:
	@test -d solutions || { echo "make test is the kit's self-test; it needs solutions/, which the student kit leaves out" >&2; exit 2; }
	@grader/tools/deps --test
	@$(MAKE) -s all
	@grader/tools/selftest

# Regenerate every starter from its annotated solution.
starters:
	@for l in $(SOLUTION_LABS); do \
		grader/tools/mkstarter solutions/$$l/$$(grader/tools/labname -p $$l).c \
			> labs/$$l/starter.c.new && mv labs/$$l/starter.c.new labs/$$l/starter.c \
			&& echo "labs/$$l/starter.c"; \
	done

# The student kit: no solutions, no mutants (they are patches of the
# solutions), no hidden tests, no self-test material, no instructor tools.
# Its README is README.md up to "## For instructors", without the blocks
# between <!-- instructor-only --> and <!-- /instructor-only --> and the
# lines marked <!-- instructor -->; in its Makefile the instructors'
# targets (KIT_LEAVES_OUT) say so and stop.  The self-test unpacks and
# grades it (grader/selftest/checks-dist.bash).
KIT_LEAVES_OUT := test starters dist bench fuzz gradescope
dist:
	@rm -rf $(BUILD)/dist && mkdir -p $(BUILD)/dist/socketlab
	@git ls-files | grep -v -e '^solutions/' -e '^grader/mutants/' \
		-e '^grader/tests/hidden/.*\.bats$$' -e '^grader/selftest/' -e '^\.ci/' \
		-e '^grader/tools/selftest$$' -e '^grader/tools/mkstarter$$' -e '^grader/tools/bench$$' \
		-e '^grader/fuzz/' -e '^grader/tools/fuzz$$' \
		-e '^grader/tools/gradescope$$' -e '^grader/tools/gradescope-ubuntu$$' -e '^grader/gradescope/' \
		-e '^AUTHORING\.md$$' -e '^README\.md$$' -e '^Makefile$$' \
		| while IFS= read -r f; do if [ -e "$$f" ]; then printf '%s\n' "$$f"; fi; done \
		| tar -cf - -T - | tar -xf - -C $(BUILD)/dist/socketlab
	@awk '/^## For instructors/ { exit } \
		/^<!-- instructor-only -->/ { skip = 1; next } \
		/^<!-- \/instructor-only -->/ { skip = 0; next } \
		skip || /<!-- instructor -->/ { next } \
		/^[ \t]*$$/ { blank = 1; next } \
		{ if (blank && printed) print ""; blank = 0; printed = 1; print }' \
		README.md >$(BUILD)/dist/socketlab/README.md
	@awk -v leave="$(KIT_LEAVES_OUT)" 'BEGIN { n = split(leave, t, " "); for (i = 1; i <= n; i++) gone[t[i]] = 1 } \
		skip && /^\t/ { next } \
		{ skip = 0 } \
		/^#   make [a-z-]+/ && ($$3 in gone) { next } \
		/^#/ || (held != "" && /^([A-Z_]+ *[:?]?=|\.PHONY:)/) { held = held $$0 "\n"; next } \
		match($$0, /^[a-z-]+:/) && (substr($$0, 1, RLENGTH - 1) in gone) { \
			name = substr($$0, 1, RLENGTH - 1); held = ""; print name ":"; \
			print "\t@echo \"make " name " is an instructor tool: the student kit does not have it (make grade LAB=01 grades your lab)\" >&2; exit 2"; \
			skip = 1; next } \
		{ printf "%s", held; held = ""; print }' Makefile >$(BUILD)/dist/socketlab/Makefile
	@tar -czf $(BUILD)/dist/socketlab.tar.gz -C $(BUILD)/dist socketlab
	@echo "$(BUILD)/dist/socketlab.tar.gz: $$(tar -tzf $(BUILD)/dist/socketlab.tar.gz | grep -vc '/$$') files"

bench: all
	@grader/tools/bench

# make gradescope LAB=04: build/gradescope/lab04-webserver.zip, the lab's
# Gradescope autograder (setup.sh, run_autograder, the grader and its
# tests, hidden ones included; grader/tools/gradescope says more).
.PHONY: gradescope
gradescope:
	@test -n "$(LAB)" || { echo "usage: make gradescope LAB=01" >&2; exit 2; }
	@test -x grader/tools/gradescope || { echo "make gradescope is an instructor tool: the student kit does not have it" >&2; exit 2; }
	@grader/tools/gradescope "$(LAB)"

# make fuzz [FUZZ_SECONDS=300]: libFuzzer on lab 04's request parser and
# path check (grader/fuzz/), each FUZZ_SECONDS, after replaying every saved
# crash; a new crash is kept in grader/fuzz/regressions/ (make test fuzzes
# 15 s each; grader/tools/fuzz says more).
FUZZ_SECONDS ?= 300
fuzz:
	@grader/tools/fuzz -s $(FUZZ_SECONDS)

# make interop [SRC=webserver.c]: curl, wget, Python's http.client and
# headless Chromium against lab 04's server (build/interop/transcript.md).
interop: peers
	@grader/tools/interop $(if $(SRC),-s $(SRC))

# make serve [SRC=your-webserver.c] [PORT=8080]: your lab 04 server on every
# interface, serving labs/05-class-exchange/share/myData.txt to classmates.
serve: peers
	@grader/tools/serve $(if $(SRC),-s "$(SRC)") $(if $(PORT),-p "$(PORT)")

# make demo [N=12] [BIN=webserver] [EXCHANGE=exchange] [SERVE=1]: the class
# exchange rehearsed on this machine, a web server a student on its own
# loopback address.
demo: all
	@grader/tools/demo $(if $(N),-n "$(N)") $(if $(BIN),-b "$(BIN)") \
		$(if $(EXCHANGE),-e "$(EXCHANGE)") $(if $(SERVE),-s)

# make classroom [N=12] [BIN=webserver] [EXCHANGE=exchange] [CLEAN=1]: Linux,
# root: the class exchange in a virtual room, every seat a network namespace
# on one virtual LAN, with the faults of a real room; CLEAN=1 only removes
# what an interrupted run left.
classroom: $(if $(CLEAN),,all)
	@grader/tools/classroom $(if $(CLEAN),-c) $(if $(N),-n "$(N)") $(if $(BIN),-b "$(BIN)") \
		$(if $(EXCHANGE),-e "$(EXCHANGE)")

# make grade-all LAB=NN SUBMISSIONS=DIR [JOBS=N] [TEST=regex]: one C file
# (or folder) a student, JOBS at a time (default: the cores), into
# build/gradebook-labNN.csv and build/gradebook-labNN/NAME.txt.
grade-all: peers
	@test -n "$(LAB)" -a -n "$(SUBMISSIONS)" || \
		{ echo "usage: make grade-all LAB=NN SUBMISSIONS=DIR [JOBS=N] [TEST=regex]" >&2; exit 2; }
	@grader/tools/grade-all $(if $(JOBS),-j $(JOBS)) $(if $(TEST),-t '$(TEST)') $(LAB) $(SUBMISSIONS)

clean:
	rm -rf $(BUILD)
