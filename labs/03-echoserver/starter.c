#define _POSIX_C_SOURCE 200809L
/*
 * starter.c - lab 03 of socketlab: your TCP echo server.
 * The boring parts are written: options, usage, error messages.  Fill in
 * the TODO(step N) places in order; handouts/03-echoserver.md explains
 * each step, and `make grade LAB=03` tells you how far you have got.
 */
/*
 * echoserver - a TCP echo server (RFC 862): every byte a client sends comes
 * straight back to it, in order, until the client closes its side of the
 * connection; then the server closes the connection too.  Any number of
 * clients at once, any data (text or binary), any size.
 *
 *	usage: echoserver [-a ADDR] [-p PORT]
 *
 *	cc -std=c11 -Wall -Wextra -g echoserver.c -o echoserver
 *	./echoserver                   listen on 127.0.0.1 port 9000
 *	./echoserver -a ::1 -p 9001    IPv6 loopback, another port
 *	nc 127.0.0.1 9000              (another terminal) type; see it echoed
 *
 * The lecture's Python server, and where each line went:
 *
 *	Python (lecture 23)                C (this file)
 *	---------------------------------  ---------------------------------
 *	TCPServer(('localhost', 9000),     Step 1  open_listener():
 *	          EchoHandler)                     getaddrinfo, socket,
 *	                                           SO_REUSEADDR, bind, listen
 *	print("Server is ready")           Step 2  print_ready(), only once
 *	                                           listening, then fflush
 *	echoServer.serve_forever()         Step 3  serve_forever() and
 *	                                           accept_client(): accept
 *	self.request.recv(1024)            Step 4  echo_client(): recv in a
 *	                                           loop until it returns 0
 *	self.request.send(...)             Step 4  send_all(): send until
 *	                                           every byte has gone
 *	handle() returns: connection       Step 4  close() once recv says
 *	closed                                     the client is done
 *	(one client at a time)             Step 5  serve_client(): one child
 *	                                           process per client
 *
 * Two differences from the lecture, on purpose.  Its handler reads one
 * recv(1024) and hangs up: a longer message is cut at 1024 bytes, a second
 * message is never answered.  Here each connection is echoed until the
 * client closes.  And TCPServer serves one client at a time: a client
 * that connects and says nothing (an idle telnet) blocks everybody else.
 * Here each client gets a process of its own (step 5).
 */

#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROGRAM		"echoserver"
#define DEFAULT_ADDR	"127.0.0.1"	/* the lecture's 'localhost' */
#define DEFAULT_PORT	"9000"
#define BACKLOG		128	/* connections the kernel queues for accept:
				 * with 5, as Python's TCPServer, a burst of
				 * clients waits for its turn to connect */
#define BUF_SIZE	65536	/* bytes echoed per recv() at most: fewer calls */
#define ADDR_TEXT	128	/* room for "[IPv6-address%scope]:port" */

/* usage: print how to run the program on OUT. */
static void usage(FILE *out)
{
	fprintf(out,
		"usage: %s [-a ADDR] [-p PORT]\n"
		"A TCP echo server: every client gets back what it sends.\n"
		"  -a ADDR  address to listen on (default %s; 0.0.0.0 or ::\n"
		"           for every address of this machine)\n"
		"  -p PORT  port to listen on (default %s; 0: any free port)\n"
		"  -h       show this help\n",
		PROGRAM, DEFAULT_ADDR, DEFAULT_PORT);
}

/* vwarn: print "echoserver: MESSAGE" on stderr; a FMT ending in ':' gets
 * errno's text appended.  errno is left as it was. */
static void vwarn(const char *fmt, va_list ap)
{
	int saved = errno;
	char msg[512];

	vsnprintf(msg, sizeof msg, fmt, ap);
	/* The whole line in one fprintf: on unbuffered stderr that is one
	 * write, so lines from several processes do not get mixed up. */
	if (fmt[0] != '\0' && fmt[strlen(fmt) - 1] == ':')
		fprintf(stderr, "%s: %s %s\n", PROGRAM, msg, strerror(saved));
	else
		fprintf(stderr, "%s: %s\n", PROGRAM, msg);
	errno = saved;
}

/* warn: report a failure and go on, as printf: warn("recv from %s:", p). */
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

/* valid_port: 1 if TEXT is a port number, 0 to 65535 in decimal, else 0. */
static int valid_port(const char *text)
{
	char *end;
	long n;

	if (text[0] < '0' || text[0] > '9')	/* strtol takes " 9", "-9" */
		return 0;
	errno = 0;
	n = strtol(text, &end, 10);
	return errno == 0 && *end == '\0' && n <= 65535;
}

