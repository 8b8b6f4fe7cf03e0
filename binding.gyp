{
  "targets": [
    {
      "target_name": "vmsup",
      "sources": [
        "<!@(find native -name '*.cc' -not -name '*_test.cc' -not -path 'native/fuzz/*' -not -path 'native/tests/*' | sort)"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_DISABLE_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++20", "-O2", "-fno-strict-aliasing", "-Wall", "-Wno-unused-parameter"],
      "libraries": ["-lz", "-lslirp", "-lzstd"]
    }
  ]
}
