/*
 * httpd - the grader's scripted HTTP server: it answers every GET the way
 * its options say, well or badly on purpose.
 *
 *   httpd [-a ADDR] [-p PORT] [-P PORTFILE] [-l SECONDS] [-L LOGFILE]
 *         [-Q REQFILE] [-f FILE | -s SEED -n LENGTH] [-u PATH] [-T TYPE]
 *         [-S STATUS] [-F length|chunked|close] [-c MAX] [-x]
 *         [-r HOPS|forever] [-R STATUSES] [-k KINDS] [-m MODE]
 *         [-d MS] [-w BYTES] [-b SPLIT] [-B MS] [-H BYTES] [-i]
 *         [-V VERSION] [-N CASE] [-A FILE]
 *
 * Where it listens (the mould of peer.h):
 *   -a ADDR      numeric address to listen on (default 127.0.0.1; ::1 too)
 *   -p PORT      port (default 0: any free port)
 *   -P PORTFILE  write the port bound to PORTFILE (atomically)
 *   -l SECONDS   exit after SECONDS, connections being served included
 *                (default 60; 0: never)
 *   -L LOGFILE   one line per event: connections, request lines, replies
 *   -Q REQFILE   append the raw bytes of every request received
 *
 * What it serves (the body of the final reply):
 *   -f FILE      the contents of FILE, or else
 *   -s SEED      LENGTH bytes of the seeded stream peer_fill(SEED), which
 *   -n LENGTH    `datagen SEED LENGTH` regenerates (defaults 1 and 1024)
 *   -u PATH      serve it only at PATH (query ignored); other paths 404
 *   -T TYPE      its Content-Type (default application/octet-stream)
 *   -S STATUS    the final reply's status (default 200; 404 and 500 carry
 *                the body too, so keep it small with -n; so does 203)
 *
 * How the body is framed:
 *   -F length    Content-Length (default)
 *   -F chunked   Transfer-Encoding: chunked, chunk sizes 1..MAX drawn from
 *                the seed (-c MAX, default 1000)
 *   -F close     neither: the end of the body is the server closing
 *   -x           chunked with decorations: uppercase hex, a chunk
 *                extension on every other chunk, a trailer field
 *
 * Redirects before the final reply:
 *   -r HOPS      answer HOPS redirects first (default 0), or "forever"
 *   -R STATUSES  their statuses, a comma list taken in turn hop by hop
 *                (default 302; e.g. 301,302,303,307,308)
 *   -k KINDS     how each Location is written, a comma list taken in turn
 *                (default path): absolute (http://ADDR:PORT/redirect-N),
 *                scheme (//ADDR:PORT/redirect-N), path (/redirect-N),
 *                relative (redirect-N, read against the request's
 *                directory), query (redirect-N?next=http://ADDR:PORT/x/:
 *                relative, its query holding "://" and "/"), https
 *                (https://ADDR:PORT/redirect-N), none (no Location
 *                field at all), empty (a Location field with no value)
 *   A request whose last path segment is redirect-N is hop N of the
 *   chain; it is redirected to redirect-N+1 until N reaches HOPS, then
 *   gets the final reply.  Any other path is hop 0 (and with -u must be
 *   PATH).
 *
 * Misbehaving (-m MODE, the final reply only; redirects stay correct):
 *   ok           a correct reply (default)
 *   short        the body cut short, then close: half of a Content-Length
 *                body, or a chunked body stopped in the middle of a chunk
 *                (with -F close the client cannot tell)
 *   stall        read the request, send nothing, hold the connection
 *   stall-body   send the header and half the body, hold the connection
 *   hangup       read the request and close without a word
 *   garbage      a line that is not a status line, then close
 *   badchunk     chunked, with a malformed chunk-size line mid-body
 *   badlength    a Content-Length that is not a number: the length with
 *                an "x" after it ("1234x"), which atoi() would take
 *   A held connection stays open until the client closes it or the
 *   lifetime (-l) ends.  The log shows each malformed line as sent.
 *   -A FILE      the final reply is FILE's bytes exactly as they are (a
 *                hand-made reply, header and body, well or badly formed;
 *                -m, -F, -S and the body options do not apply to it,
 *                but -m hold holds the connection open after it).  When
 *                FILE is a folder, the reply to GET /.../NAME is the file
 *                FILE/NAME.reply (NAME: the path's last segment, without
 *                the query), so one server serves many hand-made replies
 *
 * How the bytes go out (every reply):
 *   -d MS        drip: W bytes at a time (-w W, default 1), MS ms apart
 *   -b SPLIT     two sends with a pause (-B MS, default 200) between; the
 *                first ends at SPLIT: "mid" (the middle of the header),
 *                "end-K" (K bytes before the header's end; end-1 is just
 *                after the blank line's "\r\n\r"), or a byte count
 *   -H BYTES     pad the header with X-Filler lines to about BYTES
 *   -i           send an interim "100 Continue" reply first
 *
 * How the header is written (every reply):
 *   -V VERSION   the status line's version (default 1.1; 1.0 answers as
 *                HTTP/1.0 servers such as Python's http.server do)
 *   -N CASE      field names in another case: lower (content-length:,
 *                transfer-encoding: chunked), upper (CONTENT-LENGTH:,
 *                TRANSFER-ENCODING: Chunked) or mixed (cOnTeNt-lEnGtH:,
 *                tRaNsFeR-EnCoDiNg: cHuNkEd); default as RFC 9110 writes
 *                them (Content-Length:)
 *
 * The log (-L) shows each request line, the start of each reply's header
 * (300 bytes, escaped) and what was sent.
 * GET gets the reply, HEAD its header, any other method 501.  Each
 * connection is served in a child process of its own, so a stalled one
 * never holds up the next.  Exit: 2 on a bad option or a start-up error.
 */
