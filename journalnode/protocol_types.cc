#include "journalnode/protocol_types.h"

namespace qj::jn {

std::string SegmentState::ToString() const {
  return std::string(in_progress ? "in-progress" : "finalized") + " segment [" +
         std::to_string(start_txid) + ", " + std::to_string(end_txid) + "]";
}

}  // namespace qj::jn
