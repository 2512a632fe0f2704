/*
 * shortio - a preload library that makes a program's I/O behave the way
 * a real network can, and loopback never does: send(), write(), recv()
 * and read() (and sendfile() on Linux) move only a few bytes a call, and
 * now and then fail with EINTR before moving any; and, on request, the
 * rarer faults a server must survive (a slow or failing listen(), an
 * aborted accept() with a signal on its heels, a process or thread that
 * cannot be started, a connection reset under a recv()).
 *
 *   SL_SHORTIO=MAX[,eintr=N][,files][,seed=S][,FAULT=N...]
 *   SL_SHORTIO_LOG=FILE
 *   LD_PRELOAD=build/peers/libshortio.so           (Linux)
 *   DYLD_INSERT_LIBRARIES=build/peers/libshortio.dylib   (macOS)
 *
 * MAX: each call moves 1 to MAX bytes (a seeded random count, so a run
 * can be repeated; 0: calls are not cut).  eintr=N: every Nth call fails
 * with EINTR instead.  By default only sockets are touched; "files" adds
 * pipes and files above stderr (stdin, stdout and stderr are never
 * touched).  A recv() with MSG_WAITALL is left alone: it asked for all.
 * The faults, each counted from 1 in the process that makes the calls:
 *   listen-delay=MS   every listen() waits MS ms first
 *   listen-fail=N     the Nth listen() fails with EADDRINUSE
 *   spawn-fail=N      the Nth fork() or pthread_create() fails with EAGAIN
 *   accept-abort=N    the Nth accept() fails with ECONNABORTED, and a
 *                     SIGCHLD arrives before the program can read errno
 *   recv-reset=N      from the Nth recv() or read() on a socket on, every
 *                     one fails with ECONNRESET
 *   socket-fail=N     from the Nth TCP socket() on, every one fails with
 *                     EMFILE (out of descriptors)
 *   close-errno=1     every close() that succeeds leaves errno at ENOTTY
 *                     (POSIX lets a call that succeeds change errno: a
 *                     program must save errno before it calls close())
 *   unreachable=ADDR  every connect() to the IPv4 address ADDR (a loopback
 *                     one, say 127.0.0.99) fails at once with EHOSTUNREACH,
 *                     as to a host with no route; nothing is sent
 *   unreachable-net=ADDR  the same with ENETUNREACH (no route to its network)
 *   close-fail=1      every close() of a regular file above stderr closes
 *                     it, then fails with EIO (a full disk or a network
 *                     file system can report a lost write only there)
 *   connect-eintr=N   every Nth connect() (1: every one) is made, then
 *                     fails with EINTR, as when a signal comes during it:
 *                     the handshake goes on (POSIX), the program must wait
 *                     for it as for EINPROGRESS (a connect() that failed
 *                     at once keeps its own error)
 *   send-pace=US      every send() or write() the shim touches waits US
 *                     microseconds first: with a small MAX, a message then
 *                     takes long to send, and threads that share a buffer
 *                     overwrite it while it goes out
 *   poll-eintr=N      every Nth poll() that would wait fails at once with
 *                     EINTR, as when a signal comes (the program must look
 *                     at its clock and poll() again)
 *
 * FILE gets one line when the library loads in a program ("PID shortio
 * loaded in PATH: ..."), so a test can prove it was there, then one line
 * per call it changed, for the grader's messages:
 *   PID send fd=5 asked=78 moved=7
 *   PID recv fd=5 asked=4096 EINTR
 *   PID fork EAGAIN
 * After 2000 such lines a process logs only a count at exit.
 *
 * This is a test tool, not a lab: it uses dlsym(RTLD_NEXT) on Linux and
 * the __interpose section on macOS, neither of which a lab needs.
 */
#define _POSIX_C_SOURCE 200809L
#if defined(__APPLE__)
#define _DARWIN_C_SOURCE
#endif

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#ifndef RTLD_NEXT
/* glibc's and musl's value; <dlfcn.h> shows it only to _GNU_SOURCE, which
 * would also give accept() a prototype this file cannot match. */
#define RTLD_NEXT ((void *)-1L)
#endif

#define LOG_LINES 2000

static int active;	     /* SL_SHORTIO was given */
static long max_move;	     /* 0: calls are not cut */
static long eintr_every;     /* 0: never */
static int touch_files;	     /* pipes and files too, not only sockets */
static int log_fd = -1;
static atomic_ulong calls;   /* calls changed, for eintr= and the seed */
static atomic_ulong logged;
static unsigned long seed = 1;
static long listen_delay_ms, listen_fail_at, spawn_fail_at, accept_abort_at, recv_reset_at;
static long socket_fail_at, close_errno, close_fail, connect_eintr_every, poll_eintr_every;
static long send_pace_us;	/* send-pace=US: each send()/write() waits first */
static struct in_addr unreachable, unreachable_net; /* 0.0.0.0: none */
static atomic_ulong listens, spawns, accepts, socket_reads, sockets, connects, polls;

