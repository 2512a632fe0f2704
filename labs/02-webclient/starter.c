#define _POSIX_C_SOURCE 200809L
/*
 * webclient.c - download one web page over HTTP/1.1 and save it (lab 02).
 *
 *   webclient URL [OUTFILE]
 *
 *   webclient http://127.0.0.1:8000/notes.txt     saves notes.txt
 *   webclient http://[::1]:8000/ page.html        saves page.html
 *   webclient http://example.com/ -               the body on stdout
 *
 * Your lab: fill in the TODO(step N) places below, steps 1 to 7 in
 * order.  Each step is a few small functions: the comment above each
 * says what it returns, and its body, for now, only says that it is
 * "not written yet".  The handout (handouts/02-webclient.md) has a
 * section for each step.  The rest (arguments, messages, the output
 * file, and the order in which the steps run: read_header(), fetch()
 * and main()) is done for you.
 *
 * Build: make            (or: cc -std=c11 -Wall -Wextra -o webclient starter.c)
 * Try:   python3 -m http.server -b 127.0.0.1 8000 &
 *        ./build/labs/02-webclient/webclient http://127.0.0.1:8000/
 * Grade: make grade LAB=02
 */

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <unistd.h>

#define HEADER_MAX (64 * 1024)	/* the largest reply header accepted */
#define MAX_REDIRECTS 5		/* redirects followed before giving up */
#define IDLE_SECONDS 10		/* give up on a server silent this long */
#define HOST_LEN 256		/* a host name (253) or an IPv6 literal */
#define URL_LEN 8192		/* a path, a Location field */
#define NAME_LEN 4096		/* the output file's name */
#define LINE_LEN 1024		/* a chunk-size line or a trailer field */

/* A URL taken apart: http://HOST:PORT/PATH */
struct url {
	char host[HOST_LEN];	/* "example.com", "127.0.0.1" or "::1" */
	int ipv6;		/* 1: HOST was written in [brackets] */
	char port[8];		/* "80" when the URL has none */
	char path[URL_LEN];	/* "/", "/a/b.html?q=1": what GET asks for */
};

/* What a reply's header says. */
struct reply {
	int status;		/* 200, 301, 404, ... */
	int chunked;		/* 1: Transfer-Encoding: chunked */
	long long length;	/* Content-Length, -1 when there is none */
	char location[URL_LEN];	/* Location field, "" when there is none */
};

/* A connection and the bytes received on it but not used yet.  The
 * header is read into buf whole; the body passes through it. */
struct conn {
	int fd;
	size_t start, end;	/* unused bytes are buf[start] .. buf[end-1] */
	char buf[HEADER_MAX];
};

/* Where the body goes: NAME.part while it arrives, then NAME. */
struct output {
	const char *name;	/* OUTFILE as the user named it */
	int to_stdout;		/* 1: OUTFILE was "-" */
	char part[NAME_LEN + 8];/* NAME.part, the file being written */
	int fd;			/* -1 while nothing is open */
	long long written;	/* body bytes written so far */
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: webclient URL [OUTFILE]\n"
		"Download URL (http://HOST[:PORT][/PATH], HOST a name, an IPv4\n"
		"address or [IPv6]) and save its body to OUTFILE: by default the\n"
		"URL's last path segment, index.html if there is none; - for\n"
		"standard output.  Follows up to %d redirects.\n",
		MAX_REDIRECTS);
}

/* complain: print "webclient: " and a printf-style message on stderr. */
#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static void complain(const char *fmt, ...)
{
	va_list ap;

	fputs("webclient: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* complain_io: say that WHAT failed because a recv() or send() did: the
 * idle timeout (errno EAGAIN or EWOULDBLOCK) or errno's own reason. */
static void complain_io(const char *what)
{
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		complain("%s: timed out (nothing for %d s)", what, IDLE_SECONDS);
	else
		complain("%s: %s", what, strerror(errno));
}

/* copy_span: LEN bytes of SRC into DST (CAP bytes) as a string.
 * Returns 0, or -1 (DST left empty) when they do not fit. */
static int copy_span(char *dst, size_t cap, const char *src, size_t len)
{
	if (len >= cap) {
		dst[0] = '\0';
		return -1;
	}
	memcpy(dst, src, len);
	dst[len] = '\0';
	return 0;
}

/* printable: LEN bytes of P made safe to print, in OUT (CAP bytes):
 * control bytes become '?' and the text is cut to fit. */
static void printable(const char *p, size_t len, char *out, size_t cap)
{
	size_t i;

	for (i = 0; i < len && i + 1 < cap; i++)
		out[i] = (p[i] >= ' ' && p[i] < 0x7f) ? p[i] : '?';
	out[i] = '\0';
}

/* format_authority: U's host and port as a URL or a Host field writes
 * them: "example.com", "127.0.0.1:8000", "[::1]:8000" (no port if 80). */
static void format_authority(const struct url *u, char *buf, size_t cap)
{
	int port80 = strcmp(u->port, "80") == 0;

	snprintf(buf, cap, "%s%s%s%s%s", u->ipv6 ? "[" : "", u->host,
		 u->ipv6 ? "]" : "", port80 ? "" : ":", port80 ? "" : u->port);
}

/* format_url: U written out again, "http://HOST:PORT/PATH", into BUF. */
static void format_url(const struct url *u, char *buf, size_t cap)
{
	char authority[HOST_LEN + 16];

	format_authority(u, authority, sizeof authority);
	snprintf(buf, cap, "http://%s%s", authority, u->path);
}

/* write_all: write all LEN bytes of BUF to FD, however many write()
 * calls it takes.  Returns 0, or -1 with errno set. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;	/* interrupted by a signal: try again */
		if (n < 0)
			return -1;
		buf += n;		/* a short write: send the rest */
		len -= (size_t)n;
	}
	return 0;
}

