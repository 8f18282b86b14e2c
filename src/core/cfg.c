/*
 * cfg.c -- milter-guard.conf (see cfg.h)
 */
#include "cfg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "esc.h"
#include "reply.h"

#define CFG_DEFAULT_SOCKET	"unix:/run/milter-guard/milter-guard.sock"
#define CFG_DEFAULT_UMASK	"007"
#define CFG_DEFAULT_SAMPLE	"80"
#define CFG_DEFAULT_BODY_LIMIT	"10485760"	/* 10 MiB */
#define CFG_DEFAULT_MAX_CONN	"500"		/* Postfix's default is 100 smtpd */
#define CFG_DEFAULT_IDLE	"600"		/* > Postfix smtpd_timeout (300 s) */

enum cfg_type {
	CT_STRING,	/* any printable text */
	CT_PATH,	/* an absolute path, or "" */
	CT_BOOL,
	CT_ULONG,
	CT_OCTAL,
	CT_MODE,	/* enforce | monitor */
	CT_ERROR_ACTION,/* accept | tempfail | reject */
	CT_AUDIT_ACTION,/* accept | tempfail */
	CT_SOCKET,
	CT_TEXT,	/* a reply text */
	CT_FACILITY,
	CT_RULE,	/* repeatable: Rule <id> attr=value ... */
	CT_NETS,	/* CIDR networks, or files of them */
	CT_RULESET,	/* all, or rule ids and prefixes */
	CT_OVERRIDE,	/* repeatable: Override country:GB rules attr=value ... */
};

struct cfg_key {
	const char *name;
	enum cfg_type type;
	const char *def;	/* default, as it would be written */
	unsigned long min, max;	/* CT_ULONG, CT_OCTAL */
};

enum cfg_key_id {
	K_SOCKET, K_UMASK, K_USERID, K_PIDFILE, K_MODE, K_AUDITLOG,
	K_SAMPLE, K_ONINTERNAL, K_ONAUDIT, K_REMOTE, K_FACILITY,
	K_REJECTTEXT, K_TEMPFAILTEXT, K_BODYLIMIT, K_GEOCOUNTRY, K_GEOASN,
	K_TRUSTED, K_TRUSTEDEXEMPT, K_EXEMPTAUTH, K_AUTHEXEMPT, K_OVERRIDE,
	K_RULE, K_AUDITSYSLOG, K_AUDITFACILITY, K_AUDITSTDOUT, K_AUDITALL,
	K_AUDITKEY, K_AUDITSOCKET, K_MAXCONN, K_IDLE, K_RUNASROOT, K_COUNT
};

