#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE		/* as the solution: the same macros, first */
#define _DARWIN_C_SOURCE
/*
 * path.c - a fuzz target for lab 04's path check (make fuzz).
 *
 * It includes the reference solution itself (its main renamed) and runs,
 * on every input, what the server does with a request's target: decode
 * it (url_decode), check where it leads (safe_path), open what it names
 * (open_target).  The document root is built once, in a fresh temporary
 * folder, with traps around it:
 *
 *	TOP/secret.txt                 outside the root: must never open
 *	TOP/www-secret/s.txt, index.html   a sibling whose name starts like
 *	                               the root's ("www" is a prefix of it)
 *	TOP/www/index.html, a/b.txt    the files that may be served
 *	TOP/www/link-out -> ../secret.txt       symlinks leading out
 *	TOP/www/dir-out  -> ..
 *	TOP/www/sib      -> ../www-secret
 *	TOP/www/link-in  -> a/b.txt             and one leading in
 *
 * Besides the sanitizers' checks, it checks the promise of SPEC section 3,
 * "no request ever reads outside DOCROOT": whenever open_target() opens a
 * file, that file (by device and inode) is one of the root's own; the
 * status is one the server may answer; no descriptor is left open when
 * it refuses.  A broken promise aborts with a line saying which.
 */
#define FUZZ_NAME "path.c"
#define FUZZ_HAS_INIT
#include "fuzz.h"

static char top[PATH_MAX], root[PATH_MAX];
static struct stat inside[3];		/* index.html, a/b.txt, a/index.html */
static int n_inside;

/* make: create TOP/NAME as a folder (CONTENT NULL), a file, or a symlink
 * to TARGET. */
static void make(const char *name, const char *content, const char *target)
{
	char p[PATH_MAX];
	int fd;

	if ((size_t)snprintf(p, sizeof p, "%s/%s", top, name) >= sizeof p)
		BROKEN("%s/%s: too long", top, name);
	if (target != NULL) {
		if (symlink(target, p) < 0)
			BROKEN("symlink %s: %s", p, strerror(errno));
	} else if (content == NULL) {
		if (mkdir(p, 0755) < 0)
			BROKEN("mkdir %s: %s", p, strerror(errno));
	} else {
		fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || write(fd, content, strlen(content)) < 0)
			BROKEN("write %s: %s", p, strerror(errno));
		close(fd);
	}
}

static void remove_site(void)
{
	static const char *names[] = {
		"www/link-in", "www/sib", "www/dir-out", "www/link-out",
		"www/a/index.html", "www/a/b.txt", "www/a", "www/index.html",
		"www-secret/index.html", "www-secret/s.txt", "www-secret", "www",
		"secret.txt", NULL
	};
	char p[PATH_MAX];
	int i;

	for (i = 0; names[i] != NULL; i++) {
		if ((size_t)snprintf(p, sizeof p, "%s/%s", top, names[i]) >= sizeof p)
			continue;
		if (unlink(p) < 0)
			rmdir(p);
	}
	rmdir(top);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *served[] = { "www/index.html", "www/a/b.txt", "www/a/index.html" };
	const char *tmp = getenv("TMPDIR");
	char p[PATH_MAX];
	int i;

	(void)argc;
	(void)argv;
	snprintf(top, sizeof top, "%s/socketlab-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(top) == NULL)
		BROKEN("mkdtemp %s: %s", top, strerror(errno));
	atexit(remove_site);
	make("secret.txt", "TOP SECRET", NULL);
	make("www-secret", NULL, NULL);
	make("www-secret/s.txt", "SIBLING SECRET", NULL);
	make("www-secret/index.html", "SIBLING INDEX", NULL);
	make("www", NULL, NULL);
	make("www/index.html", "INDEX", NULL);
	make("www/a", NULL, NULL);
	make("www/a/b.txt", "AB", NULL);
	make("www/a/index.html", "A INDEX", NULL);
	make("www/link-out", NULL, "../secret.txt");
	make("www/dir-out", NULL, "..");
	make("www/sib", NULL, "../www-secret");
	make("www/link-in", NULL, "a/b.txt");
	if ((size_t)snprintf(p, sizeof p, "%s/www", top) >= sizeof p || realpath(p, root) == NULL)
		BROKEN("realpath %s: %s", p, strerror(errno));
	for (i = 0; i < 3; i++) {
		if ((size_t)snprintf(p, sizeof p, "%s/%s", top, served[i]) >= sizeof p ||
		    stat(p, &inside[n_inside++]) < 0)
			BROKEN("stat %s: %s", p, strerror(errno));
	}
	return 0;
}

/* lowest_free_fd: the descriptor open() would return next. */
static int lowest_free_fd(void)
{
	int fd = dup(0), d = fd;

	if (fd < 0)
		BROKEN("dup: %s", strerror(errno));
	close(d);
	return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char target[HEAD_MAX + 1], path[HEAD_MAX + 1];
	struct stat st;
	int status, fd = -1, before, i, known = 0;

	/* the target as parse_request() leaves it: "/", then visible ASCII */
	size = size < HEAD_MAX - 1 ? size : HEAD_MAX - 1;
	target[0] = '/';
	for (i = 0; i < (int)size; i++)
		target[i + 1] = (char)(data[i] > ' ' && data[i] <= '~' ? data[i] : '/');
	target[size + 1] = '\0';
	if (url_decode(target, path, sizeof path) != 0)
		return 0;			/* 400: nothing is opened */
	if (path[0] != '/')
		return 0;
	before = lowest_free_fd();
	status = open_target(root, path, &fd, &st);
	switch (status) {
	case 0:
		for (i = 0; i < n_inside; i++)
			if (st.st_dev == inside[i].st_dev && st.st_ino == inside[i].st_ino)
				known = 1;
		if (!known)
			BROKEN("\"%s\" (decoded \"%s\") opened a file that is not one of the root's own",
			       target, path);
		close(fd);
		break;
	case 301: case 403: case 404: case 414: case 503:
		if (lowest_free_fd() != before)
			BROKEN("\"%s\" was refused (%d) and left a descriptor open", target, status);
		break;
	default:
		BROKEN("open_target(\"%s\") answered %d (expected 0, 301, 403, 404, 414 or 503)",
		       path, status);
	}
	return 0;
}
