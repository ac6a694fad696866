// Node-API type tags for the addon's wrapped classes (IoHandle, UdpHandle). napi_unwrap hands back whatever
// native pointer an object wraps, so unwrapping an IoHandle as a UdpHandle — or anything as anything — would
// reinterpret its memory. Each class tags its instances in its constructor; `UnwrapTagged` checks the tag
// first, and what is not an instance of that class is a TypeError (pending; nullptr returned), never a cast.
#pragma once

#include <napi.h>

#include <string>

namespace vswitch {

// Tags a new instance (its constructor, first thing); false with an Error thrown when it cannot be tagged.
inline bool TagObject(Napi::Env env, Napi::Object object, const napi_type_tag& tag) {
  if (napi_type_tag_object(env, object, &tag) == napi_ok) return true;
  Napi::Error::New(env, "cannot type-tag the new object").ThrowAsJavaScriptException();
  return false;
}

inline bool HasTag(Napi::Env env, napi_value value, const napi_type_tag& tag) {
  bool isTagged = false;
  return napi_check_object_type_tag(env, value, &tag, &isTagged) == napi_ok && isTagged;
}

// The T `value` wraps, or nullptr with a TypeError thrown ("expected a <what>") when it is anything else.
template <typename T>
T* UnwrapTagged(Napi::Value value, const napi_type_tag& tag, const char* what) {
  Napi::Env env = value.Env();
  if (!value.IsObject() || !HasTag(env, value, tag)) {
    Napi::TypeError::New(env, std::string("expected a ") + what).ThrowAsJavaScriptException();
    return nullptr;
  }
  return Napi::ObjectWrap<T>::Unwrap(value.As<Napi::Object>());
}

}  // namespace vswitch
