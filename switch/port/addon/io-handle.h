// IoHandle: one non-blocking fd (a TAP or an AF_PACKET socket) moved in
// batches on the Node event loop.
//
// Read path (DEPENDENCIES.md: ~760 ns of Node CPU per frame measured this way):
//   uv_poll (level-triggered) says the fd is readable → read()/recvfrom() in a
//   loop until EAGAIN, at most `batchFrames` frames, packed back to back into ONE
//   preallocated ArrayBuffer → ONE call into JS, onFrames(count); JS slices views
//   with the `lengths` Uint32Array. Each read gets `maxFrameBytes` of room, so a
//   jumbo frame only shortens the batch. Frames left in the kernel queue wake
//   the loop again on its next turn, so other handles are never starved.
// Write path: writeFrames(frames[]) loops write() (TAP) or sendmmsg (packet),
//   drops a frame on a transient error (queue full = a full wire), stops on a
//   fatal one (device gone) which takeWriteError() then reports.
// Errors on read stop the poll and are reported once, onError(errno, syscall).
// Virtio-net headers (gso.h; a TAP opened with offloads, hasVnetHeader true): every read is a header and a
//   frame, read with readv so the frame lands packed like any other. The header is validated and normalized
//   (gso::CheckHeader); a refused one drops the frame, counted by its reason (counters().vnetDrops). JS finds
//   frame i's normalized header at vnetHeaders[10·i] (all zero: nothing pending), and may hand headers back to
//   writeFrames(frames, headers): a handle with headers writes each one before its frame (writev; a frame given
//   none gets a zero header), a handle without (a plain TAP, a packet socket) first does what a header says —
//   cuts a super-frame into wire frames (gso::Segment), completes a checksum — so what leaves is always right
//   for the device. A header refused on write drops its frame. Wire frames written without headers to a handle
//   with them (what a link delivers) are first glued back where they can be (gso::Coalescer: consecutive TCP
//   segments of one flow become one super-frame, one writev), as the kernel's GRO would before its stack.
// Offload (offload.h): with setOffloadPort(offload, portId), each frame read is first offered to
// that NativeOffload's flow table under portId; frames it takes never reach JS, and the port becomes one
// of its flow outputs. The handle holds a reference to the offload while attached; see offload.h for
// who detaches whom when either side goes first.
// close() stops the poll (uv_close, so nothing keeps the process alive) and
// closes the fd; a non-persistent TAP disappears with it.
#pragma once

#include <napi.h>
#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "gso.h"

namespace vswitch {

class NativeOffload;

class IoHandle : public Napi::ObjectWrap<IoHandle> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit IoHandle(const Napi::CallbackInfo& info);
  ~IoHandle() override;

  // The IoHandle an object wraps, checked by type tag (type-tag.h): anything else is a TypeError (nullptr). It
  // hides ObjectWrap::Unwrap, so the method wrappers of node-addon-api (T::Unwrap) check it too.
  static IoHandle* Unwrap(Napi::Object wrapper);

  // Writes one frame now (the offload fast path), its normalized header `h` (nullptr: nothing pending) applied as
  // the class comment says; false when it was dropped.
  bool WriteOne(const uint8_t* data, size_t length, const gso::VnetHeader* h);
  bool HasVnetHeader() const { return hasVnet_; }
  // Writes `count` wire frames (no headers pending) as few writes as coalescing allows (a handle without headers:
  // one each); how many of them were written.
  uint32_t WriteCoalesced(const uint8_t* const* data, const size_t* lengths, uint32_t count);
  // Its offload closed or went away (offload.h): the handle runs on without. `canTouchJs` false from a finalizer,
  // where the reference is left for this handle's own destructor to drop.
  void OffloadGone(bool canTouchJs);

