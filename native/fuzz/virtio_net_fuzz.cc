// libFuzzer entry point over virtio-net and its transport (virtio_net_fuzz_target.h).
//
// Build and run (clang from Debian: apt-get install clang):
//   clang++ -std=c++20 -O1 -g -Inative -fsanitize=fuzzer,address,undefined \
//     native/fuzz/virtio_net_fuzz.cc native/devices/virtio_{mmio,queue,net}.cc \
//     native/memory/guest_memory.cc -o build/virtio_net_fuzz
//   build/virtio_net_fuzz -max_len=4096 -timeout=5
// Without clang, a seeded slice runs as a unit test
// (random_programs_against_the_net_fuzz_target in native/devices/virtio_net_test.cc).
#include "fuzz/virtio_net_fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vmsup_fuzz::virtio_net_fuzz_one(data, size);
  return 0;
}
