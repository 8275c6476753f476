#!/usr/bin/env bash
# Installs the real consumers our export tests use: go (pprof), chromium (SVG), speedscope's
# JSON schema (npm). Tests that need a tool that could not be installed skip with a reason.
set -u
cd "$(dirname "$0")/.."
need_apt=()
command -v go >/dev/null 2>&1 || need_apt+=(golang-go)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing ${need_apt[*]} (Debian) for the export tests"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}") >/tmp/flametop-apt.log 2>&1 \
      || echo "warning: could not install ${need_apt[*]}; see /tmp/flametop-apt.log (tests needing them will skip)"
  else
    echo "warning: ${need_apt[*]} missing and not root: tests needing them will skip"
  fi
fi
schema=.cache/npm/node_modules/speedscope/dist/release/file-format-schema.json
if [ ! -f "$schema" ]; then
  if command -v npm >/dev/null 2>&1; then
    mkdir -p .cache/npm
    npm install --silent --no-audit --no-fund --prefix .cache/npm speedscope@1 >/dev/null 2>&1 \
      || echo "warning: npm could not install speedscope; the schema test will skip"
  else
    echo "warning: npm missing; the speedscope schema test will skip"
  fi
fi
exit 0
