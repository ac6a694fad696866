// See udp-handle.h for the design.
#include "udp-handle.h"
#include "offload.h"
#include "type-tag.h"
#include "uv-poll.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/udp.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstring>
#include <string>

namespace vswitch {
namespace {

constexpr napi_type_tag kUdpHandleTag = {0x7673776974636801ull, 0x7564702d68616e64ull};

// sendmmsg chunk (the kernel caps one call at UIO_MAXIOV = 1024 anyway).
constexpr uint32_t kSendChunk = 64;
// Words per message in `addrs`: family, port, 4 address words.
constexpr uint32_t kAddrWords = 6;
// Datagrams one GSO send or GRO read carries at most (the kernel's UDP_MAX_SEGMENTS is 64 or 128).
constexpr uint32_t kMaxSegments = 64;
// A GSO message's payload must stay under the 64 KiB IP limit.
constexpr size_t kMaxGsoBytes = 65000;
// Each read gets a full datagram's room: with GRO one read is up to 64 KiB.
constexpr size_t kSlotBytes = 65536;
constexpr size_t kControlBytes = CMSG_SPACE(sizeof(int));

// Receive errors that are ICMP news about an earlier send, not a broken socket.
bool IsTransientReceiveErrno(int err) {
  switch (err) {
    case ECONNREFUSED:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case EHOSTDOWN:
    case ENETDOWN:
    case EPERM:
    case ENOBUFS:
    case ENOMEM:
      return true;
    default:
      return false;
  }
}

// Parses an IP literal into a sockaddr for a socket of the given family.
bool MakeSockaddr(const std::string& host, uint16_t port, bool isIpv6Socket, struct sockaddr_storage* out,
                  socklen_t* outLen) {
  std::memset(out, 0, sizeof(*out));
  struct in_addr v4;
  struct in6_addr v6;
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    if (!isIpv6Socket) {
      auto* sin = reinterpret_cast<struct sockaddr_in*>(out);
      sin->sin_family = AF_INET;
      sin->sin_port = htons(port);
      sin->sin_addr = v4;
      *outLen = sizeof(*sin);
      return true;
    }
    auto* sin6 = reinterpret_cast<struct sockaddr_in6*>(out);  // ::ffff:a.b.c.d
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    sin6->sin6_addr.s6_addr[10] = 0xff;
    sin6->sin6_addr.s6_addr[11] = 0xff;
    std::memcpy(&sin6->sin6_addr.s6_addr[12], &v4, 4);
    *outLen = sizeof(*sin6);
    return true;
  }
  if (isIpv6Socket && inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    auto* sin6 = reinterpret_cast<struct sockaddr_in6*>(out);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    sin6->sin6_addr = v6;
    *outLen = sizeof(*sin6);
    return true;
  }
  return false;
}

}  // namespace

Napi::Function UdpHandle::Define(Napi::Env env) {
  return DefineClass(env, "UdpHandle",
                     {
                         InstanceAccessor<&UdpHandle::GetBuffer>("buffer"),
                         InstanceAccessor<&UdpHandle::GetLengths>("lengths"),
                         InstanceAccessor<&UdpHandle::GetOffsets>("offsets"),
                         InstanceAccessor<&UdpHandle::GetAddrs>("addrs"),
                         InstanceMethod<&UdpHandle::LocalPort>("localPort"),
                         InstanceMethod<&UdpHandle::Resolve>("resolve"),
                         InstanceMethod<&UdpHandle::Start>("start"),
                         InstanceMethod<&UdpHandle::Send>("send"),
                         InstanceMethod<&UdpHandle::Counters>("counters"),
                         InstanceMethod<&UdpHandle::Close>("close"),
                         InstanceMethod<&UdpHandle::SetOffload>("setOffload"),
                     });
}

