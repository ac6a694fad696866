// See io-handle.h for the design.
#include "io-handle.h"
#include "napi-args.h"
#include "offload.h"
#include "type-tag.h"
#include "uv-poll.h"

#include <errno.h>
#include <linux/if_packet.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

namespace vswitch {
namespace {

constexpr napi_type_tag kIoHandleTag = {0x7673776974636802ull, 0x696f2d68616e646cull};

// Room packed frames get in the shared buffer: batchFrames × this, plus one
// maxFrameBytes read slot at the end.
constexpr size_t kPackedFrameBytes = 2048;
// sendmmsg chunk.
constexpr uint32_t kWriteChunk = 64;
// What a frame with nothing pending gets before it on a TAP that takes headers.
constexpr uint8_t kZeroHeader[gso::kVnetHeaderBytes] = {};

// Errors after which the fd is useless: the device or interface is gone/down.
bool IsFatalWriteErrno(int err, bool isPacket) {
  switch (err) {
    case EBADF:
    case EBADFD:
    case ENODEV:
    case ENXIO:
      return true;
    case ENETDOWN:
      return isPacket;
    default:
      return false;
  }
}

}  // namespace

Napi::Function IoHandle::Define(Napi::Env env) {
  return DefineClass(env, "IoHandle",
                     {
                         InstanceAccessor<&IoHandle::GetBuffer>("buffer"),
                         InstanceAccessor<&IoHandle::GetLengths>("lengths"),
                         InstanceAccessor<&IoHandle::GetVnetHeaders>("vnetHeaders"),
                         InstanceMethod<&IoHandle::Start>("start"),
                         InstanceMethod<&IoHandle::WriteFrames>("writeFrames"),
                         InstanceMethod<&IoHandle::TakeWriteError>("takeWriteError"),
                         InstanceMethod<&IoHandle::Counters>("counters"),
                         InstanceMethod<&IoHandle::Close>("close"),
                         InstanceMethod<&IoHandle::SetOffloadPort>("setOffloadPort"),
                     });
}

// new IoHandle(fd, isPacket, batchFrames, maxFrameBytes, hasVnetHeader?): takes ownership of fd. With
// hasVnetHeader (a TAP opened with offloads) reads get room for a whole super-frame.
IoHandle::IoHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<IoHandle>(info) {
  Napi::Env env = info.Env();
  if (!TagObject(env, info.This().As<Napi::Object>(), kIoHandleTag)) return;
  if (info.Length() < 4 || !info[0].IsNumber() || !info[1].IsBoolean() || !info[2].IsNumber() ||
      !info[3].IsNumber() || (info.Length() > 4 && !info[4].IsBoolean() && !info[4].IsUndefined())) {
    Napi::TypeError::New(env, "IoHandle(fd, isPacket, batchFrames, maxFrameBytes, hasVnetHeader?)")
        .ThrowAsJavaScriptException();
    return;
  }
  fd_ = info[0].As<Napi::Number>().Int32Value();
  isPacket_ = info[1].As<Napi::Boolean>().Value();
  uint32_t batch = info[2].As<Napi::Number>().Uint32Value();
  uint32_t maxFrame = info[3].As<Napi::Number>().Uint32Value();
  batchFrames_ = batch < 1 ? 1 : (batch > 1024 ? 1024 : batch);
  maxFrameBytes_ = maxFrame < 64 ? 64 : (maxFrame > 262144 ? 262144 : maxFrame);
  hasVnet_ = !isPacket_ && info.Length() > 4 && info[4].IsBoolean() && info[4].As<Napi::Boolean>().Value();
  if (hasVnet_ && maxFrameBytes_ < gso::kMaxSuperFrameBytes) maxFrameBytes_ = gso::kMaxSuperFrameBytes;
  capacityBytes_ = batchFrames_ * kPackedFrameBytes + maxFrameBytes_;

  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, capacityBytes_);
  data_ = static_cast<uint8_t*>(buffer.Data());
  bufferRef_ = Napi::Persistent(buffer);
  Napi::Uint32Array lengths = Napi::Uint32Array::New(env, batchFrames_);
  lengths_ = lengths.Data();
  lengthsRef_ = Napi::Persistent(lengths);
  if (hasVnet_) {
    Napi::Uint8Array headers = Napi::Uint8Array::New(env, batchFrames_ * gso::kVnetHeaderBytes);
    vnetHeaders_ = headers.Data();
    vnetHeadersRef_ = Napi::Persistent(headers);
  }
}

