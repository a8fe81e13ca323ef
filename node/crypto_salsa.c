/* crypto_salsa.c - Salsa20/12 keystream XOR (the cipher of PROTOCOL.md
 * §3.5/§3.6), four blocks at a time.
 *
 * libsodium has Salsa20/12 only as a portable byte-oriented reference
 * implementation, which made armor the bottleneck of the data path (~30 MB/s).
 * This version keeps each of the 16 state words of four consecutive blocks
 * in one 4-lane vector (GCC/Clang vector extensions, so SSE2/NEON code
 * without intrinsics) and falls back to one block at a time for the tail.
 * On CPUs with AVX2 (checked once at run time) eight blocks go through
 * 8-lane vectors first, with AVX-512 sixteen: the same code compiled for
 * that target.
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

/* SALSA_SHUFFLE: __builtin_shufflevector (GCC 12, Clang) on a little-endian
 * host, where a vector's bytes are the keystream's: results of 4 to 16
 * blocks are then stored transposed in registers, 16 bytes at a time */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && \
	(defined(__clang__) || __GNUC__ >= 12)
#define SALSA_SHUFFLE 1
#else
#define SALSA_SHUFFLE 0
#endif

/* SALSA_TRANSPOSE() - from the final words x[] + o[] of a run of blocks
 * (lane j: block j), u[k] = words 4g..4g+3 of block k: the two unpack steps
 * of a 4x4 transpose, which on vectors wider than 128 bits work within each
 * 128-bit lane, so that lane q of u[k] holds block k + 4q. L32/H32/L64/H64:
 * the unpacks for the vector type T. */
#define SALSA_TRANSPOSE(T, u, x, o, g, L32, H32, L64, H64) do { \
	T a_ = (x)[4 * (g)] + (o)[4 * (g)], b_ = (x)[4 * (g) + 1] + (o)[4 * (g) + 1]; \
	T c_ = (x)[4 * (g) + 2] + (o)[4 * (g) + 2], d_ = (x)[4 * (g) + 3] + (o)[4 * (g) + 3]; \
	T t0_ = L32(a_, b_), t1_ = H32(a_, b_), t2_ = L32(c_, d_), t3_ = H32(c_, d_); \
	(u)[0] = L64(t0_, t2_); \
	(u)[1] = H64(t0_, t2_); \
	(u)[2] = L64(t1_, t3_); \
	(u)[3] = H64(t1_, t3_); } while (0)

#define LO32_4(a, b) __builtin_shufflevector(a, b, 0, 4, 1, 5)
#define HI32_4(a, b) __builtin_shufflevector(a, b, 2, 6, 3, 7)
#define LO64_4(a, b) __builtin_shufflevector(a, b, 0, 1, 4, 5)
#define HI64_4(a, b) __builtin_shufflevector(a, b, 2, 3, 6, 7)

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
#if SALSA_SHUFFLE
	for (int g = 0; g < 4; g++) {
		v4u u[4];
		SALSA_TRANSPOSE(v4u, u, x, o, g, LO32_4, HI32_4, LO64_4, HI64_4);
		for (int k = 0; k < 4; k++)
			memcpy(out + 64 * k + 16 * g, &u[k], 16);
	}
#else
	for (int i = 0; i < 16; i++) {
		v4u v = x[i] + o[i];
		for (int j = 0; j < 4; j++)
			stw(out + 64 * j + 4 * i, v[j]);
	}
#endif
}

#if defined(__x86_64__) && defined(__GNUC__) && SALSA_SHUFFLE
#define SALSA_HAVE_8 1
/* Whole runs of 8 or 16 blocks go straight from the state vectors to the
 * output: four words of four blocks at a time are transposed in
 * registers (SALSA_TRANSPOSE), XORed with the input and stored 16 bytes
 * at a time. The
 * keystream buffer (which a tail of 257..511 bytes still goes through,
 * filled by the same function) and its one-word-per-lane stores (an
 * extract per word: most of the time of the 8-block function this
 * replaced) are gone. */
static inline void put16(uint8_t *out, const uint8_t *in, v4u v)
{
	if (in) {
		v4u t;
		memcpy(&t, in, 16);
		v ^= t;
	}
	memcpy(out, &v, 16);
}

#define LO32_8(a, b) __builtin_shufflevector(a, b, 0, 8, 1, 9, 4, 12, 5, 13)
#define HI32_8(a, b) __builtin_shufflevector(a, b, 2, 10, 3, 11, 6, 14, 7, 15)
#define LO64_8(a, b) __builtin_shufflevector(a, b, 0, 1, 8, 9, 4, 5, 12, 13)
#define HI64_8(a, b) __builtin_shufflevector(a, b, 2, 3, 10, 11, 6, 7, 14, 15)
#define Q8(u, q) __builtin_shufflevector(u, u, 4 * (q), 4 * (q) + 1, 4 * (q) + 2, 4 * (q) + 3)