/* output_init: OUT will save to NAME ("-": stdout) via NAME.part.
 * Returns 0, or -1 (message printed) when NAME is too long. */
static int output_init(struct output *out, const char *name, int to_stdout)
{
	out->name = name;
	out->to_stdout = to_stdout;
	out->fd = -1;
	out->written = 0;
	if (strlen(name) >= NAME_LEN) {
		complain("%.40s...: file name too long", name);
		return -1;
	}
	snprintf(out->part, sizeof out->part, "%s.part", name);
	return 0;
}

/* output_open: start the output: create NAME.part, or take stdout.
 * Returns 0, or -1 (message printed). */
static int output_open(struct output *out)
{
	out->written = 0;
	if (out->to_stdout) {
		out->fd = STDOUT_FILENO;
		return 0;
	}
	out->fd = open(out->part, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (out->fd < 0) {
		complain("%s: %s", out->part, strerror(errno));
		return -1;
	}
	return 0;
}

/* output_write: append LEN body bytes at BUF to the output.
 * Returns 0, or -1 (message printed). */
static int output_write(struct output *out, const char *buf, size_t len)
{
	if (write_all(out->fd, buf, len) < 0) {
		complain("writing %s: %s",
			 out->to_stdout ? "standard output" : out->part,
			 strerror(errno));
		return -1;
	}
	out->written += (long long)len;
	return 0;
}

/* default_name: the name to save the URL path PATH under: its last
 * segment, query left out; "index.html" if that is empty, "." or "..".
 * Returns 0, or -1 if it does not fit in NAME (CAP bytes). */
static int default_name(const char *path, char *name, size_t cap)
{
	size_t end = strcspn(path, "?"), start = end, len;

	while (start > 0 && path[start - 1] != '/')
		start--;
	len = end - start;
	if (len == 0 || (len == 1 && path[start] == '.') ||
	    (len == 2 && memcmp(path + start, "..", 2) == 0))
		return copy_span(name, cap, "index.html", 10);
	return copy_span(name, cap, path + start, len);
}

/*
 * Step 1: take the URL apart.
 *
 *   http://www.example.com:8080/docs/a.html?x=1#top
 *   \_____/\______________/\___/\______________/\__/
 *   scheme  host            port path + query   fragment (never sent)
 *
 * HOST may be an IPv6 address in brackets, http://[::1]:8000/, because
 * its colons would otherwise be mistaken for the port's.
 */

/* host_ok: may HOST be a host name or IPv4 address (IPV6 0), or the
 * inside of an [IPv6] literal (IPV6 1)?  Returns 1 or 0. */
static int host_ok(const char *host, int ipv6)
{
	// TODO(step 1): return 0 for an empty HOST or one with a character
	// a host cannot have, else 1.  A name or an IPv4 address (IPV6 0)
	// has letters, digits, '-', '.' and '_'; the inside of [brackets]
	// (IPV6 1) has hex digits, ':', '.' and '%', and at least one ':'.
	// Look up: isalnum(3), strchr(3).
	(void)host;
	(void)ipv6;
	complain("host_ok() is not written yet (step 1)");
	return 0;
}

/* parse_port: the LEN digits at TEXT (none: port 80) into U->port.
 * Returns 0, or -1 (message printed). */
static int parse_port(const char *text, size_t len, struct url *u)
{
	// TODO(step 1): no digits (LEN 0) means port 80.  Else every byte
	// must be a digit and the number 1 to 65535 (stop adding digits
	// once it is too big, before it overflows).  Write it into u->port
	// as text; a bad port: complain() and return -1.
	// Look up: snprintf(3).
	(void)text;
	(void)len;
	(void)u;
	complain("parse_port() is not written yet (step 1)");
	return -1;
}

/* parse_authority: "HOST[:PORT]" or "[IPV6][:PORT]" at P into U.
 * Returns where it ends (the path starts there), or NULL (message printed). */
static const char *parse_authority(const char *p, struct url *u)
{
	// TODO(step 1): the authority runs from P to the first '/', '?' or
	// '#', or to the end.  HOST is the part up to a ':', or, when P
	// starts with '[', the part inside the brackets (set u->ipv6 = 1).
	// Copy it into u->host with copy_span() and check it with host_ok()
	// (either fails: complain, return NULL).  Then parse_port() what
	// follows the ':' (no ':': zero digits).  Return the authority's end.
	// Look up: strcspn(3), memchr(3).
	(void)p;
	(void)u;
	(void)host_ok;		// keeps the compiler quiet until you call it
	(void)parse_port;	// keeps the compiler quiet until you call it
	complain("parse_authority() is not written yet (step 1)");
	return NULL;
}

/* set_path: U->path from TEXT, the part of a URL after the host: up to
 * any '#', with a '/' in front when TEXT is empty or starts with '?'.
 * Returns 0, or -1 (message printed) if too long or not sendable. */
static int set_path(struct url *u, const char *text)
{
	// TODO(step 1): u->path is TEXT up to any '#' (the fragment is for
	// the browser: never sent, never in a file name), with a '/' put
	// in front when TEXT is empty or starts with '?'.  A space, a
	// control or a non-ASCII byte would break the request line, and a
	// path may be too long for u->path: complain() and return -1.
	// Look up: strcspn(3), snprintf(3) (its "%.*s").
	(void)u;
	(void)text;
	complain("set_path() is not written yet (step 1)");
	return -1;
}

/* parse_url: split TEXT, "http://HOST[:PORT][/PATH]", into U.
 * Returns 0; -2 for an https:// URL, -1 for a malformed one (both with a
 * message printed). */
static int parse_url(const char *text, struct url *u)
{
	// TODO(step 1): "https://..." (in any case): complain() that https
	// is not supported and return -2.  Anything else but "http://...":
	// complain() and return -1.  Then parse_authority() what follows
	// "http://", and set_path() from where the authority ends; either
	// failing: return -1.  Look up: strncasecmp(3).
	(void)u;
	(void)parse_authority;	// keeps the compiler quiet until you call it
	(void)set_path;		// keeps the compiler quiet until you call it
	complain("%s: parse_url() is not written yet (step 1)", text);
	return -1;
}

/*
 * Step 2: connect.  getaddrinfo() turns the host into a list of
 * addresses (IPv6 and IPv4, AF_UNSPEC); the first may not answer from
 * here, so try each in turn.  Python's s.connect((host, 80)) hides this.
 * An idle timeout on the socket makes recv() and send() fail with EAGAIN
 * instead of waiting forever on a server that stalls.
 */

/* set_idle_timeout: make recv() and send() on FD give up (EAGAIN or
 * EWOULDBLOCK) after IDLE_SECONDS without progress.  Returns 0 or -1. */
static int set_idle_timeout(int fd)
{
	// TODO(step 2): give FD's SO_RCVTIMEO and SO_SNDTIMEO options a
	// struct timeval of IDLE_SECONDS seconds; return -1 if either
	// setsockopt() fails, else 0.
	// Look up: setsockopt(2), socket(7) on Linux (SO_RCVTIMEO).
	(void)fd;
	complain("set_idle_timeout() is not written yet (step 2)");
	errno = ENOSYS;
	return -1;
}

/* complain_address: say that connecting to AI (port PORT) failed with
 * errno value ERR, naming the numeric address. */
static void complain_address(const struct addrinfo *ai, const char *port,
			     int err)
{
	char addr[128];

	if (getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, sizeof addr, NULL,
			0, NI_NUMERICHOST) != 0)
		snprintf(addr, sizeof addr, "(unknown address)");
	/* On Linux SO_SNDTIMEO also limits connect(), which then fails
	 * with EINPROGRESS: the connection did not come up in time. */
	complain("connecting to %s port %s: %s", addr, port,
		 err == EINPROGRESS ? "timed out" : strerror(err));
}

