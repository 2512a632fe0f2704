/*
 * tcpclient - the grader's raw TCP client: sends bytes to a server while
 * reading what comes back, and checks that it is an echo of them.
 *
 *   tcpclient [-eHPq] [-s SEED] [-n LENGTH | -f FILE | -m TEXT]
 *             [-c N] [-I K] [-k ROUNDS] [-b CHUNK] [-d MS] [-i MS]
 *             [-w MS] [-r BYTES | -x BYTES] [-X BYTES] [-C MS] [-t MS]
 *             [-o FILE [-S BYTES]] [-A FILE] [-l SECONDS] [-L LOG] HOST PORT
 *
 * HOST is a numeric IPv4 or IPv6 address, PORT a number.
 *
 * What each connection sends (the same for all, except with a seed):
 *   -n LENGTH  LENGTH bytes of the stream peer_fill() makes from a seed;
 *              connection number G (0, 1, ... over all rounds) uses seed
 *              SEED+G, so the grader can regenerate exactly what any
 *              connection sent (`datagen SEED+G LENGTH`).  Default 0 bytes.
 *   -s SEED    the seed (default 1).
 *   -f FILE    the bytes of FILE.
 *   -m TEXT    TEXT, with the escapes \n \r \t \\ \xNN.
 *
 * How:
 *   -c N       N connections at once (default 1); all are connected before
 *              any of them sends, and each is checked on its own.  They
 *              connect in one go: non-blocking connects polled together,
 *              a few handshakes in flight at a time, an attempt that gets
 *              no answer soon made again.  A server with a small listen()
 *              backlog, whose kernel drops the SYNs its queue has no room
 *              for, costs connecting time (see -C), not the round's time.
 *   -I K       K more connections, opened first, that send nothing and
 *              stay idle until the others have finished: an idle client
 *              must not hold up the others.  They are ok when the server
 *              neither sent them anything nor closed them.
 *   -P         with -k: the -I connections persist over all rounds: opened
 *              before the first, closed after the last (or after the first
 *              failed round), so the server has an idle client the whole
 *              time while the others come and go.
 *   -k ROUNDS  repeat the whole thing ROUNDS times, one round after the
 *              other (default 1); stops after the first round in which a
 *              connection failed.  `-k 500` makes 500 connections in turn.
 *   -b CHUNK   send in pieces of CHUNK bytes ...
 *   -d MS      ... with MS milliseconds between them (default: as fast as
 *              the server takes them).
 *   -i MS      idle MS milliseconds after connecting, before sending.
 *   -w MS      watch MS milliseconds after connecting, before sending (and
 *              before -i): anything the server sends, or its closing the
 *              connection, in that time fails the connection.
 *   -H         half-close (shutdown SHUT_WR) after sending everything, then
 *              read until the server closes.  Without -H the client closes
 *              once it has received as many bytes as it sent (the
 *              lecture's session: send, read the echo, close).
 *   -r BYTES   reset: once BYTES bytes are sent (all, if fewer), close with
 *              SO_LINGER {1, 0}, so the server gets ECONNRESET.
 *   -x BYTES   exit: once BYTES bytes are sent, close() at once without
 *              reading the rest of the echo (the server's next sends hit a
 *              closed socket: EPIPE, SIGPIPE).
 *   -X BYTES   vanish: once BYTES bytes have been received, close() at
 *              once (the rest of the reply unread: the server's next
 *              sends hit a closed socket), as a browser whose user clicked
 *              away mid-download.
 *   -C MS      time limit for connecting, each round (default 10000): a
 *              connect not done by then has failed (timed out).
 *   -t MS      time limit of each round, counted from the moment every
 *              connection of the round is connected (default 10000); a
 *              connection still open then has timed out.
 *   -e         check the echo: every byte received must be the byte sent
 *              at the same offset, and (unless -r or -x ended it first)
 *              every byte sent must come back.
 *   -o FILE    save what each connection received: to FILE when there is
 *              one connection in all, else to FILE.G for connection G.
 *   -S BYTES   with -o: save only the first BYTES bytes each connection
 *              received (the rest is counted, not saved): the head of a
 *              1 GiB reply.
 *   -A FILE    append what every connection received to FILE, one after
 *              the other (for many connections in turn, -k).
 *   -q         quiet: print only the lines of connections that failed.
 *   -l SECONDS lifetime cap: exit by itself after SECONDS (default 120).
 *   -L LOG     log every event (connect, send, receive, close) to LOG.
 *
 * Output, one line per connection, then a total:
 *
 *   conn G: sent S received R END after MS ms; VERDICT
 *   ok N of M connections
 *
 * END is one of closed-by-server, closed-by-client, reset-by-server,
 * reset-by-client, timeout, refused, connect-failed, error; MS counts from
 * the start of the connect.  VERDICT is "echo ok" (with -e), "ok"
 * (without), "idle ok" (-I), or what went wrong:
 *   first difference at byte B: expected 0x3f, got end of stream
 *     (got: 0xNN, end of stream, nothing before the deadline,
 *     a reset (...), an error (...); expected: 0xNN, or end of stream
 *     when the server sent more bytes than it was sent)
 *   all S bytes echoed, but the server did not close the connection (-H)
 *   not finished before the deadline (without -e)
 *   connect failed: Connection refused
 *   send failed: Broken pipe / recv failed: ... (without -e)
 *   expected nothing in the first MS ms, got N bytes (-w)
 *   the server sent N bytes to an idle connection (-I)
 *   the server ended an idle connection (closed-by-server) (-I)
 * When -k stops early, a line "stopped after the first failed round: ..."
 * comes before the total; connections not tried count as failed.  When
 * connecting took a second or more in some round, a line "connecting took
 * 4.1 s; N connect attempts got no answer and were made again" (the
 * slowest round's time) comes before the total too.
 * With -P the idle connections' lines come last: they are judged at the
 * end of the run.
 * Exit 0 when every connection is ok, 1 otherwise, 2 on bad usage (or
 * when the peer itself cannot run).
 */