#define _POSIX_C_SOURCE 200809L

#include "peer.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define REQUEST_MAX (64 * 1024)	/* the largest request read */
#define REQUEST_WAIT_MS 10000	/* how long to wait for a request */
#define LIST_MAX 16		/* entries in a -R or -k list */

struct options {
	const char *addr, *port, *portfile, *log, *reqfile;
	const char *file, *path, *type, *mode, *framing, *split;
	const char *version, *name_case, *raw;
	long lifetime, seed, length, status, chunk_max, hops, split_pause_ms;
	long drip_ms, drip_bytes, header_pad;
	int decorate, interim;
	long redirect_status[LIST_MAX];
	int nstatus;
	const char *kind[LIST_MAX];
	int nkind;
};

/* Everything the connection handlers read, set once at start-up. */
static struct options o;
static int raw_dir;
static char raw_name[256];	/* its file for this request */		/* -A names a folder of NAME.reply files */
static unsigned char *body;		/* the final reply's body */
static size_t body_len;
static char authority[128];		/* "127.0.0.1:PORT", "[::1]:PORT" */
static long long deadline_ms;		/* end of the lifetime; 0: none */

/* A growing byte buffer for one reply. */
struct buf {
	char *p;
	size_t len, cap;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: httpd [-a ADDR] [-p PORT] [-P PORTFILE] [-l SECONDS] "
		"[-L LOGFILE] [-Q REQFILE]\n"
		"             [-f FILE | -s SEED -n LENGTH] [-u PATH] [-T TYPE] "
		"[-S STATUS]\n"
		"             [-F length|chunked|close] [-c MAX] [-x]\n"
		"             [-r HOPS|forever] [-R STATUSES] [-k KINDS] "
		"[-m MODE]\n"
		"             [-d MS] [-w BYTES] [-b SPLIT] [-B MS] [-H BYTES] "
		"[-i]\n"
		"             [-V VERSION] [-N lower|upper|mixed] [-A FILE|DIR]\n"
		"  -a ADDR      listen address, numeric (127.0.0.1)\n"
		"  -p PORT      port (0: any free one)\n"
		"  -P PORTFILE  write the bound port here\n"
		"  -l SECONDS   lifetime, children included (60; 0: none)\n"
		"  -L LOGFILE   log one line per event\n"
		"  -Q REQFILE   append every request's raw bytes\n"
		"  -f FILE      serve FILE's contents, or\n"
		"  -s SEED      serve LENGTH bytes of the seeded stream\n"
		"  -n LENGTH      (datagen SEED LENGTH; defaults 1, 1024)\n"
		"  -u PATH      serve only at PATH, 404 elsewhere\n"
		"  -T TYPE      Content-Type (application/octet-stream)\n"
		"  -S STATUS    final status (200)\n"
		"  -F FRAMING   length (default), chunked or close\n"
		"  -c MAX       chunk sizes 1..MAX from the seed (1000)\n"
		"  -x           chunked with uppercase hex, extensions, "
		"a trailer\n"
		"  -r HOPS      redirects before the final reply (0), or "
		"forever\n"
		"  -R STATUSES  redirect statuses in turn (302), e.g. "
		"301,302,303,307,308\n"
		"  -k KINDS     Location forms in turn (path): absolute,scheme,"
		"path,relative,\n"
		"               query (relative, ?next=http://...), https, none "
		"(no field), empty\n"
		"  -m MODE      ok, short, stall, stall-body, hangup, garbage,\n"
		"               badchunk, badlength (the final reply only)\n"
		"  -d MS        drip every reply, W bytes every MS ms\n"
		"  -w BYTES     W for -d (1)\n"
		"  -b SPLIT     two sends: first ends at mid, end-K or a byte "
		"count\n"
		"  -B MS        pause between the two sends (200)\n"
		"  -H BYTES     pad the header with X-Filler lines to BYTES\n"
		"  -i           send \"100 Continue\" first\n"
		"  -V VERSION   the status line's HTTP version (1.1)\n"
		"  -N CASE      field names in lower, upper or mixed case\n"
		"  -A FILE      the final reply is FILE's bytes as they are "
		"(hand-made);\n"
		"               a folder: FILE/NAME.reply for GET .../NAME; "
		"-m hold: held open after it\n");
}

