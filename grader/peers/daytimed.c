/*
 * daytimed - the grader's daytime server (RFC 867, in NIST's format).
 *
 *   daytimed [-a ADDR] [-p PORT] [-P PORTFILE] [-l SECONDS] [-L LOG]
 *            [-o OFFSET] [-H HEALTH] [-m MODE] [-d MS] [-k BYTES] [-w MS]
 *            [-t MS] [-z BYTES] [-T TEXT]... [-f FILE]
 *
 * Each connection gets one reply, then the server closes it, as NIST's
 * servers do:
 *
 *	\nJJJJJ YY-MM-DD HH:MM:SS TT L H msADV UTC(NIST) *\n
 *
 * with the time shifted OFFSET seconds (-o, may be negative) from this
 * machine's clock, so a client that prints a hard-coded or local time is
 * caught.  -H sets the health digit H (0 healthy).  -z pads the reply
 * with spaces before its last newline to BYTES bytes in all (a reply
 * that is still NIST's nine fields, but fills a client's 4 KiB buffer).
 *
 * MODE (-m) chooses how the reply goes out, or how the server misbehaves:
 *	nist	the whole reply in one send (default)
 *	drip	one byte at a time, MS apart (-d, default 15); with -t
 *		TOTAL, spread over TOTAL ms from the first byte to the last
 *	split	three pieces, MS apart, cut inside the time field
 *	stall	send the reply's first BYTES (-k, default 0: nothing) one
 *		at a time, MS apart, then hold the connection, silent,
 *		until the lifetime ends; with -w LATE, one more byte goes
 *		out LATE ms after the connection was accepted (a byte
 *		that comes just after a client's deadline)
 *	close	accept and close at once, without a reply
 *	text	send TEXT (-T) plus "\n" instead of a NIST reply, or the
 *		bytes of FILE (-f) as they are (sample-data/daytime/ has
 *		good and malformed replies); -T may be given several
 *		times: connection N gets the Nth TEXT (then the first again)
 *	flood	send one reply, pause 300 ms, then more replies up to
 *		100000 bytes in all, then close; the log shows the
 *		first reply as it goes out, when the pause ends, and
 *		how many bytes went out before the client hung up
 *
 * -a ADDR (default 127.0.0.1), -p PORT (default 0: any free port; the port
 * bound is written to -P PORTFILE), -l lifetime in seconds (default 30),
 * -L a log of every reply sent, including an "expect:" line with the date
 * and time a correct client prints.
 */
#define _POSIX_C_SOURCE 200809L

#include "peer.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_TEXTS 32
#define MAX_REPLY 65536		/* -z pads up to this */

struct options {
	const char *addr, *port, *portfile, *log, *mode, *file;
	const char *text[MAX_TEXTS];
	int ntexts;
	long offset, health, delay_ms, lifetime, stall_bytes, late_ms, pad,
	     total_ms;
};

static const char usage_line[] =
	"usage: daytimed [-a ADDR] [-p PORT] [-P PORTFILE] [-l SECONDS] "
	"[-L LOG]\n"
	"                [-o OFFSET] [-H HEALTH] [-m nist|drip|split|"
	"stall|close|text|flood]\n"
	"                [-d MS] [-t MS] [-k BYTES] [-w MS] [-z BYTES]\n"
	"                [-T TEXT]... [-f FILE]\n";

/* -h: every mode and option, a line each (students run this by hand). */
static void help(void)
{
	fputs(usage_line, stdout);
	fputs("A daytime server (RFC 867) in NIST's format, for lab 01: each "
	      "connection gets one\nreply, then the server closes it.\n"
	      "Options:\n"
	      "  -a ADDR     listen on this numeric address (default 127.0.0.1; "
	      "::1 for IPv6)\n"
	      "  -p PORT     listen on this port (default 0: any free port)\n"
	      "  -P FILE     write the port it listens on to FILE\n"
	      "  -l SECONDS  exit by itself after SECONDS (default 30, at most "
	      "3600)\n"
	      "  -L LOG      log every connection and every reply sent to LOG\n"
	      "  -o OFFSET   move the server's clock OFFSET seconds (may be "
	      "negative)\n"
	      "  -H HEALTH   the health digit H of the reply (0-9; 0 healthy)\n"
	      "  -m MODE     how the reply goes out (below; default nist)\n"
	      "  -d MS       milliseconds between pieces in drip, split and "
	      "stall (default 15)\n"
	      "  -t MS       drip: spread the reply over MS ms, first byte "
	      "to last (instead of -d)\n"
	      "  -k BYTES    stall: how many bytes of the reply go out before "
	      "it falls silent\n"
	      "  -w MS       stall: one more byte MS ms after the connection "
	      "was accepted\n"
	      "  -z BYTES    pad the NIST reply with spaces to BYTES bytes in "
	      "all (at most 65536)\n"
	      "  -T TEXT     send TEXT and a newline (text mode); repeat -T "
	      "for one TEXT per connection\n"
	      "  -f FILE     send FILE's bytes as they are (text mode) "
	      "(see sample-data/daytime/)\n"
	      "  -h          print this help\n"
	      "Modes:\n"
	      "  nist   the whole reply in one send (default)\n"
	      "  drip   one byte at a time, -d MS apart\n"
	      "  split  three pieces, -d MS apart, cut inside the time field\n"
	      "  stall  the first -k BYTES one at a time, then silence until "
	      "the lifetime ends\n"
	      "  close  accept and close at once, without a reply\n"
	      "  text   a reply of your own: -T TEXT or -f FILE\n"
	      "  flood  one reply, a 300 ms pause, then replies back to back "
	      "up to 100000 bytes\n", stdout);
	exit(0);
}