/* SALSA_WIDE_RUN() - o[16] = the input blocks of N consecutive counters
 * from st (lane j: counter + j), x[16] = their twelve rounds */
#define SALSA_WIDE_RUN(x, o, st, N) do { \
	uint64_t c_ = (uint64_t)(st)[8] | (uint64_t)(st)[9] << 32; \
	for (int i_ = 0; i_ < 16; i_++) \
		for (int j_ = 0; j_ < (N); j_++) \
			(o)[i_][j_] = (st)[i_]; \
	for (int j_ = 0; j_ < (N); j_++) { \
		(o)[8][j_] = (uint32_t)(c_ + (uint64_t)j_); \
		(o)[9][j_] = (uint32_t)((c_ + (uint64_t)j_) >> 32); \
	} \
	memcpy(x, o, sizeof(x)); \
	SALSA_ROUNDS12(x, ROTV); } while (0)

/* salsa_xor8() - out = in XOR the 512 bytes of eight consecutive blocks
 * (counters in[8..9] + 0..7); in may be NULL. AVX2 */
__attribute__((target("avx2"))) static void salsa_xor8(uint8_t *out, const uint8_t *in, const uint32_t st[16])
{
	v8u x[16], o[16];
	SALSA_WIDE_RUN(x, o, st, 8);
	for (int g = 0; g < 4; g++) {
		v8u u[4];
		SALSA_TRANSPOSE(v8u, u, x, o, g, LO32_8, HI32_8, LO64_8, HI64_8);
		for (int k = 0; k < 4; k++) {
			size_t lo = 64 * (size_t)k + 16 * (size_t)g, hi = lo + 256;
			put16(out + lo, in ? in + lo : NULL, Q8(u[k], 0));
			put16(out + hi, in ? in + hi : NULL, Q8(u[k], 1));
		}
	}
}

typedef uint32_t v16u __attribute__((vector_size(64)));
#define LO32_16(a, b) __builtin_shufflevector(a, b, 0, 16, 1, 17, 4, 20, 5, 21, 8, 24, 9, 25, 12, 28, 13, 29)
#define HI32_16(a, b) __builtin_shufflevector(a, b, 2, 18, 3, 19, 6, 22, 7, 23, 10, 26, 11, 27, 14, 30, 15, 31)
#define LO64_16(a, b) __builtin_shufflevector(a, b, 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29)
#define HI64_16(a, b) __builtin_shufflevector(a, b, 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31)
#define Q16(u, q) __builtin_shufflevector(u, u, 4 * (q), 4 * (q) + 1, 4 * (q) + 2, 4 * (q) + 3)

/* salsa_xor16() - the same for 1,024 bytes, sixteen blocks, AVX-512 (whose
 * rotate is one instruction) */
__attribute__((target("avx512f"))) static void salsa_xor16(uint8_t *out, const uint8_t *in, const uint32_t st[16])
{
	v16u x[16], o[16];
	SALSA_WIDE_RUN(x, o, st, 16);
	for (int g = 0; g < 4; g++) {
		v16u u[4];
		SALSA_TRANSPOSE(v16u, u, x, o, g, LO32_16, HI32_16, LO64_16, HI64_16);
		for (int k = 0; k < 4; k++) {
			size_t at = 64 * (size_t)k + 16 * (size_t)g;	/* + 256 per quarter */
			put16(out + at, in ? in + at : NULL, Q16(u[k], 0));
			put16(out + at + 256, in ? in + at + 256 : NULL, Q16(u[k], 1));
			put16(out + at + 512, in ? in + at + 512 : NULL, Q16(u[k], 2));
			put16(out + at + 768, in ? in + at + 768 : NULL, Q16(u[k], 3));
		}
	}
}

/* salsa_have_avx2(), salsa_have_avx512() - what the CPU runs (libgcc fills
 * the feature bits once at start; each is a load and a test) */
static int salsa_have_avx2(void)
{
	return __builtin_cpu_supports("avx2") ? 1 : 0;
}

static int salsa_have_avx512(void)
{
	return __builtin_cpu_supports("avx512f") ? 1 : 0;
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
#if SALSA_HAVE_8
	if (wide) {
		int w16 = salsa_have_avx512();
		while (len >= 512) {
			size_t n = w16 && len >= 1024 ? 1024 : 512;
			if (n == 1024)
				salsa_xor16(out, in, s);
			else
				salsa_xor8(out, in, s);
			ctr += n / 64;
			s[8] = (uint32_t)ctr;
			s[9] = (uint32_t)(ctr >> 32);
			if (in)
				in += n;
			out += n;
			len -= n;
		}
	}
#endif
	while (len) {
		size_t n;
		if (wide && len > 256) {
#if SALSA_HAVE_8
			salsa_xor8(ks, NULL, s);	/* the keystream of a tail of 257..511 */
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
