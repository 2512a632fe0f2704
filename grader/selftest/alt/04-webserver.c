/*
 * A second, deliberately different webserver (lab 04), written from the
 * SPEC and the handout's contract alone. The self-test grades it and
 * expects 100/100: proof that the tests check the contract, not the
 * reference solution's choices.
 *
 * Where it differs from the reference:
 * - a process per connection: fork() after accept(); the child closes the
 *   listener, serves one request and _exit()s; the parent closes the
 *   connection and goes back to accept(). Zombies are reaped by a SIGCHLD
 *   handler (SA_RESTART, waitpid(WNOHANG) in a loop, errno saved).
 * - the connection is non-blocking in the child; every wait is a poll():
 *   one deadline for the whole request head, and the idle limit again for
 *   each wait to send (no SO_SNDTIMEO).
 * - read()/write() on the socket, a 32 KiB file buffer, the head sent on
 *   its own before the body.
 * - header fields in another order (Server first, Date last),
 *   `Content-Type: text/html` and `text/plain` without a charset, another
 *   Server value, another error page, case-insensitive file extensions.
 * - the log line is formatted into a buffer and written with write() on
 *   descriptor 1 by the child itself (no stdio after fork()).
 * - other wording for every message; the usage goes to stdout for -h and
 *   to stderr for a bad command line.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE  /* glibc: IFF_UP in <net/if.h> (getifaddrs) */
#define _DARWIN_C_SOURCE /* macOS: the same */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HEAD_LIMIT 8192         /* request line and fields, blank line included */
#define FILE_CHUNK (32 * 1024)  /* bytes read from a file at a time */
#define LINGER_MS 1000          /* how long to drain a client after replying */
#define SERVER_NAME "sl-alt-webserver/0.4 (fork per connection)"

static const char *prog = "webserver";

/* The settings, shared by the parent and (copied by fork) every child. */
static const char *opt_addr = "127.0.0.1";
static const char *opt_port = "8080";
static const char *opt_root = ".";
static int opt_idle = 10;
static char root_real[PATH_MAX]; /* realpath() of the document root */
static size_t root_len;

static void usage(FILE *to)
{
	fprintf(to, "Usage: %s [-a ADDR] [-p PORT] [-r DOCROOT] [-t SECONDS]\n"
		    "  -a ADDR     address to listen on (default 127.0.0.1)\n"
		    "  -p PORT     TCP port (default 8080)\n"
		    "  -r DOCROOT  folder to serve (default: the current one)\n"
		    "  -t SECONDS  idle limit for a client (default 10)\n"
		    "  -h          this help\n", prog);
}

/* The decimal number in S, if it is one within [lo, hi]; else -1. */
static long decimal(const char *s, long lo, long hi)
{
	long v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
		if (v > hi)
			return -1;
	}
	return v < lo ? -1 : v;
}

/* Milliseconds on the monotonic clock. */
static long long clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait up to MS for EVENTS on FD: 1 ready, 0 time is up, -1 error. */
static int wait_for(int fd, short events, long long ms)
{
	long long until = clock_ms() + (ms < 0 ? 0 : ms);

	for (;;) {
		struct pollfd p;
		long long left = until - clock_ms();
		int n;

		p.fd = fd;
		p.events = events;
		p.revents = 0;
		n = poll(&p, 1, left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left);
		if (n >= 0)
			return n;
		if (errno != EINTR || left <= 0)
			return -1;
	}
}

/* Write all N bytes to the non-blocking FD, waiting at most the idle limit
 * each time it takes nothing. 0 when all is gone, -1 (errno set) if not. */
static int put_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int r = wait_for(fd, POLLOUT, (long long)opt_idle * 1000);
			if (r == 0) {
				errno = ETIMEDOUT;
				return -1;
			}
			if (r < 0)
				return -1;
			continue;
		}
		if (w == 0)
			errno = EIO;
		return -1;
	}
	return 0;
}

/* ---- the SIGCHLD handler: no zombies ---------------------------------- */

