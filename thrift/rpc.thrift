// Shared by every qjournal service: the answer to a call the caller's identity may not
// make (common/rpc/authz.h). Every method of every service declares it with field id 99,
// so a server can refuse any call before decoding its arguments with one generic reply.

namespace cpp qjournal.thrift

exception AccessDeniedException {
  1: string message,
  // The rule that refused the call, e.g. "journal writer calls: namenodes only".
  2: string rule,
  // The caller's identity as the server saw it (certificate CN or SAN).
  3: string identity,
}
