#include "common/thrift_log.h"

#include <glog/logging.h>
#include <thrift/TOutput.h>

namespace qj {
namespace {

void ThriftToGlog(const char* msg) { VLOG(1) << "thrift: " << msg; }

}  // namespace

void RouteThriftLogsToGlog() { apache::thrift::GlobalOutput.setOutputFunction(&ThriftToGlog); }

}  // namespace qj
