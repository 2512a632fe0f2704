/*
 * A second, deliberately different webclient, written from the SPEC alone.
 * The self-test grades it and expects 100/100: proof that the tests check
 * the SPEC's contract, not the reference solution's choices.
 *
 * Where it differs from the reference: the reply is read through a small
 * buffered reader, one byte at a time by a state machine that also takes
 * bare LF line ends; the header lines are kept in malloc()ed memory;
 * poll() with a 15 s limit instead of SO_RCVTIMEO; the body goes out
 * through stdio (fdopen() on the .part file, fwrite()); strtoull() for
 * chunk sizes; a relative Location is merged and its dot segments removed
 * (RFC 3986, 5.2); https:// on the command line exits 2, not 1; no
 * User-Agent; other wording for every message; usage on stderr for -h;
 * after a failed download the OUTFILE.part stays (the SPEC forbids only
 * OUTFILE), and the socket of a failed download is left to exit() to
 * close (a client's descriptors are no leak the grader counts).
 */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#define WAIT_MS 15000		/* a read waits this long at most */
#define HOPS 5			/* redirects followed */
#define HEAD_LIMIT (96 * 1024)	/* a header larger than this is refused */

struct where {
	char *host;		/* without brackets */
	int bracket;		/* an IPv6 literal */
	char port[6];
	char *path;		/* origin-form: "/..." */
};

struct reader {
	int fd;
	unsigned char data[4096];
	size_t at, have;
};

struct head {
	int code;
	int chunked;
	long long length;	/* -1: none */
	char *location;
};

static void oops(const char *what, const char *why)
{
	fprintf(stderr, "webclient: %s: %s\n", what, why);
}

static void where_free(struct where *w)
{
	free(w->host);
	free(w->path);
	w->host = w->path = NULL;
}

static char *dup_n(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p == NULL) {
		oops("memory", strerror(errno));
		exit(1);
	}
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* 0 ok, 1 https, 2 not a usable http URL */
static int parse_where(const char *url, struct where *w)
{
	const char *a, *end, *hs, *he, *colon = NULL;
	size_t plen;
	long port = 80;

	w->host = w->path = NULL;
	if (strncasecmp(url, "https://", 8) == 0)
		return 1;
	if (strncasecmp(url, "http://", 7) != 0)
		return 2;
	a = url + 7;
	end = a + strcspn(a, "/?#");
	if (*a == '[') {
		hs = a + 1;
		he = memchr(hs, ']', (size_t)(end - hs));
		if (he == NULL || he == hs || memchr(hs, ':', (size_t)(he - hs)) == NULL)
			return 2;	/* an IPv6 address has a ':' */
		if (he + 1 < end) {
			if (he[1] != ':')
				return 2;
			colon = he + 1;
		}
		w->bracket = 1;
	} else {
		hs = a;
		colon = memchr(a, ':', (size_t)(end - a));
		he = colon != NULL ? colon : end;
		if (he == hs)
			return 2;
		w->bracket = 0;
	}
	for (const char *p = hs; p < he; p++)
		if (!isalnum((unsigned char)*p) && strchr(w->bracket ? ":.%" : ".-_", *p) == NULL)
			return 2;
	if (colon != NULL) {
		char *stop;
		if (colon + 1 == end || !isdigit((unsigned char)colon[1]))
			return 2;
		errno = 0;
		port = strtol(colon + 1, &stop, 10);
		if (stop != end || port < 1 || port > 65535)
			return 2;
	}
	plen = strcspn(end, "#");
	for (size_t i = 0; i < plen; i++)
		if ((unsigned char)end[i] <= ' ' || (unsigned char)end[i] >= 127)
			return 2;
	w->host = dup_n(hs, (size_t)(he - hs));
	snprintf(w->port, sizeof w->port, "%ld", port);
	if (plen == 0 || end[0] == '?') {
		w->path = malloc(plen + 2);
		if (w->path == NULL)
			exit(1);
		w->path[0] = '/';
		memcpy(w->path + 1, end, plen);
		w->path[plen + 1] = '\0';
	} else {
		w->path = dup_n(end, plen);
	}
	return 0;
}