static void reap(int sig)
{
	int saved = errno;

	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	errno = saved;
}

/* ---- start-up: listen, say so ----------------------------------------- */

/* "ADDR:PORT", with IPv6 addresses in brackets; port 0 leaves it out. */
static int name_of(const struct sockaddr *sa, socklen_t len, char *out,
		   size_t size, int with_port)
{
	char host[INET6_ADDRSTRLEN + 16], serv[16];

	if (getnameinfo(sa, len, host, sizeof host, serv, sizeof serv,
			NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		return -1;
	if (sa->sa_family == AF_INET6)
		snprintf(out, size, with_port ? "[%s]:%s" : "[%s]", host, serv);
	else
		snprintf(out, size, with_port ? "%s:%s" : "%s", host, serv);
	return 0;
}

static int listen_on(const char *addr, const char *port)
{
	struct addrinfo hints, *all, *ai;
	int fd = -1, err = 0, rc;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(addr, port, &hints, &all);
	if (rc != 0) {
		fprintf(stderr, "%s: cannot resolve %s: %s\n", prog, addr,
			gai_strerror(rc));
		return -1;
	}
	for (ai = all; ai != NULL; ai = ai->ai_next) {
		int one = 1;

		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
		    bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, SOMAXCONN) == 0)
			break;
		err = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(all);
	if (fd < 0)
		fprintf(stderr, "%s: bind %s:%s: %s\n", prog, addr, port,
			strerror(err));
	return fd;
}

/* For a wildcard listener, one URL per address of this machine. */
static void list_addresses(int lfd, const struct sockaddr_storage *me)
{
	struct ifaddrs *list, *i;
	const char *port;
	char pbuf[16], text[INET6_ADDRSTRLEN + 8];
	int v6only = 0, want4, want6;

	if (me->ss_family == AF_INET) {
		want4 = 1;
		want6 = 0;
		snprintf(pbuf, sizeof pbuf, "%u",
			 ntohs(((const struct sockaddr_in *)me)->sin_port));
	} else {
		socklen_t l = sizeof v6only;
		if (getsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &l) != 0)
			v6only = 0;
		want4 = !v6only;
		want6 = 1;
		snprintf(pbuf, sizeof pbuf, "%u",
			 ntohs(((const struct sockaddr_in6 *)me)->sin6_port));
	}
	port = pbuf;
	if (getifaddrs(&list) != 0) {
		fprintf(stderr, "%s: listing this machine's addresses: %s\n",
			prog, strerror(errno));
		return;
	}
	for (i = list; i != NULL; i = i->ifa_next) {
		const struct sockaddr *sa = i->ifa_addr;
		socklen_t len;

		if (sa == NULL || !(i->ifa_flags & IFF_UP))
			continue;
		if (sa->sa_family == AF_INET && want4)
			len = sizeof(struct sockaddr_in);
		else if (sa->sa_family == AF_INET6 && want6) {
			const struct sockaddr_in6 *s6 =
				(const struct sockaddr_in6 *)(const void *)sa;
			if (IN6_IS_ADDR_LINKLOCAL(&s6->sin6_addr))
				continue;
			len = sizeof(struct sockaddr_in6);
		} else
			continue;
		if (name_of(sa, len, text, sizeof text, 0) == 0)
			printf("http://%s:%s/\n", text, port);
	}
	freeifaddrs(list);
}

static int announce(int lfd)
{
	struct sockaddr_storage me;
	socklen_t len = sizeof me;
	char text[INET6_ADDRSTRLEN + 24];
	int wildcard = 0;

	if (getsockname(lfd, (struct sockaddr *)&me, &len) != 0 ||
	    name_of((struct sockaddr *)&me, len, text, sizeof text, 1) != 0) {
		fprintf(stderr, "%s: getsockname: %s\n", prog, strerror(errno));
		return -1;
	}
	printf("Server is ready on http://%s/ serving %s\n", text, opt_root);
	if (me.ss_family == AF_INET)
		wildcard = ((struct sockaddr_in *)&me)->sin_addr.s_addr ==
			   htonl(INADDR_ANY);
	else if (me.ss_family == AF_INET6)
		wildcard = IN6_IS_ADDR_UNSPECIFIED(
			&((struct sockaddr_in6 *)&me)->sin6_addr);
	if (wildcard)
		list_addresses(lfd, &me);
	fflush(stdout);
	return 0;
}

