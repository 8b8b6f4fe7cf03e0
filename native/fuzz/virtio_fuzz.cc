// libFuzzer entry point over the virtio-mmio transport, the descriptor-chain
// walker and the blk / rng / input devices (virtio_fuzz_target.h).
//
// Build and run (clang from Debian: apt-get install clang):
//   clang++ -std=c++20 -O1 -g -Inative -fsanitize=fuzzer,address,undefined \
//     native/fuzz/virtio_fuzz.cc native/devices/virtio_{mmio,queue,blk,rng,input}.cc \
//     native/memory/guest_memory.cc \
//     -o build/virtio_fuzz
//   build/virtio_fuzz -max_len=4096 -timeout=5
// Without clang, the same target runs under a seeded generator with ASan/UBSan
// as a unit test (random_programs_against_the_fuzz_target in
// native/devices/virtio_test.cc).
#include "fuzz/virtio_fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vmsup_fuzz::virtio_fuzz_one(data, size);
  return 0;
}
