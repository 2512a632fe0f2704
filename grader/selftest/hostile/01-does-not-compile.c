/* Hostile submission: a syntax error.  It must score 0 and show the
 * compiler's message.
 *
 * Expect: does not compile
 * Expect: Score: 0/100
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>

int main(void)
{
	printf("the time is\n")
	return 0;
}
