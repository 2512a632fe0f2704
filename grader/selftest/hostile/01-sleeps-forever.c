/* Hostile submission: never finishes.  Every test must end in TIME.
 *
 * Expect: TIME +\[ 0/10\]
 * Expect: Score: 0/100
 */
#define _POSIX_C_SOURCE 200809L
#include <unistd.h>

int main(void)
{
	for (;;)
		pause();
}
