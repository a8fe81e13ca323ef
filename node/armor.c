/* armor.c - Salsa20/12 + Poly1305 packet armor (PROTOCOL.md §3.5) and the
 * HELLO tail cipher (§3.6).
 */
#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "node/crypto.h"

/* armor_mangle() - per-packet key: the shared key XORed with the IV,
 * addresses, the flags byte without hops, and the packet length */
static void armor_mangle(uint8_t mk[32], const uint8_t *pkt, unsigned len, const uint8_t key[32])
{
	for (unsigned i = 0; i < 18; i++)
		mk[i] = key[i] ^ pkt[i];
	mk[18] = key[18] ^ (pkt[ZT_PKT_IDX_FLAGS] & 0xf8);
	mk[19] = key[19] ^ (uint8_t)(len & 0xff);
	mk[20] = key[20] ^ (uint8_t)((len >> 8) & 0xff);
	memcpy(mk + 21, key + 21, 11);
}

/* armor_tag() - Poly1305 over bytes 27.. keyed from keystream block 0 */
static void armor_tag(uint8_t tag[16], const uint8_t *pkt, unsigned len, const uint8_t mk[32])
{
	uint8_t polykey[32];
	zt_salsa2012_xor(polykey, NULL, sizeof(polykey), pkt, 0, mk);
	crypto_onetimeauth_poly1305(tag, pkt + ZT_PKT_IDX_VERB, len - ZT_PKT_IDX_VERB, polykey);
	sodium_memzero(polykey, sizeof(polykey));
}

/* armor_crypt() - XOR bytes 27.. with keystream bytes 64.. (block 1 on) */
static void armor_crypt(uint8_t *pkt, unsigned len, const uint8_t mk[32])
{
	zt_salsa2012_xor(pkt + ZT_PKT_IDX_VERB, pkt + ZT_PKT_IDX_VERB, len - ZT_PKT_IDX_VERB, pkt, 1, mk);
}

/* zt_armor() - see crypto.h */
void zt_armor(uint8_t *pkt, unsigned len, const uint8_t key[32], unsigned cipher)
{
	uint8_t mk[32], tag[16];
	uint8_t f = pkt[ZT_PKT_IDX_FLAGS] & (ZT_PKT_FLAG_FRAGMENTED | 0x07);
	f |= (uint8_t)((cipher & 7) << 3);
	if (cipher == ZT_CIPHER_POLY1305_SALSA2012)
		f |= ZT_PKT_FLAG_ENCRYPTED;
	pkt[ZT_PKT_IDX_FLAGS] = f;
	armor_mangle(mk, pkt, len, key);
	if (cipher == ZT_CIPHER_POLY1305_SALSA2012)
		armor_crypt(pkt, len, mk);
	armor_tag(tag, pkt, len, mk);
	memcpy(pkt + ZT_PKT_IDX_MAC, tag, 8);
	sodium_memzero(mk, sizeof(mk));
}

/* zt_dearmor() - see crypto.h */
int zt_dearmor(uint8_t *pkt, unsigned len, const uint8_t key[32])
{
	uint8_t mk[32], tag[16];
	unsigned cipher;
	if (len < ZT_PKT_MIN)
		return -EBADMSG;
	cipher = zt_pkt_cipher(pkt);
	if (cipher != ZT_CIPHER_POLY1305_NONE && cipher != ZT_CIPHER_POLY1305_SALSA2012)
		return -ENOTSUP;
	armor_mangle(mk, pkt, len, key);
	armor_tag(tag, pkt, len, mk);
	if (sodium_memcmp(tag, pkt + ZT_PKT_IDX_MAC, 8) != 0) {
		sodium_memzero(mk, sizeof(mk));
		return -EBADMSG;
	}
	if (cipher == ZT_CIPHER_POLY1305_SALSA2012)
		armor_crypt(pkt, len, mk);
	sodium_memzero(mk, sizeof(mk));
	return 0;
}

/* zt_hello_tail_crypt() - Salsa20/12, unmangled key, IV with low 3 bits of byte 7 cleared */
void zt_hello_tail_crypt(const uint8_t *pkt_iv, const uint8_t key[32], uint8_t *data, unsigned len)
{
	uint8_t nonce[8];
	memcpy(nonce, pkt_iv, 8);
	nonce[7] &= 0xf8;
	if (len)
		zt_salsa2012_xor(data, data, len, nonce, 0, key);
}
