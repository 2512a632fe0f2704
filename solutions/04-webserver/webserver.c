#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE		/* glibc: getifaddrs() and IFF_UP too */
#define _DARWIN_C_SOURCE	/* macOS: the same, which _POSIX_C_SOURCE hides */
/* SOLUTION BEGIN */
/*
 * webserver.c - lab 04 of socketlab, the annotated reference solution.
 * Students never see this file: they get labs/04-webserver/starter.c,
 * which grader/tools/mkstarter makes from it by replacing the code between
 * the SOLUTION markers with the TODO(step N) text under each END marker.
 */
/* SOLUTION END, the starter has:
 *> /\*
 *>  * starter.c - lab 04 of socketlab: your web server.
 *>  * The boring parts are written: options, usage, error messages, the
 *>  * tables of status texts and content types, the glue that calls your
 *>  * functions in order.  Fill in the TODO(step N) places in order;
 *>  * handouts/04-webserver.md explains each step, and `make grade LAB=04`
 *>  * tells you how far you have got.
 *>  *\/
 */
/*
 * webserver - a static web server (HTTP/1.0 and 1.1, RFC 9110 and 9112):
 * it answers GET and HEAD with the files under one folder, DOCROOT, and
 * never with anything outside it.  One request per connection, many
 * connections at once, one Common Log Format line per request on stdout.
 *
 *	usage: webserver [-a ADDR] [-p PORT] [-r DOCROOT] [-t SECONDS]
 *
 *	cc -std=c11 -Wall -Wextra -g -pthread webserver.c -o webserver
 *	./webserver -r sample-data/site        http://127.0.0.1:8080/
 *	./webserver -a 0.0.0.0 -r ~/share      every address; prints them
 *	curl -v http://127.0.0.1:8080/         (another terminal)
 *
 * The lecture's Python server (webserver.py answers a GET with a file's
 * content), in the usual shape of such a server, and where each line went:
 *
 *	Python (webserver.py)              C (this file)
 *	---------------------------------  ---------------------------------
 *	s.bind(('localhost', port))        Step 1  open_listener(): as lab 03
 *	s.listen()
 *	print("Server is ready")           Step 2  print_ready(): the URL, and
 *	"run ipconfig" (the in-class step)         print_addresses() for 0.0.0.0
 *	conn, addr = s.accept()            Step 3  serve(): a pool of threads,
 *	(one client at a time)                     each in accept(), that grows
 *	request = conn.recv(1024)          Step 4  read_head(): recv until the
 *	                                           blank line, 8 KiB, a deadline
 *	filename = request.split()[1]      Step 5  parse_request(): method,
 *	                                           target, version, header lines
 *	open(filename[1:])                 Step 6  url_decode(), safe_path():
 *	                                           never outside DOCROOT
 *	                                   Step 7  open_target(): index.html,
 *	                                           301, a regular file only
 *	conn.send(b"HTTP/1.1 200 OK...")   Step 8  format_head(): status line,
 *	                                           Content-Type, -Length, dates
 *	conn.send(f.read())                Step 9  send_file(): in chunks,
 *	                                           every partial send finished
 *	except IOError: send 404           Step 10 send_error(): a status and
 *	                                           a short HTML body
 *	(nothing)                          Step 11 log_request(): Common Log
 *	                                           Format on stdout
 *	conn.close()                       close_client(): without losing
 *	                                           the reply
 *
 * What the Python version gets wrong, and this one does not: one recv()
 * may hold half a request; open(filename[1:]) with "/../../etc/passwd"
 * serves any file of the machine; f.read() holds a whole file in memory;
 * one client at a time, so one silent client stops the service.
 *
 * Concurrency: a growing pool of threads (step 3), chosen by measurement
 * on this kit's machine (2 CPUs, Linux; wrk, 1 KiB file, Connection:
 * close; handout "Concurrency models").  A thread made for each
 * connection served 10,000-11,500 requests a second, a process for each
 * 4,100-4,500 (fork() copies the page tables of the whole server for
 * every request), and threads that stay, each waiting in accept() for
 * its next client, 25,000-33,000, about as many as nginx with one
 * worker.  The code is the same blocking code in all three.  A fixed
 * pool would be stopped by as many silent clients as it has threads, and
 * this server must keep serving with 200 of them connected: so the
 * thread that takes the last idle place starts another first, and when
 * the crowd has gone the threads beyond IDLE_MAX idle ones end.  Two
 * more measured gains:
 * on Linux accept() returns a client only once its request has begun to
 * arrive (TCP_DEFER_ACCEPT, defer_accept()), and, in the reference
 * solution, a file's bytes after the first 64 KiB go by sendfile() (no
 * copy into this process: handout "Going further"); elsewhere both fall
 * back to the portable way, which gives the same replies.
 *	Per connection it costs a thread while it is served: 8 MiB of stack
 * reserved (address space, not memory), of which about 40 KiB is really
 * used (200 stalled clients: 10 MB resident in all), plus a descriptor,
 * two while a file is sent.  A stalled client holds that for at most the
 * -t timeout (10 s): the request head must be complete by then, and a
 * client that stops reading is dropped after the same time (SO_SNDTIMEO).
 * Nothing is shared between threads but stdout (the log: one locked
 * write a line), the pool's count of idle threads (under its mutex) and
 * read-only settings.
 *	When resources run out: pthread_create() failing (thread limit,
 * memory) is reported, the client in hand is still served, and the next
 * ones wait in the listen queue until a thread is free; accept() failing
 * with EMFILE (descriptors) pauses 100 ms, and new clients wait in the
 * kernel's listen queue meanwhile.  The server never exits for a client.
 */

#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#if defined(__linux__)
#include <sys/sendfile.h>	/* send_rest(): the one non-POSIX speed-up */
#endif
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define PROGRAM		"webserver"
#define SERVER_NAME	"socketlab-webserver/1.0"	/* the Server header */
#define DEFAULT_ADDR	"127.0.0.1"	/* this machine only; -a 0.0.0.0: all */
#define DEFAULT_PORT	"8080"
#define DEFAULT_ROOT	"."
#define DEFAULT_TIMEOUT	10	/* seconds for a whole request head */
#define BACKLOG		511	/* connections queued for accept(), as nginx */
#define HEAD_MAX	8192	/* request line + header fields: over it, 431 */
#define FILE_CHUNK	65536	/* bytes read from a file and sent at a time */
#define SENDFILE_CHUNK	(1024 * 1024)	/* bytes one sendfile() may move */
#define ADDR_TEXT	128	/* room for "[IPv6-address%scope]:port" */
#define LOG_LINE	1024	/* request line as the log shows it, at most */
#define LINGER_MS	1000	/* close_client(): time to drain what is unread */
#define IDLE_MAX	8	/* idle threads kept when a crowd has gone */
#define NO_DATE	((time_t)-1)	/* format_head(): no Last-Modified (not 0: */
				/* a file may be dated 1 January 1970) */

/* The settings every client needs: read-only once the server runs. */
struct config {
	const char *root;	/* DOCROOT's real path: no symlink, no "..", */
				/* no trailing '/' (except "/" itself) */
	int timeout;		/* seconds a client has for its request head */
};

/* One request, as parse_request() finds it. */
struct request {
	const char *line;	/* the request line, inside the head, for the */
	size_t line_len;	/* log; line_len 0: none arrived */
	int head_only;		/* HEAD: the same reply without a body */
	char target[HEAD_MAX + 1];	/* "/a%20b/c.txt?q": as sent */
	char path[HEAD_MAX + 1];	/* "/a b/c.txt": decoded, no query */
	char location[HEAD_MAX + 2];	/* a 301's target: "/a%20b/" */
};

/* usage: print how to run the program on OUT. */
static void usage(FILE *out)
{
	fprintf(out,
		"usage: %s [-a ADDR] [-p PORT] [-r DOCROOT] [-t SECONDS]\n"
		"A web server: answers GET and HEAD with the files under DOCROOT.\n"
		"  -a ADDR     address to listen on (default %s; 0.0.0.0 or ::\n"
		"              for every address of this machine, which it prints)\n"
		"  -p PORT     port to listen on (default %s; 0: any free port)\n"
		"  -r DOCROOT  the folder served (default %s)\n"
		"  -t SECONDS  time a client has to send its request (default %d)\n"
		"  -h          show this help\n",
		PROGRAM, DEFAULT_ADDR, DEFAULT_PORT, DEFAULT_ROOT,
		DEFAULT_TIMEOUT);
}

/* vwarn: print "webserver: MESSAGE" on stderr; a FMT ending in ':' gets
 * errno's text appended.  errno is left as it was.  Thread-safe. */
