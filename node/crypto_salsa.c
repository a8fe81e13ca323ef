/* crypto_salsa.c - Salsa20/12 keystream XOR (the cipher of PROTOCOL.md
 * §3.5/§3.6), four blocks at a time.
 *
 * libsodium has Salsa20/12 only as a portable byte-oriented reference
 * implementation, which made armor the bottleneck of the data path (~30 MB/s).
 * This version keeps each of the 16 state words of four consecutive blocks
 * in one 4-lane vector (GCC/Clang vector extensions, so SSE2/NEON code
 * without intrinsics) and falls back to one block at a time for the tail.
 * On CPUs with AVX2 (checked once at run time) eight blocks go through
 * 8-lane vectors first: the same code compiled for that target.
 * tests/unit/test_armor.c checks it against libsodium on random inputs.
 */
#include <stdint.h>
#include <string.h>

#include "node/crypto.h"

typedef uint32_t v4u __attribute__((vector_size(16)));
typedef uint32_t v8u __attribute__((vector_size(32)));

static inline uint32_t ld32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void st32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* stw() - store one keystream word little-endian: a plain 4-byte store on
 * little-endian hosts (st32's byte stores became one vpextrb per byte in
 * the vector block functions, half of their time) */
static inline void stw(uint8_t *p, uint32_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	memcpy(p, &v, 4);
#else
	st32(p, v);
#endif
}

#define ROTV(x, n) (((x) << (n)) | ((x) >> (32 - (n))))
#define ROT(x, n) (((x) << (n)) | ((x) >> (32 - (n))))

/* salsa_init() - the 16-word input block for counter ctr */
static void salsa_init(uint32_t s[16], const uint8_t key[32], const uint8_t nonce[8], uint64_t ctr)
{
	s[0] = 0x61707865;
	s[5] = 0x3320646e;
	s[10] = 0x79622d32;
	s[15] = 0x6b206574;
	for (int i = 0; i < 4; i++) {
		s[1 + i] = ld32(key + 4 * i);
		s[11 + i] = ld32(key + 16 + 4 * i);
	}
	s[6] = ld32(nonce);
	s[7] = ld32(nonce + 4);
	s[8] = (uint32_t)ctr;
	s[9] = (uint32_t)(ctr >> 32);
}

#define QR(a, b, c, d, R) do { \
	b ^= R(a + d, 7); c ^= R(b + a, 9); d ^= R(c + b, 13); a ^= R(d + c, 18); } while (0)

/* SALSA_ROUNDS12() - Salsa20/12's six double rounds (columns, then rows)
 * over x[16], whose words are scalars or vectors of lanes */
#define SALSA_ROUNDS12(x, R) do { \
	for (int r_ = 0; r_ < 12; r_ += 2) { \
		QR(x[0], x[4], x[8], x[12], R); \
		QR(x[5], x[9], x[13], x[1], R); \
		QR(x[10], x[14], x[2], x[6], R); \
		QR(x[15], x[3], x[7], x[11], R); \
		QR(x[0], x[1], x[2], x[3], R); \
		QR(x[5], x[6], x[7], x[4], R); \
		QR(x[10], x[11], x[8], x[9], R); \
		QR(x[15], x[12], x[13], x[14], R); \
	} } while (0)

/* salsa_block() - one 64-byte keystream block */
static void salsa_block(uint8_t out[64], const uint32_t in[16])
{
	uint32_t x[16];
	memcpy(x, in, sizeof(x));
	SALSA_ROUNDS12(x, ROT);
	for (int i = 0; i < 16; i++)
		st32(out + 4 * i, x[i] + in[i]);
}

