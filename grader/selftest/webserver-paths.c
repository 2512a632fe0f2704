#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE		/* as the solution: the same macros, first */
#define _DARWIN_C_SOURCE
/*
 * webserver-paths.c - the table-driven test of lab 04's path check.
 *
 * It includes the reference solution itself (its main renamed), so it
 * tests the very functions the server runs: url_decode(), safe_path() and
 * open_target().  It builds a document root in a fresh temporary folder,
 * with a secret file outside it and symlinks that lead out and in, then
 * maps every target of the table the way the server does (decode, check,
 * open) and compares the status, and for a 0 the file's content.  The
 * secret must never be opened, whatever the case expects.
 *
 *	cc -std=c11 -Wall -Wextra -Wpedantic -Werror -pthread \
 *	    grader/selftest/webserver-paths.c -o build/selftest/webserver-paths
 *	build/selftest/webserver-paths
 *
 * One line a case, then "N of M path cases passed"; exit 0 only if all
 * passed, 1 if one failed, 2 if the test could not set itself up.
 */
#define main webserver_main
#include "../../solutions/04-webserver/webserver.c"
#undef main

#define SECRET	"TOP SECRET: never served"

/* One case: the target as a client sends it, the status the server must
 * answer (0: the file is served), and then the content it must serve. */
struct path_case {
	const char *target;
	int status;
	const char *content;
	const char *why;
};

static const struct path_case cases[] = {
	{ "/", 0, "INDEX", "the root serves its index.html" },
	{ "/index.html", 0, "INDEX", "a plain file" },
	{ "/a/b.txt", 0, "AB", "a file in a folder" },
	{ "/a/./b.txt", 0, "AB", "a \".\" segment is harmless" },
	{ "/a//b.txt", 0, "AB", "so is an empty segment" },
	{ "/a%20b.txt", 0, "SPACE", "%20 is a space in a name" },
	{ "/a/b.txt?x=/../../secret", 0, "AB", "the query is no part of the path" },
	{ "/a/b.txt#top", 0, "AB", "nor is a fragment" },
	{ "/docs", 301, NULL, "a folder without its '/': redirect" },
	{ "/docs/", 0, "DOCS", "a folder with its '/': its index.html" },
	{ "/docs/index.html", 0, "DOCS", "that index.html by name" },
	{ "/empty/", 404, NULL, "a folder without index.html" },
	{ "/missing.txt", 404, NULL, "a missing file" },
	{ "/index.html/", 404, NULL, "a file is no folder" },
	{ "/...", 404, NULL, "three dots are a name, not a way up" },
	{ "/../secret.txt", 403, NULL, "the plain way out" },
	{ "/a/../../secret.txt", 403, NULL, "out, from a folder" },
	{ "/a/b.txt/..", 403, NULL, "a \"..\" at the end" },
	{ "/%2e%2e/secret.txt", 403, NULL, "an encoded \"..\"" },
	{ "/%2E%2E%2Fsecret.txt", 403, NULL, "encoded dots and slash, capitals" },
	{ "/a/%2F../../secret.txt", 403, NULL, "an encoded '/' before \"..\"" },
	{ "/a/..%2F..%2Fsecret.txt", 403, NULL, "\"..\" then an encoded '/'" },
	{ "/..%5csecret.txt", 404, NULL, "a backslash is a name on POSIX" },
	{ "//etc/passwd", 404, NULL, "a double slash stays under the root" },
	{ "/x%00.html", 400, NULL, "%00 is refused" },
	{ "/index.html%00.png", 400, NULL, "%00 cannot cut a name short" },
	{ "/%zz", 400, NULL, "a bad escape" },
	{ "/a%4", 400, NULL, "an escape cut short" },
	{ "/link-out", 403, NULL, "a symlink to a file outside" },
	{ "/dir-out/secret.txt", 403, NULL, "through a symlink to a folder outside" },
	{ "/link-sibling", 403, NULL, "outside, in a folder whose name starts like the root's" },
	{ "/docs-out/", 403, NULL, "an index.html that is a symlink outside" },
	{ "/link-in", 0, "AB", "a symlink inside the root is fine" },
	{ "/fifo", 403, NULL, "a FIFO is no file to serve" },
	{ NULL, 414, NULL, "an overlong name (5000 bytes)" },	/* made below */
};

static char base[PATH_MAX];	/* the temporary folder */
static int failures;

/* at: the path of NAME under base, in PATH (PATH_MAX bytes); exit 2 if
 * it does not fit. */
static char *at(const char *name, char *path)
{
	if ((size_t)snprintf(path, PATH_MAX, "%s/%s", base, name) >= PATH_MAX) {
		fprintf(stderr, "%s/%s: too long\n", base, name);
		exit(2);
	}
	return path;
}

/* make: create the file NAME (under base) holding TEXT; exit 2 if not. */
static void make(const char *name, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	f = fopen(at(name, path), "w");
	if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0) {
		perror(path);
		exit(2);
	}
}