 private:
  Napi::Value GetBuffer(const Napi::CallbackInfo& info);
  Napi::Value GetLengths(const Napi::CallbackInfo& info);
  Napi::Value GetVnetHeaders(const Napi::CallbackInfo& info);
  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value WriteFrames(const Napi::CallbackInfo& info);
  Napi::Value TakeWriteError(const Napi::CallbackInfo& info);
  Napi::Value Counters(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value SetOffloadPort(const Napi::CallbackInfo& info);

  static void OnPoll(uv_poll_t* poll, int status, int events);
  void Drain(int status);
  uint32_t ReadBatch(int* err, const char** syscall);
  uint32_t WriteTap(Napi::Env env, Napi::Array frames, const uint8_t* headers);
  uint32_t WritePacket(Napi::Env env, Napi::Array frames, const uint8_t* headers);
  // One write (TAP) or send (packet socket) of a frame as it is, with `raw` before it when the fd takes headers;
  // false when dropped (a fatal errno is kept for takeWriteError).
  bool WriteRaw(const uint8_t* raw, const uint8_t* data, size_t length);
  // Cuts/completes as `h` says into segmentScratch_; how many segments (0: refused, nothing to write).
  size_t SegmentForDevice(const gso::VnetHeader& h, const uint8_t* data, size_t length);
  // Validates a header JS handed to a write: false (dropped, counted) when refused.
  bool CheckWriteHeader(const uint8_t* raw, const uint8_t* data, size_t length, gso::VnetHeader* h, gso::Layout* layout);
  void StopPoll();
  void CloseFd();
  void LeaveOffload();

  int fd_ = -1;
  bool isPacket_ = false;
  uint32_t batchFrames_ = 0;
  size_t maxFrameBytes_ = 0;
  size_t capacityBytes_ = 0;
  uint8_t* data_ = nullptr;
  uint32_t* lengths_ = nullptr;
  Napi::Reference<Napi::ArrayBuffer> bufferRef_;
  Napi::Reference<Napi::Uint32Array> lengthsRef_;

  uv_poll_t* poll_ = nullptr;
  bool isStarted_ = false;
  bool isDraining_ = false;
  Napi::FunctionReference onFrames_;
  Napi::FunctionReference onError_;
  Napi::AsyncContext* asyncContext_ = nullptr;

  double outgoingIgnored_ = 0;  // frames seen with sll_pkttype == PACKET_OUTGOING
  double truncated_ = 0;        // frames longer than maxFrameBytes, dropped
  bool hasVnet_ = false;
  uint8_t* vnetHeaders_ = nullptr;  // batchFrames × 10, the normalized header of each frame of a wake-up
  Napi::Reference<Napi::Uint8Array> vnetHeadersRef_;
  uint8_t readHeader_[gso::kVnetHeaderBytes] = {};
  double vnetDrops_[gso::kReasonCount] = {};       // frames read with a refused header, by reason
  double vnetWriteDrops_[gso::kReasonCount] = {};  // frames JS handed a refused header to write
  // Segments of one super-frame on their way to a device without headers (made on first use).
  std::unique_ptr<uint8_t[]> segmentScratch_;
  std::unique_ptr<uint32_t[]> segmentLengths_;
  gso::Coalescer coalescer_;
  std::vector<const uint8_t*> writeData_;  // WriteTap's frames, for the coalescer
  std::vector<size_t> writeLengths_;
  std::vector<struct iovec> writeIov_;
  double coalescedWrites_ = 0;  // super-frames written that were glued from wire frames
  double coalescedFrames_ = 0;  // the wire frames they held
  // The offload frames are offered to and the switch port id they are looked up under (offload.h): both set, or
  // nullptr and -1. offloadRef_ keeps the offload's JS object alive while it is set.
  NativeOffload* offload_ = nullptr;
  int32_t offloadPort_ = -1;
  Napi::ObjectReference offloadRef_;
  int writeErrno_ = 0;
  const char* writeSyscall_ = nullptr;
};

}  // namespace vswitch
