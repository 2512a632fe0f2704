#define _POSIX_C_SOURCE 200809L
/* SOLUTION BEGIN */
/*
 * echoserver.c - lab 03 of socketlab, the annotated reference solution.
 * Students never see this file: they get labs/03-echoserver/starter.c,
 * which grader/tools/mkstarter makes from it by replacing the code between
 * the SOLUTION markers with the TODO(step N) text under each END marker.
 */
/* SOLUTION END, the starter has:
 *> /\*
 *>  * starter.c - lab 03 of socketlab: your TCP echo server.
 *>  * The boring parts are written: options, usage, error messages.  Fill in
 *>  * the TODO(step N) places in order; handouts/03-echoserver.md explains
 *>  * each step, and `make grade LAB=03` tells you how far you have got.
 *>  *\/
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
	/* A name can give several addresses ("localhost": ::1, 127.0.0.1). */
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		sockaddr_text(ai->ai_addr, ai->ai_addrlen, where, sizeof where);
		lfd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (lfd < 0) {
			warn("socket for %s:", where);
			continue;
		}
		/* Without it, a restarted server cannot bind its port for a
		 * minute or two, while old connections sit in TIME_WAIT. */
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
	 *> // TODO(step 1): fill a struct addrinfo of hints (AF_UNSPEC,
	 *> // SOCK_STREAM, AI_PASSIVE) and call getaddrinfo(3) for addr (not
	 *> // NULL: that means every address of the machine) and port (on
	 *> // failure: warn() with gai_strerror(3), return -1).  For
	 *> // each address it gives: socket(2), setsockopt(2) SO_REUSEADDR,
	 *> // bind(2), listen(2) with BACKLOG; keep the first socket that
	 *> // listens, close(2) the others.  Name the address in messages with sockaddr_text():
	 *> // warn("bind %s:", where).  Then freeaddrinfo(3).
	 *> (void)addr;
	 *> (void)port;
	 *> warn("step 1 is not written yet: no listening socket");
	 *> return -1;
	 */
}

/* print_ready: print "Server is ready on ADDR:PORT" on stdout, flushed,
 * for the listening socket LFD. */
static void print_ready(int lfd)
{
	/* Step 2: say that the server is ready (Python: print("Server is
	 * ready")), only now that it listens: a client that connects from
	 * now on is queued by the kernel until accept() takes it. */
	/* SOLUTION BEGIN */
	struct sockaddr_storage ss;	/* big enough for any address */
	socklen_t len = sizeof ss;
	char where[ADDR_TEXT];

	/* Ask the socket itself: with -p 0 only the kernel knows the port. */
	if (getsockname(lfd, (struct sockaddr *)&ss, &len) < 0)
		die("getsockname:");
	sockaddr_text((struct sockaddr *)&ss, len, where, sizeof where);
	printf("Server is ready on %s\n", where);
	/* stdout into a pipe or a file is block-buffered: without fflush
	 * the line waits in the buffer, and so does whoever waits for it. */
	fflush(stdout);
	/* SOLUTION END, the starter has:
	 *> // TODO(step 2): ask lfd which address and port it is bound to:
	 *> // getsockname(2) into a struct sockaddr_storage.  Turn that into
	 *> // text with sockaddr_text(), printf(3) "Server is ready on %s\n"
	 *> // and fflush(3) stdout.
	 *> (void)lfd;
	 *> warn("step 2 is not written yet: no ready line");
	 */
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
	/* SOLUTION BEGIN */
	cfd = accept(lfd, (struct sockaddr *)&ss, &len);
	if (cfd < 0) {
		int err = errno;
		struct timespec breather = { 0, 100 * 1000 * 1000 };

		if (err == EINTR)	/* a signal (a child ended): not an error */
			return -1;
		warn("accept:");
		/* ECONNABORTED: that client gave up, the next may be there.
		 * Anything else (EMFILE, ENFILE: out of descriptors; ENOBUFS,
		 * ENOMEM) fails again at once: pause 100 ms, not to spin. */
		if (err != ECONNABORTED)
			nanosleep(&breather, NULL);
		return -1;
	}
	/* SOLUTION END, the starter has:
	 *> // TODO(step 3): cfd = accept(2) the next connection on lfd, its
	 *> // address into ss and len.  If accept fails, return -1: at once
	 *> // and quietly after EINTR (a signal); after any other error,
	 *> // warn("accept:") first, and unless it was ECONNABORTED (that
	 *> // client gave up) nanosleep(2) 100 ms before returning: after
	 *> // EMFILE, ENFILE (out of descriptors) or ENOBUFS, trying again at
	 *> // once fails again.  Then delete this die().
	 *> (void)lfd;
	 *> die("step 3 is not written yet: nothing accepts connections");
	 */
	sockaddr_text((struct sockaddr *)&ss, len, peer, size);
	return cfd;
}

/* Step 4: echo every byte until the client closes.  Two functions: the
 * first sends a whole buffer, since one send() may take only part of it;
 * the second receives and sends back until recv() returns 0. */
/* SOLUTION BEGIN */
/* send_all: send all LEN bytes of BUF on FD, however many send() calls
 * that takes.  Returns 0, or -1 with errno set (EPIPE or ECONNRESET: the
 * client went away). */
