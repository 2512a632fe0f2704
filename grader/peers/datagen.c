/*
 * datagen - write the bytes a grader peer derives from a seed.
 *
 *   datagen SEED LENGTH
 *
 * Writes LENGTH bytes of the stream peer_fill(SEED) to stdout: exactly the
 * body `httpd -s SEED -n LENGTH` serves, so a test can compare what a
 * student's program saved with `cmp` (datagen 81731 4096 > expected).
 * Exit status: 0 written, 1 stdout failed, 2 bad usage.
 */
#define _POSIX_C_SOURCE 200809L

#include "peer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *out)
{
	fprintf(out, "usage: datagen SEED LENGTH\n"
		     "Write LENGTH bytes of the seeded stream (peer_fill) to "
		     "stdout.\n");
}

int main(int argc, char **argv)
{
	unsigned char buf[64 * 1024];
	uint64_t seed, offset = 0;
	long long left;

	peer_init("datagen");
	if (argc == 2 && strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (argc != 3) {
		usage(stderr);
		return 2;
	}
	seed = (uint64_t)peer_number(argv[1], 2147483647L, "seed");
	left = peer_number(argv[2], 2147483647L, "length");

	while (left > 0) {
		size_t n = left < (long long)sizeof buf ? (size_t)left : sizeof buf;
		const unsigned char *p = buf;
		size_t todo = n;

		peer_fill(buf, n, seed, offset);
		while (todo > 0) {
			ssize_t w = write(STDOUT_FILENO, p, todo);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				fprintf(stderr, "datagen: writing: %s\n",
					strerror(errno));
				return 1;
			}
			p += w;
			todo -= (size_t)w;
		}
		offset += n;
		left -= (long long)n;
	}
	return 0;
}
