/*
 * alog.c -- reading audit log lines (see alog.h)
 */
#include "alog.h"

#include <stddef.h>
#include <string.h>

void
alog_lines_init(struct alog_lines *it, const char *buf, size_t len)
{
	it->buf = buf;
	it->len = len;
	it->off = 0;
}

bool
alog_lines_next(struct alog_lines *it, const char **line_r, size_t *len_r)
{
	const char *nl;

	if (it->off >= it->len)
		return false;
	nl = memchr(it->buf + it->off, '\n', it->len - it->off);
	if (nl == NULL)
		return false;
	*line_r = it->buf + it->off;
	*len_r = (size_t)(nl - *line_r);
	it->off += *len_r + 1;
	return true;
}

size_t
alog_lines_rest(const struct alog_lines *it)
{
	return it->len - it->off;
}

bool
alog_str_is(const struct alog_str *s, const char *word)
{
	size_t n = strlen(word);

	return s->set && s->p != NULL && s->len == n && memcmp(s->p, word, n) == 0;
}

const struct alog_str *
alog_extra(const struct alog_event *ev, const char *key)
{
	static const struct alog_str none = { NULL, 0, false };

	for (size_t i = 0; i < ev->nextra; i++)
		if (alog_str_is(&ev->extra[i].key, key))
			return &ev->extra[i].value;
	return &none;
}

/* Where a value stands: which members of it are recorded. */
enum ctx {
	CTX_OTHER,		/* nothing recorded below */
	CTX_TOP,
	CTX_CLIENT,
	CTX_CHAIN,
	CTX_FINDINGS,		/* the array */
	CTX_FINDING		/* one of its objects */
};

enum kind {
	K_STR,			/* string or null */
	K_NUM,			/* unsigned integer */
	K_COUNT,		/* unsigned integer, or a string of digits */
	K_BOOL,
	K_OBJECT,		/* a container: its members get ctx `child` */
	K_ARRAY
};

struct member {
	enum ctx ctx;
	const char *key;
	enum kind kind;
	size_t off;		/* in struct alog_event, or struct alog_finding */
	enum ctx child;
};

#define EV(f) offsetof(struct alog_event, f)
#define FI(f) offsetof(struct alog_finding, f)

static const struct member members[] = {
	{ CTX_TOP, "schema", K_NUM, EV(schema), CTX_OTHER },
	{ CTX_TOP, "time", K_STR, EV(time), CTX_OTHER },
	{ CTX_TOP, "type", K_STR, EV(type), CTX_OTHER },
	{ CTX_TOP, "host", K_STR, EV(host), CTX_OTHER },
	{ CTX_TOP, "session", K_STR, EV(session), CTX_OTHER },
	{ CTX_TOP, "queue_id", K_STR, EV(queue_id), CTX_OTHER },
	{ CTX_TOP, "client", K_OBJECT, 0, CTX_CLIENT },
	{ CTX_CLIENT, "ip", K_STR, EV(client_ip), CTX_OTHER },
	{ CTX_CLIENT, "name", K_STR, EV(client_name), CTX_OTHER },
	{ CTX_CLIENT, "country", K_STR, EV(country), CTX_OTHER },
	{ CTX_CLIENT, "asn", K_NUM, EV(asn), CTX_OTHER },
	{ CTX_TOP, "helo", K_STR, EV(helo), CTX_OTHER },
	{ CTX_TOP, "sender", K_STR, EV(sender), CTX_OTHER },
	{ CTX_TOP, "stage", K_STR, EV(stage), CTX_OTHER },
	{ CTX_TOP, "action", K_STR, EV(action), CTX_OTHER },
	{ CTX_TOP, "applied", K_STR, EV(applied), CTX_OTHER },
	{ CTX_TOP, "mode", K_STR, EV(mode), CTX_OTHER },
	{ CTX_TOP, "rule", K_STR, EV(rule), CTX_OTHER },
	{ CTX_TOP, "findings", K_ARRAY, 0, CTX_FINDINGS },
	{ CTX_FINDING, "rule", K_STR, FI(rule), CTX_OTHER },
	{ CTX_FINDING, "stage", K_STR, FI(stage), CTX_OTHER },
	{ CTX_FINDING, "action", K_STR, FI(action), CTX_OTHER },
	{ CTX_FINDING, "monitor", K_BOOL, FI(monitor), CTX_OTHER },
	{ CTX_TOP, "reason", K_STR, EV(reason), CTX_OTHER },
	{ CTX_TOP, "events", K_COUNT, EV(events), CTX_OTHER },
	{ CTX_TOP, "sink", K_STR, EV(sink), CTX_OTHER },
	{ CTX_TOP, "lost", K_COUNT, EV(lost), CTX_OTHER },
	{ CTX_TOP, "since", K_STR, EV(since), CTX_OTHER },
	{ CTX_TOP, "until", K_STR, EV(until), CTX_OTHER },
	{ CTX_TOP, "seq", K_NUM, EV(seq), CTX_OTHER },
	{ CTX_TOP, "chain", K_OBJECT, 0, CTX_CHAIN },
	{ CTX_CHAIN, "prev_seq", K_NUM, EV(prev_seq), CTX_OTHER },
	{ CTX_CHAIN, "prev_mac", K_STR, EV(prev_mac), CTX_OTHER },
	{ CTX_CHAIN, "reason", K_STR, EV(link_reason), CTX_OTHER },
	{ CTX_TOP, "mac", K_STR, EV(mac), CTX_OTHER },
};