static void vwarn(const char *fmt, va_list ap)
{
	int saved = errno;
	size_t len = strlen(fmt);
	char msg[512], why[128];

	vsnprintf(msg, sizeof msg, fmt, ap);
	if (len > 0 && fmt[len - 1] == ':') {
		/* strerror_r, not strerror: strerror may share one buffer
		 * between all the threads. */
		if (strerror_r(saved, why, sizeof why) != 0)
			snprintf(why, sizeof why, "error %d", saved);
		fprintf(stderr, "%s: %s %s\n", PROGRAM, msg, why);
	} else {
		fprintf(stderr, "%s: %s\n", PROGRAM, msg);
	}
	errno = saved;
}

/* warn: report a failure and go on, as printf: warn("send to %s:", p). */
static void warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
}

/* die: report a failure the server cannot go on after, and exit 1. */
_Noreturn static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
	exit(EXIT_FAILURE);
}

/* number_in: TEXT as a decimal number from LO to HI, or -1 if it is not. */
static long number_in(const char *text, long lo, long hi)
{
	char *end;
	long n;

	if (text[0] < '0' || text[0] > '9')	/* strtol takes " 9", "-9" */
		return -1;
	errno = 0;
	n = strtol(text, &end, 10);
	if (errno != 0 || *end != '\0' || n < lo || n > hi)
		return -1;
	return n;
}

/* sockaddr_text: write SA (LEN bytes) into BUF as "127.0.0.1:8080", or
 * "[::1]:8080" for IPv6; with PORT 0, the address alone, no brackets.
 * "?" if it cannot be named.  BUF always ends in '\0'. */
static void sockaddr_text(const struct sockaddr *sa, socklen_t len,
			  int port, char *buf, size_t size)
{
	char host[96], serv[16];

	/* NUMERIC: digits only, never a DNS lookup that could take seconds. */
	if (getnameinfo(sa, len, host, sizeof host, serv, sizeof serv,
			NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		snprintf(buf, size, "?");
	else if (!port)
		snprintf(buf, size, "%s", host);
	else if (sa->sa_family == AF_INET6)	/* "::1:8080" would be unclear */
		snprintf(buf, size, "[%s]:%s", host, serv);
	else
		snprintf(buf, size, "%s:%s", host, serv);
}

/* ms_left: milliseconds from now until START + MS (monotonic clock), 0 if
 * that time has passed. */
static int ms_left(const struct timespec *start, long ms)
{
	struct timespec now;
	long long gone;

	clock_gettime(CLOCK_MONOTONIC, &now);
	gone = (long long)(now.tv_sec - start->tv_sec) * 1000 +
	       (now.tv_nsec - start->tv_nsec) / 1000000;
	return gone >= ms ? 0 : (int)(ms - gone);
}

/* status_text: the reason phrase that goes with STATUS. */
static const char *status_text(int status)
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
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default:  return "Error";
	}
}

/* mime_type: the Content-Type for a file named PATH, by its extension
 * (any case); application/octet-stream ("just bytes") for any other. */
