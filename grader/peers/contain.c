/*
 * contain - run a program under test so that nothing it does can hang
 * the grader or outlive the test.
 *
 *   contain [-t SECONDS] [-k GRACE] [-s STATUSFILE] [-F MIB] [-n FDS]
 *           -- PROGRAM [ARG...]
 *
 * PROGRAM runs in a process group of its own, with a file-size cap (-F,
 * MiB, default 256: a program that floods stdout is stopped by SIGXFSZ
 * instead of filling the disk), optionally a descriptor cap (-n), no core
 * files, and a deadline (-t, seconds, decimals allowed; 0 = none).
 *
 * contain ends when PROGRAM ends, or at the deadline, or when contain gets
 * SIGTERM/SIGINT/SIGHUP (how a test stops a server).  In each case it then
 * ends everything PROGRAM started: SIGTERM to the group, SIGKILL after
 * GRACE seconds (-k, default 1), and on Linux, where contain is a "child
 * subreaper", every descendant that escaped the group with setsid() is
 * adopted by contain when its parent dies and is killed and reaped too.
 *
 * The verdict goes to STATUSFILE (-s) as one line:
 *   exit N | signal NAME | timeout | stopped (exit N|signal NAME)
 * and contain's own exit status mirrors it: N, 128+signal, or 124 for a
 * timeout (as timeout(1) does).  contain itself exits 125 if it cannot run.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* usage(F, STATUS): the options, a line each, to F; exit STATUS. */
static void usage(FILE *f, int status)
{
	fprintf(f, "usage: contain [-t SECONDS] [-k GRACE] [-s STATUSFILE] "
		   "[-F MIB] [-n FDS] -- PROGRAM [ARG...]\n"
		   "Runs PROGRAM in a process group of its own; when it ends, or at the\n"
		   "deadline, or on SIGTERM/SIGINT/SIGHUP, ends everything it started.\n"
		   "  -t SECONDS   deadline (decimals allowed; 0: none)\n"
		   "  -k GRACE     seconds between SIGTERM and SIGKILL (default 1)\n"
		   "  -s FILE      write the verdict: exit N, signal NAME or timeout\n"
		   "  -F MIB       largest file PROGRAM may write (default 256; SIGXFSZ past it)\n"
		   "  -n FDS       most descriptors PROGRAM may open (0: no limit)\n"
		   "Exit: PROGRAM's status, 128+signal, 124 at the deadline, 125 if it cannot run.\n");
	exit(status);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void nap(long ms)
{
	struct timespec ts = { 0, ms * 1000000L };

	nanosleep(&ts, NULL);
}

/* The conventional name of signal SIG ("SIGSEGV"), for verdicts. */
static const char *signame(int sig)
{
	static char other[32];
	static const struct { int sig; const char *name; } names[] = {
		{ SIGABRT, "SIGABRT" }, { SIGALRM, "SIGALRM" },
		{ SIGBUS, "SIGBUS" },   { SIGFPE, "SIGFPE" },
		{ SIGHUP, "SIGHUP" },   { SIGILL, "SIGILL" },
		{ SIGINT, "SIGINT" },   { SIGKILL, "SIGKILL" },
		{ SIGPIPE, "SIGPIPE" }, { SIGQUIT, "SIGQUIT" },
		{ SIGSEGV, "SIGSEGV" }, { SIGTERM, "SIGTERM" },
		{ SIGTRAP, "SIGTRAP" }, { SIGUSR1, "SIGUSR1" },
		{ SIGUSR2, "SIGUSR2" }, { SIGXCPU, "SIGXCPU" },
		{ SIGXFSZ, "SIGXFSZ" }, { SIGSYS, "SIGSYS" },
	};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (names[i].sig == sig)
			return names[i].name;
	snprintf(other, sizeof other, "signal %d", sig);
	return other;
}

/* Reap any child other than the main one without waiting. */
static void reap_others(pid_t main_child)
{
	pid_t pid;

	while ((pid = waitpid(-1, NULL, WNOHANG)) > 0 && pid != main_child)
		;
}

#ifdef __linux__
/* Kill every process whose parent is contain (orphans it adopted).
 * Returns how many it found. */
static int kill_adopted(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int found = 0;
	pid_t self = getpid();

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		char path[64], buf[512], *p;
		FILE *f;
		long ppid;
		pid_t pid = (pid_t)atol(e->d_name);

		if (pid <= 0)
			continue;
		snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
		f = fopen(path, "r");
		if (f == NULL)
			continue;
		p = fgets(buf, sizeof buf, f);
		fclose(f);
		/* The command name may hold spaces; fields resume after ')'. */
		if (p == NULL || (p = strrchr(buf, ')')) == NULL)
			continue;
		if (sscanf(p + 1, " %*c %ld", &ppid) == 1 && ppid == self) {
			kill(pid, SIGKILL);
			found++;
		}
	}
	closedir(d);
	return found;
}
#endif

