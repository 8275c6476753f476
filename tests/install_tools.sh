#!/usr/bin/env bash
# Installs, as root through apt, what the tests need and is missing: go (go tool pprof reads our
# pprof), chromium (renders our SVG), tmux (drives the TUI in a real terminal) and libunwind-dev
# (native/'s `unwind` feature, for --native in-process). speedscope's JSON schema is vendored in
# tests/data/speedscope (no npm). Tests that need a tool that could not be installed skip and say why.
set -u
cd "$(dirname "$0")/.."
need_apt=()
for pkg in golang-go chromium tmux libunwind-dev; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
[ ${#need_apt[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${need_apt[*]} (Debian) for the tests"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}") >/tmp/flametop-apt.log 2>&1 \
    || echo "warning: could not install ${need_apt[*]}; see /tmp/flametop-apt.log (tests needing them will skip)"
else
  echo "warning: ${need_apt[*]} missing and not root (or no apt-get): tests needing them will skip"
fi
exit 0
