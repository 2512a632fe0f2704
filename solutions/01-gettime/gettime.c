#define _POSIX_C_SOURCE 200809L
/* SOLUTION BEGIN */
/*
 * gettime.c - ask a time server for the precise time (lab 01, reference).
 *
 *   gettime [HOST [PORT]]        defaults: time.nist.gov, port 13
 *
 * A daytime server (RFC 867) sends one line of text and closes the
 * connection; there is nothing to send.  NIST's servers use this format:
 *
 *   JJJJJ YY-MM-DD HH:MM:SS TT L H msADV UTC(NIST) OTM
 *   61370 26-11-26 04:12:56 00 0 0 50.0 UTC(NIST) *
 *
 * gettime prints the server's date and time and how far this machine's
 * clock is from it:
 *
 *   2026-11-26 04:12:56 UTC
 *   local clock offset: +42 s
 *
 * The lecture's gettime.py does the same in a few lines; each step below
 * is one of those lines, done the way a C program must do it:
 *
 *   Python (gettime.py)                 C (this file)
 *   ----------------------------------  ------------------------------------
 *   s.connect(('time.nist.gov', 13))    Step 1  getaddrinfo(): the name's
 *     (connect resolves the name)               addresses, IPv4 and IPv6
 *   s = socket(); s.connect(...)        Step 2  socket() + connect() for each
 *                                               address until one answers
 *   data = s.recv(1024)                 Step 3  recv() in a loop until the
 *                                               server closes, with a deadline
 *   data.decode().split()               Step 4  check every field of the line
 *   print(...)                          Step 5  the offset, then two lines out
 *
 * Build: cc -std=c11 -Wall -Wextra -o gettime gettime.c
 * Try:   ./gettime        ./gettime time-a-g.nist.gov
 */
/* SOLUTION END, the starter has:
 *> /\*
 *>  * gettime.c - ask a time server for the precise time (lab 01).
 *>  *
 *>  *   gettime [HOST [PORT]]        defaults: time.nist.gov, port 13
 *>  *
 *>  * Your lab: fill in the five TODO(step N) places below, in order; the
 *>  * handout (handouts/01-gettime.md) has a section for each step.  The
 *>  * rest (arguments, messages, printing) is done for you.
 *>  *
 *>  * Build: make            (or: cc -std=c11 -Wall -Wextra -o gettime starter.c)
 *>  * Run:   ./build/labs/01-gettime/gettime 127.0.0.1 1313
 *>  * Grade: make grade LAB=01
 *>  *\/
 */

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_HOST "time.nist.gov"
#define DEFAULT_PORT "13"		/* daytime, RFC 867 */
#define REPLY_MAX 4096			/* a NIST reply is about 50 bytes */
#define DEADLINE_MS 10000		/* the whole reply within 10 s */
#define MJD_UNIX_EPOCH 40587		/* 1970-01-01 as a Modified Julian Day */

/* One NIST reply, its fields as numbers. */
struct nist_time {
	long mjd;			/* days since 1858-11-17 */
	int year, month, day;		/* year in full, from the MJD */
	int hour, minute, second;
	int health;			/* 0: healthy; else the time may be off */
};

static void usage(FILE *out)
{
	fprintf(out, "usage: gettime [HOST [PORT]]\n"
		     "Ask a daytime server (default %s, port %s) for the time\n"
		     "and print it with this machine's clock offset.\n",
		DEFAULT_HOST, DEFAULT_PORT);
}

/* Milliseconds on a clock that never jumps (unlike time()). */
static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * open_client()
 * Returns a socket connected to HOST:PORT, trying every address the name
 * has; -1 (after printing why) if none answers.
 */
