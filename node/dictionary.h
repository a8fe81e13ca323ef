/* dictionary.h - ZeroTier Dictionary codec (PROTOCOL.md §7.1).
 *
 * A dictionary is key=value entries separated by LF with escaped values.
 * Readers work on (pointer, length) and never run past it; a NUL byte also
 * ends the dictionary (stored copies are NUL-terminated). Writers append to
 * a zt_wbuf and set its ->err on overflow.
 */
#ifndef NETCON_NODE_DICTIONARY_H
#define NETCON_NODE_DICTIONARY_H

#include <stddef.h>
#include <stdint.h>

#include "node/buf.h"

/* zt_dict_get() - the unescaped value of key into out (cap bytes, no NUL
 * added). Return: value length, -ENOENT if absent, -ENOSPC if it does not fit. */
int zt_dict_get(const void *dict, size_t len, const char *key, void *out, size_t cap);

/* zt_dict_get_str() - like zt_dict_get() but NUL-terminates (cap includes
 * the NUL). Return: string length or -ENOENT / -ENOSPC. */
int zt_dict_get_str(const void *dict, size_t len, const char *key, char *out, size_t cap);

/* zt_dict_get_u64() - hex integer value (a leading '-' negates). Return 0 or -ENOENT. */
int zt_dict_get_u64(const void *dict, size_t len, const char *key, uint64_t *v);

/* zt_dict_get_u64_def() - hex integer value, or def if absent. */
uint64_t zt_dict_get_u64_def(const void *dict, size_t len, const char *key, uint64_t def);

/* zt_dict_get_bool() - '1', 't' or 'T' are true. Return 0/1, or def if absent. */
int zt_dict_get_bool(const void *dict, size_t len, const char *key, int def);

/* zt_dict_index() - one scan: at[k] = offset of the line holding the first
 * entry for keys[k], or len if there is none. A lookup of keys[k] in
 * (dict + at[k], len - at[k]) finds what a lookup in the whole dictionary
 * finds, without scanning the entries before it. */
void zt_dict_index(const void *dict, size_t len, const char *const *keys, unsigned n, size_t *at);

/* zt_dict_add() - append key=escaped(val); a LF separates entries. */
void zt_dict_add(struct zt_wbuf *w, const char *key, const void *val, size_t vlen);
/* zt_dict_add_str() - NUL-terminated string value */
void zt_dict_add_str(struct zt_wbuf *w, const char *key, const char *s);
/* zt_dict_add_u64() - 16 zero-padded lowercase hex digits (official encoder) */
void zt_dict_add_u64(struct zt_wbuf *w, const char *key, uint64_t v);
/* zt_dict_add_hex() - minimal lowercase hex (used in request metadata) */
void zt_dict_add_hex(struct zt_wbuf *w, const char *key, uint64_t v);
/* zt_dict_add_addr() - 10 hex digits */
void zt_dict_add_addr(struct zt_wbuf *w, const char *key, uint64_t addr);
/* zt_dict_add_bool() - "1" or "0" */
void zt_dict_add_bool(struct zt_wbuf *w, const char *key, int b);

/* zt_dict_escape() - escape len bytes into w (no key, no separator). */
void zt_dict_escape(struct zt_wbuf *w, const void *val, size_t len);

#endif
