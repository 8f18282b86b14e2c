/*
 * test_body.c -- the streamed MIME walker: part headers and their depth,
 * the nesting limit, the smuggling shape, the scan limit, and the same
 * calls whatever the chunking
 *
 * Every handler call is written to a log, one line per call:
 *   H<depth> <name>:<value, escaped> [<value_len>/<total>]
 *   N<depth>   S<offset>   L<offset>
 * and tests compare the whole log.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/body.h"
#include "core/esc.h"
#include "core/mime.h"
#include "tu.h"

#define LOG_MAX 65536

struct log {
	char s[LOG_MAX];
	size_t len;
};

static void log_add(struct log *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
log_add(struct log *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(l->s + l->len, LOG_MAX - l->len, fmt, ap);
	va_end(ap);
	ck_assert_msg(n >= 0 && (size_t)n < LOG_MAX - l->len, "log overflow");
	l->len += (size_t)n;
}

static void
on_part_header(void *arg, const char *name, size_t name_len, const char *value,
	       size_t value_len, size_t value_total, unsigned depth,
	       const struct mime_ct *ct)
{
	char esc[4 * BODY_FIELD_KEEP + 1];

	esc_bytes(value, value_len, esc, sizeof(esc), NULL);
	log_add(arg, "H%u %.*s:%s [%zu/%zu]\n", depth, (int)name_len, name, esc,
		value_len, value_total);
}

static void
on_nesting(void *arg, unsigned depth)
{
	log_add(arg, "N%u\n", depth);
}

static void
on_smuggling(void *arg, size_t offset)
{
	log_add(arg, "S%zu\n", offset);
}

static void
on_scan_limit(void *arg, size_t offset)
{
	log_add(arg, "L%zu\n", offset);
}

static const struct body_handler recorder = {
	on_part_header, on_nesting, on_smuggling, on_scan_limit,
};

/* The message's Content-Type, or NULL if ct is NULL. */
static const struct mime_ct *
message_ct(const char *ct, struct mime_ct *buf)
{
	if (ct == NULL)
		return NULL;
	mime_parse_content_type(ct, strlen(ct), buf);
	return buf;
}

/* Walk body in chunks of at most step bytes (0: one chunk), first cutting
   it at split (if not 0); log the calls. */
static void
walk(const char *ct, const char *body, size_t len, size_t split, size_t step,
     unsigned max_depth, size_t limit, struct log *l, struct body_ctx *b)
{
	struct mime_ct mct;
	size_t pos = 0;

	l->len = 0;
	l->s[0] = '\0';
	body_init(b, message_ct(ct, &mct), max_depth, limit);
	if (split != 0) {
		body_feed(b, body, split, &recorder, l);
		pos = split;
	}
	while (pos < len) {
		size_t n = (step == 0 || len - pos < step) ? len - pos : step;

		body_feed(b, body + pos, n, &recorder, l);
		pos += n;
	}
	body_finish(b, &recorder, l);
}

static struct body_ctx ctx;	/* 25 KB: not on the stack of a test */
static struct log got, want;

static const char nested_ct[] = " multipart/mixed; boundary=\"outer\"";
static const char nested[] =
	"preamble\r\n"
	"--outer\r\n"
	"Content-Type: text/plain; charset=us-ascii\r\n"
	"\r\n"
	"hello\r\n"
	"--outer  \r\n"
	"Content-Type: multipart/alternative;\r\n"
	" boundary=\"inner\"\r\n"
	"\r\n"
	"--inner\r\n"
	"Content-Type: text/plain\r\n"
	"\r\n"
	"--inner is not a boundary here\r\n"
	"--inner\r\n"
	"content-type:text/html\r\n"
	"X-Folded: a\r\n"
	"\tb\r\n"
	"  c\r\n"
	"\r\n"
	"<p>html</p>\r\n"
	"--inner--\r\n"
	"--outer\r\n"
	"Content-Type: message/rfc822\r\n"
	"\r\n"
	"From: a@example.com\r\n"
	"Subject: inner\r\n"
	"Content-Type: multipart/mixed; boundary=deep\r\n"
	"\r\n"
	"--deep\r\n"
	"Content-Type: text/plain\r\n"
	"\r\n"
	"x\r\n"
	"--deep--\r\n"
	"--outer--\r\n"
	"epilogue\r\n";
