/*
 * geo.c -- GeoIP lookups (see geo.h)
 */
#include "geo.h"

#include <arpa/inet.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/client.h"
#include "core/esc.h"

struct geo {
	MMDB_s db[2];		/* country, ASN */
	bool open[2];
};

enum { GEO_COUNTRY, GEO_ASN };

static const char *const geo_key[] = { "GeoIPCountryDB", "GeoIPASNDB" };
static const char *const geo_type[] = { "Country", "ASN" };
/* Probe addresses: a lookup of each (and a walk of the record found) must
   not fail on a sound file.  They run before the type check, so that a
   corrupt file is reported as corrupt. */
static const char *const probes[] = { "81.2.69.160", "1.128.0.0", "2001:218::", "::1" };

/* Walk a whole record: libmaxminddb decodes it, so a corrupt data section
   shows here rather than on live mail. */
static int
walk_record(MMDB_lookup_result_s *res)
{
	MMDB_entry_data_list_s *list = NULL;
	int r;

	if (!res->found_entry)
		return MMDB_SUCCESS;
	r = MMDB_get_entry_data_list(&res->entry, &list);
	MMDB_free_entry_data_list(list);
	return r;
}

static int
open_one(struct geo *g, int which, const char *path, char *err, size_t errsize)
{
	MMDB_s *db = &g->db[which];
	int r = MMDB_open(path, MMDB_MODE_MMAP, db);

	if (r != MMDB_SUCCESS) {
		snprintf(err, errsize, "%s %s: %s", geo_key[which], path,
			 r == MMDB_IO_ERROR ? "cannot be read" : MMDB_strerror(r));
		return -1;
	}
	g->open[which] = true;
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		int gai = 0, mmdb = MMDB_SUCCESS;
		MMDB_lookup_result_s res = MMDB_lookup_string(db, probes[i], &gai, &mmdb);

		if (mmdb == MMDB_IPV6_LOOKUP_IN_IPV4_DATABASE_ERROR)
			continue;	/* an IPv4-only database is sound */
		if (gai == 0 && mmdb == MMDB_SUCCESS)
			mmdb = walk_record(&res);
		if (gai == 0 && mmdb != MMDB_SUCCESS) {
			snprintf(err, errsize, "%s %s: corrupt (looking up %s: %s)", geo_key[which],
				 path, probes[i], MMDB_strerror(mmdb));
			return -1;
		}
	}
	if (db->metadata.database_type == NULL ||
	    strstr(db->metadata.database_type, geo_type[which]) == NULL) {
		const char *type = db->metadata.database_type;
		char shown[256];

		snprintf(err, errsize, "%s %s: a %s database, not a %s one", geo_key[which],
			 path, type ? esc_text(type, strlen(type), shown, sizeof(shown)) :
			 "(untyped)", geo_type[which]);
		return -1;
	}
	return 0;
}

int
geo_open(const char *country_path, const char *asn_path, struct geo **g_r,
	 char *err, size_t errsize)
{
	struct geo *g;
	const char *paths[2] = { country_path, asn_path };

	*g_r = NULL;
	if ((country_path == NULL || country_path[0] == '\0') &&
	    (asn_path == NULL || asn_path[0] == '\0'))
		return 0;
	g = calloc(1, sizeof(*g));
	if (g == NULL) {
		snprintf(err, errsize, "GeoIP: out of memory");
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		if (paths[i] != NULL && paths[i][0] != '\0' &&
		    open_one(g, i, paths[i], err, errsize) < 0) {
			geo_close(&g);
			return -1;
		}
	}
	*g_r = g;
	return 0;
}

static void
copy_string(MMDB_entry_s *entry, char *out, size_t size, const char *const *path)
{
	MMDB_entry_data_s data;

	if (MMDB_aget_value(entry, &data, path) == MMDB_SUCCESS && data.has_data &&
	    data.type == MMDB_DATA_TYPE_UTF8_STRING) {
		size_t n = data.data_size < size - 1 ? data.data_size : size - 1;

		memcpy(out, data.utf8_string, n);
		out[n] = '\0';
	}
}

void
geo_lookup(const struct geo *g, const struct sockaddr *sa, struct geo_result *r)
{
	static const char *const country_path[] = { "country", "iso_code", NULL };
	static const char *const asn_path[] = { "autonomous_system_number", NULL };
	static const char *const org_path[] = { "autonomous_system_organization", NULL };
	struct sockaddr_in v4;

	memset(r, 0, sizeof(*r));
	if (g == NULL || sa == NULL)
		return;
	if (sa->sa_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&((const struct sockaddr_in6 *)sa)->sin6_addr)) {
		memset(&v4, 0, sizeof(v4));
		v4.sin_family = AF_INET;
		memcpy(&v4.sin_addr, &((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr[12], 4);
		sa = (const struct sockaddr *)&v4;
	}
	if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)
		return;
	for (int i = 0; i < 2; i++) {
		int mmdb = MMDB_SUCCESS;
		MMDB_lookup_result_s res;

		if (!g->open[i])
			continue;
		res = MMDB_lookup_sockaddr((MMDB_s *)&g->db[i], sa, &mmdb);
		if (mmdb != MMDB_SUCCESS) {
			r->error = MMDB_strerror(mmdb);
			continue;
		}
		if (!res.found_entry)
			continue;
		if (i == GEO_COUNTRY) {
			char cc[8] = "";

			copy_string(&res.entry, cc, sizeof(cc), country_path);
			if (client_country_valid(cc, strlen(cc)))
				memcpy(r->country, cc, 3);
		} else {
			MMDB_entry_data_s data;

			if (MMDB_aget_value(&res.entry, &data, asn_path) == MMDB_SUCCESS &&
			    data.has_data && data.type == MMDB_DATA_TYPE_UINT32)
				r->asn = data.uint32;
			copy_string(&res.entry, r->org, sizeof(r->org), org_path);
		}
	}
}

void
geo_close(struct geo **gp)
{
	struct geo *g = *gp;

	if (g == NULL)
		return;
	for (int i = 0; i < 2; i++)
		if (g->open[i])
			MMDB_close(&g->db[i]);
	free(g);
	*gp = NULL;
}