/* open_client: connect to HOST port PORT, trying every address it has.
 * Returns the connected socket, or -1 (message printed). */
static int open_client(const char *host, const char *port)
{
	// TODO(step 2): getaddrinfo(host, port, ...) with hints AF_UNSPEC and
	// SOCK_STREAM (it fails: complain() with gai_strerror(), return -1).
	// For each address of the list, in turn: socket(),
	// set_idle_timeout(), connect(); stop at the first that connects.
	// For each that fails: complain_address() with errno, and close()
	// its socket.  Then freeaddrinfo() the list; if none connected,
	// complain() and return -1.
	// Look up: getaddrinfo(3), socket(2), connect(2), freeaddrinfo(3).
	(void)set_idle_timeout;	// keeps the compiler quiet until you call it
	(void)complain_address;	// keeps the compiler quiet until you call it
	complain("connecting to %s port %s: open_client() is not written "
		 "yet (step 2)", host, port);
	return -1;
}

/*
 * Step 3: send the request.  HTTP/1.1 needs a Host field (one address
 * may serve many sites); "Connection: close" asks the server to close
 * when the reply is complete.  Every line ends in CRLF, and an empty
 * line ends the request:
 *
 *   GET /docs/a.html HTTP/1.1\r\n
 *   Host: www.example.com:8080\r\n
 *   Connection: close\r\n
 *   \r\n
 *
 * send() may take fewer bytes than it was given: send the rest.
 */