static const struct cfg_key cfg_keys[K_COUNT] = {
	[K_SOCKET] = { "Socket", CT_SOCKET, CFG_DEFAULT_SOCKET, 0, 0 },
	[K_UMASK] = { "UMask", CT_OCTAL, CFG_DEFAULT_UMASK, 0, 0777 },
	[K_USERID] = { "UserID", CT_STRING, "", 0, 0 },
	[K_PIDFILE] = { "PidFile", CT_PATH, "", 0, 0 },
	[K_MODE] = { "Mode", CT_MODE, "enforce", 0, 0 },
	[K_AUDITLOG] = { "AuditLog", CT_PATH, "", 0, 0 },
	[K_SAMPLE] = { "AuditSampleLength", CT_ULONG, CFG_DEFAULT_SAMPLE, 16, 1024 },
	[K_ONINTERNAL] = { "OnInternalError", CT_ERROR_ACTION, "tempfail", 0, 0 },
	[K_ONAUDIT] = { "OnAuditFailure", CT_AUDIT_ACTION, "tempfail", 0, 0 },
	[K_REMOTE] = { "AllowRemoteSocket", CT_BOOL, "no", 0, 0 },
	[K_FACILITY] = { "SyslogFacility", CT_FACILITY, "mail", 0, 0 },
	[K_REJECTTEXT] = { "RejectText", CT_TEXT, "", 0, 0 },
	[K_TEMPFAILTEXT] = { "TempfailText", CT_TEXT, "", 0, 0 },
	[K_BODYLIMIT] = { "BodyInspectLimit", CT_ULONG, CFG_DEFAULT_BODY_LIMIT, 0, 1UL << 40 },
	[K_GEOCOUNTRY] = { "GeoIPCountryDB", CT_PATH, "", 0, 0 },
	[K_GEOASN] = { "GeoIPASNDB", CT_PATH, "", 0, 0 },
	[K_TRUSTED] = { "TrustedNetworks", CT_NETS, "", 0, 0 },
	[K_TRUSTEDEXEMPT] = { "TrustedExempt", CT_RULESET, "all", 0, 0 },
	[K_EXEMPTAUTH] = { "ExemptAuthenticated", CT_BOOL, "no", 0, 0 },
	[K_AUTHEXEMPT] = { "AuthenticatedExempt", CT_RULESET, "all", 0, 0 },
	[K_OVERRIDE] = { "Override", CT_OVERRIDE, NULL, 0, 0 },
	[K_RULE] = { "Rule", CT_RULE, NULL, 0, 0 },
	[K_AUDITSYSLOG] = { "AuditSyslog", CT_BOOL, "no", 0, 0 },
	[K_AUDITFACILITY] = { "AuditSyslogFacility", CT_FACILITY, "mail", 0, 0 },
	[K_AUDITSTDOUT] = { "AuditStdout", CT_BOOL, "no", 0, 0 },
	[K_AUDITALL] = { "AuditAll", CT_BOOL, "no", 0, 0 },
	[K_AUDITKEY] = { "AuditKeyFile", CT_PATH, "", 0, 0 },
	[K_AUDITSOCKET] = { "AuditSyslogSocket", CT_PATH, "/dev/log", 0, 0 },
	[K_MAXCONN] = { "MaxConnections", CT_ULONG, CFG_DEFAULT_MAX_CONN, 1, 100000 },
	[K_IDLE] = { "IdleTimeout", CT_ULONG, CFG_DEFAULT_IDLE, 1, 86400 },
	[K_RUNASROOT] = { "RunAsRoot", CT_BOOL, "no", 0, 0 },
};

static const char *const facilities[] = {
	"mail", "daemon", "user", "local0", "local1", "local2", "local3",
	"local4", "local5", "local6", "local7", NULL
};

struct cfg_parser {
	struct cfg *cfg;
	struct cfg_error *err;
	const struct cfg_reader *reader;
	unsigned line;
	bool seen[K_COUNT];
	bool rule_seen[RULE_COUNT];
};

static int perr(struct cfg_parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int
perr(struct cfg_parser *p, const char *fmt, ...)
{
	va_list ap;

	p->err->line = p->line;
	va_start(ap, fmt);
	vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static bool
word_eq(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && strncasecmp(s, word, len) == 0;
}

static int
parse_bool(const char *v, size_t len, bool *b_r)
{
	if (word_eq(v, len, "yes") || word_eq(v, len, "true") ||
	    word_eq(v, len, "on") || word_eq(v, len, "1"))
		*b_r = true;
	else if (word_eq(v, len, "no") || word_eq(v, len, "false") ||
		 word_eq(v, len, "off") || word_eq(v, len, "0"))
		*b_r = false;
	else
		return -1;
	return 0;
}

static int
parse_ulong(const char *v, size_t len, unsigned base, unsigned long *n_r)
{
	unsigned long n = 0;

	if (len == 0 || len > 15)
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned)(v[i] - '0');

		if (v[i] < '0' || d >= base)
			return -1;
		n = n * base + d;
	}
	*n_r = n;
	return 0;
}

static char *
dup_value(const char *v, size_t len)
{
	char *s = malloc(len + 1);

	if (s != NULL) {
		memcpy(s, v, len);
		s[len] = '\0';
	}
	return s;
}

static int
set_string(struct cfg_parser *p, char **dst, const char *v, size_t len)
{
	char *s = dup_value(v, len);

	if (s == NULL)
		return perr(p, "out of memory");
	free(*dst);
	*dst = s;
	return 0;
}

static bool
is_printable(const char *v, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e)
			return false;
	return true;
}

static int
check_printable(struct cfg_parser *p, const char *key, const char *v, size_t len)
{
	if (!is_printable(v, len))
		return perr(p, "%s: value must be printable US-ASCII", key);
	return 0;
}

