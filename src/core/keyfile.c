/*
 * keyfile.c -- what makes an audit key file acceptable (see keyfile.h)
 */
#include "keyfile.h"

#include "chain.h"

struct mode_rule {
	unsigned bit;
	const char *why;
};

static const struct mode_rule mode_rules[] = {
	{ 0004, "readable by others" },
	{ 0002, "writable by others" },
	{ 0020, "writable by its group" },
};

const char *
keyfile_mode_problem(unsigned mode)
{
	for (size_t i = 0; i < sizeof(mode_rules) / sizeof(mode_rules[0]); i++)
		if (mode & mode_rules[i].bit)
			return mode_rules[i].why;
	return NULL;
}

size_t
keyfile_key_len(const char *buf, size_t len)
{
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' ||
			   buf[len - 1] == ' ' || buf[len - 1] == '\t'))
		len--;
	return len;
}

const char *
keyfile_length_problem(size_t keylen)
{
	if (keylen < CHAIN_KEY_MIN)
		return "the key is shorter than 16 octets";
	if (keylen > CHAIN_KEY_MAX)
		return "the key is longer than 1024 octets";
	return NULL;
}
