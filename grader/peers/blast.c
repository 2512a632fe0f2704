/*
 * blast - the benchmark's load generator for echo servers (make bench):
 * one process that is not the bottleneck, so that what it measures is the
 * server.
 *
 *   blast [-n BYTES] [-b BUFSIZE] [-w] [-t MS] [-l SECONDS] HOST PORT
 *   blast -c COUNT [-m TEXT] [-t MS] [-l SECONDS] HOST PORT
 *   blast -S echo|discard [-a ADDR] [-p PORT] [-P PORTFILE] [-b BUFSIZE]
 *         [-l SECONDS]
 *
 * Bulk (the default): one connection; BYTES (default 256 MiB) are sent
 * and the echo read back at the same time, from one poll() loop on a
 * non-blocking socket with large buffers (-b, default 256 KiB), so the
 * sending never waits for the reading or the other way round.  The echo
 * is checked byte for byte.  -w: only send (to a discard server), then
 * half-close and wait for the server to close.  Prints one line:
 *   bytes=N ms=T MiB/s=R
 *
 * Connections (-c COUNT): COUNT connections one after the other, each
 * connect, send TEXT (default "hello"), read its echo, close.  Prints:
 *   connections=N ms=T per-second=R
 *
 * Server (-S): the trivial C server the generator's own ceiling is
 * measured against: connections one at a time, each echoed (read, then
 * write it all back, blocking, BUFSIZE at a time) or discarded.
 *
 * -t MS is the whole run's deadline (default 60000): past it blast gives
 * up, exit 1.  -l SECONDS caps the process's life (default 120).  Exit 0
 * on success, 1 if the server failed (closed early, wrong echo, too
 * slow), 2 on bad usage.  Loopback only, as every peer.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "peer.h"

static void usage(void)
{
	fprintf(stderr,
		"usage: blast [-n BYTES] [-b BUFSIZE] [-w] [-t MS] [-l SECONDS] HOST PORT\n"
		"       blast -c COUNT [-m TEXT] [-t MS] [-l SECONDS] HOST PORT\n"
		"       blast -S echo|discard [-a ADDR] [-p PORT] [-P PORTFILE] [-b BUFSIZE] [-l SECONDS]\n");
	exit(2);
}

/* pattern_at: the byte at stream offset OFF of what bulk mode sends. */
static unsigned char pattern_at(unsigned long long off)
{
	return (unsigned char)((off * 131u + (off >> 12)) & 0xff);
}

/* fill: the pattern, PERIOD bytes long, that bulk mode sends over and
 * over (PERIOD is the buffer size, so a send starts anywhere in it). */
static void fill(unsigned char *buf, size_t period)
{
	size_t i;

	for (i = 0; i < period; i++)
		buf[i] = pattern_at(i);
}


/* bulk: send TOTAL bytes on FD while reading the echo (or, DISCARD, only
 * send and wait for the close); by DEADLINE (peer_now_ms()).  0 or 1. */
static int bulk(int fd, long long total, size_t bufsize, int discard,
		long long deadline)
{
	unsigned char *out = malloc(bufsize), *in = malloc(bufsize);
	long long sent = 0, got = 0;
	int wr_closed = 0;

	if (out == NULL || in == NULL)
		peer_die("out of memory");
	fill(out, bufsize);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long long left = deadline - peer_now_ms();
		int want_out = sent < total;

		if (!discard && got >= total)
			break;
		if (discard && !want_out && !wr_closed) {
			shutdown(fd, SHUT_WR);
			wr_closed = 1;
		}
		if (left <= 0) {
			fprintf(stderr, "blast: deadline: sent %lld, received %lld of %lld bytes\n",
				sent, got, total);
			return 1;
		}
		if (want_out)
			p.events |= POLLOUT;
		if (poll(&p, 1, (int)(left > 1000 ? 1000 : left)) < 0) {
			if (errno == EINTR)
				continue;
			peer_die("poll:");
		}
		if (p.revents & POLLOUT) {
			size_t at = (size_t)(sent % (long long)bufsize);
			size_t n = bufsize - at;
			ssize_t w;

			if ((long long)n > total - sent)
				n = (size_t)(total - sent);
			w = send(fd, out + at, n, 0);
			if (w > 0)
				sent += w;
			else if (w < 0 && errno != EAGAIN && errno != EINTR) {
				fprintf(stderr, "blast: send after %lld bytes: %s\n",
					sent, strerror(errno));
				return 1;
			}
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t r = recv(fd, in, bufsize, 0);

			if (r == 0) {
				if (discard && !want_out)
					break;	/* the sink has it all */
				fprintf(stderr, "blast: the server closed after %lld of %lld bytes echoed\n",
					got, total);
				return 1;
			}
			if (r < 0) {
				if (errno == EAGAIN || errno == EINTR)
					continue;
				fprintf(stderr, "blast: recv after %lld bytes: %s\n",
					got, strerror(errno));
				return 1;
			}
			if (discard) {
				fprintf(stderr, "blast: a discard server sent bytes back\n");
				return 1;
			}
			/* The echo, checked: in is the stream from offset got. */
			{
				size_t at = (size_t)(got % (long long)bufsize), done = 0;

				while (done < (size_t)r) {
					size_t n = bufsize - at;

					if (n > (size_t)r - done)
						n = (size_t)r - done;
					if (memcmp(in + done, out + at, n) != 0) {
						fprintf(stderr, "blast: the echo differs near byte %lld\n",
							got + (long long)done);
						return 1;
					}
					done += n;
					at = 0;
				}
			}
			got += r;
			if (got > sent) {
				fprintf(stderr, "blast: more echoed than sent\n");
				return 1;
			}
		}
	}
	free(out);
	free(in);
	return 0;
}

