/* Hostile submission: dies of SIGSEGV.  Every test must say CRASH.
 *
 * Expect: CRASH +\[ 0/10\]
 * Expect: killed by SIGSEGV
 * Expect: Score: 0/100
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>

int main(int argc, char **argv)
{
	volatile int *nowhere = NULL;

	(void)argv;
	*nowhere = argc;
	return 0;
}