/* ---- one connection, in its child process ------------------------------ */

struct exchange {
	int fd;
	char peer[INET6_ADDRSTRLEN + 8];
	char head[HEAD_LIMIT + 1];
	size_t got;          /* bytes in head[] */
	const char *line;    /* the request line for the log, or NULL: "-" */
	size_t line_len;
	int head_only;       /* HEAD: no body */
	int status;
	long long body_bytes;
};

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 301: return "Moved Permanently";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 408: return "Request Timeout";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default:  return "Internal Server Error";
	}
}

static void http_date(time_t t, char *out, size_t size)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, size, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static void warn_client(const struct exchange *x, const char *what)
{
	fprintf(stderr, "%s: %s %s: %s\n", prog, what, x->peer, strerror(errno));
}

/* Where the blank line ends, looking from FROM on: its length, or 0. A line
 * ends in LF (CR LF or a bare LF, RFC 9112 2.2); a blank one is empty or a
 * lone CR. */
static size_t blank_line_end(const char *b, size_t from, size_t len)
{
	for (size_t i = from; i < len; i++) {
		if (b[i] != '\n')
			continue;
		if (i >= 1 && b[i - 1] == '\n')
			return i + 1;
		if (i >= 2 && b[i - 1] == '\r' && b[i - 2] == '\n')
			return i + 1;
	}
	return 0;
}

/* Receive the request head: 0 once it is in, a status to answer with, or -1
 * when there is nobody to answer (closed or silent before a byte). */
static int receive_head(struct exchange *x, size_t *head_len)
{
	long long deadline = clock_ms() + (long long)opt_idle * 1000;

	for (;;) {
		long long left = deadline - clock_ms();
		ssize_t r;
		int ready;

		if (x->got == HEAD_LIMIT)
			return 431;
		if (left <= 0)
			return x->got > 0 ? 408 : -1;
		ready = wait_for(x->fd, POLLIN, left);
		if (ready < 0)
			return -1;
		if (ready == 0)
			continue;
		r = read(x->fd, x->head + x->got, HEAD_LIMIT - x->got);
		if (r < 0 && (errno == EINTR || errno == EAGAIN ||
			      errno == EWOULDBLOCK))
			continue;
		if (r <= 0)
			return x->got > 0 && r == 0 ? 400 : -1;
		size_t from = x->got >= 2 ? x->got - 2 : 0;
		x->got += (size_t)r;
		*head_len = blank_line_end(x->head, from, x->got);
		if (*head_len > 0)
			return 0;
	}
}

static int is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c));
}

static int hex(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Check the header fields in [p, end): every line `token: value`. */
static int fields_ok(const char *p, const char *end)
{
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *stop = nl != NULL ? nl : end;
		const char *q = p;

		if (stop > p && stop[-1] == '\r')
			stop--;
		if (stop == p) /* the blank line */
			return 1;
		while (q < stop && is_tchar((unsigned char)*q))
			q++;
		if (q == p || q == stop || *q != ':')
			return 0;
		for (q++; q < stop; q++) {
			unsigned char c = (unsigned char)*q;
			if ((c < 0x20 && c != '\t') || c == 0x7f)
				return 0;
		}
		if (nl == NULL)
			return 1;
		p = nl + 1;
	}
	return 1;
}

/*
 * Parse the head. On success 0, with the target's path (still encoded,
 * query cut off) in [*path, *path + *path_len). Else the status to send.
 */