/* setup: run the shell-free equivalent of mkdir, ln -s and mkfifo for the
 * tree below; exit 2 on any failure. */
static void setup(void)
{
	static const char *dirs[] = { "root", "root/a", "root/docs",
		"root/empty", "root/docs-out", "root-evil" };
	static const char *links[][2] = {
		{ "../secret.txt", "root/link-out" },
		{ "..", "root/dir-out" },
		{ "../root-evil/secret.txt", "root/link-sibling" },
		{ "../../secret.txt", "root/docs-out/index.html" },
		{ "a/b.txt", "root/link-in" },
	};
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		if (mkdir(at(dirs[i], path), 0755) < 0) {
			perror(path);
			exit(2);
		}
	}
	make("secret.txt", SECRET);
	make("root-evil/secret.txt", SECRET);
	make("root/index.html", "INDEX");
	make("root/a/b.txt", "AB");
	make("root/a b.txt", "SPACE");
	make("root/docs/index.html", "DOCS");
	for (i = 0; i < sizeof links / sizeof links[0]; i++) {
		if (symlink(links[i][0], at(links[i][1], path)) < 0) {
			perror(path);
			exit(2);
		}
	}
	if (mkfifo(at("root/fifo", path), 0644) < 0) {
		perror(path);
		exit(2);
	}
}

/* map: what the server does with TARGET under ROOT: 0 with the file's
 * first bytes in GOT (SIZE bytes), or the status it answers. */
static int map(const char *root, const char *target, char *got, size_t size)
{
	char path[HEAD_MAX + 1];
	struct stat st;
	ssize_t n;
	int fd, status = url_decode(target, path, sizeof path);

	if (status == 0)
		status = open_target(root, path, &fd, &st);
	if (status != 0)
		return status;
	n = read(fd, got, size - 1);
	got[n > 0 ? n : 0] = '\0';
	close(fd);
	return 0;
}

/* check: run one case and print its line. */
static void check(const char *root, const struct path_case *c,
		  const char *target)
{
	char got[256] = "";
	int status = map(root, target, got, sizeof got);
	int ok = status == c->status &&
		 (status != 0 || strcmp(got, c->content) == 0) &&
		 strstr(got, "TOP SECRET") == NULL;

	printf("%s %-28.28s -> %3d  %s", ok ? "ok  " : "FAIL", target, status,
	       c->why);
	if (!ok)
		printf(" (expected %d%s%s, got \"%s\")", c->status,
		       c->content ? " with " : "", c->content ? c->content : "",
		       got);
	printf("\n");
	failures += !ok;
}

/* cleanup: remove the temporary tree (names as setup() made them). */
static void cleanup(void)
{
	static const char *names[] = { "root/fifo", "root/link-in",
		"root/docs-out/index.html", "root/link-sibling", "root/dir-out",
		"root/link-out", "root/docs/index.html", "root/a b.txt",
		"root/a/b.txt", "root/index.html", "root-evil/secret.txt",
		"secret.txt", "root-evil", "root/docs-out", "root/empty",
		"root/docs", "root/a", "root", "" };
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (unlink(at(names[i], path)) < 0)
			rmdir(path);
	}
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	char root[PATH_MAX], longname[5002], joined[PATH_MAX];
	size_t i, n = sizeof cases / sizeof cases[0];

	if ((size_t)snprintf(base, sizeof base, "%s/webserver-paths.XXXXXX",
			     tmp && *tmp ? tmp : "/tmp") >= sizeof base ||
	    mkdtemp(base) == NULL) {
		perror(base);
		return 2;
	}
	setup();
	/* The server checks against the root's real path (on macOS, /tmp
	 * is a symlink to /private/tmp): so does the test. */
	if (realpath(at("root", joined), root) == NULL) {
		perror(joined);
		cleanup();
		return 2;
	}
	longname[0] = '/';
	memset(longname + 1, 'a', sizeof longname - 2);
	longname[sizeof longname - 1] = '\0';
	for (i = 0; i < n; i++)
		check(root, &cases[i], cases[i].target ? cases[i].target : longname);
	/* safe_path's contract, called directly: the real path comes back. */
	{
		char out[PATH_MAX], want[PATH_MAX + 16];
		int ok = safe_path(root, "/a/./b.txt", out, sizeof out) == 0;

		snprintf(want, sizeof want, "%s/a/b.txt", root);
		ok = ok && strcmp(out, want) == 0;
		printf("%s safe_path(\"/a/./b.txt\") is ROOT/a/b.txt\n",
		       ok ? "ok  " : "FAIL");
		failures += !ok;
		ok = safe_path(root, "a/b.txt", out, sizeof out) == 403;
		printf("%s safe_path(\"a/b.txt\") without '/' is 403\n",
		       ok ? "ok  " : "FAIL");
		failures += !ok;
		n += 2;
	}
	cleanup();
	printf("%zu of %zu path cases passed\n", n - (size_t)failures, n);
	return failures == 0 ? 0 : 1;
}