#define _POSIX_C_SOURCE 200809L

#include "peer.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define IOSIZE 65536

struct options {
	const char *host, *port, *file, *out, *log;
	unsigned char *data;	/* -f or -m bytes; NULL: the seeded stream */
	size_t length;		/* bytes each connection sends */
	uint64_t seed;
	long conns, idle, rounds, chunk, delay_ms, idle_ms, watch_ms;
	long timeout_ms, connect_ms, lifetime, reset_at, close_at;
	long vanish_at, save_max;	/* -X, -S (-1: not given) */
	long read_delay_ms;	/* -R: no recv() before t_send + this */
	const char *append;		/* -A */
	FILE *append_f;
	int echo, halfclose, quiet, persist;
	long total_conns;	/* (conns + idle) * rounds, or with -P
				 * idle + conns * rounds */
	struct addrinfo *ai;	/* HOST PORT, resolved once */
};

enum end {
	OPEN, CLOSED_BY_SERVER, CLOSED_BY_CLIENT, RESET_BY_SERVER,
	RESET_BY_CLIENT, TIMEOUT, REFUSED, CONNECT_FAILED, ERROR
};

static const char *end_name[] = {
	"open", "closed-by-server", "closed-by-client", "reset-by-server",
	"reset-by-client", "timeout", "refused", "connect-failed", "error"
};

/* What was received instead of the expected byte. */
enum { GOT_EOF = -1, GOT_NOTHING = -2, GOT_RESET = -3, GOT_ERROR = -4 };

struct conn {
	long id;		/* G: numbered over all rounds */
	int fd, idle, deliberate;
	int is_connected, tries;	/* connect attempts so far */
	long long t_try;		/* when the last one started */
	uint64_t seed;
	size_t limit;		/* send this much, then stop (-r, -x) */
	size_t sent, received, chunk_sent;
	long long t_start, t_watch_end, t_send, t_next_send, t_end;
	long long t_read;	/* -R: no reading before this */
	int sending_done;
	enum end end;
	int err;		/* errno of a failed connect, send or recv */
	const char *err_call;
	int differs;		/* first difference found */
	size_t diff_at;
	int diff_expected, diff_got;	/* bytes, or -1 end of stream... */
	size_t watch_bytes;	/* received during the -w window */
	int watch_closed;
	FILE *out;
};

#define SYNOPSIS \
	"usage: tcpclient [-eHPq] [-s SEED] [-n LENGTH | -f FILE | -m TEXT]\n" \
	"                 [-c N] [-I K] [-k ROUNDS] [-b CHUNK] [-d MS] [-i MS]\n" \
	"                 [-w MS] [-R MS] [-r BYTES | -x BYTES] [-X BYTES] [-C MS]\n" \
	"                 [-t MS]\n" \
	"                 [-o FILE [-S BYTES]] [-A FILE] [-l SECONDS] [-L LOG]\n" \
	"                 HOST PORT\n"

/* Bad usage: the synopsis on stderr, exit 2. */
_Noreturn static void usage(void)
{
	fputs(SYNOPSIS "(tcpclient -h explains every option)\n", stderr);
	exit(2);
}