/* Append LEN bytes at DATA to B, growing it as needed. */
static void buf_add(struct buf *b, const void *data, size_t len)
{
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + len + 1)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (b->p == NULL)
			peer_die("out of memory");
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = '\0';
}

/* Format FMT and AP into OUT (CAP bytes); returns the length.  A text
 * that does not fit is the peer's own bug: die naming WHAT. */
static size_t format_into(char *out, size_t cap, const char *what,
			  const char *fmt, va_list ap)
{
	int n = vsnprintf(out, cap, fmt, ap);

	if (n < 0 || (size_t)n >= cap)
		peer_die("%s too long", what);
	return (size_t)n;
}

/* Append printf-style text to B. */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void buf_printf(struct buf *b, const char *fmt, ...)
{
	char text[1024];
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = format_into(text, sizeof text, "reply line", fmt, ap);
	va_end(ap);
	buf_add(b, text, n);
}

static const char *reason(long status);

/* TEXT (a field name, or with IS_VALUE a coding such as "chunked") in
 * the case -N asks for, into OUT (CAP bytes).  Returns OUT. */
static const char *cased(const char *text, int is_value, char *out,
			 size_t cap)
{
	const char *how = o.name_case == NULL ? "" : o.name_case;
	size_t i;

	for (i = 0; text[i] != '\0' && i + 1 < cap; i++) {
		int c = (unsigned char)text[i];

		if (strcmp(how, "lower") == 0)
			c = tolower(c);
		else if (strcmp(how, "upper") == 0)
			c = is_value && i > 0 ? tolower(c) : toupper(c);
		else if (strcmp(how, "mixed") == 0)
			c = i % 2 == 0 ? tolower(c) : toupper(c);
		out[i] = (char)c;
	}
	out[i] = '\0';
	return out;
}

/* Append the field "NAME: VALUE\r\n" to B, NAME in the case -N asks
 * for, VALUE printf-style. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void add_field(struct buf *b, const char *name, const char *fmt, ...)
{
	char value[512], shown[64];
	va_list ap;

	va_start(ap, fmt);
	format_into(value, sizeof value, "field value", fmt, ap);
	va_end(ap);
	buf_printf(b, "%s: %s\r\n", cased(name, 0, shown, sizeof shown), value);
}

/* Append the status line for STATUS to B, in the version -V asks for. */
static void add_status_line(struct buf *b, long status)
{
	buf_printf(b, "HTTP/%s %ld %s\r\n", o.version, status, reason(status));
}

/* The reason phrase for STATUS. */
static const char *reason(long status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 203: return "Non-Authoritative Information";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	default: return "Whatever";
	}
}

/* Split the comma list TEXT into WORDS (at most LIST_MAX; TEXT is
 * modified).  Returns how many. */
static int split_list(char *text, const char **words)
{
	int n = 0;
	char *save, *w;

	for (w = strtok_r(text, ",", &save); w != NULL;
	     w = strtok_r(NULL, ",", &save)) {
		if (n == LIST_MAX)
			peer_die("more than %d entries in a list", LIST_MAX);
		words[n++] = w;
	}
	if (n == 0)
		peer_die("empty list");
	return n;
}

/* Is WORD one of the space-separated words of LIST? */
static int one_of(const char *word, const char *list)
{
	size_t len = strlen(word);

	for (const char *p = list; *p != '\0'; p += strcspn(p, " ")) {
		p += strspn(p, " ");
		if (strncmp(p, word, len) == 0 && (p[len] == ' ' || p[len] == '\0'))
			return 1;
	}
	return 0;
}

