// libFuzzer entry point over the qcow2 parser (header, extensions, L1/L2,
// refcount table/blocks, compressed descriptors, backing chains).
//
// Build and run (clang from Debian: apt-get install clang):
//   clang++ -std=c++20 -O1 -g -Inative -fsanitize=fuzzer,address,undefined \
//     native/fuzz/qcow2_fuzz.cc native/block/block.cc native/block/raw.cc \
//     native/block/qcow2.cc native/block/image_tools.cc -lz -o build/qcow2_fuzz
//   mkdir -p build/qcow2_corpus
//   build/qcow2_fuzz -max_len=131072 -timeout=5 -rss_limit_mb=1024 \
//     build/qcow2_corpus native/fuzz/corpus/qcow2
// Without clang, the same target runs under a seeded mutator with ASan/UBSan
// as a unit test: build/ntest/native/block/qcow2_fuzz_test (see that file).
#include <unistd.h>

#include <string>

#include "fuzz/qcow2_fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::string scratch = "/tmp/vmsup-qcow2-fuzz-" + std::to_string(getpid()) + ".qcow2";
  vmsup_fuzz::qcow2_fuzz_one(data, size, scratch);
  return 0;
}
