// libFuzzer entry point over the snapshot restore path (snapshot_fuzz_target.h):
// each input is a mutation program over a valid snapshot of a small machine
// (or, after a first byte 0xff, a whole file), restored into a fresh machine.
//
// Build and run (clang from Debian: apt-get install clang):
//   clang++ -std=c++20 -O1 -g -Inative -fsanitize=fuzzer,address,undefined \
//     native/fuzz/snapshot_fuzz.cc $(find native -name '*.cc' ! -name '*_test.cc' \
//       ! -name '*_napi.cc' ! -name addon.cc ! -path 'native/fuzz/*') \
//     -lz -lslirp -lzstd -lpthread -o build/snapshot_fuzz
//   build/snapshot_fuzz -max_len=256 -timeout=5
// Without clang, the same target runs under a seeded generator with ASan/UBSan
// as a unit test (seeded_mutations_never_crash in native/snapshot/snapshot_test.cc).
#include "fuzz/snapshot_fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vmsup_fuzz::snapshot_fuzz_one(data, size);
  return 0;
}