static const char nested_log[] =
	"H1 Content-Type: text/plain; charset=us-ascii [29/29]\n"
	"H1 Content-Type: multipart/alternative;\\x0a boundary=\"inner\" [41/41]\n"
	"H2 Content-Type: text/plain [11/11]\n"
	"H2 content-type:text/html [9/9]\n"
	"H2 X-Folded: a\\x0a\\x09b\\x0a  c [9/9]\n"
	"H1 Content-Type: message/rfc822 [15/15]\n"
	"H2 From: a@example.com [14/14]\n"
	"H2 Subject: inner [6/6]\n"
	"H2 Content-Type: multipart/mixed; boundary=deep [31/31]\n"
	"H3 Content-Type: text/plain [11/11]\n";

START_TEST(reports_part_headers_of_nested_multiparts_with_their_depth)
{
	walk(nested_ct, nested, sizeof(nested) - 1, 0, 0, 20, 0, &got, &ctx);
	ck_assert_str_eq(got.s, nested_log);
	ck_assert_uint_eq(body_max_depth_seen(&ctx), 3);
	ck_assert_uint_eq(body_parts(&ctx), 6);
	ck_assert_uint_eq(body_scanned(&ctx), sizeof(nested) - 1);
	ck_assert(!body_truncated(&ctx));
}
END_TEST

/* Records which part fields come with the walker's Content-Type parse. */
static void
on_part_header_ct(void *arg, const char *name, size_t name_len, const char *value,
		  size_t value_len, size_t value_total, unsigned depth,
		  const struct mime_ct *ct)
{
	struct mime_ct fresh;

	if (ct == NULL) {
		log_add(arg, "%.*s -\n", (int)name_len, name);
		return;
	}
	mime_parse_content_type(value, value_len, &fresh);
	ck_assert_str_eq(ct->type, fresh.type);
	ck_assert_str_eq(ct->subtype, fresh.subtype);
	ck_assert_uint_eq(ct->boundary_len, fresh.boundary_len);
	ck_assert_uint_eq(ct->params, fresh.params);
	log_add(arg, "%.*s %s/%s\n", (int)name_len, name, ct->type, ct->subtype);
}

START_TEST(hands_the_first_content_type_of_each_part_parsed)
{
	static const struct body_handler h = { on_part_header_ct, NULL, NULL, NULL };
	static const char body[] =
		"--b\r\n"
		"Content-Type: text/plain; charset=utf-8\r\n"
		"Content-Disposition: inline\r\n"
		"Content-Type: text/html\r\n"
		"\r\nx\r\n"
		"--b\r\n"
		"content-TYPE: multipart/alternative; boundary=c\r\n"
		"\r\n"
		"--c\r\n"
		"Content-Type: image/png\r\n"
		"\r\ny\r\n"
		"--c--\r\n"
		"--b--\r\n";
	struct mime_ct mct;

	got.len = 0;
	got.s[0] = '\0';
	body_init(&ctx, message_ct(" multipart/mixed; boundary=b", &mct), 20, 0);
	body_feed(&ctx, body, sizeof(body) - 1, &h, &got);
	body_finish(&ctx, &h, &got);
	ck_assert_str_eq(got.s, "Content-Type text/plain\n"
			 "Content-Disposition -\n"
			 "Content-Type -\n"	/* the second one is not the part's */
			 "content-TYPE multipart/alternative\n"
			 "Content-Type image/png\n");
}
END_TEST

START_TEST(reads_bare_lf_lines_like_crlf_lines)
{
	char lf[sizeof(nested)];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(nested) - 1; i++)
		if (nested[i] != '\r')
			lf[n++] = nested[i];
	walk(nested_ct, lf, n, 0, 0, 20, 0, &got, &ctx);
	ck_assert_str_eq(got.s, nested_log);
}
END_TEST