static int dial(const struct where *w)
{
	struct addrinfo want, *all = NULL, *ai;
	int s = -1, rc, err = 0;

	memset(&want, 0, sizeof want);
	want.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(w->host, w->port, &want, &all);
	if (rc != 0) {
		oops(w->host, gai_strerror(rc));
		return -1;
	}
	for (ai = all; ai != NULL && s < 0; ai = ai->ai_next) {
		s = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (s < 0) {
			err = errno;
			continue;
		}
		if (connect(s, ai->ai_addr, ai->ai_addrlen) != 0) {
			err = errno;
			close(s);
			s = -1;
		}
	}
	freeaddrinfo(all);
	if (s < 0)
		oops("connect", strerror(err));
	return s;
}

static int put_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static int ask(int fd, const struct where *w)
{
	size_t need = strlen(w->path) + strlen(w->host) + 80;
	char *req = malloc(need);
	int n, rc;

	if (req == NULL)
		return -1;
	n = snprintf(req, need, "GET %s HTTP/1.1\r\nHost: %s%s%s%s%s\r\n"
		     "Connection: close\r\n\r\n", w->path,
		     w->bracket ? "[" : "", w->host, w->bracket ? "]" : "",
		     strcmp(w->port, "80") == 0 ? "" : ":",
		     strcmp(w->port, "80") == 0 ? "" : w->port);
	rc = (n > 0 && (size_t)n < need) ? put_all(fd, req, (size_t)n) : -1;
	free(req);
	if (rc < 0)
		oops("sending", strerror(errno));
	return rc;
}

/* Refill R; returns bytes now available, 0 at end of stream, -1 error. */
static ssize_t refill(struct reader *r)
{
	struct pollfd p = { .fd = r->fd, .events = POLLIN };
	ssize_t k;

	if (r->at < r->have)
		return (ssize_t)(r->have - r->at);
	for (;;) {
		int ready = poll(&p, 1, WAIT_MS);
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready < 0)
			return -1;
		if (ready == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		k = read(r->fd, r->data, sizeof r->data);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		r->at = 0;
		r->have = (size_t)k;
		return k;
	}
}

/* One byte, or -1 at end of stream, -2 on an error. */
static int next_byte(struct reader *r)
{
	ssize_t k = refill(r);

	if (k < 0)
		return -2;
	if (k == 0)
		return -1;
	return r->data[r->at++];
}

/* Read the header up to its empty line into a malloc()ed string, lines
 * ending in '\n' only.  NULL on failure (reported). */
static char *read_head(struct reader *r)
{
	size_t cap = 1024, len = 0;
	char *h = malloc(cap);
	int state = 0;		/* 0 in a line, 1 after CR, 2 at a line start, 3 CR at a line start */

	if (h == NULL)
		return NULL;
	for (;;) {
		int c = next_byte(r);
		if (c < 0) {
			oops("reply", c == -1 ? "connection closed before the header ended"
					      : strerror(errno));
			free(h);
			return NULL;
		}
		if (len == 0 && c != 'H') {
			oops("reply", "this is not HTTP");
			free(h);
			return NULL;
		}
		if (len + 2 > cap) {
			char *more;
			if (cap >= HEAD_LIMIT) {
				oops("reply", "header too large");
				free(h);
				return NULL;
			}
			more = realloc(h, cap * 2);
			if (more == NULL) {
				free(h);
				return NULL;
			}
			h = more;
			cap *= 2;
		}
		if (c == '\r') {
			state = (state == 2) ? 3 : 1;
			continue;
		}
		if (c == '\n') {
			if (state == 2 || state == 3) {
				h[len] = '\0';
				return h;
			}
			h[len++] = '\n';
			state = 2;
			continue;
		}
		if (state == 1 || state == 3) {
			oops("reply", "stray carriage return in the header");
			free(h);
			return NULL;
		}
		h[len++] = (char)c;
		state = 0;
	}
}

static int digits_only(const char *s, long long *out)
{
	long long v = 0;

	if (*s == '\0')
		return -1;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s) || v > 100000000000000LL)
			return -1;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return 0;
}

