#include "common/rpc/authz.h"

#include <glog/logging.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <thrift/transport/TSSLSocket.h>
#include <thrift/transport/TTransport.h>

#include "rpc_types.h"

namespace qj::rpc {

namespace tr = apache::thrift::transport;
namespace tp = apache::thrift::protocol;

Policy::Policy(const ClusterConfig& c, std::map<std::string, Rule> rules)
    : rules_(std::move(rules)) {
  for (const auto& nn : c.namenodes) {
    roles_[nn.id] |= kNamenodes;
    roles_[ClusterConfig::FailoverdIdentity(nn.id)] |= kFailoverds;
  }
  for (size_t i = 0; i < c.journal.journalnodes.size(); ++i) {
    roles_[ClusterConfig::JournalnodeIdentity(i)] |= kJournalnodes;
  }
  for (const auto& a : c.security.admins) roles_[a] |= kAdmins;
  no_rule_.text = "no rule allows this call";
}

unsigned Policy::RolesOf(const std::vector<std::string>& names) const {
  unsigned r = kAnyone;
  for (const auto& n : names) {
    auto it = roles_.find(n);
    if (it != roles_.end()) r |= it->second;
  }
  return r;
}

const Rule* Policy::Refusing(const std::string& method,
                             const std::vector<std::string>& names) const {
  auto it = rules_.find(method);
  if (it == rules_.end()) return &no_rule_;
  return (RolesOf(names) & it->second.roles) != 0 ? nullptr : &it->second;
}

namespace {

std::map<std::string, Rule> Table(
    std::initializer_list<std::pair<Rule, std::vector<const char*>>> rows) {
  std::map<std::string, Rule> out;
  for (const auto& [rule, methods] : rows) {
    for (const char* m : methods) out[m] = rule;
  }
  return out;
}

}  // namespace

std::shared_ptr<const Policy> JournalPolicy(const ClusterConfig& c) {
  return std::make_shared<Policy>(
      c, Table({
             {{"journal writer calls: namenodes only", kNamenodes},
              {"newEpoch", "heartbeat", "startLogSegment", "journal", "finalizeLogSegment",
               "purgeLogs", "prepareRecovery", "acceptRecovery"}},
             {{"format: admins only", kAdmins}, {"format"}},
             {{"journal state: namenodes, journalnodes and admins",
               kNamenodes | kJournalnodes | kAdmins},
              {"isFormatted", "getJournalState"}},
             {{"edit reads: namenodes and admins", kNamenodes | kAdmins}, {"getJournaledEdits"}},
             {{"journalnode sync: journalnodes only", kJournalnodes},
              {"getEditLogManifest", "getSegmentChunk"}},
             {{"lease calls: failover controllers only", kFailoverds},
              {"acquireLease", "releaseLease"}},
         }));
}

std::shared_ptr<const Policy> NamenodePolicy(const ClusterConfig& c) {
  return std::make_shared<Policy>(
      c, Table({
             {{"HA status: any cluster identity", kAnyone}, {"getServiceStatus", "monitorHealth"}},
             {{"HA transitions and leases: failover controllers and admins", kFailoverds | kAdmins},
              {"transitionToActive", "transitionToStandby", "renewLease"}},
             {{"image transfer: namenodes and admins", kNamenodes | kAdmins},
              {"fetchImage", "latestImageTxId"}},
             {{"namenode administration: admins only", kAdmins},
              {"saveNamespace", "rollEdits", "getNamenodeReport"}},
             {{"filesystem calls: any cluster identity", kAnyone},
              {"mkdirs", "create", "addBlock", "complete", "deletePath", "rename", "setPermission",
               "setOwner", "setTimes", "setReplication", "getFileInfo", "listStatus",
               "getContentSummary", "msync"}},
         }));
}

std::shared_ptr<const Policy> FailoverPolicy(const ClusterConfig& c) {
  return std::make_shared<Policy>(
      c, Table({
             {{"failover status: any cluster identity", kAnyone}, {"getStatus"}},
             {{"failover control: failover controllers and admins", kFailoverds | kAdmins},
              {"cedeActive", "gracefulFailover"}},
         }));
}

namespace {
thread_local const Peer* current_peer = nullptr;

// TSSLSocket keeps its SSL* protected; a pointer to the member taken in a derived class
// reads it from any TSSLSocket.
struct SslOf : tr::TSSLSocket {
  static SSL* Get(tr::TSSLSocket* s) { return s->*(&SslOf::ssl_); }
};

}  // namespace

const Peer* CurrentPeer() { return current_peer; }

namespace internal {

ScopedPeer::ScopedPeer(const Peer* p) : prev_(current_peer) { current_peer = p; }
ScopedPeer::~ScopedPeer() { current_peer = prev_; }

Peer PeerOf(tr::TSocket* socket) {
  Peer p;
  if (socket == nullptr) return p;
  try {
    p.address = socket->getPeerAddress() + ":" + std::to_string(socket->getPeerPort());
  } catch (const std::exception&) {
    p.address = "?";
  }
  auto* ssl_socket = dynamic_cast<tr::TSSLSocket*>(socket);
  if (ssl_socket == nullptr) return p;
  p.tls = true;
  SSL* ssl = SslOf::Get(ssl_socket);
  if (ssl == nullptr) return p;
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (cert == nullptr) return p;
  char cn[256] = {0};
  if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof(cn) - 1) >
      0) {
    p.identity = cn;
    p.names.push_back(cn);
  }
  auto* sans =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (sans != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* n = sk_GENERAL_NAME_value(sans, i);
      if (n->type != GEN_DNS) continue;
      const auto* data = ASN1_STRING_get0_data(n->d.dNSName);
      p.names.emplace_back(reinterpret_cast<const char*>(data),
                           static_cast<size_t>(ASN1_STRING_length(n->d.dNSName)));
    }
    GENERAL_NAMES_free(sans);
  }
  X509_free(cert);
  return p;
}

bool Refuse(tp::TProtocol* in, tp::TProtocol* out, const std::string& method, int32_t seqid,
            const Peer& peer, const Rule& rule, const std::string& server_name) {
  in->skip(tp::T_STRUCT);
  in->readMessageEnd();
  in->getTransport()->readEnd();
  LOG(WARNING) << server_name << ": refused " << method << " from '" << peer.identity << "' at "
               << peer.address << ": " << rule.text;
  qjournal::thrift::AccessDeniedException e;
  e.message = server_name + ": " + method + " refused for '" + peer.identity + "': " + rule.text;
  e.rule = rule.text;
  e.identity = peer.identity;
  // Every method declares the exception as field 99 of its result (rpc.thrift).
  out->writeMessageBegin(method, tp::T_REPLY, seqid);
  out->writeStructBegin("result");
  out->writeFieldBegin("denied", tp::T_STRUCT, 99);
  e.write(out);
  out->writeFieldEnd();
  out->writeFieldStop();
  out->writeStructEnd();
  out->writeMessageEnd();
  out->getTransport()->writeEnd();
  out->getTransport()->flush();
  return true;
}

}  // namespace internal
}  // namespace qj::rpc