START_TEST(looks_into_nothing_when_the_message_is_not_multipart)
{
	static const char body[] = "--outer\r\nContent-Type: text/plain\r\n\r\nx\r\n";

	walk(NULL, body, sizeof(body) - 1, 0, 0, 20, 0, &got, &ctx);
	ck_assert_str_eq(got.s, "");
	walk(" text/plain; boundary=outer", body, sizeof(body) - 1, 0, 0, 20, 0,
	     &got, &ctx);
	ck_assert_str_eq(got.s, "");
	ck_assert_uint_eq(body_max_depth_seen(&ctx), 0);
}
END_TEST

START_TEST(reads_digest_parts_as_messages)
{
	static const char body[] =
		"--d\r\n"
		"\r\n"
		"Subject: one\r\n"
		"\r\n"
		"text\r\n"
		"--d\r\n"
		"Content-Type: text/plain\r\n"
		"\r\n"
		"Subject: not a header\r\n"
		"--d--\r\n";

	walk("multipart/digest; boundary=d", body, sizeof(body) - 1, 0, 0, 20, 0,
	     &got, &ctx);
	ck_assert_str_eq(got.s,
			 "H2 Subject: one [4/4]\n"
			 "H1 Content-Type: text/plain [11/11]\n");
}
END_TEST

START_TEST(ends_a_part_header_at_a_line_that_is_no_field)
{
	static const char body[] =
		"--b\r\n"
		"Content-Type: text/plain\r\n"
		"this is body\r\n"
		"Content-Type: multipart/mixed; boundary=x\r\n"
		"\r\n"
		"--b\r\n"
		" leading blank\r\n"
		"X-After: no\r\n"
		"--b\r\n"
		"X-Empty-Part: yes\r\n"
		"--b\r\n"
		"Name With Space: no\r\n"
		"--b--\r\n";

	walk("multipart/mixed; boundary=b", body, sizeof(body) - 1, 0, 0, 20, 0,
	     &got, &ctx);
	ck_assert_str_eq(got.s,
			 "H1 Content-Type: text/plain [11/11]\n"
			 "H1 X-Empty-Part: yes [4/4]\n");
	ck_assert_uint_eq(body_max_depth_seen(&ctx), 1);
}
END_TEST

START_TEST(matches_boundaries_exactly_with_transport_padding_only)
{
	static const char body[] =
		"--bb\r\nX-A: 1\r\n\r\n"
		"--bbb\r\nX-B: 2\r\n\r\n"	/* another boundary */
		"--bb x\r\nX-C: 3\r\n\r\n"	/* text after it */
		"--bb-\r\nX-D: 4\r\n\r\n"
		"--bb\t \t\r\nX-E: 5\r\n\r\n"	/* padding */
		"--bb--  \r\nX-F: 6\r\n\r\n"	/* close, then epilogue */
		"--bb\r\nX-G: 7\r\n\r\n";	/* bb is closed */

	walk("multipart/mixed; boundary=bb", body, sizeof(body) - 1, 0, 0, 20, 0,
	     &got, &ctx);
	ck_assert_str_eq(got.s, "H1 X-A: 1 [2/2]\nH1 X-E: 5 [2/2]\n");
	ck_assert_uint_eq(body_parts(&ctx), 2);
}
END_TEST

START_TEST(lets_an_outer_delimiter_end_the_parts_nested_in_it)
{
	static const char body[] =
		"--o\r\n"
		"Content-Type: multipart/mixed; boundary=i\r\n"
		"\r\n"
		"--i\r\n"
		"X-In: 1\r\n"
		"\r\n"
		"--o\r\n"		/* no --i-- before it */
		"X-Out: 2\r\n"
		"\r\n"
		"--i\r\n"		/* i is gone */
		"X-Gone: 3\r\n"
		"\r\n"
		"--o--\r\n";

	walk("multipart/mixed; boundary=o", body, sizeof(body) - 1, 0, 0, 20, 0,
	     &got, &ctx);
	ck_assert_str_eq(got.s,
			 "H1 Content-Type: multipart/mixed; boundary=i [28/28]\n"
			 "H2 X-In: 1 [2/2]\n"
			 "H1 X-Out: 2 [2/2]\n");
}
END_TEST

