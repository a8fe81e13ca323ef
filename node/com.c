/* com.c - Certificate of Membership, Revocation, credential skip-parsers. */
#include <errno.h>
#include <string.h>

#include "node/buf.h"
#include "node/com.h"
#include "node/crypto.h"

/* zt_identity_hash_qualifiers() - SHA-384(address ‖ pub) as 4 big-endian u64 */
void zt_identity_hash_qualifiers(const struct zt_identity *id, uint64_t out[4])
{
	uint8_t in[5 + 64], h[48];

	zt_store_be(in, id->address, 5);
	memcpy(in + 5, id->pub, 64);
	zt_sha384(h, in, sizeof(in));
	for (int i = 0; i < 4; i++)
		out[i] = zt_load_be(h + 8 * i, 8);
}

/* zt_com_init() - the 7 official qualifiers */
void zt_com_init(struct zt_com *c, uint64_t ts, uint64_t max_delta, uint64_t nwid,
		 const struct zt_identity *issued_to)
{
	uint64_t h[4];

	memset(c, 0, sizeof(*c));
	c->q[0] = (struct zt_com_qualifier){ ZT_COM_Q_TIMESTAMP, ts, max_delta };
	c->q[1] = (struct zt_com_qualifier){ ZT_COM_Q_NETWORK_ID, nwid, 0 };
	c->q[2] = (struct zt_com_qualifier){ ZT_COM_Q_ISSUED_TO, issued_to->address, UINT64_MAX };
	zt_identity_hash_qualifiers(issued_to, h);
	for (int i = 0; i < 4; i++)
		c->q[3 + i] = (struct zt_com_qualifier){ (uint64_t)(3 + i), h[i], UINT64_MAX };
	c->n = 7;
}

/* com_write_qualifiers() - the signed region */
static void com_write_qualifiers(const struct zt_com *c, struct zt_wbuf *w)
{
	for (unsigned i = 0; i < c->n; i++) {
		zt_wbuf_u64(w, c->q[i].id);
		zt_wbuf_u64(w, c->q[i].value);
		zt_wbuf_u64(w, c->q[i].max_delta);
	}
}

/* zt_com_serialize() - binary form (§8.1) */
int zt_com_serialize(const struct zt_com *c, uint8_t *out, size_t cap)
{
	struct zt_wbuf w;

	zt_wbuf_init(&w, out, cap);
	zt_wbuf_u8(&w, 1);
	zt_wbuf_u16(&w, (uint16_t)c->n);
	com_write_qualifiers(c, &w);
	zt_wbuf_addr(&w, c->signed_by);
	if (c->signed_by)
		zt_wbuf_put(&w, c->sig, ZT_SIGNATURE_LEN);
	return w.err ? -ENOSPC : (int)w.len;
}

/* zt_com_deserialize() - parse and bounds-check */
int zt_com_deserialize(struct zt_com *c, const uint8_t *in, size_t len)
{
	struct zt_rbuf r;
	unsigned n;

	memset(c, 0, sizeof(*c));
	zt_rbuf_init(&r, in, len);
	if (zt_rbuf_u8(&r) != 1)
		return -EINVAL;
	n = zt_rbuf_u16(&r);
	if (r.err || n > ZT_COM_MAX_QUALIFIERS)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		c->q[i].id = zt_rbuf_u64(&r);
		c->q[i].value = zt_rbuf_u64(&r);
		c->q[i].max_delta = zt_rbuf_u64(&r);
	}
	c->n = n;
	c->signed_by = zt_rbuf_addr(&r);
	if (c->signed_by)
		zt_rbuf_copy(&r, c->sig, ZT_SIGNATURE_LEN);
	if (r.err)
		return -EINVAL;
	return (int)r.pos;
}

/* zt_com_sign() - sign the qualifiers with the controller identity */
int zt_com_sign(struct zt_com *c, const struct zt_identity *signer)
{
	uint8_t buf[24 * ZT_COM_MAX_QUALIFIERS];
	struct zt_wbuf w;

	if (!signer->has_private)
		return -EINVAL;
	zt_wbuf_init(&w, buf, sizeof(buf));
	com_write_qualifiers(c, &w);
	if (zt_identity_sign(signer, buf, w.len, c->sig) != 0)
		return -EINVAL;
	c->signed_by = signer->address;
	return 0;
}

/* zt_com_verify() - signer matches and the signature verifies */
int zt_com_verify(const struct zt_com *c, const struct zt_identity *signer)
{
	uint8_t buf[24 * ZT_COM_MAX_QUALIFIERS];
	struct zt_wbuf w;

	if (!c->signed_by || c->signed_by != signer->address)
		return 0;
	zt_wbuf_init(&w, buf, sizeof(buf));
	com_write_qualifiers(c, &w);
	return zt_identity_verify(signer, buf, w.len, c->sig, ZT_SIGNATURE_LEN) == 1;
}