/* Load the body: FILE's contents, or LENGTH bytes of stream SEED. */
static void load_body(void)
{
	if (o.file != NULL) {
		struct buf b = { NULL, 0, 0 };
		char chunk[65536];
		ssize_t n;
		int fd = open(o.file, O_RDONLY);

		if (fd < 0)
			peer_die("%s:", o.file);
		while ((n = read(fd, chunk, sizeof chunk)) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				peer_die("%s:", o.file);
			buf_add(&b, chunk, (size_t)n);
		}
		close(fd);
		body = (unsigned char *)b.p;
		body_len = b.len;
		return;
	}
	body_len = (size_t)o.length;
	body = malloc(body_len + 1);
	if (body == NULL)
		peer_die("out of memory");
	peer_fill(body, body_len, (uint64_t)o.seed, 0);
}

/* The length of chunk number K, which starts at body offset OFF: 1..MAX
 * drawn from a stream of its own, and no further than the body's end. */
static size_t chunk_len(long k, size_t off)
{
	unsigned char r[4];
	size_t n;

	peer_fill(r, sizeof r, (uint64_t)o.seed ^ UINT64_C(0x6368756e6b),
		  (uint64_t)k * 4);
	n = 1 + ((size_t)r[0] | (size_t)r[1] << 8 | (size_t)r[2] << 16 |
		 (size_t)r[3] << 24) % (size_t)o.chunk_max;
	return n < body_len - off ? n : body_len - off;
}

/* Append the body to B in chunked coding.  *CUT is set to the middle of
 * the middle chunk's data (where "short" stops); returns the number of
 * chunks. */
static long add_chunked(struct buf *b, size_t *cut)
{
	size_t off, n;
	long k, count = 0, bad_at;

	/* Count the chunks first: the middle one is cut or spoiled. */
	for (off = 0; off < body_len; count++)
		off += chunk_len(count, off);
	bad_at = count / 2;
	*cut = b->len;
	for (k = 0, off = 0; off < body_len; k++, off += n) {
		n = chunk_len(k, off);
		if (strcmp(o.mode, "badchunk") == 0 && k == bad_at) {
			size_t at = b->len;
			buf_printf(b, "zz%zx\r\n", n);		/* not hex */
			peer_log("chunk %ld of %ld (body byte %zu) has a "
				 "malformed size line", k + 1, count, off);
			peer_log_bytes("malformed line sent: ", b->p + at,
				       b->len - at, 100);
		}
		else if (o.decorate && k % 2 == 1)
			buf_printf(b, "%zX;ext=\"k%ld\";flag\r\n", n, k);
		else
			buf_printf(b, o.decorate ? "%zX\r\n" : "%zx\r\n", n);
		if (k == bad_at)
			*cut = b->len + n / 2;
		buf_add(b, body + off, n);
		buf_add(b, "\r\n", 2);
	}
	buf_printf(b, "0\r\n");
	if (o.decorate)
		buf_printf(b, "X-Trailer: seed %ld\r\n", o.seed);
	buf_printf(b, "\r\n");
	return count;
}

/* Pad B's header with X-Filler lines until it is about o.header_pad long. */
static void pad_header(struct buf *b)
{
	const char *alpha = "abcdefghijklmnopqrstuvwxyz";

	for (int i = 0; b->len + 2 < (size_t)o.header_pad; i++) {
		buf_printf(b, "X-Filler-%04d: ", i);
		for (int j = 0; j < 64; j++)
			buf_add(b, &alpha[(i + j) % 26], 1);
		buf_add(b, "\r\n", 2);
	}
}

/* Build the final reply into B.  *HEAD_LEN gets the header's length,
 * *CUT where a "short" or "stall-body" reply stops, SUMMARY (CAP bytes)
 * a few words for the log. */
static void final_reply(struct buf *b, int head_only, size_t *head_len,
			size_t *cut, char *summary, size_t cap)
{
	const char *framing = strcmp(o.mode, "badchunk") == 0 ? "chunked"
							     : o.framing;
	char coding[16];
	long chunks = 0;

	if (o.raw != NULL) {
		buf_add(b, body, body_len);
		*head_len = *cut = b->len;
		snprintf(summary, cap, "the hand-made reply from %s%s%s", o.raw,
			 raw_dir ? "/" : "", raw_dir ? raw_name : "");
		return;
	}
	if (strcmp(o.mode, "garbage") == 0) {
		buf_printf(b, "this is not an HTTP reply\r\nno: status line\r\n\r\n");
		peer_log_bytes("malformed line sent: ", b->p,
			       strcspn(b->p, "\n") + 1, 100);
		*head_len = *cut = b->len;
		snprintf(summary, cap, "garbage");
		return;
	}
	add_status_line(b, o.status);
	add_field(b, "Server", "socketlab-httpd");
	add_field(b, "Content-Type", "%s", o.type);
	if (strcmp(o.mode, "badlength") == 0) {
		size_t at = b->len;
		add_field(b, "Content-Length", "%zux", body_len);
		peer_log_bytes("malformed line sent: ", b->p + at,
			       b->len - at, 100);
	}
	else if (strcmp(framing, "length") == 0)
		add_field(b, "Content-Length", "%zu", body_len);
	else if (strcmp(framing, "chunked") == 0)
		add_field(b, "Transfer-Encoding", "%s",
			  cased("chunked", 1, coding, sizeof coding));
	add_field(b, "Connection", "close");
	pad_header(b);
	buf_printf(b, "\r\n");
	*head_len = b->len;
	*cut = b->len + body_len / 2;
	if (head_only) {
		*cut = b->len;
	} else if (strcmp(framing, "chunked") == 0) {
		chunks = add_chunked(b, cut);
	} else {
		buf_add(b, body, body_len);
	}
	if (chunks > 0)
		snprintf(summary, cap, "status %ld, body %zu bytes, chunked%s, "
			 "%ld chunks", o.status, body_len,
			 o.decorate ? " decorated" : "", chunks);
	else
		snprintf(summary, cap, "status %ld, body %zu bytes, %s",
			 o.status, head_only ? 0 : body_len, framing);
}