/* send_all: send all LEN bytes of BUF on FD, however many send() calls
 * it takes.  Returns 0, or -1 with errno set (EAGAIN: idle timeout). */
static int send_all(int fd, const char *buf, size_t len)
{
	// TODO(step 3): call send() until all LEN bytes are sent: it may
	// take fewer than it is given (then send the rest), and it fails
	// with EINTR when a signal interrupts it (then try again).  Any
	// other failure: return -1.  write_all() above is the same loop
	// with write().  Look up: send(2).
	(void)fd;
	(void)buf;
	(void)len;
	complain("send_all() is not written yet (step 3)");
	errno = ENOSYS;
	return -1;
}

/* send_request: send the GET request for U on FD.
 * Returns 0, or -1 (message printed). */
static int send_request(int fd, const struct url *u)
{
	// TODO(step 3): build the request in a buffer with snprintf() and
	// check that it fit: "GET PATH HTTP/1.1", "Host: " and what
	// format_authority() writes, "Connection: close", each line ending
	// in "\r\n", then an empty line.  Send it with send_all(); if that
	// fails, complain_io("sending the request") and return -1.
	// Look up: snprintf(3).
	(void)fd;
	(void)u;
	(void)send_all;		// keeps the compiler quiet until you call it
	(void)complain_io;	// keeps the compiler quiet until you call it
	complain("send_request() is not written yet (step 3)");
	return -1;
}

/*
 * Step 4: read the reply's header and parse it.  It ends at the first
 * empty line; recv() may deliver it in any number of pieces, and even
 * the four bytes "\r\n\r\n" may be split between two of them:
 *
 *   HTTP/1.1 200 OK\r\n                 status line: version code reason
 *   Content-Type: text/html\r\n         fields, "Name: value", names in
 *   Content-Length: 1256\r\n            any case
 *   \r\n                                the end of the header
 *   <!doctype html>...                  the body (maybe in buf already)
 *
 * The header is read whole into conn's buffer (at most HEADER_MAX); the
 * bytes after it are the start of the body.  read_header(), at the end
 * of this step, puts the pieces together.
 */

/* recv_some: one recv() of at most LEN bytes into BUF, retried when a
 * signal interrupts it.  Returns the number of bytes, 0 when the server
 * has closed, -1 on error (EAGAIN or EWOULDBLOCK: the idle timeout). */
static ssize_t recv_some(int fd, char *buf, size_t len)
{
	// TODO(step 4): recv() at most LEN bytes into BUF, and call it
	// again when it fails with EINTR (a signal interrupted it).
	// Return what recv() returned.  Look up: recv(2).
	(void)fd;
	(void)buf;
	(void)len;
	complain("recv_some() is not written yet (step 4)");
	errno = ENOSYS;
	return -1;
}

/* header_end: the length of the header in BUF[0..LEN), up to and with
 * its "\r\n\r\n", searching from FROM on; 0 when it is not all there. */
static size_t header_end(const char *buf, size_t len, size_t from)
{
	// TODO(step 4): look for the 4 bytes "\r\n\r\n" in BUF, starting
	// at byte FROM, never reading past LEN: every i with i + 4 <= LEN
	// (they may be BUF's very last bytes).  Found at byte i: return
	// i + 4.  Not found: return 0.  Look up: memcmp(3).
	(void)buf;
	(void)len;
	(void)from;
	complain("header_end() is not written yet (step 4)");
	return 0;
}

/* check_http: do the LEN bytes received so far start like "HTTP/"?
 * Says so early for a server that speaks something else.
 * Returns 0, or -1 (message printed). */
