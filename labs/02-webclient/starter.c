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
 * order; the handout (handouts/02-webclient.md) has a section for each
 * step.  The rest (arguments, messages, the output file, the order in
 * which the steps run: see fetch() and main()) is done for you.
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

/* parse_url: split TEXT, "http://HOST[:PORT][/PATH]", into U.
 * Returns 0; -2 for an https:// URL, -1 for a malformed one (both with a
 * message printed). */
static int parse_url(const char *text, struct url *u)
{
	// TODO(step 1): split TEXT into u->host, u->ipv6, u->port, u->path.
	//  - "https://..." (any case): complain() and return -2; anything but
	//    "http://...": complain() and return -1.
	//  - HOST runs to the first ':', '/', '?' or '#'; "[...]" holds an
	//    IPv6 address (store it without the brackets, set u->ipv6 = 1).
	//  - PORT: digits after the ':', 1 to 65535; "80" when there is none.
	//  - PATH: from the first '/' or '?' up to any '#' (the fragment is
	//    never sent), "/" when empty, a '/' put in front of a bare "?q".
	//    Refuse spaces and control bytes: they would break the request.
	//  Check every length: copy_span() refuses what does not fit.
	// Look up: strncasecmp(3), strcspn(3), memchr(3), isalnum(3).
	(void)u;
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

/* open_client: connect to HOST port PORT, trying every address it has.
 * Returns the connected socket, or -1 (message printed). */
static int open_client(const char *host, const char *port)
{
	// TODO(step 2): getaddrinfo(host, port, ...) with hints AF_UNSPEC and
	// SOCK_STREAM (on failure complain() with gai_strerror()).  For each
	// address: socket(); an idle timeout of IDLE_SECONDS for recv() and
	// send() (setsockopt() with SO_RCVTIMEO and SO_SNDTIMEO, a struct
	// timeval); connect().  Keep the first socket that connects, close
	// the others, freeaddrinfo() the list, complain() if none connects.
	// Look up: getaddrinfo(3), socket(2), setsockopt(2), connect(2).
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

/* send_request: send the GET request for U on FD.
 * Returns 0, or -1 (message printed). */
static int send_request(int fd, const struct url *u)
{
	// TODO(step 3): build the request in a buffer with snprintf() (check
	// that it fit): "GET PATH HTTP/1.1", "Host: " + format_authority(),
	// "Connection: close", each line ending "\r\n", then an empty line.
	// Then send all of it: send() may take only part, so loop, retrying
	// on EINTR (write_all() above does the same with write()).  On an
	// error complain_io("sending the request") and return -1.
	// Look up: snprintf(3), send(2).
	(void)fd;
	(void)u;
	(void)complain_io;
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
 * bytes after it are the start of the body.
 */

/* read_header: receive one reply's header on C and parse it into R,
 * passing over interim 1xx replies; C's unused bytes are then the
 * body's first bytes.  Returns 0, or -1 (message printed). */
static int read_header(struct conn *c, struct reply *r)
{
	// TODO(step 4): recv() into c->buf + c->end (retry on EINTR; 0 means
	// the server closed; -1 with EAGAIN is the idle timeout: see
	// complain_io()) until the buffer holds "\r\n\r\n" -- search from a
	// few bytes before the new data, the four bytes may come in two
	// recv()s.  A full buffer without it: complain, the header is too
	// large.  Then parse, line by line ("\r\n" ends each):
	//  - the status line "HTTP/1.x NNN reason": check its form, print it
	//    on stderr (printable() helps), r->status = NNN;
	//  - each field "Name: value" (names in any case, value trimmed):
	//    Content-Length -> r->length (else -1), Transfer-Encoding:
	//    chunked -> r->chunked, Location -> r->location (else "").
	// Leave c->start at the first byte after the header.
	// Look up: recv(2), memcmp(3), strncasecmp(3), isdigit(3).
	(void)c;
	(void)printable;
	r->status = 0;
	complain("read_header() is not written yet (step 4)");
	return -1;
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

/* resolve_location: the URL that the Location field LOC names, read
 * against BASE (the URL just fetched), into NEXT.
 * Returns 0, or -1 (message printed). */
static int resolve_location(const struct url *base, const char *loc,
			    struct url *next)
{
	// TODO(step 5): fill NEXT from LOC (empty LOC: complain, return -1).
	//  - "http://..." (any "scheme:" start): parse_url(loc, next);
	//  - "//host/path": parse_url() of "http:" + loc;
	//  - "/path": base's host and port with loc as the path;
	//  - anything else: base's path up to its last '/', then loc.
	// As in step 1, drop a "#fragment", keep every length in bounds.
	// Look up: snprintf(3), strrchr(3).
	(void)base;
	(void)loc;
	(void)next;
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
 * a time, never held whole in memory.
 */

/* copy_body: copy the body of reply R from C to OUT, framed as R says.
 * Returns 0 when the whole body is written, -1 (message printed) if not. */
static int copy_body(struct conn *c, const struct reply *r,
		     struct output *out)
{
	// TODO(step 6): pass the body to output_write() as it arrives: first
	// the bytes already in c->buf (c->start to c->end), then recv() more
	// into it.  The framing decides where the body ends:
	//  - r->chunked: lines of hex sizes (";extension" ignored), each
	//    followed by that many bytes and "\r\n"; size 0 is the last,
	//    then trailer lines up to an empty one.  Malformed: an error.
	//  - r->length >= 0: exactly that many bytes; fewer is an error.
	//  - otherwise: everything until recv() returns 0.
	// A server that closes early: complain("... cut short ..."), -1.
	// Look up: recv(2), strtoll(3) (base 16) or your own hex loop.
	(void)c;
	(void)r;
	(void)output_write;
	(void)out;
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
	// TODO(step 7): close out->fd (unless it is STDOUT_FILENO) and
	// rename(out->part, out->name); on failure complain(), remove the
	// .part file and return -1.  Set out->fd = -1 either way.
	// Look up: close(2), rename(2), unlink(2).
	(void)out;
	complain("output_finish() is not written yet (step 7)");
	return -1;
}

/* output_discard: close the output and remove NAME.part, after a
 * failure, so that no file is left under either name. */
static void output_discard(struct output *out)
{
	// TODO(step 7): if out->fd is open (and not STDOUT_FILENO), close it
	// and unlink(out->part).  Set out->fd = -1.  Look up: unlink(2).
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