/* salsa_block4() - four consecutive blocks (counters in[8..9] + 0..3) */
static void salsa_block4(uint8_t out[256], const uint32_t in[16])
{
	v4u x[16], o[16];
	uint64_t c = (uint64_t)in[8] | (uint64_t)in[9] << 32;
	for (int i = 0; i < 16; i++)
		o[i] = (v4u){ in[i], in[i], in[i], in[i] };
	o[8] = (v4u){ (uint32_t)c, (uint32_t)(c + 1), (uint32_t)(c + 2), (uint32_t)(c + 3) };
	o[9] = (v4u){ (uint32_t)(c >> 32), (uint32_t)((c + 1) >> 32), (uint32_t)((c + 2) >> 32),
		      (uint32_t)((c + 3) >> 32) };
	memcpy(x, o, sizeof(x));
	SALSA_ROUNDS12(x, ROTV);
	for (int i = 0; i < 16; i++) {
		v4u v = x[i] + o[i];
		for (int j = 0; j < 4; j++)
			stw(out + 64 * j + 4 * i, v[j]);
	}
}

#if defined(__x86_64__) && defined(__GNUC__)
#define SALSA_HAVE_8 1
/* salsa_block8() - eight consecutive blocks (counters in[8..9] + 0..7),
 * AVX2 */
__attribute__((target("avx2"))) static void salsa_block8(uint8_t out[512], const uint32_t in[16])
{
	v8u x[16], o[16];
	uint64_t c = (uint64_t)in[8] | (uint64_t)in[9] << 32;
	for (int i = 0; i < 16; i++)
		o[i] = (v8u){ in[i], in[i], in[i], in[i], in[i], in[i], in[i], in[i] };
	for (int j = 0; j < 8; j++) {
		o[8][j] = (uint32_t)(c + (uint64_t)j);
		o[9][j] = (uint32_t)((c + (uint64_t)j) >> 32);
	}
	memcpy(x, o, sizeof(x));
	SALSA_ROUNDS12(x, ROTV);
	for (int i = 0; i < 16; i++) {
		v8u v = x[i] + o[i];
		for (int j = 0; j < 8; j++)
			stw(out + 64 * j + 4 * i, v[j]);
	}
}

/* salsa_have_avx2() - 1 if the CPU runs salsa_block8 (libgcc fills the
 * feature bits once at start; this is a load and a test) */
static int salsa_have_avx2(void)
{
	return __builtin_cpu_supports("avx2") ? 1 : 0;
}
#else
#define SALSA_HAVE_8 0
#endif

/* zt_salsa2012_xor() - out = in XOR Salsa20/12(key, nonce) starting at
 * block ctr; in == out is allowed; in may be NULL for the bare keystream */
void zt_salsa2012_xor(uint8_t *out, const uint8_t *in, size_t len, const uint8_t nonce[8], uint64_t ctr,
		      const uint8_t key[32])
{
	uint32_t s[16];
	uint8_t ks[512];
	int wide = 0;
#if SALSA_HAVE_8
	wide = len > 256 && salsa_have_avx2();
#endif
	salsa_init(s, key, nonce, ctr);
	while (len) {
		size_t n;
		if (wide && len > 256) {
#if SALSA_HAVE_8
			salsa_block8(ks, s);
#endif
			ctr += 8;
			n = len < 512 ? len : 512;
		} else if (len > 64) {
			salsa_block4(ks, s);
			ctr += 4;
			n = len < 256 ? len : 256;
		} else {
			salsa_block(ks, s);
			ctr += 1;
			n = len;
		}
		s[8] = (uint32_t)ctr;
		s[9] = (uint32_t)(ctr >> 32);
		if (in) {
			size_t i = 0;
			for (; i + 8 <= n; i += 8) {
				uint64_t a, b;
				memcpy(&a, in + i, 8);
				memcpy(&b, ks + i, 8);
				a ^= b;
				memcpy(out + i, &a, 8);
			}
			for (; i < n; i++)
				out[i] = in[i] ^ ks[i];
			in += n;
		} else {
			memcpy(out, ks, n);
		}
		out += n;
		len -= n;
	}
	memset(ks, 0, sizeof(ks));
}