static int check_http(const char *buf, size_t len)
{
	char shown[64];

	if (memcmp(buf, "HTTP/", len < 5 ? len : 5) == 0)
		return 0;
	printable(buf, len, shown, sizeof shown);
	complain("reading the reply: not an HTTP reply: \"%s\"", shown);
	return -1;
}

/* recv_header: receive on C (its buffer still empty) until the buffer
 * holds a whole header.  Returns the header's length, or -1 (message
 * printed). */
static ssize_t recv_header(struct conn *c)
{
	// TODO(step 4): repeat: if header_end() finds the header's end in
	// c->buf (c->end bytes so far), return that length.  Else, if the
	// buffer is full, complain that the header is too large and return
	// -1; if not, recv_some() into the room left (from c->buf + c->end)
	// and add what came to c->end.  When recv_some() fails:
	// complain_io("reading the reply") and return -1; when it returns
	// 0, the server closed before the empty line: complain, -1.  After
	// each recv, check_http().  Search each time from 3 bytes before
	// the new data, not from its first byte: "\r\n\r\n" may come as
	// "\r\n\r" and then "\n".
	(void)c;
	(void)recv_some;	// keeps the compiler quiet until you call it
	(void)header_end;	// keeps the compiler quiet until you call it
	(void)check_http;	// keeps the compiler quiet until you call it
	complain("recv_header() is not written yet (step 4)");
	return -1;
}

/* parse_status_line: check the LEN-byte LINE is "HTTP/1.x NNN reason",
 * show it on stderr and put NNN in R->status.  Returns 0, or -1. */
static int parse_status_line(const char *line, size_t len, struct reply *r)
{
	// TODO(step 4): LINE (LEN bytes, no "\r\n") must be "HTTP/1.x NNN",
	// then nothing or a space and the reason: x a digit (1.0 and 1.1
	// are both fine), NNN three digits, 100 to 599.  Not so: complain()
	// showing it (printable() makes it safe to print) and return -1.
	// Else print the line on stderr and set r->status to NNN.
	// Look up: memcmp(3), isdigit(3).
	(void)line;
	(void)len;
	(void)r;
	complain("parse_status_line() is not written yet (step 4)");
	return -1;
}

/* parse_length: a Content-Length value (LEN bytes at V) into R->length.
 * Returns 0, or -1 (message printed) if not a number or contradicted. */
static int parse_length(const char *v, size_t len, struct reply *r)
{
	// TODO(step 4): the LEN bytes at V must be digits, at least one and
	// nothing else ("12x" is malformed, so atoi() will not do), making a
	// number that fits in a long long.  If r->length is already set (a
	// second Content-Length), it must be the same number.  Else
	// complain() and return -1.  Set r->length.  Look up: isdigit(3).
	(void)v;
	(void)len;
	(void)r;
	complain("parse_length() is not written yet (step 4)");
	return -1;
}

/* name_is: is the LEN-byte field name NAME equal to WANT, in any case? */
static int name_is(const char *name, size_t len, const char *want)
{
	// TODO(step 4): 1 if the LEN bytes at NAME are WANT, letters in any
	// case ("content-length" is "Content-Length"), else 0.  Mind the
	// lengths: "Content-Len" is not "Content-Length".
	// Look up: strncasecmp(3).
	(void)name;
	(void)len;
	(void)want;
	complain("name_is() is not written yet (step 4)");
	return 0;
}

/* parse_field: one "Name: value" line (LEN bytes at LINE); keeps the
 * fields that frame the body or redirect.  Returns 0, or -1 if bad. */
static int parse_field(const char *line, size_t len, struct reply *r)
{
	// TODO(step 4): split LINE (LEN bytes, no "\r\n") at its first ':'
	// into the name and the value, without the spaces and tabs around
	// it.  No ':' at all, an empty name, or a name with a space or tab
	// anywhere ("Content-Length : 5", "Content Length: 5", a line that
	// starts with a space): complain() and return -1.  Then, names
	// compared with name_is() (any case):
	//  - Content-Length: parse_length() the value;
	//  - Transfer-Encoding: "chunked" (any case) sets r->chunked; any
	//    other value: complain() that it is not supported, return -1;
	//  - Location: copy_span() the value into r->location (it does not
	//    fit: complain, return -1).
	// Any other field is ignored.  Look up: memchr(3).
	(void)line;
	(void)len;
	(void)r;
	(void)parse_length;	// keeps the compiler quiet until you call it
	(void)name_is;		// keeps the compiler quiet until you call it
	complain("parse_field() is not written yet (step 4)");
	return -1;
}

/* line_end: where the line at P ends: the '\r' of its "\r\n" (the
 * caller knows there is one). */