/* ---- the real functions --------------------------------------------- */

#if defined(__APPLE__)
/* On macOS an interposing library calls the real function by its name. */
#define REAL(name) name
#else
static ssize_t (*real_send)(int, const void *, size_t, int);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_recv)(int, void *, size_t, int);
static ssize_t (*real_read)(int, void *, size_t);
static int (*real_listen)(int, int);
static int (*real_accept)(int, struct sockaddr *, socklen_t *);
static pid_t (*real_fork)(void);
static int (*real_pthread_create)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
static int (*real_socket)(int, int, int);
static int (*real_close)(int);
static int (*real_connect)(int, const struct sockaddr *, socklen_t);
static int (*real_poll)(struct pollfd *, nfds_t, int);
static ssize_t (*real_sendfile)(int, int, off_t *, size_t);
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
	char line[512];
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

/* option(&P, NAME, &VALUE): if P starts with NAME ("eintr="), read the
 * number after it into VALUE, move P past it and return 1; else 0. */
static int option(const char **p, const char *name, long *value)
{
	size_t n = strlen(name);
	char *end;

	if (strncmp(*p, name, n) != 0)
		return 0;
	*value = strtol(*p + n, &end, 10);
	*p = end;
	return 1;
}

/* address_option(&P, NAME, &ADDR): as option(), for an IPv4 address. */
static int address_option(const char **p, const char *name, struct in_addr *addr)
{
	char text[INET_ADDRSTRLEN] = "";
	size_t n = strlen(name), len;

	if (strncmp(*p, name, n) != 0)
		return 0;
	len = strcspn(*p + n, ",");
	if (len < sizeof text)
		memcpy(text, *p + n, len);
	if (inet_pton(AF_INET, text, addr) != 1)
		addr->s_addr = 0;
	*p += n + len;
	return 1;
}

__attribute__((constructor)) static void shortio_init(void)
{
	const char *spec = getenv("SL_SHORTIO"), *path = getenv("SL_SHORTIO_LOG");
	const char *p;
	char *end;
	long seed_option = 0;

#if !defined(__APPLE__)
	NEXT(send);
	NEXT(sendfile);
	NEXT(write);
	NEXT(recv);
	NEXT(read);
	NEXT(listen);
	NEXT(accept);
	NEXT(fork);
	NEXT(pthread_create);
	NEXT(socket);
	NEXT(close);
	NEXT(connect);
	NEXT(poll);
#endif
	if (spec == NULL || (max_move = strtol(spec, &end, 10)) < 0 || end == spec)
		return;
	for (p = end; *p == ',';) {
		p++;
		if (address_option(&p, "unreachable=", &unreachable) ||
		    address_option(&p, "unreachable-net=", &unreachable_net)) {
			continue;
		} else if (strncmp(p, "files", 5) == 0) {
			touch_files = 1;
			p += 5;
		} else if (!option(&p, "eintr=", &eintr_every) && !option(&p, "seed=", &seed_option) &&
			   !option(&p, "listen-delay=", &listen_delay_ms) &&
			   !option(&p, "listen-fail=", &listen_fail_at) &&
			   !option(&p, "spawn-fail=", &spawn_fail_at) &&
			   !option(&p, "accept-abort=", &accept_abort_at) &&
			   !option(&p, "recv-reset=", &recv_reset_at) &&
			   !option(&p, "socket-fail=", &socket_fail_at) &&
			   !option(&p, "close-errno=", &close_errno) &&
			   !option(&p, "close-fail=", &close_fail) &&
			   !option(&p, "connect-eintr=", &connect_eintr_every) &&
			   !option(&p, "poll-eintr=", &poll_eintr_every) &&
			   !option(&p, "send-pace=", &send_pace_us)) {
			break;
		}
	}
	if (seed_option > 0)
		seed = (unsigned long)seed_option;
	active = 1;
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
	log_line("shortio loaded in %s: at most %ld bytes a call, EINTR every %ld calls%s; %s\n",
		 program_path(), max_move, eintr_every, touch_files ? ", files and pipes too" : "",
		 getenv("SL_SHORTIO"));
	atexit(at_exit_count);
}

/* touched(FD): whether calls on FD are made short. */
static int touched(int fd)
{
	struct stat st;

	if (!active || fd <= 2 || fd == log_fd || fstat(fd, &st) != 0)
		return 0;
	return S_ISSOCK(st.st_mode) || (touch_files && (S_ISFIFO(st.st_mode) || S_ISREG(st.st_mode)));
}

