// ProcessIsGone (failover/process_probe.h): what failoverd takes as proof that its namenode's
// process no longer exists.
#include "failover/process_probe.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace qj::fo {
namespace {

// A child that exits at once; waits (without reaping) until it is a zombie.
pid_t ForkZombie() {
  const pid_t pid = fork();
  if (pid == 0) _exit(0);
  if (pid < 0) return pid;
  siginfo_t info{};
  // WNOWAIT: wait for the exit but leave the child unreaped (a zombie).
  if (waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) != 0) return -1;
  return pid;
}

TEST(ProcessIsGone, UnknownPid_IsNotGone) {
  EXPECT_FALSE(ProcessIsGone(-1));
  EXPECT_FALSE(ProcessIsGone(0));
}

TEST(ProcessIsGone, LiveProcess_IsNotGone) {
  EXPECT_FALSE(ProcessIsGone(getpid()));
  const pid_t pid = fork();
  if (pid == 0) {
    pause();
    _exit(0);
  }
  ASSERT_GT(pid, 0);
  EXPECT_FALSE(ProcessIsGone(pid));
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

TEST(ProcessIsGone, ReapedProcess_IsGone) {
  const pid_t pid = ForkZombie();
  ASSERT_GT(pid, 0);
  ASSERT_EQ(waitpid(pid, nullptr, 0), pid);
  EXPECT_TRUE(ProcessIsGone(pid));
}

// A killed namenode whose parent has not reaped it yet: kill(pid, 0) still succeeds.
TEST(ProcessIsGone, UnreapedZombie_IsGone) {
  const pid_t pid = ForkZombie();
  ASSERT_GT(pid, 0);
  ASSERT_EQ(kill(pid, 0), 0) << "a zombie still answers kill(pid, 0)";
  EXPECT_TRUE(ProcessIsGone(pid));
  waitpid(pid, nullptr, 0);
}

}  // namespace
}  // namespace qj::fo
