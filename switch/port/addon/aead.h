// ChaCha20-Poly1305 (RFC 8439) for the link data path, on the OpenSSL that
// Node itself carries (Node exports its libcrypto symbols; the headers come
// with Node's own headers, so nothing extra is installed or linked).
//
// Why here and not node:crypto: a createCipheriv object per packet costs
// ~6.8 µs (DEPENDENCIES.md), while the cipher itself needs ~1 µs for 1.4 kB.
// Two EVP_CIPHER_CTX (one seal, one open) are made once and re-keyed per call
// (EVP_CipherInit_ex with key and nonce only: no allocation).
//
//   aeadSeal(key, counterLo, counterHi, plaintext, ad, out, outOffset, padBytes) → boolean
//     writes ciphertext(plaintext ‖ padBytes zeros) ‖ tag into out at outOffset.
//   aeadOpen(key, counterLo, counterHi, box, ad, out, outOffset) → boolean
//     box = ciphertext ‖ tag; the plaintext goes to out at outOffset (out may
//     be box itself: in place), false when the tag does not authenticate (the
//     plaintext bytes are then zeroed). The caller allocates: a Uint8Array made
//     in JS costs less than one made through Node-API.
// The nonce is WireGuard's: 32 zero bits, then the 64-bit counter little-endian.
// Bad argument shapes (key not 32 bytes, out too small) return false / null:
// the TypeScript side validates before calling, nothing throws per packet.
// All calls run on the JS thread; the contexts are not shared across threads.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>

namespace vswitch {

// For the native fast paths (offload.cc). The nonce is built from `counter`.
// Seals data[0..length) in place and writes the 16-byte tag at data + length.
bool SealInPlace(const uint8_t* key, uint64_t counter, uint8_t* data, size_t length);
// Opens box (ciphertext ‖ tag, boxLen ≥ 16) into dst (boxLen − 16 bytes); false when it does not authenticate.
bool OpenTo(const uint8_t* key, uint64_t counter, const uint8_t* box, size_t boxLen, uint8_t* dst);

// Adds aeadSeal, aeadOpen and aeadInfo() → { openssl: version } to exports.
void DefineAead(Napi::Env env, Napi::Object exports);

}  // namespace vswitch