/* -h: every option, on stdout, exit 0. */
_Noreturn static void help(void)
{
	fputs(SYNOPSIS
	      "Connects to HOST PORT (numeric), sends, reads the reply at the "
	      "same time.\n"
	      "  -n LENGTH  send LENGTH bytes of the stream of seed SEED+G "
	      "(connection G)\n"
	      "  -s SEED    the seed (default 1)\n"
	      "  -f FILE    send the bytes of FILE\n"
	      "  -m TEXT    send TEXT (escapes \\n \\r \\t \\\\ \\xNN)\n"
	      "  -c N       N connections at once, all connected before any "
	      "sends\n"
	      "  -I K       K more idle connections, opened first, that send "
	      "nothing\n"
	      "  -P         with -k: the idle connections stay open over all "
	      "rounds\n"
	      "  -k ROUNDS  repeat ROUNDS times in turn; stop after a failed "
	      "round\n"
	      "  -b CHUNK   send in pieces of CHUNK bytes\n"
	      "  -d MS      wait MS ms between pieces\n"
	      "  -i MS      idle MS ms after connecting, before sending\n"
	      "  -w MS      fail if anything arrives in the first MS ms, "
	      "before sending\n"
	      "  -R MS      read nothing until MS ms after sending starts, "
	      "with a 64 KiB\n             receive buffer (a client that "
	      "stalls: the server's send() waits)\n"
	      "  -H         half-close after sending, read until the server "
	      "closes\n"
	      "  -r BYTES   reset (SO_LINGER 0) once BYTES bytes are sent\n"
	      "  -x BYTES   close() without reading once BYTES bytes are "
	      "sent\n"
	      "  -X BYTES   close() at once once BYTES bytes are received "
	      "(vanish mid-reply)\n"
	      "  -C MS      time limit for connecting, each round (default "
	      "10000)\n"
	      "  -t MS      time limit of each round once all are connected "
	      "(default 10000)\n"
	      "  -e         check that what comes back is the echo\n"
	      "  -o FILE    save what was received (FILE.G with several "
	      "connections)\n"
	      "  -S BYTES   with -o: save only each connection's first BYTES "
	      "bytes\n"
	      "  -A FILE    append what every connection received to FILE\n"
	      "  -q         print only the connections that failed\n"
	      "  -l SECONDS exit by itself after SECONDS (default 120)\n"
	      "  -L LOG     log events to LOG\n"
	      "One line a connection, \"conn G: sent S received R END after "
	      "MS ms; VERDICT\",\n"
	      "then \"ok N of M connections\" (after \"connecting took S s\" "
	      "when slow);\n"
	      "exit 0 when all are ok, 1 if not, 2 on usage.\n", stdout);
	exit(0);
}

/* Decode TEXT's escapes into a new buffer; its length goes to LEN. */
static unsigned char *unescape(const char *text, size_t *len)
{
	unsigned char *buf = malloc(strlen(text) + 1);
	size_t n = 0;

	if (buf == NULL)
		peer_die("out of memory");
	for (const char *p = text; *p != '\0'; p++) {
		if (*p != '\\' || p[1] == '\0') {
			buf[n++] = (unsigned char)*p;
			continue;
		}
		p++;
		if (*p == 'n')
			buf[n++] = '\n';
		else if (*p == 'r')
			buf[n++] = '\r';
		else if (*p == 't')
			buf[n++] = '\t';
		else if (*p == 'x' && p[1] != '\0' && p[2] != '\0') {
			char hex[3] = { p[1], p[2], '\0' };
			char *end;
			long v = strtol(hex, &end, 16);

			if (*end != '\0')
				peer_die("bad escape \\x%s in -m", hex);
			buf[n++] = (unsigned char)v;
			p += 2;
		} else
			buf[n++] = (unsigned char)*p;	/* \\ and the rest */
	}
	*len = n;
	return buf;
}

/* Read all of PATH into a new buffer; its length goes to LEN. */
static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t n = 0, cap = 0;

	if (f == NULL)
		peer_die("%s:", path);
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap);
			if (buf == NULL)
				peer_die("%s: out of memory", path);
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f))
		peer_die("%s: read error", path);
	fclose(f);
	*len = n;
	return buf;
}

/* The LEN bytes connection C sends from offset OFF, into BUF. */
static void source(const struct options *o, const struct conn *c,
		   size_t off, unsigned char *buf, size_t len)
{
	if (o->data != NULL)
		memcpy(buf, o->data + off, len);
	else
		peer_fill(buf, len, c->seed, off);
}

/* Note the first difference, at byte AT: expected EXP, got GOT. */
static void differ(struct conn *c, size_t at, int exp, int got)
{
	if (c->differs)
		return;
	c->differs = 1;
	c->diff_at = at;
	c->diff_expected = exp;
	c->diff_got = got;
	peer_log("conn %ld: first difference at byte %zu", c->id, at);
}

/* Compare N bytes just received (BUF) with what C sent at that offset. */
static void check_echo(const struct options *o, struct conn *c,
		       const unsigned char *buf, size_t n)
{
	static unsigned char want[IOSIZE];
	size_t off = c->received, inside = 0;

	if (c->differs)
		return;
	if (off < o->length)
		inside = o->length - off < n ? o->length - off : n;
	source(o, c, off, want, inside);
	for (size_t i = 0; i < inside; i++)
		if (buf[i] != want[i]) {
			differ(c, off + i, want[i], buf[i]);
			return;
		}
	if (inside < n)		/* more bytes than were ever sent */
		differ(c, off + inside, GOT_EOF, buf[inside]);
}

/* End connection C as END, closing its socket (with a reset if RESET). */
static void finish(struct conn *c, enum end end, int reset)
{
	if (c->fd >= 0) {
		if (reset) {
			struct linger lg = { 1, 0 };

			setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg,
				   sizeof lg);
		}
		close(c->fd);
		c->fd = -1;
	}
	if (c->out != NULL) {
		fclose(c->out);
		c->out = NULL;
	}
	c->end = end;
	c->t_end = peer_now_ms();
	peer_log("conn %ld: %s, sent %zu received %zu", c->id, end_name[end],
		 c->sent, c->received);
}

