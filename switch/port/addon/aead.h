// ChaCha20-Poly1305 (RFC 8439) for the link data path, on the OpenSSL that
// Node itself carries (Node exports its libcrypto symbols; the headers come
// with Node's own headers, so nothing extra is installed or linked).
//
// Why here and not node:crypto: a createCipheriv object per packet costs
// ~6.8 µs (DEPENDENCIES.md), while the cipher itself needs ~1 µs for 1.4 kB.
// An AeadContexts holds two EVP_CIPHER_CTX (one seal, one open), made on first
// use and re-keyed per call (EVP_CipherInit_ex with key and nonce only: no
// allocation). There is no process-wide one: each Node environment that loads
// the addon keeps its own in its instance data (addon.cc) for aeadSeal/aeadOpen,
// and each NativeOffload its own for its slots and fast paths (offload.h).
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
// All calls run on the JS thread of the environment that owns the contexts.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>

typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;

namespace vswitch {

class AeadContexts {
 public:
  AeadContexts() = default;
  ~AeadContexts();
  AeadContexts(const AeadContexts&) = delete;
  AeadContexts& operator=(const AeadContexts&) = delete;

  // Seals pt ‖ padBytes zeros (authenticating ad) into dst, then the 16-byte tag; dst may be pt (in place).
  bool Seal(const uint8_t* key, uint64_t counter, const uint8_t* pt, size_t ptLength, const uint8_t* ad,
            size_t adLength, uint32_t padBytes, uint8_t* dst);
  // Opens box (ciphertext ‖ tag, boxLength ≥ 16) into dst (boxLength − 16 bytes, may overlap box); false when it
  // does not authenticate (dst zeroed then).
  bool Open(const uint8_t* key, uint64_t counter, const uint8_t* box, size_t boxLength, const uint8_t* ad,
            size_t adLength, uint8_t* dst);

  // The fast paths' forms (no associated data): seals data[0..length) in place, the tag at data + length.
  bool SealInPlace(const uint8_t* key, uint64_t counter, uint8_t* data, size_t length) {
    return Seal(key, counter, data, length, nullptr, 0, 0, data);
  }
  bool OpenTo(const uint8_t* key, uint64_t counter, const uint8_t* box, size_t boxLength, uint8_t* dst) {
    return Open(key, counter, box, boxLength, nullptr, 0, dst);
  }

 private:
  // Makes both contexts once with the cipher bound, so each packet only re-keys.
  bool Ensure();

  EVP_CIPHER_CTX* seal_ = nullptr;
  EVP_CIPHER_CTX* open_ = nullptr;
  bool isReady_ = false;
};

// Adds aeadSeal, aeadOpen and aeadInfo() → { openssl: version } to exports; the first two run on `contexts`, which
// must live as long as the environment (the addon's instance data).
void DefineAead(Napi::Env env, Napi::Object exports, AeadContexts* contexts);

}  // namespace vswitch
