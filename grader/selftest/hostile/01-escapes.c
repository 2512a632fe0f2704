/* Hostile submission: leaves a child behind that calls setsid() (leaving
 * the grader's process group), ignores SIGTERM and sleeps forever, while
 * the parent exits at once.  Nothing may be left running after grading.
 *
 * Expect: FAIL +\[ 0/10\]
 */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <unistd.h>

int main(void)
{
	if (fork() == 0) {
		setsid();
		signal(SIGTERM, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		for (;;)
			pause();
	}
	return 0;
}