/* shorten(OP, FD, LEN): how many of LEN bytes this call may move, or -1
 * (errno EINTR) for a call that must fail before moving any. */
static ssize_t shorten(const char *op, int fd, size_t len)
{
	unsigned long n = atomic_fetch_add(&calls, 1) + 1, x;
	size_t allowed;

	if (send_pace_us > 0 && (op[0] == 's' || op[0] == 'w')) {
		struct timespec ts = { send_pace_us / 1000000, send_pace_us % 1000000 * 1000L };

		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			continue;
	}

	if (eintr_every > 0 && n % (unsigned long)eintr_every == 0) {
		if (atomic_fetch_add(&logged, 1) < LOG_LINES)
			log_line("%s fd=%d asked=%zu EINTR\n", op, fd, len);
		errno = EINTR;
		return -1;
	}
	if (max_move < 1)
		return (ssize_t)len;
	/* xorshift of the call number and the seed: repeatable sizes */
	x = (n * 2654435761UL) ^ seed;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	allowed = 1 + (size_t)(x % (unsigned long)max_move);
	return (ssize_t)(allowed < len ? allowed : len);
}

/* moved(OP, FD, LEN, ALLOWED, GOT): log a call the shim cut short. */
static ssize_t moved(const char *op, int fd, size_t len, ssize_t allowed, ssize_t got)
{
	if (got > 0 && allowed < (ssize_t)len && atomic_fetch_add(&logged, 1) < LOG_LINES)
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
		return moved(op, fd, len, n_, call((size_t)n_));        \
	} while (0)

#if defined(__APPLE__)
#define EXPORT(name) static ssize_t my_##name
#define EXPORT_INT(name) static int my_##name
#define EXPORT_PID(name) static pid_t my_##name
#else
#define EXPORT(name) ssize_t name
#define EXPORT_INT(name) int name
#define EXPORT_PID(name) pid_t name
#endif

EXPORT(send)(int fd, const void *buf, size_t len, int flags)
{
#define CALL(n) REAL(send)(fd, buf, n, flags)
	WRAP_OUT("send", CALL, fd, len);
#undef CALL
}

#if defined(__linux__)
/* sendfile(2) (Linux): a server's copy of a file to a socket in the
 * kernel is cut short like a send(); sendfile64 is the same function
 * under the name large-file builds call. */
ssize_t sendfile(int out, int in, off_t *offset, size_t len)
{
#define CALL(n) REAL(sendfile)(out, in, offset, n)
	WRAP_OUT("sendfile", CALL, out, len);
#undef CALL
}

ssize_t sendfile64(int out, int in, off_t *offset, size_t len)
{
	return sendfile(out, in, offset, len);
}
#endif

EXPORT(write)(int fd, const void *buf, size_t len)
{
#define CALL(n) REAL(write)(fd, buf, n)
	WRAP_OUT("write", CALL, fd, len);
#undef CALL
}

/* reset(OP, FD): whether this read of a socket must fail with ECONNRESET. */
static int reset(const char *op, int fd)
{
	struct stat st;

	if (recv_reset_at < 1 || fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode))
		return 0;
	if (atomic_fetch_add(&socket_reads, 1) + 1 < (unsigned long)recv_reset_at)
		return 0;
	if (atomic_fetch_add(&logged, 1) < LOG_LINES)
		log_line("%s fd=%d ECONNRESET\n", op, fd);
	errno = ECONNRESET;
	return 1;
}

EXPORT(recv)(int fd, void *buf, size_t len, int flags)
{
#define CALL(n) REAL(recv)(fd, buf, n, flags)
	if (active && reset("recv", fd))
		return -1;
	if (flags & MSG_WAITALL)
		return CALL(len);
	WRAP_OUT("recv", CALL, fd, len);
#undef CALL
}

EXPORT(read)(int fd, void *buf, size_t len)
{
#define CALL(n) REAL(read)(fd, buf, n)
	if (active && fd > 2 && reset("read", fd))
		return -1;
	WRAP_OUT("read", CALL, fd, len);
#undef CALL
}

/* ---- the faults ----------------------------------------------------- */

/* nth(COUNTER, AT): whether this call, counted by COUNTER, is the AT-th. */
static int nth(atomic_ulong *counter, long at)
{
	return atomic_fetch_add(counter, 1) + 1 == (unsigned long)at && at > 0;
}

EXPORT_INT(listen)(int fd, int backlog)
{
	if (active && listen_delay_ms > 0) {
		struct timespec ts = { listen_delay_ms / 1000, listen_delay_ms % 1000 * 1000000L };
		log_line("listen fd=%d delayed %ld ms\n", fd, listen_delay_ms);
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			continue;
	}
	if (active && nth(&listens, listen_fail_at)) {
		log_line("listen fd=%d EADDRINUSE\n", fd);
		errno = EADDRINUSE;
		return -1;
	}
	return REAL(listen)(fd, backlog);
}

