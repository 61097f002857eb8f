// ASSERT_OK / EXPECT_OK for qj::Status in GoogleTest, printing the expression and the
// status on failure. Shared by every test that checks Status results.
#pragma once

#include <gtest/gtest.h>

#include "common/status.h"

#define ASSERT_OK(expr)                          \
  do {                                           \
    ::qj::Status _s = (expr);                    \
    ASSERT_TRUE(_s.ok()) << #expr << ": " << _s; \
  } while (0)

#define EXPECT_OK(expr)                          \
  do {                                           \
    ::qj::Status _s = (expr);                    \
    EXPECT_TRUE(_s.ok()) << #expr << ": " << _s; \
  } while (0)