START_TEST(caps_a_part_header_value_and_gives_its_full_length)
{
	static char body[3 * BODY_FIELD_KEEP];
	char want_line[64];
	size_t n = 0;

	n += (size_t)sprintf(body + n, "--b\r\nX-Long: ");
	memset(body + n, 'v', 2 * BODY_FIELD_KEEP);
	n += 2 * BODY_FIELD_KEEP;
	n += (size_t)sprintf(body + n, "\r\n\r\n--b--\r\n");
	walk("multipart/mixed; boundary=b", body, n, 0, 0, 20, 0, &got, &ctx);
	snprintf(want_line, sizeof(want_line), " [%d/%d]\n", BODY_FIELD_KEEP,
		 2 * BODY_FIELD_KEEP + 1);
	ck_assert(strncmp(got.s, "H1 X-Long: vvv", 14) == 0);
	ck_assert_str_eq(got.s + 11 + BODY_FIELD_KEEP - 1, want_line);
}
END_TEST

/* n nested multiparts, boundaries b1..bn, each with one part. */
static size_t
deep_message(char *buf, size_t size, int n)
{
	size_t len = 0;

	for (int i = 1; i < n; i++)
		len += (size_t)snprintf(buf + len, size - len,
					"--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n",
					i, i + 1);
	len += (size_t)snprintf(buf + len, size - len,
				"--b%d\r\nContent-Type: text/plain\r\n\r\nbottom\r\n--b%d--\r\n",
				n, n);
	for (int i = n - 1; i >= 1; i--)
		len += (size_t)snprintf(buf + len, size - len, "--b%d--\r\n", i);
	return len;
}

/* A part header field name is kept to BODY_NAME_KEEP bytes, whatever the
   chunking; a name ends at ':' or a blank. */
START_TEST(caps_a_part_header_name_at_every_split_point)
{
	static char body[BODY_NAME_KEEP + 200];
	char want_line[BODY_NAME_KEEP + 64];
	size_t n = 0;

	n += (size_t)sprintf(body + n, "--b\r\n");
	memset(body + n, 'N', BODY_NAME_KEEP + 44);
	n += BODY_NAME_KEEP + 44;
	n += (size_t)sprintf(body + n, ": v\r\nX-B : w\r\nX-C\t:x\r\n\r\n--b--\r\n");
	snprintf(want_line, sizeof(want_line), "H1 %.*s: v [2/2]\nH1 X-B: w [2/2]\nH1 X-C:x [1/1]\n",
		 BODY_NAME_KEEP, body + 5);
	for (size_t split = 0; split < n; split++) {
		walk("multipart/mixed; boundary=b", body, n, split, split == 0 ? 0 : 3,
		     20, 0, &got, &ctx);
		ck_assert_msg(strcmp(got.s, want_line) == 0, "split at %zu: got %s",
			      split, got.s);
	}
}
END_TEST

START_TEST(calls_nesting_once_past_the_depth_limit)
{
	static char body[16384];
	size_t len = deep_message(body, sizeof(body), 25);

	walk("multipart/mixed; boundary=b1", body, len, 0, 0, 20, 0, &got, &ctx);
	want.len = 0;
	for (int i = 1; i <= 20; i++)
		log_add(&want, "H%d Content-Type: multipart/mixed; boundary=b%d [%d/%d]\n",
			i, i + 1, i < 9 ? 29 : 30, i < 9 ? 29 : 30);
	log_add(&want, "N21\n");
	ck_assert_str_eq(got.s, want.s);
	ck_assert_uint_eq(body_max_depth_seen(&ctx), 21);

	walk("multipart/mixed; boundary=b1", body, len, 0, 0, 25, 0, &got, &ctx);
	ck_assert_ptr_null(strchr(got.s, 'N'));
	ck_assert_uint_eq(body_max_depth_seen(&ctx), 25);
}
END_TEST

START_TEST(caps_the_depth_limit_at_body_depth_max)
{
	static char body[65536];
	size_t len = deep_message(body, sizeof(body), BODY_DEPTH_MAX + 30);

	walk("multipart/mixed; boundary=b1", body, len, 0, 0, 1000, 0, &got, &ctx);
	snprintf(want.s, sizeof(want.s), "N%d\n", BODY_DEPTH_MAX + 1);
	ck_assert_ptr_nonnull(strstr(got.s, want.s));
	ck_assert_uint_eq(body_max_depth_seen(&ctx), BODY_DEPTH_MAX + 1);
}
END_TEST

