// See aead.h for the design.
#include "aead.h"
#include "napi-args.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstdint>
#include <cstring>

namespace vswitch {
namespace {

constexpr size_t kKeyBytes = 32;
constexpr size_t kTagBytes = 16;
constexpr size_t kNonceBytes = 12;

EVP_CIPHER_CTX* sealCtx = nullptr;
EVP_CIPHER_CTX* openCtx = nullptr;

// Makes both contexts once with the cipher bound, so each packet only re-keys.
bool EnsureContexts() {
  if (sealCtx != nullptr && openCtx != nullptr) return true;
  const EVP_CIPHER* cipher = EVP_chacha20_poly1305();
  if (cipher == nullptr) return false;
  sealCtx = EVP_CIPHER_CTX_new();
  openCtx = EVP_CIPHER_CTX_new();
  if (sealCtx == nullptr || openCtx == nullptr) return false;
  if (EVP_EncryptInit_ex(sealCtx, cipher, nullptr, nullptr, nullptr) != 1) return false;
  if (EVP_DecryptInit_ex(openCtx, cipher, nullptr, nullptr, nullptr) != 1) return false;
  return true;
}

void MakeNonce(uint8_t nonce[kNonceBytes], uint32_t lo, uint32_t hi) {
  std::memset(nonce, 0, 4);
  for (int i = 0; i < 4; i++) {
    nonce[4 + i] = static_cast<uint8_t>(lo >> (8 * i));
    nonce[8 + i] = static_cast<uint8_t>(hi >> (8 * i));
  }
}

// The raw C API keeps the per-packet call as cheap as Node-API allows.
napi_value AeadSeal(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  napi_value result;
  napi_get_boolean(env, false, &result);
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 6) return result;
  uint8_t *key, *pt, *ad, *out;
  size_t keyLen, ptLen, adLen, outLen;
  if (!Bytes(env, argv[0], &key, &keyLen) || keyLen != kKeyBytes) return result;
  if (!Bytes(env, argv[3], &pt, &ptLen) || !Bytes(env, argv[4], &ad, &adLen) || !Bytes(env, argv[5], &out, &outLen)) {
    return result;
  }
  uint32_t outOffset = argc > 6 ? U32(env, argv[6]) : 0;
  uint32_t padBytes = argc > 7 ? U32(env, argv[7]) : 0;
  if (padBytes >= 16 || static_cast<size_t>(outOffset) + ptLen + padBytes + kTagBytes > outLen) return result;
  if (!EnsureContexts()) return result;

  uint8_t nonce[kNonceBytes];
  MakeNonce(nonce, U32(env, argv[1]), U32(env, argv[2]));
  EVP_CIPHER_CTX* ctx = sealCtx;
  int n = 0;
  if (EVP_EncryptInit_ex(ctx, nullptr, nullptr, key, nonce) != 1) return result;
  if (adLen > 0 && EVP_EncryptUpdate(ctx, nullptr, &n, ad, static_cast<int>(adLen)) != 1) return result;
  uint8_t* dst = out + outOffset;
  size_t written = 0;
  if (ptLen > 0) {
    if (EVP_EncryptUpdate(ctx, dst, &n, pt, static_cast<int>(ptLen)) != 1) return result;
    written += static_cast<size_t>(n);
  }
  if (padBytes > 0) {
    static const uint8_t kZeros[16] = {0};
    if (EVP_EncryptUpdate(ctx, dst + written, &n, kZeros, static_cast<int>(padBytes)) != 1) return result;
    written += static_cast<size_t>(n);
  }
  if (EVP_EncryptFinal_ex(ctx, dst + written, &n) != 1) return result;
  written += static_cast<size_t>(n);
  if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, kTagBytes, dst + written) != 1) return result;
  napi_get_boolean(env, true, &result);
  return result;
}