static const char *line_end(const char *p)
{
	while (p[0] != '\r' || p[1] != '\n')
		p++;
	return p;
}

/* parse_header: the LEN-byte header at H (status line, fields, empty
 * line) into R.  Returns 0, or -1 (message printed). */
static int parse_header(const char *h, size_t len, struct reply *r)
{
	// TODO(step 4): start R empty: status 0, chunked 0, length -1 (no
	// Content-Length), location "".  Then take H line by line (each
	// ends in "\r\n"; line_end() finds it): the first line to
	// parse_status_line(), every other one to parse_field(), until the
	// empty line at the end (H's last 2 bytes).  Either fails: -1.
	// A 204 (No Content) reply has no body: set its length to 0.
	(void)h;
	(void)len;
	(void)r;
	(void)line_end;		// keeps the compiler quiet until you call it
	(void)parse_status_line;	// keeps the compiler quiet until you call it
	(void)parse_field;	// keeps the compiler quiet until you call it
	complain("parse_header() is not written yet (step 4)");
	return -1;
}

/* read_header: receive one reply's header on C and parse it into R;
 * C's unused bytes are then the body's first bytes.
 * Returns 0, or -1 (message printed). */
static int read_header(struct conn *c, struct reply *r)
{
	ssize_t len = recv_header(c);

	if (len < 0 || parse_header(c->buf, (size_t)len, r) < 0)
		return -1;
	c->start = (size_t)len;		/* the body starts after the header */
	return 0;
}

/*
 * Step 5: follow a redirect.  A 301, 302, 303, 307 or 308 reply names
 * the page's new place in its Location field, written in one of these
 * ways (here read against http://h:8000/a/b.html):
 *
 *   http://other:81/c.html     absolute: a whole URL       other:81/c.html
 *   //other:81/c.html          scheme-relative: add http:  other:81/c.html
 *   /c.html                    absolute path: same server  h:8000/c.html
 *   c.html                     relative: same directory    h:8000/a/c.html
 */

/* has_scheme: does REF start with a scheme, as "http:" or "ftp:" do? */
static int has_scheme(const char *ref)
{
	// TODO(step 5): 1 if REF starts with a letter, then letters, digits,
	// '+', '-' or '.', then a ':' ("http:", "https:", "ftp:"), else 0.
	// Look up: strspn(3), isalpha(3).
	(void)ref;
	complain("has_scheme() is not written yet (step 5)");
	return 0;
}

/* resolve_location: the URL that the Location field LOC names, read
 * against BASE (the URL just fetched), into NEXT.
 * Returns 0, or -1 (message printed). */
static int resolve_location(const struct url *base, const char *loc,
			    struct url *next)
{
	// TODO(step 5): fill NEXT from LOC (an empty LOC: complain, -1):
	//  - has_scheme(loc), "http://...": parse_url(loc, next) (it refuses
	//    https:// with -2: return -1 for any failure);
	//  - "//host/path": parse_url() of "http:" followed by loc;
	//  - "/path": base's host and port (*next = *base), set_path(loc);
	//  - anything else: the same, with base's path up to and with its
	//    last '/' (search only before any '?') followed by loc.
	// Build the joined strings with snprintf() and check that they fit.
	// Look up: snprintf(3), strcspn(3).
	(void)base;
	(void)loc;
	(void)next;
	(void)has_scheme;	// keeps the compiler quiet until you call it
	complain("resolve_location() is not written yet (step 5)");
	return -1;
}

/*
 * Step 6: copy the body to the output as it arrives, framed in one of
 * three ways (RFC 9112, section 6.3):
 *
 *   Transfer-Encoding: chunked      Content-Length: N     neither
 *   1a;name=value\r\n  size in hex  N bytes, then the     bytes until the
 *   ...26 bytes...\r\n              server may close      server closes
 *   0\r\n              last chunk   (fewer: cut short)    (only way to
 *   Trailer: x\r\n     trailers                           know the end)
 *   \r\n               the end
 *
 * The body may be gigabytes: it passes through conn's buffer, a piece at
 * a time, never held whole in memory.  Its first bytes may be there
 * already (they came with the header): c->buf[c->start .. c->end).
 */

/* conn_fill: make sure C's buffer has unused bytes, receiving more when
 * it has none.  Returns how many there are, 0 when the server has
 * closed, -1 on error (message printed). */
static ssize_t conn_fill(struct conn *c)
{
	// TODO(step 6): if C has unused bytes (c->start < c->end), return how
	// many.  Else set c->start and c->end to 0 and recv_some() into the
	// whole c->buf: -1 is an error (complain_io("reading the body")),
	// 0 the server closing; more goes into c->end.  Return its result.
	(void)c;
	complain("conn_fill() is not written yet (step 6)");
	return -1;
}

