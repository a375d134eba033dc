#!/usr/bin/env bash
# Stride's first command: install what is needed (Debian 12, as root), build,
# install, and run the demo. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")"

# Build and run-time dependencies, then what the test suite uses.
PACKAGES=(
	gcc clang libclang-rt-14-dev pkg-config python3 dpkg-dev
	lv2-dev liblilv-dev libsndfile1-dev libsamplerate0-dev libopenblas-dev libcjson-dev libcairo2-dev
	libcmocka-dev python3-torch python3-numpy valgrind lilv-utils sordi
	jackd2 jalv libjack-jackd2-dev ardour
	g++ libwebrtc-audio-processing-dev libspeexdsp-dev
)
# What the training-data recipes use (models/recipes/PACKAGES).
while read -r p; do
	[ -n "$p" ] && PACKAGES+=("$p")
done < models/recipes/PACKAGES

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "== installing: ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The waf launcher fetches Debian's waflib (xmds2) with apt-get download: it needs package lists.
if ! ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1; then
	apt-get update -qq
fi

echo "== building"
./waf configure
./waf build -j"$(nproc)"
./waf install

echo "== demo"
bash scripts/demo.sh
