# Native edge of the switch: TAP devices and AF_PACKET capture sockets, read in
# batches on the libuv loop. Built by `node-gyp rebuild` (package.json install).
{
  "targets": [
    {
      "target_name": "vswitch_native",
      "sources": [
        "switch/port/addon/addon.cc",
        "switch/port/addon/io-handle.cc",
        "switch/port/addon/netdev.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
