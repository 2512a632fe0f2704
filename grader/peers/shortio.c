/*
 * shortio - a preload library that makes a program's I/O behave the way
 * a real network can, and loopback never does: send(), write(), recv()
 * and read() move only a few bytes a call, and now and then fail with
 * EINTR before moving any.
 *
 *   SL_SHORTIO=MAX[,eintr=N][,files][,seed=S]
 *   SL_SHORTIO_LOG=FILE
 *   LD_PRELOAD=build/peers/libshortio.so           (Linux)
 *   DYLD_INSERT_LIBRARIES=build/peers/libshortio.dylib   (macOS)
 *
 * MAX: each call moves 1 to MAX bytes (a seeded random count, so a run
 * can be repeated).  eintr=N: every Nth call fails with EINTR instead.
 * By default only sockets are touched; "files" adds pipes and files
 * above stderr (stdin, stdout and stderr are never touched).  A recv()
 * with MSG_WAITALL is left alone: it asked the kernel for all.
 *
 * FILE gets one line when the library loads in a program ("PID shortio
 * loaded in PATH: ..."), so a test can prove it was there, then one line
 * per call it changed, for the grader's messages:
 *   PID send fd=5 asked=78 moved=7
 *   PID recv fd=5 asked=4096 EINTR
 * After 2000 such lines a process logs only a count at exit.
 *
 * This is a test tool, not a lab: it uses dlsym(RTLD_NEXT) on Linux and
 * the __interpose section on macOS, neither of which a lab needs.
 */
#if defined(__linux__)
#define _GNU_SOURCE /* RTLD_NEXT */
#else
#define _POSIX_C_SOURCE 200809L
#define _DARWIN_C_SOURCE
#endif

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define LOG_LINES 2000

static long max_move;	     /* 0: the library is off */
static long eintr_every;     /* 0: never */
static int touch_files;	     /* pipes and files too, not only sockets */
static int log_fd = -1;
static atomic_ulong calls;   /* calls changed, for eintr= and the seed */
static atomic_ulong logged;
static unsigned long seed = 1;

/* ---- the real functions --------------------------------------------- */

#if defined(__APPLE__)
/* On macOS an interposing library calls the real function by its name. */
#define REAL(name) name
#else
static ssize_t (*real_send)(int, const void *, size_t, int);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_recv)(int, void *, size_t, int);
static ssize_t (*real_read)(int, void *, size_t);
#define REAL(name) real_##name

/* next(NAME, SLOT): the next definition of NAME after this library.
 * memcpy, because ISO C has no cast from void * to a function pointer. */
static void next(const char *name, void *slot, size_t size)
{
	void *p = dlsym(RTLD_NEXT, name);

	if (p == NULL) {
		fprintf(stderr, "shortio: no %s after this library\n", name);
		_exit(125);
	}
	memcpy(slot, &p, size);
}
#define NEXT(name) next(#name, &real_##name, sizeof real_##name)
#endif

/* ---- settings and the log ------------------------------------------- */

/* log_line(FMT, ...): one line, "PID " first, to the log (if any). */
static void log_line(const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 1, 2)))
#endif
	;
static void log_line(const char *fmt, ...)
{
	char line[160];
	int n, m;
	va_list ap;

	if (log_fd < 0)
		return;
	n = snprintf(line, sizeof line, "%ld ", (long)getpid());
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	va_end(ap);
	if (m > 0 && (size_t)(n + m) < sizeof line)
		(void)REAL(write)(log_fd, line, (size_t)(n + m)); /* O_APPEND: whole lines */
}

static void at_exit_count(void)
{
	unsigned long n = atomic_load(&logged);

	if (n > LOG_LINES)
		log_line("summary: %lu calls changed, %lu of them not logged\n", n, n - LOG_LINES);
}

/* program_path(): the program this library was loaded into, where the
 * system tells (Linux), else "a program". */
static const char *program_path(void)
{
	static char path[256];
	ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);

	if (n <= 0)
		return "a program";
	path[n] = '\0';
	return path;
}