/* C has sent LIMIT bytes: reset, exit or half-close as asked. */
static void done_sending(const struct options *o, struct conn *c)
{
	c->sending_done = 1;
	if (o->reset_at >= 0) {
		c->deliberate = 1;
		finish(c, RESET_BY_CLIENT, 1);
	} else if (o->close_at >= 0) {
		c->deliberate = 1;
		finish(c, CLOSED_BY_CLIENT, 0);
	} else if (o->halfclose) {
		if (shutdown(c->fd, SHUT_WR) < 0)
			peer_log("conn %ld: shutdown: %s", c->id,
				 strerror(errno));
		else
			peer_log("conn %ld: half-closed (SHUT_WR)", c->id);
	}
}

/* Send the next piece of C's bytes, as much as the socket takes. */
static void do_send(const struct options *o, struct conn *c)
{
	static unsigned char buf[IOSIZE];
	size_t want = c->limit - c->sent;
	ssize_t n;

	if (o->chunk > 0 && want > (size_t)o->chunk - c->chunk_sent)
		want = (size_t)o->chunk - c->chunk_sent;
	if (want > sizeof buf)
		want = sizeof buf;
	source(o, c, c->sent, buf, want);
	n = send(c->fd, buf, want, 0);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		/* The server went away: send no more, read what is left. */
		c->err = errno;
		c->err_call = "send";
		c->sending_done = 1;
		peer_log("conn %ld: send: %s", c->id, strerror(errno));
		return;
	}
	peer_log("conn %ld: sent %zd bytes (%zu in all)", c->id, n,
		 c->sent + (size_t)n);
	c->sent += (size_t)n;
	c->chunk_sent += (size_t)n;
	if (o->chunk > 0 && c->chunk_sent == (size_t)o->chunk) {
		c->chunk_sent = 0;
		c->t_next_send = peer_now_ms() + o->delay_ms;
	}
	if (c->sent == c->limit)
		done_sending(o, c);
}

/* Read what has arrived for C; check it, save it, end C at EOF/error. */
static void do_recv(const struct options *o, struct conn *c)
{
	static unsigned char buf[IOSIZE];
	char prefix[64];
	ssize_t n = recv(c->fd, buf, sizeof buf, 0);

	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		c->err = errno;
		c->err_call = "recv";
		peer_log("conn %ld: recv: %s", c->id, strerror(errno));
		finish(c, errno == ECONNRESET ? RESET_BY_SERVER : ERROR, 0);
		return;
	}
	if (n == 0) {
		if (peer_now_ms() < c->t_watch_end)
			c->watch_closed = 1;
		finish(c, CLOSED_BY_SERVER, 0);
		return;
	}
	snprintf(prefix, sizeof prefix, "conn %ld: received: ", c->id);
	peer_log_bytes(prefix, buf, (size_t)n, 64);
	if (peer_now_ms() < c->t_watch_end)
		c->watch_bytes += (size_t)n;
	if (o->echo)
		check_echo(o, c, buf, (size_t)n);
	if (c->out != NULL) {
		size_t keep = (size_t)n;

		if (o->save_max >= 0 && c->received + keep > (size_t)o->save_max)
			keep = c->received >= (size_t)o->save_max ? 0 :
			       (size_t)o->save_max - c->received;
		fwrite(buf, 1, keep, c->out);
	}
	if (o->append_f != NULL)
		fwrite(buf, 1, (size_t)n, o->append_f);
	c->received += (size_t)n;
	/* -X: the client vanishes mid-reply. */
	if (o->vanish_at >= 0 && c->received >= (size_t)o->vanish_at) {
		c->deliberate = 1;
		peer_log("conn %ld: vanishing after %zu bytes received", c->id,
			 c->received);
		finish(c, CLOSED_BY_CLIENT, 0);
		return;
	}
	/* The lecture's client: once the whole echo is back, it closes. */
	if (!o->halfclose && c->sending_done && c->err_call == NULL &&
	    c->received >= c->sent)
		finish(c, CLOSED_BY_CLIENT, 0);
}

/* C's connect failed with ERR: end it as refused, timed out or failed. */
static void connect_failed(struct conn *c, int err)
{
	c->err = err;
	c->err_call = "connect";
	peer_log("conn %ld: connect: %s", c->id, strerror(err));
	finish(c, err == ECONNREFUSED ? REFUSED :
		  err == ETIMEDOUT ? TIMEOUT : CONNECT_FAILED, 0);
}

static long retries;	/* connect attempts made again, in all */

/* Start connecting C without waiting (a non-blocking connect): C's
 * handshake is then in flight.  A retry (C->tries > 0) first drops the
 * attempt that got no answer. */