/* End everything the program started: its group, then adopted orphans. */
static void clean_up(pid_t group, double grace)
{
	double until = now() + grace;

	kill(-group, SIGTERM);
	while (now() < until && kill(-group, 0) == 0) {
		reap_others(-1);
		nap(10);
	}
	kill(-group, SIGKILL);
#ifdef __linux__
	/* Orphans keep arriving while their parents die: repeat a while. */
	until = now() + 2.0;
	while (now() < until) {
		int found = kill_adopted();
		reap_others(-1);
		if (found == 0 && waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD)
			break;
		nap(10);
	}
#endif
	reap_others(-1);
}

static void write_status(const char *path, const char *line)
{
	FILE *f;

	if (path == NULL || (f = fopen(path, "w")) == NULL)
		return;
	fprintf(f, "%s\n", line);
	fclose(f);
}

int main(int argc, char **argv)
{
	double limit = 0, grace = 1, deadline;
	long fsize_mib = 256, nfds = 0;
	const char *statusfile = NULL;
	struct sigaction sa;
	pid_t child;
	int opt, status = 0, exited = 0, timed_out = 0;

	while ((opt = getopt(argc, argv, "t:k:s:F:n:h")) != -1) {
		switch (opt) {
		case 't': limit = atof(optarg); break;
		case 'k': grace = atof(optarg); break;
		case 's': statusfile = optarg; break;
		case 'F': fsize_mib = atol(optarg); break;
		case 'n': nfds = atol(optarg); break;
		case 'h': usage(stdout, 0); break;
		default: usage(stderr, 125);
		}
	}
	if (optind >= argc)
		usage(stderr, 125);

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
#ifdef __linux__
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
#endif

	child = fork();
	if (child < 0) {
		perror("contain: fork");
		return 125;
	}
	if (child == 0) {
		struct rlimit rl;

		setpgid(0, 0);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		rl.rlim_cur = rl.rlim_max = 0;
		setrlimit(RLIMIT_CORE, &rl);
		if (fsize_mib > 0) {
			rl.rlim_cur = rl.rlim_max = (rlim_t)fsize_mib << 20;
			setrlimit(RLIMIT_FSIZE, &rl);
		}
		if (nfds > 0) {
			rl.rlim_cur = rl.rlim_max = (rlim_t)nfds;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "contain: cannot run %s: %s\n", argv[optind],
			strerror(errno));
		_exit(127);
	}
	setpgid(child, child);	/* also in the child: whichever runs first */

	deadline = limit > 0 ? now() + limit : 0;
	while (!exited) {
		pid_t pid = waitpid(-1, &status, WNOHANG);

		if (pid == child) {
			exited = 1;
			break;
		}
		if (pid > 0)
			continue;	/* an adopted orphan: reaped */
		if (stop_requested)
			break;
		if (deadline > 0 && now() >= deadline) {
			timed_out = 1;
			break;
		}
		nap(5);
	}

	if (!exited) {
		/* Ask politely, then insist; either way collect the status. */
		kill(-child, SIGTERM);
		double until = now() + grace;
		while (!exited && now() < until) {
			if (waitpid(child, &status, WNOHANG) == child)
				exited = 1;
			else
				nap(10);
		}
		if (!exited) {
			kill(-child, SIGKILL);
			waitpid(child, &status, 0);
		}
	}
	clean_up(child, exited ? 0.2 : 0);

	const char *prefix = stop_requested ? "stopped " : "";
	char line[64];
	int rc;

	if (timed_out) {
		snprintf(line, sizeof line, "timeout");
		rc = 124;
	} else if (WIFSIGNALED(status)) {
		snprintf(line, sizeof line, "%ssignal %s", prefix,
			 signame(WTERMSIG(status)));
		rc = 128 + WTERMSIG(status);
	} else {
		snprintf(line, sizeof line, "%sexit %d", prefix,
			 WEXITSTATUS(status));
		rc = WEXITSTATUS(status);
	}
	write_status(statusfile, line);
	return rc;
}