static const char *mime_type(const char *path)
{
	static const struct { const char *ext, *type; } types[] = {
		{ "html", "text/html; charset=utf-8" },
		{ "htm",  "text/html; charset=utf-8" },
		{ "txt",  "text/plain; charset=utf-8" },
		{ "css",  "text/css; charset=utf-8" },
		{ "js",   "text/javascript; charset=utf-8" },	/* RFC 9239 */
		{ "json", "application/json" },
		{ "png",  "image/png" },
		{ "jpg",  "image/jpeg" },
		{ "jpeg", "image/jpeg" },
		{ "gif",  "image/gif" },
		{ "svg",  "image/svg+xml" },
		{ "ico",  "image/x-icon" },
		{ "pdf",  "application/pdf" },
	};
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(path, '.');
	size_t i;

	if (dot == NULL || (slash != NULL && dot < slash))	/* "/a.d/x" */
		return "application/octet-stream";
	for (i = 0; i < sizeof types / sizeof types[0]; i++)
		if (strcasecmp(dot + 1, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
}

/* open_listener: a TCP socket listening on ADDR port PORT, ready for
 * accept().  Returns it, or -1 after saying why on stderr. */
static int open_listener(const char *addr, const char *port)
{
	/* Step 1: open the listening socket, as in lab 03: getaddrinfo()
	 * for ADDR and PORT (AI_PASSIVE), then the first address on which
	 * socket(), SO_REUSEADDR, bind() and listen() all succeed. */
	/* SOLUTION BEGIN */
	struct addrinfo hints, *res, *ai;
	char where[ADDR_TEXT];
	int lfd = -1, one = 1, err;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;		/* IPv4 or IPv6: as ADDR says */
	hints.ai_socktype = SOCK_STREAM;	/* TCP */
	hints.ai_flags = AI_PASSIVE;		/* an address to listen on */
	err = getaddrinfo(addr, port, &hints, &res);
	if (err != 0) {
		warn("address %s port %s: %s", addr, port, gai_strerror(err));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		sockaddr_text(ai->ai_addr, ai->ai_addrlen, 1, where,
			      sizeof where);
		lfd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (lfd < 0) {
			warn("socket for %s:", where);
			continue;
		}
		/* Restarted, the server can bind its port at once, while
		 * its old connections still sit in TIME_WAIT. */
		if (setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one,
			       sizeof one) < 0)
			warn("setsockopt SO_REUSEADDR:");
		if (bind(lfd, ai->ai_addr, ai->ai_addrlen) < 0)
			warn("bind %s:", where);	/* port taken? */
		else if (listen(lfd, BACKLOG) < 0)
			warn("listen %s:", where);
		else
			break;				/* listening: done */
		close(lfd);
		lfd = -1;
	}
	freeaddrinfo(res);
	return lfd;
	/* SOLUTION END, the starter has:
	 *> // TODO(step 1): as in lab 03: getaddrinfo(3) for addr and port
	 *> // with hints AF_UNSPEC, SOCK_STREAM, AI_PASSIVE (on failure,
	 *> // warn() with gai_strerror(3) and return -1); for each address:
	 *> // socket(2), setsockopt(2) SO_REUSEADDR, bind(2), listen(2) with
	 *> // BACKLOG; keep the first socket that listens, close(2) the others,
	 *> // name the address in messages with sockaddr_text(..., 1, ...).
	 *> // Then freeaddrinfo(3) and return the socket (-1 if none).
	 *> (void)addr;
	 *> (void)port;
	 *> warn("step 1 is not written yet: no listening socket");
	 *> return -1;
	 */
}

/* print_addresses: print "http://IP:PORT/" for every address of this
 * machine that a socket bound to the wildcard address of FAMILY answers
 * on: IPv4 ones for 0.0.0.0; IPv6 ones for ::, and IPv4 ones too unless
 * V6ONLY.  This replaces the lecture's "run ipconfig". */
static void print_addresses(int family, int v6only, const char *port)
{
	/* Step 2 (continued): getifaddrs() lists every interface address of
	 * the machine (loopback, Ethernet, Wi-Fi...).  Skip interfaces that
	 * are down and IPv6 link-local addresses (fe80::, which a URL
	 * cannot name without the interface). */
	/* SOLUTION BEGIN */
	struct ifaddrs *list, *ifa;

	if (getifaddrs(&list) < 0) {
		warn("getifaddrs:");	/* the server works without the list */
		return;
	}
	for (ifa = list; ifa != NULL; ifa = ifa->ifa_next) {
		const struct sockaddr *sa = ifa->ifa_addr;
		socklen_t len = sizeof(struct sockaddr_in6);
		char ip[ADDR_TEXT];

		if (sa == NULL || !(ifa->ifa_flags & IFF_UP))
			continue;
		if (sa->sa_family == AF_INET6 && family == AF_INET6) {
			const struct sockaddr_in6 *s6 = (const void *)sa;

			if (IN6_IS_ADDR_LINKLOCAL(&s6->sin6_addr))
				continue;
			sockaddr_text(sa, len, 0, ip, sizeof ip);
			printf("http://[%s]:%s/\n", ip, port);
		} else if (sa->sa_family == AF_INET &&
			   (family == AF_INET || !v6only)) {
			len = sizeof(struct sockaddr_in);
			sockaddr_text(sa, len, 0, ip, sizeof ip);
			printf("http://%s:%s/\n", ip, port);
		}
	}
	freeifaddrs(list);
	/* SOLUTION END, the starter has:
	 *> // TODO(step 2): getifaddrs(3); for each entry with an ifa_addr
	 *> // and IFF_UP in ifa_flags: an AF_INET address (when family is
	 *> // AF_INET, or AF_INET6 and !v6only) prints "http://IP:PORT/", an
	 *> // AF_INET6 one (when family is AF_INET6, and not
	 *> // IN6_IS_ADDR_LINKLOCAL) "http://[IP]:PORT/".  IP from
	 *> // sockaddr_text(sa, len, 0, ...).  Then freeifaddrs(3).
	 *> (void)family;
	 *> (void)v6only;
	 *> (void)port;
	 */
}

/* print_ready: print "Server is ready on http://ADDR:PORT/ serving ROOT"
 * for the listening socket LFD, then, if it listens on every address,
 * those addresses; flushed. */
static void print_ready(int lfd, const char *root)
{
	/* Step 2: say that the server is ready, only now that it listens,
	 * with the address and port the socket really has (with -p 0, only
	 * the kernel knows the port). */
	/* SOLUTION BEGIN */
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	char where[ADDR_TEXT], port[16];
	int v6only = 0;
	socklen_t optlen = sizeof v6only;
	const struct sockaddr *sa = (struct sockaddr *)&ss;

	if (getsockname(lfd, (struct sockaddr *)&ss, &len) < 0)
		die("getsockname:");
	sockaddr_text(sa, len, 1, where, sizeof where);
	printf("Server is ready on http://%s/ serving %s\n", where, root);
	getnameinfo(sa, len, NULL, 0, port, sizeof port, NI_NUMERICSERV);
	if (sa->sa_family == AF_INET &&
	    ((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr ==
	    htonl(INADDR_ANY)) {
		print_addresses(AF_INET, 0, port);
	} else if (sa->sa_family == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(
		   &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr)) {
		/* Bound to ::, a socket takes IPv4 clients too, unless the
		 * system set IPV6_V6ONLY (Linux: no; OpenBSD: always). */
		if (getsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only,
			       &optlen) < 0)
			v6only = 1;
		print_addresses(AF_INET6, v6only, port);
	}
	/* Into a pipe, stdout is block-buffered: whoever waits for the
	 * ready line would wait for ever. */
	fflush(stdout);
	/* SOLUTION END, the starter has:
	 *> // TODO(step 2): getsockname(2) into a struct sockaddr_storage;
	 *> // sockaddr_text(..., 1, ...) makes it "127.0.0.1:8080"; printf(3)
	 *> // "Server is ready on http://%s/ serving %s\n" with root.  If the
	 *> // address is the wildcard (IPv4 sin_addr.s_addr == htonl(INADDR_ANY),
	 *> // IPv6 IN6_IS_ADDR_UNSPECIFIED), call print_addresses(); for IPv6
	 *> // ask getsockopt(2) IPPROTO_IPV6, IPV6_V6ONLY first.  The port as
	 *> // text: getnameinfo(3) with NI_NUMERICSERV.  Then fflush(3) stdout.
	 *> (void)lfd;
	 *> (void)root;
	 *> warn("print_ready() is not written yet (step 2)");
	 *> print_addresses(AF_INET, 0, "0");
	 */
}

/* accept_client: wait for the next connection on LFD; write the client's
 * address (no port) into HOST.  Returns the connected socket, or -1 when
 * accept() failed (the caller just tries again). */
static int accept_client(int lfd, char *host, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	int cfd = accept(lfd, (struct sockaddr *)&ss, &len);

	if (cfd < 0) {
		int err = errno;
		struct timespec breather = { 0, 100 * 1000 * 1000 };

		if (err == EINTR)	/* a signal: not an error */
			return -1;
		warn("accept:");
		/* EMFILE, ENFILE (out of descriptors), ENOBUFS, ENOMEM fail
		 * again at once: pause 100 ms rather than spin. */
		if (err != ECONNABORTED)
			nanosleep(&breather, NULL);
		return -1;
	}
	sockaddr_text((struct sockaddr *)&ss, len, 0, host, size);
	return cfd;
}

/* Step 4: read the request head: the request line and the header fields,
 * up to the blank line that ends them.  recv() returns whatever has
 * arrived, so read and look for the blank line, again and again, within
 * HEAD_MAX bytes and within the timeout for the whole head (a client that
 * sends a byte every 9 s must not hold a thread for ever: "slowloris"). */
/* SOLUTION BEGIN */
/* head_end: the length of the head in BUF (LEN bytes), blank line
 * included, or 0 if the blank line has not arrived.  Lines end in CRLF;
 * a bare LF is accepted too (RFC 9112 section 2.2). */
static size_t head_end(const char *buf, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (buf[i + 1] == '\n')				/* \n\n */
			return i + 2;
		if (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n')
			return i + 3;				/* \n\r\n */
	}
	return 0;
}

/* recv_now: what recv() would give on FD (into BUF, LEN bytes at most)
 * without waiting: -1 with errno EAGAIN when nothing has arrived.  Only
 * speed (read_head() then waits in poll()): the request is nearly always
 * there already (on Linux accept() waits for it, defer_accept()), and a
 * poll() first is a system call more per request.  Where recv() cannot
 * be told not to wait (no MSG_DONTWAIT), it always says EAGAIN. */
static ssize_t recv_now(int fd, char *buf, size_t len)
{
#ifdef MSG_DONTWAIT
	return recv(fd, buf, len, MSG_DONTWAIT);
#else
	(void)fd;
	(void)buf;
	(void)len;
	errno = EAGAIN;
	return -1;
#endif
}
/* SOLUTION END, the starter has:
 *> // TODO(step 4): write head_end() here:
 *> //     static size_t head_end(const char *buf, size_t len)
 *> // returns the length of the head in buf (len bytes) up to and with
 *> // the blank line: the end of "\r\n\r\n" (accept "\n\n" too), or 0
 *> // when no blank line has arrived yet.  Careful: buf is not a string.
 */

/* read_head: receive the request head from CFD into BUF (SIZE bytes) and
 * put a '\0' after it.  Returns 0 once the blank line has arrived; -1
 * when the client closed or failed before sending a byte (nothing to
 * answer); else the status to answer: 408 not complete within SECONDS,
 * 431 no blank line within SIZE - 1 bytes, 400 closed halfway. */
static int read_head(int cfd, char *buf, size_t size, int seconds)
{
	/* SOLUTION BEGIN */
	struct timespec start;
	size_t have = 0;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct pollfd p = { .fd = cfd, .events = POLLIN };
		int left = ms_left(&start, seconds * 1000L), ready;
		ssize_t n = recv_now(cfd, buf + have, size - 1 - have);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* Nothing yet: poll() waits for bytes, at most until
			 * the deadline for the whole head (a timeout per
			 * recv() would let a client that drips a byte a
			 * second stay for ever), then recv() takes them. */
			ready = left > 0 ? poll(&p, 1, left) : 0;
			if (ready < 0 && errno == EINTR)
				continue;
			if (ready <= 0)
				return have == 0 ? -1 : ready == 0 ? 408 : 400;
			n = recv(cfd, buf + have, size - 1 - have, 0);
		}
		if (n < 0 && errno == EINTR)	/* a signal: try again */
			continue;
		if (n <= 0)			/* closed (0) or reset (-1) */
			return have == 0 ? -1 : 400;
		/* Look again from just before the new bytes: the blank
		 * line may have come in two pieces, "\r\n\r" and "\n". */
		if (head_end(buf + (have > 3 ? have - 3 : 0),
			     have + (size_t)n - (have > 3 ? have - 3 : 0)) > 0) {
			buf[have + (size_t)n] = '\0';
			return 0;
		}
		have += (size_t)n;
		if (have == size - 1)		/* full, and no blank line */
			return 431;
	}
	/* SOLUTION END, the starter has:
	 *> // TODO(step 4): note the time (clock_gettime(2), CLOCK_MONOTONIC).
	 *> // Then loop: poll(2) cfd for POLLIN for at most ms_left(&start,
	 *> // seconds * 1000L) ms; recv(2) into buf after the bytes you have,
	 *> // at most size - 1 - have; EINTR: again.  Return -1 when nothing
	 *> // came before the deadline, a close (0) or an error; with some
	 *> // bytes, 408 at the deadline, 400 at a close.  After each recv:
	 *> // head_end() > 0, put a '\0' after the bytes and return 0; no room
	 *> // left (have == size - 1): return 431.
	 *> (void)cfd;
	 *> (void)buf;
	 *> (void)size;
	 *> (void)seconds;
	 *> warn("read_head() is not written yet (step 4)");
	 *> return -1;
	 */
}

/* Step 5: parse the request line, "GET /notes/a%20b.txt?x=1 HTTP/1.1",
 * and check the header fields after it.  The grammar (RFC 9112):
 *
 *	GET /notes/a%20b.txt?x=1 HTTP/1.1\r\n     method SP target SP version
 *	^  ^^                   ^^       ^
 *	|  sp1                  sp2      end
 *	head                             
 *	Host: 127.0.0.1:8080\r\n                  name ":" value
 *	\r\n                                      the blank line
 *
 * This server needs only the method, the target and the version; a header
 * field is checked for its shape and otherwise ignored. */