static void start_connect(const struct options *o, struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	if (c->tries++ == 0)
		c->t_start = peer_now_ms();
	else
		retries++;
	c->t_try = peer_now_ms();
	c->fd = socket(o->ai->ai_family, o->ai->ai_socktype,
		       o->ai->ai_protocol);
	if (c->fd < 0) {
		connect_failed(c, errno);
		return;
	}
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
	if (o->read_delay_ms > 0) {
		/* -R: a small fixed receive buffer (no autotuning), so that
		 * a stalled reader stops the server's sends soon. */
		int rcvbuf = 65536;

		setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
			   sizeof rcvbuf);
	}
	/* EINPROGRESS (or EINTR): the handshake goes on without us. */
	if (connect(c->fd, o->ai->ai_addr, o->ai->ai_addrlen) < 0 &&
	    errno != EINPROGRESS && errno != EINTR)
		connect_failed(c, errno);
}

/* C is connected: log it and open its -o file. */
static void connected(const struct options *o, struct conn *c)
{
	c->is_connected = 1;
	peer_log("conn %ld: connected to %s port %s after %lld ms (%d %s)%s",
		 c->id, o->host, o->port, peer_now_ms() - c->t_start, c->tries,
		 c->tries == 1 ? "try" : "tries", c->idle ? " (idle)" : "");
	if (o->out != NULL) {
		char path[4096];

		if (o->total_conns == 1)
			snprintf(path, sizeof path, "%s", o->out);
		else
			snprintf(path, sizeof path, "%s.%ld", o->out, c->id);
		c->out = fopen(path, "wb");
		if (c->out == NULL)
			peer_die("%s:", path);
	}
}

/* How long a connect attempt may wait for its answer before it is tried
 * again: 25 ms, doubling to 800 ms.  A server's kernel drops the SYN of a
 * connection its listen() queue has no room for; the client's kernel
 * would send it again only after 1 s, 3 s, 7 s... (and on loopback an
 * answered SYN is answered at once). */
static long long retry_after(const struct conn *c)
{
	long long ms = 25;

	for (int i = 1; i < c->tries && ms < 800; i++)
		ms *= 2;
	return ms < 800 ? ms : 800;
}

#define IN_FLIGHT 4	/* connects under way at once, at most */

/* Add C (index I of the connections) to connect_all()'s poll set, and
 * make it wake no later than C's next retry. */
static void watch_connect(const struct conn *c, int i, struct pollfd *pfd,
			  int *who, int *n, long long *wake)
{
	if (c->t_try + retry_after(c) < *wake)
		*wake = c->t_try + retry_after(c);
	pfd[*n].fd = c->fd;
	pfd[*n].events = POLLOUT;
	who[(*n)++] = i;
}

/* Connect CONNS[FROM] to CONNS[TO - 1], all in one go: a few handshakes
 * in flight at a time, polled together, and an attempt that gets no
 * answer soon is made again, until each is connected or has failed, or
 * DEADLINE has passed (the rest have then timed out).  Why not all at
 * once: when a server's listen queue is full, its kernel drops their
 * SYNs, the client's kernel sends them all again at the same moment a
 * second later, and a burst like that gets SYN cookies that break
 * (resets) once the queue overflows; a few at a time never bursts. */
static void connect_all(const struct options *o, struct conn *conns,
			int from, int to, long long deadline)
{
	struct pollfd pfd[IN_FLIGHT];
	int who[IN_FLIGHT], next = from;

	for (;;) {
		long long now = peer_now_ms(), wake = deadline;
		int n = 0, rc;

		for (int i = from; i < next; i++) {	/* under way */
			struct conn *c = &conns[i];

			if (c->end != OPEN || c->is_connected)
				continue;
			if (now >= deadline) {
				connect_failed(c, ETIMEDOUT);
				continue;
			}
			if (now >= c->t_try + retry_after(c)) {
				peer_log("conn %ld: no answer to connect "
					 "after %lld ms: again", c->id,
					 now - c->t_try);
				start_connect(o, c);
				if (c->end != OPEN)
					continue;
			}
			watch_connect(c, i, pfd, who, &n, &wake);
		}
		while (n < IN_FLIGHT && next < to && now < deadline) {
			struct conn *c = &conns[next++];

			start_connect(o, c);
			if (c->end != OPEN)
				continue;
			watch_connect(c, (int)(c - conns), pfd, who, &n, &wake);
		}
		if (n == 0 && (next == to || now >= deadline)) {
			while (next < to) {	/* never started: no time */
				conns[next].t_start = now;
				connect_failed(&conns[next++], ETIMEDOUT);
			}
			break;
		}
		rc = poll(pfd, (nfds_t)n, (int)(wake > now ? wake - now : 0));
		if (rc < 0 && errno != EINTR)
			peer_die("poll:");
		for (int k = 0; k < n && rc > 0; k++) {
			struct conn *c = &conns[who[k]];
			int err = 0;
			socklen_t len = sizeof err;

			if (pfd[k].revents == 0)
				continue;
			if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err,
				       &len) < 0)
				err = errno;
			if (err != 0)
				connect_failed(c, err);
			else
				connected(o, c);
		}
	}
}

/* Is C waiting to send, and from when on (to WHEN)? */
static int wants_to_send(const struct conn *c, long long *when)
{
	if (c->end != OPEN || c->idle || c->sending_done)
		return 0;
	*when = c->t_next_send;
	return 1;
}