static int parse_head(struct exchange *x, size_t head_len, const char **path,
		      size_t *path_len)
{
	char *h = x->head;
	char *nl = memchr(h, '\n', head_len);
	size_t n = (size_t)(nl - h);
	char *sp1, *sp2, *target, *version;
	size_t mlen, tlen, vlen;

	if (n > 0 && h[n - 1] == '\r')
		n--;
	x->line = h;
	x->line_len = n;

	sp1 = memchr(h, ' ', n);
	if (sp1 == NULL)
		return 400;
	mlen = (size_t)(sp1 - h);
	target = sp1 + 1;
	sp2 = memchr(target, ' ', n - mlen - 1);
	if (sp2 == NULL)
		return 400;
	tlen = (size_t)(sp2 - target);
	version = sp2 + 1;
	vlen = n - mlen - tlen - 2;

	if (mlen == 0 || tlen == 0)
		return 400;
	for (size_t i = 0; i < mlen; i++)
		if (!is_tchar((unsigned char)h[i]))
			return 400;
	x->head_only = mlen == 4 && memcmp(h, "HEAD", 4) == 0;
	for (size_t i = 0; i < tlen; i++)
		if ((unsigned char)target[i] <= ' ' || (unsigned char)target[i] > '~')
			return 400;
	if (!(vlen == 8 && (memcmp(version, "HTTP/1.1", 8) == 0 ||
			    memcmp(version, "HTTP/1.0", 8) == 0))) {
		if (vlen == 8 && memcmp(version, "HTTP/", 5) == 0 &&
		    version[5] >= '0' && version[5] <= '9' && version[6] == '.' &&
		    version[7] >= '0' && version[7] <= '9')
			return 505;
		return 400;
	}
	if (!fields_ok(nl + 1, h + head_len))
		return 400;
	if (!(mlen == 3 && memcmp(h, "GET", 3) == 0) && !x->head_only)
		return 501;

	/* The absolute form (a proxy's): http://host/path counts as /path. */
	if (tlen >= 7 && strncasecmp(target, "http://", 7) == 0) {
		char *slash = memchr(target + 7, '/', tlen - 7);
		if (slash == NULL) {
			*path = "/";
			*path_len = 1;
			return 0;
		}
		tlen -= (size_t)(slash - target);
		target = slash;
	}
	if (target[0] != '/')
		return 400;
	*path = target;
	*path_len = strcspn(target, "?# ");
	if (*path_len > tlen)
		*path_len = tlen;
	return 0;
}

/* Percent-decode [in, in + n) into OUT (SIZE bytes). 0, or a status. */
static int decode(const char *in, size_t n, char *out, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == '%') {
			int hi = i + 2 < n ? hex((unsigned char)in[i + 1]) : -1;
			int lo = hi >= 0 ? hex((unsigned char)in[i + 2]) : -1;
			if (hi < 0 || lo < 0)
				return 400;
			c = (unsigned char)(hi * 16 + lo);
			if (c == 0)
				return 400;
			i += 2;
		}
		if (o + 1 >= size)
			return 414;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

/* 1 if some segment of the decoded path is "..". */
static int has_dotdot(const char *p)
{
	while (*p != '\0') {
		size_t seg;

		while (*p == '/')
			p++;
		seg = strcspn(p, "/");
		if (seg == 2 && p[0] == '.' && p[1] == '.')
			return 1;
		p += seg;
	}
	return 0;
}

/* The status a failed realpath() or open() deserves. */
static int status_of(int err)
{
	switch (err) {
	case ENOENT:
	case ENOTDIR:
		return 404;
	case ENAMETOOLONG:
		return 414;
	case EMFILE:
	case ENFILE:
	case ENOMEM:
		/* the server's own trouble: say so */
		fprintf(stderr, "%s: open: %s\n", prog, strerror(err));
		return 503;
	default:
		return 403; /* EACCES, ELOOP, ... */
	}
}

