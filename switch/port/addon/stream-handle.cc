// See stream-handle.h for the design.
#include "stream-handle.h"
#include "offload.h"
#include "type-tag.h"
#include "uv-poll.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace vswitch {
namespace {

constexpr napi_type_tag kStreamHandleTag = {0x7673776974636804ull, 0x73747265616d2d68ull};

/* Specification constants (stream-framing.ts, transport.ts) */
constexpr size_t kFrameHeaderBytes = 2;
constexpr size_t kMinMessageBytes = 16;
constexpr size_t kMaxMessageBytes = 65535;

/* Implementation constants */
// One read's room; the partial frame left by the last one goes before it.
constexpr size_t kReadBytes = 256 * 1024;
constexpr size_t kMaxTailBytes = kFrameHeaderBytes + kMaxMessageBytes;

}  // namespace

Napi::Function StreamHandle::Define(Napi::Env env) {
  return DefineClass(env, "StreamHandle",
                     {
                         InstanceAccessor<&StreamHandle::GetBuffer>("buffer"),
                         InstanceAccessor<&StreamHandle::GetOffsets>("offsets"),
                         InstanceAccessor<&StreamHandle::GetLengths>("lengths"),
                         InstanceMethod<&StreamHandle::Start>("start"),
                         InstanceMethod<&StreamHandle::Send>("send"),
                         InstanceMethod<&StreamHandle::Counters>("counters"),
                         InstanceMethod<&StreamHandle::SetOffload>("setOffload"),
                         InstanceMethod<&StreamHandle::Close>("close"),
                     });
}

// new StreamHandle(fd, maxQueueBytes, notSentLowatBytes): takes a duplicate of a connected TCP socket's fd.
StreamHandle::StreamHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<StreamHandle>(info) {
  Napi::Env env = info.Env();
  if (!TagObject(env, info.This().As<Napi::Object>(), kStreamHandleTag)) return;
  if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsNumber()) {
    Napi::TypeError::New(env, "StreamHandle(fd, maxQueueBytes, notSentLowatBytes)").ThrowAsJavaScriptException();
    return;
  }
  int source = info[0].As<Napi::Number>().Int32Value();
  double maxQueue = info[1].As<Napi::Number>().DoubleValue();
  int lowat = info[2].As<Napi::Number>().Int32Value();
  if (!(maxQueue >= kFrameHeaderBytes + kMinMessageBytes && maxQueue <= 64.0 * 1024 * 1024)) {
    Napi::RangeError::New(env, "StreamHandle: maxQueueBytes out of range 18..64 MiB").ThrowAsJavaScriptException();
    return;
  }
  int type = 0;
  socklen_t typeLen = sizeof(type);
  if (source < 0 || getsockopt(source, SOL_SOCKET, SO_TYPE, &type, &typeLen) != 0) {
    ThrowSys(env, source < 0 ? EBADF : errno, "getsockopt");
    return;
  }
  if (type != SOCK_STREAM) {
    ThrowSys(env, ENOTSOCK, "getsockopt");
    return;
  }
  fd_ = fcntl(source, F_DUPFD_CLOEXEC, 0);
  if (fd_ < 0) {
    ThrowSys(env, errno, "fcntl");
    return;
  }
  int flags = fcntl(fd_, F_GETFL);
  if (flags >= 0) fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
  int on = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
  if (lowat > 0) setsockopt(fd_, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lowat, sizeof(lowat));

  dataBytes_ = kMaxTailBytes + kReadBytes;
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, dataBytes_);
  data_ = static_cast<uint8_t*>(buffer.Data());
  bufferRef_ = Napi::Persistent(buffer);
  entries_ = static_cast<uint32_t>(dataBytes_ / (kFrameHeaderBytes + kMinMessageBytes) + 1);
  Napi::Uint32Array offsets = Napi::Uint32Array::New(env, entries_);
  offsets_ = offsets.Data();
  offsetsRef_ = Napi::Persistent(offsets);
  Napi::Uint32Array lengths = Napi::Uint32Array::New(env, entries_);
  lengths_ = lengths.Data();
  lengthsRef_ = Napi::Persistent(lengths);

  maxQueueBytes_ = static_cast<size_t>(maxQueue);
  queueRoom_ = maxQueueBytes_ + kMaxTailBytes;
  queue_.reset(new uint8_t[queueRoom_]);
}

