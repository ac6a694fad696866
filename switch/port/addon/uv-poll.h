// What IoHandle and UdpHandle share to watch one fd on the Node event loop: starting a uv_poll (the error thrown
// to JS when it cannot start), closing one (stopped, detached from its owner, freed by libuv), and reporting a
// JS exception thrown by a callback the way libuv-driven callbacks in Node core do.
#pragma once

#include <napi.h>
#include <uv.h>

namespace vswitch {

// Starts watching `fd` for readability, calling `cb` with poll->data = `owner`. On failure throws a JS Error
// ("<who>: no uv loop", or with errno/syscall "uv_poll_start") and returns nullptr.
uv_poll_t* StartUvPoll(Napi::Env env, int fd, void* owner, uv_poll_cb cb, const char* who);

// Stops and closes a poll started by StartUvPoll; its callback never sees the owner again.
void CloseUvPoll(uv_poll_t* poll);

// Throws a JS Error "<syscall>: <strerror>" with `errno` and `syscall` properties.
void ThrowSys(Napi::Env env, int err, const char* syscall);

// A JS exception left pending by a callback becomes an uncaught exception.
void RaiseIfPending(Napi::Env env);

}  // namespace vswitch
