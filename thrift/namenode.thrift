// The namenode's client protocol (namespace operations) and its HA protocol (used by
// haadmin and failoverd). Both are served on the namenode's one RPC port: ClientProtocol
// extends HAServiceProtocol, so an HAServiceProtocolClient can talk to that port.

include "rpc.thrift"

namespace cpp qjournal.thrift

enum FsErrorCode {
  FILE_NOT_FOUND = 1,
  FILE_ALREADY_EXISTS = 2,
  NOT_A_DIRECTORY = 3,       // a path component (or the target) is not a directory
  DIRECTORY_NOT_EMPTY = 4,
  INVALID_PATH = 5,
  PERMISSION_DENIED = 6,
  NOT_ACTIVE = 7,            // standby, or stopped serving (fenced, lease expired)
  IS_A_DIRECTORY = 8,
  INVALID_ARGUMENT = 9,
  IO_ERROR = 10,             // the journal failed; nothing was acknowledged
}

// Every namespace failure. `code` is the type; `message` says what and where.
exception FsException {
  1: FsErrorCode code,
  2: string message,
  // For NOT_ACTIVE: the id of the namenode believed active, when known.
  3: optional string activeNamenodeId,
  // For a read's namespace failure (FILE_NOT_FOUND, ...): the txid it was read at, as
  // FileStatus.servedTxId.
  4: optional i64 servedTxId,
}

// Trusted caller identity, as with HDFS's simple authentication.
struct UserInfo {
  1: required string user,
  2: required list<string> groups,
}

// The identity of one non-idempotent call, for the namenode's retry cache (HDFS's
// RetryCache): a client's random 16-byte id and a call id it never reuses. A call sent
// again with the same ids (after a timeout, a cut connection or a failover) is not applied
// again: it gets the answer of the first. An empty clientId (what a client that does not
// send the argument gets) means none: the call is not cached. Anything else but exactly
// 16 bytes, or a negative callId, is INVALID_ARGUMENT.
struct RpcIds {
  1: required binary clientId,
  2: required i64 callId,
}

struct Block {
  1: required i64 blockId,
  2: required i64 numBytes,
  3: required i64 generationStamp,
}

struct FileStatus {
  1: required string path,          // full path
  2: required bool isDir,
  3: required i64 length,
  4: required i16 replication,
  5: required i64 blockSize,
  6: required i64 modificationTime, // ms since epoch
  7: required i64 accessTime,
  8: required i16 permission,       // 0..07777 bits
  9: required string owner,
  10: required string group,
  11: required i64 childrenNum,
  12: required i64 fileId,
  13: optional list<Block> blocks,
  14: optional bool underConstruction,
  // In the answer to getFileInfo (not in listing entries): the txid of the namespace state
  // the answer was read from (see minTxId below).
  15: optional i64 servedTxId,
}

struct DirectoryListing {
  1: required list<FileStatus> entries,
  // Entries remaining after this page; pass the last name as startAfter to continue.
  2: required i64 remainingEntries,
  3: optional i64 servedTxId,        // as FileStatus.servedTxId
}

struct ContentSummary {
  1: required i64 length,
  2: required i64 fileCount,
  3: required i64 directoryCount,
  4: required i64 spaceConsumed,   // length x replication
  5: optional i64 servedTxId,      // as FileStatus.servedTxId
}

enum HAServiceState {
  INITIALIZING = 0,
  ACTIVE = 1,
  STANDBY = 2,
  STOPPING = 3,
}

enum RequestSource {
  REQUEST_BY_USER = 0,
  REQUEST_BY_USER_FORCED = 1,
  REQUEST_BY_FAILOVERD = 2,
}

struct HAStateChangeRequest {
  1: required RequestSource source,
  // Lease deadline on this host's lease clock, in nanoseconds: CLOCK_BOOTTIME (before
  // the suspend fix: CLOCK_MONOTONIC; the name stays for compatibility). 0 = no lease
  // (manual mode): the namenode serves until told otherwise.
  2: optional i64 leaseDeadlineMonoNs,
  // REQUEST_BY_FAILOVERD: the failoverd's lease holder id, which is the id of the namenode
  // it runs beside; a namenode takes failoverd requests only with its own id. A claim, not
  // a proof, while RPC is unauthenticated.
  3: optional string holderId,
}