/* Rule <id> [action=...] [limit=...] [mode=...] */
static int
parse_rule(struct cfg_parser *p, const char *v, size_t len)
{
	struct policy *pol = &p->cfg->policy;
	char buf[128];
	size_t i = 0, n;
	enum rule_id id;

	while (i < len && v[i] != ' ' && v[i] != '\t')
		i++;
	if (rule_lookup(v, i, &id) < 0)
		return perr(p, "Rule: unknown rule \"%s\" (the rules are listed "
			    "in milter-guard.conf(5))", esc_text(v, i, buf, sizeof(buf)));
	if (p->rule_seen[id])
		return perr(p, "Rule %s: given twice", rule_table[id].name);
	p->rule_seen[id] = true;
	if (i == len)
		return perr(p, "Rule %s: expected action=, limit= or mode=",
			    rule_table[id].name);
	while (i < len) {
		const char *attr, *eq, *val;
		size_t vlen;

		while (i < len && (v[i] == ' ' || v[i] == '\t'))
			i++;
		attr = v + i;
		for (n = 0; i + n < len && v[i + n] != ' ' && v[i + n] != '\t'; n++)
			;
		i += n;
		eq = memchr(attr, '=', n);
		if (eq == NULL)
			return perr(p, "Rule %s: \"%s\" is not attr=value",
				    rule_table[id].name, esc_text(attr, n, buf, sizeof(buf)));
		val = eq + 1;
		vlen = n - (size_t)(val - attr);
		if (word_eq(attr, (size_t)(eq - attr), "action")) {
			enum rule_action a;

			if (word_eq(val, vlen, "off"))
				a = ACTION_ACCEPT;
			else if (rule_action_parse(val, vlen, &a) < 0 || a == ACTION_ACCEPT)
				return perr(p, "Rule %s: action \"%s\" is not one of "
					    "reject, tempfail, discard, quarantine, tag, log, off",
					    rule_table[id].name, esc_text(val, vlen, buf, sizeof(buf)));
			pol->rule[id].action = a;
		} else if (word_eq(attr, (size_t)(eq - attr), "limit")) {
			unsigned long lim;
			const struct rule_def *d = &rule_table[id];

			if (d->limit == RULE_NO_LIMIT)
				return perr(p, "Rule %s: this rule has no limit", d->name);
			if (parse_ulong(val, vlen, 10, &lim) < 0 ||
			    lim < d->limit_min || lim > d->limit_max)
				return perr(p, "Rule %s: limit \"%s\" is not a number "
					    "from %lu to %lu", d->name,
					    esc_text(val, vlen, buf, sizeof(buf)),
					    d->limit_min, d->limit_max);
			pol->limits.limit[id] = lim;
		} else if (word_eq(attr, (size_t)(eq - attr), "mode")) {
			if (word_eq(val, vlen, "monitor"))
				pol->rule[id].monitor = true;
			else if (word_eq(val, vlen, "enforce"))
				pol->rule[id].monitor = false;
			else
				return perr(p, "Rule %s: mode must be enforce or monitor",
					    rule_table[id].name);
		} else {
			return perr(p, "Rule %s: unknown attribute \"%s\" (expected "
				    "action, limit or mode)", rule_table[id].name,
				    esc_text(attr, (size_t)(eq - attr), buf, sizeof(buf)));
		}
	}
	return 0;
}

/* Add the networks of one line of text; file is NULL for the config
   itself (errors then name the config's line). */
static int
add_nets(struct cfg_parser *p, const char *v, size_t len, const char *file,
	 unsigned line)
{
	struct net_list *list = &p->cfg->clients.trusted;
	char msg[200];
	size_t i = 0;

	while (i < len) {
		size_t n = 0;

		while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		if (i < len && v[i] == '#')
			break;
		while (i + n < len && v[i + n] != ' ' && v[i + n] != '\t' && v[i + n] != ',')
			n++;
		if (n == 0)
			break;
		if (list->count == NET_LIST_MAX || net_parse(v + i, n, &list->item[list->count],
							    msg, sizeof(msg)) < 0) {
			if (file != NULL) {
				snprintf(p->err->file, sizeof(p->err->file), "%s", file);
				p->line = line;
			}
			return perr(p, "TrustedNetworks: %s", list->count == NET_LIST_MAX ?
				    "more than 1024 networks" : msg);
		}
		list->count++;
		i += n;
	}
	return 0;
}

