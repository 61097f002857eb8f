// One way to build a Thrift framed transport, for every server and client that speaks
// framed Thrift (STYLE: one client helper, one server helper).
//
// Why a helper: Thrift 0.17 counts the bytes a transport hands out (every string/binary
// the protocol borrows and consumes) against TConfiguration's max message size, and
// TFramedTransport never resets that count — not per frame, not per message. So a
// connection dies ("MaxMessageSize reached"; the peer sees "TSocket read 0 bytes") once
// about max-message-size bytes in total have crossed it, however small each frame is:
// 16 MiB for the journalnode's bound, 100 MiB for Thrift's default. The transport built
// here resets the count at every frame, so the bound is what it is meant to be: one frame
// (checked against max_frame_bytes before the frame is read), not the connection's life.
//
// Thread-safety: a transport is used by one reader and one writer at a time, as Thrift's.
#pragma once

#include <thrift/TConfiguration.h>
#include <thrift/transport/TBufferTransports.h>

#include <cstdint>
#include <memory>

namespace qj {

// Thrift's own default frame bound (TConfiguration::DEFAULT_MAX_FRAME_SIZE), for clients
// that set no bound of their own.
inline constexpr int32_t kDefaultMaxFrameBytes = 16384000;

// A framed transport over `inner` that refuses frames above max_frame_bytes and bounds
// each frame, never the connection.
std::shared_ptr<apache::thrift::transport::TFramedTransport> NewFramedTransport(
    std::shared_ptr<apache::thrift::transport::TTransport> inner, int32_t max_frame_bytes);

// The same for servers (one transport per accepted connection).
std::shared_ptr<apache::thrift::transport::TTransportFactory> NewFramedTransportFactory(
    int32_t max_frame_bytes);

}  // namespace qj
