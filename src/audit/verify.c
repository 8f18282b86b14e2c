/*
 * verify.c -- milter-guard-audit verify: is the chain intact?
 *
 * The files are read in chain order (files_order()), one event ahead, so
 * that a line whose MAC fails can be told apart: the next line continues
 * from the MAC before it (inserted), its seq is the one expected
 * (modified), the seq expected comes later (reordered), or never (missing).
 * The first bad event ends the check; verify names it by file:line.
 */
#include "audit.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "core/chain.h"

struct pos {
	size_t file;
	unsigned long long line;
};

/* A line held for the look-ahead. */
struct vline {
	char *buf;
	size_t cap;
	size_t len;
	struct pos pos;
	enum rd_status st;
	struct alog_event ev;
	bool parsed;
	const char *why;
	size_t col;
	char damage[256];	/* st RD_ERROR: the damaged file's error */
};

/* The files in order, read as one stream of lines. */
struct cursor {
	const char **paths;
	size_t n;
	size_t i;
	struct rd rd;
	bool open;
};

struct verifier {
	const char **paths;
	size_t nfiles;
	const unsigned char *key;	/* NULL: no key */
	size_t keylen;
	bool live;
	/* the last event accepted */
	bool have_prev;
	unsigned long long last_seq;
	unsigned char prev_mac[CHAIN_MAC_LEN];
	struct pos last_pos;
	bool last_is_checkpoint;
	unsigned long long first_seq;
	unsigned long long events;
	/* the last checkpoint */
	bool have_cp;
	unsigned long long cp_seq;
	struct pos cp_pos;
	unsigned long long since_cp;
	/* --state */
	const char *state_path;
	char *state_line;
	size_t state_len;
	unsigned long long state_seq;
	bool state_seen;
	unsigned long long gaps;
	unsigned long long unverified_gaps;	/* declared by an event whose MAC cannot be checked */
	/* events without seq before the chain starts (a key configured later) */
	unsigned long long prechain;
	struct pos prechain_pos;
};

static int
cursor_next(struct cursor *c, struct vline *v)
{
	const char *line;
	size_t len;

	for (;;) {
		if (!c->open) {
			if (c->i >= c->n)
				return 0;
			if (rd_open(&c->rd, c->paths[c->i]) < 0)
				goto error;
			c->open = true;
		}
		v->st = rd_next(&c->rd, &line, &len);
		if (v->st == RD_ERROR && c->rd.damaged) {
			/* evidence, not trouble: checked like a line */
			v->pos.file = c->i;
			v->pos.line = c->rd.lineno + 1;
			v->len = 0;
			v->parsed = false;
			snprintf(v->damage, sizeof(v->damage), "%s", c->rd.err);
			rd_close(&c->rd);
			c->open = false;
			c->i = c->n;	/* nothing after it is read */
			return 1;
		}
		if (v->st == RD_ERROR)
			goto error;
		if (v->st != RD_EOF)
			break;
		rd_close(&c->rd);
		c->open = false;
		c->i++;
	}
	if (len + 1 > v->cap) {
		char *p = realloc(v->buf, len + 1);

		if (p == NULL) {
			fprintf(stderr, "%s: out of memory\n", progname);
			return -1;
		}
		v->buf = p;
		v->cap = len + 1;
	}
	memcpy(v->buf, line, len);
	v->buf[len] = '\0';
	v->len = len;
	v->pos.file = c->i;
	v->pos.line = c->rd.lineno;
	v->parsed = v->st == RD_LINE &&
		    alog_parse(v->buf, v->len, &v->ev, &v->why, &v->col) == 0;
	return 1;
error:
	fprintf(stderr, "%s: ", progname);
	print_escaped(stderr, c->paths[c->i]);
	fprintf(stderr, ": %s\n", c->rd.err);
	rd_close(&c->rd);
	c->open = false;
	return -1;
}