/* SOLUTION BEGIN */
/* is_token: 1 if the LEN bytes at S are a token (RFC 9110 section 5.6.2:
 * a method, a field name), else 0. */
static int is_token(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') ||
		      (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL)))
			return 0;
	}
	return 1;
}

/* check_version: 0 for the LEN bytes at V if they are HTTP/1.0 or
 * HTTP/1.1; 505 for another HTTP/D.D; 400 for anything else. */
static int check_version(const char *v, size_t len)
{
	if (len != 8 || strncmp(v, "HTTP/", 5) != 0 ||
	    v[5] < '0' || v[5] > '9' || v[6] != '.' || v[7] < '0' || v[7] > '9')
		return 400;
	if (v[5] == '1' && (v[7] == '0' || v[7] == '1'))
		return 0;
	return 505;		/* HTTP/2.0, HTTP/0.9...: not this server's */
}

/* check_fields: 1 if every line from P (the end of the request line) to
 * the blank line is "name: value" with a token name, else 0. */
static int check_fields(const char *p)
{
	for (;;) {
		const char *colon;
		size_t len;

		if (p[0] == '\r' && p[1] == '\n')	/* the line ending */
			p += 2;
		else if (p[0] == '\n')
			p += 1;
		else
			return 0;		/* a bare CR, a '\0' in a line */
		len = strcspn(p, "\r\n");
		if (len == 0)
			return 1;		/* the blank line: all good */
		colon = memchr(p, ':', len);
		/* No colon, a space before it, or a line that starts with
		 * a space (obsolete line folding, RFC 9112 5.2): 400. */
		if (colon == NULL || !is_token(p, (size_t)(colon - p)))
			return 0;
		p += len;
	}
}
/* SOLUTION END, the starter has:
 *> // TODO(step 5): write three helpers here (RFC 9110 and 9112):
 *> //     static int is_token(const char *s, size_t len)
 *> // 1 if the len bytes at s are a token (letters, digits and
 *> // !#$%&'*+-.^_`|~; not empty), else 0;
 *> //     static int check_version(const char *v, size_t len)
 *> // 0 for "HTTP/1.0" and "HTTP/1.1", 505 for another "HTTP/D.D",
 *> // 400 for anything else;
 *> //     static int check_fields(const char *p)
 *> // p is where the request line ends (at its "\r\n"): 1 if every
 *> // following line up to the blank line is "name: value" with a token
 *> // name (lines end in "\r\n" or "\n"), 0 if one is not.
 */

/* parse_request: check the request head HEAD (a string that ends with its
 * blank line) and fill REQ.  Returns 0, or the status that answers it:
 * 400 malformed, 501 a method other than GET or HEAD, 505 a version other
 * than HTTP/1.0 or 1.1. */
static int parse_request(const char *head, struct request *req)
{
	/* SOLUTION BEGIN */
	const char *end = head + strcspn(head, "\r\n");
	const char *sp1, *sp2, *target;
	size_t len, i;
	int status;

	req->line = head;		/* for the log, whatever it holds */
	req->line_len = (size_t)(end - head);
	sp1 = memchr(head, ' ', req->line_len);
	sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1)) : NULL;
	if (sp2 == NULL || !is_token(head, (size_t)(sp1 - head)))
		return 400;		/* not three parts, or a bad method */
	target = sp1 + 1;
	len = (size_t)(sp2 - target);
	for (i = 0; i < len; i++)	/* visible ASCII only: no CR, LF, */
		if (target[i] <= ' ' || target[i] > '~')	/* NUL, SP */
			return 400;
	status = check_version(sp2 + 1, (size_t)(end - sp2 - 1));
	if (status != 0 || !check_fields(end))
		return status != 0 ? status : 400;
	if ((size_t)(sp1 - head) == 4 && strncmp(head, "HEAD", 4) == 0)
		req->head_only = 1;
	else if ((size_t)(sp1 - head) != 3 || strncmp(head, "GET", 3) != 0)
		return 501;	/* methods are case-sensitive: "get" is not GET */
	/* "http://host:port/path", the absolute form a proxy would send,
	 * must be accepted too (RFC 9112 3.2.2): keep its path. */
	if (len > 7 && strncasecmp(target, "http://", 7) == 0) {
		const char *slash = memchr(target + 7, '/', len - 7);

		len = slash ? len - (size_t)(slash - target) : 1;
		target = slash ? slash : "/";
	}
	if (target[0] != '/' || len >= sizeof req->target)
		return 400;		/* "*", "x.html": not a path */
	memcpy(req->target, target, len);
	req->target[len] = '\0';
	return 0;
	/* SOLUTION END, the starter has:
	 *> // TODO(step 5): req->line = head, req->line_len = the length of
	 *> // the request line (strcspn(3) for "\r\n"), first of all: the log
	 *> // shows it even when it is wrong.  Find the two spaces (memchr(3));
	 *> // the method must be a token, the target visible ASCII only (no
	 *> // byte <= ' ' or > '~'), the version pass check_version(), the
	 *> // lines after it check_fields(): else 400 (or check_version's 505).
	 *> // "HEAD": req->head_only = 1; "GET": 0; any other method: 501.  A
	 *> // target "http://host/path" counts as "/path".  It must start with
	 *> // '/' (else 400); copy it into req->target with its '\0'.
	 *> (void)head;
	 *> (void)req;
	 *> warn("parse_request() is not written yet (step 5)");
	 *> return 501;
	 */
}

/* Step 6: turn the target into a file under DOCROOT, safely.  First
 * decode it: "%20" is a space, "%2e" a dot; the query ("?x=1") is not part
 * of the path.  Then check where the path really leads.  The danger is
 * "/../../etc/passwd", and every disguise of it: "/%2e%2e/", "/a/%2F..",
 * and, most of all, a symlink inside DOCROOT that points outside it.
 * Looking at the text of the path cannot see a symlink; only the path the
 * system resolves (realpath()) shows where a file really is. */
/* SOLUTION BEGIN */
/* hex_value: the value of hex digit C, or -1 if it is none. */
static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
/* SOLUTION END, the starter has:
 *> // TODO(step 6): write hex_value() here:
 *> //     static int hex_value(char c)
 *> // the value of hex digit c (0-9, a-f, A-F), or -1 if it is none.
 */

/* url_decode: decode TARGET's path ("/a%20b?q" -> "/a b") into OUT (SIZE
 * bytes).  Returns 0, or 400 for a bad "%" or a "%00" (no file name holds
 * a zero byte; in C it would cut the name short). */
static int url_decode(const char *target, char *out, size_t size)
{
	/* SOLUTION BEGIN */
	size_t n = 0;
	const char *p;

	for (p = target; *p != '\0' && *p != '?' && *p != '#'; p++) {
		char c = *p;

		if (c == '%') {
			int hi = hex_value(p[1]), lo = hi < 0 ? -1 : hex_value(p[2]);

			if (lo < 0 || (hi == 0 && lo == 0))
				return 400;	/* "%4", "%zz", "%00" */
			c = (char)(hi * 16 + lo);
			p += 2;
		}
		if (n + 1 >= size)
			return 414;
		out[n++] = c;
	}
	out[n] = '\0';
	return 0;
	/* SOLUTION END, the starter has:
	 *> // TODO(step 6): copy target into out up to its end or its first
	 *> // '?' or '#', turning each "%XY" into the byte 0xXY (hex_value()).
	 *> // Return 400 for a '%' without two hex digits after it, and for
	 *> // "%00".  End out with '\0'; if it has no room, return 414.
	 *> (void)target;
	 *> (void)out;
	 *> (void)size;
	 *> warn("url_decode() is not written yet (step 6)");
	 *> return 400;
	 */
}

/* SOLUTION BEGIN */
/* plain_below: 1 if JOINED, a path that is a real path (ROOTLEN bytes)
 * followed by a part with no ".." segment, is already real itself: no
 * "." segment, no "//", and no symlink in any of its components below
 * the real part, each of which exists.  Else 0 (realpath() decides). */
static int plain_below(const char *joined, size_t rootlen)
{
	char prefix[PATH_MAX];
	const char *slash = joined + rootlen;	/* the '/' after the root */
	struct stat st;

	if (*slash != '/')
		return 0;
	while (slash != NULL && slash[1] != '\0') {	/* "/x", not "/" */
		const char *next = strchr(slash + 1, '/');
		size_t len = next != NULL ? (size_t)(next - joined) :
					    strlen(joined);

		if (slash[1] == '/' || (slash[1] == '.' &&
					(slash[2] == '/' || slash[2] == '\0')))
			return 0;			/* "//" or "/." */
		memcpy(prefix, joined, len);
		prefix[len] = '\0';
		/* A symlink, or a file with a '/' after it ("/a.txt/"):
		 * realpath() says what to answer. */
		if (lstat(prefix, &st) < 0 || S_ISLNK(st.st_mode) ||
		    (next != NULL && !S_ISDIR(st.st_mode)))
			return 0;
		slash = next;
	}
	return 1;
}
/* SOLUTION END, the starter has:
 */