static void usage(void)
{
	fputs(usage_line, stderr);
	fputs("(daytimed -h explains each option and mode)\n", stderr);
	exit(2);
}

/* Format the NIST reply for this moment, shifted by OFFSET seconds; the
 * date and time a correct client prints go to EXPECT. */
static size_t nist_reply(const struct options *o, char *buf, size_t size,
			 char *expect, size_t esize)
{
	time_t t = time(NULL) + o->offset;
	struct tm tm;
	long mjd = (long)(t / 86400) + 40587;	/* 1970-01-01 is MJD 40587 */
	int adv = rand() % 10000;		/* msADV, tenths of a ms */
	int n;

	gmtime_r(&t, &tm);
	n = snprintf(buf, size,
		     "\n%05ld %02d-%02d-%02d %02d:%02d:%02d 00 0 %ld %d.%d "
		     "UTC(NIST) *\n",
		     mjd, tm.tm_year % 100, tm.tm_mon + 1, tm.tm_mday,
		     tm.tm_hour, tm.tm_min, tm.tm_sec, o->health, adv / 10,
		     adv % 10);
	if (n > 0 && o->pad > n && (size_t)o->pad < size) {
		/* spaces before the last newline: still nine fields */
		memset(buf + n - 1, ' ', (size_t)(o->pad - n));
		buf[o->pad - 1] = '\n';
		buf[o->pad] = '\0';
		n = (int)o->pad;
	}
	snprintf(expect, esize, "%04d-%02d-%02d %02d:%02d:%02d UTC",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec);
	return (size_t)n;
}