static int open_client(const char *host, const char *port)
{
	/* Step 1: resolve the host name into a list of addresses.  Python's
	 * connect() does this for you; in C, getaddrinfo() returns a linked
	 * list (IPv6 and IPv4 alike) that you must free with freeaddrinfo(). */
	/* SOLUTION BEGIN */
	struct addrinfo hints, *list, *ai;
	int fd = -1, err, saved = 0;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;		/* IPv4 or IPv6, whatever works */
	hints.ai_socktype = SOCK_STREAM;	/* TCP */
	err = getaddrinfo(host, port, &hints, &list);
	if (err != 0) {
		fprintf(stderr, "gettime: cannot resolve %s port %s: %s\n", host,
			port, gai_strerror(err));
		return -1;
	}
	/* SOLUTION END, the starter has:
	 *> // TODO(step 1): fill a struct addrinfo of hints (all zero, then
	 *> // ai_family = AF_UNSPEC, ai_socktype = SOCK_STREAM) and call
	 *> // getaddrinfo(host, port, &hints, &list).  On failure print
	 *> // "gettime: cannot resolve HOST port PORT: " and gai_strerror()'s
	 *> // text, and return -1.  Look up: getaddrinfo(3), gai_strerror(3).
	 */

	/* Step 2: try each address in turn until one accepts.  A name may
	 * have several (an IPv6 and an IPv4 one, or many servers); the first
	 * may be unreachable from here. */
	/* SOLUTION BEGIN */
	for (ai = list; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;			/* connected */
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(list);
	if (fd < 0)
		fprintf(stderr, "gettime: cannot connect to %s port %s: %s\n",
			host, port, strerror(saved));
	return fd;
	/* SOLUTION END, the starter has:
	 *> // TODO(step 2): walk the list: socket() then connect() for each
	 *> // address; keep the first socket that connects, close the others
	 *> // (a socket() that returns -1 is a failure too: go on to the next).
	 *> // Save errno right after the call that failed, before close().
	 *> // freeaddrinfo() the list.  If none connects, print
	 *> // "gettime: cannot connect to HOST port PORT: " and strerror() of
	 *> // the last failure's errno, and return -1.
	 *> // Look up: socket(2), connect(2), close(2), freeaddrinfo(3).
	 *> // Then delete the stub lines below.
	 *> (void)host;
	 *> (void)port;
	 *> fprintf(stderr, "gettime: open_client() is not written yet (steps 1-2)\n");
	 *> return -1;
	 */
}

/*
 * read_reply()
 * Reads what the server sends into buf until it closes the connection,
 * waiting DEADLINE_MS in all.  Returns the number of bytes read, or -1
 * with errno set: ETIMEDOUT (deadline passed), EMSGSIZE (the reply fills
 * buf: too long for a daytime reply), or recv's own error.  buf ends
 * with a '\0'.
 */
static ssize_t read_reply(int fd, char *buf, size_t size)
{
	/* Step 3: read until recv() returns 0 (the server closed).  One
	 * recv() is not enough: TCP delivers a byte stream, and the reply
	 * may arrive in several pieces.  The deadline is fixed once, before
	 * the loop: each poll() waits only for the time that is left, so
	 * neither a silent server nor a slow trickle can keep us longer. */
	/* SOLUTION BEGIN */
	long long deadline = now_ms() + DEADLINE_MS;
	size_t len = 0;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long long left = deadline - now_ms();
		int ready;
		ssize_t n;

		if (left <= 0) {		/* poll(-1) would wait forever */
			errno = ETIMEDOUT;
			return -1;
		}
		ready = poll(&pfd, 1, (int)left);
		if (ready < 0 && errno == EINTR)
			continue;		/* a signal: just wait again */
		if (ready < 0)
			return -1;
		if (ready == 0) {		/* nothing more before the deadline */
			errno = ETIMEDOUT;
			return -1;
		}
		if (len == size - 1) {		/* full, and the server goes on */
			errno = EMSGSIZE;
			return -1;
		}
		n = recv(fd, buf + len, size - 1 - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;			/* end of stream: the whole reply */
		len += (size_t)n;
	}
	buf[len] = '\0';
	return (ssize_t)len;
	/* SOLUTION END, the starter has:
	 *> // TODO(step 3): fix the deadline once, before the loop:
	 *> //     long long deadline = now_ms() + DEADLINE_MS;
	 *> // then loop: left = deadline - now_ms(); left <= 0 means time is up
	 *> // (never give poll() a negative timeout: it would wait forever);
	 *> // else poll() the socket for POLLIN for left milliseconds; recv()
	 *> // into buf + len, at most size - 1 - len bytes; stop only when
	 *> // recv() returns 0.  Retry both calls on EINTR.
	 *> // Time up (left <= 0, or poll() returned 0): errno = ETIMEDOUT,
	 *> // return -1.
	 *> // buf already full (len == size - 1): errno = EMSGSIZE, return -1.
	 *> // Finish with buf[len] = '\0' and return len.
	 *> // Look up: poll(2), recv(2).  Then delete the stub lines below.
	 *> (void)fd;
	 *> (void)size;
	 *> (void)now_ms;	// (no warning about an unused now_ms meanwhile)
	 *> buf[0] = '\0';
	 *> fprintf(stderr, "gettime: read_reply() is not written yet (step 3)\n");
	 *> errno = ENOSYS;
	 *> return -1;
	 */
}

/* The date of Modified Julian Day MJD (the proleptic Gregorian calendar). */
static void date_from_mjd(long mjd, int *year, int *month, int *day)
{
	/* Howard Hinnant's days-to-civil algorithm, from 0000-03-01. */
	long z = mjd + 678881;		/* MJD 0 is 1858-11-17 */
	long era = (z >= 0 ? z : z - 146096) / 146097;
	long doe = z - era * 146097;					/* [0, 146096] */
	long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);		/* [0, 365] */
	long mp = (5 * doy + 2) / 153;					/* March = 0 */

	*day = (int)(doy - (153 * mp + 2) / 5 + 1);
	*month = (int)(mp < 10 ? mp + 3 : mp - 9);
	*year = (int)(yoe + era * 400 + (*month <= 2));
}