StreamHandle* StreamHandle::Unwrap(Napi::Object wrapper) {
  return UnwrapTagged<StreamHandle>(wrapper, kStreamHandleTag, "StreamHandle");
}

StreamHandle::~StreamHandle() {
  if (offload_ != nullptr) offload_->DetachStream(this);
  offload_ = nullptr;
  if (poll_ != nullptr) {
    CloseUvPoll(poll_);
    poll_ = nullptr;
  }
  delete asyncContext_;
  asyncContext_ = nullptr;
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

Napi::Value StreamHandle::GetBuffer(const Napi::CallbackInfo& info) { return bufferRef_.Value(); }
Napi::Value StreamHandle::GetOffsets(const Napi::CallbackInfo& info) { return offsetsRef_.Value(); }
Napi::Value StreamHandle::GetLengths(const Napi::CallbackInfo& info) { return lengthsRef_.Value(); }

// start(onMessages(count), onClosed(reason, errno))
Napi::Value StreamHandle::Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (fd_ < 0 || isStarted_ || isClosed_) {
    Napi::Error::New(env, "StreamHandle.start: closed or already started").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (info.Length() < 2 || !info[0].IsFunction() || !info[1].IsFunction()) {
    Napi::TypeError::New(env, "StreamHandle.start(onMessages, onClosed)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  poll_ = StartUvPoll(env, fd_, this, &StreamHandle::OnPoll, "StreamHandle.start");
  if (poll_ == nullptr) return env.Undefined();
  onMessages_ = Napi::Persistent(info[0].As<Napi::Function>());
  onClosed_ = Napi::Persistent(info[1].As<Napi::Function>());
  asyncContext_ = new Napi::AsyncContext(env, "vswitch:stream");
  isStarted_ = true;
  Ref();  // a polling handle stays alive even if JS drops it; close() or the end of the stream releases
  if (used_ > head_) WatchWritable(true);  // sent before start
  return env.Undefined();
}

void StreamHandle::OnPoll(uv_poll_t* poll, int status, int events) {
  auto* self = static_cast<StreamHandle*>(poll->data);
  if (self == nullptr) return;
  if (status < 0) {
    self->Fail("error", -status);
    return;
  }
  if (self->writeError_ != 0) {
    self->Fail("error", self->writeError_);
    return;
  }
  if ((events & UV_WRITABLE) && self->isWatchingWritable_) {
    if (!self->FlushQueue()) {
      self->Fail("error", self->writeError_);
      return;
    }
  }
  if ((events & UV_READABLE) && !self->isClosed_) self->OnReadable();
}

size_t StreamHandle::ParseFrames(size_t end, uint32_t* count, bool* isGarbage) {
  size_t at = 0;
  uint32_t n = 0;
  while (end - at >= kFrameHeaderBytes) {
    size_t length = (static_cast<size_t>(data_[at]) << 8) | data_[at + 1];
    if (length < kMinMessageBytes) {
      *isGarbage = true;
      break;
    }
    if (end - at - kFrameHeaderBytes < length) break;
    const uint8_t* message = data_ + at + kFrameHeaderBytes;
    rxMessages_++;
    rxBytes_ += static_cast<double>(length);
    if (offload_ != nullptr && offload_->TakeStreamMessage(this, message, length)) {
      offloadedMessages_++;
    } else if (n < entries_) {
      offsets_[n] = static_cast<uint32_t>(at + kFrameHeaderBytes);
      lengths_[n] = static_cast<uint32_t>(length);
      n++;
    }
    at += kFrameHeaderBytes + length;
  }
  *count = n;
  return at;
}

void StreamHandle::OnReadable() {
  ssize_t got;
  do {
    got = read(fd_, data_ + tail_, dataBytes_ - tail_);
  } while (got < 0 && errno == EINTR);
  if (got < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    Fail("error", errno);
    return;
  }
  if (got == 0) {
    Fail(tail_ > 0 ? "truncated" : "ended", 0);
    return;
  }
  readCalls_++;
  size_t end = tail_ + static_cast<size_t>(got);
  uint32_t count = 0;
  bool isGarbage = false;
  size_t consumed = ParseFrames(end, &count, &isGarbage);
  if (offload_ != nullptr) offload_->FlushSends();
  Napi::Env env = Env();
  Napi::HandleScope scope(env);
  Ref();  // stay alive through callbacks that may close and drop this handle
  if (count > 0 && !onMessages_.IsEmpty()) {
    isDispatching_ = true;
    onMessages_.MakeCallback(Value(), {Napi::Number::New(env, count)}, *asyncContext_);
    isDispatching_ = false;
    RaiseIfPending(env);
    if (isClosed_ && asyncContext_ != nullptr) {  // closed by JS during the call
      delete asyncContext_;
      asyncContext_ = nullptr;
    }
  }
  if (!isClosed_) {
    if (isGarbage) {
      Fail("garbage", 0);  // after the whole frames before it went their way
    } else {
      tail_ = end - consumed;
      if (tail_ > 0 && consumed > 0) std::memmove(data_, data_ + consumed, tail_);
    }
  }
  Unref();
}

uint32_t StreamHandle::SendMessages(const struct iovec* items, uint32_t count) {
  if (fd_ < 0 || isClosed_) return 0;
  uint32_t taken = 0;
  for (uint32_t i = 0; i < count; i++) {
    size_t length = items[i].iov_len;
    if (length < kMinMessageBytes || length > kMaxMessageBytes) {
      invalidDrops_++;
      continue;
    }
    size_t framed = kFrameHeaderBytes + length;
    if (used_ - head_ + framed > maxQueueBytes_) {
      queueDrops_++;
      continue;
    }
    if (used_ + framed > queueRoom_) {  // compact: the queued bytes move to the front
      std::memmove(queue_.get(), queue_.get() + head_, used_ - head_);
      used_ -= head_;
      head_ = 0;
    }
    uint8_t* out = queue_.get() + used_;
    out[0] = static_cast<uint8_t>(length >> 8);
    out[1] = static_cast<uint8_t>(length & 0xff);
    std::memcpy(out + kFrameHeaderBytes, items[i].iov_base, length);
    used_ += framed;
    txMessages_++;
    txBytes_ += static_cast<double>(length);
    taken++;
  }
  // A queue already waiting for writable is flushed then (the order of bytes is the queue's anyway).
  if (taken > 0 && !isWatchingWritable_ && writeError_ == 0 && !FlushQueue()) {
    // Reported from the next poll callback: closing here could run JS inside a fast-path batch.
    if (poll_ != nullptr) WatchWritable(true);
  }
  return taken;
}

// Writes what the kernel takes; false on a fatal error (writeError_ set).
bool StreamHandle::FlushQueue() {
  while (used_ > head_) {
    writeCalls_++;
    ssize_t n = send(fd_, queue_.get() + head_, used_ - head_, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      head_ += static_cast<size_t>(n);
      if (used_ > head_) partialWrites_++;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (poll_ != nullptr) WatchWritable(true);
      return true;
    }
    writeError_ = n < 0 ? errno : EPIPE;
    return false;
  }
  head_ = used_ = 0;
  WatchWritable(false);
  return true;
}

void StreamHandle::WatchWritable(bool isOn) {
  if (poll_ == nullptr || isOn == isWatchingWritable_) return;
  isWatchingWritable_ = isOn;
  uv_poll_start(poll_, isOn ? (UV_READABLE | UV_WRITABLE) : UV_READABLE, &StreamHandle::OnPoll);
}

void StreamHandle::Fail(const char* reason, int err) {
  if (isClosed_) return;
  Napi::Env env = Env();
  Napi::HandleScope scope(env);
  Napi::FunctionReference onClosed = std::move(onClosed_);
  Napi::AsyncContext* context = asyncContext_;
  asyncContext_ = nullptr;
  Ref();
  StopAll();
  if (!onClosed.IsEmpty() && context != nullptr) {
    onClosed.MakeCallback(Value(), {Napi::String::New(env, reason), Napi::Number::New(env, err)}, *context);
    RaiseIfPending(env);
  }
  delete context;
  Unref();
}

void StreamHandle::StopAll() {
  isClosed_ = true;
  LeaveOffload();
  if (poll_ != nullptr) {  // libuv requires the poll stopped before its fd closes
    CloseUvPoll(poll_);
    poll_ = nullptr;
  }
  isWatchingWritable_ = false;
  onMessages_.Reset();
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
  }
  head_ = used_ = 0;
  if (isStarted_) {
    isStarted_ = false;
    Unref();
  }
}

// send(messages: Uint8Array[]) → how many were queued (the rest dropped: counted in queueDrops / invalidDrops).
Napi::Value StreamHandle::Send(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  if (fd_ < 0 || isClosed_ || info.Length() < 1 || !info[0].IsArray()) return Napi::Number::New(env, 0);
  napi_value list = info[0];
  uint32_t total = 0;
  napi_get_array_length(env, list, &total);
  constexpr uint32_t kChunk = 64;
  struct iovec items[kChunk];
  uint32_t count = 0, taken = 0;
  for (uint32_t i = 0; i < total; i++) {
    napi_value value;
    napi_typedarray_type type;
    size_t length, byteOffset;
    void* data;
    napi_value arrayBuffer;
    if (napi_get_element(env, list, i, &value) != napi_ok ||
        napi_get_typedarray_info(env, value, &type, &length, &data, &arrayBuffer, &byteOffset) != napi_ok ||
        type != napi_uint8_array) {
      invalidDrops_++;
      continue;
    }
    items[count++] = {data, length};
    if (count == kChunk) {
      taken += SendMessages(items, count);
      count = 0;
    }
  }
  if (count > 0) taken += SendMessages(items, count);
  return Napi::Number::New(env, taken);
}

// counters() → { rxMessages, rxBytes, txMessages, txBytes, readCalls, writeCalls, partialWrites, queueDrops,
//   invalidDrops, offloadedMessages, queuedBytes }
Napi::Value StreamHandle::Counters(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object r = Napi::Object::New(env);
  r.Set("rxMessages", rxMessages_);
  r.Set("rxBytes", rxBytes_);
  r.Set("txMessages", txMessages_);
  r.Set("txBytes", txBytes_);
  r.Set("readCalls", readCalls_);
  r.Set("writeCalls", writeCalls_);
  r.Set("partialWrites", partialWrites_);
  r.Set("queueDrops", queueDrops_);
  r.Set("invalidDrops", invalidDrops_);
  r.Set("offloadedMessages", offloadedMessages_);
  r.Set("queuedBytes", static_cast<double>(used_ - head_));
  return r;
}

// setOffload(offload | null): messages are offered to its fast path first, and its links may send on this stream
// (NativeOffload.linkSetStream). Same errors as UdpHandle.setOffload; a closed handle stays detached.
Napi::Value StreamHandle::SetOffload(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Value target = info.Length() >= 1 ? info[0] : env.Undefined();
  NativeOffload* next = nullptr;
  if (!NativeOffload::FromOptionalOpen(env, target, "setOffload", &next)) return env.Undefined();
  if (fd_ < 0 || isClosed_) next = nullptr;
  if (next == offload_) return env.Undefined();
  LeaveOffload();
  if (next != nullptr) {
    next->AttachStream(this);
    offload_ = next;
    offloadRef_ = Napi::Persistent(target.As<Napi::Object>());
  }
  return env.Undefined();
}

void StreamHandle::LeaveOffload() {
  if (offload_ != nullptr) offload_->DetachStream(this);
  offload_ = nullptr;
  offloadRef_.Reset();
}

void StreamHandle::OffloadGone(bool canTouchJs) {
  offload_ = nullptr;
  if (canTouchJs) offloadRef_.Reset();
}

// close(): from JS; no onClosed call. Idempotent.
Napi::Value StreamHandle::Close(const Napi::CallbackInfo& info) {
  if (!isClosed_) {
    onClosed_.Reset();
    StopAll();
    if (!isDispatching_) {  // else OnReadable still uses it, and deletes it after
      delete asyncContext_;
      asyncContext_ = nullptr;
    }
  }
  return info.Env().Undefined();
}

}  // namespace vswitch