START_TEST(refuses_even_the_first_level_with_a_limit_of_0)
{
	walk(nested_ct, nested, sizeof(nested) - 1, 0, 0, 0, 0, &got, &ctx);
	ck_assert_str_eq(got.s, "N1\n");
}
END_TEST

START_TEST(fires_on_a_dot_line_followed_by_an_smtp_command)
{
	static const struct {
		const char *body;
		const char *log;
	} cases[] = {
		{ "text\r\n.\r\nMAIL FROM:<x>\r\n", "S6\n" },
		{ ".\r\nmail from:<x>\r\n", "S0\n" },
		{ "a\n.\nRCPT TO:<y>\n", "S2\n" },
		{ "a\r\n.\rDATA\r\n", "S3\n" },
		{ "a\r.\r\nhelo x\r\n", "S2\n" },
		{ "a\r\n.\nEHLO x\r\n", "S3\n" },
		{ "a\r\n.\r\nBDAT 10 LAST\r\n", "S3\n" },
		{ "a\r\n.\r\nrset\r\n", "S3\n" },
		{ "a\r\n.\r\nQUIT  \r\n", "S3\n" },
		{ "a\r\n.\r\n.\r\nQUIT\n", "S6\n" },
		{ "x.y.\r\n.\r\nQUIT\r\n", "S6\n" },
		{ "a.\r.\r\nQUIT\r\n", "S3\n" },
		/* the quoted-printable and prose shapes */
		{ "soft break=\r\n.\r\nmore text\r\n", "" },
		{ "a\r\n.\r\n\r\nMAIL FROM:<x>\r\n", "" },
		{ "a\r\n.\r\nData is fine\r\n", "" },
		{ "a\r\n.\r\nQuite so\r\n", "" },
		{ "a\r\n.\r\nHELOx\r\n", "" },
		{ "a\r\n..\r\nMAIL FROM:<x>\r\n", "" },
		{ "a\r\n x.\r\nMAIL FROM:<x>\r\n", "" },
		{ "a\r\n. \r\nMAIL FROM:<x>\r\n", "" },
		{ "a\r\n.\r\nDATA", "" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = strlen(cases[i].body);

		walk(NULL, cases[i].body, len, 0, 0, 20, 0, &got, &ctx);
		ck_assert_msg(strcmp(got.s, cases[i].log) == 0,
			      "case %zu: expected \"%s\", got \"%s\"", i, cases[i].log,
			      got.s);
		/* the same at every split point and byte by byte */
		for (size_t split = 1; split <= len; split++) {
			walk(NULL, cases[i].body, len, split, split == len ? 0 : 1,
			     20, 0, &got, &ctx);
			ck_assert_msg(strcmp(got.s, cases[i].log) == 0,
				      "case %zu split at %zu: expected \"%s\", got \"%s\"",
				      i, split, cases[i].log, got.s);
		}
	}
}
END_TEST

START_TEST(looks_for_smuggling_inside_parts_too)
{
	static const struct {
		const char *body;
		const char *log;
	} cases[] = {
		{ "--b\r\n"
		  "Content-Type: text/plain\r\n"
		  "\r\n"
		  "x\r\n"
		  ".\r\n"
		  "RCPT TO:<victim@example.com>\r\n"
		  "--b--\r\n", "H1 Content-Type: text/plain [11/11]\nS36\n" },
		/* after a bare CR, in a line among lines with dots */
		{ "preamble. a.b\r\n"
		  "--b\r\n"
		  "\r\n"
		  "a. b. c.\r\n"
		  "x.y\r.\r\n"
		  "QUIT\r\n"
		  "-- not a delimiter.\r\n"
		  "--b--\r\n", "S36\n" },
		{ "--b\r\n\r\nx.y\r\nx.y\r\n.\r\nDATA\r\n--b--\r\n", "S17\n" },
		/* dashes inside lines and lines of one "-" are no delimiters */
		{ "--b\r\n\r\nx-y-z\r\n-\r\n-x\r\nab\r.\r\nRSET\r\n--b--\r\n", "S24\n" },
		{ "--b\r\n\r\nQUJD\r\nREVG\r\n--b\r\n\r\n.\r\nQUIT\r\n--b--\r\n", "S26\n" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = strlen(cases[i].body);

		for (size_t split = 0; split < len; split++) {
			walk("multipart/mixed; boundary=b", cases[i].body, len, split,
			     split == 0 ? 0 : 1, 20, 0, &got, &ctx);
			ck_assert_msg(strcmp(got.s, cases[i].log) == 0,
				      "case %zu split at %zu: expected \"%s\", got \"%s\"",
				      i, split, cases[i].log, got.s);
		}
	}
}
END_TEST

START_TEST(stops_at_the_scan_limit_and_says_so_once)
{
	static const char body[] =
		"0123456789012345678901234567890123456789012345678\n"	/* 50 */
		".\r\nMAIL FROM:<x>\r\n";
	struct mime_ct mct;

	got.len = 0;
	got.s[0] = '\0';
	body_init(&ctx, NULL, 20, 50);
	body_feed(&ctx, body, 30, &recorder, &got);
	body_feed(&ctx, body + 30, 20, &recorder, &got);
	ck_assert_str_eq(got.s, "");
	ck_assert(!body_truncated(&ctx));
	body_feed(&ctx, body + 50, 5, &recorder, &got);
	body_feed(&ctx, body + 55, sizeof(body) - 1 - 55, &recorder, &got);
	body_finish(&ctx, &recorder, &got);
	ck_assert_str_eq(got.s, "L50\n");
	ck_assert_uint_eq(body_scanned(&ctx), 50);
	ck_assert(body_truncated(&ctx));

	walk(NULL, body, sizeof(body) - 1, 0, 0, 20, 51, &got, &ctx);
	ck_assert_str_eq(got.s, "L51\n");
	walk(NULL, body, sizeof(body) - 1, 0, 0, 20, sizeof(body) - 1, &got, &ctx);
	ck_assert_str_eq(got.s, "S50\n");
	ck_assert(!body_truncated(&ctx));

	/* a part header cut by the limit is dropped */
	body_init(&ctx, message_ct("multipart/mixed; boundary=b", &mct), 20, 12);
	got.len = 0;
	got.s[0] = '\0';
	body_feed(&ctx, "--b\r\nX-A: 1\r\nX-B: 2\r\n\r\n", 23, &recorder, &got);
	body_finish(&ctx, &recorder, &got);
	ck_assert_str_eq(got.s, "L12\n");
}
END_TEST

START_TEST(flushes_an_unterminated_last_line_and_field)
{
	static const char body[] = "--b\r\nX-A: 1\r\n folded";

	walk("multipart/mixed; boundary=b", body, sizeof(body) - 1, 0, 0, 20, 0,
	     &got, &ctx);
	ck_assert_str_eq(got.s, "H1 X-A: 1\\x0a folded [10/10]\n");
	walk("multipart/mixed; boundary=b", "--b\r\n--b--", 10, 0, 0, 20, 0, &got, &ctx);
	ck_assert_uint_eq(body_parts(&ctx), 1);
}
END_TEST

static const char mixed_ct[] = "multipart/mixed; boundary=\"=_a'()+_,-./:=?b\"";
static const char mixed[] =
	"\r\n"
	".\r\nnot a command\r\n"
	"--=_a'()+_,-./:=?b\r\n"
	"Content-Type: multipart/digest;\r\n"
	"\tboundary=dd\r\n"
	"X-Bare-CR: one\rtwo\r\n"
	"\r\n"
	"--dd\n"
	"\n"
	"From: x@example.com\n"
	"Subject: a\n"
	"  b\n"
	"\n"
	".\n"
	"EHLO evil.example\n"
	"--dd\r\n"
	"Content-Type: message/rfc822\r\n"
	"\r\n"
	"Content-Type: multipart/alternative; boundary=\"x\"\r\n"
	"\r\n"
	"--x\r\n"
	"X-Deep: yes\r\n"
	"\r\n"
	"--x--\r\n"
	"--dd--\r\n"
	"--=_a'()+_,-./:=?b--\r\n"
	".\rQUIT\r\n";

START_TEST(gives_the_same_calls_at_every_split_point)
{
	static const struct {
		const char *ct;
		const char *body;
		size_t len;
	} msgs[] = {
		{ nested_ct, nested, sizeof(nested) - 1 },
		{ mixed_ct, mixed, sizeof(mixed) - 1 },
	};

	for (size_t m = 0; m < sizeof(msgs) / sizeof(msgs[0]); m++) {
		walk(msgs[m].ct, msgs[m].body, msgs[m].len, 0, 0, 20, 0, &want, &ctx);
		ck_assert_uint_gt(want.len, 0);
		for (size_t split = 1; split < msgs[m].len; split++) {
			walk(msgs[m].ct, msgs[m].body, msgs[m].len, split, 0, 20, 0,
			     &got, &ctx);
			ck_assert_msg(strcmp(got.s, want.s) == 0,
				      "message %zu split at %zu:\n%s\nexpected:\n%s",
				      m, split, got.s, want.s);
		}
		for (size_t step = 1; step <= 3; step++) {
			walk(msgs[m].ct, msgs[m].body, msgs[m].len, 0, step, 20, 0,
			     &got, &ctx);
			ck_assert_msg(strcmp(got.s, want.s) == 0,
				      "message %zu in chunks of %zu:\n%s\nexpected:\n%s",
				      m, step, got.s, want.s);
		}
	}
}
END_TEST

START_TEST(walks_a_message_holding_every_shape_at_once)
{
	walk(mixed_ct, mixed, sizeof(mixed) - 1, 0, 0, 20, 0, &got, &ctx);
	ck_assert_str_eq(got.s,
			 "H1 Content-Type: multipart/digest;\\x0a\\x09boundary=dd [31/31]\n"
			 "H1 X-Bare-CR: one\\x0dtwo [8/8]\n"
			 "H3 From: x@example.com [14/14]\n"
			 "H3 Subject: a\\x0a  b [6/6]\n"
			 "S151\n"
			 "H2 Content-Type: message/rfc822 [15/15]\n"
			 "H3 Content-Type: multipart/alternative; boundary=\"x\" [36/36]\n"
			 "H4 X-Deep: yes [4/4]\n"
			 "S319\n");
	ck_assert_uint_eq(body_max_depth_seen(&ctx), 4);
}
END_TEST

static Suite *
body_suite(void)
{
	Suite *s = suite_create("body");
	TCase *tc = tcase_create("walker");

	tcase_add_test(tc, reports_part_headers_of_nested_multiparts_with_their_depth);
	tcase_add_test(tc, hands_the_first_content_type_of_each_part_parsed);
	tcase_add_test(tc, reads_bare_lf_lines_like_crlf_lines);
	tcase_add_test(tc, looks_into_nothing_when_the_message_is_not_multipart);
	tcase_add_test(tc, reads_digest_parts_as_messages);
	tcase_add_test(tc, ends_a_part_header_at_a_line_that_is_no_field);
	tcase_add_test(tc, matches_boundaries_exactly_with_transport_padding_only);
	tcase_add_test(tc, lets_an_outer_delimiter_end_the_parts_nested_in_it);
	tcase_add_test(tc, caps_a_part_header_value_and_gives_its_full_length);
	tcase_add_test(tc, caps_a_part_header_name_at_every_split_point);
	tcase_add_test(tc, calls_nesting_once_past_the_depth_limit);
	tcase_add_test(tc, caps_the_depth_limit_at_body_depth_max);
	tcase_add_test(tc, refuses_even_the_first_level_with_a_limit_of_0);
	tcase_add_test(tc, fires_on_a_dot_line_followed_by_an_smtp_command);
	tcase_add_test(tc, looks_for_smuggling_inside_parts_too);
	tcase_add_test(tc, stops_at_the_scan_limit_and_says_so_once);
	tcase_add_test(tc, flushes_an_unterminated_last_line_and_field);
	tcase_add_test(tc, gives_the_same_calls_at_every_split_point);
	tcase_add_test(tc, walks_a_message_holding_every_shape_at_once);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(body_suite());
}
