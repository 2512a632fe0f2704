#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE		/* as the solution: the same macros, first */
#define _DARWIN_C_SOURCE
/*
 * request.c - a fuzz target for lab 04's request parser (make fuzz).
 *
 * It includes the reference solution itself (its main renamed), so it
 * fuzzes the very functions the server runs on every request: head_end()
 * finds the blank line, parse_request() checks the request line and the
 * header fields, url_decode() turns the target into a path.  Bytes from
 * the fuzzer play the part of whatever a client sends first.
 *
 * Besides the sanitizers' own checks (no read or write out of bounds, no
 * undefined behaviour), it checks what SPEC section 3 promises of them:
 *   - the head found lies inside the bytes received;
 *   - a request is answered 400, 501 or 505, or accepted (0);
 *   - an accepted target is a path ("/..."), visible ASCII, no longer
 *     than what was sent, with no query in the decoded path;
 *   - decoding answers 400 (bad "%", "%00") or gives a path as long or
 *     shorter, with no zero byte inside.
 * A broken promise aborts with a line saying which.
 *
 * Built by grader/tools/fuzz with clang -fsanitize=fuzzer,address,undefined;
 * without libFuzzer (Apple's clang) with fuzz.h's replaying main().
 */
#define FUZZ_NAME "request.c"
#include "fuzz.h"

/* has_encoded_qmark: whether S holds "%3f" (any case): a '?' that is
 * part of a file's name, not the start of a query. */
static int has_encoded_qmark(const char *s)
{
	for (; (s = strchr(s, '%')) != NULL; s++)
		if (s[1] == '3' && (s[2] == 'f' || s[2] == 'F'))
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[HEAD_MAX + 1];
	static struct request req;
	static char path[HEAD_MAX + 1];
	size_t n = size < HEAD_MAX ? size : HEAD_MAX, end, i, sent;
	int status;

	memcpy(buf, data, n);
	end = head_end(buf, n);
	if (end == 0)
		return 0;			/* no blank line: read on */
	if (end > n)
		BROKEN("head_end() says the head is %zu bytes; only %zu arrived", end, n);
	if (buf[end - 1] != '\n')
		BROKEN("head_end() ends the head at byte %zu, which is not a '\\n'", end);
	buf[end] = '\0';
	memset(&req, 0, sizeof req);
	status = parse_request(buf, &req);
	if (req.line_len > end)
		BROKEN("parse_request() says the request line is %zu bytes, in a head of %zu",
		       req.line_len, end);
	if (status != 0 && status != 400 && status != 501 && status != 505)
		BROKEN("parse_request() answered %d (expected 0, 400, 501 or 505)", status);
	if (status != 0)
		return 0;
	sent = strlen(req.target);
	if (req.target[0] != '/')
		BROKEN("an accepted target does not start with '/': \"%s\"", req.target);
	if (sent > req.line_len)
		BROKEN("the target (%zu bytes) is longer than the request line (%zu)",
		       sent, req.line_len);
	for (i = 0; i < sent; i++)
		if (req.target[i] <= ' ' || req.target[i] > '~')
			BROKEN("an accepted target holds byte 0x%02x at %zu",
			       (unsigned char)req.target[i], i);
	status = url_decode(req.target, path, sizeof path);
	if (status != 0 && status != 400)
		BROKEN("url_decode() answered %d (expected 0 or 400)", status);
	if (status == 0) {
		if (strlen(path) > sent)
			BROKEN("the decoded path is longer than the target \"%s\"", req.target);
		if (strchr(path, '?') != NULL && !has_encoded_qmark(req.target))
			BROKEN("the query is part of the decoded path \"%s\"", path);
	}
	return 0;
}