/* Run one round: connect all of CONNS (COUNT), the idle ones first (only
 * if OPEN_IDLE: with -P they stay open from round to round), then send
 * and receive on all of them at once until each active one has finished
 * or the time is up.  The idle ones are closed at the end if CLOSE_IDLE.
 * Returns how long connecting took, in ms. */
static long long run_round(const struct options *o, struct conn *conns,
			   int count, int open_idle, int close_idle)
{
	long long t0 = peer_now_ms(), took, deadline;
	struct pollfd *pfd = calloc((size_t)count, sizeof *pfd);
	int *who = calloc((size_t)count, sizeof *who);

	if (pfd == NULL || who == NULL)
		peer_die("out of memory");
	if (open_idle)		/* the idle ones are the server's first */
		connect_all(o, conns, 0, (int)o->idle, t0 + o->connect_ms);
	connect_all(o, conns, (int)o->idle, count, t0 + o->connect_ms);
	took = peer_now_ms() - t0;
	if (took >= 1000)
		peer_log("connecting took %lld ms", took);
	/* The round's time starts now that everybody is connected. */
	deadline = peer_now_ms() + o->timeout_ms;
	for (int i = (int)o->idle; i < count; i++) {
		struct conn *c = &conns[i];

		c->t_watch_end = peer_now_ms() + o->watch_ms;
		c->t_send = c->t_watch_end + o->idle_ms;
		c->t_next_send = c->t_send;
		/* -R: 0 (not given) means read from the start, as always. */
		c->t_read = o->read_delay_ms > 0 ?
			    c->t_send + o->read_delay_ms : 0;
	}

	for (;;) {
		long long now = peer_now_ms(), wake = deadline, when;
		int active = 0, open = 0, n = 0, rc;

		for (int i = 0; i < count; i++) {
			struct conn *c = &conns[i];

			/* Nothing to send at all: done sending at once. */
			if (c->end == OPEN && !c->idle && !c->sending_done &&
			    c->sent == c->limit && now >= c->t_send)
				done_sending(o, c);
			if (c->end == OPEN && !c->idle && c->sending_done &&
			    !o->halfclose && c->err_call == NULL &&
			    c->received >= c->sent)
				finish(c, CLOSED_BY_CLIENT, 0);
			if (c->end != OPEN)
				continue;
			open++;
			if (!c->idle)
				active++;
			pfd[n].fd = c->fd;
			pfd[n].events = POLLIN;
			if (!c->idle && now < c->t_read) {	/* -R: stalled */
				pfd[n].events = 0;
				if (c->t_read < wake)
					wake = c->t_read;
			}
			if (wants_to_send(c, &when)) {
				if (when <= now)
					pfd[n].events |= POLLOUT;
				else if (when < wake)
					wake = when;
			}
			who[n++] = i;
		}
		if (open == 0)
			break;
		/* The idle ones stay until everybody else has finished. */
		if (active == 0 && count > o->idle) {
			for (int i = 0; i < count; i++)
				if (conns[i].end == OPEN &&
				    (close_idle || !conns[i].idle))
					finish(&conns[i], CLOSED_BY_CLIENT, 0);
			break;
		}
		if (now >= deadline) {
			for (int i = 0; i < count; i++)
				if (conns[i].end == OPEN && !conns[i].idle)
					finish(&conns[i], TIMEOUT, 0);
				else if (conns[i].end == OPEN && close_idle)
					finish(&conns[i], CLOSED_BY_CLIENT, 0);
			break;
		}
		rc = poll(pfd, (nfds_t)n, (int)(wake - now));
		if (rc < 0 && errno != EINTR)
			peer_die("poll:");
		for (int k = 0; k < n && rc > 0; k++) {
			struct conn *c = &conns[who[k]];

			if ((pfd[k].revents & (POLLHUP | POLLERR)) ||
			    ((pfd[k].revents & POLLIN) &&
			     (c->idle || peer_now_ms() >= c->t_read)))
				do_recv(o, c);
			if (c->end == OPEN && (pfd[k].revents & POLLOUT))
				do_send(o, c);
		}
	}
	free(pfd);
	free(who);
	return took;
}

/* Describe byte value V (or what came instead) into BUF. */
static const char *byte_text(int v, const struct conn *c, char *buf,
			     size_t size)
{
	if (v >= 0)
		snprintf(buf, size, "0x%02x", (unsigned)v);
	else if (v == GOT_EOF)
		snprintf(buf, size, "end of stream");
	else if (v == GOT_NOTHING)
		snprintf(buf, size, "nothing before the deadline");
	else if (v == GOT_RESET)
		snprintf(buf, size, "a reset (%s)", strerror(c->err));
	else
		snprintf(buf, size, "an error (%s: %s)",
			 c->err_call ? c->err_call : "?", strerror(c->err));
	return buf;
}

