/*
 * peer.c - the helpers every grader peer links (see peer.h).
 */
#define _POSIX_C_SOURCE 200809L

#include "peer.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *peer_name = "peer";
static FILE *peer_logfile;
static long long peer_start_ms;

void peer_init(const char *name)
{
	peer_name = name;
	peer_start_ms = peer_now_ms();
	/* A student's program may close on us mid-send: that is a test
	 * outcome to log, never a reason for the peer to die. */
	signal(SIGPIPE, SIG_IGN);
}

void peer_die(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	fprintf(stderr, "%s: ", peer_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (fmt[0] != '\0' && fmt[strlen(fmt) - 1] == ':')
		fprintf(stderr, " %s", strerror(saved));
	fputc('\n', stderr);
	exit(2);
}

void peer_set_lifetime(unsigned seconds)
{
	/* SIGALRM's default action ends the process: exactly what we want. */
	signal(SIGALRM, SIG_DFL);
	alarm(seconds);
}

long peer_number(const char *text, long max, const char *what)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || n < 0 || n > max)
		peer_die("bad %s '%s' (0..%ld)", what, text, max);
	return n;
}

/* Write the bound port to PATH via a temporary file and rename(), so a
 * reader polling for PATH sees either nothing or the whole number. */
static void write_portfile(const char *path, int lfd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	char host[1025], port[32], tmp[4096];	/* NI_MAXHOST is not POSIX */
	FILE *f;

	if (getsockname(lfd, (struct sockaddr *)&ss, &len) < 0)
		peer_die("getsockname:");
	if (getnameinfo((struct sockaddr *)&ss, len, host, sizeof host, port,
			sizeof port, NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		peer_die("getnameinfo failed");
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	f = fopen(tmp, "w");
	if (f == NULL)
		peer_die("%s:", tmp);
	fprintf(f, "%s\n", port);
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		peer_die("%s:", path);
}

int peer_listen(const char *host, const char *port, const char *portfile)
{
	struct addrinfo hints, *res;
	int fd, one = 1, err;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
	err = getaddrinfo(host, port, &hints, &res);
	if (err != 0)
		peer_die("listen address %s port %s: %s", host, port,
			 gai_strerror(err));
	fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
	if (fd < 0)
		peer_die("socket:");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, res->ai_addr, res->ai_addrlen) < 0)
		peer_die("bind %s port %s:", host, port);
	freeaddrinfo(res);
	if (listen(fd, 128) < 0)
		peer_die("listen:");
	if (portfile != NULL)
		write_portfile(portfile, fd);
	return fd;
}

int peer_accept(int lfd)
{
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		if (fd >= 0)
			return fd;
		if (errno != EINTR && errno != ECONNABORTED)
			peer_die("accept:");
	}
}

int peer_connect(const char *host, const char *port, int timeout_ms)
{
	struct addrinfo hints, *res;
	struct pollfd pfd;
	int fd, flags, err = 0, rc;
	socklen_t errlen = sizeof err;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if (getaddrinfo(host, port, &hints, &res) != 0) {
		errno = EINVAL;
		return -1;
	}
	fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
	if (fd < 0) {
		freeaddrinfo(res);
		return -1;
	}
	/* Connect without blocking, then wait at most TIMEOUT_MS. */
	flags = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	rc = connect(fd, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	if (rc < 0 && errno == EINPROGRESS) {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		rc = poll(&pfd, 1, timeout_ms);
		if (rc == 0) {
			errno = ETIMEDOUT;
			rc = -1;
		} else if (rc > 0) {
			getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errlen);
			errno = err;
			rc = err == 0 ? 0 : -1;
		}
	}
	if (rc < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	fcntl(fd, F_SETFL, flags);
	return fd;
}

int peer_send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int peer_send_slowly(int fd, const void *buf, size_t len, size_t chunk,
		     int delay_ms)
{
	const char *p = buf;

	if (chunk == 0)
		chunk = 1;
	while (len > 0) {
		size_t n = len < chunk ? len : chunk;
		if (peer_send_all(fd, p, n) < 0)
			return -1;
		p += n;
		len -= n;
		if (len > 0)
			peer_sleep_ms(delay_ms);
	}
	return 0;
}

void peer_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

long long peer_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* splitmix64: a tiny, well-mixed generator; block K of the stream is
 * splitmix64(SEED + K), so any offset can be computed directly. */
static uint64_t splitmix64(uint64_t x)
{
	x += UINT64_C(0x9e3779b97f4a7c15);
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	return x ^ (x >> 31);
}

void peer_fill(unsigned char *buf, size_t len, uint64_t seed, uint64_t offset)
{
	uint64_t base = seed * UINT64_C(0x100000001b3);
	uint64_t block = splitmix64(base + offset / 8);

	for (size_t i = 0; i < len; i++) {
		uint64_t pos = offset + i;
		if (pos % 8 == 0 && i > 0)
			block = splitmix64(base + pos / 8);	/* the next 8 bytes */
		buf[i] = (unsigned char)(block >> (8 * (pos % 8)));
	}
}

void peer_log_open(const char *path)
{
	if (path == NULL)
		return;
	peer_logfile = fopen(path, "a");
	if (peer_logfile == NULL)
		peer_die("%s:", path);
	setvbuf(peer_logfile, NULL, _IOLBF, 0);
}

void peer_log(const char *fmt, ...)
{
	va_list ap;

	if (peer_logfile == NULL)
		return;
	fprintf(peer_logfile, "[%6lld ms] ", peer_now_ms() - peer_start_ms);
	va_start(ap, fmt);
	vfprintf(peer_logfile, fmt, ap);
	va_end(ap);
	fputc('\n', peer_logfile);
	fflush(peer_logfile);
}

void peer_log_bytes(const char *prefix, const void *buf, size_t len,
		    size_t max)
{
	const unsigned char *p = buf;
	size_t n = len < max ? len : max;

	if (peer_logfile == NULL)
		return;
	fprintf(peer_logfile, "[%6lld ms] %s", peer_now_ms() - peer_start_ms,
		prefix);
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\r')
			fputs("\\r", peer_logfile);
		else if (p[i] == '\n')
			fputs("\\n", peer_logfile);
		else if (p[i] == '\\')
			fputs("\\\\", peer_logfile);
		else if (p[i] >= 0x20 && p[i] < 0x7f)
			fputc(p[i], peer_logfile);
		else
			fprintf(peer_logfile, "\\x%02x", p[i]);
	}
	if (n < len)
		fprintf(peer_logfile, "... (%zu bytes in all)", len);
	fputc('\n', peer_logfile);
	fflush(peer_logfile);
}