struct HAServiceStatus {
  1: required HAServiceState state,
  2: required string namenodeId,
  3: required bool readyToBecomeActive,
  4: optional string notReadyReason,
  5: required i64 lastAppliedTxId,
  6: required i64 epoch,
  7: required i32 pid,
  8: optional string activeNamenodeId,
  9: optional i64 leaseDeadlineMonoNs,
}

exception HealthCheckFailedException {
  1: string message,
}

// Why an HA call was refused or failed. Every refusal happens before the call has any
// effect.
enum HAErrorCode {
  TRANSITION_FAILED = 1,        // the transition or renewal itself failed (journal, stopping)
  MANUAL_WHILE_AUTOMATIC = 2,   // a user request while automatic failover is on, not forced
  AUTOMATIC_FAILOVER_OFF = 3,   // a failoverd request (or renewLease) in manual mode
  NOT_LEASE_HOLDER = 4,         // a failoverd request whose holderId is not this namenode's
  INVALID_LEASE_DEADLINE = 5,   // not after now, or more than one lease duration ahead
  NOT_ACTIVE = 6,               // renewLease on a namenode that is neither active nor activating
}

exception ServiceFailedException {
  1: string message,
  // Absent from servers older than the code.
  2: optional HAErrorCode code,
}

// ---- Administration (qjadmin) ----

// One namenode's state as `qjadmin -report` prints it.
struct NamenodeReport {
  1: required HAServiceState state,
  2: required string namenodeId,
  3: required i64 lastAppliedTxId,
  // While active: the last txid handed to the journal and the last one a majority holds.
  4: optional i64 lastWrittenTxId,
  5: optional i64 committedTxId,
  6: required i64 imageTxId,        // newest image in the name dir, -1 if none
  7: optional i64 imageAgeMs,       // since that image file was written
  8: required i64 inodeCount,       // including the root
  9: required i64 epoch,
}

service HAServiceProtocol {
  HAServiceStatus getServiceStatus() throws (99: rpc.AccessDeniedException denied),
  // Throws when the namenode is unhealthy (journal failed, namespace not loaded, ...).
  void monitorHealth() throws (1: HealthCheckFailedException unhealthy, 99: rpc.AccessDeniedException denied),
  void transitionToActive(1: HAStateChangeRequest req) throws (1: ServiceFailedException failed, 99: rpc.AccessDeniedException denied),
  void transitionToStandby(1: HAStateChangeRequest req) throws (1: ServiceFailedException failed, 99: rpc.AccessDeniedException denied),
  // Extends the lease deadline while active (same semantics as in HAStateChangeRequest).
  // During a transitionToActive under a lease it replaces the pending deadline, which the
  // namenode serves under when the transition completes; refused once that has passed.
  // Only from this namenode's own failoverd (holderId = this namenode's id), only with
  // automatic failover on, and only a deadline in (now, now + lease.duration_ms].
  void renewLease(1: i64 leaseDeadlineMonoNs, 2: string holderId)
      throws (1: ServiceFailedException failed, 99: rpc.AccessDeniedException denied),
}