/* safe_path: the real path (no symlink, no "..") of decoded PATH under
 * ROOT, a real path itself, into OUT (SIZE bytes).  Returns 0 only if
 * that file exists and lies inside ROOT; else 403 (outside, or a ".."),
 * 404 (no such file) or 414 (too long). */
static int safe_path(const char *root, const char *path, char *out,
		     size_t size)
{
	/* SOLUTION BEGIN */
	char joined[PATH_MAX], real[PATH_MAX];
	size_t rootlen = strlen(root);
	const char *seg;

	/* No ".." segment, wherever it is: no link a site serves has one
	 * (browsers remove them), only an attack does.  "/a/%2F.." decodes
	 * to "/a//..": segment by segment, the "/.." is found. */
	for (seg = path; seg != NULL; seg = strchr(seg + 1, '/'))
		if (strncmp(seg, "/..", 3) == 0 &&
		    (seg[3] == '/' || seg[3] == '\0'))
			return 403;
	if (path[0] != '/')
		return 403;
	if ((size_t)snprintf(joined, sizeof joined, "%s%s", root, path) >=
	    sizeof joined)
		return 414;
	/* The check that counts: realpath() follows every symlink and
	 * removes every "." and "//", so REAL is where the file really is.
	 * It asks the kernel about every component, the root's own too (5
	 * readlink() calls for /srv/www/site/a.txt): the reference first
	 * looks below the root only, with one lstat() a component, and
	 * needs realpath() only when it finds a symlink, a "." or a "//"
	 * (plain_below(): 5 % more requests a second, measured). */
	if (plain_below(joined, strcmp(root, "/") == 0 ? 0 : rootlen))
		snprintf(real, sizeof real, "%s", joined);
	else if (realpath(joined, real) == NULL)
		return errno == EACCES ? 403 : errno == ENAMETOOLONG ? 414 : 404;
	/* Inside ROOT means: ROOT, then '/' or the end.  Comparing the
	 * prefix alone would let "/srv/www-secret" pass for "/srv/www". */
	if (strcmp(root, "/") != 0 &&
	    (strncmp(real, root, rootlen) != 0 ||
	     (real[rootlen] != '/' && real[rootlen] != '\0')))
		return 403;
	if ((size_t)snprintf(out, size, "%s", real) >= size)
		return 414;
	return 0;
	/* SOLUTION END, the starter has:
	 *> // TODO(step 6): return 403 if path has a ".." segment ("/.."
	 *> // followed by '/' or the end).  Join root and path (snprintf(3),
	 *> // 414 if it does not fit).  realpath(3) the result: it follows
	 *> // symlinks and removes "." and "//"; if it fails, 403 for EACCES,
	 *> // 414 for ENAMETOOLONG (a name over 255 bytes), else 404.  The real
	 *> // path must be root followed by '/' or by the end (strncmp(3)):
	 *> // else 403.  Copy it into out; return 0.
	 *> (void)root;
	 *> (void)path;
	 *> (void)out;
	 *> (void)size;
	 *> warn("safe_path() is not written yet (step 6)");
	 *> return 403;
	 */
}

/* SOLUTION BEGIN */
/* open_real: open REAL, a path safe_path() has checked, for reading, and
 * fstat() it into ST.  Returns 0 with it open in *FD, or the status to
 * answer: 404, 403, 503 (out of descriptors). */
static int open_real(const char *real, int *fd, struct stat *st)
{
	/* O_NONBLOCK: if a FIFO was put there, open() returns at once (it
	 * is refused after) rather than wait for a writer; on a regular
	 * file it changes nothing.  O_NOFOLLOW: REAL has no symlink; if one
	 * appears now, refuse it.  A folder opens too (fstat says what it
	 * is), so one system call looks the name up, not two. */
	*fd = open(real, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
	if (*fd < 0 && (errno == EMFILE || errno == ENFILE)) {
		warn("open %s:", real);	/* the server's trouble: say so */
		return 503;
	}
	if (*fd < 0)
		return errno == ENOENT ? 404 : 403;
	/* fstat: the file we have open, not whatever has that name now. */
	if (fstat(*fd, st) < 0) {
		close(*fd);
		return 403;
	}
	return 0;
}

/* SOLUTION END, the starter has:
 *> // TODO(step 7): write open_real() here:
 *> //     static int open_real(const char *real, int *fd, struct stat *st)
 *> // open(2)s real with O_RDONLY | O_NOFOLLOW | O_NONBLOCK into *fd
 *> // (fails: for EMFILE or ENFILE warn() and 503, as the server has run
 *> // out of descriptors; 404 for ENOENT; else 403) and
 *> // fstat(2)s it into st (fails: close, 403).  Returns 0.
 */

/* open_target: open the file that decoded PATH names under ROOT (for a
 * directory, its index.html) and fill ST.  Returns 0 with the file open
 * in *FD, or the status to answer: 301 (a directory without its '/'),
 * 403, 404, 414, 503 (out of descriptors). */
static int open_target(const char *root, const char *path, int *fd,
		       struct stat *st)
{
	/* Step 7: a directory is served as its index.html, and asked for
	 * without its trailing '/', it gets a 301 to the name with the '/'
	 * (else its page's relative links would point one folder too high).
	 * Only a regular file is served: not a FIFO (reading one would wait
	 * for ever), not a device. */
	/* SOLUTION BEGIN */
	char real[PATH_MAX], index[HEAD_MAX + 16];
	int status = safe_path(root, path, real, sizeof real);

	if (status != 0)
		return status;
	if ((status = open_real(real, fd, st)) != 0)
		return status;
	if (S_ISDIR(st->st_mode)) {
		close(*fd);
		if (path[strlen(path) - 1] != '/')
			return 301;
		/* index.html may be a symlink too: check it the same way. */
		snprintf(index, sizeof index, "%sindex.html", path);
		status = safe_path(root, index, real, sizeof real);
		if (status == 0)
			status = open_real(real, fd, st);
		if (status != 0)
			return status;
	}
	if (!S_ISREG(st->st_mode)) {	/* a FIFO, a device, a folder */
		close(*fd);
		return 403;
	}
	return 0;
	/* SOLUTION END, the starter has:
	 *> // TODO(step 7): safe_path() into a char real[PATH_MAX] (not 0:
	 *> // return its status), then open_real() it (not 0: return that).
	 *> // A directory (S_ISDIR(st->st_mode)): close(2) it; if path does
	 *> // not end in '/', return 301; else make "PATHindex.html", check it
	 *> // with safe_path() and open_real() it in the same way.  Refuse
	 *> // anything not S_ISREG (close, 403); return 0.  For now, only
	 *> // the check, and every file is missing:
	 *> char real[PATH_MAX];
	 *> int status = safe_path(root, path, real, sizeof real);
	 *> (void)fd;
	 *> (void)st;
	 *> warn("open_target() is not written yet (step 7)");
	 *> return status != 0 ? status : 404;
	 */
}

/* Step 8: the head of the reply: the status line, the header fields, the
 * blank line.  Dates are in the one format HTTP allows (RFC 9110 5.6.7),
 * "Sun, 06 Nov 1994 08:49:37 GMT", always in GMT.  Content-Length tells
 * the client where the body ends; Connection: close that the server
 * closes after it (one request per connection). */
/* SOLUTION BEGIN */
/* http_date: write T into BUF (SIZE bytes) as an HTTP date. */
static void http_date(time_t t, char *buf, size_t size)
{
	/* Measured, not needed: each thread keeps the last two dates it
	 * wrote (a reply's Date and its file's Last-Modified), as they
	 * change once a second at most.  At 30,000 replies a second,
	 * gmtime_r() and strftime() twice a reply were a tenth of what the
	 * server did outside the kernel.  _Thread_local: one copy for each
	 * thread, so no lock (handout "Going further"). */
	static _Thread_local struct { time_t t; char text[32]; } seen[2] = {
		{ (time_t)-1, "" }, { (time_t)-1, "" } };
	static _Thread_local int older;
	int i = seen[0].t == t ? 0 : seen[1].t == t ? 1 : -1;
	struct tm tm;

	if (i < 0) {
		i = older;
		older = !older;
		/* gmtime_r, not gmtime: gmtime's result is shared between
		 * threads.  strftime's %a and %b are English here: the
		 * program never calls setlocale(), so it runs in the "C"
		 * locale. */
		gmtime_r(&t, &tm);
		strftime(seen[i].text, sizeof seen[i].text,
			 "%a, %d %b %Y %H:%M:%S GMT", &tm);
		seen[i].t = t;
	}
	snprintf(buf, size, "%s", seen[i].text);
}
/* SOLUTION END, the starter has:
 *> // TODO(step 8): write http_date() here:
 *> //     static void http_date(time_t t, char *buf, size_t size)
 *> // writes t into buf as "Sun, 06 Nov 1994 08:49:37 GMT": gmtime_r(3)
 *> // (not gmtime: threads) and strftime(3) "%a, %d %b %Y %H:%M:%S GMT".
 */

/* format_head: write the head of a reply into BUF (SIZE bytes): STATUS,
 * the body's TYPE and LENGTH, MTIME for Last-Modified (unless NO_DATE), a
 * Location (unless NULL).  Returns its length in bytes. */
static size_t format_head(char *buf, size_t size, int status,
			  const char *type, long long length, time_t mtime,
			  const char *location)
{
	/* SOLUTION BEGIN */
	char now[64], modified[64] = "";
	int n;

	http_date(time(NULL), now, sizeof now);
	if (mtime != NO_DATE)
		http_date(mtime, modified, sizeof modified);
	n = snprintf(buf, size,
		     "HTTP/1.1 %d %s\r\n"
		     "Date: %s\r\n"
		     "Server: " SERVER_NAME "\r\n"
		     "%s%s%s"
		     "Content-Type: %s\r\n"
		     "Content-Length: %lld\r\n"
		     "%s%s%s"
		     "Connection: close\r\n"
		     "\r\n",
		     status, status_text(status), now,
		     mtime != NO_DATE ? "Last-Modified: " : "", modified,
		     mtime != NO_DATE ? "\r\n" : "",
		     type, length,
		     location ? "Location: " : "", location ? location : "",
		     location ? "\r\n" : "");
	/* Never more than SIZE - 1: a cut head is wrong, but not a crash. */
	return n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
	/* SOLUTION END, the starter has:
	 *> // TODO(step 8): snprintf(3) into buf: "HTTP/1.1 STATUS TEXT\r\n"
	 *> // (status_text()), then "Date: " (http_date() of time(2)),
	 *> // "Server: " SERVER_NAME, "Last-Modified: " (if mtime != NO_DATE),
	 *> // "Content-Type: ", "Content-Length: " (%lld), "Location: " (if
	 *> // location), "Connection: close", each line ending "\r\n", and
	 *> // the blank line.  Return its length (at most size - 1).
	 *> (void)type;
	 *> (void)length;
	 *> (void)mtime;
	 *> (void)location;
	 *> warn("format_head() is not written yet (step 8)");
	 *> return (size_t)snprintf(buf, size, "HTTP/1.1 %d %s\r\n\r\n",
	 *>                         status, status_text(status));
	 */
}

/* Step 9: send the file.  Never the whole file at once (read into memory,
 * a 1 GiB file is 1 GiB of the server's memory, for every client that
 * asks): a fixed buffer, filled from the file and sent, again and again.
 * send() may take only part of a buffer: send_all() sends the rest. */
/* SOLUTION BEGIN */
/* send_all: send all LEN bytes of BUF on FD, however many send() calls
 * that takes.  Returns 0, or -1 with errno set (EPIPE, ECONNRESET: the
 * client went away; EAGAIN: it took nothing for the timeout). */
static int send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, 0);

		if (n < 0) {
			if (errno == EINTR)	/* interrupted before sending */
				continue;	/* anything: try again */
			return -1;
		}
		p += n;			/* send() may take fewer bytes */
		len -= (size_t)n;	/* than asked: send the rest */
	}
	return 0;
}