/* sockaddr_text: write SA (LEN bytes) into BUF as "127.0.0.1:9000", or
 * "[::1]:9000" for IPv6; "?" if it cannot be named.  BUF always ends
 * in '\0'. */
static void sockaddr_text(const struct sockaddr *sa, socklen_t len,
			  char *buf, size_t size)
{
	char host[96], port[16];

	/* NUMERIC: digits only, never a DNS lookup that could take seconds. */
	if (getnameinfo(sa, len, host, sizeof host, port, sizeof port,
			NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		snprintf(buf, size, "?");
	else if (sa->sa_family == AF_INET6)	/* "::1:9000" would be unclear */
		snprintf(buf, size, "[%s]:%s", host, port);
	else
		snprintf(buf, size, "%s:%s", host, port);
}

/* open_listener: a TCP socket listening on ADDR port PORT, ready for
 * accept().  Returns it, or -1 after saying why on stderr. */
static int open_listener(const char *addr, const char *port)
{
	/* Step 1: open the listening socket (Python: TCPServer((ADDR, PORT),
	 * ...)).  getaddrinfo() turns ADDR and PORT into socket addresses,
	 * IPv4 or IPv6; take the first one on which socket(), setsockopt()
	 * with SO_REUSEADDR, bind() and listen() all succeed. */
	// TODO(step 1): fill a struct addrinfo of hints (AF_UNSPEC,
	// SOCK_STREAM, AI_PASSIVE) and call getaddrinfo(3) for addr (not
	// NULL: that means every address of the machine) and port (on
	// failure: warn() with gai_strerror(3), return -1).  For
	// each address it gives: socket(2), setsockopt(2) SO_REUSEADDR,
	// bind(2), listen(2) with BACKLOG; keep the first socket that
	// listens, close(2) the others.  Name the address in messages with sockaddr_text():
	// warn("bind %s:", where).  Then freeaddrinfo(3).
	(void)addr;
	(void)port;
	warn("step 1 is not written yet: no listening socket");
	return -1;
}

/* print_ready: print "Server is ready on ADDR:PORT" on stdout, flushed,
 * for the listening socket LFD. */
static void print_ready(int lfd)
{
	/* Step 2: say that the server is ready (Python: print("Server is
	 * ready")), only now that it listens: a client that connects from
	 * now on is queued by the kernel until accept() takes it. */
	// TODO(step 2): ask lfd which address and port it is bound to:
	// getsockname(2) into a struct sockaddr_storage.  Turn that into
	// text with sockaddr_text(), printf(3) "Server is ready on %s\n"
	// and fflush(3) stdout.
	(void)lfd;
	warn("step 2 is not written yet: no ready line");
}

/* accept_client: wait for the next connection on LFD and write its
 * address into PEER (SIZE bytes).  Returns the connected socket, or -1
 * when accept() failed (said on stderr; the caller just tries again). */
static int accept_client(int lfd, char *peer, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	int cfd;

	/* Step 3: accept the next client (Python: serve_forever() does it
	 * for you).  accept() waits for a connection and returns a new
	 * socket for it; the listening socket stays open for the next one.
	 * A failed accept() is no reason to stop serving: return -1, and the
	 * loop in serve_forever() tries again. */
	// TODO(step 3): cfd = accept(2) the next connection on lfd, its
	// address into ss and len.  If accept fails, return -1: at once
	// and quietly after EINTR (a signal); after any other error,
	// warn("accept:") first, and unless it was ECONNABORTED (that
	// client gave up) nanosleep(2) 100 ms before returning: after
	// EMFILE, ENFILE (out of descriptors) or ENOBUFS, trying again at
	// once fails again.  Then delete this die().
	(void)lfd;
	die("step 3 is not written yet: nothing accepts connections");
	sockaddr_text((struct sockaddr *)&ss, len, peer, size);
	return cfd;
}

/* Step 4: echo every byte until the client closes.  Two functions: the
 * first sends a whole buffer, since one send() may take only part of it;
 * the second receives and sends back until recv() returns 0. */
// TODO(step 4): write send_all() here:
//     static int send_all(int fd, const void *buf, size_t len)
// sends all len bytes of buf, however many send(2) calls that takes
// (send may take fewer bytes than asked), retrying when send fails
// with EINTR.  Returns 0, or -1 when send fails otherwise.

/* echo_client: send back on CFD every byte that arrives on it, until the
 * client closes its side; then return (the caller closes CFD).  PEER
 * names the client in messages. */
static void echo_client(int cfd, const char *peer)
{
	/* Step 4 (continued): recv() returns what has arrived so far, from
	 * 1 byte up to the buffer's size, and 0 only when the client has
	 * closed its side.  So: receive and send back, again and again,
	 * until recv() returns 0.  An error (the client vanished) ends this
	 * client only. */
	// TODO(step 4): in a loop, recv(2) into a buffer (char
	// buf[BUF_SIZE]); send back exactly the bytes received with
	// send_all(); stop when recv returns 0.  When recv fails with
	// EINTR, go round again; when it fails otherwise (ECONNRESET),
	// warn("recv from %s:", peer) and stop; when send_all fails
	// (EPIPE, ECONNRESET), warn("send to %s:", peer) and stop.
	(void)cfd;
	(void)peer;
}

/* Step 5: serve many clients at once.  While echo_client() waits in
 * recv() for an idle client, nobody accepts anybody else.  So each client
 * gets a process of its own: fork() copies the server, the child echoes
 * that one client and exits, the parent goes straight back to accept().
 * Why processes and not threads: each child runs the same short, blocking
 * echo loop you wrote in step 4, with nothing shared to lock and no way
 * for one client's crash to take down the others.  A process is dearer
 * than a thread, but an echo server never has thousands of them.  A
 * child that has exited stays a zombie until its parent collects its exit
 * status with waitpid(); the handler you write below does that. */
// TODO(step 5): write a signal handler here,
//     static void on_sigchld(int sig)
// that reaps every child that has exited: waitpid(2) for any child
// (-1) with WNOHANG (never wait here for a child still serving), in
// a loop while it returns > 0 (one signal may stand for several
// children).  Save errno on entry and restore it before returning.

/* reap_children: have on_sigchld() run whenever a child process exits. */
static void reap_children(void)
{
	/* Step 5 (continued): install the SIGCHLD handler, once, in main. */
	// TODO(step 5): install on_sigchld() as the handler of SIGCHLD:
	// sigaction(2), with the SA_RESTART flag and an empty sa_mask
	// (sigemptyset(3)).
}

/* serve_client: echo to CFD (from PEER) in a child process of its own,
 * so that the parent can accept the next client at once.  Returns in the
 * parent, with its copy of CFD closed; the child never returns. */
static void serve_client(int lfd, int cfd, const char *peer)
{
	/* Step 5 (continued): fork() a child for this client. */
	// TODO(step 5): fork(2).  In the child: close(2) lfd (only the
	// parent accepts), echo_client(), close cfd, _exit(2) (not return:
	// that would take the child back into the accept loop).  In the
	// parent: print the "connection from" line below, close cfd (the
	// child has its own copy) and return.  If fork fails, warn(),
	// close cfd and return.  For now, one client at a time, as the
	// lecture's TCPServer does:
	(void)lfd;
	fprintf(stderr, "connection from %s\n", peer);
	echo_client(cfd, peer);
	close(cfd);
}

/* serve_forever: the accept loop (Python: serve_forever()): take the next
 * client, hand it to serve_client(), and again.  Never returns. */
static void serve_forever(int lfd)
{
	for (;;) {
		char peer[ADDR_TEXT];
		int cfd = accept_client(lfd, peer, sizeof peer);

		if (cfd >= 0)
			serve_client(lfd, cfd, peer);
	}
}

int main(int argc, char *argv[])
{
	const char *addr = DEFAULT_ADDR;
	const char *port = DEFAULT_PORT;
	int opt, lfd;

	while ((opt = getopt(argc, argv, "a:p:h")) != -1) {
		switch (opt) {
		case 'a':
			addr = optarg;
			break;
		case 'p':
			if (!valid_port(optarg)) {
				warn("bad port '%s': 0 to 65535", optarg);
				usage(stderr);
				return 2;
			}
			port = optarg;
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

	/* Sending to a client that has vanished raises SIGPIPE, and its
	 * default action kills the whole server.  Ignored, send() fails
	 * with EPIPE instead, and only that client is dropped. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		die("signal SIGPIPE:");
	reap_children();			/* step 5 */

	lfd = open_listener(addr, port);	/* step 1 */
	if (lfd < 0)
		return 1;
	print_ready(lfd);			/* step 2 */
	serve_forever(lfd);			/* steps 3 to 5 */
	return 0;				/* not reached */
}
