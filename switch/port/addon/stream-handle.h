// StreamHandle: one connected TCP socket carrying link messages, each framed by
// its 2-byte big-endian length (switch/link/transport/stream-framing.ts), moved
// on the Node event loop. JS (tcp-connection.ts) keeps listening, accepting,
// dialing, the handshake deadline and every policy; once a connection is up it
// hands the socket over: new StreamHandle(fd, …) takes its own duplicate of the
// fd, and Node's socket is destroyed without a FIN (the duplicate keeps it open).
//
// Receive: uv_poll (level-triggered) says readable → ONE read() of up to 256 KiB
//   behind the partial frame the last read left → the frames are parsed in place.
//   With setOffload(offload), each complete message is first offered to that
//   NativeOffload's fast path (offload.h, exactly as a UDP datagram); the rest go
//   to JS in ONE call, onMessages(count): message i at offsets[i] of `buffer`,
//   lengths[i] bytes, valid during that call only. The partial frame at the end
//   is moved to the front for the next read.
// Bad input: a length prefix under 16 (no WireGuard message is that short) means
//   the stream is out of sync, and a stream cannot be resynchronised: the handle
//   closes with reason 'garbage'. A stream that ends inside a frame closes as
//   'truncated', a clean end as 'ended', a socket error as 'error' (with errno).
//   onClosed(reason, errno) is called once; nothing throws per message.
// Send: send(messages) and the fast path's sealed messages are framed into ONE
//   bounded queue (maxQueueBytes of framed bytes): a message that does not fit
//   is dropped and counted (queueDrops) — WireGuard runs over lossy datagrams,
//   and loss beats bufferbloat, which would blind the inner TCP. The queue is
//   written with one send() per batch (every message of a call or of a fast-path
//   read batch together); what the kernel does not take waits for writable.
//   TCP_NODELAY is on (a batch is already one write; Nagle would only add delay);
//   TCP_NOTSENT_LOWAT (notSentLowatBytes > 0) keeps the kernel's unsent backlog
//   short, so back-pressure reaches the queue and its drops instead of queueing
//   seconds of data in the kernel.
// close() stops the poll, leaves the offload and closes the fd (no callback).
#pragma once

#include <napi.h>
#include <sys/uio.h>
#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <memory>

namespace vswitch {

class NativeOffload;

class StreamHandle : public Napi::ObjectWrap<StreamHandle> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit StreamHandle(const Napi::CallbackInfo& info);
  ~StreamHandle() override;

  // The StreamHandle an object wraps, checked by type tag (type-tag.h): anything else is a TypeError (nullptr).
  static StreamHandle* Unwrap(Napi::Object wrapper);

  // Frames and queues items[0..count) and writes what the kernel takes now; returns how many were queued.
  uint32_t SendMessages(const struct iovec* items, uint32_t count);
  // Its offload closed or went away (offload.h). `canTouchJs` false from a finalizer.
  void OffloadGone(bool canTouchJs);

 private:
  Napi::Value GetBuffer(const Napi::CallbackInfo& info);
  Napi::Value GetOffsets(const Napi::CallbackInfo& info);
  Napi::Value GetLengths(const Napi::CallbackInfo& info);
  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value Send(const Napi::CallbackInfo& info);
  Napi::Value Counters(const Napi::CallbackInfo& info);
  Napi::Value SetOffload(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  static void OnPoll(uv_poll_t* poll, int status, int events);
  void OnReadable();
  // Parses [0, end) of the read buffer: the whole frames go to the offload or into the entries (*count); returns
  // where the first incomplete frame (or the garbage, *isGarbage) begins.
  size_t ParseFrames(size_t end, uint32_t* count, bool* isGarbage);
  bool FlushQueue();
  void WatchWritable(bool isOn);
  // Ends the stream from the native side: stops, closes, then tells JS once (reason, errno).
  void Fail(const char* reason, int err);
  void StopAll();
  void LeaveOffload();

  int fd_ = -1;
  // Receive: the partial frame first (tail_ bytes), then a read.
  uint8_t* data_ = nullptr;
  size_t dataBytes_ = 0;
  size_t tail_ = 0;
  uint32_t entries_ = 0;
  uint32_t* offsets_ = nullptr;
  uint32_t* lengths_ = nullptr;
  Napi::Reference<Napi::ArrayBuffer> bufferRef_;
  Napi::Reference<Napi::Uint32Array> offsetsRef_;
  Napi::Reference<Napi::Uint32Array> lengthsRef_;
  // Send: framed bytes in [head_, used_) of queue_ (room for one more frame past maxQueueBytes_).
  std::unique_ptr<uint8_t[]> queue_;
  size_t queueRoom_ = 0;
  size_t maxQueueBytes_ = 0;
  size_t head_ = 0;
  size_t used_ = 0;
  int writeError_ = 0;  // a fatal send error, reported from the next poll callback
  bool isWatchingWritable_ = false;

  NativeOffload* offload_ = nullptr;
  Napi::ObjectReference offloadRef_;

  uv_poll_t* poll_ = nullptr;
  bool isStarted_ = false;
  bool isClosed_ = false;
  bool isDispatching_ = false;  // inside onMessages
  Napi::FunctionReference onMessages_;
  Napi::FunctionReference onClosed_;
  Napi::AsyncContext* asyncContext_ = nullptr;

  double rxMessages_ = 0, rxBytes_ = 0, txMessages_ = 0, txBytes_ = 0;
  double readCalls_ = 0, writeCalls_ = 0, partialWrites_ = 0, queueDrops_ = 0, invalidDrops_ = 0;
  double offloadedMessages_ = 0;
};

}  // namespace vswitch