// new UdpHandle(host, port, batchMessages, maxDatagramBytes, rcvbufBytes, sndbufBytes): socket + bind.
UdpHandle::UdpHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<UdpHandle>(info) {
  Napi::Env env = info.Env();
  if (!TagObject(env, info.This().As<Napi::Object>(), kUdpHandleTag)) return;
  if (info.Length() < 6 || !info[0].IsString() || !info[1].IsNumber() || !info[2].IsNumber() ||
      !info[3].IsNumber() || !info[4].IsNumber() || !info[5].IsNumber()) {
    Napi::TypeError::New(env, "UdpHandle(host, port, batchMessages, maxDatagramBytes, rcvbufBytes, sndbufBytes)")
        .ThrowAsJavaScriptException();
    return;
  }
  std::string host = info[0].As<Napi::String>().Utf8Value();
  uint32_t port = info[1].As<Napi::Number>().Uint32Value();
  uint32_t batch = info[2].As<Napi::Number>().Uint32Value();
  uint32_t maxDatagram = info[3].As<Napi::Number>().Uint32Value();
  int rcvbuf = info[4].As<Napi::Number>().Int32Value();
  int sndbuf = info[5].As<Napi::Number>().Int32Value();
  if (port > 65535) {
    Napi::RangeError::New(env, "UdpHandle: port out of range").ThrowAsJavaScriptException();
    return;
  }
  struct in6_addr probe;
  isIpv6_ = inet_pton(AF_INET6, host.c_str(), &probe) == 1;
  struct sockaddr_storage addr;
  socklen_t addrLen = 0;
  if (!MakeSockaddr(host, static_cast<uint16_t>(port), isIpv6_, &addr, &addrLen)) {
    ThrowSys(env, EINVAL, "inet_pton");
    return;
  }
  fd_ = socket(isIpv6_ ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    ThrowSys(env, errno, "socket");
    return;
  }
  if (isIpv6_) {
    int off = 0;  // dual-stack, as Node's udp6 with ipv6Only: false
    setsockopt(fd_, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
  }
  if (rcvbuf > 0 && setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) != 0) {
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  }
  if (sndbuf > 0 && setsockopt(fd_, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) != 0) {
    setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
  }
  // No SO_REUSEADDR: binding a taken port must fail (EADDRINUSE), like dgram's exclusive bind.
  if (bind(fd_, reinterpret_cast<struct sockaddr*>(&addr), addrLen) != 0) {
    int err = errno;
    CloseFd();
    ThrowSys(env, err, "bind");
    return;
  }

  int on = 1;  // glued reads of equal datagrams; older kernels say ENOPROTOOPT and stay per datagram
  isGro_ = setsockopt(fd_, SOL_UDP, UDP_GRO, &on, sizeof(on)) == 0;

  batch_ = batch < 1 ? 1 : (batch > 1024 ? 1024 : batch);
  maxDatagramBytes_ = maxDatagram < 16 ? 16 : (maxDatagram > 65535 ? 65535 : maxDatagram);
  // One cache line past 64 KiB, so the slots do not all start on the same cache set.
  slotStride_ = kSlotBytes + 64;
  entries_ = batch_ * (isGro_ ? kMaxSegments : 1);
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, batch_ * slotStride_);
  data_ = static_cast<uint8_t*>(buffer.Data());
  bufferRef_ = Napi::Persistent(buffer);
  Napi::Uint32Array lengths = Napi::Uint32Array::New(env, entries_);
  lengths_ = lengths.Data();
  lengthsRef_ = Napi::Persistent(lengths);
  Napi::Uint32Array offsets = Napi::Uint32Array::New(env, entries_);
  offsets_ = offsets.Data();
  offsetsRef_ = Napi::Persistent(offsets);
  Napi::Uint32Array addrs = Napi::Uint32Array::New(env, entries_ * kAddrWords);
  addrs_ = addrs.Data();
  addrsRef_ = Napi::Persistent(addrs);

  recvMsgs_.resize(batch_);
  recvIovs_.resize(batch_);
  recvFrom_.resize(batch_);
  recvControl_.resize(batch_ * kControlBytes);
  for (uint32_t i = 0; i < batch_; i++) {
    recvIovs_[i].iov_base = data_ + i * slotStride_;
    recvIovs_[i].iov_len = kSlotBytes;
  }
}

UdpHandle* UdpHandle::Unwrap(Napi::Object wrapper) { return UnwrapTagged<UdpHandle>(wrapper, kUdpHandleTag, "UdpHandle"); }

UdpHandle::~UdpHandle() {
  if (offload_ != nullptr) offload_->DetachUdp(this);  // offloadRef_ goes with the members
  offload_ = nullptr;
  if (poll_ != nullptr) {
    CloseUvPoll(poll_);
    poll_ = nullptr;
  }
  delete asyncContext_;
  asyncContext_ = nullptr;
  CloseFd();
}

