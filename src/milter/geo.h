/*
 * geo.h -- GeoIP lookups (libmaxminddb): country and autonomous system
 *
 * The databases are opened (memory-mapped) when a config loads, checked
 * with probe lookups so that a corrupt file is refused then, with its
 * name, and kept with that config: connections use the databases of the
 * config they started with, and a reload that fails keeps the old ones.
 * A lookup error never blocks mail: the client is just unknown.
 */
#ifndef MG_GEO_H
#define MG_GEO_H

#include <stddef.h>
#include <sys/socket.h>

#define GEO_ORG_MAX 128

struct geo;

struct geo_result {
	char country[3];	/* ISO 3166 alpha-2, "" if unknown */
	unsigned long asn;	/* 0 if unknown */
	char org[GEO_ORG_MAX];	/* raw bytes from the database, "" if unknown */
	const char *error;	/* a lookup error (static text), or NULL */
};

/* Either path may be NULL or "": that database is not used. */
int geo_open(const char *country_path, const char *asn_path, struct geo **g_r,
	     char *err, size_t errsize);
void geo_lookup(const struct geo *g, const struct sockaddr *sa, struct geo_result *r);
void geo_close(struct geo **g);

#endif
