/* dictionary.c - ZeroTier Dictionary codec (PROTOCOL.md §7.1).
 *
 * Theory of operation: lookups scan the entries once, comparing keys in
 * place; the first matching key wins. zt_dict_index() finds many keys in
 * one scan for readers that want a dozen of them (network configs). A value ends at an unescaped CR, LF
 * or NUL, or at the end of the buffer. Nothing is allocated.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "node/dictionary.h"

/* dict_key() - the key of the line at *pos (*ks, *klen).
 * Return: 1 with *pos at the value's first byte for an entry, 0 for a line
 * without '=' (*pos at its end), -1 at the end of the dictionary. */
static int dict_key(const uint8_t *d, size_t len, size_t *pos, size_t *ks, size_t *klen)
{
	size_t i = *pos;

	if (i >= len || !d[i])
		return -1;
	*ks = i;
	/* key: up to '=' or end of line */
	while (i < len && d[i] && d[i] != '=' && d[i] != '\n' && d[i] != '\r')
		i++;
	if (i < len && d[i] == '=') {
		*klen = i - *ks;
		*pos = i + 1;
		return 1;
	}
	*pos = i;
	return 0;
}

/* dict_skip() - move *pos past the rest of the line, honouring escapes, and
 * its separator (to len at the end of the dictionary) */
static void dict_skip(const uint8_t *d, size_t len, size_t *pos)
{
	size_t i = *pos;

	while (i < len && d[i] && d[i] != '\n' && d[i] != '\r') {
		if (d[i] == '\\')
			i++;
		i++;
	}
	*pos = (i >= len || !d[i]) ? len : i + 1;
}

/* dict_find() - locate key's raw (still escaped) value.
 * Return: offset of the value's first byte, or -1 if absent. */
static long dict_find(const uint8_t *d, size_t len, const char *key)
{
	size_t klen = strlen(key), pos = 0, ks, kl;
	int r;

	while ((r = dict_key(d, len, &pos, &ks, &kl)) >= 0) {
		if (r && kl == klen && memcmp(d + ks, key, klen) == 0)
			return (long)pos;
		dict_skip(d, len, &pos);
	}
	return -1;
}

/* zt_dict_index() - where each of n keys first appears, in one pass */
void zt_dict_index(const void *dict, size_t len, const char *const *keys, unsigned n, size_t *at)
{
	const uint8_t *d = dict;
	size_t pos = 0, ks, kl;
	unsigned left = n;
	int r;

	for (unsigned k = 0; k < n; k++)
		at[k] = len;
	while (left && (r = dict_key(d, len, &pos, &ks, &kl)) >= 0) {
		for (unsigned k = 0; r && k < n; k++)
			if (at[k] == len && strlen(keys[k]) == kl && memcmp(d + ks, keys[k], kl) == 0) {
				at[k] = ks;
				left--;
			}
		dict_skip(d, len, &pos);
	}
}

/* zt_dict_get() - unescaped value of key */
int zt_dict_get(const void *dict, size_t len, const char *key, void *out, size_t cap)
{
	const uint8_t *d = dict;
	uint8_t *o = out;
	long at = dict_find(d, len, key);
	size_t n = 0;

	if (at < 0)
		return -ENOENT;
	for (size_t i = (size_t)at; i < len && d[i] && d[i] != '\n' && d[i] != '\r'; i++) {
		uint8_t c = d[i];
		if (c == '\\') {
			if (++i >= len)
				break;
			switch (d[i]) {
			case 'r': c = '\r'; break;
			case 'n': c = '\n'; break;
			case '0': c = 0; break;
			case 'e': c = '='; break;
			default: c = d[i]; break;
			}
		}
		if (n >= cap)
			return -ENOSPC;
		o[n++] = c;
	}
	return (int)n;
}

/* zt_dict_get_str() - NUL-terminated value */
int zt_dict_get_str(const void *dict, size_t len, const char *key, char *out, size_t cap)
{
	int r;

	if (!cap)
		return -ENOSPC;
	r = zt_dict_get(dict, len, key, out, cap - 1);
	if (r < 0) {
		out[0] = 0;
		return r;
	}
	out[r] = 0;
	return r;
}