/* read_some: read(FD) up to LEN bytes into BUF, trying again after EINTR.
 * Returns the count (0 at end of file) or -1. */
static ssize_t read_some(int fd, char *buf, size_t len)
{
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n;
}
/* SOLUTION END, the starter has:
 *> // TODO(step 9): write send_all() here, as in lab 03:
 *> //     static int send_all(int fd, const void *buf, size_t len)
 *> // sends all len bytes of buf, however many send(2) calls that takes,
 *> // retrying after EINTR.  Returns 0, or -1 when send fails otherwise.
 */

/* SOLUTION BEGIN */
/* send_rest: on Linux, send up to LENGTH bytes of file FD (from its
 * offset) on CFD with sendfile(2): the kernel moves the file's pages to
 * the socket without copying them into this process and back, which a
 * 10 MiB file shows (handout "Concurrency models").  Returns the bytes
 * sent (0: the file ended), -1 with errno set (EAGAIN: the client took
 * nothing for the socket's send timeout), or -2 where there is no
 * sendfile() or it cannot take this file: then read() and send() do it. */
static long long send_rest(int cfd, int fd, long long length)
{
#if defined(__linux__)
	size_t want = length > SENDFILE_CHUNK ? SENDFILE_CHUNK : (size_t)length;
	struct timeval tv = { 0, 0 };
	socklen_t len = sizeof tv;
	int flags = fcntl(cfd, F_GETFL), ms, err;
	ssize_t n;

	/* A blocking sendfile() that finds the socket full waits twice
	 * SO_SNDTIMEO before it returns (measured: 2 s for -t 1), where a
	 * send() waits it once.  So: non-blocking for the call, and poll()
	 * for room with the socket's own send timeout. */
	ms = getsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &tv, &len) == 0 ?
	     (int)(tv.tv_sec * 1000 + tv.tv_usec / 1000) : 0;
	if (flags < 0 || fcntl(cfd, F_SETFL, flags | O_NONBLOCK) < 0)
		return -2;
	for (;;) {
		struct pollfd p = { .fd = cfd, .events = POLLOUT };
		int ready;

		n = sendfile(cfd, fd, NULL, want);
		if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK &&
			       errno != EINTR))
			break;
		do
			ready = poll(&p, 1, ms > 0 ? ms : -1);
		while (ready < 0 && errno == EINTR);
		if (ready <= 0) {
			if (ready == 0)
				errno = EAGAIN;	/* as send() says it */
			break;
		}
	}
	err = errno;
	fcntl(cfd, F_SETFL, flags);	/* blocking again, for send() */
	errno = err;
	if (n < 0 && (errno == EINVAL || errno == ENOSYS))
		return -2;
	return n;
#else
	(void)cfd;
	(void)fd;
	(void)length;
	return -2;
#endif
}
/* SOLUTION END, the starter has:
 */

/* send_file: send HEAD (HEADLEN bytes of the reply head) and then LENGTH
 * bytes of the open file FD on CFD; add the body bytes sent to *SENT.
 * Returns 0, or -1 (the client went away, or the file shrank). */
static int send_file(int cfd, int fd, const char *head, size_t headlen,
		     long long length, long long *sent)
{
	/* SOLUTION BEGIN */
	char buf[FILE_CHUNK];
	size_t have = headlen;
	int copy_only = 0;	/* 1: no send_rest(), read() and send() */

	/* The head and the file's first bytes go in one send(): a small
	 * file is one packet, and no head waits for the body (Nagle). */
	memcpy(buf, head, headlen);
	while (length > 0 || have > 0) {
		size_t want = sizeof buf - have;
		ssize_t n = 0;

		/* After the first buffer, the rest in the kernel if it can. */
		if (have == 0 && !copy_only) {
			long long m = send_rest(cfd, fd, length);

			if (m == -2) {
				copy_only = 1;		/* read and send, then */
				continue;
			}
			if (m < 0 && errno == EINTR)
				continue;
			if (m <= 0) {
				if (m == 0)
					warn("sendfile: the file shrank while being sent");
				return -1;	/* gone, timed out, or short */
			}
			*sent += m;
			length -= m;
			continue;
		}

		if ((long long)want > length)
			want = (size_t)length;	/* not past what the head said */
		if (want > 0 && (n = read_some(fd, buf + have, want)) <= 0) {
			/* The client gets too few bytes and sees it (the
			 * connection ends before Content-Length): better
			 * than the wrong bytes. */
			if (n == 0)
				warn("read: the file shrank while being sent");
			else
				warn("read:");
			return -1;
		}
		if (send_all(cfd, buf, have + (size_t)n) < 0)
			return -1;	/* gone: nothing to tell it */
		*sent += n;
		length -= n;
		have = 0;
	}
	return 0;
	/* SOLUTION END, the starter has:
	 *> // TODO(step 9): send head with send_all(), then loop while length
	 *> // > 0: read(2) at most FILE_CHUNK bytes (no more than length) from
	 *> // fd into a char buf[FILE_CHUNK] (EINTR: again; 0 or -1: warn, return
	 *> // -1), send_all() them (fails: return -1), add them to *sent,
	 *> // take them off length.  Return 0.
	 *> (void)cfd;
	 *> (void)fd;
	 *> (void)head;
	 *> (void)headlen;
	 *> (void)length;
	 *> (void)sent;
	 *> warn("send_file() is not written yet (step 9)");
	 *> return -1;
	 */
}