static void
cursor_close(struct cursor *c)
{
	if (c->open)
		rd_close(&c->rd);
	c->open = false;
}

static void
put_pos(const struct verifier *vf, struct pos p)
{
	print_escaped(stdout, vf->paths[p.file]);
	printf(":%llu", p.line);
}

/* Start a verdict line about the event at p. */
static void
say(const struct verifier *vf, struct pos p, const char *what)
{
	put_pos(vf, p);
	printf(": %s", what);
}

static void
put_range(unsigned long long from, unsigned long long to)
{
	if (from == to)
		printf("seq %llu (1 event)", from);
	else
		printf("seq %llu-%llu (%llu events)", from, to, to - from + 1);
}

static void carried_mac(const struct vline *v, unsigned char mac[CHAIN_MAC_LEN]);

/* Where the event with seq `want` stands after p, if anywhere, and the MAC
   it carries. */
static bool
find_seq_after(const struct verifier *vf, struct pos p, unsigned long long want,
	       struct pos *found_r, unsigned char mac_r[CHAIN_MAC_LEN])
{
	struct cursor c = { vf->paths, vf->nfiles, p.file, { 0 }, false };
	struct vline v = { 0 };
	bool found = false;
	int r;

	while ((r = cursor_next(&c, &v)) > 0) {
		if (v.pos.file == p.file && v.pos.line <= p.line)
			continue;
		if (v.parsed && v.ev.seq.set && v.ev.seq.v == want) {
			*found_r = v.pos;
			if (v.ev.mac.set)
				carried_mac(&v, mac_r);
			found = true;
			break;
		}
	}
	cursor_close(&c);
	free(v.buf);
	return found;
}

static bool
mac_ok(const struct verifier *vf, const unsigned char prev[CHAIN_MAC_LEN],
       const struct vline *v)
{
	return chain_check(vf->key, vf->keylen, prev, v->buf, v->len);
}

static void
carried_mac(const struct vline *v, unsigned char mac[CHAIN_MAC_LEN])
{
	chain_unhex(v->ev.mac.p, v->ev.mac.len, mac);
}

/* A gap the daemon declared with a sink_failure event. */
static void
declared_gap(struct verifier *vf, const struct vline *v, bool authenticated)
{
	const struct alog_event *ev = &v->ev;

	vf->gaps++;
	if (!authenticated && vf->key != NULL)
		vf->unverified_gaps++;
	say(vf, v->pos, "gap declared by the daemon: sink ");
	put_str(stdout, &ev->sink);
	printf(" lost %llu events from ", ev->lost.v);
	put_str(stdout, &ev->since);
	printf(" to ");
	/* the daemon writes the report when the sink works again: its time */
	put_str(stdout, ev->until.set ? &ev->until : &ev->time);
	printf(": ");
	put_str(stdout, alog_extra(ev, "error"));
	if (!authenticated && vf->key != NULL)
		printf(" (its MAC cannot be checked: it names no event it continues from)");
	printf("\n");
}

/* The chain link of v does not continue from the previous event. */
static bool
bad_link(struct verifier *vf, const struct vline *v, bool authenticated)
{
	unsigned long long p = v->ev.prev_seq.v;

	if (p > vf->last_seq) {
		/* with a key the link is authenticated; without, the count must agree */
		if (alog_str_is(&v->ev.type, "sink_failure") &&
		    (vf->key != NULL ? authenticated : v->ev.lost.v == p - vf->last_seq)) {
			declared_gap(vf, v, true);
			return true;
		}
		say(vf, v->pos, "missing: ");
		put_range(vf->last_seq + 1, p);
		printf(" before this event: its \"chain\" member continues from seq %llu\n", p);
		return false;
	}
	say(vf, v->pos, "broken link: its \"chain\" member names seq ");
	if (p == vf->last_seq)
		printf("%llu with another MAC than that event's (", p);
	else
		printf("%llu, but the previous event is seq %llu (", p, vf->last_seq);
	put_pos(vf, vf->last_pos);
	printf(")\n");
	return false;
}

