// The narrow interfaces between the board and its parts.
#pragma once

#include <cstdint>

namespace vmsup {

// A device window on the physical bus. `off` is the offset inside the device's
// window (the bus has already range-checked it against the window size); `size`
// is 1, 2, 4 or 8. Returning false makes the CPU raise an access fault, which is
// what real buses do for a width the device does not decode.
class MmioDevice {
 public:
  virtual ~MmioDevice() = default;
  virtual bool read(uint64_t off, unsigned size, uint64_t* val) = 0;
  virtual bool write(uint64_t off, unsigned size, uint64_t val) = 0;
};

// A level-triggered interrupt input (the PLIC implements it for device lines 1..N).
class IrqSink {
 public:
  virtual ~IrqSink() = default;
  virtual void set_irq(uint32_t line, bool level) = 0;
};

}  // namespace vmsup