/* Resolve NAME to REAL (PATH_MAX) and require it inside the root. */
static int resolve_inside(const char *name, char *real)
{
	if (realpath(name, real) == NULL)
		return status_of(errno);
	if (root_len == 1) /* the root is "/" */
		return 0;
	if (strncmp(real, root_real, root_len) != 0 ||
	    (real[root_len] != '\0' && real[root_len] != '/'))
		return 403;
	return 0;
}

static const char *content_type(const char *name)
{
	static const char *const table[][2] = {
		{ "html", "text/html" },         { "htm", "text/html" },
		{ "txt", "text/plain" },         { "css", "text/css" },
		{ "js", "text/javascript" },     { "json", "application/json" },
		{ "png", "image/png" },          { "jpg", "image/jpeg" },
		{ "jpeg", "image/jpeg" },        { "gif", "image/gif" },
		{ "svg", "image/svg+xml" },      { "ico", "image/x-icon" },
		{ "pdf", "application/pdf" },
	};
	const char *base = strrchr(name, '/');
	const char *dot;

	base = base != NULL ? base + 1 : name;
	dot = strrchr(base, '.');
	if (dot != NULL && dot != base)
		for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
			if (strcasecmp(dot + 1, table[i][0]) == 0)
				return table[i][1];
	return "application/octet-stream";
}

/* Send an error (or the 301) with its short HTML page. */
static void send_error(struct exchange *x, int status, const char *location,
		       size_t location_len)
{
	char body[512], head[1024 + HEAD_LIMIT], date[64];
	int blen, hlen;

	blen = snprintf(body, sizeof body,
			"<!DOCTYPE html>\n<html><head><title>%d %s</title></head>\n"
			"<body><h2>%d %s</h2></body></html>\n",
			status, reason(status), status, reason(status));
	http_date(time(NULL), date, sizeof date);
	hlen = snprintf(head, sizeof head,
			"HTTP/1.1 %d %s\r\nServer: %s\r\nConnection: close\r\n"
			"Content-Type: text/html\r\nContent-Length: %d\r\n",
			status, reason(status), SERVER_NAME, blen);
	if (location != NULL)
		hlen += snprintf(head + hlen, sizeof head - (size_t)hlen,
				 "Location: %.*s/\r\n", (int)location_len, location);
	hlen += snprintf(head + hlen, sizeof head - (size_t)hlen,
			 "Date: %s\r\n\r\n", date);
	x->status = status;
	if (put_all(x->fd, head, (size_t)hlen) < 0) {
		warn_client(x, "sending to");
		return;
	}
	if (!x->head_only) {
		if (put_all(x->fd, body, (size_t)blen) < 0)
			warn_client(x, "sending to");
		else
			x->body_bytes = blen;
	}
}

/* Send the 200: its head, then (for GET) the file, a chunk at a time. */
static void send_file(struct exchange *x, int fd, const struct stat *st,
		      const char *name)
{
	char head[1024], date[64], mdate[64], chunk[FILE_CHUNK];
	long long left = (long long)st->st_size;
	int hlen;

	http_date(time(NULL), date, sizeof date);
	http_date(st->st_mtime, mdate, sizeof mdate);
	hlen = snprintf(head, sizeof head,
			"HTTP/1.1 200 OK\r\nServer: %s\r\nConnection: close\r\n"
			"Content-Type: %s\r\nContent-Length: %lld\r\n"
			"Last-Modified: %s\r\nDate: %s\r\n\r\n",
			SERVER_NAME, content_type(name), left, mdate, date);
	x->status = 200;
	if (put_all(x->fd, head, (size_t)hlen) < 0) {
		warn_client(x, "sending to");
		return;
	}
	if (x->head_only)
		return;
	while (left > 0) {
		size_t want = left < FILE_CHUNK ? (size_t)left : FILE_CHUNK;
		ssize_t r = read(fd, chunk, want);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fprintf(stderr, "%s: reading %s: %s\n", prog, name,
				strerror(errno));
			return;
		}
		if (r == 0) /* the file shrank: the client sees a short body */
			return;
		if (put_all(x->fd, chunk, (size_t)r) < 0) {
			warn_client(x, "sending a file to");
			return;
		}
		left -= r;
		x->body_bytes += r;
	}
}