static char *strip(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

/* Parse TEXT (lines ending '\n') into H.  -1 on a malformed header. */
static int understand(char *text, struct head *h)
{
	char *line = text, *nl, *colon, *value;
	long long n;

	h->code = 0;
	h->chunked = 0;
	h->length = -1;
	free(h->location);
	h->location = NULL;
	nl = strchr(line, '\n');
	if (nl != NULL)
		*nl = '\0';
	if (strncmp(line, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)line[7]) ||
	    line[8] != ' ' || !isdigit((unsigned char)line[9]) ||
	    !isdigit((unsigned char)line[10]) || !isdigit((unsigned char)line[11]) ||
	    (line[12] != '\0' && line[12] != ' ')) {
		oops("reply", "the status line is not HTTP/1.x NNN");
		return -1;
	}
	h->code = atoi(line + 9);
	fprintf(stderr, "status: %s\n", line);
	while (nl != NULL) {
		line = nl + 1;
		nl = strchr(line, '\n');
		if (nl != NULL)
			*nl = '\0';
		if (*line == '\0')
			continue;
		colon = strchr(line, ':');
		if (colon == NULL || colon == line ||
		    strcspn(line, " \t") < (size_t)(colon - line)) {
			oops("reply", "a header line without a name, or with a space in it");
			return -1;
		}
		*colon = '\0';
		value = strip(colon + 1);
		if (strcasecmp(line, "Content-Length") == 0) {
			if (digits_only(value, &n) < 0 || (h->length >= 0 && h->length != n)) {
				oops("reply", "Content-Length is not a number");
				return -1;
			}
			h->length = n;
		} else if (strcasecmp(line, "Transfer-Encoding") == 0) {
			char *last = strrchr(value, ',');
			last = strip(last != NULL ? last + 1 : value);
			if (strcasecmp(last, "chunked") != 0) {
				oops("reply", "unknown transfer coding");
				return -1;
			}
			h->chunked = 1;
		} else if (strcasecmp(line, "Location") == 0) {
			free(h->location);
			h->location = dup_n(value, strlen(value));
		}
	}
	return 0;
}

/* Remove "." and ".." segments from the path P in place (RFC 3986 5.2.4,
 * on the part before any '?'). */
static void remove_dots(char *p)
{
	size_t qlen = strcspn(p, "?");
	char *query = dup_n(p + qlen, strlen(p + qlen));
	char *out = p, *in, *copy = dup_n(p, qlen);

	*out = '\0';
	in = copy;
	while (*in != '\0') {
		if (strncmp(in, "/./", 3) == 0) {
			in += 2;
		} else if (strcmp(in, "/.") == 0) {
			in[1] = '\0';
		} else if (strncmp(in, "/../", 4) == 0 || strcmp(in, "/..") == 0) {
			char *cut = strrchr(p, '/');
			if (cut != NULL)
				*cut = '\0';
			if (in[3] == '\0')
				in[1] = '\0';
			else
				in += 3;
		} else {
			size_t seg = 1 + strcspn(in + 1, "/");
			size_t used = strlen(p);
			memcpy(p + used, in, seg);
			p[used + seg] = '\0';
			in += seg;
		}
	}
	if (*p == '\0')
		strcpy(p, "/");
	strcat(p, query);
	free(copy);
	free(query);
}