/* connections: COUNT connect-send-echo-close rounds with MSG, one after
 * the other, by DEADLINE.  0 or 1. */
static int connections(const char *host, const char *port, long count,
		       const char *msg, long long deadline)
{
	size_t len = strlen(msg);
	char buf[4096];
	long i;

	if (len == 0 || len > sizeof buf)
		peer_die("-m: 1 to %zu bytes", sizeof buf);
	for (i = 0; i < count; i++) {
		size_t got = 0;
		long long left = deadline - peer_now_ms();
		int fd;

		if (left <= 0) {
			fprintf(stderr, "blast: deadline after %ld of %ld connections\n", i, count);
			return 1;
		}
		fd = peer_connect(host, port, (int)(left > 5000 ? 5000 : left));
		if (fd < 0) {
			fprintf(stderr, "blast: connection %ld: connect: %s\n", i + 1, strerror(errno));
			return 1;
		}
		if (peer_send_all(fd, msg, len) < 0) {
			fprintf(stderr, "blast: connection %ld: send: %s\n", i + 1, strerror(errno));
			close(fd);
			return 1;
		}
		while (got < len) {
			struct pollfd p = { .fd = fd, .events = POLLIN };
			ssize_t r;

			left = deadline - peer_now_ms();
			if (left <= 0 || poll(&p, 1, (int)left) == 0) {
				fprintf(stderr, "blast: connection %ld: no echo by the deadline\n", i + 1);
				close(fd);
				return 1;
			}
			r = recv(fd, buf + got, sizeof buf - got, 0);
			if (r <= 0 && !(r < 0 && errno == EINTR)) {
				fprintf(stderr, "blast: connection %ld: %s after %zu of %zu bytes\n",
					i + 1, r == 0 ? "closed" : strerror(errno), got, len);
				close(fd);
				return 1;
			}
			if (r > 0)
				got += (size_t)r;
		}
		close(fd);
		if (memcmp(buf, msg, len) != 0) {
			fprintf(stderr, "blast: connection %ld: the echo differs\n", i + 1);
			return 1;
		}
	}
	return 0;
}

/* serve: the trivial server, one connection at a time, forever (until
 * the lifetime cap ends the process). */
static void serve(int lfd, int echo, size_t bufsize)
{
	char *buf = malloc(bufsize);

	if (buf == NULL)
		peer_die("out of memory");
	for (;;) {
		int fd = peer_accept(lfd);
		ssize_t n;

		while ((n = recv(fd, buf, bufsize, 0)) != 0) {
			if (n < 0) {
				if (errno == EINTR)
					continue;
				break;
			}
			if (echo && peer_send_all(fd, buf, (size_t)n) < 0)
				break;
		}
		close(fd);
	}
}

int main(int argc, char **argv)
{
	long long total = 256LL << 20, t0, deadline;
	long count = 0, timeout = 60000, life = 120;
	size_t bufsize = 256 << 10;
	const char *msg = "hello", *mode = NULL, *addr = "127.0.0.1", *port = "0",
		   *portfile = NULL;
	int discard = 0, opt, rc;

	peer_init("blast");
	while ((opt = getopt(argc, argv, "n:b:wt:l:c:m:S:a:p:P:h")) != -1) {
		switch (opt) {
		case 'n': total = peer_number(optarg, LONG_MAX, "BYTES"); break;
		case 'b': bufsize = (size_t)peer_number(optarg, 64L << 20, "BUFSIZE"); break;
		case 'w': discard = 1; break;
		case 't': timeout = peer_number(optarg, 3600000, "MS"); break;
		case 'l': life = peer_number(optarg, 86400, "SECONDS"); break;
		case 'c': count = peer_number(optarg, 10000000, "COUNT"); break;
		case 'm': msg = optarg; break;
		case 'S': mode = optarg; break;
		case 'a': addr = optarg; break;
		case 'p': port = optarg; break;
		case 'P': portfile = optarg; break;
		default: usage();
		}
	}
	if (bufsize < 1)
		usage();
	peer_set_lifetime((unsigned)life);
	if (mode != NULL) {
		if (optind != argc || (strcmp(mode, "echo") != 0 && strcmp(mode, "discard") != 0))
			usage();
		serve(peer_listen(addr, port, portfile), strcmp(mode, "echo") == 0, bufsize);
		return 0;
	}
	if (argc - optind != 2)
		usage();
	t0 = peer_now_ms();
	deadline = t0 + timeout;
	if (count > 0) {
		rc = connections(argv[optind], argv[optind + 1], count, msg, deadline);
		if (rc == 0) {
			long long ms = peer_now_ms() - t0;

			printf("connections=%ld ms=%lld per-second=%.1f\n", count, ms,
			       (double)count * 1000.0 / (double)(ms > 0 ? ms : 1));
		}
		return rc;
	} else {
		int fd = peer_connect(argv[optind], argv[optind + 1], (int)timeout);

		if (fd < 0) {
			fprintf(stderr, "blast: connect %s:%s: %s\n", argv[optind], argv[optind + 1],
				strerror(errno));
			return 1;
		}
		rc = bulk(fd, total, bufsize, discard, deadline);
		close(fd);
		if (rc == 0) {
			long long ms = peer_now_ms() - t0;

			printf("bytes=%lld ms=%lld MiB/s=%.1f\n", total, ms,
			       (double)total / 1048576.0 * 1000.0 / (double)(ms > 0 ? ms : 1));
		}
		return rc;
	}
}
