/*
 * fuzz.h - what lab 04's two fuzz targets share (request.c, path.c): the
 * reference solution included (its main renamed), BROKEN() for a broken
 * promise, and without libFuzzer (-DFUZZ_REPLAY) a main() that runs each
 * file named on its command line once, as libFuzzer would.
 *
 * A target defines FUZZ_NAME ("request.c") and, if it needs one, an
 * LLVMFuzzerInitialize(); FUZZ_HAS_INIT says it has.
 */
#ifndef WEBSERVER_C		/* another webserver.c: -DWEBSERVER_C='"path"' */
#define WEBSERVER_C "../../solutions/04-webserver/webserver.c"
#endif
#define main webserver_main
#include WEBSERVER_C
#undef main

#include <stdint.h>

#define BROKEN(...) broken(__LINE__, __VA_ARGS__)

/* broken: say which promise broke, at which line of the target; abort,
 * so that libFuzzer keeps the input. */
static void broken(int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fuzz %s:%d: ", FUZZ_NAME, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
#ifdef FUZZ_HAS_INIT
int LLVMFuzzerInitialize(int *argc, char ***argv);
#endif

#ifdef FUZZ_REPLAY
int main(int argc, char *argv[])
{
	static uint8_t data[1 << 20];
	int i;

#ifdef FUZZ_HAS_INIT
	LLVMFuzzerInitialize(&argc, &argv);
#endif
	for (i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		size_t n;

		if (f == NULL) {
			perror(argv[i]);
			return 2;
		}
		n = fread(data, 1, sizeof data, f);
		fclose(f);
		LLVMFuzzerTestOneInput(data, n);
	}
	printf("ran %d inputs\n", argc - 1);
	return 0;
}
#endif
