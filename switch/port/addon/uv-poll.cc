#include "uv-poll.h"

#include <cstring>
#include <string>

namespace vswitch {

uv_poll_t* StartUvPoll(Napi::Env env, int fd, void* owner, uv_poll_cb cb, const char* who) {
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
    Napi::Error::New(env, std::string(who) + ": no uv loop").ThrowAsJavaScriptException();
    return nullptr;
  }
  auto* poll = new uv_poll_t;
  int rc = uv_poll_init(loop, poll, fd);
  if (rc != 0) {
    delete poll;
    ThrowSys(env, -rc, "uv_poll_start");
    return nullptr;
  }
  poll->data = owner;
  rc = uv_poll_start(poll, UV_READABLE, cb);
  if (rc != 0) {
    CloseUvPoll(poll);
    ThrowSys(env, -rc, "uv_poll_start");
    return nullptr;
  }
  return poll;
}

void CloseUvPoll(uv_poll_t* poll) {
  uv_poll_stop(poll);
  poll->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(poll), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
}

void ThrowSys(Napi::Env env, int err, const char* syscall) {
  Napi::Error e = Napi::Error::New(env, std::string(syscall) + ": " + std::strerror(err));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", Napi::String::New(env, syscall));
  e.ThrowAsJavaScriptException();
}

void RaiseIfPending(Napi::Env env) {
  if (env.IsExceptionPending()) {
    Napi::Error e = env.GetAndClearPendingException();
    napi_fatal_exception(env, e.Value());
  }
}

}  // namespace vswitch