/* Members an event of a type must have (besides schema, time, type, host). */
struct required {
	const char *type;
	size_t off;		/* in struct alog_event */
	bool num;		/* a struct alog_num, else a struct alog_str */
};

static const struct required required[] = {
	{ "decision", EV(action), false },
	{ "decision", EV(applied), false },
	{ "decision", EV(stage), false },
	{ "checkpoint", EV(reason), false },
	{ "checkpoint", EV(events), true },
	{ "sink_failure", EV(sink), false },
	{ "sink_failure", EV(lost), true },
};

struct frame {
	enum ctx ctx;
	bool object;
	size_t count;		/* members or elements so far */
	const struct member *pending;	/* container member being filled */
};

struct scan {
	const char *s;
	size_t len;
	size_t pos;
	const char *why;
};

static bool
fail(struct scan *sc, const char *why)
{
	sc->why = why;
	return false;
}

static void
skip_ws(struct scan *sc)
{
	while (sc->pos < sc->len && (sc->s[sc->pos] == ' ' || sc->s[sc->pos] == '\t'))
		sc->pos++;
}

static bool
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A string at pos (on its opening quote): its contents into out. */
static bool
scan_string(struct scan *sc, struct alog_str *out)
{
	size_t start = ++sc->pos;

	while (sc->pos < sc->len) {
		char c = sc->s[sc->pos];

		if (c == '"') {
			out->p = sc->s + start;
			out->len = sc->pos - start;
			out->set = true;
			sc->pos++;
			return true;
		}
		if (c != '\\') {
			sc->pos++;
			continue;
		}
		if (sc->pos + 1 >= sc->len)
			break;
		c = sc->s[sc->pos + 1];
		if (c == 'u') {
			if (sc->pos + 6 > sc->len)
				break;
			for (size_t i = 2; i < 6; i++)
				if (!is_hex(sc->s[sc->pos + i]))
					return fail(sc, "bad \\u escape");
			sc->pos += 6;
		} else if (strchr("\"\\/bfnrt", c) != NULL && c != '\0') {
			sc->pos += 2;
		} else {
			return fail(sc, "bad escape in a string");
		}
	}
	return fail(sc, "unterminated string");
}

/* A number at pos: JSON grammar; *uint_r set if it is an unsigned integer
   that fits. */
