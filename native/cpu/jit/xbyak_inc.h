// xbyak as the translator includes it (every file of cpu/jit that emits code
// includes this, not <xbyak/xbyak.h>): without exceptions, and with hidden
// visibility, so xbyak's out-of-line members are called directly inside the
// addon rather than through the PLT (nothing outside the addon uses them;
// translation time is boot time).
#pragma once

#if defined(__x86_64__)
#ifndef XBYAK_NO_EXCEPTION
#define XBYAK_NO_EXCEPTION
#endif
// Its system headers first, so libc's and libstdc++'s declarations keep their
// default visibility.
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <list>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#pragma GCC visibility push(hidden)
#include <xbyak/xbyak.h>
#pragma GCC visibility pop
#endif
