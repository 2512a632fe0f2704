/*
 * peer.h - what every grader peer shares.
 *
 * The grader's peers (daytimed, httpd, tcpclient, ...) are small C
 * programs that play the other end of a student's program and misbehave
 * on purpose.  They all follow one mould:
 *
 *   - options parsed with getopt; a usage line on bad options, exit 2;
 *   - a lifetime cap (-l SECONDS) after which the peer exits by itself,
 *     so a peer can never outlive the test that started it;
 *   - servers bind an ephemeral port on a loopback address and write the
 *     port they got to a file (-P FILE), atomically, so the grader never
 *     races for a free port and never reads half a number;
 *   - a log (-L FILE) of what was sent and received, one line per event,
 *     for the grader's failure messages;
 *   - data derived from a seed (peer_fill), so a student's program cannot
 *     hard-code an answer and the grader can regenerate the same bytes
 *     (`datagen SEED LENGTH`).
 *
 * peer.c holds the code; every peer links it.
 */
#ifndef PEER_H
#define PEER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* Remember the program's name for messages, ignore SIGPIPE. */
void peer_init(const char *name);

/* Print "NAME: message[: strerror(errno)]" to stderr and exit(2).
 * A message ending in ':' gets errno's text appended, as in suckless. */
void peer_die(const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 1, 2), noreturn))
#endif
	;

/* Exit by itself after SECONDS (0: never).  Uses alarm(). */
void peer_set_lifetime(unsigned seconds);

/* Parse a non-negative decimal number of at most MAX, or die naming WHAT. */
long peer_number(const char *text, long max, const char *what);

/* Listen on HOST (a numeric loopback address), port PORT ("0" for any
 * free port).  Returns the listening socket; the port actually bound is
 * written to PORTFILE (if not NULL) atomically.  Dies on failure. */
int peer_listen(const char *host, const char *port, const char *portfile);

/* Accept one connection on LFD, retrying on EINTR.  Returns the socket. */
int peer_accept(int lfd);

/* Connect to HOST:PORT (numeric), giving up after TIMEOUT_MS.
 * Returns the connected socket, or -1 with errno set. */
int peer_connect(const char *host, const char *port, int timeout_ms);

/* Send all LEN bytes of BUF.  Returns 0, or -1 if the peer went away. */
int peer_send_all(int fd, const void *buf, size_t len);

/* Send BUF in pieces of CHUNK bytes with DELAY_MS between them. */
int peer_send_slowly(int fd, const void *buf, size_t len, size_t chunk,
		     int delay_ms);

/* Sleep for MS milliseconds (restarting after signals). */
void peer_sleep_ms(long ms);

/* Milliseconds on a monotonic clock. */
long long peer_now_ms(void);

/* Fill BUF with LEN bytes of the stream defined by SEED, starting at
 * stream offset OFFSET.  Any slice of the stream can be regenerated. */
void peer_fill(unsigned char *buf, size_t len, uint64_t seed, uint64_t offset);

/* Open the log file PATH for appending (NULL: no log). */
void peer_log_open(const char *path);

/* Append one line to the log, with a timestamp in ms since start. */
void peer_log(const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 1, 2)))
#endif
	;

/* Write LEN bytes to the log as a printable, escaped string (\r, \n,
 * \xNN), at most MAX bytes of it, after PREFIX. */
void peer_log_bytes(const char *prefix, const void *buf, size_t len,
		    size_t max);

#endif
