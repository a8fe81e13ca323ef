/* identity.c - ZeroTier type-0 identities (PROTOCOL.md §2): the memory-hard
 * address derivation, validation, string and binary forms, signatures and
 * key agreement.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node/buf.h"
#include "node/crypto.h"
#include "node/identity.h"

#define MH_MEM_BYTES 2097152u
#define MH_WORDS (MH_MEM_BYTES / 8)
#define MH_BLOCKS (MH_MEM_BYTES / 64)

/* identity_memhard() - §2.4: digest D of a 64-byte public key.
 * Return: 0, or -ENOMEM. */
static int identity_memhard(const uint8_t pub[64], uint8_t d[64])
{
	uint8_t *m = malloc(MH_MEM_BYTES);
	uint8_t key[32], nonce[8];
	uint64_t c = MH_BLOCKS;

	if (!m)
		return -ENOMEM;
	zt_sha512(d, pub, 64);
	memcpy(key, d, 32);
	memcpy(nonce, d + 32, 8);
	/* M[b] = M[b-1] ^ S(b): keystream for all blocks, then a running XOR */
	crypto_stream_salsa20(m, MH_MEM_BYTES, nonce, key);
	for (unsigned b = 1; b < MH_BLOCKS; b++)
		for (unsigned i = 0; i < 64; i++)
			m[b * 64 + i] ^= m[(b - 1) * 64 + i];
	for (unsigned i = 0; i < MH_WORDS; i += 2) {
		unsigned idx1 = (unsigned)(zt_load_be(m + i * 8, 8) % 8);
		unsigned idx2 = (unsigned)(zt_load_be(m + (i + 1) * 8, 8) % MH_WORDS);
		uint8_t tmp[8];
		memcpy(tmp, m + idx2 * 8, 8);
		memcpy(m + idx2 * 8, d + idx1 * 8, 8);
		memcpy(d + idx1 * 8, tmp, 8);
		crypto_stream_salsa20_xor_ic(d, d, 64, nonce, c++, key);
	}
	free(m);
	sodium_memzero(key, sizeof(key));
	return 0;
}

/* zt_address_reserved() - 0 or first byte 0xff */
int zt_address_reserved(uint64_t address)
{
	address &= 0xffffffffffULL;
	return address == 0 || (address >> 32) == 0xff;
}

/* zt_identity_generate() - random Ed25519 seed, then X25519 secrets until
 * the memory-hard digest is acceptable and the address is not reserved */
int zt_identity_generate(struct zt_identity *id)
{
	uint8_t d[64], edsk[64];

	if (zt_crypto_init() < 0)
		return -EIO;
	memset(id, 0, sizeof(*id));
	for (;;) {
		randombytes_buf(id->priv + 32, 32);
		crypto_sign_seed_keypair(id->pub + 32, edsk, id->priv + 32);
		for (int tries = 0; tries < 1000; tries++) {
			randombytes_buf(id->priv, 32);
			crypto_scalarmult_base(id->pub, id->priv);
			if (identity_memhard(id->pub, d) < 0)
				return -ENOMEM;
			if (d[0] < 17) {
				id->address = zt_load_be(d + 59, 5);
				if (zt_address_reserved(id->address))
					break;
				id->has_private = 1;
				sodium_memzero(edsk, sizeof(edsk));
				return 0;
			}
		}
	}
}

/* zt_identity_validate() - §2.5 */
int zt_identity_validate(const struct zt_identity *id)
{
	uint8_t d[64];
	if (zt_address_reserved(id->address))
		return 0;
	if (identity_memhard(id->pub, d) < 0)
		return 0;
	return d[0] < 17 && zt_load_be(d + 59, 5) == (id->address & 0xffffffffffULL);
}

/* unhex() - exactly n bytes from 2n hex digits at s; 0 or -1 */
static int unhex(const char *s, size_t slen, uint8_t *out, size_t n)
{
	size_t got;

	if (slen != 2 * n || sodium_hex2bin(out, n, s, slen, NULL, &got, NULL) != 0)
		return -1;
	return got == n ? 0 : -1;
}