/* zt_com_get() - qualifier lookup */
uint64_t zt_com_get(const struct zt_com *c, uint64_t id, int *found)
{
	for (unsigned i = 0; i < c->n; i++) {
		if (c->q[i].id == id) {
			if (found)
				*found = 1;
			return c->q[i].value;
		}
	}
	if (found)
		*found = 0;
	return 0;
}

/* zt_com_agrees() - §8.3 agreement */
int zt_com_agrees(const struct zt_com *ours, const struct zt_com *theirs,
		  const struct zt_identity *their_id)
{
	int full_id = 0;

	if (!ours->n || !theirs->n)
		return 0;
	for (unsigned i = 0; i < ours->n; i++) {
		const struct zt_com_qualifier *q = &ours->q[i];
		uint64_t b, d;
		int found;

		if (q->id >= 3 && q->id <= 6) {
			full_id = 1;
			continue;
		}
		b = zt_com_get(theirs, q->id, &found);
		if (!found)
			return 0;
		d = q->value >= b ? q->value - b : b - q->value;
		if (d > q->max_delta)
			return 0;
	}
	if (full_id) {
		uint64_t h[4];
		if (!their_id)
			return 0;
		zt_identity_hash_qualifiers(their_id, h);
		for (int i = 0; i < 4; i++) {
			int found;
			if (zt_com_get(theirs, (uint64_t)(3 + i), &found) != h[i] || !found)
				return 0;
		}
	}
	return 1;
}

/* ---- Revocation ---- */

/* revocation_write() - body; for_sign omits the signature block */
static void revocation_write(const struct zt_revocation *r, struct zt_wbuf *w, int for_sign)
{
	static const uint8_t pad[8] = { 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f };

	if (for_sign)
		zt_wbuf_put(w, pad, 8);
	zt_wbuf_u32(w, 0);
	zt_wbuf_u32(w, r->id);
	zt_wbuf_u64(w, r->nwid);
	zt_wbuf_u32(w, 0);
	zt_wbuf_u32(w, r->credential_id);
	zt_wbuf_u64(w, r->threshold);
	zt_wbuf_u64(w, r->flags);
	zt_wbuf_addr(w, r->target);
	zt_wbuf_addr(w, r->signed_by);
	zt_wbuf_u8(w, r->type);
	if (!for_sign) {
		if (r->has_sig) {
			zt_wbuf_u8(w, 1);
			zt_wbuf_u16(w, ZT_SIGNATURE_LEN);
			zt_wbuf_put(w, r->sig, ZT_SIGNATURE_LEN);
		} else {
			zt_wbuf_u8(w, 0);
			zt_wbuf_u16(w, 0);
		}
	}
	zt_wbuf_u16(w, 0);
	if (for_sign)
		zt_wbuf_put(w, pad, 8);
}

int zt_revocation_serialize(const struct zt_revocation *r, uint8_t *out, size_t cap)
{
	struct zt_wbuf w;

	zt_wbuf_init(&w, out, cap);
	revocation_write(r, &w, 0);
	return w.err ? -ENOSPC : (int)w.len;
}

/* sigblock_read() - type 1: u16 96 + signature; otherwise u16 len + skip */
static void sigblock_read(struct zt_rbuf *r, uint8_t *sig, int *has_sig)
{
	uint8_t t = zt_rbuf_u8(r);
	unsigned l = zt_rbuf_u16(r);

	if (has_sig)
		*has_sig = 0;
	if (t == 1) {
		if (l != ZT_SIGNATURE_LEN) {
			r->err = 1;
			return;
		}
		if (sig)
			zt_rbuf_copy(r, sig, ZT_SIGNATURE_LEN);
		else
			zt_rbuf_take(r, ZT_SIGNATURE_LEN);
		if (has_sig && !r->err)
			*has_sig = 1;
	} else {
		zt_rbuf_take(r, l);
	}
}

static void ext_skip(struct zt_rbuf *r)
{
	unsigned l = zt_rbuf_u16(r);
	zt_rbuf_take(r, l);
}

