// Flow offload: Open vSwitch's split between a native exact-match flow cache
// and the TypeScript core, which stays the one authority on what a frame does.
//
// What lives here (all on the JS thread, inside the uv_poll callbacks of
// IoHandle and UdpHandle: no threads, no locks):
//
//   Keypair slots. A WireGuard transport keypair's state — send and receive
//     keys, the send counter, the 8192-bit replay window (the exact ring of
//     switch/link/noise/replay.ts), its deadlines — has ONE owner, a slot
//     here, so JS (slotSeal/slotOpen/slotReplay) and the fast paths below can
//     both seal and open on it without disagreeing on a counter. Deadlines
//     come from JS as "ms from now" and are kept on uv_hrtime.
//   Links. Per link port (its id in the switch core): the UDP handle, the
//     peer's current endpoint, the slot to send on, and which slots may be
//     opened on the fast path (current and previous; never an unconfirmed
//     `next`, whose first packet JS must see to promote it).
//   Flows. (in-port, src MAC, dst MAC) → out-port, installed by JS after the
//     core decided 'output' for a valid unicast frame; flushed wholesale by JS
//     on any change that could alter a decision.
//
// Fast paths:
//   TAP/capture read (IoHandle): a frame that validates as inspectFrame does
//     and hits a flow is written to the out TAP, or sealed as a type-4 message
//     with the link's send slot and queued for one sendmmsg per link at the
//     end of the read batch. Anything else (miss, broadcast, odd frame, slot
//     past Rekey-After-Time or Reject-After-Time) goes to JS unchanged.
//   UDP read (UdpHandle): a type-4 message whose receiver index names an
//     eligible slot is opened into scratch memory and its counter checked
//     WITHOUT committing; only if it carries an Ethernet payload (0x01), came
//     from the link's current endpoint and its frame hits a flow is the window
//     committed and the frame forwarded. Otherwise JS gets the original bytes
//     and opens them again on the same slot.
// Read-back: every slot counts fast-path packets/bytes and the last rx/tx
//   times, every flow its packets/bytes; offloadPoll() hands JS the deltas so
//   timers, counters, MAC aging and VTTIF see everything.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>

namespace vswitch {

class IoHandle;
class UdpHandle;

namespace offload {

// IoHandle, for each frame read on a port with offload on: true when the frame was taken.
bool TakeFrame(int32_t inPort, uint8_t* frame, size_t length);
// UdpHandle, for each datagram (addr: the 6 words of udp-handle.h): true when it was taken.
bool TakeDatagram(UdpHandle* udp, const uint8_t* message, size_t length, const uint32_t* addr);
// Ends a read batch: sends what the fast paths queued, one sendmmsg per link.
void FlushSends();
// A handle going away: flows and links that point at it are dropped.
void ForgetIo(IoHandle* io);
void ForgetUdp(UdpHandle* udp);
// Registers an IoHandle as the output of a port. A port id that had another handle flushes every flow
// (they wrote to the other handle), as every change that could alter a decision does.
void SetPortOutput(int32_t portId, IoHandle* io);
// Unregisters it (flushing every flow), if the port id is still io's: a handle that gave its id to another
// handle leaves that one in place.
void ClearPortOutput(int32_t portId, IoHandle* io);

void Define(Napi::Env env, Napi::Object exports);

}  // namespace offload
}  // namespace vswitch
