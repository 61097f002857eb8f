// Routes Apache Thrift's own diagnostics (GlobalOutput: "TSocket::open() error ...") into
// glog at VLOG(1) instead of raw stderr. Our code already reports every failed call with
// context (peer, call, what it means); Thrift's lines only repeat it without that context.
// Call once from main() after glog is initialised.
#pragma once

namespace qj {

void RouteThriftLogsToGlog();

}  // namespace qj