/* copy_exactly: copy the next N body bytes from C to OUT.
 * Returns 0, or -1 (message printed) if the server closed first. */
static int copy_exactly(struct conn *c, long long n, struct output *out)
{
	// TODO(step 6): while bytes are still to come (N > 0): conn_fill();
	// -1: return -1; 0: the server closed too early, the body was cut
	// short: complain() and return -1.  Else output_write() the unused
	// bytes, but no more than N of them, move c->start past them and
	// take them off N.
	(void)c;
	(void)n;
	(void)out;
	(void)conn_fill;	// keeps the compiler quiet until you call it
	(void)output_write;	// keeps the compiler quiet until you call it
	complain("copy_exactly() is not written yet (step 6)");
	return -1;
}

/* copy_until_close: copy body bytes from C to OUT until the server
 * closes.  Returns 0, or -1 (message printed). */
static int copy_until_close(struct conn *c, struct output *out)
{
	// TODO(step 6): again and again: conn_fill(), output_write() all the
	// unused bytes, mark them used (c->start = c->end).  Stop when
	// conn_fill() returns 0 (the server closed: the body is whole,
	// return 0) or -1 (return -1).
	(void)c;
	(void)out;
	complain("copy_until_close() is not written yet (step 6)");
	return -1;
}

/* read_line: one line of a chunked body from C into LINE (CAP bytes),
 * without its CRLF.  Returns its length, or -1 (message printed) if it
 * is too long, does not end in CRLF, or the server closed first. */
static int read_line(struct conn *c, char *line, size_t cap)
{
	// TODO(step 6): take C's unused bytes one at a time (conn_fill()
	// when there are none; 0 there: the body was cut short, complain;
	// 0 or -1: return -1) into LINE, up to the '\n'.  The line must end
	// in "\r\n" and fit in LINE with a '\0' (else complain, -1).  Store
	// it without the "\r\n", as a string, and return its length.
	(void)c;
	(void)line;
	(void)cap;
	complain("read_line() is not written yet (step 6)");
	return -1;
}

/* chunk_size: the hex size that starts LINE ("1a", "1A;name=x").
 * Returns it, or -1 (message printed) if the line is malformed. */
static long long chunk_size(const char *line)
{
	// TODO(step 6): LINE starts with hex digits (0-9, a-f, A-F): their
	// value is the size.  After them may come spaces and a ';' with an
	// extension to ignore ("1A;name=value"); anything else, no digit at
	// all, or a size too big for a long long: complain(), return -1.
	// Look up: isxdigit(3); strtoll(3) with base 16 also takes a sign,
	// spaces and "0x", so check the first character yourself.
	(void)line;
	complain("chunk_size() is not written yet (step 6)");
	return -1;
}

/* copy_chunked: copy a chunked body from C to OUT, chunk by chunk, then
 * pass over the trailer.  Returns 0, or -1 (message printed). */
static int copy_chunked(struct conn *c, struct output *out)
{
	// TODO(step 6): repeat: read_line() a size line into a buffer of
	// LINE_LEN bytes and chunk_size() it.  Size 0 is the last chunk.
	// Else copy_exactly() that many bytes, then read_line() the "\r\n"
	// that follows them (the line must be empty, else complain, -1).
	// After the last chunk, read_line() the trailer lines up to an
	// empty one.  Any failure: return -1.
	(void)c;
	(void)out;
	(void)read_line;	// keeps the compiler quiet until you call it
	(void)chunk_size;	// keeps the compiler quiet until you call it
	complain("copy_chunked() is not written yet (step 6)");
	return -1;
}

/* copy_body: copy the body of reply R from C to OUT, framed as R says.
 * Returns 0 when the whole body is written, -1 (message printed) if not. */
static int copy_body(struct conn *c, const struct reply *r,
		     struct output *out)
{
	// TODO(step 6): the framing decides: r->chunked: copy_chunked() (it
	// wins over a Content-Length); r->length >= 0: copy_exactly() that
	// many bytes; neither: copy_until_close().  Return its result.
	(void)c;
	(void)r;
	(void)out;
	(void)copy_chunked;	// keeps the compiler quiet until you call it
	(void)copy_exactly;	// keeps the compiler quiet until you call it
	(void)copy_until_close;	// keeps the compiler quiet until you call it
	complain("copy_body() is not written yet (step 6)");
	return -1;
}

/*
 * Step 7: keep the file only if the whole body arrived.  The body went
 * to NAME.part; now it gets its real name.  rename() replaces NAME in
 * one step, so nobody ever sees a half-written NAME.
 */

/* output_finish: close the output and rename NAME.part to NAME.
 * Returns 0, or -1 (message printed). */
