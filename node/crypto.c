/* crypto.c - hashes, randomness and LZ4 for the peer layer.
 *
 * libsodium provides SHA-512 but not SHA-384, which the network layer needs
 * for COM identity qualifiers (§8.1); SHA-384 is SHA-512 with other initial
 * values, truncated, so a small SHA-512 core lives here.
 */
#include <errno.h>
#include <string.h>

#include <lz4.h>
#include <sodium.h>

#include "node/crypto.h"
#include "node/identity.h"
#include "node/node_internal.h"

/* zt_crypto_init() - sodium_init() is idempotent and thread-safe */
int zt_crypto_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

/* zt_random() - fill buf from libsodium's CSPRNG */
void zt_random(void *buf, unsigned len)
{
	zt_crypto_init();
	randombytes_buf(buf, len);
}

/* zt_random_u64() - one random 64-bit value */
uint64_t zt_random_u64(void)
{
	uint64_t v;
	zt_random(&v, sizeof(v));
	return v;
}

/* zt_sha512() - SHA-512 of one buffer */
void zt_sha512(uint8_t out[64], const void *data, size_t len)
{
	crypto_hash_sha512(out, (const unsigned char *)data, len);
}

static const uint64_t sha512_k[80] = {
	0x428a2f98d728ae22ULL, 0x7137449123ef65cdULL, 0xb5c0fbcfec4d3b2fULL, 0xe9b5dba58189dbbcULL,
	0x3956c25bf348b538ULL, 0x59f111f1b605d019ULL, 0x923f82a4af194f9bULL, 0xab1c5ed5da6d8118ULL,
	0xd807aa98a3030242ULL, 0x12835b0145706fbeULL, 0x243185be4ee4b28cULL, 0x550c7dc3d5ffb4e2ULL,
	0x72be5d74f27b896fULL, 0x80deb1fe3b1696b1ULL, 0x9bdc06a725c71235ULL, 0xc19bf174cf692694ULL,
	0xe49b69c19ef14ad2ULL, 0xefbe4786384f25e3ULL, 0x0fc19dc68b8cd5b5ULL, 0x240ca1cc77ac9c65ULL,
	0x2de92c6f592b0275ULL, 0x4a7484aa6ea6e483ULL, 0x5cb0a9dcbd41fbd4ULL, 0x76f988da831153b5ULL,
	0x983e5152ee66dfabULL, 0xa831c66d2db43210ULL, 0xb00327c898fb213fULL, 0xbf597fc7beef0ee4ULL,
	0xc6e00bf33da88fc2ULL, 0xd5a79147930aa725ULL, 0x06ca6351e003826fULL, 0x142929670a0e6e70ULL,
	0x27b70a8546d22ffcULL, 0x2e1b21385c26c926ULL, 0x4d2c6dfc5ac42aedULL, 0x53380d139d95b3dfULL,
	0x650a73548baf63deULL, 0x766a0abb3c77b2a8ULL, 0x81c2c92e47edaee6ULL, 0x92722c851482353bULL,
	0xa2bfe8a14cf10364ULL, 0xa81a664bbc423001ULL, 0xc24b8b70d0f89791ULL, 0xc76c51a30654be30ULL,
	0xd192e819d6ef5218ULL, 0xd69906245565a910ULL, 0xf40e35855771202aULL, 0x106aa07032bbd1b8ULL,
	0x19a4c116b8d2d0c8ULL, 0x1e376c085141ab53ULL, 0x2748774cdf8eeb99ULL, 0x34b0bcb5e19b48a8ULL,
	0x391c0cb3c5c95a63ULL, 0x4ed8aa4ae3418acbULL, 0x5b9cca4f7763e373ULL, 0x682e6ff3d6b2b8a3ULL,
	0x748f82ee5defb2fcULL, 0x78a5636f43172f60ULL, 0x84c87814a1f0ab72ULL, 0x8cc702081a6439ecULL,
	0x90befffa23631e28ULL, 0xa4506cebde82bde9ULL, 0xbef9a3f7b2c67915ULL, 0xc67178f2e372532bULL,
	0xca273eceea26619cULL, 0xd186b8c721c0c207ULL, 0xeada7dd6cde0eb1eULL, 0xf57d4f7fee6ed178ULL,
	0x06f067aa72176fbaULL, 0x0a637dc5a2c898a6ULL, 0x113f9804bef90daeULL, 0x1b710b35131c471bULL,
	0x28db77f523047d84ULL, 0x32caab7b40c72493ULL, 0x3c9ebe0a15c9bebcULL, 0x431d67c49c100d4cULL,
	0x4cc5d4becb3e42b6ULL, 0x597f299cfc657e2aULL, 0x5fcb6fab3ad6faecULL, 0x6c44198c4a475817ULL,
};