static int send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, 0);

		if (n < 0) {
			if (errno == EINTR)	/* interrupted before sending */
				continue;	/* anything: just try again */
			return -1;
		}
		p += n;			/* send() may take fewer bytes */
		len -= (size_t)n;	/* than asked: send the rest */
	}
	return 0;
}
/* SOLUTION END, the starter has:
 *> // TODO(step 4): write send_all() here:
 *> //     static int send_all(int fd, const void *buf, size_t len)
 *> // sends all len bytes of buf, however many send(2) calls that takes
 *> // (send may take fewer bytes than asked), retrying when send fails
 *> // with EINTR.  Returns 0, or -1 when send fails otherwise.
 */

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
	/* SOLUTION BEGIN */
	char buf[BUF_SIZE];

	for (;;) {
		ssize_t n = recv(cfd, buf, sizeof buf, 0);

		if (n == 0)
			break;		/* end of stream: the client is done */
		if (n < 0) {
			if (errno == EINTR)
				continue;
			warn("recv from %s:", peer);	/* ECONNRESET... */
			break;
		}
		if (send_all(cfd, buf, (size_t)n) < 0) {
			warn("send to %s:", peer);	/* EPIPE, ECONNRESET */
			break;
		}
	}
	/* Nothing printed when a client ends well: this runs in the child
	 * (step 5), which has none of the parent's page mappings for
	 * printf's code and copies every page printf writes.  A "closed"
	 * line here cost a tenth of the server's time per connection
	 * (blast -c 5000, handout step 5). */
	/* SOLUTION END, the starter has:
	 *> // TODO(step 4): in a loop, recv(2) into a buffer (char
	 *> // buf[BUF_SIZE]); send back exactly the bytes received with
	 *> // send_all(); stop when recv returns 0.  When recv fails with
	 *> // EINTR, go round again; when it fails otherwise (ECONNRESET),
	 *> // warn("recv from %s:", peer) and stop; when send_all fails
	 *> // (EPIPE, ECONNRESET), warn("send to %s:", peer) and stop.
	 *> (void)cfd;
	 *> (void)peer;
	 */
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
/* SOLUTION BEGIN */
/* on_sigchld: reap every child that has exited, so that none stays a
 * zombie.  It can run between any two instructions of the server, so it
 * calls nothing but waitpid() (async-signal-safe) and keeps errno. */
static void on_sigchld(int sig)
{
	int saved = errno;

	(void)sig;
	/* A loop: children that end at the same moment may raise one
	 * signal for all.  WNOHANG: return as soon as none is left to reap;
	 * without it, waitpid() would wait here for the children still
	 * serving (an idle client's too), and nobody would be accepted. */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	errno = saved;
}
/* SOLUTION END, the starter has:
 *> // TODO(step 5): write a signal handler here,
 *> //     static void on_sigchld(int sig)
 *> // that reaps every child that has exited: waitpid(2) for any child
 *> // (-1) with WNOHANG (never wait here for a child still serving), in
 *> // a loop while it returns > 0 (one signal may stand for several
 *> // children).  Save errno on entry and restore it before returning.
 */

/* reap_children: have on_sigchld() run whenever a child process exits. */
static void reap_children(void)
{
	/* Step 5 (continued): install the SIGCHLD handler, once, in main. */
	/* SOLUTION BEGIN */
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sigchld;
	sigemptyset(&sa.sa_mask);
	/* SA_RESTART: a call the signal interrupts (accept, recv, send)
	 * carries on rather than failing with EINTR. */
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGCHLD, &sa, NULL) < 0)
		die("sigaction SIGCHLD:");
	/* SOLUTION END, the starter has:
	 *> // TODO(step 5): install on_sigchld() as the handler of SIGCHLD:
	 *> // sigaction(2), with the SA_RESTART flag and an empty sa_mask
	 *> // (sigemptyset(3)).
	 */
}

/* serve_client: echo to CFD (from PEER) in a child process of its own,
 * so that the parent can accept the next client at once.  Returns in the
 * parent, with its copy of CFD closed; the child never returns. */
static void serve_client(int lfd, int cfd, const char *peer)
{
	/* Step 5 (continued): fork() a child for this client. */
	/* SOLUTION BEGIN */
	pid_t pid = fork();

	if (pid < 0) {
		warn("fork for %s:", peer);	/* too many processes? */
		close(cfd);			/* drop this client only */
		return;
	}
	if (pid == 0) {
		/* The child: serves this one client, then exits.  _exit(),
		 * not return: returning, it would go back to the parent's
		 * accept loop and live on, a stray server with no listener.
		 * And not exit(): that would also flush the stdio buffers
		 * copied from the parent (a line printed but not yet flushed
		 * would come out twice) and run its atexit() handlers; _exit()
		 * only ends the process, touching fewer pages of the parent's
		 * that the child would have to copy (handout step 5). */
		close(lfd);		/* only the parent accepts */
		echo_client(cfd, peer);
		close(cfd);		/* the client sees end of stream */
		_exit(EXIT_SUCCESS);
	}
	/* The parent: says who came, now that the child is at work (the
	 * line printed before fork() held up every client's first echo: a
	 * tenth fewer connections a second, handout step 5).  The child
	 * has its own copy of the connection: close ours, or descriptors
	 * run out after a few hundred clients, and the connection stays
	 * open after the child has closed its copy. */
	fprintf(stderr, "connection from %s\n", peer);
	close(cfd);
	/* SOLUTION END, the starter has:
	 *> // TODO(step 5): fork(2).  In the child: close(2) lfd (only the
	 *> // parent accepts), echo_client(), close cfd, _exit(2) (not return:
	 *> // that would take the child back into the accept loop).  In the
	 *> // parent: print the "connection from" line below, close cfd (the
	 *> // child has its own copy) and return.  If fork fails, warn(),
	 *> // close cfd and return.  For now, one client at a time, as the
	 *> // lecture's TCPServer does:
	 *> (void)lfd;
	 *> fprintf(stderr, "connection from %s\n", peer);
	 *> echo_client(cfd, peer);
	 *> close(cfd);
	 */
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