/* A line whose MAC does not continue from the previous event, or (without
   a key) whose seq is not the next: say what is wrong with it. */
static bool
classify(struct verifier *vf, const struct vline *v, const struct vline *next)
{
	unsigned long long s = v->ev.seq.v, e = vf->last_seq + 1;
	struct pos at;

	unsigned char mac[CHAIN_MAC_LEN];

	/* an authentic event that belongs further on */
	if (vf->key != NULL && s > e && find_seq_after(vf, v->pos, s - 1, &at, mac) &&
	    mac_ok(vf, mac, v)) {
		if (s - 1 != e)
			find_seq_after(vf, v->pos, e, &at, mac);
		say(vf, v->pos, "reordered: ");
		printf("seq %llu comes before seq %llu (", s, e);
		put_pos(vf, at);
		printf(")\n");
		return false;
	}
	if (vf->key != NULL && next != NULL && next->parsed && next->ev.mac.set &&
	    mac_ok(vf, vf->prev_mac, next)) {
		say(vf, v->pos, "inserted: not part of the chain (the next event continues from seq ");
		printf("%llu)\n", vf->last_seq);
		return false;
	}
	if (s == e) {
		say(vf, v->pos, "modified: ");
		printf("seq %llu is in place but its MAC is wrong%s\n", s,
		       vf->events == 0 ? " (or the key is not the one the log was sealed with)" : "");
		return false;
	}
	if (alog_str_is(&v->ev.type, "sink_failure") && s > e && v->ev.lost.v == s - e) {
		declared_gap(vf, v, false);
		return true;
	}
	if (s > e) {
		if (vf->key != NULL && next != NULL && next->parsed && next->ev.seq.set &&
		    next->ev.seq.v == e + 1) {
			carried_mac(v, mac);
			if (mac_ok(vf, mac, next)) {
				say(vf, v->pos, "modified: ");
				printf("carries seq %llu where seq %llu was expected, and its MAC is wrong\n",
				       s, e);
				return false;
			}
		}
		if (find_seq_after(vf, v->pos, e, &at, mac)) {
			say(vf, v->pos, "reordered: ");
			printf("seq %llu comes before seq %llu (", s, e);
			put_pos(vf, at);
			printf(")\n");
			return false;
		}
		say(vf, v->pos, "missing: ");
		put_range(e, s - 1);
		printf(" before this event (seq %llu)\n", s);
		return false;
	}
	if (s == vf->last_seq) {
		say(vf, v->pos, "inserted: ");
		printf("a second event with seq %llu (the first at ", s);
	} else {
		say(vf, v->pos, "reordered: ");
		printf("seq %llu comes after seq %llu (", s, vf->last_seq);
	}
	put_pos(vf, vf->last_pos);
	printf(")\n");
	return false;
}

/* Where the chain starts: the first event names its predecessor, or is
   the very first. */
static bool
start_chain(struct verifier *vf, const struct vline *v)
{
	if (v->ev.has_chain) {
		vf->last_seq = v->ev.prev_seq.v;
		chain_unhex(v->ev.prev_mac.p, v->ev.prev_mac.len, vf->prev_mac);
	} else if (v->ev.seq.v == 1) {
		vf->last_seq = 0;
		memset(vf->prev_mac, 0, sizeof(vf->prev_mac));
	} else {
		say(vf, v->pos, "missing: ");
		printf("the first event is seq %llu and names no predecessor (no \"chain\" member)\n",
		       v->ev.seq.v);
		return false;
	}
	vf->have_prev = true;
	vf->first_seq = vf->last_seq + 1;
	vf->last_pos = v->pos;
	return true;
}