/* send_error: answer STATUS on CFD with a short HTML page (only its head
 * for HEAD_ONLY); LOCATION (or NULL) goes in a Location field.  Adds the
 * body bytes sent to *SENT. */
static void send_error(int cfd, int status, const char *location,
		       int head_only, long long *sent)
{
	/* Step 10: every error gets a status line and a short page saying
	 * what went wrong: a browser shows the page, curl the status. */
	/* SOLUTION BEGIN */
	char body[256], reply[1024 + HEAD_MAX];
	int blen = snprintf(body, sizeof body,
			    "<!DOCTYPE html>\n<html><head><title>%d %s</title>"
			    "</head>\n<body><h1>%d %s</h1></body></html>\n",
			    status, status_text(status), status,
			    status_text(status));
	size_t len = format_head(reply, sizeof reply, status,
				 "text/html; charset=utf-8", blen, NO_DATE,
				 location);

	if (!head_only && len + (size_t)blen < sizeof reply) {
		memcpy(reply + len, body, (size_t)blen);	/* one send() */
		len += (size_t)blen;
		*sent += blen;
	}
	send_all(cfd, reply, len);	/* if the client has gone: so be it */
	/* SOLUTION END, the starter has:
	 *> // TODO(step 10): snprintf(3) a short HTML page into a char body[256]
	 *> // ("<h1>404 Not Found</h1>": status and status_text()), then its
	 *> // head with format_head() ("text/html; charset=utf-8", the page's
	 *> // length, NO_DATE, location) into a buffer, the page after it
	 *> // unless head_only (then add its length to *sent), and send_all().
	 *> (void)cfd;
	 *> (void)status;
	 *> (void)location;
	 *> (void)head_only;
	 *> (void)sent;
	 *> warn("send_error() is not written yet (step 10)");
	 */
}

/* respond: answer REQ on CFD with its file (steps 6 to 9).  Returns 200
 * once it has sent the file (or tried to: *SENT says how much went), else
 * the status of the error still to be sent (REQ->location set for 301). */
static int respond(const struct config *cfg, int cfd, struct request *req,
		   long long *sent)
{
	char head[1024];
	struct stat st;
	const char *type;
	size_t len;
	int fd = -1, status = url_decode(req->target, req->path, sizeof req->path);

	if (status == 0)
		status = open_target(cfg->root, req->path, &fd, &st);
	if (status == 301)	/* the same target, '/' added, query dropped */
		snprintf(req->location, sizeof req->location, "%.*s/",
			 (int)strcspn(req->target, "?#"), req->target);
	if (status != 0)
		return status;
	/* The type of the file served: a directory's is its index.html. */
	type = mime_type(req->path[strlen(req->path) - 1] == '/' ?
			 "index.html" : req->path);
	len = format_head(head, sizeof head, 200, type, (long long)st.st_size,
			  st.st_mtime, NULL);
	/* HEAD: the same head, and 0 bytes of the file after it. */
	send_file(cfd, fd, head, len, req->head_only ? 0 : (long long)st.st_size,
		  sent);
	close(fd);	/* every path: a server lives for months */
	return 200;
}

/* Step 11: one line per request on stdout, in the Common Log Format that
 * Apache, nginx and every log analyser know:
 *	127.0.0.1 - - [26/Nov/2026:04:12:56 +0100] "GET / HTTP/1.1" 200 1234
 * client, identity and user (unknown: "-"), local time, request line,
 * status, body bytes ("-" for none). */
/* SOLUTION BEGIN */
/* log_text: copy the LEN bytes at S into OUT (SIZE bytes) as the log
 * shows them: '"', '\\' and unprintable bytes as \xNN, so that no request
 * can forge a log line or break one. */
static void log_text(const char *s, size_t len, char *out, size_t size)
{
	size_t i, n = 0;

	for (i = 0; i < len && n + 5 < size; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < ' ' || c > '~' || c == '"' || c == '\\')
			n += (size_t)snprintf(out + n, size - n, "\\x%02x", c);
		else
			out[n++] = (char)c;
	}
	out[n] = '\0';
}
/* SOLUTION END, the starter has:
 *> // TODO(step 11): write log_text() here:
 *> //     static void log_text(const char *s, size_t len, char *out,
 *> //                          size_t size)
 *> // copies the len bytes at s into out as a string, '"', '\\' and bytes
 *> // outside ' '..'~' written as \xNN ("\\x%02x"), never past size.
 */

/* log_request: print the Common Log Format line for REQ from client HOST,
 * answered with STATUS and SENT body bytes, on stdout, flushed. */
static void log_request(const char *host, const struct request *req,
			int status, long long sent)
{
	/* SOLUTION BEGIN */
	/* The time, as for http_date(): made once a second, per thread. */
	static _Thread_local time_t when_for = (time_t)-1;
	static _Thread_local char when[64];
	char line[LOG_LINE], bytes[24] = "-";
	time_t now = time(NULL);
	struct tm tm;

	if (now != when_for) {
		localtime_r(&now, &tm);		/* the _r forms: threads */
		strftime(when, sizeof when, "%d/%b/%Y:%H:%M:%S %z", &tm);
		when_for = now;
	}
	log_text(req->line, req->line_len, line, sizeof line);
	if (sent > 0)
		snprintf(bytes, sizeof bytes, "%lld", sent);
	/* Every stdio call locks the stream, but printf and fflush are two
	 * calls: the lock around both keeps another thread's line from
	 * slipping in between. */
	flockfile(stdout);
	printf("%s - - [%s] \"%s\" %d %s\n", host, when,
	       req->line_len ? line : "-", status, bytes);
	fflush(stdout);
	funlockfile(stdout);
	/* SOLUTION END, the starter has:
	 *> // TODO(step 11): the local time: time(2), localtime_r(3),
	 *> // strftime(3) "%d/%b/%Y:%H:%M:%S %z".  The request line through
	 *> // log_text() into a char line[LOG_LINE] ("-" if req->line_len is
	 *> // 0); sent as "%lld", "-" if 0.  printf(3)
	 *> // HOST - - [TIME] "LINE" STATUS BYTES
	 *> // and fflush(3), both between flockfile(3) and funlockfile(3).
	 *> (void)host;
	 *> (void)req;
	 *> (void)status;
	 *> (void)sent;
	 *> warn("log_request() is not written yet (step 11)");
	 */
}

/* close_client: close CFD without losing the reply.  If request bytes are
 * still unread (a 431 for a client still sending its head), close() makes
 * the kernel answer them with a reset, which can destroy the reply before
 * the client has read it.  So: end our side, read and drop what comes, for
 * at most LINGER_MS, then close. */
static void close_client(int cfd, int status)
{
	struct pollfd p = { .fd = cfd, .events = POLLIN };
	struct timespec start;
	char junk[4096];
	int left;

	/* Nothing unread: nothing ready, or only the end of the stream (a
	 * client that has read its reply and closed, as most do by now).
	 * One look where recv() can be told not to wait (MSG_DONTWAIT):
	 * a system call less per request. */
#ifdef MSG_DONTWAIT
	ssize_t peek = recv(cfd, junk, 1, MSG_PEEK | MSG_DONTWAIT);
	int unread = !(peek == 0 || (peek < 0 && (errno == EAGAIN ||
						  errno == EWOULDBLOCK)));
#else
	int unread = !(poll(&p, 1, 0) == 0 ||
		       recv(cfd, junk, 1, MSG_PEEK) == 0);
#endif

	if (status < 400 && !unread) {
		close(cfd);
		return;
	}
	shutdown(cfd, SHUT_WR);		/* the client's recv() returns 0 */
	clock_gettime(CLOCK_MONOTONIC, &start);
	while ((left = ms_left(&start, LINGER_MS)) > 0 &&
	       poll(&p, 1, left) > 0 &&
	       recv(cfd, junk, sizeof junk, 0) > 0)
		;
	close(cfd);
}

/* handle_client: read one request from CFD (client HOST), answer it, log
 * it and close the connection.  The transaction, in reading order. */
static void handle_client(const struct config *cfg, int cfd, const char *host)
{
	char head[HEAD_MAX + 1];
	struct request req;
	long long sent = 0;
	int status;

	/* Not memset(): the request's three 8 KiB buffers are filled before
	 * they are read, and clearing 24 KiB per request shows in a
	 * profile. */
	req.line = NULL;
	req.line_len = 0;
	req.head_only = 0;
	req.target[0] = req.path[0] = req.location[0] = '\0';
	status = read_head(cfd, head, sizeof head, cfg->timeout); /* step 4 */
	if (status < 0) {		/* gone, or silent: no request */
		close(cfd);
		return;
	}
	if (status == 0)
		status = parse_request(head, &req);		/* step 5 */
	if (status == 0)
		status = respond(cfg, cfd, &req, &sent);	/* 6 to 9 */
	if (status != 200)
		send_error(cfd, status, status == 301 ? req.location : NULL,
			   req.head_only, &sent);		/* step 10 */
	log_request(host, &req, status, sent);			/* step 11 */
	close_client(cfd, status);
}