// Decrypts box (ciphertext ‖ tag) into dst (ctLen bytes); false when it does not authenticate.
bool OpenInto(const uint8_t* key, uint32_t lo, uint32_t hi, const uint8_t* box, size_t boxLen, const uint8_t* ad,
              size_t adLen, uint8_t* dst) {
  size_t ctLen = boxLen - kTagBytes;
  uint8_t nonce[kNonceBytes];
  MakeNonce(nonce, lo, hi);
  EVP_CIPHER_CTX* ctx = openCtx;
  int n = 0;
  uint8_t tag[kTagBytes];
  std::memcpy(tag, box + ctLen, kTagBytes);  // box and dst may overlap (in place)
  if (EVP_DecryptInit_ex(ctx, nullptr, nullptr, key, nonce) != 1) return false;
  if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, kTagBytes, tag) != 1) return false;
  if (adLen > 0 && EVP_DecryptUpdate(ctx, nullptr, &n, ad, static_cast<int>(adLen)) != 1) return false;
  size_t written = 0;
  if (ctLen > 0) {
    if (EVP_DecryptUpdate(ctx, dst, &n, box, static_cast<int>(ctLen)) != 1) return false;
    written += static_cast<size_t>(n);
  }
  if (EVP_DecryptFinal_ex(ctx, dst + written, &n) != 1) {
    std::memset(dst, 0, ctLen);  // never leave unauthenticated plaintext behind
    return false;
  }
  return true;
}

// aeadOpen(key, lo, hi, box, ad, out, outOffset) → boolean: plaintext into out at outOffset.
napi_value AeadOpen(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  napi_value result;
  napi_get_boolean(env, false, &result);
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 6) return result;
  uint8_t *key, *box, *ad, *out;
  size_t keyLen, boxLen, adLen, outLen;
  if (!Bytes(env, argv[0], &key, &keyLen) || keyLen != kKeyBytes) return result;
  if (!Bytes(env, argv[3], &box, &boxLen) || boxLen < kTagBytes || !Bytes(env, argv[4], &ad, &adLen)) return result;
  if (!Bytes(env, argv[5], &out, &outLen)) return result;
  uint32_t outOffset = argc > 6 ? U32(env, argv[6]) : 0;
  if (static_cast<size_t>(outOffset) + boxLen - kTagBytes > outLen) return result;
  if (!EnsureContexts()) return result;
  if (OpenInto(key, U32(env, argv[1]), U32(env, argv[2]), box, boxLen, ad, adLen, out + outOffset)) {
    napi_get_boolean(env, true, &result);
  }
  return result;
}

napi_value AeadInfo(napi_env env, napi_callback_info info) {
  napi_value result, version;
  napi_create_object(env, &result);
  napi_create_string_utf8(env, OpenSSL_version(OPENSSL_VERSION), NAPI_AUTO_LENGTH, &version);
  napi_set_named_property(env, result, "openssl", version);
  return result;
}

}  // namespace

bool SealInPlace(const uint8_t* key, uint64_t counter, uint8_t* data, size_t length) {
  if (!EnsureContexts()) return false;
  uint8_t nonce[kNonceBytes];
  MakeNonce(nonce, static_cast<uint32_t>(counter), static_cast<uint32_t>(counter >> 32));
  EVP_CIPHER_CTX* ctx = sealCtx;
  int n = 0;
  if (EVP_EncryptInit_ex(ctx, nullptr, nullptr, key, nonce) != 1) return false;
  size_t written = 0;
  if (length > 0) {
    if (EVP_EncryptUpdate(ctx, data, &n, data, static_cast<int>(length)) != 1) return false;
    written += static_cast<size_t>(n);
  }
  if (EVP_EncryptFinal_ex(ctx, data + written, &n) != 1) return false;
  written += static_cast<size_t>(n);
  return EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, kTagBytes, data + written) == 1;
}

bool OpenTo(const uint8_t* key, uint64_t counter, const uint8_t* box, size_t boxLen, uint8_t* dst) {
  if (boxLen < kTagBytes || !EnsureContexts()) return false;
  static const uint8_t kNoAd[1] = {0};
  return OpenInto(key, static_cast<uint32_t>(counter), static_cast<uint32_t>(counter >> 32), box, boxLen, kNoAd, 0, dst);
}

void DefineAead(Napi::Env env, Napi::Object exports) {
  napi_value fn;
  napi_create_function(env, "aeadSeal", NAPI_AUTO_LENGTH, AeadSeal, nullptr, &fn);
  exports.Set("aeadSeal", Napi::Value(env, fn));
  napi_create_function(env, "aeadOpen", NAPI_AUTO_LENGTH, AeadOpen, nullptr, &fn);
  exports.Set("aeadOpen", Napi::Value(env, fn));
  napi_create_function(env, "aeadInfo", NAPI_AUTO_LENGTH, AeadInfo, nullptr, &fn);
  exports.Set("aeadInfo", Napi::Value(env, fn));
}

}  // namespace vswitch