__attribute__((constructor)) static void shortio_init(void)
{
	const char *spec = getenv("SL_SHORTIO"), *path = getenv("SL_SHORTIO_LOG");
	const char *p;
	char *end;

#if !defined(__APPLE__)
	NEXT(send);
	NEXT(write);
	NEXT(recv);
	NEXT(read);
#endif
	if (spec == NULL || (max_move = strtol(spec, &end, 10)) < 1)
		return;
	for (p = end; *p == ',';) {
		p++;
		if (strncmp(p, "eintr=", 6) == 0) {
			eintr_every = strtol(p + 6, &end, 10);
			p = end;
		} else if (strncmp(p, "seed=", 5) == 0) {
			seed = strtoul(p + 5, &end, 10);
			p = end;
		} else if (strncmp(p, "files", 5) == 0) {
			touch_files = 1;
			p += 5;
		} else {
			break;
		}
	}
	if (path != NULL && *path != '\0') {
		log_fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
		if (log_fd >= 0 && log_fd < 10) {
			/* keep the log out of the low numbers a program expects */
			int high = fcntl(log_fd, F_DUPFD, 100);
			if (high >= 0) {
				close(log_fd);
				log_fd = high;
			}
		}
		if (log_fd >= 0)
			(void)fcntl(log_fd, F_SETFD, FD_CLOEXEC);
	}
	log_line("shortio loaded in %s: at most %ld bytes a call, EINTR every %ld calls%s\n",
		 program_path(), max_move, eintr_every, touch_files ? ", files and pipes too" : "");
	atexit(at_exit_count);
}

/* touched(FD): whether calls on FD are made short. */
static int touched(int fd)
{
	struct stat st;

	if (max_move < 1 || fd <= 2 || fd == log_fd || fstat(fd, &st) != 0)
		return 0;
	return S_ISSOCK(st.st_mode) || (touch_files && (S_ISFIFO(st.st_mode) || S_ISREG(st.st_mode)));
}

/* shorten(OP, FD, LEN): how many of LEN bytes this call may move, or -1
 * (errno EINTR) for a call that must fail before moving any. */
static ssize_t shorten(const char *op, int fd, size_t len)
{
	unsigned long n = atomic_fetch_add(&calls, 1) + 1, x;
	size_t allowed;

	if (eintr_every > 0 && n % (unsigned long)eintr_every == 0) {
		if (atomic_fetch_add(&logged, 1) < LOG_LINES)
			log_line("%s fd=%d asked=%zu EINTR\n", op, fd, len);
		errno = EINTR;
		return -1;
	}
	/* xorshift of the call number and the seed: repeatable sizes */
	x = (n * 2654435761UL) ^ seed;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	allowed = 1 + (size_t)(x % (unsigned long)max_move);
	return (ssize_t)(allowed < len ? allowed : len);
}

/* moved(OP, FD, LEN, GOT): log a call that moved fewer bytes than asked. */
static ssize_t moved(const char *op, int fd, size_t len, ssize_t got)
{
	if (got > 0 && (size_t)got < len && atomic_fetch_add(&logged, 1) < LOG_LINES)
		log_line("%s fd=%d asked=%zu moved=%zd\n", op, fd, len, got);
	return got;
}

/* ---- the wrappers --------------------------------------------------- */

#define WRAP_OUT(op, call, fd, len)                                     \
	do {                                                            \
		ssize_t n_;                                             \
		if (!touched(fd) || len == 0)                           \
			return call(len);                               \
		if ((n_ = shorten(op, fd, len)) < 0)                    \
			return -1;                                      \
		return moved(op, fd, len, call((size_t)n_));            \
	} while (0)

#if defined(__APPLE__)
#define EXPORT(name) static ssize_t my_##name
#else
#define EXPORT(name) ssize_t name
#endif

EXPORT(send)(int fd, const void *buf, size_t len, int flags)
{
#define CALL(n) REAL(send)(fd, buf, n, flags)
	WRAP_OUT("send", CALL, fd, len);
#undef CALL
}

EXPORT(write)(int fd, const void *buf, size_t len)
{
#define CALL(n) REAL(write)(fd, buf, n)
	WRAP_OUT("write", CALL, fd, len);
#undef CALL
}

EXPORT(recv)(int fd, void *buf, size_t len, int flags)
{
#define CALL(n) REAL(recv)(fd, buf, n, flags)
	if (flags & MSG_WAITALL)
		return CALL(len);
	WRAP_OUT("recv", CALL, fd, len);
#undef CALL
}

EXPORT(read)(int fd, void *buf, size_t len)
{
#define CALL(n) REAL(read)(fd, buf, n)
	WRAP_OUT("read", CALL, fd, len);
#undef CALL
}

#if defined(__APPLE__)
/* dyld swaps each pair: calls to the second go to the first. */
#define INTERPOSE(name)                                                  \
	__attribute__((used, section("__DATA,__interpose"))) static struct { \
		void (*mine)(void), (*theirs)(void);                     \
	} interpose_##name = { (void (*)(void))my_##name, (void (*)(void))name }
INTERPOSE(send);
INTERPOSE(write);
INTERPOSE(recv);
INTERPOSE(read);
#endif
