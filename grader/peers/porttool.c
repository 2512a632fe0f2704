/*
 * porttool - ports for the grader.
 *
 *   porttool free [HOST]
 *	Print a TCP port that is free on HOST (default 127.0.0.1) right now:
 *	bind port 0, read back what the system chose, close.  Another
 *	program may take it before the server under test does; the grader
 *	retries once on "address in use".
 *
 *   porttool wait HOST PORT MILLISECONDS [PID]
 *	Poll every 50 ms until HOST:PORT accepts a connection (exit 0), the
 *	deadline passes (exit 1), or process PID is gone (exit 3): a port
 *	that answers while the server under test is dead belongs to someone
 *	else.
 *
 *   porttool taken HOST PORT
 *	Hold HOST:PORT (listening) until killed or 60 s pass; prints "ready"
 *	once listening.  For testing a server's "port taken" error.
 *
 *   porttool resolve NAME
 *	Print the addresses getaddrinfo() gives NAME for a TCP client
 *	(AF_UNSPEC), one a line, in its order: what a client tries in turn.
 */
#define _POSIX_C_SOURCE 200809L

#include "peer.h"

#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* usage(F, STATUS): the commands, a line each, to F; returns STATUS. */
static int usage(FILE *f, int status)
{
	fprintf(f, "usage: porttool free [HOST]     print a port free on HOST now (127.0.0.1)\n"
		   "       porttool wait HOST PORT MS [PID]\n"
		   "                                 wait until HOST:PORT accepts (exit 0), MS pass\n"
		   "                                 (exit 1) or process PID ends (exit 3)\n"
		   "       porttool taken HOST PORT  listen on HOST:PORT and hold it (60 s)\n"
		   "       porttool resolve NAME     NAME's addresses, in the order a client tries them\n");
	return status;
}

/* Print a port that is free on HOST now. */
static int cmd_free(const char *host)
{
	char tmp[] = "/tmp/porttool.XXXXXX";
	char buf[32];
	int fd, lfd;
	FILE *f;

	fd = mkstemp(tmp);
	if (fd < 0)
		peer_die("mkstemp:");
	close(fd);
	lfd = peer_listen(host, "0", tmp);
	close(lfd);
	f = fopen(tmp, "r");
	if (f == NULL || fgets(buf, sizeof buf, f) == NULL)
		peer_die("%s:", tmp);
	fclose(f);
	unlink(tmp);
	fputs(buf, stdout);
	return 0;
}

/* Whether PID has ended: gone, or (Linux) a zombie its parent has not
 * reaped yet: the shell that started it may be the one waiting on us. */
static int has_ended(long pid)
{
	char path[64], buf[256], *p;
	FILE *f;
	int zombie = 0;

	if (kill((pid_t)pid, 0) < 0 && errno == ESRCH)
		return 1;
	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	/* "PID (COMM) STATE ...": COMM may hold spaces and parentheses */
	if (fgets(buf, sizeof buf, f) != NULL && (p = strrchr(buf, ')')) != NULL)
		zombie = p[1] == ' ' && p[2] == 'Z';
	fclose(f);
	return zombie;
}

/* Wait until HOST:PORT accepts, or MS pass, or PID ends. */
static int cmd_wait(const char *host, const char *port, long ms, long pid)
{
	long long deadline = peer_now_ms() + ms;

	for (;;) {
		int fd = peer_connect(host, port, 200);
		if (fd >= 0) {
			close(fd);
			return 0;
		}
		if (pid > 0 && has_ended(pid))
			return 3;
		if (peer_now_ms() >= deadline)
			return 1;
		peer_sleep_ms(50);
	}
}

/* Listen on HOST:PORT and hold it. */
static int cmd_taken(const char *host, const char *port)
{
	int lfd = peer_listen(host, port, NULL);

	printf("ready\n");
	fflush(stdout);
	peer_set_lifetime(60);
	for (;;)
		pause();
	close(lfd);
	return 0;
}

/* Print NAME's addresses, in the order a client would try them. */
static int cmd_resolve(const char *name)
{
	struct addrinfo hints, *list, *ai;
	char host[1025];
	int err;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	err = getaddrinfo(name, "80", &hints, &list);
	if (err != 0) {
		fprintf(stderr, "porttool: %s: %s\n", name, gai_strerror(err));
		return 1;
	}
	for (ai = list; ai != NULL; ai = ai->ai_next)
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof host,
				NULL, 0, NI_NUMERICHOST) == 0)
			printf("%s\n", host);
	freeaddrinfo(list);
	return 0;
}

int main(int argc, char **argv)
{
	peer_init("porttool");
	if (argc == 2 && strcmp(argv[1], "-h") == 0)
		return usage(stdout, 0);
	if (argc >= 2 && strcmp(argv[1], "free") == 0 && argc <= 3)
		return cmd_free(argc == 3 ? argv[2] : "127.0.0.1");
	if (argc >= 5 && argc <= 6 && strcmp(argv[1], "wait") == 0)
		return cmd_wait(argv[2], argv[3],
				peer_number(argv[4], 3600000, "milliseconds"),
				argc == 6 ? peer_number(argv[5], 1L << 30, "pid")
					  : 0);
	if (argc == 4 && strcmp(argv[1], "taken") == 0)
		return cmd_taken(argv[2], argv[3]);
	if (argc == 3 && strcmp(argv[1], "resolve") == 0)
		return cmd_resolve(argv[2]);
	return usage(stderr, 2);
}