/* True if TEXT has exactly SHAPE's form: '9' in SHAPE stands for any
 * digit, every other character for itself ("99-99-99" fits "26-11-26"). */
static int has_shape(const char *text, const char *shape)
{
	for (; *shape != '\0'; text++, shape++) {
		if (*shape == '9' ? !isdigit((unsigned char)*text) : *text != *shape)
			return 0;
	}
	return *text == '\0';
}

/* The number written by the N digits at TEXT. */
static int digits(const char *text, int n)
{
	int value = 0;

	while (n-- > 0)
		value = value * 10 + (*text++ - '0');
	return value;
}

/*
 * parse_nist()
 * Checks that REPLY is one NIST daytime line and fills *t from it.
 * Returns 0, or -1 with a short reason in *why.
 */
static int parse_nist(char *reply, struct nist_time *t, const char **why)
{
	/* Step 4: split the line into its fields and check each one, so
	 * that a reply in any other format is refused, not misread.
	 *
	 *   "\n61370 26-11-26 04:12:56 00 0 0 50.0 UTC(NIST) *\n"
	 *      |     |        |        |  | | |    |         '- OTM
	 *      mjd   date     time     TT L H msADV label
	 */
	/* SOLUTION BEGIN */
	char *field[10], *save;
	const char *frac;
	int n = 0, year, adv_ok;

	for (char *f = strtok_r(reply, " \t\r\n", &save); f != NULL;
	     f = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == 10)
			break;		/* a tenth field: too many, no need for more */
		field[n++] = f;
	}
	if (n != 9) {
		*why = "not the 9 fields of NIST's format";
		return -1;
	}
	/* msADV is a number: digits, then maybe a '.' and more digits */
	frac = field[6] + strspn(field[6], "0123456789");
	adv_ok = frac > field[6] &&
		 (*frac == '\0' || (frac[0] == '.' && frac[1] != '\0' &&
				    strspn(frac + 1, "0123456789") == strlen(frac + 1)));
	if (!has_shape(field[0], "99999") || !has_shape(field[1], "99-99-99") ||
	    !has_shape(field[2], "99:99:99") || !has_shape(field[3], "99") ||
	    !has_shape(field[4], "9") || !has_shape(field[5], "9") ||
	    !adv_ok ||
	    strcmp(field[7], "UTC(NIST)") != 0 ||
	    (strcmp(field[8], "*") != 0 && strcmp(field[8], "#") != 0)) {
		*why = "a field does not have NIST's form";
		return -1;
	}
	t->mjd = digits(field[0], 5);
	t->hour = digits(field[2], 2);
	t->minute = digits(field[2] + 3, 2);
	t->second = digits(field[2] + 6, 2);
	t->health = digits(field[5], 1);
	if (t->hour > 23 || t->minute > 59 || t->second > 60) {	/* 60: leap */
		*why = "the time is out of range";
		return -1;
	}
	/* The line gives the year in two digits; the MJD gives the whole
	 * date, so use it, and refuse a reply where the two disagree. */
	date_from_mjd(t->mjd, &t->year, &t->month, &t->day);
	year = digits(field[1], 2);
	if (year != t->year % 100 || digits(field[1] + 3, 2) != t->month ||
	    digits(field[1] + 6, 2) != t->day) {
		*why = "the date does not match the day number (MJD)";
		return -1;
	}
	return 0;
	/* SOLUTION END, the starter has:
	 *> // TODO(step 4): split reply into fields (strtok_r on " \t\r\n"); there
	 *> // must be exactly 9.  Check each field's form (has_shape() helps:
	 *> // "99999", "99-99-99", "99:99:99", ...; msADV digits, maybe a '.' and
	 *> // digits; then exactly "UTC(NIST)" and exactly "*" or "#"), convert
	 *> // with digits(), check the ranges, and take the full year from the
	 *> // MJD with date_from_mjd() (all of YY-MM-DD must agree with it).
	 *> // Fill every field of *t: mjd, year, month, day, hour, minute,
	 *> // second, health.  On any problem set *why to a short reason and
	 *> // return -1.  Then delete the stub lines below.
	 *> (void)reply;
	 *> (void)t;
	 *> (void)has_shape;
	 *> (void)digits;
	 *> (void)date_from_mjd;
	 *> *why = "parse_nist() is not written yet (step 4)";
	 *> return -1;
	 */
}