/* Judge connection C: write the verdict into BUF; 1 if it is ok. */
static int judge(const struct options *o, struct conn *c, char *buf,
		 size_t size)
{
	char e[64], g[160];

	if (c->end == REFUSED || c->end == CONNECT_FAILED ||
	    (c->end == TIMEOUT && c->err_call != NULL &&
	     strcmp(c->err_call, "connect") == 0)) {
		snprintf(buf, size, "connect failed: %s", strerror(c->err));
		return 0;
	}
	if (c->idle) {
		if (c->received > 0)
			snprintf(buf, size, "the server sent %zu bytes to an "
				 "idle connection", c->received);
		else if (c->end != CLOSED_BY_CLIENT)
			snprintf(buf, size, "the server ended an idle "
				 "connection (%s)", end_name[c->end]);
		else {
			snprintf(buf, size, "idle ok");
			return 1;
		}
		return 0;
	}
	if (c->watch_bytes > 0 || c->watch_closed) {
		if (c->watch_bytes > 0)
			snprintf(buf, size, "expected nothing in the first "
				 "%ld ms, got %zu bytes", o->watch_ms,
				 c->watch_bytes);
		else
			snprintf(buf, size, "expected nothing in the first "
				 "%ld ms, but the server closed", o->watch_ms);
		return 0;
	}
	if (o->echo) {
		/* A short echo: what came instead of byte RECEIVED? */
		if (!c->differs && !c->deliberate && c->received < o->length) {
			int got = c->end == TIMEOUT ? GOT_NOTHING :
				  c->end == RESET_BY_SERVER ? GOT_RESET :
				  c->end == ERROR ? GOT_ERROR : GOT_EOF;
			unsigned char b;

			source(o, c, c->received, &b, 1);
			differ(c, c->received, b, got);
		}
		if (c->differs) {
			snprintf(buf, size, "first difference at byte %zu: "
				 "expected %s, got %s", c->diff_at,
				 byte_text(c->diff_expected, c, e, sizeof e),
				 byte_text(c->diff_got, c, g, sizeof g));
			return 0;
		}
	}
	if (c->end == TIMEOUT) {
		if (o->echo && o->halfclose)
			snprintf(buf, size, "all %zu bytes echoed, but the "
				 "server did not close the connection",
				 c->received);
		else
			snprintf(buf, size, "not finished before the deadline");
		return 0;
	}
	if (!c->deliberate && (c->end == RESET_BY_SERVER || c->end == ERROR ||
			       c->err_call != NULL)) {
		snprintf(buf, size, "%s failed: %s",
			 c->err_call ? c->err_call : "?", strerror(c->err));
		return 0;
	}
	snprintf(buf, size, o->echo ? "echo ok" : "ok");
	return 1;
}

/* Judge connection C and print its line (all of them, or with -q only
 * the failed ones).  Returns 1 if it is ok. */
static int report(const struct options *o, struct conn *c)
{
	char verdict[320];
	int good = judge(o, c, verdict, sizeof verdict);

	if (!good || !o->quiet)
		printf("conn %ld: sent %zu received %zu %s after %lld ms; %s\n",
		       c->id, c->sent, c->received, end_name[c->end],
		       c->t_end - c->t_start, verdict);
	return good;
}

/* Make sure HOST and PORT are numeric before any test depends on them;
 * returns their address. */
static struct addrinfo *check_address(const char *host, const char *port)
{
	struct addrinfo hints, *res;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if (getaddrinfo(host, port, &hints, &res) != 0) {
		fprintf(stderr, "tcpclient: '%s' port '%s' is not a numeric "
			"address and port\n", host, port);
		usage();
	}
	return res;
}