/* Build a small reply of STATUS with TEXT as its body (and a Location
 * field when LOCATION is not NULL). */
static void small_reply(struct buf *b, long status, const char *location,
			const char *text, int head_only)
{
	add_status_line(b, status);
	if (location != NULL && strcmp(location, "\001none") != 0)
		add_field(b, "Location", "%s", location);
	add_field(b, "Content-Type", "text/plain");
	add_field(b, "Content-Length", "%zu", strlen(text));
	add_field(b, "Connection", "close");
	buf_printf(b, "\r\n");
	if (!head_only)
		buf_add(b, text, strlen(text));
}

/* The hop number the request path PATH (LEN bytes) stands for: N when
 * its last segment is "redirect-N", else 0. */
static long hop_of(const char *path, size_t len)
{
	size_t start = len;
	long n = 0;

	while (start > 0 && path[start - 1] != '/')
		start--;
	if (len - start <= 9 || strncmp(path + start, "redirect-", 9) != 0)
		return 0;
	for (size_t i = start + 9; i < len; i++) {
		if (path[i] < '0' || path[i] > '9' || n > 100000000)
			return 0;
		n = n * 10 + (path[i] - '0');
	}
	return n;
}

/* Build redirect number HOP (1-based) into B. */
static void redirect_reply(struct buf *b, long hop, int head_only,
			   char *summary, size_t cap)
{
	long status = o.redirect_status[(hop - 1) % o.nstatus];
	const char *kind = o.kind[(hop - 1) % o.nkind];
	char location[256], text[300];

	if (strcmp(kind, "absolute") == 0)
		snprintf(location, sizeof location, "http://%s/redirect-%ld",
			 authority, hop);
	else if (strcmp(kind, "https") == 0)
		snprintf(location, sizeof location, "https://%s/redirect-%ld",
			 authority, hop);
	else if (strcmp(kind, "scheme") == 0)
		snprintf(location, sizeof location, "//%s/redirect-%ld",
			 authority, hop);
	else if (strcmp(kind, "path") == 0)
		snprintf(location, sizeof location, "/redirect-%ld", hop);
	else if (strcmp(kind, "query") == 0)
		snprintf(location, sizeof location,
			 "redirect-%ld?next=http://%s/x/", hop, authority);
	else if (strcmp(kind, "none") == 0)
		snprintf(location, sizeof location, "\001none");
	else if (strcmp(kind, "empty") == 0)
		location[0] = '\0';
	else
		snprintf(location, sizeof location, "redirect-%ld", hop);
	snprintf(text, sizeof text, "moved to %s\n", location);
	small_reply(b, status, location, text, head_only);
	snprintf(summary, cap, "redirect %ld: %ld %s", hop, status,
		 strcmp(kind, "none") == 0 ? "(no Location field)"
		 : strcmp(kind, "empty") == 0 ? "(an empty Location field)"
		 : location);
}

/* Send LEN bytes at P as -d says: dripped, or all at once.
 * Returns 0, or -1 if the client went away. */
static int send_piece(int fd, const char *p, size_t len)
{
	if (o.drip_ms > 0)
		return peer_send_slowly(fd, p, len, (size_t)o.drip_bytes,
					(int)o.drip_ms);
	return peer_send_all(fd, p, len);
}

/* Where the first of two sends ends (-b), for a header HEAD_LEN long. */
static size_t split_point(size_t head_len)
{
	if (strcmp(o.split, "mid") == 0)
		return head_len / 2;
	if (strncmp(o.split, "end-", 4) == 0) {
		size_t k = (size_t)peer_number(o.split + 4, 4, "-b end-K");
		return head_len - k;
	}
	return (size_t)peer_number(o.split, 1L << 30, "-b split");
}

