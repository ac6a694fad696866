// See gso-js.h.
#include "gso-js.h"

#include <cstring>
#include <vector>

#include "napi-args.h"

namespace vswitch {
namespace {

napi_value Int(napi_env env, int64_t v) {
  napi_value out;
  napi_create_int64(env, v, &out);
  return out;
}

// vnetCheck(header, frame, out) → reason
napi_value VnetCheck(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  uint8_t *raw, *frame, *out;
  size_t rawLen, frameLen, outLen;
  if (argc < 3 || !Bytes(env, argv[0], &raw, &rawLen) || !Bytes(env, argv[1], &frame, &frameLen) ||
      !Bytes(env, argv[2], &out, &outLen) || outLen < gso::kVnetHeaderBytes) {
    return Int(env, -1);
  }
  if (rawLen < gso::kVnetHeaderBytes) return Int(env, gso::kVnetShort);
  gso::VnetHeader h;
  gso::Layout layout;
  gso::Reason reason = gso::CheckHeader(raw, frame, frameLen, &h, &layout);
  if (reason == gso::kOk) gso::EncodeHeader(h, out);
  return Int(env, reason);
}

// gsoSegment(header, frame, out, lengths, stride?) → count | −reason | −kReasonCount. With a stride, segment i is
// at out[i × stride] (gso::SegmentStrided, the flow offload's cut into seal slots), else packed.
napi_value GsoSegment(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  uint8_t *raw, *frame, *out;
  uint32_t* lengths;
  size_t rawLen, frameLen, outLen, lengthsLen;
  if (argc < 4 || !Bytes(env, argv[0], &raw, &rawLen) || !Bytes(env, argv[1], &frame, &frameLen) ||
      !Bytes(env, argv[2], &out, &outLen) || !U32s(env, argv[3], &lengths, &lengthsLen)) {
    return Int(env, -static_cast<int64_t>(gso::kReasonCount));
  }
  if (rawLen < gso::kVnetHeaderBytes) return Int(env, -static_cast<int64_t>(gso::kVnetShort));
  gso::VnetHeader h;
  gso::Layout layout;
  gso::Reason reason = gso::CheckHeader(raw, frame, frameLen, &h, &layout);
  if (reason != gso::kOk) return Int(env, -static_cast<int64_t>(reason));
  uint32_t stride = 0;
  if (argc > 4) napi_get_value_uint32(env, argv[4], &stride);
  size_t count = 0;
  if (stride == 0) {
    count = gso::Segment(h, layout, frame, frameLen, out, outLen, lengths, lengthsLen);
  } else if (gso::SegmentCount(h, frameLen) * stride <= outLen) {
    count = gso::SegmentStrided(h, layout, frame, frameLen, out, stride, lengths, lengthsLen);
  }
  return count == 0 ? Int(env, -static_cast<int64_t>(gso::kReasonCount)) : Int(env, static_cast<int64_t>(count));
}

// gsoCoalesce(frames, out, lengths, headers) → count | −1
napi_value GsoCoalesce(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  void* data = nullptr;
  napi_get_cb_info(env, info, &argc, argv, nullptr, &data);
  auto* coalescer = static_cast<gso::Coalescer*>(data);
  uint8_t *out, *headers;
  uint32_t* lengths;
  size_t outLen, lengthsLen, headersLen;
  bool isArray = false;
  if (argc < 4 || napi_is_array(env, argv[0], &isArray) != napi_ok || !isArray ||
      !Bytes(env, argv[1], &out, &outLen) || !U32s(env, argv[2], &lengths, &lengthsLen) ||
      !Bytes(env, argv[3], &headers, &headersLen)) {
    return Int(env, -1);
  }
  uint32_t count = 0;
  napi_get_array_length(env, argv[0], &count);
  if (count > gso::kMaxCoalesceFrames) return Int(env, -1);
  std::vector<const uint8_t*> frames(count);
  std::vector<size_t> sizes(count);
  for (uint32_t i = 0; i < count; i++) {
    napi_value element;
    uint8_t* bytes;
    size_t length;
    if (napi_get_element(env, argv[0], i, &element) != napi_ok || !Bytes(env, element, &bytes, &length)) {
      return Int(env, -1);
    }
    frames[i] = bytes;
    sizes[i] = length;
  }
  coalescer->Plan(frames.data(), sizes.data(), count);
  const std::vector<gso::Group>& groups = coalescer->groups();
  size_t total = 0;
  for (const gso::Group& g : groups) total += g.totalBytes;
  if (groups.size() > lengthsLen || groups.size() * gso::kVnetHeaderBytes > headersLen || total > outLen) {
    return Int(env, -1);
  }
  size_t at = 0;
  for (size_t i = 0; i < groups.size(); i++) {
    const gso::Group& g = groups[i];
    coalescer->Flatten(g, out + at);
    gso::EncodeHeader(g.header, headers + i * gso::kVnetHeaderBytes);
    lengths[i] = static_cast<uint32_t>(g.totalBytes);
    at += g.totalBytes;
  }
  return Int(env, static_cast<int64_t>(groups.size()));
}

}  // namespace

void DefineGso(Napi::Env env, Napi::Object exports, gso::Coalescer* coalescer) {
  napi_value fn;
  napi_create_function(env, "vnetCheck", NAPI_AUTO_LENGTH, VnetCheck, nullptr, &fn);
  exports.Set("vnetCheck", Napi::Value(env, fn));
  napi_create_function(env, "gsoSegment", NAPI_AUTO_LENGTH, GsoSegment, nullptr, &fn);
  exports.Set("gsoSegment", Napi::Value(env, fn));
  napi_create_function(env, "gsoCoalesce", NAPI_AUTO_LENGTH, GsoCoalesce, coalescer, &fn);
  exports.Set("gsoCoalesce", Napi::Value(env, fn));
  Napi::Array reasons = Napi::Array::New(env, gso::kReasonCount);
  for (uint32_t i = 0; i < gso::kReasonCount; i++) reasons.Set(i, Napi::String::New(env, gso::ReasonName(i)));
  exports.Set("gsoReasons", reasons);
}

}  // namespace vswitch