service ClientProtocol extends HAServiceProtocol {
  // The mutations below that take `ids` are the non-idempotent ones (see RpcIds); the
  // others give the same result when sent twice.
  bool mkdirs(1: UserInfo ugi, 2: string path, 3: i16 permission, 4: bool createParent,
              5: RpcIds ids)
      throws (1: FsException e, 99: rpc.AccessDeniedException denied),
  FileStatus create(1: UserInfo ugi, 2: string path, 3: i16 permission, 4: bool overwrite,
                    5: i16 replication, 6: i64 blockSize, 7: RpcIds ids)
      throws (1: FsException e, 99: rpc.AccessDeniedException denied),
  // Ends the file's last block at previousBlockLength (if any) and allocates a new one.
  Block addBlock(1: UserInfo ugi, 2: string path, 3: i64 previousBlockLength, 4: RpcIds ids)
      throws (1: FsException e, 99: rpc.AccessDeniedException denied),
  bool complete(1: UserInfo ugi, 2: string path, 3: i64 lastBlockLength, 4: RpcIds ids)
      throws (1: FsException e, 99: rpc.AccessDeniedException denied),
  bool deletePath(1: UserInfo ugi, 2: string path, 3: bool recursive, 4: RpcIds ids)
      throws (1: FsException e, 99: rpc.AccessDeniedException denied),
  bool rename(1: UserInfo ugi, 2: string src, 3: string dst, 4: RpcIds ids)
      throws (1: FsException e, 99: rpc.AccessDeniedException denied),
  void setPermission(1: UserInfo ugi, 2: string path, 3: i16 permission)
      throws (1: FsException e, 99: rpc.AccessDeniedException denied),
  void setOwner(1: UserInfo ugi, 2: string path, 3: string owner, 4: string group)
      throws (1: FsException e, 99: rpc.AccessDeniedException denied),
  // -1 leaves a time unchanged.
  void setTimes(1: UserInfo ugi, 2: string path, 3: i64 mtime, 4: i64 atime)
      throws (1: FsException e, 99: rpc.AccessDeniedException denied),
  bool setReplication(1: UserInfo ugi, 2: string path, 3: i16 replication)
      throws (1: FsException e, 99: rpc.AccessDeniedException denied),
  // Reads. The active answers every read. minTxId > 0 makes the read a consistent read
  // that a standby may answer too (HDFS's reads from observers, HDFS-12943): it answers
  // once it has applied minTxId (waiting a bounded time, then NOT_ACTIVE: ask the active),
  // from a state made only of committed edits. A client that passes the highest
  // servedTxId (or msync result) it has seen gets read-your-writes and monotonic reads.
  // minTxId <= 0 (also what a client that does not send it gets): a standby refuses.
  FileStatus getFileInfo(1: UserInfo ugi, 2: string path, 3: i64 minTxId)
      throws (1: FsException e, 99: rpc.AccessDeniedException denied),
  // Entries sorted by name, starting after startAfter ("" for the first page).
  DirectoryListing listStatus(1: UserInfo ugi, 2: string path, 3: string startAfter,
                              4: i32 limit, 5: i64 minTxId)
      throws (1: FsException e, 99: rpc.AccessDeniedException denied),
  ContentSummary getContentSummary(1: UserInfo ugi, 2: string path, 3: i64 minTxId)
      throws (1: FsException e, 99: rpc.AccessDeniedException denied),
  // Active only: the last txid committed on a majority, which covers every write any
  // client has been answered for. A read with minTxId = that txid sees all of them.
  i64 msync() throws (1: FsException e, 99: rpc.AccessDeniedException denied),
  // Latest checkpoint image, for bootstrapping a standby: returns bytes from offset.
  binary fetchImage(1: i64 txid, 2: i64 offset, 3: i32 maxBytes) throws (1: FsException e, 99: rpc.AccessDeniedException denied),
  // Txid of the newest image this namenode holds (-1 if none).
  i64 latestImageTxId() throws (1: FsException e, 99: rpc.AccessDeniedException denied),

  // ---- Administration (qjadmin) ----
  // Writes an image of the namespace at the last applied txid now and returns that txid.
  // On the active, new edits wait until every applied edit is committed and the image is
  // written.
  i64 saveNamespace() throws (1: FsException e, 99: rpc.AccessDeniedException denied),
  // Active only: finalizes the open journal segment and opens the next one; returns the
  // new segment's first txid.
  i64 rollEdits() throws (1: FsException e, 99: rpc.AccessDeniedException denied),
  NamenodeReport getNamenodeReport() throws (1: FsException e, 99: rpc.AccessDeniedException denied),
}