Napi::Value UdpHandle::GetBuffer(const Napi::CallbackInfo& info) { return bufferRef_.Value(); }
Napi::Value UdpHandle::GetLengths(const Napi::CallbackInfo& info) { return lengthsRef_.Value(); }
Napi::Value UdpHandle::GetOffsets(const Napi::CallbackInfo& info) { return offsetsRef_.Value(); }
Napi::Value UdpHandle::GetAddrs(const Napi::CallbackInfo& info) { return addrsRef_.Value(); }

// localPort() → the bound port (port 0 resolved), or 0 when closed.
Napi::Value UdpHandle::LocalPort(const Napi::CallbackInfo& info) {
  struct sockaddr_storage addr;
  socklen_t len = sizeof(addr);
  if (fd_ < 0 || getsockname(fd_, reinterpret_cast<struct sockaddr*>(&addr), &len) != 0) {
    return Napi::Number::New(info.Env(), 0);
  }
  uint16_t port = addr.ss_family == AF_INET6 ? reinterpret_cast<struct sockaddr_in6*>(&addr)->sin6_port
                                              : reinterpret_cast<struct sockaddr_in*>(&addr)->sin_port;
  return Napi::Number::New(info.Env(), ntohs(port));
}

// resolve(host, port) → Uint8Array (a sockaddr for this socket) | null when host is no IP literal it can reach.
Napi::Value UdpHandle::Resolve(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsNumber()) return env.Null();
  uint32_t port = info[1].As<Napi::Number>().Uint32Value();
  if (port > 65535) return env.Null();
  struct sockaddr_storage addr;
  socklen_t len = 0;
  if (!MakeSockaddr(info[0].As<Napi::String>().Utf8Value(), static_cast<uint16_t>(port), isIpv6_, &addr, &len)) {
    return env.Null();
  }
  Napi::Uint8Array out = Napi::Uint8Array::New(env, len);
  std::memcpy(out.Data(), &addr, len);
  return out;
}

