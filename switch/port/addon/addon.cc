// vswitch_native: the Node-API surface of the native edge. Only open / read /
// write / close and the data-path cipher live here; every decision stays in TypeScript.
//
//   openTap(name, mtuBytes, create, offloads?) → { fd, ifindex, name, offloads (TUN_F_* bits taken) }
//   openPacket(ifname, isPromiscuous, filter?, rcvbufBytes) → { fd, ifindex }
//   interfaceInfo(name)                        → { ifindex, isUp, mtuBytes } | null
//   new IoHandle(fd, isPacket, batchFrames, maxFrameBytes, hasVnetHeader?)   (see io-handle.h)
//   new UdpHandle(host, port, batchMessages, maxDatagramBytes, rcvbufBytes, sndbufBytes)  (udp-handle.h)
//   aeadSeal / aeadOpen / aeadInfo                           (ChaCha20-Poly1305, aead.h)
//   createOffload()                            → NativeOffload (flow table, keypair slots, links: offload.h)
//   vnetCheck / gsoSegment / gsoCoalesce / gsoReasons         (TSO/GSO super-frames: gso-js.h, gso.h)
//
// Nothing here is per process: what the addon keeps for an environment (a main thread, a worker) is
// its instance data (AddonData below), what it keeps for one switch a NativeOffload; two environments
// or two switches never see each other's state.
// Failures throw an Error carrying `errno` (number) and `syscall` (string);
// switch/port/port-errors.ts turns them into typed VswitchErrors.
#include <errno.h>
#include <napi.h>

#include <cstring>
#include <string>
#include <vector>

#include "aead.h"
#include "gso-js.h"
#include "io-handle.h"
#include "netdev.h"
#include "offload.h"
#include "stream-handle.h"
#include "udp-handle.h"