/* zt_dict_get_u64() - hex integer; stops at the first non-hex digit */
int zt_dict_get_u64(const void *dict, size_t len, const char *key, uint64_t *v)
{
	char s[40];
	int r = zt_dict_get_str(dict, len, key, s, sizeof(s));
	uint64_t x = 0;
	int neg = 0;
	const char *p = s;

	if (r == -ENOSPC) {
		*v = 0;	/* absurdly long number: treat as zero, like a failed strtoull */
		return 0;
	}
	if (r < 0)
		return r;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '-') {
		neg = 1;
		p++;
	}
	for (; *p; p++) {
		unsigned dgt;
		if (*p >= '0' && *p <= '9')
			dgt = (unsigned)(*p - '0');
		else if (*p >= 'a' && *p <= 'f')
			dgt = (unsigned)(*p - 'a' + 10);
		else if (*p >= 'A' && *p <= 'F')
			dgt = (unsigned)(*p - 'A' + 10);
		else
			break;
		x = (x << 4) | dgt;
	}
	*v = neg ? (uint64_t)0 - x : x;
	return 0;
}

/* zt_dict_get_u64_def() - hex integer or default */
uint64_t zt_dict_get_u64_def(const void *dict, size_t len, const char *key, uint64_t def)
{
	uint64_t v;
	return zt_dict_get_u64(dict, len, key, &v) == 0 ? v : def;
}

/* zt_dict_get_bool() - boolean or default; only the first byte counts */
int zt_dict_get_bool(const void *dict, size_t len, const char *key, int def)
{
	const uint8_t *d = dict;
	long at = dict_find(d, len, key);
	uint8_t c;

	if (at < 0)
		return def;
	c = (size_t)at < len ? d[at] : 0;
	return c == '1' || c == 't' || c == 'T';
}

/* zt_dict_escape() - escaped bytes */
void zt_dict_escape(struct zt_wbuf *w, const void *val, size_t len)
{
	const uint8_t *v = val;

	for (size_t i = 0; i < len; i++) {
		switch (v[i]) {
		case 0: zt_wbuf_put(w, "\\0", 2); break;
		case '\r': zt_wbuf_put(w, "\\r", 2); break;
		case '\n': zt_wbuf_put(w, "\\n", 2); break;
		case '\\': zt_wbuf_put(w, "\\\\", 2); break;
		case '=': zt_wbuf_put(w, "\\e", 2); break;
		default: zt_wbuf_u8(w, v[i]); break;
		}
	}
}

/* zt_dict_add() - append one entry */
void zt_dict_add(struct zt_wbuf *w, const char *key, const void *val, size_t vlen)
{
	if (w->len)
		zt_wbuf_u8(w, '\n');
	zt_wbuf_put(w, key, strlen(key));
	zt_wbuf_u8(w, '=');
	zt_dict_escape(w, val, vlen);
}

void zt_dict_add_str(struct zt_wbuf *w, const char *key, const char *s)
{
	zt_dict_add(w, key, s, strlen(s));
}

void zt_dict_add_u64(struct zt_wbuf *w, const char *key, uint64_t v)
{
	char s[20];
	snprintf(s, sizeof(s), "%016llx", (unsigned long long)v);
	zt_dict_add(w, key, s, 16);
}

void zt_dict_add_hex(struct zt_wbuf *w, const char *key, uint64_t v)
{
	char s[20];
	int n = snprintf(s, sizeof(s), "%llx", (unsigned long long)v);
	zt_dict_add(w, key, s, (size_t)n);
}

void zt_dict_add_addr(struct zt_wbuf *w, const char *key, uint64_t addr)
{
	char s[16];
	snprintf(s, sizeof(s), "%010llx", (unsigned long long)(addr & 0xffffffffffULL));
	zt_dict_add(w, key, s, 10);
}

void zt_dict_add_bool(struct zt_wbuf *w, const char *key, int b)
{
	zt_dict_add(w, key, b ? "1" : "0", 1);
}
