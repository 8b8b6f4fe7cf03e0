// A tiny test harness for the native unit tests (native/**/*_test.cc).
// Each test file is its own program, built with AddressSanitizer and UBSan by
// native/Makefile.tests and run by native/native.test.ts (so `npm test` runs it).
//
//   TEST(queue_rejects_loops) { ...; CHECK(x == 1); CHECK_EQ(a, b); }
//
// main() comes from TEST_MAIN() at the end of the file.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

namespace vmsup_test {

struct Case {
  const char* name;
  std::function<void()> fn;
};
inline std::vector<Case>& cases() {
  static std::vector<Case> c;
  return c;
}
inline int& failures() {
  static int f = 0;
  return f;
}
struct Register {
  Register(const char* n, std::function<void()> f) { cases().push_back({n, std::move(f)}); }
};

inline int run_all(int argc, char** argv) {
  int passed = 0, failed = 0;
  for (auto& c : cases()) {
    if (argc > 1 && std::string(argv[1]) != c.name) continue;
    int before = failures();
    c.fn();
    if (failures() == before) {
      passed++;
      std::printf("ok   %s\n", c.name);
    } else {
      failed++;
      std::printf("FAIL %s\n", c.name);
    }
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}

}  // namespace vmsup_test

#define TEST(name)                                                           \
  static void test_##name();                                                 \
  static vmsup_test::Register reg_##name(#name, test_##name);                \
  static void test_##name()

#define CHECK(cond)                                                          \
  do {                                                                       \
    if (!(cond)) {                                                           \
      std::printf("  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
      vmsup_test::failures()++;                                              \
    }                                                                        \
  } while (0)

#define CHECK_EQ(a, b)                                                       \
  do {                                                                       \
    auto va_ = (a);                                                          \
    auto vb_ = (b);                                                          \
    if (!(va_ == vb_)) {                                                     \
      std::printf("  %s:%d: CHECK_EQ(%s, %s) failed: 0x%llx != 0x%llx\n",    \
                  __FILE__, __LINE__, #a, #b, (unsigned long long)(va_),     \
                  (unsigned long long)(vb_));                                \
      vmsup_test::failures()++;                                              \
    }                                                                        \
  } while (0)

#define TEST_MAIN() \
  int main(int argc, char** argv) { return vmsup_test::run_all(argc, argv); }
