// Argument readers for the raw Node-API calls on the data path (aead.cc, offload.cc, gso-js.cc): no exceptions, no
// allocation. A wrong shape reads as a failure (Bytes → false) or 0 / -1; the TypeScript side validates first.
#pragma once

#include <node_api.h>

#include <cstddef>
#include <cstdint>

namespace vswitch {

// A Uint8Array's bytes; false for anything else.
inline bool Bytes(napi_env env, napi_value value, uint8_t** data, size_t* length) {
  napi_typedarray_type type;
  napi_value arrayBuffer;
  size_t byteOffset;
  void* raw = nullptr;
  if (napi_get_typedarray_info(env, value, &type, length, &raw, &arrayBuffer, &byteOffset) != napi_ok) return false;
  if (type != napi_uint8_array) return false;
  *data = static_cast<uint8_t*>(raw);
  return true;
}

// A Uint32Array's elements; false for anything else.
inline bool U32s(napi_env env, napi_value value, uint32_t** data, size_t* length) {
  napi_typedarray_type type;
  napi_value arrayBuffer;
  size_t byteOffset;
  void* raw = nullptr;
  if (napi_get_typedarray_info(env, value, &type, length, &raw, &arrayBuffer, &byteOffset) != napi_ok) return false;
  if (type != napi_uint32_array) return false;
  *data = static_cast<uint32_t*>(raw);
  return true;
}

inline uint32_t U32(napi_env env, napi_value value) {
  uint32_t out = 0;
  napi_get_value_uint32(env, value, &out);
  return out;
}

inline int32_t I32(napi_env env, napi_value value) {
  int32_t out = -1;
  napi_get_value_int32(env, value, &out);
  return out;
}

}  // namespace vswitch
