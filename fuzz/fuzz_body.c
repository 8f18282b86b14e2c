/*
 * fuzz_body.c -- the streamed MIME body walker (body_init(), body_feed(),
 * body_finish()), with the part header checks the daemon runs on what it
 * reports (hdr_check_part_field())
 *
 * Input: two setting bytes, the message's Content-Type up to the first
 * LF, then the body.
 *   byte 0: max_depth, modulo BODY_DEPTH_MAX + 2
 *   byte 1: bits 0-6 pick a split point; bit 7 sets a scan limit
 * The body is fed whole, in two chunks at the split point, and byte by
 * byte (bodies up to 4 KB): body.h promises the same handler calls in the
 * same order every time, so each walk's calls are hashed and compared,
 * with what the walker reports at the end.
 */
#include <string.h>

#include "fuzz.h"
#include "core/body.h"
#include "core/hdr.h"

#define H "body"
#define BYTEWISE_MAX 4096

struct trace {
	unsigned long long hash;
	unsigned long calls;
	size_t body_len;
	const struct limits *lim;
};

static void
mix(struct trace *t, const void *p, size_t n)
{
	const unsigned char *u = p;

	for (size_t i = 0; i < n; i++)
		t->hash = (t->hash ^ u[i]) * 1099511628211ULL;
}

static void
mix_n(struct trace *t, unsigned long long v)
{
	mix(t, &v, sizeof(v));
}

static void
on_part_header(void *arg, const char *name, size_t name_len,
	       const char *value, size_t value_len, size_t value_total_len,
	       unsigned depth, const struct mime_ct *ct)
{
	struct trace *t = arg;
	struct finding_list f, g;

	if (name_len > BODY_NAME_KEEP || value_len > BODY_FIELD_KEEP ||
	    value_len > value_total_len)
		fuzz_fail(H, "part header field longer than what is kept");
	t->calls++;
	mix_n(t, 1);
	mix(t, name, name_len);
	mix_n(t, name_len);
	mix(t, value, value_len);
	mix_n(t, value_total_len);
	mix_n(t, depth);
	finding_list_init(&f);
	hdr_check_part_field(t->lim, name, name_len, value, value_len,
			     value_total_len, ct, &f);
	fuzz_check_findings(H, &f);
	/* the walker's parse stands for a parse of the same bytes */
	finding_list_init(&g);
	hdr_check_part_field(t->lim, name, name_len, value, value_len,
			     value_total_len, NULL, &g);
	if (f.count != g.count || f.dropped != g.dropped)
		fuzz_fail(H, "a part's Content-Type checks differ with the walker's parse");
	for (size_t i = 0; i < f.count; i++)
		if (f.items[i].rule != g.items[i].rule || f.items[i].offset != g.items[i].offset ||
		    f.items[i].length != g.items[i].length || f.items[i].limit != g.items[i].limit ||
		    f.items[i].detail != g.items[i].detail)
			fuzz_fail(H, "a part's Content-Type finding differs with the walker's parse");
}

static void
on_nesting(void *arg, unsigned depth)
{
	struct trace *t = arg;

	t->calls++;
	mix_n(t, 2);
	mix_n(t, depth);
}

static void
on_smuggling(void *arg, size_t offset)
{
	struct trace *t = arg;

	if (offset >= t->body_len)
		fuzz_fail(H, "smuggling offset past the body");
	t->calls++;
	mix_n(t, 3);
	mix_n(t, offset);
}

static void
on_scan_limit(void *arg, size_t offset)
{
	struct trace *t = arg;

	t->calls++;
	mix_n(t, 4);
	mix_n(t, offset);
}

static const struct body_handler handler = {
	on_part_header, on_nesting, on_smuggling, on_scan_limit
};

static struct body_ctx ctx;

/* Walk body in chunks of step bytes (the first one of first bytes). */
static void
walk(const struct mime_ct *ct, unsigned max_depth, size_t limit,
     const char *body, size_t len, size_t first, size_t step, struct trace *t)
{
	size_t pos = 0;
	bool fed = false;

	t->hash = 14695981039346656037ULL;
	t->calls = 0;
	t->body_len = len;
	body_init(&ctx, ct, max_depth, limit);
	while (pos < len) {
		size_t n = fed ? step : first;

		fed = true;

		if (n > len - pos)
			n = len - pos;
		body_feed(&ctx, body + pos, n, &handler, t);
		pos += n;
	}
	body_finish(&ctx, &handler, t);
	mix_n(t, body_scanned(&ctx));
	mix_n(t, body_max_depth_seen(&ctx));
	mix_n(t, body_truncated(&ctx));
	mix_n(t, body_parts(&ctx));
	if (body_scanned(&ctx) > len || (limit > 0 && body_scanned(&ctx) > limit))
		fuzz_fail(H, "scanned more than there is");
	if (body_max_depth_seen(&ctx) > max_depth + 1)
		fuzz_fail(H, "deeper than max_depth + 1");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct policy pol;
	static int ready;
	struct mime_ct ct;
	const struct mime_ct *mct;
	struct trace a, b, c;
	const char *s, *nl, *body;
	size_t len, body_len, split, limit;
	unsigned max_depth;

	if (size < 2)
		return 0;
	if (!ready) {
		pol_init(&pol);
		ready = 1;
	}
	a.lim = b.lim = c.lim = &pol.limits;
	max_depth = data[0] % (BODY_DEPTH_MAX + 2);
	limit = (data[1] & 0x80) ? (size_t)(data[1] & 0x7f) * 37 + 1 : 0;
	s = (const char *)data + 2;
	len = size - 2;
	nl = memchr(s, '\n', len);
	body = nl ? nl + 1 : s + len;
	body_len = (size_t)(s + len - body);
	mime_parse_content_type(s, nl ? (size_t)(nl - s) : len, &ct);
	mct = nl == s ? NULL : &ct;	/* an empty first line: no Content-Type */
	split = body_len ? (size_t)(data[1] & 0x7f) * 131 % (body_len + 1) : 0;

	walk(mct, max_depth, limit, body, body_len, body_len, body_len, &a);
	walk(mct, max_depth, limit, body, body_len, split, body_len, &b);
	if (a.hash != b.hash || a.calls != b.calls)
		fuzz_fail(H, "two chunks give other calls than one");
	if (body_len <= BYTEWISE_MAX) {
		walk(mct, max_depth, limit, body, body_len, 1, 1, &c);
		if (a.hash != c.hash || a.calls != c.calls)
			fuzz_fail(H, "byte by byte gives other calls than one chunk");
	}
	return 0;
}