// start(onMessages(count), onError(errno, syscall))
Napi::Value UdpHandle::Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (fd_ < 0 || isStarted_) {
    Napi::Error::New(env, "UdpHandle.start: closed or already started").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (info.Length() < 2 || !info[0].IsFunction() || !info[1].IsFunction()) {
    Napi::TypeError::New(env, "UdpHandle.start(onMessages, onError)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  poll_ = StartUvPoll(env, fd_, this, &UdpHandle::OnPoll, "UdpHandle.start");
  if (poll_ == nullptr) return env.Undefined();
  onMessages_ = Napi::Persistent(info[0].As<Napi::Function>());
  onError_ = Napi::Persistent(info[1].As<Napi::Function>());
  asyncContext_ = new Napi::AsyncContext(env, "vswitch:udp");
  isStarted_ = true;
  Ref();  // a polling handle stays alive even if JS drops it; close() releases
  return env.Undefined();
}

void UdpHandle::OnPoll(uv_poll_t* poll, int status, int events) {
  auto* self = static_cast<UdpHandle*>(poll->data);
  if (self != nullptr) self->Drain(status);
}

// One recvmmsg; returns the message count (0 when nothing or on error, *err set when fatal).
int UdpHandle::ReceiveBatch(int* err) {
  for (uint32_t i = 0; i < batch_; i++) {
    struct msghdr& h = recvMsgs_[i].msg_hdr;
    h.msg_name = &recvFrom_[i];
    h.msg_namelen = sizeof(recvFrom_[i]);
    h.msg_iov = &recvIovs_[i];
    h.msg_iovlen = 1;
    h.msg_control = isGro_ ? &recvControl_[i * kControlBytes] : nullptr;
    h.msg_controllen = isGro_ ? kControlBytes : 0;
    h.msg_flags = 0;
    recvMsgs_[i].msg_len = 0;
  }
  for (int tries = 0; tries < 8; tries++) {
    // MSG_TRUNC: msg_len is the datagram's real length, so a cut one is recognisable.
    int n = recvmmsg(fd_, recvMsgs_.data(), batch_, MSG_DONTWAIT | MSG_TRUNC, nullptr);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    if (IsTransientReceiveErrno(errno)) {
      receiveErrors_++;
      continue;  // the error is consumed; datagrams may follow it
    }
    *err = errno;
    return 0;
  }
  return 0;
}

// Turns `count` reads into datagram entries (offset, length, source); a GRO
// read is cut at its segment size. Returns the number of entries.
uint32_t UdpHandle::SplitBatch(int count) {
  uint32_t entries = 0;
  for (int i = 0; i < count && entries < entries_; i++) {
    const struct msghdr& h = recvMsgs_[i].msg_hdr;
    uint32_t total = recvMsgs_[i].msg_len;
    uint32_t segment = 0;
    if (isGro_) {
      for (struct cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(const_cast<struct msghdr*>(&h), c)) {
        if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
          int size;
          std::memcpy(&size, CMSG_DATA(c), sizeof(size));
          if (size > 0) segment = static_cast<uint32_t>(size);
        }
      }
    }
    uint32_t family, port, words[4] = {0, 0, 0, 0};
    const struct sockaddr_in6& from6 = recvFrom_[i];
    if (from6.sin6_family == AF_INET) {
      const auto& from4 = reinterpret_cast<const struct sockaddr_in&>(from6);
      family = 4;
      port = ntohs(from4.sin_port);
      words[0] = ntohl(from4.sin_addr.s_addr);
    } else if (IN6_IS_ADDR_V4MAPPED(&from6.sin6_addr)) {
      uint32_t v4;
      std::memcpy(&v4, &from6.sin6_addr.s6_addr[12], 4);
      family = 4;
      port = ntohs(from6.sin6_port);
      words[0] = ntohl(v4);
    } else {
      family = 6;
      port = ntohs(from6.sin6_port);
      std::memcpy(words, &from6.sin6_addr, 16);
    }
    uint32_t base = static_cast<uint32_t>(i * slotStride_);
    // A cut read (MSG_TRUNC) or a plain datagram is one entry with its real length.
    bool isGlued = segment > 0 && segment < total && !(h.msg_flags & MSG_TRUNC) && total <= kSlotBytes;
    if (isGlued) groReads_++;
    uint32_t step = isGlued ? segment : total;
    for (uint32_t at = 0; entries < entries_;) {
      uint32_t length = isGlued ? (total - at < step ? total - at : step) : total;
      offsets_[entries] = base + at;
      lengths_[entries] = length;
      uint32_t* a = addrs_ + entries * kAddrWords;
      a[0] = family;
      a[1] = port;
      a[2] = words[0];
      a[3] = words[1];
      a[4] = words[2];
      a[5] = words[3];
      entries++;
      at += step;
      if (!isGlued || at >= total) break;
    }
  }
  return entries;
}

void UdpHandle::Drain(int status) {
  int err = 0;
  int count = ReceiveBatch(&err);
  if (err == 0 && status < 0) err = -status;
  uint32_t entries = SplitBatch(count);
  if (offload_ != nullptr && entries > 0) entries = OffloadBatch(entries);
  // Every datagram went through the fast path (or none came): JS is not woken at all.
  if (entries == 0 && err == 0) return;
  Napi::Env env = Env();
  Napi::HandleScope scope(env);
  Ref();  // stay alive through callbacks that may close and drop this handle
  isDraining_ = true;
  if (entries > 0 && !onMessages_.IsEmpty()) {
    receiveCalls_++;
    onMessages_.MakeCallback(Value(), {Napi::Number::New(env, entries)}, *asyncContext_);
    RaiseIfPending(env);
  }
  if (err != 0 && fd_ >= 0 && isStarted_) {
    Napi::FunctionReference onError = std::move(onError_);
    Napi::AsyncContext* context = asyncContext_;
    asyncContext_ = nullptr;
    StopPoll();
    onError.MakeCallback(Value(), {Napi::Number::New(env, err), Napi::String::New(env, "recvmmsg")}, *context);
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

// Sends msgs[0..count) with one sendmmsg loop; returns how many the kernel took.
// A GSO message the path refuses (EMSGSIZE, or EINVAL on older kernels) is re-sent datagram by datagram.
int UdpHandle::SendRun(struct mmsghdr* msgs, uint32_t count) {
  int sent = 0;
  uint32_t next = 0;
  while (next < count) {
    sendCalls_++;
    int n = sendmmsg(fd_, msgs + next, count - next, MSG_DONTWAIT);
    if (n > 0) {
      for (int k = 0; k < n; k++) sent += static_cast<int>(msgs[next + k].msg_hdr.msg_iovlen);
      next += static_cast<uint32_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    struct msghdr& h = msgs[next].msg_hdr;
    if (n < 0 && (errno == EINVAL || errno == EMSGSIZE) && h.msg_controllen > 0 && h.msg_iovlen > 1) {
      // This segment size cannot go as GSO here (it would need IP fragments): stop trying it.
      size_t segment = h.msg_iov[0].iov_len;
      if (segment < gsoRefusedFrom_) gsoRefusedFrom_ = segment;
      h.msg_control = nullptr;
      h.msg_controllen = 0;
      for (size_t k = 0; k < h.msg_iovlen; k++) {
        struct mmsghdr one = {};
        one.msg_hdr.msg_name = h.msg_name;
        one.msg_hdr.msg_namelen = h.msg_namelen;
        one.msg_hdr.msg_iov = &h.msg_iov[k];
        one.msg_hdr.msg_iovlen = 1;
        sendCalls_++;
        int r;
        do {
          r = sendmmsg(fd_, &one, 1, MSG_DONTWAIT);
        } while (r < 0 && errno == EINTR);
        if (r == 1) {
          sent++;
        } else {
          sendFailed_++;
        }
      }
      next++;
      continue;
    }
    sendFailed_ += static_cast<double>(h.msg_iovlen);  // refused: drop this message, go on
    next++;
  }
  return sent;
}

// send(messages: Uint8Array[], sockaddr: Uint8Array) → number of datagrams the kernel took
Napi::Value UdpHandle::Send(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  if (fd_ < 0 || info.Length() < 2 || !info[0].IsArray() || !info[1].IsTypedArray()) {
    return Napi::Number::New(env, 0);
  }
  Napi::Uint8Array sockaddr = info[1].As<Napi::Uint8Array>();
  napi_value frames = info[0];
  uint32_t total = 0;
  napi_get_array_length(env, frames, &total);
  sendItems_.clear();
  for (uint32_t i = 0; i < total; i++) {
    napi_value value;
    napi_typedarray_type type;
    size_t length, byteOffset;
    void* data;
    napi_value arrayBuffer;
    if (napi_get_element(env, frames, i, &value) != napi_ok ||
        napi_get_typedarray_info(env, value, &type, &length, &data, &arrayBuffer, &byteOffset) != napi_ok ||
        type != napi_uint8_array) {
      sendFailed_++;
      continue;
    }
    sendItems_.push_back({data, length});
  }
  int sent = SendDatagrams(sendItems_.data(), static_cast<uint32_t>(sendItems_.size()),
                           reinterpret_cast<struct sockaddr*>(sockaddr.Data()),
                           static_cast<socklen_t>(sockaddr.ByteLength()));
  return Napi::Number::New(env, sent);
}

int UdpHandle::SendDatagrams(const struct iovec* items, uint32_t total, struct sockaddr* name, socklen_t nameLen) {
  if (fd_ < 0) return 0;
  // Up to kSendChunk messages per sendmmsg, each a single datagram or a GSO run.
  struct mmsghdr msgs[kSendChunk];
  struct iovec iovs[kSendChunk * kMaxSegments];
  uint8_t control[kSendChunk][CMSG_SPACE(sizeof(uint16_t))];
  uint32_t msgCount = 0, iovCount = 0;
  size_t runSegment = 0, runBytes = 0;
  bool isRunOpen = false;  // the last message may take more equal-sized datagrams
  int sent = 0;

  auto closeRun = [&]() {
    if (msgCount == 0) return;
    struct msghdr& h = msgs[msgCount - 1].msg_hdr;
    if (h.msg_iovlen > 1) {
      h.msg_control = control[msgCount - 1];
      h.msg_controllen = CMSG_SPACE(sizeof(uint16_t));
      struct cmsghdr* c = CMSG_FIRSTHDR(&h);
      c->cmsg_level = SOL_UDP;
      c->cmsg_type = UDP_SEGMENT;
      c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
      uint16_t size = static_cast<uint16_t>(runSegment);
      std::memcpy(CMSG_DATA(c), &size, sizeof(size));
      gsoSends_++;
    }
    isRunOpen = false;
  };
  auto flush = [&]() {
    closeRun();
    if (msgCount > 0) sent += SendRun(msgs, msgCount);
    msgCount = 0;
    iovCount = 0;
  };

  for (uint32_t i = 0; i < total; i++) {
    void* data = items[i].iov_base;
    size_t length = items[i].iov_len;
    // Joins the open run if it is no longer than the run's size; a shorter one ends the run.
    if (isRunOpen && length <= runSegment && runBytes + length <= kMaxGsoBytes &&
        msgs[msgCount - 1].msg_hdr.msg_iovlen < kMaxSegments) {
      iovs[iovCount].iov_base = data;
      iovs[iovCount].iov_len = length;
      iovCount++;
      msgs[msgCount - 1].msg_hdr.msg_iovlen++;
      runBytes += length;
      if (length < runSegment) closeRun();
      continue;
    }
    closeRun();
    if (msgCount == kSendChunk) flush();
    iovs[iovCount].iov_base = data;
    iovs[iovCount].iov_len = length;
    std::memset(&msgs[msgCount], 0, sizeof(msgs[msgCount]));
    msgs[msgCount].msg_hdr.msg_name = name;
    msgs[msgCount].msg_hdr.msg_namelen = nameLen;
    msgs[msgCount].msg_hdr.msg_iov = &iovs[iovCount];
    msgs[msgCount].msg_hdr.msg_iovlen = 1;
    iovCount++;
    msgCount++;
    runSegment = length;
    runBytes = length;
    isRunOpen = length < gsoRefusedFrom_;
  }
  flush();
  return sent;
}

// counters() → { sendFailed, receiveErrors, receiveCalls, sendCalls, gsoSends, groReads }
Napi::Value UdpHandle::Counters(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object result = Napi::Object::New(env);
  result.Set("sendFailed", Napi::Number::New(env, sendFailed_));
  result.Set("receiveErrors", Napi::Number::New(env, receiveErrors_));
  result.Set("receiveCalls", Napi::Number::New(env, receiveCalls_));
  result.Set("sendCalls", Napi::Number::New(env, sendCalls_));
  result.Set("gsoSends", Napi::Number::New(env, gsoSends_));
  result.Set("groReads", Napi::Number::New(env, groReads_));
  return result;
}

// Offers each datagram of the batch to the fast path; the ones it did not take are moved down so that JS
// sees entries 0..returned-1, in their order.
uint32_t UdpHandle::OffloadBatch(uint32_t entries) {
  uint32_t kept = 0;
  for (uint32_t i = 0; i < entries; i++) {
    uint32_t* a = addrs_ + i * kAddrWords;
    if (lengths_[i] <= maxDatagramBytes_ && offload_->TakeDatagram(this, data_ + offsets_[i], lengths_[i], a)) continue;
    if (kept != i) {
      offsets_[kept] = offsets_[i];
      lengths_[kept] = lengths_[i];
      std::memmove(addrs_ + kept * kAddrWords, a, kAddrWords * sizeof(uint32_t));
    }
    kept++;
  }
  offload_->FlushSends();
  return kept;
}

// setOffload(offload): datagrams are offered to offload's fast path first, and its links may send on this socket
// (NativeOffload.linkSet); null/undefined detaches (the links through it go). Anything else than a NativeOffload is
// a TypeError, a closed one an Error; a closed handle stays detached. Moving to another offload leaves the first.
Napi::Value UdpHandle::SetOffload(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Value target = info.Length() >= 1 ? info[0] : env.Undefined();
  NativeOffload* next = nullptr;
  if (!NativeOffload::FromOptionalOpen(env, target, "setOffload", &next)) return env.Undefined();
  if (fd_ < 0) next = nullptr;
  if (next == offload_) return env.Undefined();
  LeaveOffload();
  if (next != nullptr) {
    next->AttachUdp(this);
    offload_ = next;
    offloadRef_ = Napi::Persistent(target.As<Napi::Object>());
  }
  return env.Undefined();
}

void UdpHandle::LeaveOffload() {
  if (offload_ != nullptr) offload_->DetachUdp(this);
  offload_ = nullptr;
  offloadRef_.Reset();
}

void UdpHandle::OffloadGone(bool canTouchJs) {
  offload_ = nullptr;
  if (canTouchJs) offloadRef_.Reset();
}

void UdpHandle::StopPoll() {
  if (poll_ != nullptr) {
    CloseUvPoll(poll_);
    poll_ = nullptr;
  }
  onMessages_.Reset();
  onError_.Reset();
  if (isStarted_) {
    isStarted_ = false;
    Unref();
  }
}

void UdpHandle::CloseFd() {
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
  }
}

Napi::Value UdpHandle::Close(const Napi::CallbackInfo& info) {
  LeaveOffload();
  StopPoll();  // libuv requires the poll handle stopped before its fd closes
  if (!isDraining_) {
    delete asyncContext_;
    asyncContext_ = nullptr;
  }
  CloseFd();
  return info.Env().Undefined();
}

}  // namespace vswitch