/* TrustedNetworks: networks inline, or absolute paths of files of them
   (one or more per line, "#" comments). */
static int
parse_nets(struct cfg_parser *p, const char *v, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t n = 0;
		char path[1024], msg[300];
		char *buf;
		size_t blen;

		while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		while (i + n < len && v[i + n] != ' ' && v[i + n] != '\t' && v[i + n] != ',')
			n++;
		if (n == 0)
			break;
		if (v[i] != '/') {
			if (add_nets(p, v + i, n, NULL, 0) < 0)
				return -1;
			i += n;
			continue;
		}
		snprintf(path, sizeof(path), "%.*s", (int)n, v + i);
		if (p->reader == NULL || p->reader->read(p->reader->arg, path, &buf, &blen,
							 msg, sizeof(msg)) < 0)
			return perr(p, "TrustedNetworks: %s", p->reader ? msg :
				    "files cannot be read here");
		for (size_t pos = 0, line = 1; pos < blen; line++) {
			const char *nl = memchr(buf + pos, '\n', blen - pos);
			size_t l = nl ? (size_t)(nl - (buf + pos)) : blen - pos;

			if (add_nets(p, buf + pos, l, path, (unsigned)line) < 0) {
				free(buf);
				return -1;
			}
			pos += l + 1;
		}
		free(buf);
		i += n;
	}
	return 0;
}

