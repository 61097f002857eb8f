#!/usr/bin/env bash
# Installs every Debian 12 package qjournal needs to build, test and run.
# Runs apt-get only when something is missing. Needs root (or sudo) for the install.
set -euo pipefail

PACKAGES=(
  g++ make cmake pkg-config git ca-certificates procps iproute2 python3
  thrift-compiler libthrift-dev
  # rpc::Server is Thrift's non-blocking server (libthriftnb), which needs libevent's headers
  libevent-dev
  libboost-dev
  libgoogle-glog-dev libgflags-dev
  openssl libssl-dev
  googletest libgtest-dev libgmock-dev
  # The status-page browser test (tests/web/browser_test.py): headless Chromium via selenium.
  chromium chromium-driver python3-selenium
  # scripts/fuzz.sh and scripts/sanitize.sh: clang with libFuzzer and the sanitizer
  # runtimes (not a Depends of clang), and llvm-symbolizer (package llvm): without it a
  # report has no function names, so tests/fuzz/ubsan.supp's function-level entries match
  # nothing
  clang libclang-rt-14-dev llvm
  # scripts/format.sh: the C++ layout check .ci/run makes (.clang-format)
  clang-format
)

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

# The status-page browser test: chromedriver reaches Chromium, and selenium reaches
# chromedriver, by the name "localhost". A bare root without /etc/hosts (a minimal chroot)
# cannot resolve it, and the browser never starts; every Debian install has this entry.
if ! getent hosts localhost >/dev/null 2>&1; then
  echo "install-deps: 'localhost' does not resolve; adding it to /etc/hosts"
  printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' |
    $SUDO tee -a /etc/hosts >/dev/null
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