/* Does v continue the chain?  True if it does (or is a declared gap). */
static bool
check_link(struct verifier *vf, const struct vline *v, const struct vline *next)
{
	const struct alog_event *ev = &v->ev;
	unsigned long long e = vf->last_seq + 1;

	if (vf->key != NULL) {
		unsigned char linked[CHAIN_MAC_LEN];

		if (mac_ok(vf, vf->prev_mac, v)) {
			if (ev->seq.v != e || (ev->has_chain && ev->prev_seq.v != vf->last_seq)) {
				say(vf, v->pos, "reordered: ");
				printf("seq %llu where seq %llu was expected, though its MAC is valid\n",
				       ev->seq.v, e);
				return false;
			}
			if (alog_str_is(&ev->type, "sink_failure"))
				declared_gap(vf, v, true);
			return true;
		}
		if (ev->has_chain) {
			chain_unhex(ev->prev_mac.p, ev->prev_mac.len, linked);
			if (mac_ok(vf, linked, v))
				return bad_link(vf, v, true);
		}
		return classify(vf, v, next);
	}
	if (ev->has_chain) {
		char hex[CHAIN_HEX_LEN + 1];

		chain_hex(vf->prev_mac, hex);
		if (ev->prev_seq.v != vf->last_seq ||
		    memcmp(ev->prev_mac.p, hex, CHAIN_HEX_LEN) != 0)
			return bad_link(vf, v, false);
	}
	if (ev->seq.v == e) {
		if (alog_str_is(&ev->type, "sink_failure"))
			declared_gap(vf, v, true);
		return true;
	}
	return classify(vf, v, next);
}

static void
accept_event(struct verifier *vf, const struct vline *v)
{
	vf->last_seq = v->ev.seq.v;
	carried_mac(v, vf->prev_mac);
	vf->last_pos = v->pos;
	vf->events++;
	vf->last_is_checkpoint = alog_str_is(&v->ev.type, "checkpoint");
	if (vf->last_is_checkpoint) {
		vf->have_cp = true;
		vf->cp_seq = v->ev.seq.v;
		vf->cp_pos = v->pos;
		vf->since_cp = 0;
	} else {
		vf->since_cp++;
	}
}

/* One line; next is the line after it (NULL at the end).  True to go on. */
static bool
check_line(struct verifier *vf, const struct vline *v, const struct vline *next)
{
	const struct alog_event *ev = &v->ev;

	if (v->st == RD_ERROR) {
		say(vf, v->pos, "truncated: the compressed file is damaged here (");
		print_escaped(stdout, v->damage);
		printf(")\n");
		return false;
	}
	if (v->st == RD_LONG) {
		say(vf, v->pos, "unparseable: ");
		printf("longer than %u octets\n", ALOG_LINE_MAX);
		return false;
	}
	if (v->st == RD_UNTERMINATED) {
		if (next == NULL && vf->live)
			return true;	/* being written */
		say(vf, v->pos, "truncated: the line has no newline (an event cut short)\n");
		return false;
	}
	if (!v->parsed) {
		say(vf, v->pos, "unparseable: ");
		printf("%s (column %zu", v->why, v->col);
		if (v->col <= v->len && ((unsigned char)v->buf[v->col - 1] < 0x20 ||
					 (unsigned char)v->buf[v->col - 1] > 0x7e))
			printf(", byte 0x%02x", (unsigned char)v->buf[v->col - 1]);
		printf(")\n");
		return false;
	}
	if (!ev->seq.set) {
		/* events written before a key was configured may precede the chain */
		if (!vf->have_prev && next != NULL) {
			if (vf->prechain++ == 0)
				vf->prechain_pos = v->pos;
			return true;
		}
		say(vf, vf->prechain > 0 ? vf->prechain_pos : v->pos,
		    "not chained: no \"seq\" and \"mac\" members\n");
		return false;
	}
	if (!vf->have_prev && vf->prechain > 0) {
		if (ev->seq.v != 1 || (ev->has_chain && ev->prev_seq.v != 0)) {
			say(vf, vf->prechain_pos, "not chained: no \"seq\" and \"mac\" members\n");
			return false;
		}
		say(vf, v->pos, "the chain starts here: ");
		printf("the %llu events before it (from ", vf->prechain);
		put_pos(vf, vf->prechain_pos);
		printf(") are not chained and were not checked\n");
	}
	if (!vf->have_prev && !start_chain(vf, v))
		return false;
	if (!check_link(vf, v, next))
		return false;
	if (v->pos.line == 1 && v->pos.file > 0 && !ev->has_chain) {
		say(vf, v->pos, "not chained: the first event of a file has no \"chain\" member\n");
		return false;
	}
	if (vf->state_line != NULL && ev->seq.v == vf->state_seq) {
		vf->state_seen = true;
		if (v->len != vf->state_len || memcmp(v->buf, vf->state_line, v->len) != 0) {
			say(vf, v->pos, "modified: ");
			printf("seq %llu differs from the checkpoint in the state file ", ev->seq.v);
			print_escaped(stdout, vf->state_path);
			printf("\n");
			return false;
		}
	}
	accept_event(vf, v);
	return true;
}