/* Map the decoded PATH to a file and answer. RAW is the encoded path, for
 * a 301's Location. */
static void answer(struct exchange *x, const char *raw, size_t raw_len)
{
	char decoded[HEAD_LIMIT + 1], joined[PATH_MAX], real[PATH_MAX];
	char index_real[PATH_MAX];
	const char *name = decoded, *target = real;
	struct stat st;
	int status, fd, flags;

	status = decode(raw, raw_len, decoded, sizeof decoded);
	if (status == 0 && has_dotdot(decoded))
		status = 403;
	if (status == 0 &&
	    (size_t)snprintf(joined, sizeof joined, "%s%s",
			     root_len == 1 ? "" : root_real, decoded) >= sizeof joined)
		status = 414;
	if (status == 0)
		status = resolve_inside(joined, real);
	if (status == 0 && stat(real, &st) != 0)
		status = status_of(errno);
	if (status == 0 && S_ISDIR(st.st_mode)) {
		if (raw[raw_len - 1] != '/') {
			send_error(x, 301, raw, raw_len);
			return;
		}
		if ((size_t)snprintf(joined, sizeof joined, "%s/index.html",
				     root_len == 1 && real[1] == '\0' ? "" : real)
		    >= sizeof joined)
			status = 414;
		else
			status = resolve_inside(joined, index_real);
		name = "index.html";
		target = index_real;
	}
	if (status != 0) {
		send_error(x, status, NULL, 0);
		return;
	}
	fd = open(target, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		send_error(x, status_of(errno), NULL, 0);
		return;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (flags = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
		close(fd);
		send_error(x, 403, NULL, 0);
		return;
	}
	send_file(x, fd, &st, name);
	close(fd);
}

/* One Common Log Format line, written in one go on descriptor 1. */
static void log_line(const struct exchange *x)
{
	static char line[4 * HEAD_LIMIT + 256];
	char when[64], bytes[32];
	size_t n;
	struct tm tm;
	time_t now = time(NULL);

	localtime_r(&now, &tm);
	strftime(when, sizeof when, "%d/%b/%Y:%H:%M:%S %z", &tm);
	n = (size_t)snprintf(line, sizeof line, "%s - - [%s] \"", x->peer, when);
	if (x->line == NULL)
		line[n++] = '-';
	for (size_t i = 0; x->line != NULL && i < x->line_len; i++) {
		unsigned char c = (unsigned char)x->line[i];
		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			n += (size_t)snprintf(line + n, sizeof line - n, "\\x%02x", c);
		else
			line[n++] = (char)c;
	}
	if (x->body_bytes > 0)
		snprintf(bytes, sizeof bytes, "%lld", x->body_bytes);
	else
		strcpy(bytes, "-");
	n += (size_t)snprintf(line + n, sizeof line - n, "\" %d %s\n", x->status,
			      bytes);
	for (size_t off = 0; off < n;) {
		ssize_t w = write(STDOUT_FILENO, line + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
}

/* Close without losing the reply: stop sending, drain what the client
 * still sends for a moment (a close with unread data would reset), close. */
static void hang_up(int fd)
{
	char scratch[4096];
	long long until = clock_ms() + LINGER_MS;

	shutdown(fd, SHUT_WR);
	for (;;) {
		long long left = until - clock_ms();
		ssize_t r;

		if (left <= 0 || wait_for(fd, POLLIN, left) <= 0)
			break;
		r = read(fd, scratch, sizeof scratch);
		if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN &&
			       errno != EWOULDBLOCK))
			break;
	}
	close(fd);
}

static void serve_connection(int fd, const struct sockaddr *sa, socklen_t salen)
{
	static struct exchange x; /* static: the child serves exactly one */
	const char *path = NULL;
	size_t path_len = 0, head_len = 0;
	int status, flags;

	memset(&x, 0, sizeof x);
	x.fd = fd;
	if (getnameinfo(sa, salen, x.peer, sizeof x.peer, NULL, 0,
			NI_NUMERICHOST) != 0)
		strcpy(x.peer, "-");
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		warn_client(&x, "setting up");
		close(fd);
		return;
	}
	status = receive_head(&x, &head_len);
	if (status < 0) { /* nobody to answer */
		close(fd);
		return;
	}
	if (status == 400) { /* closed halfway: log what line there is */
		char *nl = memchr(x.head, '\n', x.got);
		if (nl != NULL) {
			x.line = x.head;
			x.line_len = (size_t)(nl - x.head);
			if (x.line_len > 0 && x.head[x.line_len - 1] == '\r')
				x.line_len--;
		}
	}
	if (status == 0)
		status = parse_head(&x, head_len, &path, &path_len);
	if (status == 0)
		answer(&x, path, path_len);
	else
		send_error(&x, status, NULL, 0);
	log_line(&x);
	hang_up(fd);
}