/* Override country:GB,RU|asn:1221 <rules> [action=..] [limit=..] [mode=..] */
static int
parse_override(struct cfg_parser *p, const char *v, size_t len)
{
	struct client_rules *cr = &p->cfg->clients;
	struct client_override *o;
	char word[3][512], msg[200], buf[128];
	size_t nwords = 0, i = 0;
	const char *sel;

	if (cr->noverrides == CLIENT_OVERRIDES_MAX)
		return perr(p, "Override: more than %d", CLIENT_OVERRIDES_MAX);
	o = &cr->override[cr->noverrides];
	memset(o, 0, sizeof(*o));
	snprintf(o->text, sizeof(o->text), "%.*s", (int)len, v);
	for (int w = 0; w < 2; w++) {	/* selector, rules */
		size_t n = 0;

		while (i < len && (v[i] == ' ' || v[i] == '\t'))
			i++;
		while (i + n < len && v[i + n] != ' ' && v[i + n] != '\t')
			n++;
		if (n == 0 || n >= sizeof(word[0]))
			return perr(p, "Override: expected \"country:CC[,CC] RULES attr=value\" "
				    "or \"asn:N[,N] RULES attr=value\"");
		snprintf(word[nwords++], sizeof(word[0]), "%.*s", (int)n, v + i);
		i += n;
	}
	sel = word[0];
	if (strncasecmp(sel, "country:", 8) == 0) {
		o->match = MATCH_COUNTRY;
		sel += 8;
	} else if (strncasecmp(sel, "asn:", 4) == 0) {
		o->match = MATCH_ASN;
		sel += 4;
	} else {
		return perr(p, "Override: \"%s\" is not country:CC or asn:N",
			    esc_text(word[0], strlen(word[0]), buf, sizeof(buf)));
	}
	for (const char *s = sel; *s != '\0';) {
		size_t n = strcspn(s, ",");

		if (o->nvalues == CLIENT_VALUES_MAX)
			return perr(p, "Override: more than %d values", CLIENT_VALUES_MAX);
		if (o->match == MATCH_COUNTRY) {
			if (n != 2 || !((s[0] | 0x20) >= 'a' && (s[0] | 0x20) <= 'z') ||
			    !((s[1] | 0x20) >= 'a' && (s[1] | 0x20) <= 'z'))
				return perr(p, "Override: \"%s\" is not a two-letter country code",
					    esc_text(s, n, buf, sizeof(buf)));
			o->country[o->nvalues][0] = (char)(s[0] & ~0x20);
			o->country[o->nvalues][1] = (char)(s[1] & ~0x20);
		} else {
			const char *d = (n > 2 && strncasecmp(s, "AS", 2) == 0) ? s + 2 : s;
			unsigned long asn;

			if (parse_ulong(d, n - (size_t)(d - s), 10, &asn) < 0 || asn == 0 ||
			    asn > 4294967295UL)
				return perr(p, "Override: \"%s\" is not an AS number",
					    esc_text(s, n, buf, sizeof(buf)));
			o->asn[o->nvalues] = asn;
		}
		o->nvalues++;
		s += n + (s[n] == ',' ? 1 : 0);
	}
	if (o->nvalues == 0)
		return perr(p, "Override: no country or AS number given");
	if (rule_set_parse(word[1], strlen(word[1]), &o->rules, msg, sizeof(msg)) < 0)
		return perr(p, "Override: %s", msg);
	while (i < len) {
		size_t n = 0;
		const char *a, *eq;

		while (i < len && (v[i] == ' ' || v[i] == '\t'))
			i++;
		a = v + i;
		while (i + n < len && v[i + n] != ' ' && v[i + n] != '\t')
			n++;
		i += n;
		if (n == 0)
			break;
		eq = memchr(a, '=', n);
		if (eq == NULL)
			return perr(p, "Override: \"%s\" is not attr=value",
				    esc_text(a, n, buf, sizeof(buf)));
		if (word_eq(a, (size_t)(eq - a), "action")) {
			if (word_eq(eq + 1, n - (size_t)(eq + 1 - a), "off"))
				o->action = ACTION_ACCEPT;
			else if (rule_action_parse(eq + 1, n - (size_t)(eq + 1 - a), &o->action) < 0 ||
				 o->action == ACTION_ACCEPT)
				return perr(p, "Override: action \"%s\" is not one of reject, "
					    "tempfail, discard, quarantine, tag, log, off",
					    esc_text(eq + 1, n - (size_t)(eq + 1 - a), buf, sizeof(buf)));
			o->has_action = true;
		} else if (word_eq(a, (size_t)(eq - a), "limit")) {
			bool any = false;

			if (parse_ulong(eq + 1, n - (size_t)(eq + 1 - a), 10, &o->limit) < 0)
				return perr(p, "Override: limit \"%s\" is not a number",
					    esc_text(eq + 1, n - (size_t)(eq + 1 - a), buf, sizeof(buf)));
			for (size_t r = 0; r < RULE_COUNT; r++) {
				const struct rule_def *d = &rule_table[r];

				if (!rule_set_has(&o->rules, (enum rule_id)r) || d->limit == RULE_NO_LIMIT)
					continue;
				any = true;
				if (o->limit < d->limit_min || o->limit > d->limit_max)
					return perr(p, "Override: limit %lu is outside %lu to %lu for %s",
						    o->limit, d->limit_min, d->limit_max, d->name);
			}
			if (!any)
				return perr(p, "Override: none of these rules has a limit");
			o->has_limit = true;
		} else if (word_eq(a, (size_t)(eq - a), "mode")) {
			if (word_eq(eq + 1, n - (size_t)(eq + 1 - a), "monitor"))
				o->monitor = true;
			else if (!word_eq(eq + 1, n - (size_t)(eq + 1 - a), "enforce"))
				return perr(p, "Override: mode must be enforce or monitor");
			o->has_mode = true;
		} else {
			return perr(p, "Override: unknown attribute \"%s\" (expected action, "
				    "limit or mode)", esc_text(a, (size_t)(eq - a), buf, sizeof(buf)));
		}
	}
	if (!o->has_action && !o->has_limit && !o->has_mode)
		return perr(p, "Override: expected action=, limit= or mode=");
	cr->noverrides++;
	return 0;
}