/* Answer one connection as MODE says (N counts connections from 0). */
static void serve(const struct options *o, int fd, unsigned long n)
{
	static char reply[MAX_REPLY + 1];
	char expect[64];
	size_t len;

	if (strcmp(o->mode, "close") == 0) {
		peer_log("closed without a reply");
		return;
	}
	if (strcmp(o->mode, "flood") == 0) {
		size_t sent = 0;
		len = nist_reply(o, reply, sizeof reply, expect, sizeof expect);
		/* One reply alone first, so the client's first recv() gets a
		 * short piece: a client that then asks recv() for a whole
		 * buffer at buf + len overflows it, and the test sees it. */
		if (peer_send_all(fd, reply, len) == 0)
			sent = len;
		/* logged as it goes out: a grader that stops the server
		 * while it pauses still knows what the client got */
		peer_log_bytes("flood of: ", reply, len, 200);
		peer_log("flood: the first reply sent (%zu bytes), pausing "
			 "300 ms", sent);
		peer_sleep_ms(300);
		peer_log("flood: the pause is over, the rest goes out");
		while (sent < 100000 && peer_send_all(fd, reply, len) == 0)
			sent += len;
		peer_log("flooded: sent %zu bytes, the reply %zu times%s", sent,
			 sent / len, sent < 100000 ? " (then the client hung up)"
			 : "");
		return;
	}
	if (strcmp(o->mode, "stall") == 0) {
		long long accepted = peer_now_ms();
		size_t all = nist_reply(o, reply, sizeof reply, expect,
					sizeof expect);
		len = (size_t)o->stall_bytes < all ? (size_t)o->stall_bytes : all;
		peer_send_slowly(fd, reply, len, 1, (int)o->delay_ms);
		peer_log_bytes("sent, then stalled: ", reply, len, 512);
		if (o->late_ms > 0 && len < all) {
			long long wait = accepted + o->late_ms - peer_now_ms();
			if (wait > 0)
				peer_sleep_ms((long)wait);
			if (peer_send_all(fd, reply + len, 1) == 0)
				peer_log_bytes("sent one more byte, late, then "
					       "stalled again: ", reply + len, 1,
					       1);
		}
		for (;;)
			peer_sleep_ms(1000);	/* until the lifetime ends */
	}
	if (strcmp(o->mode, "text") == 0 && o->file != NULL) {
		FILE *f = fopen(o->file, "rb");
		if (f == NULL) {
			peer_log("cannot open %s", o->file);
			return;
		}
		len = fread(reply, 1, 511, f);
		fclose(f);
		expect[0] = '\0';
	} else if (strcmp(o->mode, "text") == 0) {
		const char *text = o->ntexts > 0 ? o->text[n % (unsigned long)o->ntexts] : "";
		len = (size_t)snprintf(reply, 512, "%s\n", text);
		expect[0] = '\0';
	} else {
		len = nist_reply(o, reply, sizeof reply, expect, sizeof expect);
	}
	if (len >= sizeof reply)
		len = sizeof reply - 1;

	if (strcmp(o->mode, "drip") == 0 && o->total_ms > 0 && len > 1)
		peer_send_slowly(fd, reply, len, 1,
				 (int)(o->total_ms / (long)(len - 1)));
	else if (strcmp(o->mode, "drip") == 0)
		peer_send_slowly(fd, reply, len, 1, (int)o->delay_ms);
	else if (strcmp(o->mode, "split") == 0 && len > 29) {
		/* "\nJJJJJ YY-MM-DD HH:" | "MM:SS TT L" | the rest */
		peer_send_slowly(fd, reply, 19, 19, 0);
		peer_sleep_ms(o->delay_ms);
		peer_send_slowly(fd, reply + 19, 10, 10, 0);
		peer_sleep_ms(o->delay_ms);
		peer_send_all(fd, reply + 29, len - 29);
	} else
		peer_send_all(fd, reply, len);

	peer_log_bytes("sent: ", reply, len, len > 512 ? 120 : 512);
	if (expect[0] != '\0')
		peer_log("expect: %s", expect);
}

int main(int argc, char **argv)
{
	struct options o = { .addr = "127.0.0.1", .port = "0", .mode = "nist",
			     .delay_ms = 15, .lifetime = 30 };
	unsigned long served = 0;
	int opt, lfd;

	peer_init("daytimed");
	while ((opt = getopt(argc, argv, "a:p:P:l:L:o:H:m:d:t:k:w:z:T:f:h")) != -1) {
		switch (opt) {
		case 'a': o.addr = optarg; break;
		case 'p': o.port = optarg; break;
		case 'P': o.portfile = optarg; break;
		case 'l': o.lifetime = peer_number(optarg, 3600, "lifetime"); break;
		case 'L': o.log = optarg; break;
		case 'o': o.offset = strtol(optarg, NULL, 10); break;
		case 'H': o.health = peer_number(optarg, 9, "health"); break;
		case 'm': o.mode = optarg; break;
		case 'd': o.delay_ms = peer_number(optarg, 10000, "delay"); break;
		case 't': o.total_ms = peer_number(optarg, 60000, "total"); break;
		case 'k': o.stall_bytes = peer_number(optarg, 512, "bytes"); break;
		case 'w': o.late_ms = peer_number(optarg, 600000, "late"); break;
		case 'z': o.pad = peer_number(optarg, MAX_REPLY, "bytes"); break;
		case 'T':
			if (o.ntexts == MAX_TEXTS)
				peer_die("at most %d texts (-T)", MAX_TEXTS);
			o.text[o.ntexts++] = optarg;
			o.mode = "text";
			break;
		case 'f': o.file = optarg; o.mode = "text"; break;
		case 'h': help(); break;
		default: usage();
		}
	}
	if (optind != argc || strstr(" nist drip split stall close text flood ",
				     o.mode) == NULL || strchr(o.mode, ' '))
		usage();

	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	peer_set_lifetime((unsigned)o.lifetime);
	peer_log_open(o.log);
	lfd = peer_listen(o.addr, o.port, o.portfile);
	peer_log("listening on %s, offset %+ld s, mode %s", o.addr, o.offset,
		 o.mode);
	for (;;) {
		int fd = peer_accept(lfd);
		peer_log("connection accepted");
		serve(&o, fd, served++);
		close(fd);
	}
}