static bool
scan_number(struct scan *sc, struct alog_num *uint_r)
{
	size_t start = sc->pos;
	bool integer = true, fits = true;
	unsigned long long v = 0;

	if (sc->s[sc->pos] == '-') {
		integer = false;
		sc->pos++;
	}
	if (sc->pos >= sc->len || sc->s[sc->pos] < '0' || sc->s[sc->pos] > '9')
		return fail(sc, "bad number");
	if (sc->s[sc->pos] == '0' && sc->pos + 1 < sc->len &&
	    sc->s[sc->pos + 1] >= '0' && sc->s[sc->pos + 1] <= '9')
		return fail(sc, "number with a leading zero");
	while (sc->pos < sc->len && sc->s[sc->pos] >= '0' && sc->s[sc->pos] <= '9') {
		unsigned d = (unsigned)(sc->s[sc->pos] - '0');

		if (v > (~0ULL - d) / 10)
			fits = false;
		v = v * 10 + d;
		sc->pos++;
	}
	if (sc->pos < sc->len && sc->s[sc->pos] == '.') {
		integer = false;
		if (++sc->pos >= sc->len || sc->s[sc->pos] < '0' || sc->s[sc->pos] > '9')
			return fail(sc, "bad number");
		while (sc->pos < sc->len && sc->s[sc->pos] >= '0' && sc->s[sc->pos] <= '9')
			sc->pos++;
	}
	if (sc->pos < sc->len && (sc->s[sc->pos] == 'e' || sc->s[sc->pos] == 'E')) {
		integer = false;
		sc->pos++;
		if (sc->pos < sc->len && (sc->s[sc->pos] == '+' || sc->s[sc->pos] == '-'))
			sc->pos++;
		if (sc->pos >= sc->len || sc->s[sc->pos] < '0' || sc->s[sc->pos] > '9')
			return fail(sc, "bad number");
		while (sc->pos < sc->len && sc->s[sc->pos] >= '0' && sc->s[sc->pos] <= '9')
			sc->pos++;
	}
	uint_r->set = integer && fits && sc->pos > start;
	uint_r->v = v;
	return true;
}

static bool
scan_word(struct scan *sc, const char *word)
{
	size_t n = strlen(word);

	if (sc->len - sc->pos < n || memcmp(sc->s + sc->pos, word, n) != 0)
		return fail(sc, "bad value");
	sc->pos += n;
	return true;
}

static const struct member *
find_member(enum ctx ctx, const struct alog_str *key)
{
	for (size_t i = 0; i < sizeof(members) / sizeof(members[0]); i++)
		if (members[i].ctx == ctx && alog_str_is(key, members[i].key))
			return &members[i];
	return NULL;
}

/* Where the member's value goes: the event, or the current finding. */
static void *
member_base(struct alog_event *ev, const struct member *m)
{
	if (m->ctx == CTX_FINDING)
		return &ev->finding[ev->nfindings - 1];
	return ev;
}

/* Record a scalar value: a string slice (quoted: it was a string), a
   number, or a boolean.  m is NULL for members not recorded. */
static bool
record(struct scan *sc, struct alog_event *ev, const struct member *m,
       enum ctx ctx, const struct alog_str *key, const struct alog_str *raw,
       char first, const struct alog_num *num)
{
	char *base;

	if (m == NULL) {
		if (ctx == CTX_TOP && ev->nextra < ALOG_EXTRA_MAX) {
			ev->extra[ev->nextra].key = *key;
			ev->extra[ev->nextra].value = *raw;
			ev->nextra++;
		}
		return true;
	}
	base = member_base(ev, m);
	switch (m->kind) {
	case K_STR: {
		struct alog_str *s = (struct alog_str *)(base + m->off);

		if (s->set)
			return fail(sc, "a member occurs twice");
		if (first == 'n') {
			s->set = true;
			s->p = NULL;
			s->len = 0;
			return true;
		}
		if (first != '"')
			return fail(sc, "a member that must be a string is not");
		*s = *raw;
		return true;
	}
	case K_NUM:
	case K_COUNT: {
		struct alog_num *n = (struct alog_num *)(base + m->off);

		if (n->set)
			return fail(sc, "a member occurs twice");
		if (first == '"' && m->kind == K_COUNT && raw->len > 0 && raw->len <= 19) {
			n->v = 0;
			for (size_t i = 0; i < raw->len; i++) {
				if (raw->p[i] < '0' || raw->p[i] > '9')
					return fail(sc, "a count is not a number");
				n->v = n->v * 10 + (unsigned)(raw->p[i] - '0');
			}
			n->set = true;
			return true;
		}
		if (num == NULL || !num->set)
			return fail(sc, "a member that must be an unsigned integer is not");
		*n = *num;
		return true;
	}
	case K_BOOL: {
		struct alog_bool *b = (struct alog_bool *)(base + m->off);

		if (b->set)
			return fail(sc, "a member occurs twice");
		if (first != 't' && first != 'f')
			return fail(sc, "a member that must be true or false is not");
		b->set = true;
		b->v = first == 't';
		return true;
	}
	default:
		return fail(sc, "a member that must be an object or array is not");
	}
}