/* Send the first LEN bytes of reply B (its header HEAD_LEN long), split
 * and dripped as the options say.  Returns 0, or -1. */
static int send_reply(int fd, const struct buf *b, size_t len,
		      size_t head_len)
{
	size_t first = len;

	if (o.split != NULL) {
		first = split_point(head_len);
		if (first > len)
			first = len;
	}
	if (send_piece(fd, b->p, first) < 0)
		return -1;
	if (first == len)
		return 0;
	peer_log("sent the first %zu bytes; pausing %ld ms", first,
		 o.split_pause_ms);
	peer_sleep_ms(o.split_pause_ms);
	return send_piece(fd, b->p + first, len - first);
}

/* Wait until the client closes FD (or the lifetime ends), discarding
 * whatever it sends. */
static void hold(int fd)
{
	char junk[4096];
	ssize_t n;

	peer_log("holding the connection until the client closes it");
	do {
		n = recv(fd, junk, sizeof junk, 0);
	} while (n > 0 || (n < 0 && errno == EINTR));
	peer_log("the client closed the held connection");
}

/* Read one request (through its empty line) from FD into REQ (CAP
 * bytes), waiting at most REQUEST_WAIT_MS.  Appends what came to the
 * REQFILE.  Returns the request's length, 0 if incomplete. */
static size_t read_request(int fd, char *req, size_t cap)
{
	size_t len = 0, done = 0;
	long long until = peer_now_ms() + REQUEST_WAIT_MS;

	while (done == 0 && len < cap) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long long left = until - peer_now_ms();
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, (int)left) == 0)
			break;
		n = recv(fd, req + len, cap - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		for (size_t i = len >= (size_t)n + 3 ? len - (size_t)n - 3 : 0;
		     i + 4 <= len; i++)
			if (memcmp(req + i, "\r\n\r\n", 4) == 0) {
				done = i + 4;
				break;
			}
	}
	if (o.reqfile != NULL && len > 0) {
		int rfd = open(o.reqfile, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (rfd >= 0) {
			if (write(rfd, req, len) < 0)
				peer_log("cannot write %s", o.reqfile);
			close(rfd);
		}
	}
	if (done == 0)
		peer_log_bytes("incomplete request: ", req, len, 200);
	return done;
}

/* raw_reply: with -A DIR, load DIR/NAME.reply as the reply's bytes, NAME
 * being the last segment of PATH (LEN bytes).  Returns 0, or -1 if there
 * is no such file.  (Each connection is served by a child of its own.) */
static int raw_reply(const char *path, size_t len)
{
	size_t start = len;
	char name[4096];

	while (start > 0 && path[start - 1] != '/')
		start--;
	if (len - start == 0 || len - start > 200 ||
	    memchr(path + start, '.', 1) != NULL)
		return -1;
	snprintf(name, sizeof name, "%s/%.*s.reply", o.raw,
		 (int)(len - start), path + start);
	if (access(name, R_OK) != 0)
		return -1;
	o.file = name;
	load_body();
	snprintf(raw_name, sizeof raw_name, "%.*s.reply", (int)(len - start),
		 path + start);
	return 0;
}

/* Build into B the reply to the request line LINE (LEN bytes), and
 * set *CUT to how much of it to send, *HEAD_LEN to its header's length.
 * Returns 0, or -1 when the mode says to send nothing (hangup, stall). */
static int build_reply(const char *line, size_t len, struct buf *b,
		       size_t *cut, size_t *head_len, char *summary,
		       size_t cap)
{
	/* METHOD SP PATH SP VERSION */
	const char *sp = memchr(line, ' ', len);
	const char *path = sp == NULL ? "" : sp + 1;
	size_t path_len = sp == NULL ? 0 : strcspn(path, " ?\r\n");
	int get = sp != NULL && sp - line == 3 && strncmp(line, "GET", 3) == 0;
	int head = sp != NULL && sp - line == 4 && strncmp(line, "HEAD", 4) == 0;
	long hop = o.hops != 0 ? hop_of(path, path_len) : 0;

	*head_len = 0;
	if (!get && !head) {
		small_reply(b, 501, NULL, "only GET and HEAD\n", 0);
		snprintf(summary, cap, "501: not GET or HEAD");
	} else if (o.hops < 0 || hop < o.hops) {
		redirect_reply(b, hop + 1, head, summary, cap);
	} else if (hop == 0 && o.path != NULL &&
		   (strlen(o.path) != path_len ||
		    strncmp(o.path, path, path_len) != 0)) {
		small_reply(b, 404, NULL, "not found\n", head);
		snprintf(summary, cap, "404: not %s", o.path);
	} else if (strcmp(o.mode, "hangup") == 0) {
		peer_log("hangup: closing without a reply");
		return -1;
	} else if (strcmp(o.mode, "stall") == 0) {
		peer_log("stall: sending nothing");
		return -1;
	} else if (raw_dir && raw_reply(path, path_len) < 0) {
		small_reply(b, 404, NULL, "no such hand-made reply\n", head);
		snprintf(summary, cap, "404: no hand-made reply for this path");
	} else {
		final_reply(b, head, head_len, cut, summary, cap);
		if (strcmp(o.mode, "short") == 0 ||
		    strcmp(o.mode, "stall-body") == 0)
			return 0;
	}
	*cut = b->len;
	if (*head_len == 0)
		*head_len = (size_t)(strstr(b->p, "\r\n\r\n") + 4 - b->p);
	return 0;
}

