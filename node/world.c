/* world.c - World (planet/moon) parse, serialize, sign and verify (§10.1). */
#include <errno.h>
#include <string.h>

#include "node/buf.h"
#include "node/inaddr.h"
#include "node/world.h"

/* zt_world_parse() - see world.h */
int zt_world_parse(struct zt_world *w, const uint8_t *in, unsigned len)
{
	struct zt_rbuf r;
	zt_rbuf_init(&r, in, len);
	memset(w, 0, sizeof(*w));
	w->type = zt_rbuf_u8(&r);
	if (r.err || (w->type != ZT_WORLD_TYPE_PLANET && w->type != ZT_WORLD_TYPE_MOON))
		return -EINVAL;
	w->id = zt_rbuf_u64(&r);
	w->ts = zt_rbuf_u64(&r);
	zt_rbuf_copy(&r, w->update_key, 64);
	zt_rbuf_copy(&r, w->sig, 96);
	w->n_roots = zt_rbuf_u8(&r);
	if (r.err || w->n_roots > ZT_WORLD_MAX_ROOTS)
		return -EINVAL;
	for (unsigned i = 0; i < w->n_roots; i++) {
		struct zt_world_root *root = &w->roots[i];
		int l = zt_identity_deserialize(&root->id, r.p + r.pos, zt_rbuf_left(&r));
		if (l < 0 || root->id.has_private)
			return -EINVAL;
		zt_rbuf_take(&r, (size_t)l);
		unsigned ne = zt_rbuf_u8(&r);
		if (r.err || ne > ZT_WORLD_MAX_ENDPOINTS)
			return -EINVAL;
		for (unsigned e = 0; e < ne; e++) {
			struct sockaddr_storage a;
			if (zt_inaddr_read(&r, &a) < 0)
				return -EINVAL;
			if (a.ss_family == AF_INET || a.ss_family == AF_INET6)
				root->endpoints[root->n_endpoints++] = a;
		}
	}
	if (w->type == ZT_WORLD_TYPE_MOON) {
		w->dict_len = zt_rbuf_u16(&r);
		if (r.err || w->dict_len > ZT_WORLD_MAX_DICT)
			return -EINVAL;
		zt_rbuf_copy(&r, w->dict, w->dict_len);
	}
	if (r.err)
		return -EINVAL;
	return (int)r.pos;
}

/* zt_world_serialize() - see world.h */
int zt_world_serialize(const struct zt_world *w, int for_signing, uint8_t *out, unsigned cap)
{
	struct zt_wbuf b;
	zt_wbuf_init(&b, out, cap);
	if (for_signing)
		zt_wbuf_u64(&b, 0x7f7f7f7f7f7f7f7fULL);
	zt_wbuf_u8(&b, w->type);
	zt_wbuf_u64(&b, w->id);
	zt_wbuf_u64(&b, w->ts);
	zt_wbuf_put(&b, w->update_key, 64);
	if (!for_signing)
		zt_wbuf_put(&b, w->sig, 96);
	zt_wbuf_u8(&b, (uint8_t)w->n_roots);
	for (unsigned i = 0; i < w->n_roots && i < ZT_WORLD_MAX_ROOTS; i++) {
		uint8_t idb[ZT_IDENTITY_PUBLIC_BIN_LEN];
		zt_identity_serialize(&w->roots[i].id, 0, idb, sizeof(idb));
		zt_wbuf_put(&b, idb, sizeof(idb));
		zt_wbuf_u8(&b, (uint8_t)w->roots[i].n_endpoints);
		for (unsigned e = 0; e < w->roots[i].n_endpoints; e++)
			zt_inaddr_write(&b, &w->roots[i].endpoints[e]);
	}
	if (w->type == ZT_WORLD_TYPE_MOON) {
		zt_wbuf_u16(&b, (uint16_t)w->dict_len);
		zt_wbuf_put(&b, w->dict, w->dict_len);
	}
	if (for_signing)
		zt_wbuf_u64(&b, 0xf7f7f7f7f7f7f7f7ULL);
	return b.err ? -ENOSPC : (int)b.len;
}

/* zt_world_verify() - see world.h */
int zt_world_verify(const struct zt_world *w, const uint8_t *key)
{
	uint8_t buf[ZT_WORLD_MAX_SERIALIZED + 32];
	struct zt_identity k;
	int l = zt_world_serialize(w, 1, buf, sizeof(buf));
	if (l < 0)
		return 0;
	memset(&k, 0, sizeof(k));
	memcpy(k.pub, key ? key : w->update_key, 64);
	return zt_identity_verify(&k, buf, (size_t)l, w->sig, sizeof(w->sig));
}

/* zt_world_sign() - see world.h */
int zt_world_sign(struct zt_world *w, const struct zt_identity *signer)
{
	uint8_t buf[ZT_WORLD_MAX_SERIALIZED + 32];
	int l = zt_world_serialize(w, 1, buf, sizeof(buf));
	if (l < 0)
		return l;
	return zt_identity_sign(signer, buf, (size_t)l, w->sig);
}

/* zt_world_should_replace() - see world.h */
int zt_world_should_replace(const struct zt_world *cur, const struct zt_world *update)
{
	if (cur->id != update->id || cur->type != update->type || update->ts <= cur->ts)
		return 0;
	return zt_world_verify(update, cur->update_key);
}