/* Open a container for a member (or array element) m in frame f. */
static bool
open_container(struct scan *sc, struct alog_event *ev, struct frame *stack,
	       size_t *depth, const struct member *m, bool object)
{
	struct frame *f = &stack[*depth - 1];
	enum ctx ctx = CTX_OTHER;

	if (*depth >= ALOG_DEPTH_MAX)
		return fail(sc, "nested too deep");
	if (m != NULL) {
		if ((m->kind == K_OBJECT) != object || (m->kind != K_OBJECT && m->kind != K_ARRAY))
			return fail(sc, object ? "a member that must not be an object is one"
					       : "a member that must not be an array is one");
		if (m->child == CTX_CHAIN) {
			if (ev->has_chain)
				return fail(sc, "a member occurs twice");
			ev->has_chain = true;
		}
		ctx = m->child;
	} else if (f->ctx == CTX_FINDINGS && object) {
		if (ev->nfindings < ALOG_FINDINGS_MAX) {
			memset(&ev->finding[ev->nfindings], 0, sizeof(ev->finding[0]));
			ev->nfindings++;
			ctx = CTX_FINDING;
		} else {
			ev->findings_over++;
		}
	}
	stack[*depth].ctx = ctx;
	stack[*depth].object = object;
	stack[*depth].count = 0;
	stack[*depth].pending = NULL;
	(*depth)++;
	sc->pos++;
	return true;
}

static bool
parse_value(struct scan *sc, struct alog_event *ev, struct frame *stack,
	    size_t *depth, const struct alog_str *key)
{
	struct frame *f = &stack[*depth - 1];
	const struct member *m = f->object ? find_member(f->ctx, key) : NULL;
	struct alog_str raw = { 0 };
	struct alog_num num = { 0 };
	size_t start;
	char c;

	if (sc->pos >= sc->len)
		return fail(sc, "a value is missing");
	c = sc->s[sc->pos];
	f->count++;
	if (c == '{' || c == '[')
		return open_container(sc, ev, stack, depth, m, c == '{');
	start = sc->pos;
	raw.p = sc->s + sc->pos;
	if (c == '"') {
		if (!scan_string(sc, &raw))
			return false;
	} else if (c == '-' || (c >= '0' && c <= '9')) {
		if (!scan_number(sc, &num))
			return false;
	} else if (c == 't' || c == 'f' || c == 'n') {
		if (!scan_word(sc, c == 't' ? "true" : c == 'f' ? "false" : "null"))
			return false;
	} else {
		return fail(sc, "bad value");
	}
	if (c != '"') {
		raw.len = (size_t)(sc->s + sc->pos - raw.p);
		raw.set = true;
	}
	if (!record(sc, ev, m, f->ctx, key, &raw, c,
		    c == '-' || (c >= '0' && c <= '9') ? &num : NULL)) {
		sc->pos = start;	/* point at the value */
		return false;
	}
	return true;
}