/* Serve one connection on FD. */
static void serve(int fd)
{
	static char req[REQUEST_MAX];
	struct buf b = { NULL, 0, 0 };
	char summary[300];
	char interim[64];
	size_t len, line_len, head_len, cut;
	int one = 1, rc, cut_short;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	len = read_request(fd, req, sizeof req);
	if (len == 0)
		return;
	line_len = strcspn(req, "\r\n");
	peer_log_bytes("request: ", req, line_len, 300);
	rc = build_reply(req, line_len, &b, &cut, &head_len, summary,
			 sizeof summary);
	if (rc < 0) {
		free(b.p);
		if (strcmp(o.mode, "stall") == 0)
			hold(fd);
		return;
	}
	if (o.interim) {
		snprintf(interim, sizeof interim, "HTTP/%s 100 Continue\r\n\r\n",
			 o.version);
		peer_log_bytes("interim reply: ", interim, strlen(interim), 300);
		if (peer_send_all(fd, interim, strlen(interim)) < 0)
			peer_log("the client went away before the interim reply");
	}
	peer_log_bytes("reply header: ", b.p, head_len, 300);
	cut_short = cut < b.len;
	if (send_reply(fd, &b, cut, head_len) < 0)
		peer_log("the client went away; %s", summary);
	else
		peer_log("sent %zu bytes (%s)%s", cut, summary,
			 cut_short ? ", cut short" : "");
	free(b.p);
	if ((cut_short && strcmp(o.mode, "stall-body") == 0) ||
	    strcmp(o.mode, "hold") == 0)
		hold(fd);
}

/* Close FD gracefully: no more sending, then let the client read all of
 * it and close (a plain close() with unread input could reset the
 * connection and lose the reply's end). */
static void linger_close(int fd)
{
	char junk[4096];
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	shutdown(fd, SHUT_WR);
	while (poll(&pfd, 1, 2000) > 0 && recv(fd, junk, sizeof junk, 0) > 0)
		;
	close(fd);
}

/* Reap finished children so that none is left a zombie. */
static void on_child(int sig)
{
	int saved = errno;

	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	errno = saved;
}

/* Remember "ADDR:PORT" ("[ADDR]:PORT" for IPv6) of LFD for Locations. */
static void set_authority(int lfd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	char port[32];

	if (getsockname(lfd, (struct sockaddr *)&ss, &len) < 0 ||
	    getnameinfo((struct sockaddr *)&ss, len, NULL, 0, port, sizeof port,
			NI_NUMERICSERV) != 0)
		peer_die("getsockname:");
	int v6 = strchr(o.addr, ':') != NULL;

	snprintf(authority, sizeof authority, "%s%s%s:%s", v6 ? "[" : "",
		 o.addr, v6 ? "]" : "", port);
}