/* Print the reply for a human: one line, control bytes as \r \n \xNN. */
static void show_reply(const char *reply, size_t len)
{
	fputs("  \"", stderr);
	for (size_t i = 0; i < len && i < 200; i++) {
		unsigned char c = (unsigned char)reply[i];
		if (c == '\n')
			fputs("\\n", stderr);
		else if (c == '\r')
			fputs("\\r", stderr);
		else if (isprint(c))
			fputc(c, stderr);
		else
			fprintf(stderr, "\\x%02x", c);
	}
	fputs(len > 200 ? "\"...\n" : "\"\n", stderr);
}

int main(int argc, char **argv)
{
	const char *host = DEFAULT_HOST, *port = DEFAULT_PORT;
	char reply[REPLY_MAX], copy[REPLY_MAX];
	struct nist_time t;
	const char *why = NULL;
	ssize_t len;
	long offset;
	int fd, opt;

	while ((opt = getopt(argc, argv, "h")) != -1) {
		if (opt == 'h') {
			usage(stdout);
			return 0;
		}
		usage(stderr);
		return 2;
	}
	if (argc - optind > 2) {
		usage(stderr);
		return 2;
	}
	if (optind < argc)
		host = argv[optind];
	if (optind + 1 < argc)
		port = argv[optind + 1];

	fd = open_client(host, port);
	if (fd < 0)
		return 1;
	len = read_reply(fd, reply, sizeof reply);
	if (len < 0) {
		if (errno == ETIMEDOUT)
			fprintf(stderr, "gettime: reading from %s: no complete "
				"reply within %d s\n", host, DEADLINE_MS / 1000);
		else if (errno == EMSGSIZE)
			fprintf(stderr, "gettime: reading from %s: more than %d "
				"bytes, too long for a daytime reply\n", host,
				REPLY_MAX - 1);
		else
			fprintf(stderr, "gettime: reading from %s: %s\n", host,
				strerror(errno));
		close(fd);
		return 1;
	}
	close(fd);
	if (len == 0) {
		fprintf(stderr, "gettime: %s closed the connection without "
			"sending the time\n", host);
		return 1;
	}

	memcpy(copy, reply, (size_t)len + 1);	/* parsing cuts reply up */
	if (parse_nist(reply, &t, &why) < 0) {
		fprintf(stderr, "gettime: %s: not a NIST daytime reply (%s); it "
			"sent %zd bytes:\n", host, why, len);
		show_reply(copy, (size_t)len);
		return 1;
	}
	if (t.health != 0)
		fprintf(stderr, "gettime: warning: %s reports health %d: its "
			"time may be off\n", host, t.health);

	/* Step 5: the offset is the server's time minus ours, in seconds.
	 * The MJD counts days, so the server's time as seconds since 1970
	 * is simple arithmetic (no time zone, no mktime). */
	/* SOLUTION BEGIN */
	long long server = (long long)(t.mjd - MJD_UNIX_EPOCH) * 86400 +
			   t.hour * 3600 + t.minute * 60 + t.second;
	offset = (long)(server - (long long)time(NULL));
	/* SOLUTION END, the starter has:
	 *> // TODO(step 5): compute the server's time in seconds since 1970 from
	 *> // t.mjd (MJD_UNIX_EPOCH is 1970-01-01) and t.hour/minute/second,
	 *> // then offset = server time - time(NULL).  Look up: time(2).
	 *> offset = 0;
	 */

	printf("%04d-%02d-%02d %02d:%02d:%02d UTC\n", t.year, t.month, t.day,
	       t.hour, t.minute, t.second);
	printf("local clock offset: %+ld s\n", offset);
	return 0;
}