/* zt_identity_from_string() - "addr:0:pub[:priv]"; trailing whitespace ok */
int zt_identity_from_string(struct zt_identity *id, const char *s)
{
	const char *f[5];
	size_t flen[5];
	unsigned nf = 0;
	size_t len = strlen(s);
	uint8_t a[5];

	while (len && (s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	memset(id, 0, sizeof(*id));
	for (size_t i = 0, start = 0; i <= len; i++) {
		if (i == len || s[i] == ':') {
			if (nf >= 5)
				return -EINVAL;
			f[nf] = s + start;
			flen[nf++] = i - start;
			start = i + 1;
		}
	}
	if (nf < 3 || nf > 4)
		return -EINVAL;
	if (unhex(f[0], flen[0], a, 5) < 0)
		return -EINVAL;
	if (flen[1] != 1 || f[1][0] != '0')
		return -EINVAL;
	if (unhex(f[2], flen[2], id->pub, 64) < 0)
		return -EINVAL;
	if (nf == 4) {
		if (unhex(f[3], flen[3], id->priv, 64) < 0)
			return -EINVAL;
		id->has_private = 1;
	}
	id->address = zt_load_be(a, 5);
	return 0;
}

/* zt_identity_to_string() - lowercase string form */
int zt_identity_to_string(const struct zt_identity *id, int include_private, char *buf, size_t cap)
{
	size_t need = 10 + 3 + 128 + ((include_private && id->has_private) ? 129 : 0);
	size_t p;
	if (cap < need + 1)
		return -ENOSPC;
	snprintf(buf, cap, "%010llx:0:", (unsigned long long)(id->address & 0xffffffffffULL));
	p = 13;
	for (int i = 0; i < 64; i++, p += 2)
		snprintf(buf + p, cap - p, "%02x", id->pub[i]);
	if (include_private && id->has_private) {
		buf[p++] = ':';
		for (int i = 0; i < 64; i++, p += 2)
			snprintf(buf + p, cap - p, "%02x", id->priv[i]);
	}
	buf[p] = 0;
	return (int)p;
}

/* zt_identity_serialize() - §2.2 */
int zt_identity_serialize(const struct zt_identity *id, int include_private, uint8_t *out, size_t cap)
{
	struct zt_wbuf w;
	int priv = include_private && id->has_private;
	zt_wbuf_init(&w, out, cap);
	zt_wbuf_addr(&w, id->address);
	zt_wbuf_u8(&w, 0);
	zt_wbuf_put(&w, id->pub, 64);
	zt_wbuf_u8(&w, priv ? 64 : 0);
	if (priv)
		zt_wbuf_put(&w, id->priv, 64);
	return w.err ? -ENOSPC : (int)w.len;
}

/* zt_identity_deserialize() - §2.2; a private length other than 0/64 is invalid */
int zt_identity_deserialize(struct zt_identity *id, const uint8_t *in, size_t len)
{
	struct zt_rbuf r;
	unsigned plen;
	zt_rbuf_init(&r, in, len);
	memset(id, 0, sizeof(*id));
	id->address = zt_rbuf_addr(&r);
	if (zt_rbuf_u8(&r) != 0)
		return -EINVAL;
	zt_rbuf_copy(&r, id->pub, 64);
	plen = zt_rbuf_u8(&r);
	if (plen == 64) {
		zt_rbuf_copy(&r, id->priv, 64);
		id->has_private = 1;
	} else if (plen != 0) {
		return -EINVAL;
	}
	if (r.err) {
		memset(id, 0, sizeof(*id));
		return -EINVAL;
	}
	return (int)r.pos;
}

/* zt_identity_sign() - §2.6 */
int zt_identity_sign(const struct zt_identity *id, const void *msg, size_t len, uint8_t sig[ZT_SIGNATURE_LEN])
{
	uint8_t h[64], pk[32], sk[64];
	if (!id->has_private)
		return -EINVAL;
	zt_crypto_init();
	zt_sha512(h, msg, len);
	crypto_sign_seed_keypair(pk, sk, id->priv + 32);
	crypto_sign_detached(sig, NULL, h, 32, sk);
	memcpy(sig + 64, h, 32);
	sodium_memzero(sk, sizeof(sk));
	return 0;
}

/* zt_identity_verify() - §2.6; 1 if good */
int zt_identity_verify(const struct zt_identity *id, const void *msg, size_t len,
		       const uint8_t *sig, size_t siglen)
{
	uint8_t h[64];
	if (siglen != ZT_SIGNATURE_LEN)
		return 0;
	zt_crypto_init();
	zt_sha512(h, msg, len);
	if (sodium_memcmp(h, sig + 64, 32) != 0)
		return 0;
	return crypto_sign_verify_detached(sig, h, 32, id->pub + 32) == 0;
}

/* zt_identity_agree() - §2.7 */
int zt_identity_agree(const struct zt_identity *self, const struct zt_identity *peer,
		      uint8_t key[ZT_PEER_KEY_LEN])
{
	uint8_t raw[32], h[64];
	if (!self->has_private)
		return -EINVAL;
	zt_crypto_init();
	if (crypto_scalarmult(raw, self->priv, peer->pub) != 0)
		return -EINVAL;
	zt_sha512(h, raw, 32);
	memcpy(key, h, ZT_PEER_KEY_LEN);
	sodium_memzero(raw, sizeof(raw));
	sodium_memzero(h, sizeof(h));
	return 0;
}

/* zt_identity_equal() - same address and public key */
int zt_identity_equal(const struct zt_identity *a, const struct zt_identity *b)
{
	return (a->address & 0xffffffffffULL) == (b->address & 0xffffffffffULL) &&
	       memcmp(a->pub, b->pub, 64) == 0;
}
