/* buf.h - explicit big-endian readers and writers for wire formats.
 *
 * Every ZeroTier field is encoded and decoded through these, never by
 * memcpy of structs. A reader that runs past its end sets ->err and returns
 * zeros from then on, so a parser can read a whole record and check once.
 * A writer that runs out of room sets ->err likewise.
 */
#ifndef NETCON_NODE_BUF_H
#define NETCON_NODE_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct zt_rbuf {
	const uint8_t *p;
	size_t len;
	size_t pos;
	int err;
};

struct zt_wbuf {
	uint8_t *p;
	size_t cap;
	size_t len;
	int err;
};

static inline void zt_rbuf_init(struct zt_rbuf *r, const void *p, size_t len)
{
	r->p = (const uint8_t *)p;
	r->len = len;
	r->pos = 0;
	r->err = 0;
}

static inline size_t zt_rbuf_left(const struct zt_rbuf *r)
{
	return r->err ? 0 : r->len - r->pos;
}

/* zt_rbuf_take() - n bytes in place, or NULL (and ->err) past the end */
static inline const uint8_t *zt_rbuf_take(struct zt_rbuf *r, size_t n)
{
	if (r->err || n > r->len - r->pos) {
		r->err = 1;
		return NULL;
	}
	r->pos += n;
	return r->p + r->pos - n;
}

static inline uint64_t zt_rbuf_be(struct zt_rbuf *r, unsigned nbytes)
{
	const uint8_t *b = zt_rbuf_take(r, nbytes);
	uint64_t v = 0;
	if (!b)
		return 0;
	for (unsigned i = 0; i < nbytes; i++)
		v = (v << 8) | b[i];
	return v;
}

static inline uint8_t zt_rbuf_u8(struct zt_rbuf *r) { return (uint8_t)zt_rbuf_be(r, 1); }
static inline uint16_t zt_rbuf_u16(struct zt_rbuf *r) { return (uint16_t)zt_rbuf_be(r, 2); }
static inline uint32_t zt_rbuf_u32(struct zt_rbuf *r) { return (uint32_t)zt_rbuf_be(r, 4); }
static inline uint64_t zt_rbuf_u64(struct zt_rbuf *r) { return zt_rbuf_be(r, 8); }
/* 40-bit ZeroTier address */
static inline uint64_t zt_rbuf_addr(struct zt_rbuf *r) { return zt_rbuf_be(r, 5); }
/* 48-bit MAC */
static inline uint64_t zt_rbuf_mac(struct zt_rbuf *r) { return zt_rbuf_be(r, 6); }

static inline int zt_rbuf_copy(struct zt_rbuf *r, void *out, size_t n)
{
	const uint8_t *b = zt_rbuf_take(r, n);
	if (!b)
		return -1;
	memcpy(out, b, n);
	return 0;
}

static inline void zt_wbuf_init(struct zt_wbuf *w, void *p, size_t cap)
{
	w->p = (uint8_t *)p;
	w->cap = cap;
	w->len = 0;
	w->err = 0;
}

/* zt_wbuf_room() - reserve n bytes, or NULL (and ->err) if they do not fit */
static inline uint8_t *zt_wbuf_room(struct zt_wbuf *w, size_t n)
{
	if (w->err || n > w->cap - w->len) {
		w->err = 1;
		return NULL;
	}
	w->len += n;
	return w->p + w->len - n;
}

static inline void zt_wbuf_be(struct zt_wbuf *w, uint64_t v, unsigned nbytes)
{
	uint8_t *b = zt_wbuf_room(w, nbytes);
	if (!b)
		return;
	for (unsigned i = nbytes; i > 0; i--) {
		b[i - 1] = (uint8_t)v;
		v >>= 8;
	}
}

static inline void zt_wbuf_u8(struct zt_wbuf *w, uint8_t v) { zt_wbuf_be(w, v, 1); }
static inline void zt_wbuf_u16(struct zt_wbuf *w, uint16_t v) { zt_wbuf_be(w, v, 2); }
static inline void zt_wbuf_u32(struct zt_wbuf *w, uint32_t v) { zt_wbuf_be(w, v, 4); }
static inline void zt_wbuf_u64(struct zt_wbuf *w, uint64_t v) { zt_wbuf_be(w, v, 8); }
static inline void zt_wbuf_addr(struct zt_wbuf *w, uint64_t v) { zt_wbuf_be(w, v, 5); }
static inline void zt_wbuf_mac(struct zt_wbuf *w, uint64_t v) { zt_wbuf_be(w, v, 6); }

static inline void zt_wbuf_put(struct zt_wbuf *w, const void *src, size_t n)
{
	uint8_t *b = zt_wbuf_room(w, n);
	if (b && n)
		memcpy(b, src, n);
}

/* Plain big-endian loads/stores on raw bytes, for fixed header offsets. */
static inline uint64_t zt_load_be(const uint8_t *b, unsigned nbytes)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < nbytes; i++)
		v = (v << 8) | b[i];
	return v;
}

static inline void zt_store_be(uint8_t *b, uint64_t v, unsigned nbytes)
{
	for (unsigned i = nbytes; i > 0; i--) {
		b[i - 1] = (uint8_t)v;
		v >>= 8;
	}
}

#endif
