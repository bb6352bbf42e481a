#!/usr/bin/env bash
# Install Debian's Chromium, its chromedriver and the Noto CJK fonts for the browser tests
# of the HTML report (tests/integration/browser/), which drive /usr/bin/chromium through
# /usr/bin/chromedriver with Selenium; no driver is ever downloaded. Also Graphviz, so the
# DOT rendering tests and the report's process diagram run instead of skipping. Idempotent.
# Runs as root (CI).
set -euo pipefail

if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] && command -v dot >/dev/null \
    && fc-list | grep -q "Noto Sans CJK"; then
  echo "install-chromium: chromium, chromedriver, Graphviz and Noto CJK already present"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y chromium chromium-driver fonts-noto-cjk graphviz
/usr/bin/chromium --version
