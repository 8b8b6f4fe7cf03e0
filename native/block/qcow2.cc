// qcow2 backend: being written (see issue 5). Until it lands, qcow2 disks are refused clearly.
#include "block/block_internal.h"

namespace vmsup {
namespace block {
std::unique_ptr<BlockBackend> open_qcow2(const std::string& path, bool, std::string* err,
                                         ChainContext*) {
  *err = path + ": qcow2 images are not supported yet";
  return nullptr;
}
}  // namespace block
}  // namespace vmsup