/* The URL that LOC names, read against BASE, into NEXT.  0, 1 https, 2 bad. */
static int resolve(const struct where *base, const char *loc, struct where *next)
{
	size_t n = strspn(loc, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");
	size_t dir, llen = strcspn(loc, "#");
	char *url;
	int rc;

	next->host = next->path = NULL;
	if (n > 0 && loc[n] == ':' && isalpha((unsigned char)loc[0]))
		return parse_where(loc, next);
	if (loc[0] == '/' && loc[1] == '/') {
		url = malloc(strlen(loc) + 6);
		if (url == NULL)
			return 2;
		strcpy(url, "http:");
		strcat(url, loc);
		rc = parse_where(url, next);
		free(url);
		return rc;
	}
	for (size_t i = 0; i < llen; i++)
		if ((unsigned char)loc[i] <= ' ' || (unsigned char)loc[i] >= 127)
			return 2;
	next->host = dup_n(base->host, strlen(base->host));
	next->bracket = base->bracket;
	memcpy(next->port, base->port, sizeof next->port);
	dir = strcspn(base->path, "?");
	if (loc[0] == '/') {
		dir = 0;
	} else if (loc[0] != '?') {
		while (dir > 0 && base->path[dir - 1] != '/')
			dir--;
	}
	next->path = malloc(dir + llen + 2);
	if (next->path == NULL)
		exit(1);
	memcpy(next->path, base->path, dir);
	memcpy(next->path + dir, loc, llen);
	next->path[dir + llen] = '\0';
	if (next->path[0] != '/') {
		memmove(next->path + 1, next->path, dir + llen + 1);
		next->path[0] = '/';
	}
	remove_dots(next->path);
	return 0;
}

/* Copy N bytes (or, N < 0, everything until the server closes) from R to
 * OUT.  0 done, -1 failed (reported). */
static int pass_on(struct reader *r, long long n, FILE *out, long long *total)
{
	while (n != 0) {
		ssize_t k = refill(r);
		size_t take;

		if (k < 0) {
			oops("body", strerror(errno));
			return -1;
		}
		if (k == 0) {
			if (n < 0)
				return 0;
			oops("body", "the connection closed before the end of the body");
			return -1;
		}
		take = (size_t)k;
		if (n > 0 && (long long)take > n)
			take = (size_t)n;
		if (fwrite(r->data + r->at, 1, take, out) != take) {
			oops("output", strerror(errno));
			return -1;
		}
		r->at += take;
		*total += (long long)take;
		if (n > 0)
			n -= (long long)take;
	}
	return 0;
}

/* A line of a chunked body into BUF (CAP bytes), line end removed.
 * 0, or -1 (reported). */
static int chunk_line(struct reader *r, char *buf, size_t cap)
{
	size_t len = 0;

	for (;;) {
		int c = next_byte(r);
		if (c < 0) {
			oops("body", c == -1 ? "the connection closed inside the chunked body"
					     : strerror(errno));
			return -1;
		}
		if (c == '\n')
			break;
		if (len + 1 >= cap) {
			oops("body", "chunk line too long");
			return -1;
		}
		buf[len++] = (char)c;
	}
	if (len == 0 || buf[len - 1] != '\r') {
		oops("body", "a chunked-body line without CR LF");
		return -1;
	}
	buf[--len] = '\0';
	return 0;
}

static int unchunk(struct reader *r, FILE *out, long long *total)
{
	char line[512];

	for (;;) {
		char *end;
		unsigned long long size;

		if (chunk_line(r, line, sizeof line) < 0)
			return -1;
		if (!isxdigit((unsigned char)line[0]) ||
		    (line[1] == 'x' || line[1] == 'X')) {
			oops("body", "bad chunk size");
			return -1;
		}
		errno = 0;
		size = strtoull(line, &end, 16);
		while (*end == ' ' || *end == '\t')
			end++;
		if (errno != 0 || (*end != '\0' && *end != ';') || size > (1ULL << 50)) {
			oops("body", "bad chunk size");
			return -1;
		}
		if (size == 0)
			break;
		if (pass_on(r, (long long)size, out, total) < 0 ||
		    chunk_line(r, line, sizeof line) < 0)
			return -1;
		if (line[0] != '\0') {
			oops("body", "chunk data longer than its size");
			return -1;
		}
	}
	do {
		if (chunk_line(r, line, sizeof line) < 0)
			return -1;
	} while (line[0] != '\0');
	return 0;
}

static const char *default_name(const char *path, char *buf, size_t cap)
{
	size_t end = strcspn(path, "?"), start = end;

	while (start > 0 && path[start - 1] != '/')
		start--;
	if (end == start || end - start >= cap ||
	    (end - start == 1 && path[start] == '.') ||
	    (end - start == 2 && strncmp(path + start, "..", 2) == 0))
		return "index.html";
	memcpy(buf, path + start, end - start);
	buf[end - start] = '\0';
	return buf;
}

static int usage(int code)
{
	fputs("Usage: webclient http://HOST[:PORT][/PATH] [OUTFILE|-]\n", stderr);
	return code;
}

/* Fetch W (following redirects) into NAME.  Returns the exit status. */
static int fetch(struct where *w, const char *name)
{
	struct reader *r = malloc(sizeof *r);
	struct head h = { 0, 0, -1, NULL };
	char *text = NULL, *part = NULL;
	FILE *out = NULL;
	long long total = 0;
	int hops = 0, rc = 1, fd = -1, to_stdout = strcmp(name, "-") == 0;

	if (r == NULL)
		return 1;
	for (;;) {
		fd = dial(w);
		if (fd < 0)
			goto done;
		r->fd = fd;
		r->at = r->have = 0;
		if (ask(fd, w) < 0)
			goto done;
		do {
			free(text);
			text = read_head(r);
			if (text == NULL || understand(text, &h) < 0)
				goto done;
		} while (h.code >= 100 && h.code < 200);
		if (h.code != 301 && h.code != 302 && h.code != 303 &&
		    h.code != 307 && h.code != 308)
			break;
		close(fd);
		fd = -1;
		if (hops++ == HOPS) {
			oops("redirect", "more than 5 redirects, giving up");
			goto done;
		}
		if (h.location == NULL || h.location[0] == '\0') {
			oops("redirect", "no Location");
			goto done;
		}
		{
			struct where next;
			int how = resolve(w, h.location, &next);
			if (how != 0) {
				oops(h.location, how == 1 ? "cannot follow to https (no TLS here)"
							  : "cannot follow this Location");
				where_free(&next);
				goto done;
			}
			where_free(w);
			*w = next;
		}
		fprintf(stderr, "redirected to http://%s%s%s:%s%s\n",
			w->bracket ? "[" : "", w->host, w->bracket ? "]" : "",
			w->port, w->path);
	}
	if (h.code < 200 || h.code > 299) {
		fprintf(stderr, "webclient: server said %d: nothing saved\n", h.code);
		goto done;
	}
	if (to_stdout) {
		out = stdout;
	} else {
		int pfd;
		size_t plen = strlen(name) + 6;
		part = malloc(plen);
		if (part == NULL)
			goto done;
		snprintf(part, plen, "%s.part", name);
		pfd = open(part, O_WRONLY | O_CREAT | O_TRUNC, 0666);
		if (pfd < 0) {
			oops(part, strerror(errno));
			free(part);
			part = NULL;
			goto done;
		}
		out = fdopen(pfd, "wb");
		if (out == NULL) {
			close(pfd);
			goto done;
		}
	}
	if (h.code == 204 || h.code == 304)
		rc = 0;
	else if (h.chunked)
		rc = unchunk(r, out, &total) < 0;
	else
		rc = pass_on(r, h.length, out, &total) < 0;
	if (to_stdout) {
		if (fflush(stdout) != 0)
			rc = 1;
	} else {
		if (fclose(out) != 0)
			rc = 1;
		if (rc == 0 && rename(part, name) != 0) {
			oops(name, strerror(errno));
			rc = 1;
		}
	}
	out = NULL;
	if (rc == 0)
		fprintf(stderr, "Saved %lld bytes as '%s'\n", total,
			to_stdout ? "(stdout)" : name);
done:
	if (out != NULL && out != stdout)
		fclose(out);
	/* A failed download keeps its .part (never its final name), and
	 * its socket closes when the program exits. */
	if (rc == 0 && fd >= 0)
		close(fd);
	free(part);
	free(text);
	free(h.location);
	free(r);
	return rc;
}

int main(int argc, char **argv)
{
	struct where w;
	char buf[1024];
	const char *name;
	int rc;

	signal(SIGPIPE, SIG_IGN);
	if (argc == 2 && strcmp(argv[1], "-h") == 0)
		return usage(0);
	if (argc < 2 || argc > 3 || argv[1][0] == '-')
		return usage(2);
	rc = parse_where(argv[1], &w);
	if (rc == 1) {
		oops(argv[1], "https needs TLS, which this client does not speak");
		return 2;
	}
	if (rc != 0) {
		where_free(&w);
		oops(argv[1], "not a URL of the form http://HOST[:PORT][/PATH]");
		return usage(2);
	}
	name = argc == 3 ? argv[2] : default_name(w.path, buf, sizeof buf);
	if (*name == '\0') {
		where_free(&w);
		return usage(2);
	}
	rc = fetch(&w, name);
	where_free(&w);
	return rc;
}
