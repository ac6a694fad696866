// The JS face of gso.h, for the datapath's segmenter (ports without offloads that JS writes: links, memory
// twins) and for the tests that check segmentation and coalescing against an independent oracle. Raw
// Node-API (napi-args.h): a wrong shape is a negative answer, nothing is thrown per frame.
//
//   vnetCheck(header, frame, out) → 0, or the Reason (gso.h) the header is refused for; out (10 bytes) gets
//     the normalized header.
//   gsoSegment(header, frame, out, lengths) → segments written (out packed back to back, lengths[i] each),
//     −Reason when the header is refused, −kReasonCount when out or lengths have too little room.
//   gsoCoalesce(frames, out, lengths, headers) → outputs written (out packed, lengths[i] each, headers[10·i..]
//     the virtio-net header of output i, zero for a frame as it came), −1 when there is too little room.
//   gsoReasons: the Reason names, by code ("ok" first).
#pragma once

#include <napi.h>

#include "gso.h"

namespace vswitch {

void DefineGso(Napi::Env env, Napi::Object exports, gso::Coalescer* coalescer);

}  // namespace vswitch