static int output_finish(struct output *out)
{
	// TODO(step 7): close out->fd, unless it is STDOUT_FILENO (stdout
	// stays open: nothing to rename, return 0), then rename(out->part,
	// out->name).  Either fails: complain(), remove the .part file and
	// return -1.  Set out->fd = -1 in every case.
	// Look up: close(2), rename(2), unlink(2).
	(void)out;
	complain("output_finish() is not written yet (step 7)");
	return -1;
}

/* output_discard: close the output and remove NAME.part, after a
 * failure: only a complete body is ever saved. */
static void output_discard(struct output *out)
{
	// TODO(step 7): if out->fd is open (>= 0) and not STDOUT_FILENO,
	// close it and unlink(out->part): a half body is no use to anyone.
	// Set out->fd = -1.  Look up: unlink(2).
	(void)out;
}

/* is_redirect: does STATUS send the client to the Location field? */
static int is_redirect(int status)
{
	return status == 301 || status == 302 || status == 303 ||
	       status == 307 || status == 308;
}

/* follow: reply R to URL was a redirect; point URL at where it leads,
 * counting the hops in *HOPS.  Returns 0, or -1 (message printed). */
static int follow(struct url *url, const struct reply *r, int *hops)
{
	struct url next;
	char shown[URL_LEN + HOST_LEN + 32];

	if (++*hops > MAX_REDIRECTS) {
		complain("too many redirects (more than %d)", MAX_REDIRECTS);
		return -1;
	}
	/* Step 5: where does the redirect lead? */
	if (resolve_location(url, r->location, &next) < 0)
		return -1;
	*url = next;
	format_url(url, shown, sizeof shown);
	fprintf(stderr, "-> following redirect to %s\n", shown);
	return 0;
}

/* fetch: GET URL, following redirects, and save the final body to OUT.
 * Returns 0 when it is saved, -1 (message printed) when not. */
static int fetch(struct url *url, struct output *out)
{
	static struct conn c;	/* static: its 64 KiB stay off the stack */
	struct reply r;
	int hops = 0, rc;

	for (;;) {
		/* Steps 2, 3, 4: connect, ask, read the header. */
		c.fd = open_client(url->host, url->port);
		if (c.fd < 0)
			return -1;
		c.start = c.end = 0;
		if (send_request(c.fd, url) < 0 || read_header(&c, &r) < 0) {
			close(c.fd);
			return -1;
		}
		if (!is_redirect(r.status))
			break;
		close(c.fd);		/* a redirect's body is not wanted */
		if (follow(url, &r, &hops) < 0)
			return -1;
	}
	if (r.status < 200 || r.status > 299) {
		complain("the server answered %d, not a 2xx success", r.status);
		close(c.fd);
		return -1;
	}
	/* Step 6: the body, as it arrives, to OUTFILE.part. */
	rc = output_open(out);
	if (rc == 0)
		rc = copy_body(&c, &r, out);
	close(c.fd);
	/* Step 7: keep the file if the body is whole, else remove it. */
	if (rc == 0)
		rc = output_finish(out);
	if (rc < 0) {
		output_discard(out);
		return -1;
	}
	fprintf(stderr, "saved %lld bytes to %s\n", out->written,
		out->to_stdout ? "standard output" : out->name);
	return 0;
}

int main(int argc, char **argv)
{
	struct url url;
	struct output out;
	char name[NAME_LEN];
	const char *outfile;
	int opt, rc, to_stdout = 0;

	/* A server that closes early makes send() fail with EPIPE instead
	 * of killing us with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	while ((opt = getopt(argc, argv, "h")) != -1) {
		if (opt == 'h') {
			usage(stdout);
			return 0;
		}
		usage(stderr);
		return 2;
	}
	if (argc - optind < 1 || argc - optind > 2) {
		usage(stderr);
		return 2;
	}

	/* Step 1: take the URL apart (https:// is understood, refused). */
	rc = parse_url(argv[optind], &url);
	if (rc == -2)
		return 1;
	if (rc < 0) {
		usage(stderr);
		return 2;
	}

	/* OUTFILE, or a name made from the URL ("-" only when given). */
	if (argc - optind == 2) {
		outfile = argv[optind + 1];
		to_stdout = strcmp(outfile, "-") == 0;
	} else if (default_name(url.path, name, sizeof name) == 0) {
		outfile = name;
	} else {
		complain("no file name in the URL: give an OUTFILE");
		return 2;
	}
	if (outfile[0] == '\0' || output_init(&out, outfile, to_stdout) < 0) {
		usage(stderr);
		return 2;
	}
	return fetch(&url, &out) == 0 ? 0 : 1;
}