/* Parse the options into o; dies with the usage on a bad one. */
static void parse_options(int argc, char **argv)
{
	static char rlist[256] = "302", klist[256] = "path";
	int opt;

	while ((opt = getopt(argc, argv,
			     "a:p:P:l:L:Q:f:s:n:u:T:S:F:c:xr:R:k:m:d:w:b:B:H:iV:N:A:h")) != -1) {
		switch (opt) {
		case 'a': o.addr = optarg; break;
		case 'p': o.port = optarg; break;
		case 'P': o.portfile = optarg; break;
		case 'l': o.lifetime = peer_number(optarg, 86400, "lifetime"); break;
		case 'L': o.log = optarg; break;
		case 'Q': o.reqfile = optarg; break;
		case 'f': o.file = optarg; break;
		case 's': o.seed = peer_number(optarg, 2147483647L, "seed"); break;
		case 'n': o.length = peer_number(optarg, 1L << 30, "length"); break;
		case 'u': o.path = optarg; break;
		case 'T': o.type = optarg; break;
		case 'S': o.status = peer_number(optarg, 599, "status"); break;
		case 'F': o.framing = optarg; break;
		case 'c': o.chunk_max = peer_number(optarg, 1L << 24, "chunk size"); break;
		case 'x': o.decorate = 1; break;
		case 'r':
			o.hops = strcmp(optarg, "forever") == 0
				 ? -1 : peer_number(optarg, 1000000, "hops");
			break;
		case 'R': snprintf(rlist, sizeof rlist, "%s", optarg); break;
		case 'k': snprintf(klist, sizeof klist, "%s", optarg); break;
		case 'm': o.mode = optarg; break;
		case 'd': o.drip_ms = peer_number(optarg, 10000, "drip delay"); break;
		case 'w': o.drip_bytes = peer_number(optarg, 1L << 20, "drip size"); break;
		case 'b': o.split = optarg; break;
		case 'B': o.split_pause_ms = peer_number(optarg, 60000, "pause"); break;
		case 'H': o.header_pad = peer_number(optarg, 1L << 24, "header size"); break;
		case 'i': o.interim = 1; break;
		case 'V': o.version = optarg; break;
		case 'N': o.name_case = optarg; break;
		case 'A': o.raw = optarg; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind != argc || o.status < 100 || o.chunk_max < 1 ||
	    o.drip_bytes < 1 || !one_of(o.framing, "length chunked close") ||
	    !one_of(o.mode, "ok short stall stall-body hangup garbage "
			    "badchunk badlength hold") ||
	    (strcmp(o.mode, "hold") == 0 && o.raw == NULL) ||
	    strcspn(o.version, " \r\n") != strlen(o.version) ||
	    strlen(o.version) > 16 ||
	    (o.name_case != NULL && !one_of(o.name_case, "lower upper mixed"))) {
		usage(stderr);
		exit(2);
	}
	if (o.split != NULL)
		(void)split_point(8);	/* it dies on a bad SPLIT */
	if (o.raw != NULL) {		/* a hand-made reply: sent as it is */
		struct stat st;

		if (stat(o.raw, &st) == 0 && S_ISDIR(st.st_mode))
			raw_dir = 1;	/* read per request: raw_reply() */
		else
			o.file = o.raw;
		if (strcmp(o.mode, "hold") != 0)
			o.mode = "ok";
	}
	{
		const char *words[LIST_MAX];
		o.nstatus = split_list(rlist, words);
		for (int i = 0; i < o.nstatus; i++)
			o.redirect_status[i] = peer_number(words[i], 399,
							   "redirect status");
		o.nkind = split_list(klist, o.kind);
		for (int i = 0; i < o.nkind; i++)
			if (!one_of(o.kind[i], "absolute scheme path relative "
					       "query https none empty"))
				peer_die("bad Location kind '%s'", o.kind[i]);
	}
}

int main(int argc, char **argv)
{
	int lfd;
	struct sigaction sa;

	o.addr = "127.0.0.1";
	o.port = "0";
	o.type = "application/octet-stream";
	o.mode = "ok";
	o.framing = "length";
	o.version = "1.1";
	o.seed = 1;
	o.length = 1024;
	o.status = 200;
	o.chunk_max = 1000;
	o.split_pause_ms = 200;
	o.drip_bytes = 1;
	o.lifetime = 60;

	peer_init("httpd");
	parse_options(argc, argv);
	peer_set_lifetime((unsigned)o.lifetime);
	deadline_ms = o.lifetime > 0 ? peer_now_ms() + o.lifetime * 1000 : 0;
	peer_log_open(o.log);
	load_body();

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_child;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);

	lfd = peer_listen(o.addr, o.port, o.portfile);
	set_authority(lfd);
	peer_log("listening on %s, mode %s, body %zu bytes, %s framing, "
		 "%ld redirects", authority, o.mode, body_len, o.framing, o.hops);
	for (long n = 1;; n++) {
		int fd = peer_accept(lfd);
		pid_t pid = fork();

		if (pid == 0) {
			/* alarm() is not inherited: the child sets its own,
			 * so it dies at the same moment as the server. */
			close(lfd);
			if (deadline_ms > 0) {
				long long left = deadline_ms - peer_now_ms();
				alarm(left > 1000 ? (unsigned)((left + 999) / 1000) : 1);
			}
			peer_log("connection %ld accepted", n);
			serve(fd);
			linger_close(fd);
			_exit(0);
		}
		if (pid < 0)
			peer_log("fork failed: %s", strerror(errno));
		close(fd);
	}
}