EXPORT_INT(accept)(int fd, struct sockaddr *addr, socklen_t *len)
{
	if (active && nth(&accepts, accept_abort_at)) {
		log_line("accept fd=%d ECONNABORTED, then SIGCHLD\n", fd);
		errno = ECONNABORTED;
		/* a child's end, signalled between the failure and the program's
		 * look at errno: a handler that does not keep errno changes it */
		raise(SIGCHLD);
		return -1;
	}
	return REAL(accept)(fd, addr, len);
}

EXPORT_PID(fork)(void)
{
	if (active && nth(&spawns, spawn_fail_at)) {
		log_line("fork EAGAIN\n");
		errno = EAGAIN;
		return -1;
	}
	return REAL(fork)();
}

EXPORT_INT(pthread_create)(pthread_t *t, const pthread_attr_t *attr, void *(*start)(void *), void *arg)
{
	if (active && nth(&spawns, spawn_fail_at)) {
		log_line("pthread_create EAGAIN\n");
		return EAGAIN;
	}
	return REAL(pthread_create)(t, attr, start, arg);
}

EXPORT_INT(socket)(int domain, int type, int protocol)
{
	int base = type;

#ifdef SOCK_CLOEXEC
	base &= ~SOCK_CLOEXEC;
#endif
#ifdef SOCK_NONBLOCK
	base &= ~SOCK_NONBLOCK;
#endif
	if (active && socket_fail_at > 0 && base == SOCK_STREAM &&
	    atomic_fetch_add(&sockets, 1) + 1 >= (unsigned long)socket_fail_at) {
		log_line("socket EMFILE\n");
		errno = EMFILE;
		return -1;
	}
	return REAL(socket)(domain, type, protocol);
}

EXPORT_INT(close)(int fd)
{
	struct stat st;
	int file = active && close_fail > 0 && fd > 2 && fd != log_fd &&
		   fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	int r = REAL(close)(fd);

	if (r == 0 && file) {
		log_line("close fd=%d EIO (a regular file)\n", fd);
		errno = EIO;
		return -1;
	}
	if (r == 0 && active && close_errno > 0 && fd != log_fd) {
		log_line("close fd=%d ok, errno left ENOTTY\n", fd);
		errno = ENOTTY;
	}
	return r;
}

EXPORT_INT(connect)(int fd, const struct sockaddr *to, socklen_t len)
{
	if (active && to != NULL && to->sa_family == AF_INET &&
	    len >= (socklen_t)sizeof(struct sockaddr_in)) {
		struct sockaddr_in sin;

		memcpy(&sin, to, sizeof sin);
		if (unreachable.s_addr != 0 && sin.sin_addr.s_addr == unreachable.s_addr) {
			log_line("connect fd=%d EHOSTUNREACH\n", fd);
			errno = EHOSTUNREACH;
			return -1;
		}
		if (unreachable_net.s_addr != 0 && sin.sin_addr.s_addr == unreachable_net.s_addr) {
			log_line("connect fd=%d ENETUNREACH\n", fd);
			errno = ENETUNREACH;
			return -1;
		}
	}
	if (active && connect_eintr_every > 0) {
		int r = REAL(connect)(fd, to, len);

		if ((r == 0 || errno == EINPROGRESS) &&
		    (atomic_fetch_add(&connects, 1) + 1) % (unsigned long)connect_eintr_every == 0) {
			log_line("connect fd=%d %s, reported as EINTR\n", fd,
				 r == 0 ? "connected" : "EINPROGRESS");
			errno = EINTR;
			return -1;
		}
		return r;
	}
	return REAL(connect)(fd, to, len);
}

EXPORT_INT(poll)(struct pollfd *fds, nfds_t n, int timeout)
{
	if (active && poll_eintr_every > 0 && timeout != 0 &&
	    (atomic_fetch_add(&polls, 1) + 1) % (unsigned long)poll_eintr_every == 0) {
		if (atomic_fetch_add(&logged, 1) < LOG_LINES)
			log_line("poll nfds=%lu timeout=%d EINTR\n", (unsigned long)n, timeout);
		errno = EINTR;
		return -1;
	}
	return REAL(poll)(fds, n, timeout);
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
INTERPOSE(listen);
INTERPOSE(accept);
INTERPOSE(fork);
INTERPOSE(pthread_create);
INTERPOSE(socket);
INTERPOSE(close);
INTERPOSE(connect);
INTERPOSE(poll);
#endif