static int
set_key(struct cfg_parser *p, enum cfg_key_id k, const char *v, size_t len)
{
	const struct cfg_key *key = &cfg_keys[k];
	struct cfg *cfg = p->cfg;
	char buf[128];
	unsigned long n;
	const char *why;

	switch (key->type) {
	case CT_SOCKET: {
		char err[300];
		char *spec = dup_value(v, len);
		int r;

		if (spec == NULL)
			return perr(p, "out of memory");
		r = sockspec_parse(spec, &cfg->sock, err, sizeof(err));
		free(cfg->socket);
		cfg->socket = spec;
		if (r < 0)
			return perr(p, "Socket: %s", err);
		return check_printable(p, key->name, v, len);
	}
	case CT_OCTAL:
		if (parse_ulong(v, len, 8, &n) < 0 || n > key->max)
			return perr(p, "%s: \"%s\" is not an octal mode from 0 to %lo",
				    key->name, esc_text(v, len, buf, sizeof(buf)), key->max);
		cfg->umask = (unsigned)n;
		return 0;
	case CT_ULONG:
		if (parse_ulong(v, len, 10, &n) < 0 || n < key->min || n > key->max)
			return perr(p, "%s: \"%s\" is not a number from %lu to %lu",
				    key->name, esc_text(v, len, buf, sizeof(buf)),
				    key->min, key->max);
		*(k == K_SAMPLE ? &cfg->sample_length :
		  k == K_MAXCONN ? &cfg->max_connections :
		  k == K_IDLE ? &cfg->idle_timeout : &cfg->body_inspect_limit) = n;
		return 0;
	case CT_BOOL: {
		bool b;

		if (parse_bool(v, len, &b) < 0)
			return perr(p, "%s: \"%s\" is not yes or no", key->name,
				    esc_text(v, len, buf, sizeof(buf)));
		*(k == K_REMOTE ? &cfg->allow_remote_socket :
		  k == K_AUDITSYSLOG ? &cfg->audit_syslog :
		  k == K_AUDITSTDOUT ? &cfg->audit_stdout :
		  k == K_AUDITALL ? &cfg->audit_all :
		  k == K_RUNASROOT ? &cfg->run_as_root :
		  &cfg->clients.exempt_authenticated) = b;
		return 0;
	}
	case CT_MODE:
		if (word_eq(v, len, "enforce"))
			cfg->policy.mode = MODE_ENFORCE;
		else if (word_eq(v, len, "monitor"))
			cfg->policy.mode = MODE_MONITOR;
		else
			return perr(p, "%s: \"%s\" is not enforce or monitor",
				    key->name, esc_text(v, len, buf, sizeof(buf)));
		return 0;
	case CT_ERROR_ACTION:
	case CT_AUDIT_ACTION: {
		enum rule_action a;

		if (rule_action_parse(v, len, &a) < 0 ||
		    !(a == ACTION_ACCEPT || a == ACTION_TEMPFAIL ||
		      (a == ACTION_REJECT && key->type == CT_ERROR_ACTION)))
			return perr(p, "%s: \"%s\" is not %s", key->name,
				    esc_text(v, len, buf, sizeof(buf)),
				    key->type == CT_ERROR_ACTION ?
				    "accept, tempfail or reject" : "accept or tempfail");
		if (key->type == CT_ERROR_ACTION)
			cfg->policy.on_internal_error = a;
		else
			cfg->on_audit_failure = a;
		return 0;
	}
	case CT_FACILITY:
		for (size_t i = 0; facilities[i] != NULL; i++)
			if (word_eq(v, len, facilities[i]))
				return set_string(p, k == K_AUDITFACILITY ?
						  &cfg->audit_syslog_facility :
						  &cfg->syslog_facility,
						  facilities[i], strlen(facilities[i]));
		return perr(p, "%s: \"%s\" is not mail, daemon, user or local0 to local7",
			    key->name, esc_text(v, len, buf, sizeof(buf)));
	case CT_TEXT:
		if (!rpl_text_valid(v, len, &why))
			return perr(p, "%s: %s", key->name, why);
		memcpy(k == K_REJECTTEXT ? cfg->policy.reject_text :
		       cfg->policy.tempfail_text, v, len);
		(k == K_REJECTTEXT ? cfg->policy.reject_text :
		 cfg->policy.tempfail_text)[len] = '\0';
		return 0;
	case CT_PATH:
		if (len > 0 && v[0] != '/')
			return perr(p, "%s: \"%s\" is not an absolute path", key->name,
				    esc_text(v, len, buf, sizeof(buf)));
		if (check_printable(p, key->name, v, len) < 0)
			return -1;
		return set_string(p, k == K_PIDFILE ? &cfg->pidfile :
				  k == K_AUDITLOG ? &cfg->audit_log :
				  k == K_AUDITKEY ? &cfg->audit_key_file :
				  k == K_AUDITSOCKET ? &cfg->audit_syslog_socket :
				  k == K_GEOCOUNTRY ? &cfg->geoip_country_db :
				  &cfg->geoip_asn_db, v, len);
	case CT_STRING:
		if (check_printable(p, key->name, v, len) < 0)
			return -1;
		return set_string(p, &cfg->user, v, len);
	case CT_RULE:
		return parse_rule(p, v, len);
	case CT_NETS:
		return parse_nets(p, v, len);
	case CT_RULESET: {
		char msg[200];

		if (rule_set_parse(v, len, k == K_TRUSTEDEXEMPT ?
				   &cfg->clients.trusted_exempt :
				   &cfg->clients.authenticated_exempt, msg, sizeof(msg)) < 0)
			return perr(p, "%s: %s", key->name, msg);
		return 0;
	}
	case CT_OVERRIDE:
		return parse_override(p, v, len);
	}
	return perr(p, "internal error: key type");
}