int zt_revocation_deserialize(struct zt_revocation *r, const uint8_t *in, size_t len)
{
	struct zt_rbuf b;

	memset(r, 0, sizeof(*r));
	zt_rbuf_init(&b, in, len);
	zt_rbuf_u32(&b);
	r->id = zt_rbuf_u32(&b);
	r->nwid = zt_rbuf_u64(&b);
	zt_rbuf_u32(&b);
	r->credential_id = zt_rbuf_u32(&b);
	r->threshold = zt_rbuf_u64(&b);
	r->flags = zt_rbuf_u64(&b);
	r->target = zt_rbuf_addr(&b);
	r->signed_by = zt_rbuf_addr(&b);
	r->type = zt_rbuf_u8(&b);
	sigblock_read(&b, r->sig, &r->has_sig);
	ext_skip(&b);
	return b.err ? -EINVAL : (int)b.pos;
}

int zt_revocation_sign(struct zt_revocation *r, const struct zt_identity *signer)
{
	uint8_t buf[128];
	struct zt_wbuf w;

	if (!signer->has_private)
		return -EINVAL;
	r->signed_by = signer->address;
	zt_wbuf_init(&w, buf, sizeof(buf));
	revocation_write(r, &w, 1);
	if (w.err || zt_identity_sign(signer, buf, w.len, r->sig) != 0)
		return -EINVAL;
	r->has_sig = 1;
	return 0;
}

int zt_revocation_verify(const struct zt_revocation *r, const struct zt_identity *signer)
{
	uint8_t buf[128];
	struct zt_wbuf w;

	if (!r->has_sig || r->signed_by != signer->address)
		return 0;
	zt_wbuf_init(&w, buf, sizeof(buf));
	revocation_write(r, &w, 1);
	if (w.err)
		return 0;
	return zt_identity_verify(signer, buf, w.len, r->sig, ZT_SIGNATURE_LEN) == 1;
}

/* ---- skip-parsers ---- */

int zt_tag_skip(const uint8_t *in, size_t len)
{
	struct zt_rbuf r;

	zt_rbuf_init(&r, in, len);
	zt_rbuf_take(&r, 8 + 8 + 4 + 4 + 5 + 5);
	sigblock_read(&r, NULL, NULL);
	ext_skip(&r);
	return r.err ? -EINVAL : (int)r.pos;
}

int zt_capability_skip(const uint8_t *in, size_t len)
{
	struct zt_rbuf r;
	unsigned nrules, maxchain;

	zt_rbuf_init(&r, in, len);
	zt_rbuf_take(&r, 8 + 8 + 4);
	nrules = zt_rbuf_u16(&r);
	for (unsigned i = 0; i < nrules && !r.err; i++) {
		zt_rbuf_u8(&r);
		zt_rbuf_take(&r, zt_rbuf_u8(&r));
	}
	maxchain = zt_rbuf_u8(&r);
	if (maxchain < 1 || maxchain > 7)
		return -EINVAL;
	for (unsigned i = 0; !r.err; i++) {
		if (zt_rbuf_addr(&r) == 0)
			break;
		if (i >= maxchain)
			return -EINVAL;
		zt_rbuf_addr(&r);
		sigblock_read(&r, NULL, NULL);
	}
	ext_skip(&r);
	return r.err ? -EINVAL : (int)r.pos;
}

int zt_coo_skip(const uint8_t *in, size_t len)
{
	struct zt_rbuf r;
	unsigned n;

	zt_rbuf_init(&r, in, len);
	zt_rbuf_take(&r, 8 + 8 + 8 + 4);
	n = zt_rbuf_u16(&r);
	if (n > 16)
		return -EINVAL;
	zt_rbuf_take(&r, 17 * (size_t)n);
	zt_rbuf_take(&r, 5 + 5);
	sigblock_read(&r, NULL, NULL);
	ext_skip(&r);
	return r.err ? -EINVAL : (int)r.pos;
}

/* zt_credentials_build() - NETWORK_CREDENTIALS payload */
int zt_credentials_build(uint8_t *out, size_t cap, const struct zt_com *com,
			 const struct zt_revocation *revs, unsigned n_rev)
{
	struct zt_wbuf w;
	int l;

	zt_wbuf_init(&w, out, cap);
	if (com) {
		l = zt_com_serialize(com, out, cap);
		if (l < 0)
			return l;
		w.len = (size_t)l;
	}
	zt_wbuf_u8(&w, 0);
	zt_wbuf_u16(&w, 0);	/* capabilities */
	zt_wbuf_u16(&w, 0);	/* tags */
	zt_wbuf_u16(&w, (uint16_t)n_rev);
	for (unsigned i = 0; i < n_rev && !w.err; i++) {
		l = zt_revocation_serialize(&revs[i], w.p + w.len, w.cap - w.len);
		if (l < 0)
			return -ENOSPC;
		w.len += (size_t)l;
	}
	zt_wbuf_u16(&w, 0);	/* certificates of ownership */
	return w.err ? -ENOSPC : (int)w.len;
}
