/*
 * A second, deliberately different echoserver, written from the SPEC alone.
 * The self-test grades it and expects 100/100: proof that the tests check
 * the SPEC's contract, not the reference solution's choices.
 *
 * Where it differs from the reference: a detached POSIX thread per client
 * instead of a process (so a SIGPIPE would end every client at once: it is
 * ignored before the first thread starts); read() and write() instead of
 * recv() and send(); a 1000-byte buffer; SOMAXCONN for the listen()
 * backlog (Python's TCPServer has 5: too few, see the handout's common
 * mistakes); a 50 ms pause after a failed accept(); the ready line's
 * address from getnameinfo() (brackets added for IPv6, as the handout's
 * contract says: [::1]:9000); the port checked digit by digit;
 * no log line per connection; other wording for every message; usage on
 * stderr for -h as well.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *me = "echoserver";

static void say_usage(void)
{
	fprintf(stderr, "Usage: %s [-a address] [-p port]\n", me);
}

/* 1 if S is a port number: decimal digits only, 65535 at most. */
static int is_port(const char *s)
{
	unsigned long v = 0;

	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return 0;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > 65535)
			return 0;
	}
	return 1;
}

/* write() until all of it is gone; 0 or -1. */
static int write_fully(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void *client_thread(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char buf[1000];

	for (;;) {
		ssize_t r = read(fd, buf, sizeof buf);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || write_fully(fd, buf, (size_t)r) < 0)
			break;
	}
	close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	const char *host = "127.0.0.1", *service = "9000";
	int c;

	while ((c = getopt(argc, argv, "ha:p:")) != -1) {
		if (c == 'a')
			host = optarg;
		else if (c == 'p' && is_port(optarg))
			service = optarg;
		else if (c == 'h') {
			say_usage();
			return 0;
		} else {
			say_usage();
			return 2;
		}
	}
	if (optind != argc) {
		say_usage();
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);

	struct addrinfo hints, *list, *ai;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	int rc = getaddrinfo(host, service, &hints, &list);
	if (rc != 0) {
		fprintf(stderr, "%s: cannot use %s port %s: %s\n", me, host,
			service, gai_strerror(rc));
		return 1;
	}
	int ls = -1, why = 0;
	for (ai = list; ai != NULL && ls < 0; ai = ai->ai_next) {
		int on = 1;
		ls = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (ls < 0) {
			why = errno;
			continue;
		}
		setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
		if (bind(ls, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(ls, SOMAXCONN) == 0)
			break;
		why = errno;
		close(ls);
		ls = -1;
	}
	freeaddrinfo(list);
	if (ls < 0) {
		fprintf(stderr, "%s: cannot listen on %s port %s: %s\n", me,
			host, service, strerror(why));
		return 1;
	}

	struct sockaddr_storage me_addr;
	socklen_t len = sizeof me_addr;
	char h[256], s[32];	/* NI_MAXHOST is not POSIX */
	if (getsockname(ls, (struct sockaddr *)&me_addr, &len) != 0 ||
	    getnameinfo((struct sockaddr *)&me_addr, len, h, sizeof h, s,
			sizeof s, NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		fprintf(stderr, "%s: cannot name the listening socket\n", me);
		close(ls);
		return 1;
	}
	if (strchr(h, ':') != NULL)
		printf("Server is ready on [%s]:%s\n", h, s);
	else
		printf("Server is ready on %s:%s\n", h, s);
	fflush(stdout);

	pthread_attr_t detached;
	pthread_attr_init(&detached);
	pthread_attr_setdetachstate(&detached, PTHREAD_CREATE_DETACHED);
	for (;;) {
		int fd = accept(ls, NULL, NULL);
		if (fd < 0) {
			if (errno != EINTR && errno != ECONNABORTED) {
				struct timespec pause_a_bit = { 0, 50000000 };
				perror("echoserver: accepting a client");
				nanosleep(&pause_a_bit, NULL);
			}
			continue;
		}
		pthread_t t;
		int err = pthread_create(&t, &detached, client_thread,
					 (void *)(intptr_t)fd);
		if (err != 0) {
			fprintf(stderr, "%s: no thread for a client: %s\n", me,
				strerror(err));
			close(fd);
		}
	}
}