/* ---- main: options, listen, accept and fork ---------------------------- */

int main(int argc, char **argv)
{
	struct sigaction sa;
	struct stat st;
	int opt, lfd;
	long v;

	while ((opt = getopt(argc, argv, ":a:p:r:t:h")) != -1) {
		switch (opt) {
		case 'a':
			opt_addr = optarg;
			break;
		case 'p':
			if (decimal(optarg, 0, 65535) < 0) {
				fprintf(stderr, "%s: -p %s: not a port number (0 to 65535)\n",
					prog, optarg);
				return 2;
			}
			opt_port = optarg;
			break;
		case 'r':
			opt_root = optarg;
			break;
		case 't':
			v = decimal(optarg, 1, 86400);
			if (v < 0) {
				fprintf(stderr, "%s: -t %s: not a number of seconds (1 to 86400)\n",
					prog, optarg);
				return 2;
			}
			opt_idle = (int)v;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			fprintf(stderr, "%s: -%c: this option needs an argument\n",
				prog, optopt);
			usage(stderr);
			return 2;
		default:
			fprintf(stderr, "%s: -%c: no such option\n", prog,
				optopt);
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: %s: unexpected argument\n", prog, argv[optind]);
		usage(stderr);
		return 2;
	}

	if (realpath(opt_root, root_real) == NULL) {
		fprintf(stderr, "%s: document root %s: %s\n", prog, opt_root,
			strerror(errno));
		return 1;
	}
	if (stat(root_real, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "%s: document root %s: %s\n", prog, opt_root,
			strerror(ENOTDIR));
		return 1;
	}
	root_len = strlen(root_real);

	signal(SIGPIPE, SIG_IGN);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = reap;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	if (sigaction(SIGCHLD, &sa, NULL) != 0) {
		fprintf(stderr, "%s: sigaction: %s\n", prog, strerror(errno));
		return 1;
	}

	lfd = listen_on(opt_addr, opt_port);
	if (lfd < 0)
		return 1;
	if (announce(lfd) != 0) {
		close(lfd);
		return 1;
	}

	for (;;) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof peer;
		int cfd = accept(lfd, (struct sockaddr *)&peer, &plen);
		pid_t pid;

		if (cfd < 0) {
			if (errno != EINTR && errno != ECONNABORTED) {
				struct timespec pause = { 0, 100 * 1000000L };
				fprintf(stderr, "%s: accept: %s\n", prog, strerror(errno));
				nanosleep(&pause, NULL);
			}
			continue;
		}
		pid = fork();
		if (pid == 0) {
			close(lfd);
			signal(SIGCHLD, SIG_DFL);
			serve_connection(cfd, (struct sockaddr *)&peer, plen);
			_exit(0);
		}
		if (pid < 0)
			fprintf(stderr, "%s: fork: %s (client dropped)\n", prog,
				strerror(errno));
		close(cfd);
	}
}