int main(int argc, char **argv)
{
	struct options o;
	struct conn *conns;
	long ok = 0, tried = 0, per_round;
	long long slowest = 0;
	int opt, failed_round = 0, have_length = 0;

	memset(&o, 0, sizeof o);
	o.seed = 1;
	o.conns = 1;
	o.rounds = 1;
	o.timeout_ms = 10000;
	o.connect_ms = 10000;
	o.lifetime = 120;
	o.reset_at = o.close_at = -1;
	o.vanish_at = o.save_max = -1;
	peer_init("tcpclient");
	while ((opt = getopt(argc, argv,
			     "eHPqs:n:f:m:c:I:k:b:d:i:w:R:r:x:X:S:A:C:t:o:l:L:h")) != -1) {
		switch (opt) {
		case 'e': o.echo = 1; break;
		case 'H': o.halfclose = 1; break;
		case 'P': o.persist = 1; break;
		case 'q': o.quiet = 1; break;
		case 's': o.seed = (uint64_t)peer_number(optarg, 0x7fffffffL,
							 "seed"); break;
		case 'n': o.length = (size_t)peer_number(optarg, 1L << 30,
							 "length");
			  have_length = 1;
			  break;
		case 'f': o.file = optarg; break;
		case 'm': free(o.data);
			  o.data = unescape(optarg, &o.length);
			  break;
		case 'c': o.conns = peer_number(optarg, 1000, "connections");
			  break;
		case 'I': o.idle = peer_number(optarg, 1000, "idle count");
			  break;
		case 'k': o.rounds = peer_number(optarg, 100000, "rounds");
			  break;
		case 'b': o.chunk = peer_number(optarg, 1L << 30, "chunk");
			  break;
		case 'd': o.delay_ms = peer_number(optarg, 600000, "delay");
			  break;
		case 'i': o.idle_ms = peer_number(optarg, 600000, "idle");
			  break;
		case 'w': o.watch_ms = peer_number(optarg, 600000, "watch");
			  break;
		case 'R': o.read_delay_ms = peer_number(optarg, 600000,
						      "read delay"); break;
		case 'r': o.reset_at = peer_number(optarg, 1L << 30,
						   "reset point"); break;
		case 'x': o.close_at = peer_number(optarg, 1L << 30,
						   "exit point"); break;
		case 'X': o.vanish_at = peer_number(optarg, 1L << 30,
						    "vanish point"); break;
		case 'S': o.save_max = peer_number(optarg, 1L << 30,
						   "bytes to save"); break;
		case 'A': o.append = optarg; break;
		case 'C': o.connect_ms = peer_number(optarg, 3600000,
						     "connect time limit"); break;
		case 't': o.timeout_ms = peer_number(optarg, 3600000,
						     "time limit"); break;
		case 'o': o.out = optarg; break;
		case 'l': o.lifetime = peer_number(optarg, 86400, "lifetime");
			  break;
		case 'L': o.log = optarg; break;
		case 'h': help();
		default: usage();
		}
	}
	if (argc - optind != 2 || (o.file != NULL && o.data != NULL) ||
	    (have_length && (o.file != NULL || o.data != NULL)) ||
	    (o.reset_at >= 0 && o.close_at >= 0) ||
	    o.conns + o.idle == 0 || o.rounds == 0)
		usage();
	o.host = argv[optind];
	o.port = argv[optind + 1];
	o.ai = check_address(o.host, o.port);
	if (o.file != NULL)
		o.data = slurp(o.file, &o.length);
	per_round = o.conns + o.idle;
	if (o.idle == 0 || o.rounds == 1)
		o.persist = 0;		/* nothing to keep open */
	o.total_conns = o.persist ? o.idle + o.conns * o.rounds :
				    per_round * o.rounds;

	peer_set_lifetime((unsigned)o.lifetime);
	peer_log_open(o.log);
	if (o.append != NULL && (o.append_f = fopen(o.append, "wb")) == NULL)
		peer_die("%s:", o.append);
	conns = calloc((size_t)per_round, sizeof *conns);
	if (conns == NULL)
		peer_die("out of memory");

	for (long r = 0; r < o.rounds && !failed_round; r++) {
		/* With -P the idle ones, first in CONNS, are opened once. */
		int reopen_idle = !o.persist || r == 0;
		long long took;

		for (long i = 0; i < per_round; i++) {
			struct conn *c = &conns[i];

			if (i < o.idle && !reopen_idle)
				continue;
			memset(c, 0, sizeof *c);
			c->id = o.persist && i >= o.idle ?
				o.idle + r * o.conns + (i - o.idle) :
				r * per_round + i;
			c->fd = -1;
			c->idle = i < o.idle;	/* the idle ones come first */
			c->seed = o.seed + (uint64_t)c->id;
			c->limit = o.length;
			if (o.reset_at >= 0 && (size_t)o.reset_at < c->limit)
				c->limit = (size_t)o.reset_at;
			if (o.close_at >= 0 && (size_t)o.close_at < c->limit)
				c->limit = (size_t)o.close_at;
		}
		took = run_round(&o, conns, (int)per_round, reopen_idle,
				 !o.persist || r == o.rounds - 1);
		if (took > slowest)
			slowest = took;
		for (long i = 0; i < per_round; i++) {
			struct conn *c = &conns[i];

			if (o.persist && i < o.idle) {
				/* judged at the end; a failure ends the run */
				if (c->end != OPEN && c->end != CLOSED_BY_CLIENT)
					failed_round = 1;
				if (c->received > 0)
					failed_round = 1;
				continue;
			}
			tried++;
			if (!report(&o, c))
				failed_round = 1;
			else
				ok++;
		}
		fflush(stdout);
	}
	for (long i = 0; o.persist && i < o.idle; i++) {
		struct conn *c = &conns[i];

		if (c->end == OPEN)
			finish(c, CLOSED_BY_CLIENT, 0);
		tried++;
		ok += report(&o, c);
	}
	if (slowest >= 1000)
		printf("connecting took %.1f s%s; %ld connect attempts got no "
		       "answer and were made again\n", (double)slowest / 1000,
		       o.rounds > 1 ? " (the slowest round)" : "", retries);
	if (tried < o.total_conns)
		printf("stopped after the first failed round: %ld of %ld "
		       "connections not tried\n", o.total_conns - tried,
		       o.total_conns);
	printf("ok %ld of %ld connections\n", ok, o.total_conns);
	if (o.append_f != NULL)
		fclose(o.append_f);
	free(conns);
	free(o.data);
	freeaddrinfo(o.ai);
	return ok == o.total_conns ? 0 : 1;
}
