// Offline viewers for the two kinds of file an operator may need to read without any
// daemon running (in the spirit of HDFS's `oev` and `oiv`): a journal segment file
// (journalnode/FORMAT.md) and a namespace image (namenode/FORMAT.md). They read only the
// file named, so they work on a copy taken off a dead node.
//
// Each function prints to `out` (the dump, or a one-line verdict with `verify`) and a
// one-line reason for any problem to `err`, and returns the process exit code: 0 when the
// whole file is good, 1 when it is unreadable or bad (the first bad record is named by
// file, byte offset and txid), per common/cli.h.
//
// Thread-safety: free functions, no shared state.
#pragma once

#include <ostream>
#include <string>

namespace qj::tools {

struct ViewOptions {
  bool json = false;    // one JSON document instead of text
  bool verify = false;  // check every record, print only the verdict
};

// Dumps a segment: every record with its txid, byte offset, size, decoded op name and the
// decoded edit (namenode/edit_ops.h). The file name, when it is a segment name, gives the
// expected first txid, the end txid of a finalized segment, and whether a torn tail is
// allowed (in-progress segments only: it is what start-up would truncate, reported but
// not an error). A record is bad if it fails its CRC or framing, breaks the dense txid
// order, or carries a payload that is not a namenode edit.
int ViewSegment(const std::string& path, const ViewOptions& options, std::ostream& out,
                std::ostream& err);

// Dumps an image: a header (txid, namespace id, inode count) and every inode in path order
// (HDFS oiv's "Delimited" columns in text; all fields, blocks included, in JSON). The
// image is fully verified first (namenode/image.h LoadImage); a bad one is reported by
// file, section, offset and the image's txid.
int ViewImage(const std::string& path, const ViewOptions& options, std::ostream& out,
              std::ostream& err);

}  // namespace qj::tools