/* After the last line: does the log end where it should? */
static bool
check_end(struct verifier *vf)
{
	if (vf->state_line != NULL) {
		if (vf->state_seq > vf->last_seq) {
			print_escaped(stdout, vf->state_path);
			printf(": missing: ");
			put_range(vf->last_seq + 1, vf->state_seq);
			printf(" before the state file's checkpoint: the log ends at seq %llu (",
			       vf->last_seq);
			put_pos(vf, vf->last_pos);
			printf(")\n");
			return false;
		}
		if (!vf->state_seen || vf->state_seq < vf->cp_seq) {
			print_escaped(stdout, vf->state_path);
			printf(": %s: its checkpoint (seq %llu) is not the log's last one (",
			       vf->live ? "note" : "stale", vf->state_seq);
			if (vf->have_cp) {
				printf("seq %llu at ", vf->cp_seq);
				put_pos(vf, vf->cp_pos);
			} else {
				printf("none");
			}
			printf(")\n");
			if (!vf->live)
				return false;
		}
	}
	if (vf->last_is_checkpoint)
		return true;
	if (vf->live)
		printf("live: ");
	else
		say(vf, vf->last_pos, "truncated tail: ");
	if (vf->have_cp) {
		printf("%llu events after the last checkpoint (seq %llu at ", vf->since_cp,
		       vf->cp_seq);
		put_pos(vf, vf->cp_pos);
		printf(")\n");
	} else {
		printf("%llu events and no checkpoint\n", vf->since_cp);
	}
	return vf->live;
}

static int
state_fail(const struct verifier *vf, const char *why)
{
	fprintf(stderr, "%s: state file ", progname);
	print_escaped(stderr, vf->state_path);
	fprintf(stderr, ": %s\n", why);
	return -1;
}

static int
state_load(struct verifier *vf)
{
	struct rd r;
	const char *line, *why;
	size_t len, col;
	struct alog_event *ev;
	enum rd_status st;
	int ret = 0;

	if (rd_open(&r, vf->state_path) < 0)
		return state_fail(vf, r.err);
	st = rd_next(&r, &line, &len);
	if (st == RD_LINE || st == RD_UNTERMINATED) {
		vf->state_line = malloc(len + 1);
		if (vf->state_line != NULL)
			memcpy(vf->state_line, line, len);
		vf->state_len = len;
	}
	ev = malloc(sizeof(*ev));
	if (st == RD_ERROR)
		ret = state_fail(vf, r.err);
	else if (vf->state_line == NULL || ev == NULL)
		ret = state_fail(vf, st == RD_LINE || st == RD_UNTERMINATED
				 ? "out of memory" : "no checkpoint line");
	else if (alog_parse(vf->state_line, vf->state_len, ev, &why, &col) < 0 ||
		 !alog_str_is(&ev->type, "checkpoint") || !ev->seq.set)
		ret = state_fail(vf, "not a chained checkpoint event");
	else
		vf->state_seq = ev->seq.v;
	rd_close(&r);
	free(ev);
	return ret;
}

