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

void MakeNonce(uint8_t nonce[kNonceBytes], uint64_t counter) {
  std::memset(nonce, 0, 4);
  for (int i = 0; i < 8; i++) nonce[4 + i] = static_cast<uint8_t>(counter >> (8 * i));
}

uint64_t Counter(napi_env env, napi_value lo, napi_value hi) {
  return (static_cast<uint64_t>(U32(env, hi)) << 32) | U32(env, lo);
}

// aeadSeal(key, lo, hi, plaintext, ad, out, outOffset, padBytes) → boolean. The raw C API keeps the per-packet
// call as cheap as Node-API allows; the contexts come as the function's data.
napi_value AeadSeal(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  void* data = nullptr;
  napi_value result;
  napi_get_boolean(env, false, &result);
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, &data) != napi_ok || argc < 6 || data == nullptr) return result;
  uint8_t *key, *pt, *ad, *out;
  size_t keyLen, ptLen, adLen, outLen;
  if (!Bytes(env, argv[0], &key, &keyLen) || keyLen != kKeyBytes) return result;
  if (!Bytes(env, argv[3], &pt, &ptLen) || !Bytes(env, argv[4], &ad, &adLen) || !Bytes(env, argv[5], &out, &outLen)) {
    return result;
  }
  uint32_t outOffset = argc > 6 ? U32(env, argv[6]) : 0;
  uint32_t padBytes = argc > 7 ? U32(env, argv[7]) : 0;
  if (padBytes >= 16 || static_cast<size_t>(outOffset) + ptLen + padBytes + kTagBytes > outLen) return result;
  auto* contexts = static_cast<AeadContexts*>(data);
  if (contexts->Seal(key, Counter(env, argv[1], argv[2]), pt, ptLen, ad, adLen, padBytes, out + outOffset)) {
    napi_get_boolean(env, true, &result);
  }
  return result;
}

// aeadOpen(key, lo, hi, box, ad, out, outOffset) → boolean: plaintext into out at outOffset.
napi_value AeadOpen(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  void* data = nullptr;
  napi_value result;
  napi_get_boolean(env, false, &result);
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, &data) != napi_ok || argc < 6 || data == nullptr) return result;
  uint8_t *key, *box, *ad, *out;
  size_t keyLen, boxLen, adLen, outLen;
  if (!Bytes(env, argv[0], &key, &keyLen) || keyLen != kKeyBytes) return result;
  if (!Bytes(env, argv[3], &box, &boxLen) || boxLen < kTagBytes || !Bytes(env, argv[4], &ad, &adLen)) return result;
  if (!Bytes(env, argv[5], &out, &outLen)) return result;
  uint32_t outOffset = argc > 6 ? U32(env, argv[6]) : 0;
  if (static_cast<size_t>(outOffset) + boxLen - kTagBytes > outLen) return result;
  auto* contexts = static_cast<AeadContexts*>(data);
  if (contexts->Open(key, Counter(env, argv[1], argv[2]), box, boxLen, ad, adLen, out + outOffset)) {
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

AeadContexts::~AeadContexts() {
  EVP_CIPHER_CTX_free(seal_);  // both accept nullptr
  EVP_CIPHER_CTX_free(open_);
}

bool AeadContexts::Ensure() {
  if (isReady_) return true;
  const EVP_CIPHER* cipher = EVP_chacha20_poly1305();
  if (cipher == nullptr) return false;
  if (seal_ == nullptr) seal_ = EVP_CIPHER_CTX_new();
  if (open_ == nullptr) open_ = EVP_CIPHER_CTX_new();
  if (seal_ == nullptr || open_ == nullptr) return false;
  if (EVP_EncryptInit_ex(seal_, cipher, nullptr, nullptr, nullptr) != 1) return false;
  if (EVP_DecryptInit_ex(open_, cipher, nullptr, nullptr, nullptr) != 1) return false;
  isReady_ = true;
  return true;
}

bool AeadContexts::Seal(const uint8_t* key, uint64_t counter, const uint8_t* pt, size_t ptLength, const uint8_t* ad,
                        size_t adLength, uint32_t padBytes, uint8_t* dst) {
  if (!Ensure()) return false;
  uint8_t nonce[kNonceBytes];
  MakeNonce(nonce, counter);
  EVP_CIPHER_CTX* ctx = seal_;
  int n = 0;
  if (EVP_EncryptInit_ex(ctx, nullptr, nullptr, key, nonce) != 1) return false;
  if (adLength > 0 && EVP_EncryptUpdate(ctx, nullptr, &n, ad, static_cast<int>(adLength)) != 1) return false;
  size_t written = 0;
  if (ptLength > 0) {
    if (EVP_EncryptUpdate(ctx, dst, &n, pt, static_cast<int>(ptLength)) != 1) return false;
    written += static_cast<size_t>(n);
  }
  if (padBytes > 0) {
    static const uint8_t kZeros[16] = {0};
    if (EVP_EncryptUpdate(ctx, dst + written, &n, kZeros, static_cast<int>(padBytes)) != 1) return false;
    written += static_cast<size_t>(n);
  }
  if (EVP_EncryptFinal_ex(ctx, dst + written, &n) != 1) return false;
  written += static_cast<size_t>(n);
  return EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, kTagBytes, dst + written) == 1;
}

bool AeadContexts::Open(const uint8_t* key, uint64_t counter, const uint8_t* box, size_t boxLength, const uint8_t* ad,
                        size_t adLength, uint8_t* dst) {
  if (boxLength < kTagBytes || !Ensure()) return false;
  size_t ctLen = boxLength - kTagBytes;
  uint8_t nonce[kNonceBytes];
  MakeNonce(nonce, counter);
  EVP_CIPHER_CTX* ctx = open_;
  int n = 0;
  uint8_t tag[kTagBytes];
  std::memcpy(tag, box + ctLen, kTagBytes);  // box and dst may overlap (in place)
  if (EVP_DecryptInit_ex(ctx, nullptr, nullptr, key, nonce) != 1) return false;
  if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, kTagBytes, tag) != 1) return false;
  if (adLength > 0 && EVP_DecryptUpdate(ctx, nullptr, &n, ad, static_cast<int>(adLength)) != 1) return false;
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

void DefineAead(Napi::Env env, Napi::Object exports, AeadContexts* contexts) {
  napi_value fn;
  napi_create_function(env, "aeadSeal", NAPI_AUTO_LENGTH, AeadSeal, contexts, &fn);
  exports.Set("aeadSeal", Napi::Value(env, fn));
  napi_create_function(env, "aeadOpen", NAPI_AUTO_LENGTH, AeadOpen, contexts, &fn);
  exports.Set("aeadOpen", Napi::Value(env, fn));
  napi_create_function(env, "aeadInfo", NAPI_AUTO_LENGTH, AeadInfo, nullptr, &fn);
  exports.Set("aeadInfo", Napi::Value(env, fn));
}

}  // namespace vswitch
