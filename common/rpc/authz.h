// Authorization of every RPC by the caller's certificate identity (docs/ARCHITECTURE.md,
// "Security", has the table). A server wraps its generated processor in Guarded<>: each
// call's name is looked up in the service's Policy before its arguments are decoded; a
// refused call is answered with AccessDeniedException (rpc.thrift, field 99 of every
// method) naming the rule, and logged once with the peer's identity and address.
//
// The identity is the peer certificate's subject CN; its DNS subjectAltNames count too
// (a call is allowed when any of the names holds a role the rule allows). Roles come from
// the cluster file: namenodes (namenode.ids), failover controllers (failoverd-<id>),
// journalnodes (jn1..jnN), admins (security.admins); "anyone" is any certificate the
// cluster CA signed. With TLS off there are no identities and no policy: every call is
// allowed, as before (and the namenode trusts the claimed user, HDFS's simple auth).
//
// Thread-safety: a Policy is immutable; CurrentPeer() is per thread.
#pragma once

#include <thrift/TProcessor.h>
#include <thrift/protocol/TProtocol.h>
#include <thrift/transport/TSocket.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/cluster_config.h"

namespace qj::rpc {

enum Role : unsigned {
  kNamenodes = 1,
  kFailoverds = 2,
  kJournalnodes = 4,
  kAdmins = 8,
  kAnyone = 16,
};

struct Rule {
  std::string text;  // "journal writer calls: namenodes only"
  unsigned roles = 0;
};

class Policy {
 public:
  // rules: method name -> rule. A method without a rule is refused.
  Policy(const ClusterConfig& cluster, std::map<std::string, Rule> rules);

  // The roles any of `names` holds (kAnyone always).
  unsigned RolesOf(const std::vector<std::string>& names) const;
  // nullptr when `names` may call `method`; else the rule that refuses it.
  const Rule* Refusing(const std::string& method, const std::vector<std::string>& names) const;

 private:
  std::map<std::string, unsigned> roles_;  // identity -> roles
  std::map<std::string, Rule> rules_;
  Rule no_rule_;
};

// The services' policies (the table in docs/ARCHITECTURE.md).
std::shared_ptr<const Policy> JournalPolicy(const ClusterConfig& cluster);
std::shared_ptr<const Policy> NamenodePolicy(const ClusterConfig& cluster);
std::shared_ptr<const Policy> FailoverPolicy(const ClusterConfig& cluster);

// The caller of a connection.
struct Peer {
  bool tls = false;
  std::string identity;            // the certificate's CN ("" without TLS)
  std::vector<std::string> names;  // CN and DNS subjectAltNames
  std::string address;             // "127.0.0.1:53422"
};

// The peer of the call this thread is serving, or nullptr outside a served call.
const Peer* CurrentPeer();

namespace internal {
// Reads the peer of an accepted connection (after the TLS handshake, if any).
Peer PeerOf(apache::thrift::transport::TSocket* socket);
// Skips the call's arguments, answers AccessDeniedException, logs. Returns true (the
// connection stays usable).
bool Refuse(apache::thrift::protocol::TProtocol* in, apache::thrift::protocol::TProtocol* out,
            const std::string& method, int32_t seqid, const Peer& peer, const Rule& rule,
            const std::string& server_name);
class ScopedPeer {
 public:
  explicit ScopedPeer(const Peer* p);
  ~ScopedPeer();

 private:
  const Peer* prev_;
};
}  // namespace internal

// A generated processor (ProcessorT, over interface IfT) whose every call is checked
// against `policy` first, and served with CurrentPeer() set. One per connection.
template <typename ProcessorT, typename IfT>
class Guarded final : public ProcessorT {
 public:
  Guarded(std::shared_ptr<IfT> handler, std::shared_ptr<apache::thrift::transport::TSocket> socket,
          std::shared_ptr<const Policy> policy, std::string server_name)
      : ProcessorT(std::move(handler)),
        socket_(std::move(socket)),
        policy_(std::move(policy)),
        server_name_(std::move(server_name)) {}

 protected:
  bool dispatchCall(apache::thrift::protocol::TProtocol* in,
                    apache::thrift::protocol::TProtocol* out, const std::string& fname,
                    int32_t seqid, void* ctx) override {
    // The first message has been read, so a TLS handshake is complete.
    if (!peer_known_) {
      peer_ = internal::PeerOf(socket_.get());
      peer_known_ = true;
    }
    if (policy_ != nullptr) {
      if (const Rule* r = policy_->Refusing(fname, peer_.names)) {
        return internal::Refuse(in, out, fname, seqid, peer_, *r, server_name_);
      }
    }
    internal::ScopedPeer scoped(&peer_);
    return ProcessorT::dispatchCall(in, out, fname, seqid, ctx);
  }

 private:
  const std::shared_ptr<apache::thrift::transport::TSocket> socket_;
  const std::shared_ptr<const Policy> policy_;
  const std::string server_name_;
  bool peer_known_ = false;
  Peer peer_;
};

// The per-connection processor factory for rpc::Server.
template <typename ProcessorT, typename IfT>
std::shared_ptr<apache::thrift::TProcessorFactory> GuardedFactory(
    std::shared_ptr<IfT> handler, std::shared_ptr<const Policy> policy, std::string server_name) {
  class Factory final : public apache::thrift::TProcessorFactory {
   public:
    Factory(std::shared_ptr<IfT> h, std::shared_ptr<const Policy> p, std::string n)
        : h_(std::move(h)), p_(std::move(p)), n_(std::move(n)) {}
    std::shared_ptr<apache::thrift::TProcessor> getProcessor(
        const apache::thrift::TConnectionInfo& info) override {
      auto sock = std::dynamic_pointer_cast<apache::thrift::transport::TSocket>(info.transport);
      return std::make_shared<Guarded<ProcessorT, IfT>>(h_, std::move(sock), p_, n_);
    }

   private:
    const std::shared_ptr<IfT> h_;
    const std::shared_ptr<const Policy> p_;
    const std::string n_;
  };
  return std::make_shared<Factory>(std::move(handler), std::move(policy), std::move(server_name));
}

}  // namespace qj::rpc