namespace vswitch {
namespace {

// Per Node environment (napi_set_instance_data): freed when the environment goes away.
struct AddonData {
  AeadContexts aead;  // aeadSeal / aeadOpen
  gso::Coalescer coalescer;  // gsoCoalesce
  Napi::FunctionReference offloadClass;
};

Napi::Value ThrowSys(Napi::Env env, SysResult r) {
  std::string syscall = r.syscall != nullptr ? r.syscall : "unknown";
  Napi::Error e = Napi::Error::New(env, syscall + ": " + std::strerror(r.err));
  e.Set("errno", Napi::Number::New(env, r.err));
  e.Set("syscall", Napi::String::New(env, syscall));
  e.ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Value ThrowType(Napi::Env env, const char* usage) {
  Napi::TypeError::New(env, usage).ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Value OpenTapJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsString() || !info[1].IsNumber() || !info[2].IsBoolean() ||
      (info.Length() > 3 && !info[3].IsBoolean() && !info[3].IsUndefined())) {
    return ThrowType(env, "openTap(name, mtuBytes, create, offloads?)");
  }
  bool offloads = info.Length() > 3 && info[3].IsBoolean() && info[3].As<Napi::Boolean>().Value();
  TapOpened opened;
  SysResult r = OpenTap(info[0].As<Napi::String>().Utf8Value(), info[1].As<Napi::Number>().Int32Value(),
                        info[2].As<Napi::Boolean>().Value(), offloads, &opened);
  if (r.err != 0) return ThrowSys(env, r);
  Napi::Object result = Napi::Object::New(env);
  result.Set("fd", Napi::Number::New(env, opened.fd));
  result.Set("ifindex", Napi::Number::New(env, opened.ifindex));
  result.Set("name", Napi::String::New(env, opened.name));
  result.Set("offloads", Napi::Number::New(env, opened.offloads));
  return result;
}

// filter: Array<{ code, jt, jf, k }> (classic BPF, as `tcpdump -dd` prints it)
bool ReadFilter(Napi::Env env, Napi::Value value, std::vector<sock_filter>* out) {
  if (value.IsUndefined() || value.IsNull()) return true;
  if (!value.IsArray()) return false;
  Napi::Array array = value.As<Napi::Array>();
  if (array.Length() == 0 || array.Length() > 4096) return false;
  for (uint32_t i = 0; i < array.Length(); i++) {
    Napi::Value item = array.Get(i);
    if (!item.IsObject()) return false;
    Napi::Object insn = item.As<Napi::Object>();
    Napi::Value code = insn.Get("code"), jt = insn.Get("jt"), jf = insn.Get("jf"), k = insn.Get("k");
    if (!code.IsNumber() || !jt.IsNumber() || !jf.IsNumber() || !k.IsNumber()) return false;
    sock_filter f;
    f.code = static_cast<uint16_t>(code.As<Napi::Number>().Uint32Value());
    f.jt = static_cast<uint8_t>(jt.As<Napi::Number>().Uint32Value());
    f.jf = static_cast<uint8_t>(jf.As<Napi::Number>().Uint32Value());
    f.k = k.As<Napi::Number>().Uint32Value();
    out->push_back(f);
  }
  return true;
}

Napi::Value OpenPacketJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* usage = "openPacket(ifname, isPromiscuous, filter?, rcvbufBytes)";
  if (info.Length() < 4 || !info[0].IsString() || !info[1].IsBoolean() || !info[3].IsNumber()) {
    return ThrowType(env, usage);
  }
  std::vector<sock_filter> filter;
  if (!ReadFilter(env, info[2], &filter)) return ThrowType(env, "filter: 1..4096 of { code, jt, jf, k }");
  PacketOpened opened;
  SysResult r = OpenPacket(info[0].As<Napi::String>().Utf8Value(), info[1].As<Napi::Boolean>().Value(),
                           filter.empty() ? nullptr : filter.data(), filter.size(),
                           info[3].As<Napi::Number>().Int32Value(), &opened);
  if (r.err != 0) return ThrowSys(env, r);
  Napi::Object result = Napi::Object::New(env);
  result.Set("fd", Napi::Number::New(env, opened.fd));
  result.Set("ifindex", Napi::Number::New(env, opened.ifindex));
  return result;
}

Napi::Value InterfaceInfoJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) return ThrowType(env, "interfaceInfo(name)");
  InterfaceInfo iface;
  SysResult r = GetInterfaceInfo(info[0].As<Napi::String>().Utf8Value(), &iface);
  if (r.err == ENODEV) return env.Null();
  if (r.err != 0) return ThrowSys(env, r);
  Napi::Object result = Napi::Object::New(env);
  result.Set("ifindex", Napi::Number::New(env, iface.ifindex));
  result.Set("isUp", Napi::Boolean::New(env, iface.isUp));
  result.Set("mtuBytes", Napi::Number::New(env, iface.mtuBytes));
  return result;
}

// createOffload() → a new, empty NativeOffload of this environment.
Napi::Value CreateOffloadJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddonData* data = env.GetInstanceData<AddonData>();
  if (data == nullptr || data->offloadClass.IsEmpty()) {
    Napi::Error::New(env, "createOffload: the addon is not initialized in this environment").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return data->offloadClass.New({});
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  env.SetInstanceData(data);  // deleted with the environment

  exports.Set("openTap", Napi::Function::New<OpenTapJs>(env, "openTap"));
  exports.Set("openPacket", Napi::Function::New<OpenPacketJs>(env, "openPacket"));
  exports.Set("interfaceInfo", Napi::Function::New<InterfaceInfoJs>(env, "interfaceInfo"));
  exports.Set("IoHandle", IoHandle::Define(env));
  exports.Set("UdpHandle", UdpHandle::Define(env));
  exports.Set("StreamHandle", StreamHandle::Define(env));
  DefineAead(env, exports, &data->aead);
  DefineGso(env, exports, &data->coalescer);
  data->offloadClass = Napi::Persistent(NativeOffload::Define(env));
  exports.Set("createOffload", Napi::Function::New<CreateOffloadJs>(env, "createOffload"));
  return exports;
}

}  // namespace
}  // namespace vswitch

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return vswitch::Init(env, exports); }

NODE_API_MODULE(vswitch_native, InitModule)