/* Cut the value at a comment, drop surrounding blanks and quotes.
   Returns -1 on an unterminated quote. */
static int
clean_value(char *v, size_t *len_r)
{
	size_t len = *len_r, o = 0;
	bool quoted = len > 0 && v[0] == '"';

	if (!quoted) {
		for (size_t i = 0; i < len; i++) {
			if (v[i] == '#' && i > 0 && (v[i - 1] == ' ' || v[i - 1] == '\t')) {
				len = i;
				break;
			}
		}
		while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
			len--;
		*len_r = len;
		return 0;
	}
	for (size_t i = 1; i < len; i++) {
		if (v[i] == '\\' && i + 1 < len) {
			v[o++] = v[++i];
		} else if (v[i] == '"') {
			/* only blanks or a comment may follow */
			for (size_t j = i + 1; j < len; j++) {
				if (v[j] == '#')
					break;
				if (v[j] != ' ' && v[j] != '\t')
					return -1;
			}
			*len_r = o;
			return 0;
		} else {
			v[o++] = v[i];
		}
	}
	return -1;
}

static int
parse_line(struct cfg_parser *p, char *l, size_t len)
{
	size_t i = 0, klen, vstart;
	char buf[128];
	size_t vlen;

	while (i < len && (l[i] == ' ' || l[i] == '\t'))
		i++;
	if (i == len || l[i] == '#')
		return 0;
	for (klen = 0; i + klen < len && l[i + klen] != ' ' && l[i + klen] != '\t'; klen++)
		;
	vstart = i + klen;
	while (vstart < len && (l[vstart] == ' ' || l[vstart] == '\t'))
		vstart++;
	vlen = len - vstart;
	if (clean_value(l + vstart, &vlen) < 0)
		return perr(p, "unterminated or misplaced double quote");
	for (size_t k = 0; k < K_COUNT; k++) {
		if (!word_eq(l + i, klen, cfg_keys[k].name))
			continue;
		if (k != K_RULE && k != K_OVERRIDE && p->seen[k])
			return perr(p, "%s: given twice", cfg_keys[k].name);
		p->seen[k] = true;
		return set_key(p, (enum cfg_key_id)k, l + vstart, vlen);
	}
	return perr(p, "unknown key \"%s\" (the keys are listed in "
		    "milter-guard.conf(5))", esc_text(l + i, klen, buf, sizeof(buf)));
}

static int
apply_defaults(struct cfg_parser *p)
{
	for (size_t k = 0; k < K_COUNT; k++) {
		if (cfg_keys[k].def == NULL)
			continue;
		if (set_key(p, (enum cfg_key_id)k, cfg_keys[k].def,
			    strlen(cfg_keys[k].def)) < 0)
			return -1;
	}
	return 0;
}

static struct cfg *
cfg_new(void)
{
	struct cfg *cfg = calloc(1, sizeof(*cfg));

	if (cfg != NULL)
		pol_init(&cfg->policy);
	return cfg;
}

static void
error_init(struct cfg_error *err, const char *file)
{
	memset(err, 0, sizeof(*err));
	snprintf(err->file, sizeof(err->file), "%s", file);
}

int
cfg_defaults(struct cfg **cfg_r)
{
	struct cfg_error err;

	return cfg_load("", 0, "(defaults)", NULL, cfg_r, &err);
}