/* The JSON text: one object, nothing after it. */
static bool
parse_json(struct scan *sc, struct alog_event *ev)
{
	struct frame stack[ALOG_DEPTH_MAX];
	size_t depth = 1;
	bool after = false;	/* a value of the top frame was just read */

	skip_ws(sc);
	if (sc->pos >= sc->len || sc->s[sc->pos] != '{')
		return fail(sc, "not a JSON object");
	stack[0] = (struct frame){ CTX_TOP, true, 0, NULL };
	sc->pos++;
	while (depth > 0) {
		struct frame *f = &stack[depth - 1];
		char close = f->object ? '}' : ']';
		struct alog_str key = { 0 };

		skip_ws(sc);
		if (sc->pos >= sc->len)
			return fail(sc, "the line ends inside the object");
		if (after || f->count == 0) {
			if (sc->s[sc->pos] == close) {
				sc->pos++;
				depth--;
				after = true;
				continue;
			}
			if (after && sc->s[sc->pos] != ',')
				return fail(sc, f->object ? "expected ',' or '}'" : "expected ',' or ']'");
			if (after) {
				sc->pos++;
				skip_ws(sc);
			}
		}
		if (f->object) {
			if (sc->pos >= sc->len || sc->s[sc->pos] != '"')
				return fail(sc, "expected a member name");
			if (!scan_string(sc, &key))
				return false;
			skip_ws(sc);
			if (sc->pos >= sc->len || sc->s[sc->pos] != ':')
				return fail(sc, "expected ':'");
			sc->pos++;
			skip_ws(sc);
		}
		size_t before = depth;

		if (!parse_value(sc, ev, stack, &depth, &key))
			return false;
		after = depth == before;
	}
	skip_ws(sc);
	if (sc->pos != sc->len)
		return fail(sc, "something follows the object");
	return true;
}

bool
alog_time_valid(const char *s, size_t len)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.ddddddZ";

	if (len != ALOG_TIME_LEN)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
			return false;
	}
	return true;
}

static bool
mac_text_valid(const struct alog_str *s)
{
	if (s->p == NULL || s->len != 64)
		return false;
	for (size_t i = 0; i < s->len; i++)
		if (!((s->p[i] >= '0' && s->p[i] <= '9') || (s->p[i] >= 'a' && s->p[i] <= 'f')))
			return false;
	return true;
}

/* What the parsed members say, checked against what an event must have. */
static const char *
check_members(const struct alog_event *ev)
{
	if (!ev->schema.set)
		return "no \"schema\" number";
	if (ev->schema.v < 1 || ev->schema.v > ALOG_SCHEMA_MAX)
		return "unknown schema version";
	if (!ev->time.set || ev->time.p == NULL || !alog_time_valid(ev->time.p, ev->time.len))
		return "no \"time\" of the form YYYY-MM-DDTHH:MM:SS.ffffffZ";
	if (!ev->type.set || ev->type.p == NULL || ev->type.len == 0)
		return "no \"type\"";
	if (!ev->host.set)
		return "no \"host\"";
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		const char *base = (const char *)ev + required[i].off;
		bool set = required[i].num ? ((const struct alog_num *)base)->set
					   : ((const struct alog_str *)base)->set;

		if (!set && alog_str_is(&ev->type, required[i].type))
			return "a member this type of event must have is missing";
	}
	if (ev->has_chain && (!ev->prev_seq.set || !mac_text_valid(&ev->prev_mac) ||
			      !ev->link_reason.set))
		return "an incomplete \"chain\" member";
	if (ev->mac.set && !mac_text_valid(&ev->mac))
		return "a \"mac\" that is not 64 lower-case hex digits";
	if (ev->mac.set != ev->seq.set)
		return "\"seq\" without \"mac\" or \"mac\" without \"seq\"";
	return NULL;
}

int
alog_parse(const char *line, size_t len, struct alog_event *ev_r,
	   const char **why_r, size_t *col_r)
{
	struct scan sc = { line, len, 0, NULL };
	const char *why;

	/* the findings are cleared one by one as they are met */
	memset(ev_r, 0, offsetof(struct alog_event, finding));
	memset((char *)ev_r + offsetof(struct alog_event, nfindings), 0,
	       sizeof(*ev_r) - offsetof(struct alog_event, nfindings));
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c < 0x20 || c > 0x7e) {
			*why_r = "a byte that is not printable ASCII";
			*col_r = i + 1;
			return -1;
		}
	}
	if (!parse_json(&sc, ev_r)) {
		*why_r = sc.why;
		*col_r = sc.pos + 1;
		return -1;
	}
	why = check_members(ev_r);
	if (why != NULL) {
		*why_r = why;
		*col_r = 1;
		return -1;
	}
	return 0;
}