/* Step 3: serve each client in a thread of its own, so that a client that
 * says nothing (or reads slowly) holds up only its own thread.  Making a
 * thread for every client and ending it after one small file costs more
 * than the file (clone(), a stack, two scheduler trips: handout
 * "Concurrency models" measures it), so the threads stay: each waits in
 * accept(), serves the client it gets, and waits again.  A fixed number
 * of them would be stopped by as many silent clients, so the pool grows:
 * the thread that takes the last idle place starts another one first,
 * and someone is always waiting in accept().  When a crowd has gone,
 * threads beyond IDLE_MAX idle ones end. */
struct pool {
	const struct config *cfg;
	int lfd;		/* the listening socket */
	pthread_mutex_t lock;	/* for idle: every thread changes it */
	int idle;		/* threads waiting in accept() (or about to) */
};

/* SOLUTION BEGIN */
static void *pool_thread(void *arg);

/* start_thread: start one more thread of pool P, detached, counted idle
 * from the start.  Returns 0, or the error pthread_create() gave. */
static int start_thread(struct pool *p)
{
	pthread_attr_t attr;
	pthread_t tid;
	int err;

	/* Counted before it exists: the thread that asked must not see 0
	 * idle and start yet another. */
	pthread_mutex_lock(&p->lock);
	p->idle++;
	pthread_mutex_unlock(&p->lock);
	/* Detached: nobody joins it; its memory goes back to the system
	 * as soon as it ends. */
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	err = pthread_create(&tid, &attr, pool_thread, p);
	pthread_attr_destroy(&attr);
	if (err != 0) {		/* EAGAIN: too many threads; ENOMEM */
		pthread_mutex_lock(&p->lock);
		p->idle--;
		pthread_mutex_unlock(&p->lock);
	}
	return err;
}

/* serve: the loop of every thread of pool P: accept a client, serve it,
 * again.  Returns (the thread ends) only if MAY_END and IDLE_MAX threads
 * are idle already; the main thread never ends. */
static void serve(struct pool *p, int may_end)
{
	struct timeval tv = { .tv_sec = p->cfg->timeout };

	for (;;) {
		char host[ADDR_TEXT];
		int cfd = accept_client(p->lfd, host, sizeof host), last, err;

		if (cfd < 0)
			continue;
		pthread_mutex_lock(&p->lock);
		last = --p->idle == 0;
		pthread_mutex_unlock(&p->lock);
		/* Nobody left in accept(): start somebody before serving,
		 * however long this client takes.  If no thread can be made
		 * this client is still served, by this thread; the next
		 * ones wait in the listen queue until a thread is free. */
		if (last && (err = start_thread(p)) != 0) {
			errno = err;	/* pthread_create returns it */
			warn("thread for the next client:");
		}
		/* A client that stops reading makes send() wait; SO_SNDTIMEO
		 * ends that wait (EAGAIN) after the time the head has. */
		setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
		handle_client(p->cfg, cfd, host);
		pthread_mutex_lock(&p->lock);
		if (may_end && p->idle >= IDLE_MAX) {
			pthread_mutex_unlock(&p->lock);
			return;		/* enough are waiting without me */
		}
		p->idle++;
		pthread_mutex_unlock(&p->lock);
	}
}

/* pool_thread: the body of every thread but the main one. */
static void *pool_thread(void *arg)
{
	serve(arg, 1);
	return NULL;
}
/* SOLUTION END, the starter has:
 *> // TODO(step 3): write start_thread() here:
 *> //     static int start_thread(struct pool *p)
 *> // adds 1 to p->idle (between pthread_mutex_lock(3) and _unlock),
 *> // then pthread_create(3)s a detached thread (pthread_attr_init(3),
 *> // pthread_attr_setdetachstate(3) PTHREAD_CREATE_DETACHED) running
 *> // pool_thread() with p.  If that fails, takes the 1 off again.
 *> // Returns what pthread_create() returned.  And after serve():
 *> //     static void *pool_thread(void *arg)
 *> // the body of each new thread: serve(arg, 1), return NULL.  (Declare
 *> // it before start_thread(): static void *pool_thread(void *arg);)
 *>
 *> /\* serve: the loop of every thread of pool P: accept a client, serve
 *>  * it, again.  Returns (the thread ends) only if MAY_END and IDLE_MAX
 *>  * threads are idle already; the main thread never ends. *\/
 *> static void serve(struct pool *p, int may_end)
 *> {
 *> 	(void)may_end;
 *> 	// TODO(step 3): after accept_client(), under p->lock, take 1 off
 *> 	// p->idle and note whether that made it 0; unlock.  If it did,
 *> 	// start_thread() (it takes the lock itself; fails: set errno to
 *> 	// what it returned and warn(), then serve the client anyway).  Set
 *> 	// SO_SNDTIMEO (a struct timeval of p->cfg->timeout s) on cfd with
 *> 	// setsockopt(2).  After handle_client(), under the lock: if may_end
 *> 	// and p->idle >= IDLE_MAX, return; else add 1 to p->idle.
 *> 	// For now, one client at a time:
 *> 	for (;;) {
 *> 		char host[ADDR_TEXT];
 *> 		int cfd = accept_client(p->lfd, host, sizeof host);
 *>
 *> 		if (cfd >= 0)
 *> 			handle_client(p->cfg, cfd, host);
 *> 	}
 *> }
 */

/* defer_accept: on Linux, have accept() return a client only once its
 * request has begun to arrive (TCP_DEFER_ACCEPT, 1 s at most; then it is
 * accepted anyway).  The thread then finds the request there at once
 * instead of going to sleep in poll() until it comes: a third more
 * requests a second for small files (handout "Concurrency models").
 * Only speed: elsewhere, or if it fails, nothing else changes. */
static void defer_accept(int lfd)
{
#ifdef TCP_DEFER_ACCEPT
	int seconds = 1;

	setsockopt(lfd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &seconds,
		   sizeof seconds);
#else
	(void)lfd;
#endif
}

/* serve_forever: serve clients on LFD with a pool that starts as the main
 * thread alone.  Never returns. */
static void serve_forever(const struct config *cfg, int lfd)
{
	static struct pool pool = { NULL, -1, PTHREAD_MUTEX_INITIALIZER, 1 };

	pool.cfg = cfg;
	pool.lfd = lfd;
	defer_accept(lfd);
	serve(&pool, 0);
}

int main(int argc, char *argv[])
{
	const char *addr = DEFAULT_ADDR, *port = DEFAULT_PORT;
	const char *docroot = DEFAULT_ROOT;
	char root[PATH_MAX];
	struct config cfg = { root, DEFAULT_TIMEOUT };
	struct stat st;
	int opt, lfd;

	while ((opt = getopt(argc, argv, "a:p:r:t:h")) != -1) {
		switch (opt) {
		case 'a':
			addr = optarg;
			break;
		case 'p':
			if (number_in(optarg, 0, 65535) < 0) {
				warn("bad port '%s': 0 to 65535", optarg);
				usage(stderr);
				return 2;
			}
			port = optarg;
			break;
		case 'r':
			docroot = optarg;
			break;
		case 't':
			cfg.timeout = (int)number_in(optarg, 1, 86400);
			if (cfg.timeout < 0) {
				warn("bad timeout '%s': 1 to 86400 seconds",
				     optarg);
				usage(stderr);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:	/* getopt has said what is wrong */
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		warn("unexpected argument '%s'", argv[optind]);
		usage(stderr);
		return 2;
	}

	/* Every path is checked against the root's real path (step 6). */
	if (realpath(docroot, root) == NULL)
		die("document root %s:", docroot);
	if (stat(root, &st) < 0 || !S_ISDIR(st.st_mode))
		die("document root %s: not a folder", docroot);
	/* Sending to a client that has vanished raises SIGPIPE, whose default
	 * action kills the whole server, every thread.  Ignored, send() fails
	 * with EPIPE instead, and only that client is dropped. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		die("signal SIGPIPE:");
	tzset();		/* localtime_r needs the time zone (step 11) */

	lfd = open_listener(addr, port);	/* step 1 */
	if (lfd < 0)
		return 1;
	print_ready(lfd, docroot);		/* step 2 */
	serve_forever(&cfg, lfd);		/* steps 3 to 11 */
	return 0;				/* not reached */
}
