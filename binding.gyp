# Native edge of the switch: TAP devices, AF_PACKET capture sockets and the link's
# UDP socket, moved in batches on the libuv loop, and the link's ChaCha20-Poly1305
# on Node's own OpenSSL (its headers ship with Node's; its symbols with the binary).
# Built by `node-gyp rebuild` (package.json install).
{
  "targets": [
    {
      "target_name": "vswitch_native",
      "sources": [
        "switch/port/addon/addon.cc",
        "switch/port/addon/io-handle.cc",
        "switch/port/addon/netdev.cc",
        "switch/port/addon/udp-handle.cc",
        "switch/port/addon/stream-handle.cc",
        "switch/port/addon/aead.cc",
        "switch/port/addon/offload.cc",
        "switch/port/addon/gso.cc",
        "switch/port/addon/gso-js.cc",
        "switch/port/addon/uv-poll.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