static inline uint64_t ror64(uint64_t x, unsigned n) { return (x >> n) | (x << (64 - n)); }

/* sha512_block() - one 128-byte compression round into h[8] */
static void sha512_block(uint64_t h[8], const uint8_t *blk)
{
	uint64_t w[80], a, b, c, d, e, f, g, hh;
	for (int i = 0; i < 16; i++) {
		w[i] = 0;
		for (int j = 0; j < 8; j++)
			w[i] = (w[i] << 8) | blk[i * 8 + j];
	}
	for (int i = 16; i < 80; i++) {
		uint64_t s0 = ror64(w[i - 15], 1) ^ ror64(w[i - 15], 8) ^ (w[i - 15] >> 7);
		uint64_t s1 = ror64(w[i - 2], 19) ^ ror64(w[i - 2], 61) ^ (w[i - 2] >> 6);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = h[0]; b = h[1]; c = h[2]; d = h[3]; e = h[4]; f = h[5]; g = h[6]; hh = h[7];
	for (int i = 0; i < 80; i++) {
		uint64_t S1 = ror64(e, 14) ^ ror64(e, 18) ^ ror64(e, 41);
		uint64_t ch = (e & f) ^ (~e & g);
		uint64_t t1 = hh + S1 + ch + sha512_k[i] + w[i];
		uint64_t S0 = ror64(a, 28) ^ ror64(a, 34) ^ ror64(a, 39);
		uint64_t maj = (a & b) ^ (a & c) ^ (b & c);
		uint64_t t2 = S0 + maj;
		hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
	}
	h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

/* zt_sha384() - SHA-384 (FIPS 180-4) of one buffer */
void zt_sha384(uint8_t out[48], const void *data, size_t len)
{
	uint64_t h[8] = {
		0xcbbb9d5dc1059ed8ULL, 0x629a292a367cd507ULL, 0x9159015a3070dd17ULL, 0x152fecd8f70e5939ULL,
		0x67332667ffc00b31ULL, 0x8eb44a8768581511ULL, 0xdb0c2e0d64f98fa7ULL, 0x47b5481dbefa4fa4ULL,
	};
	const uint8_t *p = (const uint8_t *)data;
	uint8_t last[256];
	size_t full = len / 128, rem = len % 128, tail;

	for (size_t i = 0; i < full; i++)
		sha512_block(h, p + i * 128);
	memset(last, 0, sizeof(last));
	if (rem)
		memcpy(last, p + full * 128, rem);
	last[rem] = 0x80;
	tail = rem + 1 + 16 <= 128 ? 128 : 256;
	/* 128-bit length in bits; the high 64 bits only matter past 2^61 bytes */
	uint64_t bits = (uint64_t)len << 3;
	for (int i = 0; i < 8; i++)
		last[tail - 1 - i] = (uint8_t)(bits >> (8 * i));
	last[tail - 9] |= (uint8_t)(((uint64_t)len >> 61) & 7);
	sha512_block(h, last);
	if (tail == 256)
		sha512_block(h, last + 128);
	for (int i = 0; i < 6; i++)
		for (int j = 0; j < 8; j++)
			out[i * 8 + j] = (uint8_t)(h[i] >> (56 - 8 * j));
}

/* zt_lz4_decompress() - raw LZ4 block into out (at most cap bytes) */
int zt_lz4_decompress(const uint8_t *in, unsigned inlen, uint8_t *out, unsigned cap)
{
	if (inlen == 0 || inlen > (unsigned)LZ4_MAX_INPUT_SIZE)
		return -EINVAL;
	int r = LZ4_decompress_safe((const char *)in, (char *)out, (int)inlen, (int)cap);
	return r < 0 ? -EINVAL : r;
}

/* zt_lz4_compress() - raw LZ4 block; 0 if the output did not fit in cap */
int zt_lz4_compress(const uint8_t *in, unsigned inlen, uint8_t *out, unsigned cap)
{
	int r = LZ4_compress_default((const char *)in, (char *)out, (int)inlen, (int)cap);
	return r > 0 ? r : 0;
}
