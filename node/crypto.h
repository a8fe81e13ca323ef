/* crypto.h - peer-layer crypto helpers: hashes, the Salsa20/12+Poly1305
 * packet armor (PROTOCOL.md §3.5), the HELLO tail cipher (§3.6) and LZ4
 * (§3.9). Implemented in node/crypto.c and node/armor.c.
 */
#ifndef NETCON_NODE_CRYPTO_H
#define NETCON_NODE_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

/* Header offsets (§3.1) */
#define ZT_PKT_IDX_IV 0
#define ZT_PKT_IDX_DEST 8
#define ZT_PKT_IDX_SOURCE 13
#define ZT_PKT_IDX_FLAGS 18
#define ZT_PKT_IDX_MAC 19
#define ZT_PKT_IDX_VERB 27
#define ZT_PKT_IDX_PAYLOAD 28
#define ZT_PKT_MIN 28
#define ZT_FRAG_MIN 16
#define ZT_FRAG_INDICATOR 0xff

#define ZT_PKT_FLAG_ENCRYPTED 0x80
#define ZT_PKT_FLAG_FRAGMENTED 0x40
#define ZT_VERB_FLAG_COMPRESSED 0x80

#define ZT_CIPHER_POLY1305_NONE 0
#define ZT_CIPHER_POLY1305_SALSA2012 1
#define ZT_CIPHER_NONE 2
#define ZT_CIPHER_AES_GMAC_SIV 3

static inline unsigned zt_pkt_cipher(const uint8_t *pkt) { return (pkt[ZT_PKT_IDX_FLAGS] >> 3) & 7; }
static inline unsigned zt_pkt_hops(const uint8_t *pkt) { return pkt[ZT_PKT_IDX_FLAGS] & 7; }

/* zt_armor() - set cipher bits in byte 18 (keeping 0x40 and hops), MAC and,
 * for cipher 1, encrypt bytes 27.. in place. key: peer key (first 32 bytes
 * used). len >= 28. */
void zt_armor(uint8_t *pkt, unsigned len, const uint8_t key[32], unsigned cipher);

/* zt_dearmor() - check the MAC of an assembled packet and decrypt in place
 * (cipher 0 or 1). Return: 0, or -EBADMSG (MAC), -ENOTSUP (other cipher). */
int zt_dearmor(uint8_t *pkt, unsigned len, const uint8_t key[32]);

/* zt_hello_tail_crypt() - XOR the HELLO moon-list tail (§3.6); symmetric. */
void zt_hello_tail_crypt(const uint8_t *pkt_iv, const uint8_t key[32], uint8_t *data, unsigned len);

/* zt_salsa2012_xor() - out = in XOR Salsa20/12 keystream from block ctr
 * (in NULL: the keystream itself). node/crypto_salsa.c */
void zt_salsa2012_xor(uint8_t *out, const uint8_t *in, size_t len, const uint8_t nonce[8], uint64_t ctr,
		      const uint8_t key[32]);

/* zt_lz4_decompress() - raw LZ4 block. Return: bytes written or -EINVAL. */
int zt_lz4_decompress(const uint8_t *in, unsigned inlen, uint8_t *out, unsigned cap);
/* zt_lz4_compress() - Return: bytes written, or 0 if it did not fit. */
int zt_lz4_compress(const uint8_t *in, unsigned inlen, uint8_t *out, unsigned cap);

/* zt_sha512() / zt_sha384() - whole-message digests. */
void zt_sha512(uint8_t out[64], const void *data, size_t len);
void zt_sha384(uint8_t out[48], const void *data, size_t len);

/* zt_crypto_init() - initialise libsodium once; 0 or -1 */
int zt_crypto_init(void);

#endif
