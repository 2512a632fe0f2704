/* Hostile submission: prints 100 MB to stdout and exits 0.  The grader
 * must stop it at its output cap and not fill the disk with evidence.
 *
 * Expect: wrote more than 32 MiB
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

int main(void)
{
	static char line[1000];

	memset(line, 'x', sizeof line - 1);
	line[sizeof line - 2] = '\n';
	for (int i = 0; i < 100000; i++)
		fputs(line, stdout);
	return 0;
}