static const struct option verify_opts[] = {
	{ "key", required_argument, NULL, 'k' },
	{ "live", no_argument, NULL, 'l' },
	{ "state", required_argument, NULL, 's' },
	{ "as-given", no_argument, NULL, 'g' },
	{ NULL, 0, NULL, 0 }
};

static int
verify_run(struct verifier *vf)
{
	struct cursor c = { vf->paths, vf->nfiles, 0, { 0 }, false };
	struct vline *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b)), *t;
	int ra, rb, ret = AUDIT_OK;

	if (a == NULL || b == NULL) {
		free(a);
		free(b);
		return AUDIT_TROUBLE;
	}
	ra = cursor_next(&c, a);
	while (ra > 0) {
		rb = cursor_next(&c, b);
		if (rb < 0) {
			ret = AUDIT_TROUBLE;
			break;
		}
		if (!check_line(vf, a, rb > 0 ? b : NULL)) {
			ret = AUDIT_BAD;
			break;
		}
		t = a;
		a = b;
		b = t;
		ra = rb;
	}
	if (ra < 0)
		ret = AUDIT_TROUBLE;
	cursor_close(&c);
	if (ret == AUDIT_OK && vf->events == 0) {
		printf("no events\n");
		ret = AUDIT_BAD;
	}
	if (ret == AUDIT_OK && !check_end(vf))
		ret = AUDIT_BAD;
	if (ret == AUDIT_OK && vf->unverified_gaps > 0) {
		/* such an event could stand for events deleted: not intact */
		printf("not verified: %llu gap%s declared by an event whose MAC cannot be checked\n",
		       vf->unverified_gaps, vf->unverified_gaps == 1 ? "" : "s");
		ret = AUDIT_BAD;
	}
	if (ret == AUDIT_OK)
		printf("ok: %llu events, seq %llu-%llu, in %zu file%s; %s\n", vf->events,
		       vf->first_seq, vf->last_seq, vf->nfiles, vf->nfiles == 1 ? "" : "s",
		       vf->key != NULL ? "MACs checked" : "MACs not checked (no key)");
	free(a->buf);
	free(b->buf);
	free(a);
	free(b);
	return ret;
}

int
cmd_verify(int argc, char **argv)
{
	struct verifier vf = { 0 };
	unsigned char key[CHAIN_KEY_MAX];
	const char *keypath = NULL;
	bool as_given = false;
	int c, ret;

	while ((c = getopt_long(argc, argv, "k:ls:g", verify_opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			keypath = optarg;
			break;
		case 'l':
			vf.live = true;
			break;
		case 's':
			vf.state_path = optarg;
			break;
		case 'g':
			as_given = true;
			break;
		default:
			return AUDIT_TROUBLE;
		}
	}
	if (optind >= argc)
		return command_usage(stderr, "verify");
	vf.paths = (const char **)argv + optind;
	vf.nfiles = (size_t)(argc - optind);
	if (keypath != NULL) {
		if (key_load(keypath, key, &vf.keylen) < 0)
			return AUDIT_TROUBLE;
		vf.key = key;
	} else {
		printf("no key: checking structure and sequence only, not the MACs\n");
	}
	if (vf.state_path != NULL && state_load(&vf) < 0)
		return AUDIT_TROUBLE;
	if (!as_given && files_order(vf.paths, vf.nfiles) < 0)
		return AUDIT_TROUBLE;
	ret = verify_run(&vf);
	explicit_bzero(key, sizeof(key));
	free(vf.state_line);
	return ret;
}