IoHandle* IoHandle::Unwrap(Napi::Object wrapper) { return UnwrapTagged<IoHandle>(wrapper, kIoHandleTag, "IoHandle"); }

IoHandle::~IoHandle() {
  if (offload_ != nullptr) offload_->DetachIo(this, offloadPort_);  // offloadRef_ goes with the members
  offload_ = nullptr;
  if (poll_ != nullptr) {
    CloseUvPoll(poll_);
    poll_ = nullptr;
  }
  delete asyncContext_;
  asyncContext_ = nullptr;
  CloseFd();
}

Napi::Value IoHandle::GetBuffer(const Napi::CallbackInfo& info) { return bufferRef_.Value(); }

Napi::Value IoHandle::GetLengths(const Napi::CallbackInfo& info) { return lengthsRef_.Value(); }

// null on a handle without headers.
Napi::Value IoHandle::GetVnetHeaders(const Napi::CallbackInfo& info) {
  return hasVnet_ ? vnetHeadersRef_.Value() : info.Env().Null();
}

// start(onFrames(count), onError(errno, syscall))
Napi::Value IoHandle::Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (fd_ < 0 || isStarted_) {
    Napi::Error::New(env, "IoHandle.start: closed or already started").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (info.Length() < 2 || !info[0].IsFunction() || !info[1].IsFunction()) {
    Napi::TypeError::New(env, "IoHandle.start(onFrames, onError)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  poll_ = StartUvPoll(env, fd_, this, &IoHandle::OnPoll, "IoHandle.start");
  if (poll_ == nullptr) return env.Undefined();
  onFrames_ = Napi::Persistent(info[0].As<Napi::Function>());
  onError_ = Napi::Persistent(info[1].As<Napi::Function>());
  asyncContext_ = new Napi::AsyncContext(env, "vswitch:port");
  isStarted_ = true;
  Ref();  // a polling handle stays alive even if JS drops it; close() releases
  return env.Undefined();
}

void IoHandle::OnPoll(uv_poll_t* poll, int status, int events) {
  auto* self = static_cast<IoHandle*>(poll->data);
  if (self != nullptr) self->Drain(status);
}

uint32_t IoHandle::ReadBatch(int* err, const char** syscall) {
  uint32_t count = 0;
  size_t offset = 0;
  // Outgoing/truncated frames are skipped without filling a slot; bound the
  // loop so one wake-up never runs unbounded.
  for (uint32_t attempts = 0; attempts < batchFrames_ * 4 && count < batchFrames_; attempts++) {
    if (capacityBytes_ - offset < maxFrameBytes_) break;
    uint8_t* dst = data_ + offset;
    ssize_t n;
    if (isPacket_) {
      struct sockaddr_ll from;
      socklen_t fromLen = sizeof(from);
      n = recvfrom(fd_, dst, maxFrameBytes_, MSG_TRUNC, reinterpret_cast<struct sockaddr*>(&from), &fromLen);
      if (n >= 0 && from.sll_pkttype == PACKET_OUTGOING) {
        outgoingIgnored_++;
        continue;
      }
    } else if (hasVnet_) {
      struct iovec iov[2] = {{readHeader_, gso::kVnetHeaderBytes}, {dst, maxFrameBytes_}};
      n = readv(fd_, iov, 2);
    } else {
      n = read(fd_, dst, maxFrameBytes_);
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      *err = errno;
      *syscall = isPacket_ ? "recvfrom" : (hasVnet_ ? "readv" : "read");
      break;
    }
    if (n == 0) continue;
    size_t length = static_cast<size_t>(n);
    gso::VnetHeader header;
    if (hasVnet_) {
      if (length < gso::kVnetHeaderBytes) {
        vnetDrops_[gso::kVnetShort]++;
        continue;
      }
      length -= gso::kVnetHeaderBytes;
      gso::Layout layout;
      gso::Reason reason = gso::CheckHeader(readHeader_, dst, length, &header, &layout);
      if (reason != gso::kOk) {
        vnetDrops_[reason]++;
        continue;
      }
    }
    if (length > maxFrameBytes_) {
      truncated_++;
      continue;
    }
    if (offload_ != nullptr && offload_->TakeFrame(offloadPort_, dst, length, hasVnet_ ? &header : nullptr)) continue;
    if (hasVnet_) gso::EncodeHeader(header, vnetHeaders_ + count * gso::kVnetHeaderBytes);
    lengths_[count++] = static_cast<uint32_t>(length);
    offset += length;
  }
  if (offload_ != nullptr) offload_->FlushSends();
  return count;
}

void IoHandle::Drain(int status) {
  int err = 0;
  const char* syscall = nullptr;
  uint32_t count = ReadBatch(&err, &syscall);
  // POLLERR with nothing to say from read(): report libuv's status.
  if (err == 0 && status < 0) {
    err = -status;
    syscall = "uv_poll";
  }
  // Every frame went through the flow table (or none came): JS is not woken at all.
  if (count == 0 && err == 0) return;
  Napi::Env env = Env();
  Napi::HandleScope scope(env);
  Ref();  // stay alive through callbacks that may close and drop this handle
  isDraining_ = true;
  if (count > 0 && !onFrames_.IsEmpty()) {
    onFrames_.MakeCallback(Value(), {Napi::Number::New(env, count)}, *asyncContext_);
    RaiseIfPending(env);
  }
  if (err != 0 && fd_ >= 0 && isStarted_) {
    Napi::FunctionReference onError = std::move(onError_);
    Napi::AsyncContext* context = asyncContext_;
    asyncContext_ = nullptr;
    StopPoll();
    onError.MakeCallback(Value(), {Napi::Number::New(env, err), Napi::String::New(env, syscall)}, *context);
    RaiseIfPending(env);
    delete context;
  }
  isDraining_ = false;
  if (!isStarted_ && asyncContext_ != nullptr) {  // closed during a callback
    delete asyncContext_;
    asyncContext_ = nullptr;
  }
  Unref();
}

// writeFrames(frames: Uint8Array[], headers?: Uint8Array (10 per frame)) → number written (a super-frame counts once,
// written when all its segments were). Headers shorter than 10 per frame: nothing is written.
Napi::Value IoHandle::WriteFrames(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (fd_ < 0 || info.Length() < 1 || !info[0].IsArray()) return Napi::Number::New(env, 0);
  Napi::Array frames = info[0].As<Napi::Array>();
  const uint8_t* headers = nullptr;
  if (info.Length() > 1 && !info[1].IsUndefined() && !info[1].IsNull()) {
    uint8_t* raw;
    size_t rawLength;
    if (!Bytes(env, info[1], &raw, &rawLength) || rawLength < static_cast<size_t>(frames.Length()) * gso::kVnetHeaderBytes) {
      return Napi::Number::New(env, 0);
    }
    headers = raw;
  }
  uint32_t written = isPacket_ ? WritePacket(env, frames, headers) : WriteTap(env, frames, headers);
  return Napi::Number::New(env, written);
}

namespace {
bool FrameBytes(napi_env env, napi_value value, void** data, size_t* length) {
  napi_typedarray_type type;
  napi_value arrayBuffer;
  size_t byteOffset;
  if (napi_get_typedarray_info(env, value, &type, length, data, &arrayBuffer, &byteOffset) != napi_ok) return false;
  return type == napi_uint8_array || type == napi_uint8_clamped_array;
}
}  // namespace

bool IoHandle::CheckWriteHeader(const uint8_t* raw, const uint8_t* data, size_t length, gso::VnetHeader* h,
                                gso::Layout* layout) {
  gso::Reason reason = gso::CheckHeader(raw, data, length, h, layout);
  if (reason == gso::kOk) return true;
  vnetWriteDrops_[reason]++;
  return false;
}

bool IoHandle::WriteRaw(const uint8_t* raw, const uint8_t* data, size_t length) {
  ssize_t n;
  do {
    if (isPacket_) {
      n = send(fd_, data, length, MSG_DONTWAIT);
    } else if (hasVnet_) {
      struct iovec iov[2] = {{const_cast<uint8_t*>(raw != nullptr ? raw : kZeroHeader), gso::kVnetHeaderBytes},
                             {const_cast<uint8_t*>(data), length}};
      n = writev(fd_, iov, 2);
    } else {
      n = write(fd_, data, length);
    }
  } while (n < 0 && errno == EINTR);
  if (n >= 0) return true;
  if (IsFatalWriteErrno(errno, isPacket_)) {
    writeErrno_ = errno;
    writeSyscall_ = isPacket_ ? "send" : (hasVnet_ ? "writev" : "write");
  }
  // EAGAIN (queue full), EIO (device down), EINVAL/EMSGSIZE: drop this frame.
  return false;
}

size_t IoHandle::SegmentForDevice(const gso::VnetHeader& h, const uint8_t* data, size_t length) {
  gso::Layout layout;
  if (h.IsGso() && !gso::ParseLayout(data, length, &layout)) return 0;
  if (!segmentScratch_) {
    segmentScratch_.reset(new uint8_t[gso::kSegmentRoomBytes]);
    segmentLengths_.reset(new uint32_t[gso::kMaxSegments]);
  }
  return gso::Segment(h, layout, data, length, segmentScratch_.get(), gso::kSegmentRoomBytes, segmentLengths_.get(),
                      gso::kMaxSegments);
}

uint32_t IoHandle::WriteCoalesced(const uint8_t* const* data, const size_t* lengths, uint32_t count) {
  if (fd_ < 0) return 0;
  uint32_t written = 0;
  if (!hasVnet_ || count < 2) {
    for (uint32_t i = 0; i < count && writeErrno_ == 0; i++) {
      if (WriteRaw(kZeroHeader, data[i], lengths[i])) written++;
    }
    return written;
  }
  coalescer_.Plan(data, lengths, count);
  uint8_t head[gso::kMaxHeaderBytes];
  for (const gso::Group& g : coalescer_.groups()) {
    if (writeErrno_ != 0) break;
    if (g.count < 2) {
      if (WriteRaw(kZeroHeader, data[g.first], lengths[g.first])) written++;
      continue;
    }
    uint8_t raw[gso::kVnetHeaderBytes];
    gso::EncodeHeader(g.header, raw);
    size_t headBytes = coalescer_.WriteHead(g, head);
    writeIov_.resize(2 + g.count);
    writeIov_[0] = {raw, gso::kVnetHeaderBytes};
    size_t n = coalescer_.Gather(g, head, headBytes, writeIov_.data() + 1, writeIov_.size() - 1);
    ssize_t r;
    do {
      r = writev(fd_, writeIov_.data(), static_cast<int>(n + 1));
    } while (r < 0 && errno == EINTR);
    if (r >= 0) {
      written += g.count;
      coalescedWrites_++;
      coalescedFrames_ += g.count;
    } else if (IsFatalWriteErrno(errno, false)) {
      writeErrno_ = errno;
      writeSyscall_ = "writev";
    }
  }
  return written;
}

uint32_t IoHandle::WriteTap(Napi::Env env, Napi::Array frames, const uint8_t* headers) {
  uint32_t total = frames.Length();
  uint32_t written = 0;
  if (hasVnet_ && headers == nullptr && total >= 2) {
    // Wire frames only (from a link): glued back where they can be, then written.
    writeData_.clear();
    writeLengths_.clear();
    for (uint32_t i = 0; i < total; i++) {
      napi_value value;
      void* data;
      size_t length;
      if (napi_get_element(env, frames, i, &value) != napi_ok || !FrameBytes(env, value, &data, &length)) continue;
      writeData_.push_back(static_cast<const uint8_t*>(data));
      writeLengths_.push_back(length);
    }
    return WriteCoalesced(writeData_.data(), writeLengths_.data(), static_cast<uint32_t>(writeData_.size()));
  }
  for (uint32_t i = 0; i < total && writeErrno_ == 0; i++) {
    napi_value value;
    void* data;
    size_t length;
    if (napi_get_element(env, frames, i, &value) != napi_ok || !FrameBytes(env, value, &data, &length)) continue;
    const uint8_t* frame = static_cast<const uint8_t*>(data);
    const uint8_t* raw = headers == nullptr ? nullptr : headers + i * gso::kVnetHeaderBytes;
    if (raw == nullptr || gso::IsZeroHeader(raw)) {
      if (WriteRaw(kZeroHeader, frame, length)) written++;
      continue;
    }
    gso::VnetHeader h;
    gso::Layout layout;
    if (!CheckWriteHeader(raw, frame, length, &h, &layout)) continue;
    if (WriteOne(frame, length, &h)) written++;
  }
  return written;
}

uint32_t IoHandle::WritePacket(Napi::Env env, Napi::Array frames, const uint8_t* headers) {
  uint32_t total = frames.Length();
  uint32_t written = 0;
  struct mmsghdr msgs[kWriteChunk];
  struct iovec iovs[kWriteChunk];
  uint32_t count = 0;
  // Sends the chunk; false after a fatal error (the rest is dropped).
  auto flush = [&]() {
    uint32_t next = 0;
    while (next < count) {
      int n = sendmmsg(fd_, msgs + next, count - next, MSG_DONTWAIT);
      if (n > 0) {
        written += static_cast<uint32_t>(n);
        next += static_cast<uint32_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && IsFatalWriteErrno(errno, true)) {
        writeErrno_ = errno;
        writeSyscall_ = "sendmmsg";
        count = 0;
        return false;
      }
      next++;  // ENOBUFS/EAGAIN (queue full), EMSGSIZE (over MTU): drop this frame
    }
    count = 0;
    return true;
  };
  for (uint32_t i = 0; i < total; i++) {
    napi_value value;
    void* data;
    size_t length;
    if (napi_get_element(env, frames, i, &value) != napi_ok || !FrameBytes(env, value, &data, &length)) continue;
    const uint8_t* raw = headers == nullptr ? nullptr : headers + i * gso::kVnetHeaderBytes;
    if (raw != nullptr && !gso::IsZeroHeader(raw)) {
      // A super-frame (or a checksum to complete): what is queued goes first, then its segments.
      if (!flush()) return written;
      gso::VnetHeader h;
      gso::Layout layout;
      const uint8_t* frame = static_cast<const uint8_t*>(data);
      if (CheckWriteHeader(raw, frame, length, &h, &layout) && WriteOne(frame, length, &h)) written++;
      if (writeErrno_ != 0) return written;
      continue;
    }
    iovs[count].iov_base = data;
    iovs[count].iov_len = length;
    msgs[count] = {};
    msgs[count].msg_hdr.msg_iov = &iovs[count];
    msgs[count].msg_hdr.msg_iovlen = 1;
    if (++count == kWriteChunk && !flush()) return written;
  }
  flush();
  return written;
}

// takeWriteError() → [errno, syscall] | null; clears it.
Napi::Value IoHandle::TakeWriteError(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (writeErrno_ == 0) return env.Null();
  Napi::Array result = Napi::Array::New(env, 2);
  result.Set(0u, Napi::Number::New(env, writeErrno_));
  result.Set(1u, Napi::String::New(env, writeSyscall_ != nullptr ? writeSyscall_ : "write"));
  writeErrno_ = 0;
  writeSyscall_ = nullptr;
  return result;
}

// counters() → { outgoingIgnored, truncatedFrames, vnetDrops: { reason: n }, vnetWriteDrops: { reason: n } (only the
// reasons that counted), coalescedWrites, coalescedFrames }
Napi::Value IoHandle::Counters(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object result = Napi::Object::New(env);
  result.Set("outgoingIgnored", Napi::Number::New(env, outgoingIgnored_));
  result.Set("truncatedFrames", Napi::Number::New(env, truncated_));
  Napi::Object drops = Napi::Object::New(env);
  Napi::Object writeDrops = Napi::Object::New(env);
  for (uint8_t r = 1; r < gso::kReasonCount; r++) {
    if (vnetDrops_[r] > 0) drops.Set(gso::ReasonName(r), vnetDrops_[r]);
    if (vnetWriteDrops_[r] > 0) writeDrops.Set(gso::ReasonName(r), vnetWriteDrops_[r]);
  }
  result.Set("vnetDrops", drops);
  result.Set("vnetWriteDrops", writeDrops);
  result.Set("coalescedWrites", Napi::Number::New(env, coalescedWrites_));
  result.Set("coalescedFrames", Napi::Number::New(env, coalescedFrames_));
  return result;
}

void IoHandle::StopPoll() {
  if (poll_ != nullptr) {
    CloseUvPoll(poll_);
    poll_ = nullptr;
  }
  onFrames_.Reset();
  onError_.Reset();
  if (isStarted_) {
    isStarted_ = false;
    Unref();
  }
}

void IoHandle::CloseFd() {
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
  }
}

// setOffloadPort(offload, portId): frames read are offered to offload's flow table under this in-port, and the
// port is one of its flow outputs. offload null/undefined, or a port id < 0, detaches (as does a closed handle);
// anything else than a NativeOffload is a TypeError, a closed one an Error. Moving to another offload or port id
// leaves the previous one first.
Napi::Value IoHandle::SetOffloadPort(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Value target = info.Length() >= 1 ? info[0] : env.Undefined();
  NativeOffload* next = nullptr;
  if (!NativeOffload::FromOptionalOpen(env, target, "setOffloadPort", &next)) return env.Undefined();
  int32_t port = info.Length() >= 2 && info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : -1;
  if (fd_ < 0 || port < 0) next = nullptr;
  if (next == nullptr) port = -1;
  if (next == offload_ && port == offloadPort_) return env.Undefined();  // the same again changes nothing
  LeaveOffload();
  if (next != nullptr) {
    next->AttachIo(this, port);  // flushes when the id had another handle
    offload_ = next;
    offloadPort_ = port;
    offloadRef_ = Napi::Persistent(target.As<Napi::Object>());
  }
  return env.Undefined();
}

void IoHandle::LeaveOffload() {
  if (offload_ != nullptr) offload_->DetachIo(this, offloadPort_);
  offload_ = nullptr;
  offloadPort_ = -1;
  offloadRef_.Reset();
}

void IoHandle::OffloadGone(bool canTouchJs) {
  offload_ = nullptr;
  offloadPort_ = -1;
  if (canTouchJs) offloadRef_.Reset();
}

bool IoHandle::WriteOne(const uint8_t* data, size_t length, const gso::VnetHeader* h) {
  if (fd_ < 0) return false;
  if (h == nullptr || !h->HasWork()) return WriteRaw(kZeroHeader, data, length);
  if (hasVnet_) {
    uint8_t raw[gso::kVnetHeaderBytes];
    gso::EncodeHeader(*h, raw);
    return WriteRaw(raw, data, length);
  }
  size_t segments = SegmentForDevice(*h, data, length);
  const uint8_t* at = segmentScratch_.get();
  bool isWritten = segments > 0;
  for (size_t i = 0; i < segments; i++) {
    isWritten = WriteRaw(nullptr, at, segmentLengths_[i]) && isWritten;
    if (writeErrno_ != 0) return false;
    at += segmentLengths_[i];
  }
  return isWritten;
}

Napi::Value IoHandle::Close(const Napi::CallbackInfo& info) {
  LeaveOffload();
  StopPoll();  // libuv requires the poll handle stopped before its fd closes
  if (!isDraining_) {  // else Drain() frees it after the callback returns
    delete asyncContext_;
    asyncContext_ = nullptr;
  }
  CloseFd();
  return info.Env().Undefined();
}

}  // namespace vswitch