int
cfg_load(const char *buf, size_t len, const char *file,
	 const struct cfg_reader *reader, struct cfg **cfg_r, struct cfg_error *err)
{
	struct cfg_parser p = { 0 };
	char line[CFG_LINE_MAX];
	size_t pos = 0;

	*cfg_r = NULL;
	error_init(err, file);
	p.err = err;
	p.reader = reader;
	p.cfg = cfg_new();
	if (p.cfg == NULL)
		return perr(&p, "out of memory");
	if (apply_defaults(&p) < 0)
		goto fail;
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t raw = nl ? (size_t)(nl - (buf + pos)) : len - pos;
		size_t l = raw;

		p.line++;
		if (l > 0 && buf[pos + l - 1] == '\r')
			l--;
		if (l >= sizeof(line)) {
			perr(&p, "line longer than %d octets", CFG_LINE_MAX - 1);
			goto fail;
		}
		if (memchr(buf + pos, '\0', l) != NULL) {
			perr(&p, "NUL byte in line");
			goto fail;
		}
		memcpy(line, buf + pos, l);
		line[l] = '\0';
		if (parse_line(&p, line, l) < 0)
			goto fail;
		pos += raw + (nl ? 1 : 0);
	}
	p.line = 0;
	if (cfg_validate(p.cfg, err) < 0)
		goto fail;
	*cfg_r = p.cfg;
	return 0;
fail:
	cfg_free(&p.cfg);
	return -1;
}

int
cfg_validate(const struct cfg *cfg, struct cfg_error *err)
{
	if (!cfg->allow_remote_socket && !sockspec_is_local(&cfg->sock)) {
		err->line = 0;
		snprintf(err->msg, sizeof(err->msg),
			 "Socket %s listens on %s: the milter protocol has no "
			 "authentication, so anyone who reaches it can read and "
			 "change mail; use a unix socket or a loopback address, "
			 "or set AllowRemoteSocket yes", cfg->socket,
			 cfg->sock.host[0] ? "a non-loopback address" : "every address");
		return -1;
	}
	return 0;
}

int
cfg_set_socket(struct cfg *cfg, const char *spec, struct cfg_error *err)
{
	char msg[300];
	char *copy;

	err->line = 0;
	if (sockspec_parse(spec, &cfg->sock, msg, sizeof(msg)) < 0) {
		snprintf(err->msg, sizeof(err->msg), "%s", msg);
		return -1;
	}
	if (!is_printable(spec, strlen(spec))) {
		snprintf(err->msg, sizeof(err->msg), "Socket: value must be printable US-ASCII");
		return -1;
	}
	copy = strdup(spec);
	if (copy == NULL) {
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return -1;
	}
	free(cfg->socket);
	cfg->socket = copy;
	return cfg_validate(cfg, err);
}

int
cfg_set_key(struct cfg *cfg, const char *key, const char *value, struct cfg_error *err)
{
	struct cfg_parser p = { .cfg = cfg, .err = err };

	for (size_t k = 0; k < K_COUNT; k++)
		if (word_eq(key, strlen(key), cfg_keys[k].name))
			return set_key(&p, (enum cfg_key_id)k, value, strlen(value));
	return perr(&p, "internal error: no key %s", key);
}

void
cfg_free(struct cfg **cfgp)
{
	struct cfg *cfg = *cfgp;

	if (cfg == NULL)
		return;
	free(cfg->socket);
	free(cfg->user);
	free(cfg->pidfile);
	free(cfg->audit_log);
	free(cfg->syslog_facility);
	free(cfg->audit_syslog_facility);
	free(cfg->audit_key_file);
	free(cfg->audit_syslog_socket);
	free(cfg->geoip_country_db);
	free(cfg->geoip_asn_db);
	free(cfg);
	*cfgp = NULL;
}

void
cfg_error_format(const struct cfg_error *err, char *buf, size_t size)
{
	char file[4 * sizeof(err->file) + 1];

	esc_text(err->file, strlen(err->file), file, sizeof(file));
	if (err->line > 0)
		snprintf(buf, size, "%s:%u: %s", file, err->line, err->msg);
	else
		snprintf(buf, size, "%s: %s", file, err->msg);
}

const char *
cfg_key_name(size_t i)
{
	return i < K_COUNT ? cfg_keys[i].name : NULL;
}
